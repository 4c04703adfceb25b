"""The update rules, each defined once, in increasing order of complexity.

Symbols follow the book (chapter 6 of *Deep Learning from Scratch*): :math:`W`
a parameter array, :math:`g = \\partial L/\\partial W` its gradient,
:math:`\\eta` the learning rate (``lr``) of the current step, :math:`t` the step
count starting at 1. Every ``_step`` is written with ``out=`` so that a step
makes no temporaries; the comment on each line is the formula it computes, in
the order of operations of the book's code, so that the float64 results equal
the book's bit for bit.

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
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from .base import Optimizer, Schedule, check_range

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


def _beta(name: str, value: float) -> float:
    return check_range(name, value, low=0.0, high=1.0)


def _eps(value: float, name: str = "eps") -> float:
    return check_range(name, value, low=0.0, high=None)


class SGD(Optimizer):
    """Stochastic gradient descent (book eq. 6.1).

    .. math:: W \\leftarrow W - \\eta g

    ``lr`` :math:`\\eta`, default 0.01 (book). PyTorch ``SGD(lr)``, Keras
    ``SGD(learning_rate)``, Optax ``sgd(learning_rate)``.
    """

    name = "sgd"

    def __init__(self, lr: float = 0.01, *, schedule: Schedule | None = None) -> None:
        super().__init__(lr, schedule=schedule)

    def _step(self, w, g, state, c, tmp):
        (lr,) = c
        d = np.multiply(g, lr, out=tmp[0])  # eta g
        np.subtract(w, d, out=w)  # W - eta g


class Momentum(Optimizer):
    """Momentum SGD (book eqs. 6.3, 6.4), the book's velocity form.

    .. math::
        v \\leftarrow \\mu v - \\eta g, \\qquad W \\leftarrow W + v

    ``lr`` :math:`\\eta` (default 0.01), ``momentum`` :math:`\\mu` (the book's
    :math:`\\alpha`, default 0.9). PyTorch ``SGD(lr, momentum)`` keeps
    :math:`b = -v/\\eta`: equal at constant ``lr``, different under a schedule
    (see the module notes).
    """

    name = "momentum"
    state_names = ("v",)

    def __init__(
        self, lr: float = 0.01, momentum: float = 0.9, *, schedule: Schedule | None = None
    ) -> None:
        super().__init__(lr, schedule=schedule)
        self.momentum = _beta("momentum", momentum)

    def hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum}

    def _step(self, w, g, state, c, tmp):
        (lr,) = c
        (v,) = state
        np.multiply(v, self.momentum, out=v)  # mu v
        d = np.multiply(g, lr, out=tmp[0])  # eta g
        np.subtract(v, d, out=v)  # v = mu v - eta g
        np.add(w, v, out=w)  # W + v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, the book's current form.

    .. math::
        W \\leftarrow W + \\mu^2 v - (1+\\mu)\\eta g, \\qquad
        v \\leftarrow \\mu v - \\eta g

    with the old :math:`v` in the first line (Bengio et al. 2012, arXiv
    1212.0901). Equals PyTorch ``SGD(lr, momentum, nesterov=True)`` with
    :math:`v = -\\eta b` at constant ``lr``. Defaults ``lr=0.01``, ``momentum=0.9``
    (the same hyperparameters and state as :class:`Momentum`; only the step differs).
    """

    name = "nesterov"

    def _step(self, w, g, state, c, tmp):
        (lr,) = c
        (v,) = state
        mu = self.momentum
        d = np.multiply(v, mu * mu, out=tmp[0])  # mu^2 v
        np.add(w, d, out=w)  # W + mu^2 v
        np.multiply(g, (1 + mu) * lr, out=d)  # (1 + mu) eta g
        np.subtract(w, d, out=w)  # W + mu^2 v - (1 + mu) eta g
        np.multiply(v, mu, out=v)  # mu v
        np.multiply(g, lr, out=d)  # eta g
        np.subtract(v, d, out=v)  # v = mu v - eta g


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
    """

    name = "adagrad"
    state_names = ("h",)
    n_scratch = 2

    def __init__(
        self,
        lr: float = 0.01,
        *,
        eps: float = _EPS_BOOK,
        initial_accumulator_value: float = 0.0,
        eps_inside_sqrt: bool = False,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(lr, schedule=schedule)
        self.eps = _eps(eps)
        self.initial_accumulator_value = check_range(
            "initial_accumulator_value", initial_accumulator_value, low=0.0, high=None
        )
        self.eps_inside_sqrt = bool(eps_inside_sqrt)

    def hyperparameters(self):
        return {
            "lr": self.lr,
            "eps": self.eps,
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps_inside_sqrt": self.eps_inside_sqrt,
        }

    def _init_state(self, w):
        return (np.full_like(w, self.initial_accumulator_value),)

    def _step(self, w, g, state, c, tmp):
        (lr,) = c
        (h,) = state
        t0, t1 = tmp
        np.multiply(g, g, out=t0)  # g * g
        np.add(h, t0, out=h)  # h = h + g * g
        if self.eps_inside_sqrt:
            np.add(h, self.eps, out=t0)
            np.sqrt(t0, out=t0)  # sqrt(h + eps)
        else:
            np.sqrt(h, out=t0)
            np.add(t0, self.eps, out=t0)  # sqrt(h) + eps
        np.multiply(g, lr, out=t1)  # eta g
        np.divide(t1, t0, out=t1)  # eta g / (sqrt(h) + eps)
        np.subtract(w, t1, out=w)


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
    """

    name = "rmsprop"
    state_names = ("h",)
    n_scratch = 2

    def __init__(
        self,
        lr: float = 0.01,
        decay_rate: float = 0.99,
        *,
        eps: float = _EPS_BOOK,
        centered: bool = False,
        eps_inside_sqrt: bool = False,
        schedule: Schedule | None = None,
    ) -> None:
        self.centered = bool(centered)
        self.eps_inside_sqrt = bool(eps_inside_sqrt)
        if self.centered:
            self.state_names = ("h", "g_avg")
        super().__init__(lr, schedule=schedule)
        self.decay_rate = _beta("decay_rate", decay_rate)
        self.eps = _eps(eps)

    def hyperparameters(self):
        return {
            "lr": self.lr,
            "decay_rate": self.decay_rate,
            "eps": self.eps,
            "centered": self.centered,
            "eps_inside_sqrt": self.eps_inside_sqrt,
        }

    def _step(self, w, g, state, c, tmp):
        (lr,) = c
        rho = self.decay_rate
        h = state[0]
        t0, t1 = tmp
        np.multiply(h, rho, out=h)  # rho h
        np.multiply(g, 1 - rho, out=t0)
        np.multiply(t0, g, out=t0)  # (1 - rho) g g
        np.add(h, t0, out=h)  # h = rho h + (1 - rho) g g
        if self.centered:
            g_avg = state[1]
            np.multiply(g_avg, rho, out=g_avg)
            np.multiply(g, 1 - rho, out=t0)
            np.add(g_avg, t0, out=g_avg)  # g_avg = rho g_avg + (1 - rho) g
            np.multiply(g_avg, g_avg, out=t0)
            h = np.subtract(h, t0, out=t0)  # h - g_avg^2 takes h's place below
        if self.eps_inside_sqrt:
            np.add(h, self.eps, out=t0)
            np.sqrt(t0, out=t0)  # sqrt(h + eps)
        else:
            np.sqrt(h, out=t0)
            np.add(t0, self.eps, out=t0)  # sqrt(h) + eps
        np.multiply(g, lr, out=t1)
        np.divide(t1, t0, out=t1)  # eta g / (sqrt(h) + eps)
        np.subtract(w, t1, out=w)


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
    """

    name = "adam"
    state_names = ("m", "v")
    n_scratch = 2

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        *,
        eps: float = _EPS_BOOK,
        eps_form: Literal["book", "paper"] = "book",
        amsgrad: bool = False,
        corrected_max: bool = False,
        schedule: Schedule | None = None,
    ) -> None:
        self.amsgrad = bool(amsgrad)
        self.corrected_max = bool(corrected_max)
        if self.corrected_max and not self.amsgrad:
            raise ValueError(
                "corrected_max=True needs amsgrad=True (it chooses which maximum AMSGrad keeps)"
            )
        if self.amsgrad:
            self.state_names = ("m", "v", "v_max")
        super().__init__(lr, schedule=schedule)
        self.beta1 = _beta("beta1", beta1)
        self.beta2 = _beta("beta2", beta2)
        self.eps = _eps(eps)
        if eps_form not in ("book", "paper"):
            raise ValueError(f"eps_form must be 'book' or 'paper', got {eps_form!r}")
        self.eps_form = eps_form

    @property
    def iter(self) -> int:
        """The book's name for the step count ``t``."""
        return self.t

    @iter.setter
    def iter(self, value: int) -> None:
        self.t = value

    def hyperparameters(self):
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "eps_form": self.eps_form,
            "amsgrad": self.amsgrad,
            "corrected_max": self.corrected_max,
        }

    def _scalars(self, lr):
        t = self.t
        bc1 = 1.0 - self.beta1**t
        bc2 = 1.0 - self.beta2**t
        lr_t = lr * math.sqrt(bc2) / bc1  # eta_t = eta sqrt(1 - beta2^t) / (1 - beta1^t)
        return (lr, lr_t, bc1, math.sqrt(bc2), bc2)

    def _moments(self, g, m, v, t0):
        np.subtract(g, m, out=t0)
        np.multiply(t0, 1 - self.beta1, out=t0)
        np.add(m, t0, out=m)  # m = m + (1 - beta1)(g - m)
        np.multiply(g, g, out=t0)
        np.subtract(t0, v, out=t0)
        np.multiply(t0, 1 - self.beta2, out=t0)
        np.add(v, t0, out=v)  # v = v + (1 - beta2)(g g - v)

    def _step(self, w, g, state, c, tmp):
        lr, lr_t, bc1, sqrt_bc2, bc2 = c
        m, v = state[0], state[1]
        t0, t1 = tmp
        self._moments(g, m, v, t0)
        if self.corrected_max:
            np.divide(v, bc2, out=t1)  # v_hat = v / (1 - beta2^t)
            np.maximum(state[2], t1, out=state[2])  # v_max = max(v_max, v_hat)
            np.sqrt(state[2], out=t1)  # sqrt(v_hat_max)
        else:
            if self.amsgrad:
                np.maximum(state[2], v, out=state[2])  # v_max = max(v_max, v)
                v = state[2]
            np.sqrt(v, out=t1)
        if self.eps_form == "book":
            if self.corrected_max:
                np.multiply(t1, sqrt_bc2, out=t1)  # sqrt(v_hat_max (1 - beta2^t))
            np.add(t1, self.eps, out=t1)  # sqrt(v) + eps
            np.multiply(m, lr_t, out=t0)  # eta_t m
            np.divide(t0, t1, out=t0)  # eta_t m / (sqrt(v) + eps)
        else:
            if not self.corrected_max:
                np.divide(t1, sqrt_bc2, out=t1)
            np.add(t1, self.eps, out=t1)  # sqrt(v_hat) + eps
            np.divide(m, t1, out=t0)
            np.multiply(t0, lr / bc1, out=t0)  # eta m_hat / (sqrt(v_hat) + eps)
        np.subtract(w, t0, out=w)


