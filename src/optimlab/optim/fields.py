"""Declarations a rule is made of: hyperparameters, state arrays, scalar state.

A rule declares each hyperparameter once, as a dataclass field made by
:func:`hyper` with its default, its :class:`Check` and a one-line doc::

    beta1: float = hyper(0.9, UNIT, "decay of the first moment (beta_1)")

and each per-parameter state dict once, by :func:`state`::

    m: StateDict = state("first moment, one array per parameter key")

The constructor, its validation, ``repr``, ``hyperparameters()``,
``state_dict``, the registry's options and spec parsing all read these
declarations (:mod:`optimlab.optim.base`, :mod:`optimlab.optim.registry`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = [
    "FLAG",
    "NONNEG",
    "NONNEG_OR_INF",
    "POSITIVE",
    "UNIT",
    "Check",
    "Hyper",
    "ScalarState",
    "StateDict",
    "StateSpec",
    "check_range",
    "choice",
    "describe",
    "fixed",
    "hyper",
    "hypers_of",
    "scalar_state",
    "scalar_states_of",
    "state",
    "states_of",
]

#: One state array per parameter key, e.g. ``opt.m["W1"]``.
StateDict = dict[str, np.ndarray]


def check_range(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = True,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming it and the valid range.

    NaN is never valid; ``+inf`` only with ``allow_inf`` (and no ``high``).
    """
    valid = _interval(low, high, low_open, high_open or allow_inf, allow_inf)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number in {valid}, got {value!r}")
    v = float(value)
    bad = math.isnan(v) or (math.isinf(v) and not (allow_inf and v > 0))
    if low is not None:
        bad |= v <= low if low_open else v < low
    if high is not None:
        bad |= v >= high if high_open else v > high
    if bad:
        raise ValueError(f"{name} must be in {valid}, got {value!r}")
    return v


def _interval(
    low: float | None, high: float | None, low_open: bool, high_open: bool, allow_inf: bool
) -> str:
    lo_b = "(" if low_open else "["
    hi_b = "]" if allow_inf else (")" if high_open else "]")
    return f"{lo_b}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_b}"


@dataclass(frozen=True)
class Check:
    """What values a hyperparameter takes: a real range, a flag, or a choice of words.

    ``check(name, value)`` returns the value normalised (a float, a bool, a
    word) or raises ``ValueError`` naming the field; ``parse(name, text)``
    does the same from the text of a spec string (``"true"``, ``"1e-8"``,
    ``"inf"``, ``"paper"``).
    """

    kind: Literal["real", "flag", "choice"]
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = True
    allow_inf: bool = False
    words: tuple[str, ...] = ()

    @property
    def valid(self) -> str:
        """What is valid, in words (used in messages and docstrings)."""
        if self.kind == "flag":
            return "true or false"
        if self.kind == "choice":
            return " or ".join(repr(w) for w in self.words)
        return "in " + _interval(self.low, self.high, self.low_open, self.high_open, self.allow_inf)

    def __call__(self, name: str, value: Any) -> Any:
        if self.kind == "real":
            return check_range(
                name,
                value,
                low=self.low,
                high=self.high,
                low_open=self.low_open,
                high_open=self.high_open,
                allow_inf=self.allow_inf,
            )
        if self.kind == "flag":
            if isinstance(value, bool | np.bool_) or (
                isinstance(value, numbers.Integral) and value in (0, 1)
            ):
                return bool(value)
            raise ValueError(f"{name} must be true or false, got {value!r}")
        if value not in self.words:
            raise ValueError(f"{name} must be {self.valid}, got {value!r}")
        return value

    def parse(self, name: str, text: str) -> Any:
        """The value written as ``text`` in a spec, checked."""
        word = text.strip()
        if self.kind == "flag":
            low = word.lower()
            if low in ("true", "yes", "on"):
                return True
            if low in ("false", "no", "off"):
                return False
            raise ValueError(f"{name} must be true or false, got {text!r}")
        if self.kind == "choice":
            return self(name, word)
        try:
            number = float(word)
        except ValueError:
            raise ValueError(f"{name} must be a number {self.valid}, got {text!r}") from None
        return self(name, number)


def choice(*words: str) -> Check:
    """A hyperparameter that is one of ``words``."""
    return Check("choice", words=words)


