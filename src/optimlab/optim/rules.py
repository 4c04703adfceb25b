"""The update rules, each defined once, in increasing order of complexity.

Symbols follow the book (chapter 6 of *Deep Learning from Scratch*): :math:`W`
a parameter array, :math:`g = \\partial L/\\partial W` its gradient,
:math:`\\eta` the learning rate (``lr``) of the current step, :math:`t` the step
count starting at 1. Every ``_step`` is written with ``out=`` so that a step
makes no temporaries; the comment on each line is the formula it computes, in
the order of operations of the book's code, so that the float64 results equal
the book's bit for bit.

A rule is declared, not hand-wired: its hyperparameters are fields made by
:func:`~optimlab.optim.fields.hyper` (default, check, doc), its per-parameter
state dicts fields made by :func:`~optimlab.optim.fields.state`, and
``@register`` adds it to the registry under its ``name``. A variant (AMSGrad)
is a registered subclass that fixes a field. See :mod:`optimlab.optim.base`.

Conventions where libraries differ
----------------------------------
* Momentum and Nesterov keep the book's velocity :math:`v = \\mu v - \\eta g`,
  which includes the learning rate. PyTorch keeps a buffer
  :math:`b = \\mu b + g` and steps :math:`W \\leftarrow W - \\eta b`; with a
  constant :math:`\\eta` the two are equal (:math:`v = -\\eta b`), under a
  schedule they differ (a new :math:`\\eta` rescales PyTorch's whole step, ours
  only the new gradient's share).
* Adam's epsilon: the book adds :math:`\\epsilon` to :math:`\\sqrt{v}` with the
  bias correction folded into :math:`\\eta_t` (``eps_form="book"``); the paper
  and PyTorch add it to :math:`\\sqrt{\\hat v}` (``eps_form="paper"``). The two
  are the same rule with :math:`\\hat\\epsilon = \\epsilon\\sqrt{1-\\beta_2^t}`.
* AdaGrad: PyTorch starts the accumulator at 0 and adds :math:`\\epsilon`
  outside the root; Keras starts it at 0.1 and adds :math:`\\epsilon` inside
  (``initial_accumulator_value``, ``eps_inside_sqrt``).
* ``eps = 0`` is allowed everywhere; a 0/0 (a zero gradient with a zero
  history) is then a zero step, the limit as :math:`\\epsilon \\to 0^+`
  (PyTorch gives NaN). See :func:`~optimlab.optim.ops.divide`.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY
from typing import Literal, NamedTuple

import numpy as np

from .base import Optimizer, Step
from .fields import (
    FLAG,
    NONNEG,
    NONNEG_OR_INF,
    POSITIVE,
    UNIT,
    Check,
    StateDict,
    choice,
    fixed,
    hyper,
    scalar_state,
    state,
)
from .ops import bias_correction, decay_add, divide, lerp_moment, root_plus_eps
from .registry import register

__all__ = [
    "SGD",
    "AMSGrad",
    "AdaGrad",
    "Adadelta",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "Momentum",
    "NAdam",
    "Nesterov",
    "RMSprop",
]

_EPS_BOOK = 1e-7  # the book's constant, also Keras's default epsilon
_EPS_DOC = "epsilon, added for numerical stability"
_MU_PRODUCT = Check("real", low=0.0, high=1.0, high_open=False)


@register
class SGD(Optimizer):
    """Stochastic gradient descent (book eq. 6.1).

    .. math:: W \\leftarrow W - \\eta g

    ``lr`` :math:`\\eta`, default 0.01 (book). PyTorch ``SGD(lr)``, Keras
    ``SGD(learning_rate)``, Optax ``sgd(learning_rate)``.

    Verified against other libraries: tests/test_oracle.py (rows "sgd...")
    """

    name = "sgd"

    lr: float = hyper(0.01, POSITIVE, "learning rate eta (book: 0.01)")

    def _step(self, w, g, s, c: Step, tmp):
        d = np.multiply(g, c.lr, out=tmp[0])  # eta g
        np.subtract(w, d, out=w)  # W - eta g


@register
class Momentum(Optimizer):
    """Momentum SGD (book eqs. 6.3, 6.4), the book's velocity form.

    .. math::
        v \\leftarrow \\mu v - \\eta g, \\qquad W \\leftarrow W + v

    ``lr`` :math:`\\eta` (default 0.01), ``momentum`` :math:`\\mu` (the book's
    :math:`\\alpha`, default 0.9). PyTorch ``SGD(lr, momentum)`` keeps
    :math:`b = -v/\\eta`: equal at constant ``lr``, different under a schedule
    (see the module notes).

    Verified against other libraries: tests/test_oracle.py (rows "momentum...")
    """

    name = "momentum"

    lr: float = hyper(0.01, POSITIVE, "learning rate eta (book: 0.01)")
    momentum: float = hyper(0.9, UNIT, "momentum mu, the book's alpha (book: 0.9)")
    v: StateDict = state("velocity v = mu v - eta g")

    def _step(self, w, g, s, c: Step, tmp):
        v = s["v"]
        np.multiply(v, self.momentum, out=v)  # mu v
        d = np.multiply(g, c.lr, out=tmp[0])  # eta g
        np.subtract(v, d, out=v)  # v = mu v - eta g
        np.add(w, v, out=w)  # W + v


@register
class Nesterov(Momentum):
    """Nesterov's accelerated gradient, the book's current form.

    .. math::
        W \\leftarrow W + \\mu^2 v - (1+\\mu)\\eta g, \\qquad
        v \\leftarrow \\mu v - \\eta g

    with the old :math:`v` in the first line (Bengio et al. 2012, arXiv
    1212.0901). Equals PyTorch ``SGD(lr, momentum, nesterov=True)`` with
    :math:`v = -\\eta b` at constant ``lr``. Defaults ``lr=0.01``, ``momentum=0.9``
    (the same hyperparameters and state as :class:`Momentum`; only the step differs).

    Verified against other libraries: tests/test_oracle.py (rows "nesterov...")
    """

    name = "nesterov"

    def _step(self, w, g, s, c: Step, tmp):
        v, lr, mu = s["v"], c.lr, self.momentum
        d = np.multiply(v, mu * mu, out=tmp[0])  # mu^2 v
        np.add(w, d, out=w)  # W + mu^2 v
        np.multiply(g, (1 + mu) * lr, out=d)  # (1 + mu) eta g
        np.subtract(w, d, out=w)  # W + mu^2 v - (1 + mu) eta g
        np.multiply(v, mu, out=v)  # mu v
        np.multiply(g, lr, out=d)  # eta g
        np.subtract(v, d, out=v)  # v = mu v - eta g


@register
class AdaGrad(Optimizer):
    """AdaGrad (book eqs. 6.5, 6.6).

    .. math::
        h \\leftarrow h + g \\odot g, \\qquad
        W \\leftarrow W - \\eta \\frac{g}{\\sqrt{h} + \\epsilon}

    ``lr`` :math:`\\eta` (default 0.01, book), ``eps`` :math:`\\epsilon`
    (default 1e-7, book). ``initial_accumulator_value`` :math:`h_0` (default 0,
    as the book and PyTorch; Keras and Optax use 0.1). ``eps_inside_sqrt=True``
    gives Keras/Optax's :math:`g/\\sqrt{h+\\epsilon}`. PyTorch's ``lr_decay`` is
    ``schedule=InverseTimeDecay(lr_decay)``.

    Verified against other libraries: tests/test_oracle.py (rows "adagrad...")
    """

    name = "adagrad"
    n_scratch = 2

    lr: float = hyper(0.01, POSITIVE, "learning rate eta (book: 0.01)")
    _: KW_ONLY
    eps: float = hyper(_EPS_BOOK, NONNEG, _EPS_DOC + " (book: 1e-7)")
    initial_accumulator_value: float = hyper(0.0, NONNEG, "h_0 (book, PyTorch: 0; Keras: 0.1)")
    eps_inside_sqrt: bool = hyper(False, FLAG, "sqrt(h + eps) (Keras, Optax) not sqrt(h) + eps")
    h: StateDict = state(
        "sum of squared gradients", initial="initial_accumulator_value", nonneg=True
    )

    def _step(self, w, g, s, c: Step, tmp):
        h = s["h"]
        t0, t1 = tmp
        np.multiply(g, g, out=t0)  # g * g
        np.add(h, t0, out=h)  # h = h + g * g
        root_plus_eps(h, self.eps, t0, inside=self.eps_inside_sqrt)  # sqrt(h) + eps
        np.multiply(g, c.lr, out=t1)  # eta g
        divide(t1, t0, t1, self.eps)  # eta g / (sqrt(h) + eps)
        np.subtract(w, t1, out=w)


@register
class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012), the book's form.

    .. math::
        h \\leftarrow \\rho h + (1-\\rho)\\, g \\odot g, \\qquad
        W \\leftarrow W - \\eta \\frac{g}{\\sqrt{h} + \\epsilon}

    ``lr`` :math:`\\eta` (default 0.01), ``decay_rate`` :math:`\\rho` (default
    0.99; PyTorch ``alpha``, Keras ``rho``, Optax ``decay``), ``eps`` (1e-7).
    ``centered=True`` also tracks :math:`\\bar g \\leftarrow \\rho\\bar g + (1-\\rho)g`
    and divides by :math:`\\sqrt{h - \\bar g^2} + \\epsilon` (PyTorch ``centered``).

    ``eps_inside_sqrt=True`` puts :math:`\\epsilon` under the root, the form of
    Keras ``RMSprop`` and Optax ``rmsprop`` (their ``centered`` too):

    .. math::
        W \\leftarrow W - \\frac{\\eta g}{\\sqrt{h + \\epsilon}}
        \\quad\\text{or, centered,}\\quad
        W \\leftarrow W - \\frac{\\eta g}{\\sqrt{h - \\bar g^2 + \\epsilon}}

    The two forms differ most for :math:`|g|` below :math:`\\sqrt{\\epsilon}`.

    Verified against other libraries: tests/test_oracle.py (rows "rmsprop...")
    """

    name = "rmsprop"
    n_scratch = 2

    lr: float = hyper(0.01, POSITIVE, "learning rate eta (book: 0.01)")
    decay_rate: float = hyper(0.99, UNIT, "decay rho of the squared-gradient average (book)")
    _: KW_ONLY
    eps: float = hyper(_EPS_BOOK, NONNEG, _EPS_DOC + " (book: 1e-7)")
    centered: bool = hyper(False, FLAG, "divide by sqrt(h - g_avg^2) (PyTorch centered)")
    eps_inside_sqrt: bool = hyper(
        False, FLAG, "sqrt(h + eps) (Keras, Optax) not sqrt(h) + eps", quiet=True
    )
    h: StateDict = state("average of squared gradients", nonneg=True)
    g_avg: StateDict = state("average of gradients", when="centered")

    def _step(self, w, g, s, c: Step, tmp):
        rho, h = self.decay_rate, s["h"]
        t0, t1 = tmp
        np.multiply(g, 1 - rho, out=t0)
        np.multiply(t0, g, out=t0)  # (1 - rho) g g
        decay_add(h, rho, t0)  # h = rho h + (1 - rho) g g
        if self.centered:
            g_avg = s["g_avg"]
            np.multiply(g, 1 - rho, out=t0)
            decay_add(g_avg, rho, t0)  # g_avg = rho g_avg + (1 - rho) g
            np.multiply(g_avg, g_avg, out=t0)
            h = np.subtract(h, t0, out=t0)  # h - g_avg^2 takes h's place below
        root_plus_eps(h, self.eps, t0, inside=self.eps_inside_sqrt)  # sqrt(h) + eps
        np.multiply(g, c.lr, out=t1)
        divide(t1, t0, t1, self.eps)  # eta g / (sqrt(h) + eps)
        np.subtract(w, t1, out=w)