class AMSGrad(Adam):
    """AMSGrad: :class:`Adam` with ``amsgrad=True`` (Reddi, Kale & Kumar 2018)."""

    name = "amsgrad"

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        *,
        eps: float = _EPS_BOOK,
        eps_form: Literal["book", "paper"] = "book",
        corrected_max: bool = False,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(
            lr,
            beta1,
            beta2,
            eps=eps,
            eps_form=eps_form,
            amsgrad=True,
            corrected_max=corrected_max,
            schedule=schedule,
        )

    def hyperparameters(self):
        hp = super().hyperparameters()
        del hp["amsgrad"]
        return hp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, arXiv 1711.05101).

    .. math:: W \\leftarrow W (1 - \\eta\\lambda), \\text{ then the } \\texttt{Adam} \\text{ step}

    ``weight_decay`` :math:`\\lambda` (default 0.01, as PyTorch). Unlike L2
    regularisation (``MultiLayerNet(weight_decay_lambda=...)``), the decay is
    not divided by :math:`\\sqrt{v}`. With ``weight_decay=0`` it is Adam.
    PyTorch ``AdamW`` uses ``eps_form="paper"``.
    """

    name = "adamw"

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        *,
        weight_decay: float = 0.01,
        eps: float = _EPS_BOOK,
        eps_form: Literal["book", "paper"] = "book",
        amsgrad: bool = False,
        corrected_max: bool = False,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(
            lr,
            beta1,
            beta2,
            eps=eps,
            eps_form=eps_form,
            amsgrad=amsgrad,
            corrected_max=corrected_max,
            schedule=schedule,
        )
        self.weight_decay = check_range("weight_decay", weight_decay, low=0.0, high=None)

    def hyperparameters(self):
        return {**super().hyperparameters(), "weight_decay": self.weight_decay}

    def _step(self, w, g, state, c, tmp):
        if self.weight_decay:
            np.multiply(w, 1 - c[0] * self.weight_decay, out=w)  # W (1 - eta lambda)
        super()._step(w, g, state, c, tmp)


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
    """

    name = "nadam"
    state_names = ("m", "v")
    n_scratch = 2

    def __init__(
        self,
        lr: float = 0.002,
        beta1: float = 0.9,
        beta2: float = 0.999,
        *,
        eps: float = _EPS_BOOK,
        momentum_decay: float = 4e-3,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(lr, schedule=schedule)
        self.beta1 = _beta("beta1", beta1)
        self.beta2 = _beta("beta2", beta2)
        self.eps = _eps(eps)
        self.momentum_decay = check_range(
            "momentum_decay", momentum_decay, low=0.0, high=None, allow_inf=True
        )
        self.mu_product = 1.0

    def hyperparameters(self):
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "momentum_decay": self.momentum_decay,
        }

    def _extra_state(self):
        return {"mu_product": self.mu_product}

    def _load_extra_state(self, extra):
        mu_product = extra.get("mu_product", 1.0)
        self.mu_product = check_range("mu_product", mu_product, low=0.0, high=1.0, high_open=False)

    def _scalars(self, lr):
        t, b1, psi = self.t, self.beta1, self.momentum_decay
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        self.mu_product *= mu
        c_g = lr * (1.0 - mu) / (1.0 - self.mu_product)
        c_m = lr * mu_next / (1.0 - self.mu_product * mu_next)
        return (lr, c_g, c_m, 1.0 - self.beta2**t)

    def _step(self, w, g, state, c, tmp):
        _, c_g, c_m, bc2 = c
        m, v = state
        t0, t1 = tmp
        np.subtract(g, m, out=t0)
        np.multiply(t0, 1 - self.beta1, out=t0)
        np.add(m, t0, out=m)  # m = m + (1 - beta1)(g - m)
        np.multiply(v, self.beta2, out=v)
        np.multiply(g, g, out=t0)
        np.multiply(t0, 1 - self.beta2, out=t0)
        np.add(v, t0, out=v)  # v = beta2 v + (1 - beta2) g g
        np.divide(v, bc2, out=t1)
        np.sqrt(t1, out=t1)
        np.add(t1, self.eps, out=t1)  # d = sqrt(v / (1 - beta2^t)) + eps
        np.divide(g, t1, out=t0)
        np.multiply(t0, c_g, out=t0)
        np.subtract(w, t0, out=w)  # W - c_g g / d
        np.divide(m, t1, out=t0)
        np.multiply(t0, c_m, out=t0)
        np.subtract(w, t0, out=w)  # W - c_m m / d


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
    """

    name = "adamax"
    state_names = ("m", "u")

    def __init__(
        self,
        lr: float = 0.002,
        beta1: float = 0.9,
        beta2: float = 0.999,
        *,
        eps: float = _EPS_BOOK,
        eps_inside_max: bool = True,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(lr, schedule=schedule)
        self.beta1 = _beta("beta1", beta1)
        self.beta2 = _beta("beta2", beta2)
        self.eps = _eps(eps)
        self.eps_inside_max = bool(eps_inside_max)

    def hyperparameters(self):
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "eps_inside_max": self.eps_inside_max,
        }

    def _scalars(self, lr):
        return (lr / (1.0 - self.beta1**self.t),)

    def _step(self, w, g, state, c, tmp):
        (clr,) = c
        m, u = state
        (t0,) = tmp
        np.subtract(g, m, out=t0)
        np.multiply(t0, 1 - self.beta1, out=t0)
        np.add(m, t0, out=m)  # m = m + (1 - beta1)(g - m)
        np.multiply(u, self.beta2, out=u)
        np.absolute(g, out=t0)
        if self.eps_inside_max:
            np.add(t0, self.eps, out=t0)
            np.maximum(u, t0, out=u)  # u = max(beta2 u, |g| + eps)
            np.divide(m, u, out=t0)
        else:
            np.maximum(u, t0, out=u)  # u = max(beta2 u, |g|)
            np.add(u, self.eps, out=t0)
            np.divide(m, t0, out=t0)  # m / (u + eps)
        np.multiply(t0, clr, out=t0)
        np.subtract(w, t0, out=w)  # W - eta / (1 - beta1^t) m / u


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012, arXiv 1212.5701).

    .. math::
        v \\leftarrow \\rho v + (1-\\rho) g\\odot g, \\quad
        \\Delta = \\frac{\\sqrt{u + \\epsilon}}{\\sqrt{v + \\epsilon}}\\, g, \\quad
        u \\leftarrow \\rho u + (1-\\rho)\\Delta\\odot\\Delta, \\quad
        W \\leftarrow W - \\eta\\Delta

    ``lr`` 1.0, ``rho`` 0.9, ``eps`` 1e-6 (all PyTorch's defaults; the paper
    has no ``lr``, i.e. 1.0, and uses rho 0.95 and eps 1e-6 on MNIST).
    """

    name = "adadelta"
    state_names = ("v", "u")
    n_scratch = 2

    def __init__(
        self,
        lr: float = 1.0,
        rho: float = 0.9,
        *,
        eps: float = 1e-6,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(lr, schedule=schedule)
        self.rho = _beta("rho", rho)
        self.eps = _eps(eps)

    def hyperparameters(self):
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps}

    def _step(self, w, g, state, c, tmp):
        (lr,) = c
        v, u = state
        t0, t1 = tmp
        rho = self.rho
        np.multiply(v, rho, out=v)
        np.multiply(g, g, out=t0)
        np.multiply(t0, 1 - rho, out=t0)
        np.add(v, t0, out=v)  # v = rho v + (1 - rho) g g
        np.add(v, self.eps, out=t0)
        np.sqrt(t0, out=t0)  # sqrt(v + eps)
        np.add(u, self.eps, out=t1)
        np.sqrt(t1, out=t1)  # sqrt(u + eps)
        np.divide(t1, t0, out=t1)
        np.multiply(t1, g, out=t1)  # Delta
        np.multiply(u, rho, out=u)
        np.multiply(t1, t1, out=t0)
        np.multiply(t0, 1 - rho, out=t0)
        np.add(u, t0, out=u)  # u = rho u + (1 - rho) Delta^2
        np.multiply(t1, lr, out=t1)
        np.subtract(w, t1, out=w)  # W - eta Delta