POSITIVE = Check("real", low=0.0, low_open=True)  # (0, inf): learning rates
UNIT = Check("real", low=0.0, high=1.0)  # [0, 1): betas, rho, momentum
NONNEG = Check("real", low=0.0)  # [0, inf): eps, weight decay, initial values
NONNEG_OR_INF = Check("real", low=0.0, allow_inf=True)  # [0, inf]: NAdam's momentum_decay
FLAG = Check("flag")


@dataclass(frozen=True)
class Hyper:
    """A hyperparameter's check and doc (stored in its field's metadata).

    ``quiet``: left out of :func:`~optimlab.optim.registry.spec_of` while at its
    default. Options added after specs were first recorded are quiet, so a
    spec written before they existed (and a sweep's run id hashed from it)
    stays the same.
    """

    check: Check
    doc: str
    quiet: bool = False


@dataclass(frozen=True)
class StateSpec:
    """A per-parameter state dict: its doc, when it exists, and its initial value.

    ``when`` names a flag hyperparameter: the state exists only when it is
    true (e.g. AMSGrad's ``v_max`` when ``amsgrad``). ``initial`` names the
    hyperparameter whose value fills new arrays (default: zeros). ``nonneg``
    marks a second moment or accumulator: a loaded state with a negative
    (or NaN) entry is refused, as it would make the square root NaN.
    """

    doc: str
    when: str | None = None
    initial: str | None = None
    nonneg: bool = False


@dataclass(frozen=True)
class ScalarState:
    """A float carried from step to step besides ``t`` (e.g. NAdam's running product)."""

    check: Check
    doc: str
    default: float


def hyper(default: Any, check: Check, doc: str, *, quiet: bool = False) -> Any:
    """A hyperparameter field: ``beta1: float = hyper(0.9, UNIT, "...")``."""
    return dataclasses.field(default=default, metadata={"hyper": Hyper(check, doc, quiet)})


def fixed(value: Any, doc: str, *, init: Literal[False] = False) -> Any:
    """A hyperparameter that a variant fixes: not a constructor argument, not in its spec.

    ``amsgrad: bool = fixed(True, "AMSGrad is Adam with amsgrad=True")``.
    """
    return dataclasses.field(default=value, init=init, metadata={"fixed": doc})


def state(
    doc: str,
    *,
    when: str | None = None,
    initial: str | None = None,
    nonneg: bool = False,
    init: Literal[False] = False,
) -> Any:
    """A per-parameter state dict: ``m: StateDict = state("first moment")``.

    Empty before the first update (the book's attribute is ``None`` then).
    """
    spec = StateSpec(doc, when, initial, nonneg)
    return dataclasses.field(init=init, default_factory=dict, metadata={"state": spec})


def scalar_state(default: float, check: Check, doc: str, *, init: Literal[False] = False) -> Any:
    """A scalar carried between steps, saved in ``state_dict()["extra"]``."""
    return dataclasses.field(
        init=init, default=default, metadata={"scalar": ScalarState(check, doc, default)}
    )


def _fields_with(cls: type, key: str) -> Iterator[tuple[str, Any]]:
    for f in dataclasses.fields(cls):
        if key in f.metadata:
            yield f.name, f.metadata[key]


def hypers_of(cls: type) -> dict[str, tuple[Any, Hyper]]:
    """The constructor's hyperparameters of rule ``cls``, in order: ``{name: (default, Hyper)}``."""
    return {
        f.name: (f.default, f.metadata["hyper"])
        for f in dataclasses.fields(cls)
        if "hyper" in f.metadata and f.init
    }


def states_of(cls: type) -> dict[str, StateSpec]:
    """The per-parameter state dicts rule ``cls`` declares, in order."""
    return dict(_fields_with(cls, "state"))


def scalar_states_of(cls: type) -> dict[str, ScalarState]:
    """The scalar states rule ``cls`` declares."""
    return dict(_fields_with(cls, "scalar"))


def describe(cls: type) -> str:
    """A numpydoc ``Parameters`` section generated from the declarations of ``cls``."""
    lines = ["Parameters", "----------"]
    for name, (default, h) in hypers_of(cls).items():
        lines += [f"{name} : default {default!r}", f"    {h.doc}; {h.check.valid}."]
    lines += ["schedule : callable, optional", "    ``schedule(t) -> factor`` of ``lr``."]
    if states_of(cls):
        lines += ["", "State (dicts of arrays by parameter key)", "-" * 40]
        for name, s in states_of(cls).items():
            when = f" (only with ``{s.when}``)" if s.when else ""
            lines.append(f"{name} : {s.doc}{when}")
    return "\n".join(lines)
