"""Figures of the two comparisons, and the book's ``smooth_curve``.

The figure functions read results (:class:`~optimlab.experiments.paths.PathsResult`,
:class:`~optimlab.experiments.compare.CompareResult`) and draw them; they compute
nothing a result does not already hold. They build ``matplotlib.figure.Figure``
objects directly (no ``pyplot`` state, no backend switch) and render with Agg.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

if TYPE_CHECKING:
    from .experiments.compare import CompareResult
    from .experiments.paths import PathResult, PathsResult

__all__ = [
    "MARKERS",
    "accuracy_figure",
    "loss_figure",
    "paths_figure",
    "paths_gif",
    "smooth_curve",
]

#: Markers per optimizer, in order: the seed's o x s D, then more.
MARKERS = ("o", "x", "s", "D", "^", "v", "<", ">", "p", "h", "*", "P")
#: Colours of the paths on the shared GIF panel.
_COLORS = (
    "tab:red",
    "tab:blue",
    "tab:green",
    "tab:purple",
    "tab:orange",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
    "black",
    "tab:gray",
    "gold",
)
DPI = 150
_MINIMUM = {"marker": "+", "markersize": 14, "markeredgewidth": 2}
_SADDLE = {"marker": "x", "markersize": 10, "markeredgewidth": 2}

_WINDOW = 11  # the book's window length
_BETA = 2.0  # the book's Kaiser beta


def smooth_curve(x) -> np.ndarray:
    """Smooth a loss curve as the book's ``common/util.py`` does.

    The signal is extended by ``window - 1 = 10`` samples at each end, mirrored
    (without the first sample on the left, with the last one on the right, as in
    the book), convolved with a normalised Kaiser window of length 11 and
    ``beta = 2``, and cut back to ``len(x)`` samples, each centred on its own.

    Parameters
    ----------
    x : array_like, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n,), float64
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0:
        return x.copy()
    pad = _WINDOW - 1
    left = np.pad(x, (pad, 0), mode="reflect")[:pad]  # x[10], x[9], ..., x[1]
    right = np.pad(x, (0, pad), mode="symmetric")[-pad:]  # x[-1], x[-2], ..., x[-10]
    signal = np.concatenate([left, x, right])
    w = np.kaiser(_WINDOW, _BETA)
    y = np.convolve(w / w.sum(), signal, mode="valid")  # len(x) + pad
    half = _WINDOW // 2
    return y[half : half + x.size]


