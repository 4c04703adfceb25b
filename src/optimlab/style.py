"""One colour and one marker per optimizer, the same in every figure of every command.

``style_of("adam")`` (or a spec ``"adam:lr=0.1"``, a class name ``"Adam"``, a
label ``"Adam (lr 0.1)"``) gives ``{"color": ..., "marker": ...}`` ready for
``Axes.plot(..., **style)``. The twelve registered rules have fixed entries
(SGD, Momentum, AdaGrad and Adam keep matplotlib's first four colours, as in
the book's figure); any other name gets a stable entry derived from its name.

Marker ``x`` is never used: it is reserved for "diverged" (:data:`DIVERGED`).
Two runs of the same rule in one figure keep their colour and marker and differ
by line style (:func:`styles_for`).

This module imports nothing but the standard library, so every layer may use it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

__all__ = ["DIVERGED", "LINESTYLES", "STYLES", "rule_key", "style_of", "styles_for"]

#: ``name -> (colour, marker)`` for the registered rules (``optimlab.optim.names()``).
STYLES: dict[str, tuple[str, str]] = {
    "sgd": ("tab:blue", "o"),
    "momentum": ("tab:orange", "s"),
    "adagrad": ("tab:green", "D"),
    "adam": ("tab:red", "^"),
    "rmsprop": ("tab:purple", "v"),
    "nesterov": ("tab:brown", "p"),
    "adamw": ("tab:pink", "<"),
    "nadam": ("tab:olive", ">"),
    "amsgrad": ("tab:cyan", "h"),
    "adamax": ("tab:gray", "*"),
    "adadelta": ("gold", "P"),
    "lion": ("black", "d"),
}

#: Marker for a run that diverged (never an optimizer's marker).
DIVERGED = {"marker": "x", "color": "black", "markersize": 9, "markeredgewidth": 2}

#: Line styles of the 1st, 2nd, ... run of the same rule in one figure.
LINESTYLES = ("-", "--", ":", "-.")

_FALLBACK_COLORS = ("teal", "navy", "maroon", "darkgoldenrod", "indigo", "slategray", "crimson")
_FALLBACK_MARKERS = ("8", "H", "1", "2", "3", "4", "|")


def rule_key(name: str) -> str:
    """The rule a name refers to: ``"Adam (lr 0.1) #2"``, ``"adam:lr=0.1"``, ``"Adam"`` ->
    ``"adam"`` (lower case, up to the first ``:``, space or ``(``)."""
    text = str(name).strip().lower()
    for sep in (":", "(", " ", "#"):
        text = text.split(sep, 1)[0]
    return text


def style_of(name: str) -> dict[str, str]:
    """``{"color", "marker"}`` of rule ``name`` (any spelling :func:`rule_key` accepts)."""
    key = rule_key(name)
    if key in STYLES:
        color, marker = STYLES[key]
    else:  # stable across runs and machines (not Python's salted hash)
        h = zlib.crc32(key.encode())
        color = _FALLBACK_COLORS[h % len(_FALLBACK_COLORS)]
        marker = _FALLBACK_MARKERS[(h // len(_FALLBACK_COLORS)) % len(_FALLBACK_MARKERS)]
    return {"color": color, "marker": marker}


def styles_for(names: Sequence[str]) -> list[dict[str, str]]:
    """:func:`style_of` for each name, plus ``linestyle``: the k-th run of the same rule
    in ``names`` gets ``LINESTYLES[k]`` so repeated rules stay apart."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        key = rule_key(name)
        k = seen.get(key, 0)
        seen[key] = k + 1
        out.append({**style_of(name), "linestyle": LINESTYLES[k % len(LINESTYLES)]})
    return out
