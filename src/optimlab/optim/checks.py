"""Checks run before an optimizer writes anything: inputs, fitted state, schedules, loads.

Each raises ``ValueError`` with one line naming the key (or the schedule and
step) and saying what is valid. :class:`~optimlab.optim.base.Optimizer` calls
them all before it changes params, state or ``t``, so a refused call leaves
everything as it was.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .fields import ScalarState, StateDict, StateSpec

__all__ = ["loaded_state", "params_and_grads", "schedule_factor", "state_fits"]

#: dtype kinds a gradient may have: bool, signed and unsigned integers, floats
_NUMERIC = "biuf"


def params_and_grads(rule: str, params: Any, grads: Any) -> None:
    """``params`` and ``grads`` are dicts with the same keys, shapes and real dtypes."""
    who = f"{rule}.update"
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
        _param(who, key, w, grads[key])


def _param(who: str, key: str, w: Any, g: Any) -> None:
    if not isinstance(w, np.ndarray | np.generic | numbers.Real):
        raise ValueError(
            f"{who}: params[{key!r}] is a {type(w).__name__}; a parameter must be a NumPy "
            "array (updated in place) or a float"
        )
    try:
        ga = np.asarray(g)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{who}: grads[{key!r}] is not an array of numbers ({err})") from None
    wa = np.asarray(w)  # no copy for an array; a 0-d view of a scalar
    ws, gs = wa.shape, ga.shape
    if ws != gs:
        raise ValueError(f"{who}: shape of grads[{key!r}] {gs} differs from params[{key!r}] {ws}")
    wd = wa.dtype
    if not np.issubdtype(wd, np.floating):
        raise ValueError(
            f"{who}: params[{key!r}] has dtype {wd}; parameters must be floating "
            "point (float32 or float64)"
        )
    if ga.dtype.kind not in _NUMERIC:
        raise ValueError(
            f"{who}: grads[{key!r}] has dtype {ga.dtype}; gradients must be real numbers "
            "(float, integer or bool)"
        )
    if isinstance(w, np.ndarray) and not w.flags.writeable:
        raise ValueError(f"{who}: params[{key!r}] is read-only; it is updated in place")


def state_fits(rule: str, states: Mapping[str, StateDict], params: Mapping[str, Any]) -> None:
    """Existing state has the keys and shapes of ``params``."""
    who = f"{rule}.update"
    for s, have in states.items():
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


def schedule_factor(schedule: Callable[[int], Any], t: int) -> float:
    """``schedule(t)`` as a float, refused unless finite and >= 0."""
    f = schedule(t)
    try:
        v = float(f)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(
            f"schedule {schedule!r} gave the factor {f!r} at step {t}; a learning-rate "
            "factor must be a finite number >= 0"
        )
    return v


def loaded_state(
    sd: Any, name: str, specs: Mapping[str, StateSpec], scalars: Mapping[str, ScalarState]
) -> tuple[int, dict[str, StateDict], dict[str, Any]]:
    """Check a :meth:`Optimizer.state_dict` for rule ``name``; return ``t``, states, extras."""
    if not isinstance(sd, Mapping) or sd.get("name") != name:
        got = sd.get("name") if isinstance(sd, Mapping) else sd
        raise ValueError(f"state_dict is for optimizer {got!r}, not {name!r}")
    saved = sd.get("state", {})
    if not isinstance(saved, Mapping):
        raise ValueError(f"state_dict 'state' must be a dict, got {type(saved).__name__}")
    missing = set(specs) - set(saved)
    if missing:
        raise ValueError(f"state_dict lacks state {sorted(missing)} of {name!r}")
    t = sd.get("t")
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
        raise ValueError(f"state_dict 't' must be an integer >= 0, got {t!r}")
    new = {s: _state_arrays(s, saved[s], spec) for s, spec in specs.items()}
    present = {s: sorted(d) for s, d in new.items()}
    if len({repr(v) for v in present.values()}) > 1:
        raise ValueError(f"state_dict states have different keys: {present}")
    return int(t), new, _extras(sd.get("extra", {}), scalars)


def _state_arrays(s: str, d: Any, spec: StateSpec) -> StateDict:
    if d is None:
        return {}
    if not isinstance(d, Mapping):
        raise ValueError(
            f"state_dict state {s!r} must be a dict of arrays or None, got {type(d).__name__}"
        )
    out: StateDict = {}
    for key, v in d.items():
        where = f"state_dict state {s}[{key!r}]"
        try:
            a = np.array(v, copy=True)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where} is not an array of numbers ({err})") from None
        if a.dtype.kind != "f":
            raise ValueError(f"{where} has dtype {a.dtype}; optimizer state must be floating point")
        if spec.nonneg and not np.all(a >= 0):
            raise ValueError(
                f"{where} has negative or NaN entries (min {np.min(a)!r}); {s} ({spec.doc}) is >= 0"
            )
        out[key] = a
    return out


def _extras(extra: Any, scalars: Mapping[str, ScalarState]) -> dict[str, Any]:
    if not isinstance(extra, Mapping):
        raise ValueError(f"state_dict 'extra' must be a dict, got {type(extra).__name__}")
    return {k: s.check(k, extra.get(k, s.default)) for k, s in scalars.items()}
