"""Figures of the two comparisons.

Every figure draws each optimizer in its own colour and marker from
:mod:`optimlab.style` (the same in every command), labels runs with their
learning rate, and uses marker ``x`` only for "diverged".

The figure functions read results (:class:`~optimlab.experiments.paths.PathsResult`,
:class:`~optimlab.experiments.compare.CompareResult`) and draw them; they compute
nothing a result does not already hold. They build ``matplotlib.figure.Figure``
objects directly (no ``pyplot`` state, no backend switch) and render with Agg.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .curves import smooth_curve  # re-exported: its home was here
from .experiments.paths import format_options
from .optim import create, parse_spec
from .style import DIVERGED, STYLES, style_of, styles_for

if TYPE_CHECKING:
    from .experiments.compare import CompareResult
    from .experiments.paths import PathResult, PathsResult

__all__ = [
    "MARKERS",
    "accuracy_figure",
    "accuracy_range",
    "gif_frame_count",
    "legend_label",
    "loss_figure",
    "paths_figure",
    "paths_gif",
    "rate_text",
    "smooth_curve",
]

DPI = 150
#: Markers in the order of the registered rules (:data:`optimlab.style.STYLES`), never
#: ``x``; kept for callers that index markers by position. Prefer ``style.style_of``.
MARKERS = tuple(marker for _, marker in STYLES.values())
#: landmarks, drawn under the paths so the last steps stay visible
_MINIMUM: dict[str, Any] = {
    "marker": "+",
    "markersize": 11,
    "markeredgewidth": 1.2,
    "color": "0.25",
}
_SADDLE: dict[str, Any] = {
    "marker": "s",
    "markersize": 9,
    "markeredgewidth": 1.2,
    "markerfacecolor": "none",
    "color": "0.25",
}


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


def _draw_landscape(
    ax,
    result: PathsResult,
    *,
    grey: bool = False,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
) -> None:
    """Contours of the function over ``xlim`` × ``ylim`` (default: the result's window)
    and its landmarks (minima ``+``, saddles hollow squares), under the paths."""
    fn = result.function
    xlim = result.xlim if xlim is None else xlim
    ylim = result.ylim if ylim is None else ylim
    X, Y = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
    with np.errstate(all="ignore"):  # a far --start widens the window to huge values
        Z = fn.f(X, Y)
    levels = fn.levels
    if (xlim, ylim) != (fn.xlim, fn.ylim):  # another window: levels of this one
        levels = _levels_for(Z, log=fn.log_scale)
    norm = LogNorm(levels[0], levels[-1]) if fn.log_scale else None
    if grey:
        ax.contour(X, Y, Z, levels=levels, linewidths=0.8, alpha=0.8, colors="0.6")
    else:
        ax.contour(X, Y, Z, levels=levels, linewidths=0.8, alpha=0.6, cmap="viridis", norm=norm)
    for points, marker in ((fn.minima, _MINIMUM), (fn.saddles, _SADDLE)):
        for px, py in points:
            ax.plot(px, py, linestyle="", zorder=3, **marker)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def rate_text(hyperparameters: Mapping[str, Any]) -> str:
    """``"lr 0.01"`` (``%g``), or ``""`` for a rule without a learning rate."""
    lr = hyperparameters.get("lr")
    return "" if lr is None else f"lr {float(lr):g}"


def legend_label(label: str, hyperparameters: Mapping[str, Any]) -> str:
    """``"SGD (lr 0.01)"``: the run's label with its learning rate (unless the label
    already shows it)."""
    rate = rate_text(hyperparameters)
    if not rate or "lr" in label:
        return label
    return f"{label} ({rate})"


def _hyper(spec: str) -> dict[str, Any]:
    return create(spec).hyperparameters()


def _title(p: PathResult, fn_name: str) -> str:
    rate = rate_text(_hyper(p.spec))
    if p.default_rate:
        rate += f" ({fn_name}'s default)"
    others = format_options({k: v for k, v in parse_spec(p.spec)[1].items() if k != "lr"})
    lines = [p.label if "lr" in p.label else ", ".join(t for t in (p.label, rate) if t)]
    if others and others not in p.label:
        lines.append(others)
    if p.diverged_at is not None:
        lines.append(f"diverged at step {p.diverged_at}")
    return "\n".join(lines)


def _path_style(p: PathResult) -> dict[str, Any]:

    return style_of(p.spec)


def _draw_path(ax, p: PathResult, *, size: float) -> None:
    """The path in its rule's colour and marker, the end point emphasised (white-edged,
    on top of any landmark), the exit from the view marked by an arrowhead."""
    style = _path_style(p)
    xy = p.xy[: p.drawn]
    ax.plot(
        xy[:, 0], xy[:, 1], linewidth=1.2, markersize=size, zorder=4, **style, markeredgewidth=0
    )
    if p.diverged_at is None and p.exit is None:
        ax.plot(
            *xy[-1],
            marker=style["marker"],
            color=style["color"],
            markersize=9,
            markeredgecolor="white",
            markeredgewidth=1.2,
            zorder=6,
        )
    if p.exit is not None:
        _draw_exit(ax, p, style["color"])
    if p.diverged_at is not None:
        last = xy[np.isfinite(xy).all(axis=1)][-1]
        ax.plot(*last, zorder=7, **_diverged_marker())


def _diverged_marker() -> dict[str, Any]:

    return dict(DIVERGED, linestyle="")


def _draw_exit(ax, p: PathResult, color: str) -> None:
    assert p.exit is not None
    k, x, y = p.exit
    a, b = p.xy[k - 1], p.xy[k]
    angle = float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0]))) if np.isfinite(b).all() else 0
    ax.plot(
        x,
        y,
        marker=(3, 0, angle - 90),
        markersize=12,
        color=color,
        markeredgecolor="black",
        clip_on=False,
        zorder=7,
    )
    ax.annotate(
        f"leaves the view at step {k}",
        (x, y),
        xytext=(0.5, 0.04),
        textcoords="axes fraction",
        ha="center",
        fontsize=9,
        color="0.15",
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5},
        zorder=8,
    )


def _draw_theory(ax, p: PathResult) -> bool:
    if p.theory is None or not p.theory_drawn:
        return False
    t = p.theory[: p.theory_drawn]
    ax.plot(t[:, 0], t[:, 1], linestyle="", zorder=5, **_THEORY)
    return True


_THEORY: dict[str, Any] = {
    "marker": "o",
    "color": "0.2",
    "markersize": 8,
    "markerfacecolor": "none",
    "markeredgewidth": 0.8,
}


def _zoom_box(result: PathsResult, p: PathResult) -> tuple[tuple[float, float], ...] | None:
    """A window around the path's second half when it is crowded into under 8% of the
    view (the last steps would pile up on one spot); ``None`` otherwise."""
    if p.diverged_at is not None or p.exit is not None or len(p.xy) < 8:
        return None
    tail = p.xy[len(p.xy) // 2 :]
    (x0, x1), (y0, y1) = result.xlim, result.ylim
    lo, hi = tail.min(axis=0), tail.max(axis=0)
    span = max((hi[0] - lo[0]) / (x1 - x0), (hi[1] - lo[1]) / (y1 - y0))
    if span >= 0.08:
        return None
    half = max(span, 0.01) * 0.65  # a square-ish box in window fractions, with margin
    cx, cy = (lo + hi) / 2
    hx, hy = half * (x1 - x0), half * (y1 - y0)
    return (cx - hx, cx + hx), (cy - hy, cy + hy)


def _draw_zoom(ax, result: PathsResult, p: PathResult, box, *, size: float) -> None:
    """An inset magnifying ``box``: the path's last steps around where it ends."""
    inset = ax.inset_axes((0.63, 0.55, 0.35, 0.35))
    _draw_landscape(inset, result, xlim=box[0], ylim=box[1])
    _draw_theory(inset, p)
    _draw_path(inset, p, size=size)
    inset.tick_params(labelsize=7)
    inset.set_title(f"last {len(p.xy) - len(p.xy) // 2} steps, magnified", fontsize=8)
    ax.indicate_inset_zoom(inset, edgecolor="0.3")