class Lion(Optimizer):
    """Lion, evolved sign momentum (Chen et al. 2023, arXiv 2302.06675).

    .. math::
        c = \\beta_1 m + (1-\\beta_1) g, \\quad
        W \\leftarrow W(1 - \\eta\\lambda) - \\eta\\,\\mathrm{sign}(c), \\quad
        m \\leftarrow \\beta_2 m + (1-\\beta_2) g

    ``lr`` 1e-4, ``beta1`` 0.9, ``beta2`` 0.99, ``weight_decay`` :math:`\\lambda`
    0 (the paper's defaults; use a learning rate 3-10x smaller than Adam's).
    """

    name = "lion"
    state_names = ("m",)
    n_scratch = 2

    def __init__(
        self,
        lr: float = 1e-4,
        beta1: float = 0.9,
        beta2: float = 0.99,
        *,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(lr, schedule=schedule)
        self.beta1 = _beta("beta1", beta1)
        self.beta2 = _beta("beta2", beta2)
        self.weight_decay = check_range("weight_decay", weight_decay, low=0.0, high=None)

    def hyperparameters(self):
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "weight_decay": self.weight_decay,
        }

    def _step(self, w, g, state, c, tmp):
        (lr,) = c
        (m,) = state
        t0, t1 = tmp
        if self.weight_decay:
            np.multiply(w, 1 - lr * self.weight_decay, out=w)  # W (1 - eta lambda)
        np.multiply(m, self.beta1, out=t0)
        np.multiply(g, 1 - self.beta1, out=t1)
        np.add(t0, t1, out=t0)  # c = beta1 m + (1 - beta1) g
        np.sign(t0, out=t0)
        np.multiply(t0, lr, out=t0)
        np.subtract(w, t0, out=w)  # W - eta sign(c)
        np.multiply(m, self.beta2, out=m)
        np.multiply(g, 1 - self.beta2, out=t1)
        np.add(m, t1, out=m)  # m = beta2 m + (1 - beta2) g
