"""Optimizer paths on 2-D functions, as in the book's ``optimizer_compare_naive.py``.

Each rule steps ``params = {"x": x, "y": y}`` through the book's
``update(params, grads)`` with the function's analytic gradient. A path
records the start and every iterate. A rule *diverges* at step ``N`` when the
``N``-th iterate (or ``f`` there) is not finite or lies more than
:data:`ESCAPE` half-widths of the view window from its centre; its path stops
there and the other rules are unaffected.

On a diagonal quadratic ``f = (a x² + b y²) / 2`` (the book's bowl has
``a = 0.1``, ``b = 2``) two rules have closed forms, computed here without
running them:

* gradient descent (SGD): ``u_k = (1 - η h)^k u_0`` for each coordinate with
  curvature ``h``;
* heavy ball (the book's Momentum, ``v ← μv - ηg``, ``u ← u + v``, ``v_0 = 0``):
  ``u_{k+1} = (1 + μ - ηh) u_k - μ u_{k-1}``, ``u_1 = (1 - ηh) u_0``, solved by
  the roots ``r`` of ``r² - (1 + μ - ηh) r + μ = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..functions import Function2D
from ..optim import create, parse_spec

__all__ = [
    "ESCAPE",
    "MAX_STEPS",
    "PathResult",
    "PathsResult",
    "default_rate",
    "exit_point",
    "format_options",
    "gd_iterates",
    "heavy_ball_iterates",
    "optimizer_labels",
    "points_to_draw",
    "run_path",
    "run_paths",
    "theory_path",
    "view_window",
    "with_default_rate",
]

#: A path that goes this many half-widths of the window from its centre has diverged.
ESCAPE = 1000.0
#: The most steps a path may take (a path is stepped in Python, about 10 µs a step).
MAX_STEPS = 100_000

#: Rules without a rate of their own on a function borrow the rate of this relative
#: (same kind of step: heavy ball, or a step normalised by a second moment or a sign).
_RELATIVE = {
    "nesterov": "momentum",
    "adamw": "adam",
    "nadam": "adam",
    "amsgrad": "adam",
    "adamax": "adam",
    "rmsprop": "adam",
    "lion": "adam",
}


@dataclass
class PathResult:
    """One rule's path: ``xy`` ``(n+1, 2)`` from the start, ``f`` ``(n+1,)``.

    ``diverged_at`` is the step whose iterate left the finite world (or went
    :data:`ESCAPE` half-widths away); the path ends with that iterate.
    ``theory`` is the closed-form path of the same rule ``(steps+1, 2)``, or ``None``.
    ``drawn`` and ``theory_drawn`` count the leading points a figure shows: all of
    them, or for a path that diverged, up to and including the first one outside
    the view window.
    """

    label: str
    spec: str
    xy: np.ndarray
    f: np.ndarray
    diverged_at: int | None = None
    theory: np.ndarray | None = None
    drawn: int = 0
    theory_drawn: int = 0
    #: ``(step, x, y)``: where the path first crossed the edge of the view, if it did
    exit: tuple[int, float, float] | None = None
    #: the learning rate was not given and is the function's default for the rule
    default_rate: bool = False


@dataclass
class PathsResult:
    """All rules' paths on one function from one start."""

    function: Function2D
    start: tuple[float, float]
    steps: int
    paths: list[PathResult]
    #: the view window: the function's, widened to hold the start
    xlim: tuple[float, float] = (0.0, 0.0)
    ylim: tuple[float, float] = (0.0, 0.0)