def paths_figure(result: PathsResult) -> Figure:
    """The book's 2×2 figure: one panel per rule on the contours, the path in the rule's
    colour and marker ending in a larger marker; the closed-form iterates (SGD and
    Momentum on a quadratic) as hollow circles; the last steps magnified when they are
    crowded; the exit from the view marked with an arrowhead."""
    n = len(result.paths)
    rows, cols = _grid(n)
    fig = Figure(figsize=(5.2 * cols, 4.0 * rows + 1.0), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    has_theory = False
    size = 4.0 if result.steps <= 60 else 2.0  # marker size: long paths get small dots
    fn = result.function
    for ax, p in zip(axes, result.paths, strict=False):
        _draw_landscape(ax, result)
        has_theory |= _draw_theory(ax, p)
        _draw_path(ax, p, size=size)
        box = _zoom_box(result, p)
        if box is not None:
            _draw_zoom(ax, result, p, box, size=size)
        ax.set_title(
            _title(p, fn.name),
            fontsize=11,
            color="darkred" if p.diverged_at is not None else "black",
        )
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{fn.name}: f(x, y) = {fn.formula}    start ({result.start[0]:g}, "
        f"{result.start[1]:g}), {result.steps} steps",
        fontsize=13,
    )
    fig.legend(
        handles=_paths_legend(result, has_theory),
        loc="outside lower center",
        ncols=3,
        frameon=False,
        fontsize=9.5,
    )
    return fig


def _paths_legend(result: PathsResult, has_theory: bool) -> list[Line2D]:
    fn = result.function
    end: dict[str, Any] = {"marker": "o", "color": "0.35", "markeredgecolor": "white"}
    handles = [Line2D([], [], linestyle="", markersize=8, label="end point", **end)]
    if has_theory:
        rules = sorted({p.label for p in result.paths if p.theory is not None and p.theory_drawn})
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                label=f"closed form of {' and '.join(rules)} (computed, not run)",
                **_THEORY,
            )
        )
    if any(p.exit is not None for p in result.paths):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker=(3, 0, -90),
                markersize=10,
                color="0.6",
                markeredgecolor="black",
                label="where the path leaves the view",
            )
        )
    if any(p.diverged_at is not None for p in result.paths):
        handles.append(Line2D([], [], label="diverged", **_diverged_marker()))
    for points, marker, label in (
        (fn.minima, _MINIMUM, "minimum"),
        (fn.saddles, _SADDLE, "saddle point"),
    ):
        if points:
            handles.append(Line2D([], [], linestyle="", label=label, **marker))
    return handles


