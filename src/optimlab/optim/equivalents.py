"""The one table of library equivalents: each optimlab spelling and the call that equals it.

Every :class:`Row` names an optimlab spelling (a spec string for :func:`create`,
optionally with a schedule) and, for each of PyTorch (``torch.optim``,
``torch.optim.lr_scheduler``), Optax and Keras 3 (``keras.optimizers``,
``keras.optimizers.schedules``), either the :class:`Match` that reproduces it
or a :class:`NoMatch` giving the reason there is none.

The table is data only: nothing here imports a library. ``tests/test_oracle.py``
builds every library object from it and checks it step by step in float64
(:data:`TOL`, or the looser bound of a row whose library computes in float32,
with its cause); ``scripts/gen_docs.py`` writes the README's table and
``docs/conventions.md``'s tables from it, so the docs say what is tested.

Two kinds of rows:

* rule rows compare parameter trajectories (100 steps of random gradients);
* schedule rows (``horizon > 0``) compare the learning rate of steps
  ``1 .. 3 * horizon``. optimlab's ``schedule(t)`` is for the 1-based step
  ``t``; Optax's and Keras's schedules take the 0-based count ``t - 1``;
  PyTorch's scheduler holds the rate of step ``t`` after ``t - 1`` calls of
  ``scheduler.step()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

from . import schedules as _schedules
from .base import Schedule

__all__ = [
    "ADAPTATIONS",
    "LIBRARIES",
    "TABLE",
    "TOL",
    "Call",
    "Match",
    "NoMatch",
    "Row",
    "Sched",
    "row",
]

#: Relative bound in float64. Both sides do the same few float64 operations
#: per element and step in a slightly different order, so the trajectories
#: differ by a few ulp per step (observed <= 1e-14 over 100 steps); a wrong
#: constant, a swapped argument or an off-by-one in t shows as >= 1e-6.
TOL = 1e-12

#: Keras 3's ``CosineDecay`` on the JAX backend computes its cosine in float32
#: even with jax x64 and floatx float64 (``keras.ops.cos`` returns float32 for
#: a float64 input): its rates carry float32 rounding, 6e-8 relative (observed
#: 1.8e-7 on the rate, 3.5e-8 on an Adam trajectory).
KERAS_F32 = 1e-6
_KERAS_F32_CAUSE = "Keras's CosineDecay computes its cosine in float32 (eps 6e-8) even with jax x64"

#: AdamW at its defaults (η = 1e-3, λ = 0.01) moves W by only ~0.1 in 100
#: steps. optimlab and PyTorch multiply W by the rounded constant (1 − ηλ);
#: Optax and Keras subtract ηλW. The rounding of (1 − ηλ), up to 1.1e-16, is
#: the same every step, so the two differ by ~100 · 1.1e-16 · |W| (|W| up to
#: 4.5 here) against a displacement of ~0.1: observed 7e-13.
ADAMW_DECAY = 1e-11
_ADAMW_DECAY_CAUSE = (
    "W(1 − ηλ) vs W − ηλW: the rounding of the constant 1 − ηλ repeats every step, "
    "~100·1e-16·|W| against a displacement of ~0.1 (float64)"
)

LIBRARIES = ("torch", "optax", "keras")

#: Per-step adjustments a :class:`Match` may need, by key: what is done to the
#: library optimizer before step ``t``. The test harness implements each key.
ADAPTATIONS = {
    "book_eps": (
        "before step t set eps to ε/√(1−β₂ᵗ) (the book's ε on √v is the paper's "
        "ε/√(1−β₂ᵗ) on √v̂; Optax via `optax.inject_hyperparams`)"
    ),
    "paper_eps": (
        "before step t set `epsilon` to ε·√(1−β₂ᵗ) (the paper's ε on √v̂ is Keras's "
        "ε·√(1−β₂ᵗ) on √v)"
    ),
}


def _fmt(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "math.inf"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if isinstance(value, Call | Sched):
        return str(value)
    return repr(value)


@dataclass(frozen=True)
class Call:
    """A library function or class, written as a dotted name, with keyword arguments.

    Values are numbers, booleans, strings, tuples, lists, or nested calls (a
    schedule passed as a learning rate). A ``torch.optim.lr_scheduler`` call
    omits its first argument, the optimizer.
    """

    target: str
    args: tuple[tuple[str, Any], ...] = ()

    @property
    def lib(self) -> str:
        """``"torch"``, ``"optax"`` or ``"keras"``: the target's top-level package."""
        return self.target.partition(".")[0]

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)

    def __str__(self) -> str:
        return f"{self.target}({', '.join(f'{k}={_fmt(v)}' for k, v in self.args)})"