# -- paths ---------------------------------------------------------------------------
def _grid(n: int) -> tuple[int, int]:
    ncols = 1 if n == 1 else 2 if n <= 4 else 3
    return -(-n // ncols), ncols


def _levels_for(Z: np.ndarray, *, log: bool, n: int = 12) -> np.ndarray:
    """Contour levels spanning the 2nd to 98th percentile of the finite values of ``Z``."""
    finite = Z[np.isfinite(Z)]
    lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    if log:
        hi = max(hi, 1e-300)
        return np.geomspace(max(lo, hi * 1e-8, 1e-300), hi, n)
    return np.linspace(lo, hi if hi > lo else lo + 1.0, n)


def _draw_landscape(ax, result: PathsResult, *, grey: bool = False) -> None:
    fn = result.function
    xs = np.linspace(*result.xlim, 300)
    ys = np.linspace(*result.ylim, 300)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):  # a far --start widens the window to huge values
        Z = fn.f(X, Y)
    levels = fn.levels
    if (result.xlim, result.ylim) != (fn.xlim, fn.ylim):  # widened: levels of this window
        levels = _levels_for(Z, log=fn.log_scale)
    norm = LogNorm(levels[0], levels[-1]) if fn.log_scale else None
    style = {"colors": "0.6"} if grey else {"cmap": "viridis", "norm": norm}
    ax.contour(X, Y, Z, levels=levels, linewidths=0.8, alpha=0.8, **style)
    for points, style in ((fn.minima, _MINIMUM), (fn.saddles, _SADDLE)):
        for px, py in points:
            ax.plot(px, py, linestyle="", color="black", zorder=5, **style)
    ax.set_xlim(*result.xlim)
    ax.set_ylim(*result.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _title(p: PathResult) -> str:
    from .experiments.paths import format_options
    from .optim import parse_spec

    options = format_options(parse_spec(p.spec)[1])
    lines = [p.label, "" if options in p.label else options]
    if p.diverged_at is not None:
        lines.append(f"diverged at step {p.diverged_at}")
    return "\n".join(line for line in lines if line)


def paths_figure(result: PathsResult) -> Figure:
    """The seed's 2×2 figure: one panel per rule, contours, the path in red with markers,
    the minimum as ``+``; the closed-form path (where one exists) dashed grey."""
    n = len(result.paths)
    rows, cols = _grid(n)
    fig = Figure(figsize=(5.2 * cols, 4.0 * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    has_theory = False
    size = 3.5 if result.steps <= 60 else 2.0  # marker size: long paths get small dots
    for ax, p in zip(axes, result.paths, strict=False):
        _draw_landscape(ax, result)
        if p.theory is not None and p.theory_drawn:
            has_theory = True
            t = p.theory[: p.theory_drawn]
            ax.plot(
                t[:, 0],
                t[:, 1],
                "o--",
                color="0.3",
                linewidth=0.9,
                markersize=8,
                markerfacecolor="none",
                markeredgewidth=0.9,
                zorder=5,
            )
        xy = p.xy[: p.drawn]
        ax.plot(xy[:, 0], xy[:, 1], "o-", color="red", markersize=size, linewidth=1.2, zorder=4)
        ax.set_title(
            _title(p), fontsize=11, color="darkred" if p.diverged_at is not None else "black"
        )
    for ax in axes[n:]:
        ax.set_visible(False)
    fn = result.function
    fig.suptitle(
        f"{fn.name}: f(x, y) = {fn.formula}    start ({result.start[0]:g}, "
        f"{result.start[1]:g}), {result.steps} steps",
        fontsize=13,
    )
    handles = [Line2D([], [], color="red", marker="o", markersize=4, label="path")]
    if has_theory:
        handles.append(
            Line2D(
                [],
                [],
                color="0.3",
                linestyle="--",
                marker="o",
                markersize=8,
                markerfacecolor="none",
                markeredgewidth=0.9,
                label="closed form (gradient descent / heavy ball)",
            )
        )
    for points, style, label in (
        (fn.minima, _MINIMUM, "minimum"),
        (fn.saddles, _SADDLE, "saddle point"),
    ):
        if points:
            handles.append(Line2D([], [], linestyle="", color="black", label=label, **style))
    fig.legend(
        handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=10
    )
    return fig


def paths_gif(result: PathsResult, *, max_frames: int = 60, fps: int = 10) -> bytes:
    """An animated GIF of all paths drawn step by step on one panel, as bytes."""
    fig = Figure(figsize=(8.0, 5.6), layout="constrained")
    ax = fig.subplots()
    _draw_landscape(ax, result, grey=True)  # coloured paths on grey contours
    fn = result.function
    ax.set_title(f"{fn.name}: f(x, y) = {fn.formula}", fontsize=12)
    lines = []
    for i, p in enumerate(result.paths):
        (line,) = ax.plot(
            [],
            [],
            "o-",
            color=_COLORS[i % len(_COLORS)],
            markersize=3,
            linewidth=1.3,
            label=p.label,
            zorder=4,
        )
        lines.append(line)
    fig.legend(loc="outside right center", frameon=False, fontsize=10)
    counter = ax.text(
        0.02,
        0.97,
        "",
        transform=ax.transAxes,
        va="top",
        fontsize=11,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
    )
    frames = np.unique(
        np.linspace(0, result.steps, min(max_frames, result.steps + 1)).round().astype(int)
    )
    frames = np.concatenate([frames, np.repeat(frames[-1:], fps // 2)])  # hold the end
    fig.draw_without_rendering()  # lay out once, then keep it: frames only move lines
    fig.set_layout_engine("none")
    images = []
    for k in frames:
        for line, p in zip(lines, result.paths, strict=True):
            xy = p.xy[: min(k + 1, p.drawn)]
            line.set_data(xy[:, 0], xy[:, 1])
        counter.set_text(f"step {k}")
        images.append(_frame(fig, dpi=90))
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=int(1000 / fps),
        loop=0,
    )
    return buf.getvalue()


def _frame(fig: Figure, *, dpi: int):
    """``fig`` rendered as an RGB ``PIL.Image`` (what matplotlib's PillowWriter grabs)."""
    from PIL import Image  # Pillow is a dependency of matplotlib

    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=dpi)
    width, height = (int(v * dpi) for v in fig.get_size_inches())
    return Image.frombuffer("RGBA", (width, height), buf.getvalue(), "raw", "RGBA", 0, 1).convert(
        "RGB"
    )


# -- the MNIST comparison ----------------------------------------------------------
def _legend_label(run) -> str:
    if run.diverged_at is not None:
        return f"{run.label}, diverged at {run.diverged_at}"
    return run.label


def _dataset_name(result: CompareResult) -> str:
    return {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}.get(result.dataset, result.dataset)


def loss_figure(result: CompareResult) -> Figure:
    """The seed's figure: smoothed training loss per rule, a marker every 100 iterations
    (o x s D ...), y from 0 to 1."""
    fig = Figure(figsize=(9.0, 5.0), layout="constrained")
    ax = fig.subplots()
    it = result.iterations
    every = 100 if len(it) >= 1000 else max(1, len(it) // 20)
    for k, (run, s) in enumerate(zip(result.runs, result.smoothed, strict=True)):
        ax.plot(
            it,
            s,
            marker=MARKERS[k % len(MARKERS)],
            markevery=every,
            markersize=6,
            linewidth=1.4,
            label=_legend_label(run),
        )
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, it[-1])
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=11, frameon=False)
    p = result.protocol
    ax.set_title(
        f"Training loss on {_dataset_name(result)} (smoothed, Kaiser window 11)\n"
        f"hidden {'-'.join(map(str, p.hidden))} {p.activation}, "
        f"batch {p.batch_size}, seed {p.seed}",
        fontsize=12,
    )
    return fig


def accuracy_figure(result: CompareResult) -> Figure:
    """Test accuracy (%) of each rule at its evaluation iterations."""
    fig = Figure(figsize=(9.0, 5.0), layout="constrained")
    ax = fig.subplots()
    for k, run in enumerate(result.runs):
        ax.plot(
            run.eval_iterations,
            100.0 * np.asarray(run.test_accuracy),
            marker=MARKERS[k % len(MARKERS)],
            markersize=6,
            linewidth=1.4,
            label=_legend_label(run),
        )
    ax.set_xlabel("iterations")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlim(0, 1.02 * result.iterations[-1])  # room for the last markers
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=11, frameon=False)
    ax.set_title(
        f"Test accuracy on {_dataset_name(result)} (every {result.protocol.eval_every} iterations)",
        fontsize=12,
    )
    return fig
