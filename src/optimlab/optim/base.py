"""The machinery every update rule shares: validation, state, chunking, save/load.

A rule is a subclass of :class:`Optimizer` that names its per-parameter state
arrays (``state_names``), computes the step's scalars once (``_scalars``) and
writes one in-place step over arrays of one parameter (``_step``).  Nothing
else: the book-compatible ``update(params, grads)``, the fast engine and the
sweeps all go through that one ``_step``, so each formula is written once.

Large arrays are stepped in cache-sized chunks so that the temporaries of a
step stay in cache; a chunk is a contiguous slice, and every rule here is
elementwise, so chunking changes no result bit.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, ClassVar

import numpy as np

__all__ = ["Optimizer", "check_range", "state_from_arrays", "state_to_arrays"]

#: Elements per chunk: 32768 float32 values are 128 KiB per array, so the
#: parameter, gradient, two state arrays and two temporaries fit in L2.
CHUNK = 1 << 15

Schedule = Callable[[int], float]


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
    lo_b = "(" if low_open else "["
    hi_b = "]" if allow_inf else (")" if high_open else "]")
    valid = f"{lo_b}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_b}"
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


class Optimizer:
    """Base class of the update rules; book-compatible ``update(params, grads)``.

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
    #: names of the per-parameter state dicts, e.g. ``("m", "v")``; each is an
    #: attribute (``self.m``) holding ``{key: array}`` or ``None`` before the
    #: first update, as in the book.
    state_names: ClassVar[tuple[str, ...]] = ()
    #: how many scratch arrays ``_step`` needs
    n_scratch: ClassVar[int] = 1

    def __init__(self, lr: float, *, schedule: Schedule | None = None) -> None:
        self.lr = check_range("lr", lr, low=0.0, low_open=True, high=None)
        if schedule is not None and not callable(schedule):
            raise ValueError(f"schedule must be callable as schedule(t) -> float, got {schedule!r}")
        self.schedule = schedule
        self.t = 0
        for s in self.state_names:
            setattr(self, s, None)
        self._scratch: dict[np.dtype, list[np.ndarray]] = {}

    # -- what a rule defines -------------------------------------------------
    def _scalars(self, lr: float) -> tuple[float, ...]:
        """Per-step scalars computed once per ``update`` (after ``t`` was incremented)."""
        return (lr,)

    def _step(self, w, g, state: tuple[np.ndarray, ...], c: tuple[float, ...], tmp) -> None:
        """One in-place step of parameter array ``w`` with gradient ``g``."""
        raise NotImplementedError

    def _init_state(self, w: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.zeros_like(w) for _ in self.state_names)

    # -- the book-compatible API -------------------------------------------
    def hyperparameters(self) -> dict[str, Any]:
        """The constructor arguments that define this rule (for records and ``repr``)."""
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    def current_lr(self, t: int | None = None) -> float:
        """Learning rate used at step ``t`` (default: the step about to be taken)."""
        t = self.t + 1 if t is None else t
        if self.schedule is None:
            return self.lr
        return self.lr * float(self.schedule(t))

    def update(self, params: MutableMapping[str, Any], grads: Mapping[str, Any]) -> None:
        """Update ``params`` in place from ``grads`` (dicts with the same keys and shapes).

        Arrays are modified in place (a network's layers share them); Python
        scalars, as in the book's 2-D example, are replaced by updated floats.
        Raises ``ValueError`` naming the key before anything is modified when
        keys or shapes differ.
        """
        self._validate(params, grads)
        if self._state_missing():
            self._create_state(params)
        else:
            self._check_state(params)
        self.t += 1
        c = self._scalars(self.current_lr(self.t))
        for key in params:
            w = params[key]
            if isinstance(w, np.ndarray) and w.ndim > 0:
                self._apply(w, np.asarray(grads[key]), self._state_of(key), c)
            else:  # a Python or NumPy scalar, as in the book's 2-D example
                w0 = np.array(
                    w,
                    dtype=np.result_type(w)
                    if isinstance(w, np.generic | np.ndarray)
                    else np.float64,
                )
                self._apply(w0, np.asarray(grads[key]), self._state_of(key), c)
                if isinstance(w, np.ndarray):
                    w[...] = w0
                elif isinstance(w, np.generic):
                    params[key] = w0[()]
                else:
                    params[key] = float(w0)

    # -- state -------------------------------------------------------------
    def _state_missing(self) -> bool:
        return bool(self.state_names) and getattr(self, self.state_names[0]) is None

    def _create_state(self, params: Mapping[str, Any]) -> None:
        store: dict[str, dict[str, np.ndarray]] = {s: {} for s in self.state_names}
        for key, w in params.items():
            arrays = self._init_state(_as_float_array(w))
            for s, a in zip(self.state_names, arrays, strict=True):
                store[s][key] = a
        for s in self.state_names:
            setattr(self, s, store[s])

    def _check_state(self, params: Mapping[str, Any]) -> None:
        """Existing state must have the keys and shapes of ``params`` (checked before any write)."""
        who = f"{type(self).__name__}.update"
        for s in self.state_names:
            have = getattr(self, s)
            new = [k for k in params if k not in have]
            gone = [k for k in have if k not in params]
            if new or gone:
                key = (new or gone)[0]
                raise ValueError(
                    f"{who}: params key {key!r} "
                    + ("has no optimizer state" if new else "is missing, but has optimizer state")
                    + f" (params keys {sorted(params)}, state keys {sorted(have)}); "
                    "use a new optimizer for new parameters"
                )
            for key, w in params.items():
                ws, ss = np.shape(w), np.shape(have[key])
                if ws != ss:
                    raise ValueError(
                        f"{who}: params[{key!r}] has shape {ws} but the optimizer state "
                        f"{s}[{key!r}] has shape {ss}; use a new optimizer for new parameters"
                    )

    def _state_of(self, key: str) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, s)[key] for s in self.state_names)

    def _extra_state(self) -> dict[str, Any]:
        """Scalar state besides ``t`` (e.g. NAdam's running product)."""
        return {}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of everything needed to continue bit for bit.

        Returns ``{"name", "hyperparameters", "t", "state": {name: {key: array}}, "extra"}``.
        The arrays are copies: saving then continuing does not alias them.
        """
        state = {}
        for s in self.state_names:
            d = getattr(self, s)
            state[s] = None if d is None else {k: np.array(v, copy=True) for k, v in d.items()}
        return {
            "name": self.name,
            "hyperparameters": self.hyperparameters(),
            "t": self.t,
            "state": state,
            "extra": self._extra_state(),
        }

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (arrays are copied in).

        Everything is checked before anything is changed: on ``ValueError`` the
        optimizer is as it was. The hyperparameters are those of ``self``, not
        of ``sd`` (construct the optimizer with the saved ones to continue
        exactly; a different ``lr`` is how one changes it mid-run).
        """
        if not isinstance(sd, Mapping) or sd.get("name") != self.name:
            got = sd.get("name") if isinstance(sd, Mapping) else sd
            raise ValueError(f"state_dict is for optimizer {got!r}, not {self.name!r}")
        saved = sd.get("state", {})
        missing = set(self.state_names) - set(saved)
        if missing:
            raise ValueError(f"state_dict lacks state {sorted(missing)} of {self.name!r}")
        t = sd.get("t")
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            raise ValueError(f"state_dict 't' must be an integer >= 0, got {t!r}")
        new: dict[str, dict[str, np.ndarray] | None] = {}
        for s in self.state_names:
            d = saved[s]
            if d is not None and not isinstance(d, Mapping):
                raise ValueError(
                    f"state_dict state {s!r} must be a dict of arrays or None, "
                    f"got {type(d).__name__}"
                )
            new[s] = None if d is None else {k: np.array(v, copy=True) for k, v in d.items()}
        present = {s: None if d is None else sorted(d) for s, d in new.items()}
        if len({repr(v) for v in present.values()}) > 1:
            raise ValueError(f"state_dict states have different keys: {present}")
        self._load_extra_state(sd.get("extra", {}))
        self.t = int(t)
        for s, d in new.items():
            setattr(self, s, d)

    # -- checks and chunked application ------------------------------------
    def _validate(self, params: Mapping[str, Any], grads: Mapping[str, Any]) -> None:
        who = f"{type(self).__name__}.update"
        if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
            raise ValueError(
                f"{who}: params and grads must be dicts of arrays, got "
                f"{type(params).__name__} and {type(grads).__name__}"
            )
        extra = [k for k in grads if k not in params]
        missing = [k for k in params if k not in grads]
        if missing or extra:
            raise ValueError(
                f"{who}: params and grads must have the same keys; "
                + (f"no gradient for {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"gradient for unknown {extra}" if extra else "")
            )
        for key, w in params.items():
            g = grads[key]
            ws, gs = np.shape(w), np.shape(g)
            if ws != gs:
                raise ValueError(
                    f"{who}: shape of grads[{key!r}] {gs} differs from params[{key!r}] {ws}"
                )
            wd = np.result_type(w)
            if not np.issubdtype(wd, np.floating):
                raise ValueError(
                    f"{who}: params[{key!r}] has dtype {wd}; parameters must be floating "
                    "point (float32 or float64)"
                )
            if isinstance(w, np.ndarray) and w.ndim > 0 and not w.flags.writeable:
                raise ValueError(f"{who}: params[{key!r}] is read-only; it is updated in place")

    def _tmp(self, dtype: np.dtype, n: int) -> list[np.ndarray]:
        bufs = self._scratch.get(dtype)
        if bufs is None or bufs[0].size < n:
            bufs = [np.empty(n, dtype=dtype) for _ in range(self.n_scratch)]
            self._scratch[dtype] = bufs
        return bufs

    def _apply(self, w: np.ndarray, g: np.ndarray, state: tuple[np.ndarray, ...], c) -> None:
        n = w.size
        if (
            n > CHUNK
            and w.flags.c_contiguous
            and g.flags.c_contiguous
            and all(s.flags.c_contiguous for s in state)
        ):
            wf, gf = w.reshape(-1), g.reshape(-1)
            sf = tuple(s.reshape(-1) for s in state)
            bufs = self._tmp(w.dtype, CHUNK)
            for i in range(0, n, CHUNK):
                j = min(i + CHUNK, n)
                m = j - i
                self._step(wf[i:j], gf[i:j], tuple(s[i:j] for s in sf), c, [b[:m] for b in bufs])
        else:
            bufs = self._tmp(w.dtype, max(n, 1))
            self._step(w, g, state, c, [b[:n].reshape(w.shape) for b in bufs])

    def step_arrays(self, items: Iterable[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """Fast path for engines: ``(key, w, g)`` triples of arrays, no validation.

        Same formulas and state as :meth:`update`; the caller guarantees that
        shapes match. Used by :mod:`optimlab.engine` on flat parameter buffers.
        """
        items = list(items)
        if self._state_missing():
            self._create_state({k: w for k, w, _ in items})
        self.t += 1
        c = self._scalars(self.current_lr(self.t))
        for key, w, g in items:
            self._apply(w, g, self._state_of(key), c)


def _as_float_array(w: Any) -> np.ndarray:
    """``w`` itself if an array; a NumPy scalar keeps its dtype; a Python number is float64."""
    if isinstance(w, np.ndarray):
        return w
    return np.array(w, dtype=np.result_type(w) if isinstance(w, np.generic) else np.float64)


def state_to_arrays(sd: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Flatten a :meth:`Optimizer.state_dict` into named arrays for ``np.savez``.

    Arrays go under ``"state/<state name>/<param key>"``; everything else
    (name, hyperparameters, ``t``, scalar extras) is JSON text in ``"meta"``.
    Nothing needs pickle: ``np.load(f, allow_pickle=False)`` reads it back, and
    :func:`state_from_arrays` rebuilds the dict bit for bit.
    """
    meta = {
        "name": sd["name"],
        "hyperparameters": sd.get("hyperparameters", {}),
        "t": int(sd["t"]),
        "extra": sd.get("extra", {}),
        "empty": sorted(s for s, d in sd["state"].items() if d is None),
    }
    out = {"meta": np.array(json.dumps(meta))}
    for s, d in sd["state"].items():
        for key, a in (d or {}).items():
            out[f"state/{s}/{key}"] = np.asarray(a)
    return out


def state_from_arrays(arrays: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`state_to_arrays` (accepts the ``NpzFile`` of ``np.load``)."""
    if "meta" not in arrays:
        raise ValueError("saved optimizer state lacks its 'meta' entry")
    meta = json.loads(str(arrays["meta"][()]))
    state: dict[str, dict[str, np.ndarray] | None] = {s: None for s in meta["empty"]}
    for name in arrays:
        if name.startswith("state/"):
            s, _, key = name.removeprefix("state/").partition("/")
            state.setdefault(s, {})[key] = np.array(arrays[name], copy=True)  # type: ignore[index]
    return {
        "name": meta["name"],
        "hyperparameters": meta["hyperparameters"],
        "t": meta["t"],
        "state": state,
        "extra": meta["extra"],
    }
