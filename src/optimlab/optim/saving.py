"""An optimizer's state as named arrays for ``np.savez``, and back, without pickle."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["state_from_arrays", "state_to_arrays"]

_META_KEYS = ("name", "hyperparameters", "t", "extra", "empty")


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
    """Inverse of :func:`state_to_arrays` (accepts the ``NpzFile`` of ``np.load``).

    Raises ``ValueError`` when ``"meta"`` is missing, is not JSON, or lacks a field.
    """
    meta = _meta(arrays)
    state: dict[str, dict[str, np.ndarray] | None] = {s: None for s in meta["empty"]}
    for name in arrays:
        if name.startswith("state/"):
            s, _, key = name.removeprefix("state/").partition("/")
            d = state.get(s)
            if d is None:
                d = state[s] = {}
            d[key] = np.array(arrays[name], copy=True)
    return {
        "name": meta["name"],
        "hyperparameters": meta["hyperparameters"],
        "t": meta["t"],
        "state": state,
        "extra": meta["extra"],
    }


def _meta(arrays: Mapping[str, Any]) -> dict[str, Any]:
    if "meta" not in arrays:
        raise ValueError("saved optimizer state lacks its 'meta' entry")
    text = str(np.asarray(arrays["meta"])[()])
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"saved optimizer state: 'meta' is not valid JSON ({err})") from None
    if not isinstance(meta, dict) or any(k not in meta for k in _META_KEYS):
        raise ValueError(
            f"saved optimizer state: 'meta' must be a JSON object with {', '.join(_META_KEYS)}; "
            f"got {text[:80]!r}"
        )
    if not isinstance(meta["empty"], list):
        raise ValueError(f"saved optimizer state: 'meta' 'empty' must be a list, got {text[:80]!r}")
    return meta