def call(target: str, **kwargs: Any) -> Call:
    """``Call(target, kwargs)`` keeping the keyword order as written."""
    return Call(target, tuple(kwargs.items()))


@dataclass(frozen=True)
class Sched:
    """An optimlab schedule by class name and arguments: printable and buildable."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def build(self) -> Schedule:
        """The schedule object (nested ``Sched`` arguments built too)."""
        cls: Callable[..., Schedule] = getattr(_schedules, self.name)
        kw = {k: v.build() if isinstance(v, Sched) else v for k, v in self.args}
        return cls(**kw)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={_fmt(v)}' for k, v in self.args)})"


def sched(name: str, **kwargs: Any) -> Sched:
    return Sched(name, tuple(kwargs.items()))


@dataclass(frozen=True)
class Match:
    """The library spelling equal to a row, with its tolerance and what it needs.

    ``scheduler`` is a ``torch.optim.lr_scheduler`` call wrapping ``call``;
    ``per_step`` a key of :data:`ADAPTATIONS`; ``needs`` a setting without
    which the library is further off (stated, and tested where it matters);
    ``tol`` the relative bound, ``tol_cause`` why it is above :data:`TOL`.
    """

    call: Call
    _: KW_ONLY
    scheduler: Call | None = None
    per_step: str | None = None
    needs: str = ""
    tol: float = TOL
    tol_cause: str = ""

    def __post_init__(self) -> None:
        if self.per_step is not None and self.per_step not in ADAPTATIONS:
            raise ValueError(f"unknown per_step {self.per_step!r}; valid: {sorted(ADAPTATIONS)}")
        if self.tol > TOL and not self.tol_cause:
            raise ValueError(f"{self.call}: a tolerance above {TOL:g} needs its cause")

    def describe(
        self,
        name: Callable[[str], str] = str,
        adaptations: Mapping[str, str] = ADAPTATIONS,
    ) -> str:
        """The call as the docs print it, with scheduler, adaptation and needs.

        ``name`` rewrites each printed call (e.g. drops the module prefix);
        ``adaptations`` gives the text of each ``per_step`` key.
        """
        text = f"`{name(str(self.call))}`"
        if self.scheduler is not None:
            text += f" + `{name(str(self.scheduler))}`"
        if self.per_step is not None:
            text += f"; {adaptations[self.per_step]}"
        if self.needs:
            text += f"; needs {self.needs}"
        return text


@dataclass(frozen=True)
class NoMatch:
    """Why a library has no equal spelling of a row."""

    reason: str

    def describe(self) -> str:
        return f"none: {self.reason}"


Entry = Match | NoMatch


@dataclass(frozen=True)
class Row:
    """One optimlab spelling and its equal in each library.

    ``id`` starts with the rule's registry name (schedule rows: the schedule's
    class name in lower case), e.g. ``adam-book``; test ids are
    ``<id>-<library>``. ``horizon > 0`` makes it a schedule row.
    """

    id: str
    spec: str
    _: KW_ONLY
    torch: Entry
    optax: Entry
    keras: Entry
    schedule: Sched | None = None
    horizon: int = 0
    note: str = ""

    @property
    def is_schedule(self) -> bool:
        return self.horizon > 0

    @property
    def rule(self) -> str:
        """The registry name of the rule (the spec's name)."""
        return self.spec.partition(":")[0]

    def entry(self, lib: str) -> Entry:
        entry: Entry = getattr(self, lib)
        return entry

    def spelling(self) -> str:
        """The optimlab spelling as the docs print it."""
        if self.is_schedule:
            assert self.schedule is not None
            return f"`{self.schedule}`"
        text = f'`create("{self.spec}")`'
        if self.schedule is not None:
            text += f" with `schedule={self.schedule}`"
        return text


row = Row


def _torch(name: str, **kw: Any) -> Call:
    return call(f"torch.optim.{name}", **kw)


def _lrs(name: str, **kw: Any) -> Call:
    return call(f"torch.optim.lr_scheduler.{name}", **kw)


def _optax(name: str, **kw: Any) -> Call:
    return call(f"optax.{name}", **kw)


def _keras(name: str, **kw: Any) -> Call:
    return call(f"keras.optimizers.{name}", **kw)


def _ks(name: str, **kw: Any) -> Call:
    return call(f"keras.optimizers.schedules.{name}", **kw)


# -- reasons shared by several rows -------------------------------------------
_NO_TORCH_LION = (
    "torch.optim has no Lion (the third-party pytorch-optimizer package has one; "
    "not an oracle here)"
)
_BUFFER_FORM = (
    "buffer form b ← μb + g, W ← W − ηₜb: a new ηₜ rescales the whole buffer, "
    "optimlab's velocity v ← μv − ηₜg only the new gradient (equal at constant lr)"
)
_EPS_IN_SQRT_ONLY = "ε inside the square root only: use eps_inside_sqrt=true"
_EPS_OUT_SQRT_ONLY = "ε outside the square root only"
_KERAS_BOOK_ADAM = "Keras's Adam is the book form only: use eps_form=book"
_OPTAX_AMSGRAD = (
    "max of the bias-corrected v̂ (use corrected_max=true); bias_correction_nu=False "
    "takes the raw max but then drops the correction from the step too"
)
_RAW_MAX = "keeps the max of the raw v only (corrected_max=false)"
_NADAM_TORCH_DTYPE = (
    "torch default dtype float64 (`torch.set_default_dtype(torch.float64)`): "
    "torch keeps NAdam's momentum product in the default dtype (5e-10 off in float32)"
)

B1, B2 = 0.85, 0.995  # not the defaults, so that a swapped or ignored beta shows
_TB = (B1, B2)
_TD = (0.9, 0.999)

_RULES: list[Row] = [
    # -- SGD ------------------------------------------------------------------
    row(
        "sgd-defaults",
        "sgd",
        torch=Match(_torch("SGD", lr=0.01)),
        optax=Match(_optax("sgd", learning_rate=0.01)),
        keras=Match(_keras("SGD", learning_rate=0.01)),
    ),
    row(
        "sgd-lr",
        "sgd:lr=0.1",
        torch=Match(_torch("SGD", lr=0.1)),
        optax=Match(_optax("sgd", learning_rate=0.1)),
        keras=Match(_keras("SGD", learning_rate=0.1)),
    ),
    # -- Momentum and Nesterov -------------------------------------------------
    row(
        "momentum-defaults",
        "momentum",
        torch=Match(_torch("SGD", lr=0.01, momentum=0.9)),
        optax=Match(_optax("sgd", learning_rate=0.01, momentum=0.9)),
        keras=Match(_keras("SGD", learning_rate=0.01, momentum=0.9)),
        note="velocity v = μv − ηg (book, Keras) = −η × PyTorch's and Optax's buffer",
    ),
    row(
        "momentum-custom",
        "momentum:lr=0.05,momentum=0.8",
        torch=Match(_torch("SGD", lr=0.05, momentum=0.8)),
        optax=Match(_optax("sgd", learning_rate=0.05, momentum=0.8)),
        keras=Match(_keras("SGD", learning_rate=0.05, momentum=0.8)),
    ),
    row(
        "momentum-schedule",
        "momentum:lr=0.05,momentum=0.8",
        schedule=sched("ExponentialDecay", gamma=0.97),
        torch=NoMatch(_BUFFER_FORM),
        optax=NoMatch(_BUFFER_FORM),
        keras=Match(
            _keras(
                "SGD",
                learning_rate=_ks(
                    "ExponentialDecay", initial_learning_rate=0.05, decay_steps=1, decay_rate=0.97
                ),
                momentum=0.8,
            ),
        ),
        note="under a schedule only Keras keeps the book's velocity form",
    ),
    row(
        "nesterov-defaults",
        "nesterov",
        torch=Match(_torch("SGD", lr=0.01, momentum=0.9, nesterov=True)),
        optax=Match(_optax("sgd", learning_rate=0.01, momentum=0.9, nesterov=True)),
        keras=Match(_keras("SGD", learning_rate=0.01, momentum=0.9, nesterov=True)),
        note="book form W ← W + μ²v − (1+μ)ηg, then v ← μv − ηg",
    ),
    row(
        "nesterov-custom",
        "nesterov:lr=0.05,momentum=0.8",
        torch=Match(_torch("SGD", lr=0.05, momentum=0.8, nesterov=True)),
        optax=Match(_optax("sgd", learning_rate=0.05, momentum=0.8, nesterov=True)),
        keras=Match(_keras("SGD", learning_rate=0.05, momentum=0.8, nesterov=True)),
    ),
    row(
        "nesterov-schedule",
        "nesterov:lr=0.05,momentum=0.8",
        schedule=sched("ExponentialDecay", gamma=0.97),
        torch=NoMatch(_BUFFER_FORM),
        optax=NoMatch(_BUFFER_FORM),
        keras=Match(
            _keras(
                "SGD",
                learning_rate=_ks(
                    "ExponentialDecay", initial_learning_rate=0.05, decay_steps=1, decay_rate=0.97
                ),
                momentum=0.8,
                nesterov=True,
            ),
        ),
    ),
    # -- AdaGrad ---------------------------------------------------------------
    row(
        "adagrad-defaults",
        "adagrad",
        torch=Match(_torch("Adagrad", lr=0.01, eps=1e-7)),
        optax=NoMatch(_EPS_IN_SQRT_ONLY + " and initial_accumulator_value"),
        keras=NoMatch(_EPS_IN_SQRT_ONLY + " and initial_accumulator_value"),
        note="h₀ = 0 and ε outside √ (book, PyTorch)",
    ),
    row(
        "adagrad-custom",
        "adagrad:lr=0.1,eps=1e-10,initial_accumulator_value=0.1",
        torch=Match(_torch("Adagrad", lr=0.1, eps=1e-10, initial_accumulator_value=0.1)),
        optax=NoMatch(_EPS_IN_SQRT_ONLY),
        keras=NoMatch(_EPS_IN_SQRT_ONLY),
    ),
    row(
        "adagrad-eps_inside_sqrt",
        "adagrad:lr=0.1,initial_accumulator_value=0.1,eps_inside_sqrt=true",
        torch=NoMatch(_EPS_OUT_SQRT_ONLY),
        optax=Match(_optax("adagrad", learning_rate=0.1, initial_accumulator_value=0.1, eps=1e-7)),
        keras=Match(
            _keras("Adagrad", learning_rate=0.1, initial_accumulator_value=0.1, epsilon=1e-7)
        ),
        note="Keras's and Optax's form: h₀ = 0.1, g/√(h + ε)",
    ),
    row(
        "adagrad-lr_decay",
        "adagrad:lr=0.1",
        schedule=sched("InverseTimeDecay", decay_rate=0.05),
        torch=Match(_torch("Adagrad", lr=0.1, eps=1e-7, lr_decay=0.05)),
        optax=NoMatch(_EPS_IN_SQRT_ONLY),
        keras=NoMatch(_EPS_IN_SQRT_ONLY),
        note="PyTorch's lr_decay r is schedule=InverseTimeDecay(r)",
    ),
    # -- RMSprop ---------------------------------------------------------------
    row(
        "rmsprop-defaults",
        "rmsprop",
        torch=Match(_torch("RMSprop", lr=0.01, alpha=0.99, eps=1e-7)),
        optax=Match(_optax("rmsprop", learning_rate=0.01, decay=0.99, eps=1e-7, eps_in_sqrt=False)),
        keras=NoMatch(_EPS_IN_SQRT_ONLY),
        note="ε outside √ (book, PyTorch)",
    ),
    row(
        "rmsprop-custom",
        "rmsprop:lr=0.02,decay_rate=0.9,eps=1e-8",
        torch=Match(_torch("RMSprop", lr=0.02, alpha=0.9, eps=1e-8)),
        optax=Match(_optax("rmsprop", learning_rate=0.02, decay=0.9, eps=1e-8, eps_in_sqrt=False)),
        keras=NoMatch(_EPS_IN_SQRT_ONLY),
    ),
    row(
        "rmsprop-centered",
        "rmsprop:lr=0.02,decay_rate=0.9,centered=true",
        torch=Match(_torch("RMSprop", lr=0.02, alpha=0.9, eps=1e-7, centered=True)),
        optax=Match(
            _optax(
                "rmsprop",
                learning_rate=0.02,
                decay=0.9,
                eps=1e-7,
                eps_in_sqrt=False,
                centered=True,
            )
        ),
        keras=NoMatch(_EPS_IN_SQRT_ONLY),
    ),
    row(
        "rmsprop-eps_inside_sqrt",
        "rmsprop:lr=0.02,decay_rate=0.9,eps_inside_sqrt=true",
        torch=NoMatch(_EPS_OUT_SQRT_ONLY),
        optax=Match(_optax("rmsprop", learning_rate=0.02, decay=0.9, eps=1e-7)),
        keras=Match(_keras("RMSprop", learning_rate=0.02, rho=0.9, epsilon=1e-7)),
        note="Keras's and Optax's (default) form g/√(h + ε)",
    ),
    row(
        "rmsprop-centered-eps_inside_sqrt",
        "rmsprop:lr=0.02,decay_rate=0.9,centered=true,eps_inside_sqrt=true",
        torch=NoMatch(_EPS_OUT_SQRT_ONLY),
        optax=Match(_optax("rmsprop", learning_rate=0.02, decay=0.9, eps=1e-7, centered=True)),
        keras=Match(_keras("RMSprop", learning_rate=0.02, rho=0.9, epsilon=1e-7, centered=True)),
    ),
    # -- Adam, AMSGrad, AdamW ----------------------------------------------------
    row(
        "adam-defaults",
        "adam",
        torch=Match(_torch("Adam", lr=0.001, betas=_TD, eps=1e-7), per_step="book_eps"),
        optax=Match(
            _optax("adam", learning_rate=0.001, b1=0.9, b2=0.999, eps=1e-7), per_step="book_eps"
        ),
        keras=Match(_keras("Adam", learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
        note="book form ηₜ = η√(1−β₂ᵗ)/(1−β₁ᵗ), W ← W − ηₜm/(√v + ε) (= Keras)",
    ),
    row(
        "adam-book",
        "adam:lr=0.01,beta1=0.85,beta2=0.995",
        torch=Match(_torch("Adam", lr=0.01, betas=_TB, eps=1e-7), per_step="book_eps"),
        optax=Match(
            _optax("adam", learning_rate=0.01, b1=B1, b2=B2, eps=1e-7), per_step="book_eps"
        ),
        keras=Match(_keras("Adam", learning_rate=0.01, beta_1=B1, beta_2=B2, epsilon=1e-7)),
    ),
    row(
        "adam-paper",
        "adam:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08,eps_form=paper",
        torch=Match(_torch("Adam", lr=0.01, betas=_TB, eps=1e-8)),
        optax=Match(_optax("adam", learning_rate=0.01, b1=B1, b2=B2, eps=1e-8)),
        keras=Match(
            _keras("Adam", learning_rate=0.01, beta_1=B1, beta_2=B2, epsilon=1e-8),
            per_step="paper_eps",
        ),
        note="paper form W ← W − η m̂/(√v̂ + ε) (= PyTorch, Optax)",
    ),
    row(
        "adam-book-cosine",
        "adam:lr=0.01,beta1=0.85,beta2=0.995",
        schedule=sched("CosineDecay", total_steps=40, final_factor=0.1),
        torch=Match(
            _torch("Adam", lr=0.01, betas=_TB, eps=1e-7),
            scheduler=_lrs(
                "SequentialLR",
                schedulers=[
                    _lrs("CosineAnnealingLR", T_max=40, eta_min=0.001),
                    _lrs("ConstantLR", factor=0.1, total_iters=10**9),
                ],
                milestones=[40],
            ),
            per_step="book_eps",
        ),
        optax=Match(
            _optax(
                "adam",
                learning_rate=_optax(
                    "cosine_decay_schedule", init_value=0.01, decay_steps=40, alpha=0.1
                ),
                b1=B1,
                b2=B2,
                eps=1e-7,
            ),
            per_step="book_eps",
        ),
        keras=Match(
            _keras(
                "Adam",
                learning_rate=_ks(
                    "CosineDecay", initial_learning_rate=0.01, decay_steps=40, alpha=0.1
                ),
                beta_1=B1,
                beta_2=B2,
                epsilon=1e-7,
            ),
            tol=KERAS_F32,
            tol_cause=_KERAS_F32_CAUSE,
        ),
        note="a schedule inside a rule: 100 steps, the cosine ends at step 41",
    ),
    row(
        "amsgrad-defaults",
        "amsgrad",
        torch=Match(
            _torch("Adam", lr=0.001, betas=_TD, eps=1e-7, amsgrad=True), per_step="book_eps"
        ),
        optax=NoMatch(_OPTAX_AMSGRAD),
        keras=Match(
            _keras(
                "Adam", learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=True
            )
        ),
        note="max of the raw v (PyTorch, Keras)",
    ),
    row(
        "amsgrad-paper",
        "amsgrad:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08,eps_form=paper",
        torch=Match(_torch("Adam", lr=0.01, betas=_TB, eps=1e-8, amsgrad=True)),
        optax=NoMatch(_OPTAX_AMSGRAD),
        keras=Match(
            _keras("Adam", learning_rate=0.01, beta_1=B1, beta_2=B2, epsilon=1e-8, amsgrad=True),
            per_step="paper_eps",
        ),
    ),
    row(
        "amsgrad-corrected_max",
        "amsgrad:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08,eps_form=paper,corrected_max=true",
        torch=NoMatch(_RAW_MAX),
        optax=Match(_optax("amsgrad", learning_rate=0.01, b1=B1, b2=B2, eps=1e-8)),
        keras=NoMatch(_RAW_MAX),
        note="Optax's amsgrad (default): the max of the bias-corrected v̂",
    ),
    row(
        "adam-amsgrad-corrected_max",
        "adam:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08,eps_form=paper,amsgrad=true,corrected_max=true",
        torch=NoMatch(_RAW_MAX),
        optax=Match(_optax("amsgrad", learning_rate=0.01, b1=B1, b2=B2, eps=1e-8)),
        keras=NoMatch(_RAW_MAX),
    ),
    row(
        "adamw-defaults",
        "adamw",
        torch=Match(
            _torch("AdamW", lr=0.001, betas=_TD, eps=1e-7, weight_decay=0.01), per_step="book_eps"
        ),
        optax=Match(
            _optax("adamw", learning_rate=0.001, b1=0.9, b2=0.999, eps=1e-7, weight_decay=0.01),
            per_step="book_eps",
            tol=ADAMW_DECAY,
            tol_cause=_ADAMW_DECAY_CAUSE,
        ),
        keras=Match(
            _keras(
                "AdamW",
                learning_rate=0.001,
                weight_decay=0.01,
                beta_1=0.9,
                beta_2=0.999,
                epsilon=1e-7,
            ),
            tol=ADAMW_DECAY,
            tol_cause=_ADAMW_DECAY_CAUSE,
        ),
        note="W ← W(1 − ηλ), then the Adam step",
    ),
    row(
        "adamw-paper",
        "adamw:lr=0.01,beta1=0.85,beta2=0.995,weight_decay=0.5,eps=1e-08,eps_form=paper",
        torch=Match(_torch("AdamW", lr=0.01, betas=_TB, eps=1e-8, weight_decay=0.5)),
        optax=Match(_optax("adamw", learning_rate=0.01, b1=B1, b2=B2, eps=1e-8, weight_decay=0.5)),
        keras=Match(
            _keras(
                "AdamW", learning_rate=0.01, weight_decay=0.5, beta_1=B1, beta_2=B2, epsilon=1e-8
            ),
            per_step="paper_eps",
        ),
    ),
    # -- NAdam -----------------------------------------------------------------
    row(
        "nadam-defaults",
        "nadam",
        torch=Match(
            _torch("NAdam", lr=0.002, betas=_TD, eps=1e-7, momentum_decay=0.004),
            needs=_NADAM_TORCH_DTYPE,
        ),
        optax=NoMatch("μₜ = β₁ only: use momentum_decay=inf"),
        keras=NoMatch("0.96ᵗ hard-coded: use momentum_decay=1.0"),
        note="μₜ = β₁(1 − ½·0.96^(tψ)), ψ = momentum_decay (PyTorch)",
    ),
    row(
        "nadam-custom",
        "nadam:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08,momentum_decay=0.01",
        torch=Match(
            _torch("NAdam", lr=0.01, betas=_TB, eps=1e-8, momentum_decay=0.01),
            needs=_NADAM_TORCH_DTYPE,
        ),
        optax=NoMatch("μₜ = β₁ only: use momentum_decay=inf"),
        keras=NoMatch("0.96ᵗ hard-coded: use momentum_decay=1.0"),
    ),
    row(
        "nadam-keras",
        "nadam:lr=0.01,beta1=0.85,beta2=0.995,momentum_decay=1.0",
        torch=Match(
            _torch("NAdam", lr=0.01, betas=_TB, eps=1e-7, momentum_decay=1.0),
            needs=_NADAM_TORCH_DTYPE,
        ),
        optax=NoMatch("μₜ = β₁ only: use momentum_decay=inf"),
        keras=Match(_keras("Nadam", learning_rate=0.01, beta_1=B1, beta_2=B2, epsilon=1e-7)),
        note="Keras's Nadam: μₜ = β₁(1 − ½·0.96ᵗ), i.e. momentum_decay=1.0",
    ),
    row(
        "nadam-optax",
        "nadam:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08,momentum_decay=inf",
        torch=Match(
            _torch("NAdam", lr=0.01, betas=_TB, eps=1e-8, momentum_decay=math.inf),
            needs=_NADAM_TORCH_DTYPE,
        ),
        optax=Match(_optax("nadam", learning_rate=0.01, b1=B1, b2=B2, eps=1e-8)),
        keras=NoMatch("0.96ᵗ hard-coded: use momentum_decay=1.0"),
        note="Optax's nadam: constant μₜ = β₁, i.e. momentum_decay=inf",
    ),
    # -- Adamax ----------------------------------------------------------------
    row(
        "adamax-defaults",
        "adamax",
        torch=Match(_torch("Adamax", lr=0.002, betas=_TD, eps=1e-7)),
        optax=Match(_optax("adamax", learning_rate=0.002, b1=0.9, b2=0.999, eps=1e-7)),
        keras=NoMatch("ε outside the max: use eps_inside_max=false"),
        note="u ← max(β₂u, |g| + ε) (PyTorch, Optax)",
    ),
    row(
        "adamax-custom",
        "adamax:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08",
        torch=Match(_torch("Adamax", lr=0.01, betas=_TB, eps=1e-8)),
        optax=Match(_optax("adamax", learning_rate=0.01, b1=B1, b2=B2, eps=1e-8)),
        keras=NoMatch("ε outside the max: use eps_inside_max=false"),
    ),
    row(
        "adamax-eps_inside_max",
        "adamax:lr=0.01,beta1=0.85,beta2=0.995,eps_inside_max=false",
        torch=NoMatch("ε inside the max only"),
        optax=NoMatch("ε inside the max only"),
        keras=Match(_keras("Adamax", learning_rate=0.01, beta_1=B1, beta_2=B2, epsilon=1e-7)),
        note="Keras's form u ← max(β₂u, |g|), W ← W − η m/((1−β₁ᵗ)(u + ε))",
    ),
    # -- Adadelta --------------------------------------------------------------
    row(
        "adadelta-defaults",
        "adadelta",
        torch=Match(_torch("Adadelta", lr=1.0, rho=0.9, eps=1e-6)),
        optax=Match(_optax("adadelta", learning_rate=1.0, rho=0.9, eps=1e-6)),
        keras=Match(_keras("Adadelta", learning_rate=1.0, rho=0.9, epsilon=1e-6)),
        note=(
            "Optax needs learning_rate=1.0 (its default None skips the sign flip: ascent); "
            "Keras's defaults are lr 0.001, ρ 0.95, ε 1e-7"
        ),
    ),
    row(
        "adadelta-custom",
        "adadelta:lr=0.5,rho=0.8,eps=1e-05",
        torch=Match(_torch("Adadelta", lr=0.5, rho=0.8, eps=1e-5)),
        optax=Match(_optax("adadelta", learning_rate=0.5, rho=0.8, eps=1e-5)),
        keras=Match(_keras("Adadelta", learning_rate=0.5, rho=0.8, epsilon=1e-5)),
    ),
    # -- Lion ------------------------------------------------------------------
    row(
        "lion-defaults",
        "lion",
        torch=NoMatch(_NO_TORCH_LION),
        optax=Match(_optax("lion", learning_rate=1e-4, b1=0.9, b2=0.99, weight_decay=0.0)),
        keras=Match(_keras("Lion", learning_rate=1e-4, beta_1=0.9, beta_2=0.99)),
        note="Optax's default weight_decay is 1e-3: pass 0.0",
    ),
    row(
        "lion-custom",
        "lion:lr=0.01,beta1=0.85,beta2=0.995,weight_decay=0.5",
        torch=NoMatch(_NO_TORCH_LION),
        optax=Match(_optax("lion", learning_rate=0.01, b1=B1, b2=B2, weight_decay=0.5)),
        keras=Match(_keras("Lion", learning_rate=0.01, beta_1=B1, beta_2=B2, weight_decay=0.5)),
    ),
]

LR = 0.5  # base learning rate of the schedule rows
_W, _T, _F = 5, 20, 0.1  # warm-up steps, cosine steps, final factor

_SCHEDULES: list[Row] = [
    row(
        "stepdecay",
        f"sgd:lr={LR}",
        schedule=sched("StepDecay", step_size=10, gamma=0.5),
        horizon=10,
        torch=Match(_torch("SGD", lr=LR), scheduler=_lrs("StepLR", step_size=10, gamma=0.5)),
        optax=Match(
            _optax(
                "exponential_decay",
                init_value=LR,
                transition_steps=10,
                decay_rate=0.5,
                staircase=True,
            )
        ),
        keras=Match(
            _ks(
                "ExponentialDecay",
                initial_learning_rate=LR,
                decay_steps=10,
                decay_rate=0.5,
                staircase=True,
            ),
        ),
    ),
    row(
        "exponentialdecay",
        f"sgd:lr={LR}",
        schedule=sched("ExponentialDecay", gamma=0.9),
        horizon=20,
        torch=Match(_torch("SGD", lr=LR), scheduler=_lrs("ExponentialLR", gamma=0.9)),
        optax=Match(_optax("exponential_decay", init_value=LR, transition_steps=1, decay_rate=0.9)),
        keras=Match(
            _ks("ExponentialDecay", initial_learning_rate=LR, decay_steps=1, decay_rate=0.9),
        ),
    ),
    row(
        "inversetimedecay",
        f"sgd:lr={LR}",
        schedule=sched("InverseTimeDecay", decay_rate=0.5, decay_steps=10),
        horizon=10,
        torch=NoMatch("no scheduler (Adagrad's lr_decay is the case decay_steps=1)"),
        optax=NoMatch("no inverse-time schedule"),
        keras=Match(
            _ks("InverseTimeDecay", initial_learning_rate=LR, decay_steps=10, decay_rate=0.5),
        ),
    ),
    row(
        "cosinedecay",
        f"sgd:lr={LR}",
        schedule=sched("CosineDecay", total_steps=_T, final_factor=_F),
        horizon=_T,
        torch=Match(
            _torch("SGD", lr=LR),
            scheduler=_lrs(
                "SequentialLR",
                schedulers=[
                    _lrs("CosineAnnealingLR", T_max=_T, eta_min=_F * LR),
                    _lrs("ConstantLR", factor=_F, total_iters=10**9),
                ],
                milestones=[_T],
            ),
        ),
        optax=Match(_optax("cosine_decay_schedule", init_value=LR, decay_steps=_T, alpha=_F)),
        keras=Match(
            _ks("CosineDecay", initial_learning_rate=LR, decay_steps=_T, alpha=_F),
            tol=KERAS_F32,
            tol_cause=_KERAS_F32_CAUSE,
        ),
        note=(
            "CosineAnnealingLR alone equals it only up to step T + 1: after T "
            "PyTorch's curve rises again (a cosine of period 2T)"
        ),
    ),
    row(
        "linearwarmup",
        f"sgd:lr={LR}",
        schedule=sched("LinearWarmup", warmup_steps=_W),
        horizon=_W,
        torch=Match(
            _torch("SGD", lr=LR),
            scheduler=_lrs("LinearLR", start_factor=1 / _W, end_factor=1.0, total_iters=_W - 1),
        ),
        optax=Match(
            _optax("linear_schedule", init_value=LR / _W, end_value=LR, transition_steps=_W - 1)
        ),
        keras=Match(
            _ks(
                "PolynomialDecay",
                initial_learning_rate=LR / _W,
                decay_steps=_W - 1,
                end_learning_rate=LR,
                power=1.0,
            ),
        ),
        note=(
            "step t uses t/w: one step ahead of Optax's and Keras's usual warm-ups "
            "from 0 (`linear_schedule(0, lr, w)`, `warmup_cosine_decay_schedule`, "
            "`CosineDecay(warmup_steps=w)`), whose first step uses 0"
        ),
    ),
    row(
        "linearwarmup-cosine",
        f"sgd:lr={LR}",
        schedule=sched(
            "LinearWarmup",
            warmup_steps=_W,
            then=sched("CosineDecay", total_steps=_T, final_factor=_F),
        ),
        horizon=_W + _T,
        torch=Match(
            _torch("SGD", lr=LR),
            scheduler=_lrs(
                "SequentialLR",
                schedulers=[
                    _lrs("LinearLR", start_factor=1 / _W, end_factor=1.0, total_iters=_W - 1),
                    _lrs("CosineAnnealingLR", T_max=_T, eta_min=_F * LR),
                    _lrs("ConstantLR", factor=_F, total_iters=10**9),
                ],
                milestones=[_W, _W + _T],
            ),
        ),
        optax=Match(
            _optax(
                "join_schedules",
                schedules=[
                    _optax(
                        "linear_schedule",
                        init_value=LR / _W,
                        end_value=LR,
                        transition_steps=_W - 1,
                    ),
                    _optax("cosine_decay_schedule", init_value=LR, decay_steps=_T, alpha=_F),
                ],
                boundaries=[_W],
            )
        ),
        keras=NoMatch(
            "CosineDecay's warm-up starts at initial_learning_rate at count 0, one step "
            "behind; no schedule joins two"
        ),
    ),
]

#: The table: rule rows, then schedule rows.
TABLE: tuple[Row, ...] = (*_RULES, *_SCHEDULES)