def paths_gif(result: PathsResult, *, max_frames: int = 60, fps: int = 10) -> bytes:
    """An animated GIF of all paths drawn step by step on one panel, as bytes."""
    fig = Figure(figsize=(8.0, 5.6), layout="constrained")
    ax = fig.subplots()
    _draw_landscape(ax, result, grey=True)  # coloured paths on grey contours
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    fn = result.function
    ax.set_title(f"{fn.name}: f(x, y) = {fn.formula}", fontsize=12)
    lines = []
    for p in result.paths:
        (line,) = ax.plot(
            [],
            [],
            markersize=4,
            linewidth=1.3,
            label=legend_label(p.label, _hyper(p.spec)),
            zorder=4,
            **_path_style(p),
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


def gif_frame_count(result: PathsResult, *, max_frames: int = 60, fps: int = 10) -> int:
    """How many frames :func:`paths_gif` renders (for a progress message)."""
    return min(max_frames, result.steps + 1) + fps // 2


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
def _run_label(run) -> str:
    return legend_label(run.label, run.hyperparameters)


def _run_styles(result: CompareResult) -> list[dict[str, Any]]:

    return styles_for([r.spec for r in result.runs])


def _dataset_name(result: CompareResult) -> str:
    return {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}.get(result.dataset, result.dataset)


def _mark_divergence(ax, x: np.ndarray, y: np.ndarray, at: int | None) -> None:
    """An ``x`` on the last finite point of a run that diverged at iteration ``at``."""
    if at is None:
        return
    finite = np.flatnonzero(np.isfinite(y))
    if len(finite):
        ax.plot(x[finite[-1]], y[finite[-1]], zorder=6, clip_on=False, **_diverged_marker())


def loss_figure(result: CompareResult) -> Figure:
    """The book's figure: smoothed training loss per rule, a marker every 100 iterations,
    y from 0 to 1; each rule in its colour and marker, its learning rate in the legend."""
    fig = Figure(figsize=(9.0, 5.0), layout="constrained")
    ax = fig.subplots()
    it = result.iterations
    every = 100 if len(it) >= 1000 else max(1, len(it) // 20)
    for run, s, style in zip(result.runs, result.smoothed, _run_styles(result), strict=True):
        ax.plot(
            it,
            s,
            markevery=every,
            markersize=6,
            linewidth=1.4,
            label=_legend_label(run),
            **style,
        )
        _mark_divergence(ax, it, np.minimum(s, 1.0), run.diverged_at)
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, it[-1])
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=10, frameon=False)
    p = result.protocol
    ax.set_title(
        f"Training loss on {_dataset_name(result)} (smoothed, Kaiser window 11)\n"
        f"hidden {'-'.join(map(str, p.hidden))} {p.activation}, "
        f"batch {p.batch_size}, seed {p.seed}",
        fontsize=12,
    )
    return fig