class AdamStep(NamedTuple):
    """Adam's scalars at step t: ``lr``; ``lr_t`` = lr sqrt(1-b2^t)/(1-b1^t);
    ``lr_hat`` = lr/(1-b1^t); ``sqrt_bc2`` = sqrt(1-b2^t); ``bc2`` = 1-b2^t."""

    lr: float
    lr_t: float
    lr_hat: float
    sqrt_bc2: float
    bc2: float


@register
class Adam(Optimizer):
    """Adam (Kingma & Ba, arXiv 1412.6980), the book's form by default.

    Moments (the book writes them as increments; same values):

    .. math::
        m \\leftarrow m + (1-\\beta_1)(g - m), \\qquad
        v \\leftarrow v + (1-\\beta_2)(g \\odot g - v)

    ``eps_form="book"`` (default) folds the bias correction into the step size:

    .. math::
        \\eta_t = \\eta \\frac{\\sqrt{1-\\beta_2^t}}{1-\\beta_1^t}, \\qquad
        W \\leftarrow W - \\eta_t \\frac{m}{\\sqrt{v} + \\epsilon}

    ``eps_form="paper"`` is the paper's and PyTorch's
    :math:`W \\leftarrow W - \\eta\\,\\hat m/(\\sqrt{\\hat v} + \\epsilon)` with
    :math:`\\hat m = m/(1-\\beta_1^t)`, :math:`\\hat v = v/(1-\\beta_2^t)`.
    The book's form is the paper's with :math:`\\epsilon` replaced by
    :math:`\\epsilon/\\sqrt{1-\\beta_2^t}`, which is larger early on: at
    :math:`t = 1` and :math:`\\beta_2 = 0.999` about 31.6 :math:`\\epsilon`, so the
    book's steps are a little shorter while :math:`\\sqrt{v}` is tiny. Per step

    .. math::
        |\\Delta_{paper} - \\Delta_{book}| \\le \\eta \\frac{|\\hat m|}{\\sqrt{\\hat v}}
        \\frac{\\epsilon\\,(1/\\sqrt{1-\\beta_2^t} - 1)}{\\sqrt{\\hat v}}

    with the defaults and gradients of order 1e-2 about 3e-7 at :math:`t = 1`,
    shrinking with :math:`t`; for gradients near :math:`\\epsilon` (about
    :math:`5.6\\epsilon`) the steps differ by up to 0.7 :math:`\\eta` at
    :math:`t = 1`. See ``docs/conventions.md``.

    ``lr`` :math:`\\eta` default 0.001, ``beta1`` 0.9, ``beta2`` 0.999 (book,
    paper, PyTorch), ``eps`` 1e-7 (book and Keras; PyTorch and Optax use 1e-8).
    ``amsgrad=True`` divides by :math:`\\sqrt{\\max_{s \\le t} v_s}` instead
    (Reddi et al. 2018; PyTorch ``amsgrad``, Keras ``amsgrad``): the state
    ``v_max`` is the running maximum of the raw :math:`v`, bias-corrected at
    step :math:`t` with :math:`1-\\beta_2^t`.
    ``corrected_max=True`` (only with ``amsgrad``) keeps the running maximum of
    the bias-corrected :math:`\\hat v_s = v_s/(1-\\beta_2^s)` instead, Optax's
    ``amsgrad``:

    .. math::
        \\hat v_{max} \\leftarrow \\max(\\hat v_{max}, v/(1-\\beta_2^t)), \\qquad
        W \\leftarrow W - \\eta \\frac{\\hat m}{\\sqrt{\\hat v_{max}} + \\epsilon}

    (with ``eps_form="book"``, :math:`\\epsilon/\\sqrt{1-\\beta_2^t}` in place of
    :math:`\\epsilon`, as everywhere in the book's form).

    Verified against other libraries: tests/test_oracle.py (rows "adam...")
    """

    name = "adam"
    n_scratch = 2

    lr: float = hyper(0.001, POSITIVE, "learning rate eta (book: 0.001)")
    beta1: float = hyper(0.9, UNIT, "decay beta_1 of the first moment (book: 0.9)")
    beta2: float = hyper(0.999, UNIT, "decay beta_2 of the second moment (book: 0.999)")
    _: KW_ONLY
    eps: float = hyper(_EPS_BOOK, NONNEG, _EPS_DOC + " (book: 1e-7, PyTorch: 1e-8)")
    eps_form: Literal["book", "paper"] = hyper(
        "book", choice("book", "paper"), "eps added to sqrt(v) (book) or sqrt(v_hat) (paper)"
    )
    amsgrad: bool = hyper(False, FLAG, "divide by the running max of v (AMSGrad)")
    corrected_max: bool = hyper(
        False, FLAG, "with amsgrad, the max of the bias-corrected v_hat (Optax)", quiet=True
    )
    m: StateDict = state("first moment (mean of gradients)")
    v: StateDict = state("second moment (mean of squared gradients)", nonneg=True)
    v_max: StateDict = state(
        "running max of v (of v_hat with corrected_max)", when="amsgrad", nonneg=True
    )

    def _check(self) -> None:
        if self.corrected_max and not self.amsgrad:
            raise ValueError(
                "corrected_max=True needs amsgrad=True (it chooses which maximum AMSGrad keeps)"
            )

    @property
    def iter(self) -> int:
        """The book's name for the step count ``t``."""
        return self.t

    @iter.setter
    def iter(self, value: int) -> None:
        self.t = value

    def _step_scalars(self, lr: float, t: int) -> AdamStep:
        bc1 = bias_correction(self.beta1, t)
        bc2 = bias_correction(self.beta2, t)
        lr_t = lr * math.sqrt(bc2) / bc1  # eta_t = eta sqrt(1 - beta2^t) / (1 - beta1^t)
        return AdamStep(lr, lr_t, lr / bc1, math.sqrt(bc2), bc2)

    def _step(self, w, g, s, c: AdamStep, tmp):
        m, v = s["m"], s["v"]
        t0, t1 = tmp
        lerp_moment(m, g, 1 - self.beta1, t0)  # m = m + (1 - beta1)(g - m)
        np.multiply(g, g, out=t0)
        lerp_moment(v, t0, 1 - self.beta2, t0)  # v = v + (1 - beta2)(g g - v)
        if self.corrected_max:
            np.divide(v, c.bc2, out=t1)  # v_hat = v / (1 - beta2^t)
            np.maximum(s["v_max"], t1, out=s["v_max"])  # v_max = max(v_max, v_hat)
            np.sqrt(s["v_max"], out=t1)  # sqrt(v_hat_max)
        else:
            if self.amsgrad:
                np.maximum(s["v_max"], v, out=s["v_max"])  # v_max = max(v_max, v)
                v = s["v_max"]
            np.sqrt(v, out=t1)
        if self.eps_form == "book":
            if self.corrected_max:
                np.multiply(t1, c.sqrt_bc2, out=t1)  # sqrt(v_hat_max (1 - beta2^t))
            np.add(t1, self.eps, out=t1)  # sqrt(v) + eps
            np.multiply(m, c.lr_t, out=t0)  # eta_t m
            divide(t0, t1, t0, self.eps)  # eta_t m / (sqrt(v) + eps)
        else:
            if not self.corrected_max:
                np.divide(t1, c.sqrt_bc2, out=t1)
            np.add(t1, self.eps, out=t1)  # sqrt(v_hat) + eps
            divide(m, t1, t0, self.eps)
            np.multiply(t0, c.lr_hat, out=t0)  # eta m_hat / (sqrt(v_hat) + eps)
        np.subtract(w, t0, out=w)