def view_window(
    fn: Function2D, start: tuple[float, float]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """``fn``'s window; where ``start`` lies outside it, widened symmetrically about the
    window's centre to hold the start with a 10% margin (paths swing to both sides)."""
    out = []
    for (lo, hi), s in ((fn.xlim, start[0]), (fn.ylim, start[1])):
        if lo <= s <= hi:
            out.append((lo, hi))
            continue
        centre = (lo + hi) / 2
        half = 1.1 * abs(s - centre)
        out.append((centre - half, centre + half))
    return out[0], out[1]


def optimizer_labels(specs: Sequence[str]) -> list[str]:
    """Display labels for rule specs: the class name (``"AdaGrad"``), with the spec's
    options added where two specs share a rule, and a counter where they are equal."""
    parsed = [parse_spec(s) for s in specs]
    classes = [type(create(s)).__name__ for s in specs]
    labels = []
    for (name, kwargs), cls in zip(parsed, classes, strict=True):
        if sum(n == name for n, _ in parsed) > 1 and kwargs:
            cls = f"{cls} ({format_options(kwargs)})"
        labels.append(cls)
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if labels.count(lab) > 1:
            seen[lab] = seen.get(lab, 0) + 1
            lab = f"{lab} #{seen[lab]}"
        out.append(lab)
    return out


def default_rate(fn: Function2D, rule: str) -> float | None:
    """The learning rate ``fn`` uses for ``rule`` (from ``fn.optimizers``, or a close
    relative's, see :data:`_RELATIVE`), or ``None`` if it has none."""
    rates = {}
    for spec in fn.optimizers:
        name, kwargs = parse_spec(spec)
        if "lr" in kwargs:
            rates[name] = float(kwargs["lr"])
    return rates.get(rule, rates.get(_RELATIVE.get(rule, ""), None))


def with_default_rate(spec: str, fn: Function2D) -> tuple[str, bool]:
    """``spec`` with ``lr`` set to :func:`default_rate` when it gives none (and the function
    has a rate for the rule); ``(spec, True)`` if a rate was added, else ``(spec, False)``."""
    name, kwargs = parse_spec(spec)
    lr = None if "lr" in kwargs else default_rate(fn, name)
    if lr is None:
        return spec, False
    rest = spec.partition(":")[2].strip()
    return f"{name}:lr={lr!r}" + (f",{rest}" if rest else ""), True


def format_options(kwargs: dict) -> str:
    """``{"lr": 0.95}`` -> ``"lr=0.95"`` (floats in ``%g``)."""
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in kwargs.items()
    )


def _escaped(window, x: float, y: float, z: float) -> bool:
    if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)):
        return True
    (x0, x1), (y0, y1) = window
    cx, hx = (x0 + x1) / 2, (x1 - x0) / 2
    cy, hy = (y0 + y1) / 2, (y1 - y0) / 2
    return max(abs(x - cx) / hx, abs(y - cy) / hy) > ESCAPE