def _legend_label(run) -> str:
    label = _run_label(run)
    if run.diverged_at is not None:
        return f"{label}, diverged at {run.diverged_at}"
    return label


def accuracy_range(result: CompareResult) -> tuple[float, float]:
    """The informative range of test accuracy (%): what every run reaches from a quarter
    of the way through training on, with a margin, within [0, 100]. An early poor point
    (SGD's first evaluation, say) would otherwise squeeze the other curves together."""
    late = []
    start = 0.25 * result.protocol.iterations
    for run in result.runs:
        acc = 100.0 * np.asarray(run.test_accuracy, dtype=np.float64)
        keep = (np.asarray(run.eval_iterations) >= start) & np.isfinite(acc)
        late.append(acc[keep] if keep.any() else acc[np.isfinite(acc)][-1:])
    values = np.concatenate(late) if late else np.zeros(0)
    if values.size == 0:
        return 0.0, 100.0
    lo, hi = float(values.min()), float(values.max())
    margin = max(0.1 * (hi - lo), 0.5)
    return max(0.0, lo - margin), min(100.0, hi + margin)


def accuracy_figure(result: CompareResult) -> Figure:
    """Test accuracy (%) of each rule at its evaluation iterations: on the right zoomed on
    :func:`accuracy_range`, on the left every point on the full scale."""
    fig = Figure(figsize=(11.0, 5.0), layout="constrained")
    full, zoom = fig.subplots(1, 2, width_ratios=(1, 3))
    lo, hi = accuracy_range(result)
    for run, style in zip(result.runs, _run_styles(result), strict=True):
        acc = 100.0 * np.asarray(run.test_accuracy, dtype=np.float64)
        for ax in (full, zoom):
            ax.plot(
                run.eval_iterations,
                acc,
                markersize=6 if ax is zoom else 4,
                linewidth=1.4,
                label=_legend_label(run) if ax is zoom else None,
                **style,
            )
    full.axhspan(lo, hi, color="0.85", zorder=0)
    full.set_ylim(0, 100)
    full.set_title("all points", fontsize=11)
    full.set_ylabel("test accuracy (%)")
    zoom.set_ylim(lo, hi)
    zoom.set_title(f"zoom on {lo:.1f}-{hi:.1f}% (the grey band on the left)", fontsize=11)
    for ax in (full, zoom):
        ax.set_xlabel("iterations")
        ax.set_xlim(0, 1.02 * result.iterations[-1])  # room for the last markers
        ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=10, frameon=False)
    fig.suptitle(
        f"Test accuracy on {_dataset_name(result)} (every {result.protocol.eval_every} iterations)",
        fontsize=12,
    )
    return fig