@register
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, arXiv 1711.05101).

    .. math:: W \\leftarrow W (1 - \\eta\\lambda), \\text{ then the } \\texttt{Adam} \\text{ step}

    ``weight_decay`` :math:`\\lambda` (default 0.01, as PyTorch). Unlike L2
    regularisation (``MultiLayerNet(weight_decay_lambda=...)``), the decay is
    not divided by :math:`\\sqrt{v}`. With ``weight_decay=0`` it is Adam.
    PyTorch ``AdamW`` uses ``eps_form="paper"``.

    Verified against other libraries: tests/test_oracle.py (rows "adamw...")
    """

    name = "adamw"

    _: KW_ONLY
    weight_decay: float = hyper(0.01, NONNEG, "decoupled weight decay lambda (PyTorch: 0.01)")

    def _step(self, w, g, s, c: AdamStep, tmp):
        if self.weight_decay:
            np.multiply(w, 1 - c.lr * self.weight_decay, out=w)  # W (1 - eta lambda)
        super()._step(w, g, s, c, tmp)


class NAdamStep(NamedTuple):
    """NAdam's scalars at step t, and the new running product ``mu_product``."""

    lr: float
    c_g: float
    c_m: float
    bc2: float
    mu_product: float


@register
class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016), PyTorch's form.

    With :math:`\\mu_t = \\beta_1(1 - \\tfrac12 0.96^{t\\psi})` and
    :math:`\\Pi_t = \\prod_{s\\le t}\\mu_s`:

    .. math::
        m \\leftarrow m + (1-\\beta_1)(g-m), \\quad
        v \\leftarrow \\beta_2 v + (1-\\beta_2) g\\odot g, \\quad
        d = \\sqrt{v/(1-\\beta_2^t)} + \\epsilon

        W \\leftarrow W - \\eta\\frac{1-\\mu_t}{1-\\Pi_t}\\frac{g}{d}
                      - \\eta\\frac{\\mu_{t+1}}{1-\\Pi_t\\mu_{t+1}}\\frac{m}{d}

    ``lr`` 0.002 (PyTorch), ``beta1`` 0.9, ``beta2`` 0.999, ``momentum_decay``
    :math:`\\psi` 0.004, ``eps`` 1e-7 (PyTorch 1e-8).

    ``momentum_decay`` sets the library whose momentum schedule is used:
    0.004 is PyTorch's ``NAdam`` default; ``1.0`` gives
    :math:`\\mu_t = \\beta_1(1 - \\tfrac12 0.96^t)`, Keras's ``Nadam``;
    ``math.inf`` (spec ``momentum_decay=inf``) gives the constant
    :math:`\\mu_t = \\beta_1`, :math:`\\Pi_t = \\beta_1^t`, Optax's ``nadam``.

    Verified against other libraries: tests/test_oracle.py (rows "nadam...")
    """

    name = "nadam"
    n_scratch = 2

    lr: float = hyper(0.002, POSITIVE, "learning rate eta (PyTorch: 0.002)")
    beta1: float = hyper(0.9, UNIT, "decay beta_1 of the first moment")
    beta2: float = hyper(0.999, UNIT, "decay beta_2 of the second moment")
    _: KW_ONLY
    eps: float = hyper(_EPS_BOOK, NONNEG, _EPS_DOC + " (PyTorch: 1e-8)")
    momentum_decay: float = hyper(
        4e-3, NONNEG_OR_INF, "psi (PyTorch 0.004; Keras 1; Optax inf, constant mu = beta1)"
    )
    m: StateDict = state("first moment (mean of gradients)")
    v: StateDict = state("second moment (mean of squared gradients)", nonneg=True)
    mu_product: float = scalar_state(1.0, _MU_PRODUCT, "running product of mu_s for s <= t")

    def _step_scalars(self, lr: float, t: int) -> NAdamStep:
        b1, psi = self.beta1, self.momentum_decay
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        mu_product = self.mu_product * mu
        c_g = lr * (1.0 - mu) / (1.0 - mu_product)
        c_m = lr * mu_next / (1.0 - mu_product * mu_next)
        return NAdamStep(lr, c_g, c_m, bias_correction(self.beta2, t), mu_product)

    def _step(self, w, g, s, c: NAdamStep, tmp):
        m, v = s["m"], s["v"]
        t0, t1 = tmp
        lerp_moment(m, g, 1 - self.beta1, t0)  # m = m + (1 - beta1)(g - m)
        np.multiply(g, g, out=t0)
        np.multiply(t0, 1 - self.beta2, out=t0)
        decay_add(v, self.beta2, t0)  # v = beta2 v + (1 - beta2) g g
        np.divide(v, c.bc2, out=t1)
        root_plus_eps(t1, self.eps, t1)  # d = sqrt(v / (1 - beta2^t)) + eps
        divide(g, t1, t0, self.eps)
        np.multiply(t0, c.c_g, out=t0)
        np.subtract(w, t0, out=w)  # W - c_g g / d
        divide(m, t1, t0, self.eps)
        np.multiply(t0, c.c_m, out=t0)
        np.subtract(w, t0, out=w)  # W - c_m m / d


@register
class AMSGrad(Adam):
    """AMSGrad (Reddi, Kale & Kumar 2018): a registered variant, :class:`Adam` with
    ``amsgrad=True`` fixed (the same state, with ``v_max``).

    ``corrected_max=True`` is Optax's ``amsgrad`` (the max of :math:`\\hat v`);
    the default is PyTorch's and Keras's (the max of :math:`v`).

    Verified against other libraries: tests/test_oracle.py (rows "amsgrad...")
    """

    name = "amsgrad"

    amsgrad: bool = fixed(True, "AMSGrad is Adam with amsgrad=True")


class AdamaxStep(NamedTuple):
    """Adamax's scalars at step t: ``lr_hat`` = lr / (1 - beta1^t)."""

    lr: float
    lr_hat: float