def points_to_draw(window, xy: np.ndarray) -> int:
    """How many leading points of ``xy`` to draw: up to and including the first one
    outside ``window = (xlim, ylim)`` (the line to it is clipped), not counting a
    non-finite one."""
    (x0, x1), (y0, y1) = window
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(xy).all(axis=1)
        inside = finite & (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    outside = np.flatnonzero(~inside)
    if len(outside) == 0:
        return len(xy)
    k = int(outside[0])
    return k + 1 if finite[k] else k


def run_path(
    spec: str, fn: Function2D, start: tuple[float, float], steps: int
) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Step rule ``spec`` from ``start``; return ``(xy, f, diverged_at)``."""
    window = view_window(fn, start)
    opt = create(spec)
    params = {"x": float(start[0]), "y": float(start[1])}
    xy = [(params["x"], params["y"])]
    with np.errstate(all="ignore"):
        fs = [float(fn.f(np.float64(params["x"]), np.float64(params["y"])))]
        diverged = None
        for k in range(1, steps + 1):
            gx, gy = fn.grad(np.float64(params["x"]), np.float64(params["y"]))
            opt.update(params, {"x": float(gx), "y": float(gy)})
            x, y = float(params["x"]), float(params["y"])
            z = float(fn.f(np.float64(x), np.float64(y)))
            xy.append((x, y))
            fs.append(z)
            if _escaped(window, x, y, z):
                diverged = k
                break
    return np.array(xy, dtype=np.float64), np.array(fs, dtype=np.float64), diverged


def exit_point(window, xy: np.ndarray) -> tuple[int, float, float] | None:
    """``(k, x, y)``: the point where the segment from iterate ``k - 1`` (inside ``window``)
    to iterate ``k`` (outside, or not finite) crosses the window's edge, for the first
    such ``k``; ``None`` if the path never leaves the window."""
    (x0, x1), (y0, y1) = window
    with np.errstate(invalid="ignore"):
        inside = (
            np.isfinite(xy).all(axis=1)
            & (xy[:, 0] >= x0)
            & (xy[:, 0] <= x1)
            & (xy[:, 1] >= y0)
            & (xy[:, 1] <= y1)
        )
    leaving = np.flatnonzero(inside[:-1] & ~inside[1:])
    if len(leaving) == 0:
        return None
    k = int(leaving[0]) + 1
    (ax, ay), (bx, by) = xy[k - 1], xy[k]
    if not (math.isfinite(bx) and math.isfinite(by)):
        return k, float(ax), float(ay)  # no direction to follow: mark the last point
    t = 1.0  # fraction of the segment inside the window, clipped on each side
    for a, b, lo, hi in ((ax, bx, x0, x1), (ay, by, y0, y1)):
        if b > hi:
            t = min(t, (hi - a) / (b - a))
        elif b < lo:
            t = min(t, (lo - a) / (b - a))
    return k, float(ax + t * (bx - ax)), float(ay + t * (by - ay))


def _theory_drawn(window, theory: np.ndarray) -> int:
    escaped = [_escaped(window, x, y, 0.0) for x, y in theory]
    return points_to_draw(window, theory) if any(escaped) else len(theory)


def gd_iterates(h: float, eta: float, u0: float, steps: int) -> np.ndarray:
    """Gradient descent on ``h u² / 2``: ``u_k = (1 - η h)^k u_0``, ``k = 0..steps``."""
    return u0 * (1.0 - eta * h) ** np.arange(steps + 1, dtype=np.float64)


def heavy_ball_iterates(h: float, eta: float, mu: float, u0: float, steps: int) -> np.ndarray:
    """The book's Momentum on ``h u² / 2`` from rest, in closed form, ``k = 0..steps``.

    ``u_k = A r₁^k + B r₂^k`` with ``r₁, r₂`` the roots of
    ``r² - (1 + μ - ηh) r + μ = 0`` (``u_k = (A + Bk) r^k`` for a double root),
    ``A, B`` fixed by ``u_0`` and ``u_1 = (1 - ηh) u_0``.
    """
    k = np.arange(steps + 1, dtype=np.float64)
    s = 1.0 + mu - eta * h  # sum of the roots
    u1 = (1.0 - eta * h) * u0
    disc = complex(s * s - 4.0 * mu)
    if abs(disc) < 1e-14:  # double root r = s/2
        r = s / 2.0
        if r == 0.0:  # mu = 0 and eta h = 1: one step to the minimum
            return np.where(k == 0, u0, 0.0)
        b = u1 / r - u0
        return (u0 + b * k) * r**k
    sq = np.sqrt(disc)
    r1, r2 = (s + sq) / 2.0, (s - sq) / 2.0
    a = (u1 - r2 * u0) / (r1 - r2)  # from u_0 = A + B, u_1 = A r1 + B r2
    b = u0 - a
    with np.errstate(all="ignore"):
        u = a * np.power(r1, k) + b * np.power(r2, k)
    return np.real(u)


def theory_path(
    spec: str, fn: Function2D, start: tuple[float, float], steps: int
) -> np.ndarray | None:
    """Closed-form iterates ``(steps+1, 2)`` of ``spec`` on ``fn``, where one exists:
    SGD and Momentum (without a schedule) on a diagonal quadratic; else ``None``."""
    if fn.hessian is None:
        return None
    opt = create(spec)
    hp = opt.hyperparameters()
    cols = []
    with np.errstate(all="ignore"):
        for h, u0 in zip(fn.hessian, start, strict=True):
            if opt.name == "sgd":
                cols.append(gd_iterates(h, hp["lr"], u0, steps))
            elif opt.name == "momentum":
                cols.append(heavy_ball_iterates(h, hp["lr"], hp["momentum"], u0, steps))
            else:
                return None
    return np.column_stack(cols)


def run_paths(
    specs: Sequence[str],
    fn: Function2D,
    start: tuple[float, float] | None = None,
    steps: int | None = None,
) -> PathsResult:
    """Run each rule in ``specs`` on ``fn`` from ``start`` (default ``fn.start``) for
    ``steps`` (default ``fn.steps``). A spec without ``lr`` takes the function's rate
    for the rule (:func:`with_default_rate`). ``ValueError`` on a bad spec or ``steps``
    outside ``1..MAX_STEPS``."""
    start = fn.start if start is None else (float(start[0]), float(start[1]))
    steps = fn.steps if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in 1..{MAX_STEPS}, got {steps!r}")
    if not all(math.isfinite(v) for v in start):
        raise ValueError(f"start must be two finite numbers, got {start!r}")
    labels = optimizer_labels(specs)
    window = view_window(fn, start)
    paths = []
    for given, label in zip(specs, labels, strict=True):
        spec, defaulted = with_default_rate(given, fn)
        xy, f, diverged = run_path(spec, fn, start, steps)
        theory = theory_path(spec, fn, start, steps)
        paths.append(
            PathResult(
                label=label,
                spec=spec,
                xy=xy,
                f=f,
                diverged_at=diverged,
                theory=theory,
                drawn=len(xy) if diverged is None else points_to_draw(window, xy),
                theory_drawn=0 if theory is None else _theory_drawn(window, theory),
                exit=exit_point(window, xy),
                default_rate=defaulted,
            )
        )
    return PathsResult(
        function=fn, start=start, steps=steps, paths=paths, xlim=window[0], ylim=window[1]
    )
