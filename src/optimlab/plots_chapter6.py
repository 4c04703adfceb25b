"""Figures of chapter 6's other experiments, laid out as the book's.

Each function reads a result object of :mod:`optimlab.experiments` and draws
it; nothing is computed here that the result does not hold. Figures are built
as ``matplotlib.figure.Figure`` objects (no ``pyplot`` state).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .experiments.activations import ActivationsResult
from .experiments.batch_norm import BatchNormResult
from .experiments.hyperparams import HyperparamsResult
from .experiments.regularize import RegularizeResult
from .experiments.weight_init import WeightInitResult

__all__ = [
    "activations_figure",
    "batch_norm_figure",
    "figures",
    "hyperparams_curves_figure",
    "hyperparams_scatter_figure",
    "regularize_figure",
    "weight_init_figure",
]

_ACT_TITLE = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU"}


def activations_figure(result: ActivationsResult) -> Figure:
    """One row per (activation, weight scale), one column per layer: the book's
    ``plt.hist(a.flatten(), 30, range=(0, 1))`` per layer, rows sharing their y axis."""
    rows = [(a, s) for a in result.activations for s in result.scales]
    n_rows, n_cols = len(rows), result.layers
    width, height = 2.0 * n_cols + 1.2, 1.25 * n_rows + 0.8
    fig = Figure(figsize=(width, height))  # a fixed layout: constrained takes seconds here
    fig.subplots_adjust(
        left=1.0 / width,
        right=1 - 0.15 / width,
        bottom=0.35 / height,
        top=1 - 0.8 / height,
        wspace=0.12,
        hspace=0.3,
    )
    axes = np.atleast_2d(fig.subplots(n_rows, n_cols, sharey="row", squeeze=False))
    for r, (a, s) in enumerate(rows):
        hists = [result.get(a, s, c + 1) for c in range(n_cols)]
        clip = a == "relu"  # half the values are exactly 0: the book clips y (ylim 0..7000)
        for c, h in enumerate(hists):
            ax = axes[r, c]
            ax.stairs(h.counts, h.edges, fill=True, color="tab:blue")
            ax.set_xlim(h.edges[0], h.edges[-1])
            ax.tick_params(labelsize=7)
            notes = []
            if clip:
                notes.append(f"{h.counts[0] / h.size:.0%} in first bin")
            if h.outside:
                notes.append(f"{h.outside / h.size:.0%} outside")
            if notes:
                ax.text(
                    0.97,
                    0.92,
                    "\n".join(notes),
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=7,
                    color="0.3",
                )
            if r == 0:
                ax.set_title(f"{c + 1}-layer", fontsize=10)
            if c == 0:
                ax.set_ylabel(f"{_ACT_TITLE.get(a, a)}\n{s}", fontsize=9)
            last_of_activation = r == n_rows - 1 or rows[r + 1][0] != a
            if not last_of_activation:
                ax.tick_params(labelbottom=False)
        if clip:
            rest = max(int(h.counts[1:].max(initial=0)) for h in hists)
            axes[r, 0].set_ylim(0, max(1.25 * rest, 1))
    fig.suptitle(
        f"Activations of {result.layers} layers of {result.units} units on "
        f"{result.samples} random inputs (30 bins; count per bin)",
        fontsize=11,
        y=1 - 0.2 / height,
    )
    return fig


_INIT_MARKERS = {"std=0.01": "o", "Xavier": "s", "He": "D"}  # the book's


def weight_init_figure(result: WeightInitResult) -> Figure:
    """Left, the book's figure: smoothed training loss per initial scale (markers o s D every
    100 iterations, y 0..2.5). Right: test accuracy at each evaluation."""
    fig = Figure(figsize=(12.0, 4.8), layout="constrained")
    ax, ax_acc = fig.subplots(1, 2, width_ratios=(3, 2))
    it = result.iterations
    every = 100 if len(it) >= 1000 else max(1, len(it) // 20)
    for run, s in zip(result.runs, result.smoothed, strict=True):
        marker = _INIT_MARKERS.get(run.label, "^")
        ax.plot(it, s, marker=marker, markevery=every, markersize=5, label=run.label)
        if len(run.eval_iterations):
            ax_acc.plot(run.eval_iterations, run.test_accuracy, marker=marker, label=run.label)
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 2.5)
    ax.set_xlim(0, it[-1])
    ax.legend()
    p = result.protocol
    ax.set_title(
        f"Training loss (smoothed), {result.optimizer}, batch {p.batch_size}, "
        f"{'-'.join(map(str, (784, *p.hidden, 10)))} {p.activation}",
        fontsize=10,
    )
    ax_acc.set_xlabel("iterations")
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_ylim(0, 1)
    ax_acc.set_xlim(0, it[-1])
    ax_acc.grid(alpha=0.3)
    ax_acc.legend(loc="center right")  # std=0.01 lies along the bottom
    ax_acc.set_title(f"Test accuracy ({result.dataset} test set)", fontsize=10)
    return fig


def _grid_shape(n: int, cols: int) -> tuple[int, int]:
    return -(-n // cols), min(n, cols)


def batch_norm_figure(result: BatchNormResult) -> Figure:
    """The book's grid: per initial weight std ``W``, training accuracy per epoch with batch
    normalisation (solid) and without (dashed); y 0..1, labels on the outer panels only."""
    n = len(result.scales)
    rows, cols = _grid_shape(n, 4)
    fig = Figure(figsize=(3.0 * cols, 2.4 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for i, (w, bn, plain) in enumerate(zip(result.scales, result.bn, result.plain, strict=True)):
        ax = axes[i]
        x = np.arange(len(bn.accuracy["train"]))
        ax.plot(x, bn.accuracy["train"], markevery=2, label="Batch Normalization")
        ax.plot(x, plain.accuracy["train"], linestyle="--", label="Normal (without BatchNorm)")
        for c, color in ((bn, "C0"), (plain, "C1")):
            if c.diverged_at is not None:
                ax.text(0.05, 0.88, "diverged", color=color, transform=ax.transAxes, fontsize=8)
        ax.set_title(f"W: {w:.4g}", fontsize=10)
        ax.set_ylim(0, 1.0)
        if i % cols:
            ax.set_yticks([])
        else:
            ax.set_ylabel("accuracy")
        if i < n - cols:
            ax.set_xticks([])
        else:
            ax.set_xlabel("epochs")
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[n - 1].legend(loc="lower right", fontsize=7)
    fig.suptitle(
        f"Training accuracy with and without batch normalisation, by initial weight std W "
        f"({result.train_size} images, {result.optimizer}, batch {result.batch_size})",
        fontsize=11,
    )
    return fig


def regularize_figure(result: RegularizeResult) -> Figure:
    """One panel per setting, the book's figure: train (o) and test (s) accuracy per
    epoch, markers every 10 epochs, y 0..1; the final gap in the title."""
    n = len(result.settings)
    fig = Figure(figsize=(4.6 * n, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)).ravel()
    for k, (s, c) in enumerate(zip(result.settings, result.curves, strict=True)):
        ax = axes[k]
        x = np.arange(len(c.accuracy["train"]))
        ax.plot(x, c.accuracy["train"], marker="o", markevery=10, markersize=4, label="train")
        ax.plot(x, c.accuracy["test"], marker="s", markevery=10, markersize=4, label="test")
        ax.fill_between(x, c.accuracy["test"], c.accuracy["train"], color="0.85", zorder=0)
        ax.set_xlabel("epochs")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.0)
        ax.set_xlim(0, max(len(x) - 1, 1))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        ax.set_title(f"{s.name}\nfinal gap train − test: {result.gap(k):.3f}", fontsize=10)
    fig.suptitle(
        f"Overfitting on {result.train_size} training images "
        f"({'-'.join(map(str, (784, *result.hidden, 10)))}, {result.optimizer}, "
        f"batch {result.batch_size}; test on {result.test_size} images)",
        fontsize=11,
    )
    return fig


def hyperparams_curves_figure(result: HyperparamsResult, top: int = 20) -> Figure:
    """The book's grid of the best ``top`` trials, five per row: validation accuracy (solid)
    and training accuracy (dashed) per epoch, y 0..1, no x ticks."""
    best = result.ranked()[:top]
    rows, cols = _grid_shape(max(len(best), 1), 5)
    fig = Figure(figsize=(2.6 * cols, 2.2 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for i, r in enumerate(best):
        ax = axes[i]
        x = np.arange(len(r.val_accuracy))
        ax.plot(x, r.val_accuracy, label="validation")
        ax.plot(x, r.train_accuracy, "--", label="training")
        ax.set_title(f"Best-{i + 1}", fontsize=10)
        ax.text(
            0.03,
            0.97,
            f"lr {r.lr:.2e}\nwd {r.weight_decay:.2e}\nval {r.final_val:.3f}",
            transform=ax.transAxes,
            va="top",
            fontsize=7,
            color="0.25",
        )
        ax.set_ylim(0.0, 1.0)
        ax.set_xticks([])
        if i % cols:
            ax.set_yticks([])
    for ax in axes[len(best) :]:
        ax.set_visible(False)
    if best:
        axes[0].legend(loc="lower right", fontsize=7)
    s = result.search
    fig.suptitle(
        f"Best {len(best)} of {len(result.trials)} trials by final validation accuracy "
        f"({s.epochs} epochs each)",
        fontsize=11,
    )
    return fig


def hyperparams_scatter_figure(result: HyperparamsResult) -> Figure:
    """Final validation accuracy of every trial over (lr, weight decay) on log axes; the
    best ten ringed, the best starred, diverged trials as x."""
    fig = Figure(figsize=(7.0, 5.4), layout="constrained")
    ax = fig.subplots()
    ok = [r for r in result.trials if r.diverged_at is None and np.isfinite(r.final_val)]
    bad = [r for r in result.trials if r not in ok]
    if ok:
        sc = ax.scatter(
            [r.lr for r in ok],
            [r.weight_decay for r in ok],
            c=[r.final_val for r in ok],
            cmap="viridis",
            vmin=0,
            vmax=1,
            s=40,
            edgecolors="none",
        )
        fig.colorbar(sc, ax=ax, label="final validation accuracy")
        ranked = result.ranked()
        top = [r for r in ranked[:10] if r in ok]
        ax.scatter(
            [r.lr for r in top],
            [r.weight_decay for r in top],
            s=110,
            facecolors="none",
            edgecolors="black",
            linewidths=1,
            label="best 10",
        )
        ax.scatter(
            [ranked[0].lr], [ranked[0].weight_decay], marker="*", s=220, color="red", label="best"
        )
    if bad:
        ax.scatter(
            [r.lr for r in bad],
            [r.weight_decay for r in bad],
            marker="x",
            color="black",
            label="diverged",
        )
    s = result.search
    ax.set_xscale("log")
    ax.set_yscale("log")
    pad = 0.05  # of a decade beyond each end, so that points at the edges show whole
    ax.set_xlim(10 ** (s.lr_range[0] - pad), 10 ** (s.lr_range[1] + pad))
    ax.set_ylim(10 ** (s.weight_decay_range[0] - pad), 10 ** (s.weight_decay_range[1] + pad))
    ax.set_xlabel("learning rate")
    ax.set_ylabel("weight decay λ")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(
        f"Random search: {len(result.trials)} trials, validation accuracy after {s.epochs} epochs",
        fontsize=10,
    )
    return fig


def figures(result: Any, name: str, top: int = 20) -> dict[str, Figure]:
    """``file stem -> Figure`` of a chapter-6 result: its figure as ``name``; a
    hyperparameter search's best ``top`` trials as ``name`` and its scatter as
    ``name_scatter``."""
    if isinstance(result, HyperparamsResult):
        return {
            name: hyperparams_curves_figure(result, top),
            f"{name}_scatter": hyperparams_scatter_figure(result),
        }
    draws: dict[type, Callable[[Any], Figure]] = {
        ActivationsResult: activations_figure,
        WeightInitResult: weight_init_figure,
        BatchNormResult: batch_norm_figure,
        RegularizeResult: regularize_figure,
    }
    return {name: draws[type(result)](result)}