@register
class Adamax(Optimizer):
    """Adamax, Adam's infinity-norm variant (Kingma & Ba 2015, section 7.1).

    .. math::
        m \\leftarrow m + (1-\\beta_1)(g-m), \\quad
        u \\leftarrow \\max(\\beta_2 u, |g| + \\epsilon), \\quad
        W \\leftarrow W - \\frac{\\eta}{1-\\beta_1^t}\\frac{m}{u}

    ``lr`` 0.002 (paper, PyTorch), ``beta1`` 0.9, ``beta2`` 0.999, ``eps`` 1e-7
    (PyTorch 1e-8). ``eps_inside_max=True`` (default) puts :math:`\\epsilon`
    inside the max, as PyTorch ``Adamax``; ``False`` adds it outside, as Keras
    ``Adamax``:

    .. math::
        u \\leftarrow \\max(\\beta_2 u, |g|), \\quad
        W \\leftarrow W - \\frac{\\eta}{1-\\beta_1^t}\\frac{m}{u + \\epsilon}

    Verified against other libraries: tests/test_oracle.py (rows "adamax...")
    """

    name = "adamax"

    lr: float = hyper(0.002, POSITIVE, "learning rate eta (paper, PyTorch: 0.002)")
    beta1: float = hyper(0.9, UNIT, "decay beta_1 of the first moment")
    beta2: float = hyper(0.999, UNIT, "decay beta_2 of the infinity norm u")
    _: KW_ONLY
    eps: float = hyper(_EPS_BOOK, NONNEG, _EPS_DOC + " (PyTorch: 1e-8)")
    eps_inside_max: bool = hyper(
        True, FLAG, "max(beta2 u, |g| + eps) (PyTorch) not u + eps after (Keras)", quiet=True
    )
    m: StateDict = state("first moment (mean of gradients)")
    u: StateDict = state("exponentially weighted infinity norm", nonneg=True)

    def _step_scalars(self, lr: float, t: int) -> AdamaxStep:
        return AdamaxStep(lr, lr / bias_correction(self.beta1, t))

    def _step(self, w, g, s, c: AdamaxStep, tmp):
        m, u = s["m"], s["u"]
        (t0,) = tmp
        lerp_moment(m, g, 1 - self.beta1, t0)  # m = m + (1 - beta1)(g - m)
        np.multiply(u, self.beta2, out=u)
        np.absolute(g, out=t0)
        if self.eps_inside_max:
            np.add(t0, self.eps, out=t0)
            np.maximum(u, t0, out=u)  # u = max(beta2 u, |g| + eps)
            divide(m, u, t0, self.eps)
        else:
            np.maximum(u, t0, out=u)  # u = max(beta2 u, |g|)
            np.add(u, self.eps, out=t0)
            divide(m, t0, t0, self.eps)  # m / (u + eps)
        np.multiply(t0, c.lr_hat, out=t0)
        np.subtract(w, t0, out=w)  # W - eta / (1 - beta1^t) m / u


