"""The machinery every update rule shares: construction, checks, state, chunking, save/load.

A rule is a subclass of :class:`Optimizer` that declares its hyperparameters
and state as fields (:mod:`optimlab.optim.fields`), names its step's scalars
in a small record computed once per update (``_step_scalars``), and writes
one in-place step over the arrays of one parameter (``_step``). Nothing else:
the constructor, validation, ``repr``, ``hyperparameters()`` and ``state_dict``
come from the declarations, and the book-compatible ``update(params, grads)``,
the fast engine and the sweeps all go through that one ``_step``, so each
formula is written once.

Large arrays are stepped in cache-sized chunks so that the temporaries of a
step stay in cache; a chunk is a contiguous slice, and every rule here is
elementwise, so chunking changes no result bit.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import KW_ONLY
from typing import Any, ClassVar, NamedTuple, dataclass_transform

import numpy as np

from . import checks
from .fields import (
    POSITIVE,
    Hyper,
    ScalarState,
    StateDict,
    StateSpec,
    check_range,
    describe,
    fixed,
    hypers_of,
    scalar_state,
    scalar_states_of,
    state,
    states_of,
)
from .saving import state_from_arrays, state_to_arrays

__all__ = [
    "Optimizer",
    "Schedule",
    "Step",
    "check_range",
    "state_from_arrays",
    "state_to_arrays",
]

#: Elements per chunk: 32768 float32 values are 128 KiB per array, so the
#: parameter, gradient, two state arrays and two temporaries fit in L2.
CHUNK = 1 << 15

Schedule = Callable[[int], float]


class Step(NamedTuple):
    """The scalars of one step, computed once per update: here only the scheduled ``lr``.

    Rules that need more (bias corrections, NAdam's coefficients) define
    their own record with ``lr`` first, so ``c.lr`` (or ``c[0]``) is always it.
    """

    lr: float


@dataclass_transform(
    eq_default=False, field_specifiers=(dataclasses.field, state, scalar_state, fixed)
)
@dataclasses.dataclass(eq=False, repr=False)
class Optimizer:
    """Base class of the update rules; book-compatible ``update(params, grads)``.

    Subclasses are dataclasses (made so when they are defined): declare
    ``lr`` with the rule's default and the other hyperparameters with
    :func:`~optimlab.optim.fields.hyper`, state dicts with
    :func:`~optimlab.optim.fields.state`.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\\eta` (> 0).
    schedule : callable, optional
        ``schedule(t) -> factor``; the step ``t`` (1-based) uses
        ``lr * schedule(t)``. See :mod:`optimlab.optim.schedules`.
    """

    #: registry name, e.g. ``"adam"``
    name: ClassVar[str] = ""
    #: how many scratch arrays ``_step`` needs
    n_scratch: ClassVar[int] = 1
    _hypers: ClassVar[dict[str, tuple[Any, Hyper]]] = {}
    _states: ClassVar[dict[str, StateSpec]] = {}
    _scalar_states: ClassVar[dict[str, ScalarState]] = {}

    lr: float = dataclasses.field(metadata={"hyper": Hyper(POSITIVE, "learning rate eta")})
    _: KW_ONLY
    schedule: Schedule | None = None
    #: steps taken so far (the book's Adam calls it ``iter``)
    t: int = dataclasses.field(init=False, default=0)
    _scratch: dict[np.dtype, list[np.ndarray]] = dataclasses.field(init=False, default_factory=dict)
    _active: tuple[str, ...] = dataclasses.field(init=False, default=())

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls, eq=False, repr=False)
        _declare(cls)

    def __post_init__(self) -> None:
        for key, (_, h) in self._hypers.items():
            setattr(self, key, h.check(key, getattr(self, key)))
        if self.schedule is not None and not callable(self.schedule):
            raise ValueError(
                f"schedule must be callable as schedule(t) -> float, got {self.schedule!r}"
            )
        self._check()
        self._active = tuple(
            k for k, s in self._states.items() if s.when is None or getattr(self, s.when)
        )

    def _check(self) -> None:
        """Checks across hyperparameters (each one alone is checked by its declaration)."""

    # -- what a rule defines -------------------------------------------------
    def _step_scalars(self, lr: float, t: int) -> Any:
        """The named scalars of step ``t`` at learning rate ``lr`` (pure: changes nothing).

        A rule with scalar state returns its new values under the same names;
        :meth:`update` stores them.
        """
        return Step(lr)

    def _step(
        self, w: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], c: Any, tmp: list[np.ndarray]
    ) -> None:
        """One in-place step of parameter array ``w`` with gradient ``g``.

        ``s`` holds the parameter's state arrays by name (``s["m"]``), ``c``
        the step's scalars, ``tmp`` ``n_scratch`` scratch arrays of ``w``'s shape.
        """
        raise NotImplementedError

    # -- the book-compatible API -------------------------------------------
    def hyperparameters(self) -> dict[str, Any]:
        """The constructor arguments that define this rule (for records, specs and ``repr``)."""
        return {key: getattr(self, key) for key in self._hypers}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the state dicts kept, e.g. ``("m", "v")`` (set at construction)."""
        return self._active

    def current_lr(self, t: int | None = None) -> float:
        """Learning rate used at step ``t`` (default: the step about to be taken).

        Raises ``ValueError`` naming the schedule and the step when the
        schedule's factor is not a finite number >= 0.
        """
        t = self.t + 1 if t is None else t
        if self.schedule is None:
            return self.lr
        return self.lr * checks.schedule_factor(self.schedule, t)

    def update(self, params: MutableMapping[str, Any], grads: Mapping[str, Any]) -> None:
        """Update ``params`` in place from ``grads`` (dicts with the same keys and shapes).

        Arrays are modified in place (a network's layers share them); Python
        scalars, as in the book's 2-D example, are replaced by updated floats.
        A parameter must be a floating-point NumPy array or a float: a Python
        list is refused (it could not be updated in place). A gradient may be
        any array-like of real numbers (complex, object and text are refused).
        Everything is checked before anything is written, the schedule's rate
        included: on ``ValueError`` (naming the key, or the schedule and the
        step) params, state and ``t`` are as they were.
        """
        checks.params_and_grads(type(self).__name__, params, grads)
        if not self._state_missing():
            checks.state_fits(type(self).__name__, self._state_view(), params)
        c = self._begin_step()
        if self._state_missing():
            self._create_state(params)
        for key in params:
            w = params[key]
            g = np.asarray(grads[key])
            if isinstance(w, np.ndarray) and w.ndim > 0:
                self._apply(w, g, self._state_of(key), c)
                continue
            w0 = _as_float_array(w).copy()  # a 0-d array, NumPy or Python scalar
            self._apply(w0, g, self._state_of(key), c)
            if isinstance(w, np.ndarray):
                w[...] = w0
            elif isinstance(w, np.generic):
                params[key] = w0[()]
            else:
                params[key] = float(w0)

    def step_arrays(self, items: Iterable[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """Fast path for engines: ``(key, w, g)`` triples of arrays, no validation.

        Same formulas and state as :meth:`update`; the caller guarantees that
        shapes match. Used by :mod:`optimlab.engine` on flat parameter buffers.
        """
        items = list(items)
        c = self._begin_step()
        if self._state_missing():
            self._create_state({k: w for k, w, _ in items})
        for key, w, g in items:
            self._apply(w, g, self._state_of(key), c)

    def _begin_step(self) -> Any:
        """Count the step and return its scalars, storing the rule's new scalar state.

        The scheduled rate is checked first, so a bad schedule changes nothing.
        """
        lr = self.current_lr(self.t + 1)
        c = self._step_scalars(lr, self.t + 1)
        self.t += 1
        for key in self._scalar_states:
            setattr(self, key, getattr(c, key))
        return c

    # -- state -------------------------------------------------------------
    def _state_view(self) -> dict[str, StateDict]:
        return {s: getattr(self, s) for s in self.state_names}

    def _state_missing(self) -> bool:
        names = self.state_names
        return bool(names) and not getattr(self, names[0])

    def _create_state(self, params: Mapping[str, Any]) -> None:
        for s in self.state_names:
            init = self._states[s].initial
            fill = 0.0 if init is None else getattr(self, init)
            d: StateDict = {
                key: np.full_like(_as_float_array(w), fill) for key, w in params.items()
            }
            setattr(self, s, d)

    def _state_of(self, key: str) -> dict[str, np.ndarray]:
        return {s: getattr(self, s)[key] for s in self.state_names}

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of everything needed to continue bit for bit.

        Returns ``{"name", "hyperparameters", "t", "state": {name: {key: array}}, "extra"}``;
        a state not created yet is ``None``. The arrays are copies: saving
        then continuing does not alias them.
        """
        state = {
            s: {k: np.array(v, copy=True) for k, v in d.items()} if d else None
            for s, d in self._state_view().items()
        }
        return {
            "name": self.name,
            "hyperparameters": self.hyperparameters(),
            "t": self.t,
            "state": state,
            "extra": {key: getattr(self, key) for key in self._scalar_states},
        }

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (arrays are copied in).

        Everything is checked before anything is changed: on ``ValueError`` the
        optimizer is as it was. The hyperparameters are those of ``self``, not
        of ``sd`` (construct the optimizer with the saved ones to continue
        exactly; a different ``lr`` is how one changes it mid-run).
        """
        t, new, extra = checks.loaded_state(
            sd, self.name, {s: self._states[s] for s in self.state_names}, self._scalar_states
        )
        self.t = t
        for key, value in extra.items():
            setattr(self, key, value)
        for s, d in new.items():
            setattr(self, s, d)

    # -- chunked application -------------------------------------------------
    def _tmp(self, dtype: np.dtype, n: int) -> list[np.ndarray]:
        bufs = self._scratch.get(dtype)
        if bufs is None or bufs[0].size < n:
            bufs = [np.empty(n, dtype=dtype) for _ in range(self.n_scratch)]
            self._scratch[dtype] = bufs
        return bufs

    def _apply(self, w: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], c: Any) -> None:
        n = w.size
        if (
            n > CHUNK
            and w.flags.c_contiguous
            and g.flags.c_contiguous
            and all(a.flags.c_contiguous for a in s.values())
        ):
            wf, gf = w.reshape(-1), g.reshape(-1)
            sf = {k: a.reshape(-1) for k, a in s.items()}
            bufs = self._tmp(w.dtype, CHUNK)
            for i in range(0, n, CHUNK):
                j = min(i + CHUNK, n)
                chunk = {k: a[i:j] for k, a in sf.items()}
                self._step(wf[i:j], gf[i:j], chunk, c, [b[: j - i] for b in bufs])
        else:
            bufs = self._tmp(w.dtype, max(n, 1))
            self._step(w, g, s, c, [b[:n].reshape(w.shape) for b in bufs])


def _declare(cls: type[Optimizer]) -> None:
    """Read the declarations of a rule class once: fields, states, and its docstring."""
    cls._hypers = hypers_of(cls)
    cls._states = states_of(cls)
    cls._scalar_states = scalar_states_of(cls)
    for spec in cls._states.values():
        for ref in (spec.when, spec.initial):
            if ref is not None and ref not in {f.name for f in dataclasses.fields(cls)}:
                raise TypeError(f"{cls.__name__}: state refers to unknown field {ref!r}")
    if cls.__doc__ and cls.name:
        cls.__doc__ = cls.__doc__.rstrip() + "\n\n" + textwrap.indent(describe(cls), "    ")


_declare(Optimizer)


def _as_float_array(w: Any) -> np.ndarray:
    """``w`` itself if an array; a NumPy scalar keeps its dtype; a Python number is float64."""
    if isinstance(w, np.ndarray):
        return w
    return np.array(w, dtype=np.result_type(w) if isinstance(w, np.generic) else np.float64)