@register
class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012, arXiv 1212.5701).

    .. math::
        v \\leftarrow \\rho v + (1-\\rho) g\\odot g, \\quad
        \\Delta = \\frac{\\sqrt{u + \\epsilon}}{\\sqrt{v + \\epsilon}}\\, g, \\quad
        u \\leftarrow \\rho u + (1-\\rho)\\Delta\\odot\\Delta, \\quad
        W \\leftarrow W - \\eta\\Delta

    ``lr`` 1.0, ``rho`` 0.9, ``eps`` 1e-6 (all PyTorch's defaults; the paper
    has no ``lr``, i.e. 1.0, and uses rho 0.95 and eps 1e-6 on MNIST).

    Verified against other libraries: tests/test_oracle.py (rows "adadelta...")
    """

    name = "adadelta"
    n_scratch = 2

    lr: float = hyper(1.0, POSITIVE, "learning rate eta (PyTorch: 1.0)")
    rho: float = hyper(0.9, UNIT, "decay rho of both averages (PyTorch: 0.9)")
    _: KW_ONLY
    eps: float = hyper(1e-6, NONNEG, _EPS_DOC + " (PyTorch: 1e-6)")
    v: StateDict = state("average of squared gradients", nonneg=True)
    u: StateDict = state("average of squared updates", nonneg=True)

    def _step(self, w, g, s, c: Step, tmp):
        v, u, rho = s["v"], s["u"], self.rho
        t0, t1 = tmp
        np.multiply(g, g, out=t0)
        np.multiply(t0, 1 - rho, out=t0)
        decay_add(v, rho, t0)  # v = rho v + (1 - rho) g g
        root_plus_eps(v, self.eps, t0, inside=True)  # sqrt(v + eps)
        root_plus_eps(u, self.eps, t1, inside=True)  # sqrt(u + eps)
        divide(t1, t0, t1, self.eps)
        np.multiply(t1, g, out=t1)  # Delta
        np.multiply(t1, t1, out=t0)
        np.multiply(t0, 1 - rho, out=t0)
        decay_add(u, rho, t0)  # u = rho u + (1 - rho) Delta^2
        np.multiply(t1, c.lr, out=t1)
        np.subtract(w, t1, out=w)  # W - eta Delta


@register
class Lion(Optimizer):
    """Lion, evolved sign momentum (Chen et al. 2023, arXiv 2302.06675).

    .. math::
        c = \\beta_1 m + (1-\\beta_1) g, \\quad
        W \\leftarrow W(1 - \\eta\\lambda) - \\eta\\,\\mathrm{sign}(c), \\quad
        m \\leftarrow \\beta_2 m + (1-\\beta_2) g

    ``lr`` 1e-4, ``beta1`` 0.9, ``beta2`` 0.99, ``weight_decay`` :math:`\\lambda`
    0 (the paper's defaults; use a learning rate 3-10x smaller than Adam's).

    Verified against other libraries: tests/test_oracle.py (rows "lion...")
    """

    name = "lion"
    n_scratch = 2

    lr: float = hyper(1e-4, POSITIVE, "learning rate eta (paper: 1e-4)")
    beta1: float = hyper(0.9, UNIT, "interpolation beta_1 of the update direction (paper)")
    beta2: float = hyper(0.99, UNIT, "decay beta_2 of the momentum (paper)")
    _: KW_ONLY
    weight_decay: float = hyper(0.0, NONNEG, "decoupled weight decay lambda (paper: 0)")
    m: StateDict = state("momentum (mean of gradients)")

    def _step(self, w, g, s, c: Step, tmp):
        m, lr = s["m"], c.lr
        t0, t1 = tmp
        if self.weight_decay:
            np.multiply(w, 1 - lr * self.weight_decay, out=w)  # W (1 - eta lambda)
        np.multiply(m, self.beta1, out=t0)
        np.multiply(g, 1 - self.beta1, out=t1)
        np.add(t0, t1, out=t0)  # c = beta1 m + (1 - beta1) g
        np.sign(t0, out=t0)
        np.multiply(t0, lr, out=t0)
        np.subtract(w, t0, out=w)  # W - eta sign(c)
        np.multiply(g, 1 - self.beta2, out=t1)
        decay_add(m, self.beta2, t1)  # m = beta2 m + (1 - beta2) g
