"""``optimlab report``: a sweep's results as an HTML page, PNGs and ``runs.csv``.

:func:`summarize` reads a store into a :class:`SweepReport` (numbers only);
:func:`write_report` draws it. Statistics:

* final loss: the last value of the smoothed training loss (the stage-1
  criterion); final accuracy: the last test accuracy;
* mean ± std over the seeds of stage 2 (and of the defaults), diverged runs
  left out of the means and counted; runs that did not learn
  (:func:`~optimlab.sweep.grid.did_not_learn`) counted and flagged;
* curves: with fewer than :data:`MIN_SEEDS_FOR_BAND` seeds each seed's curve;
  otherwise a 95 % band within the quantity's range: for the loss, the
  geometric mean with exp(mean ± t·s/√n) of the log losses (always > 0); for
  accuracy, mean ± t(0.975, n-1)·s/√n clipped to [0, 1] (t from a table,
  :func:`t_quantile_975`);
* the conclusion's margin: the paired difference of final losses between the
  best and the second tuned optimizer (same seeds: common random numbers),
  mean and 95 % t interval;
* time to target: training seconds (and iterations) until the first
  evaluation at or above the target accuracy; runs that never reached it count
  as infinitely slow, so the median is "not reached" when half or more did not;
* ranking: by mean final loss, untuned defaults beside tuned learning rates.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from ..curves import mean_ci, smooth_curve, t_quantile_975
from ..results_io import OutputError, commit_files, figure_png
from ..style import style_of
from .grid import did_not_learn, final_smoothed, time_to_target
from .store import FINISHED, Store, StoreError

__all__ = [
    "CSV_COLUMNS",
    "MIN_SEEDS_FOR_BAND",
    "Group",
    "ReportWriteError",
    "SweepReport",
    "accuracy_band",
    "loss_band",
    "render_report",
    "summarize",
    "t_quantile_975",
    "write_report",
]

#: fewer seeds than this: each seed's curve is drawn instead of a band
MIN_SEEDS_FOR_BAND = 5
#: the curves every finished run has
CURVES = ("losses", "eval_iterations", "test_accuracy", "eval_seconds")
#: training/test set sizes of the known datasets, for "all" in the header
FULL_SIZES = {"mnist": (60000, 10000), "fashion-mnist": (60000, 10000)}


class ReportWriteError(OSError):
    """The report's files could not be written (e.g. a full disk); none was replaced."""


CSV_COLUMNS = (
    "run_id",
    "stage",
    "optimizer",
    "label",
    "spec",
    "lr",
    "seed",
    "replicate",
    "status",
    "outcome",
    "final_loss",
    "final_smoothed_loss",
    "final_accuracy",
    "iterations_to_target",
    "seconds_to_target",
    "diverged_at",
    "wall_seconds",
)


def loss_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometric mean of positive loss curves (seeds x points) and its 95 % band, computed on
    the log losses and mapped back: every value is > 0, as a loss is."""
    logs = np.log(np.maximum(np.asarray(curves, dtype=np.float64), np.finfo(np.float64).tiny))
    m, h = mean_ci(logs)
    return np.exp(m), np.exp(m - h), np.exp(m + h)


def accuracy_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean accuracy curve (seeds x points) and its 95 % band clipped to [0, 1]."""
    m, h = mean_ci(curves)
    return m, np.clip(m - h, 0.0, 1.0), np.clip(m + h, 0.0, 1.0)


@dataclass
class Group:
    """One optimizer in one stage (``tuned`` or ``default``): its seeds' results."""

    label: str
    stage: str
    lr: float
    runs: list[dict[str, Any]]
    eval_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loss_curves: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # smoothed
    accuracy_curves: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def finished(self) -> list[dict[str, Any]]:
        """Runs with a sound result (damaged ones left out)."""
        return [r for r in self.runs if r["outcome"] in _RESULTS]

    @property
    def ok(self) -> list[dict[str, Any]]:
        """Finished runs that did not diverge (those that did not learn included)."""
        return [r for r in self.finished if r["outcome"] != "diverged"]

    @property
    def n_diverged(self) -> int:
        return sum(r["outcome"] == "diverged" for r in self.runs)

    @property
    def n_not_learned(self) -> int:
        return sum(r["outcome"] == "did not learn" for r in self.runs)

    def stat(self, key: str) -> tuple[float, float]:
        """Mean and std (ddof 1; 0 for one run) of ``key`` over the runs that did not diverge."""
        v = np.array([r[key] for r in self.ok if r[key] is not None], dtype=np.float64)
        if len(v) == 0:
            return math.nan, math.nan
        return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0

    def time_to_target(self) -> tuple[float, float, float, int, int]:
        """Median, min, max training seconds to target (inf: never), reached, finished."""
        fin = self.finished
        secs = np.array(
            [math.inf if r["seconds_to_target"] is None else r["seconds_to_target"] for r in fin],
            dtype=np.float64,
        )
        if len(secs) == 0:
            return math.nan, math.nan, math.nan, 0, 0
        reached = int(np.isfinite(secs).sum())
        return (float(np.median(secs)), float(secs.min()), float(secs.max()), reached, len(secs))


_RESULTS = ("done", "diverged", "did not learn")


@dataclass
class SweepReport:
    """A sweep read from a store, ready to draw."""

    store: str
    sweep_id: str
    config: dict[str, Any]
    target: float
    rows: list[dict[str, Any]]
    selection: dict[str, dict[str, Any]]
    tuned: dict[str, Group]
    default: dict[str, Group]
    counts: dict[str, int]
    #: ``(run id, what is wrong)`` of runs whose stored results are unreadable
    damaged: list[tuple[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every run finished and stage 2 chosen (ranks and a conclusion make sense)."""
        return bool(self.selection) and not (self.counts["queued"] or self.counts["running"])

    def ranking(self, stage: str) -> list[tuple[str, float, float]]:
        """``(label, mean final loss, mean final accuracy)`` of ``stage``'s groups, best first;
        groups with no run that finished without diverging come last."""
        groups = self.tuned if stage == "tuned" else self.default
        items = [
            (k, g.stat("final_smoothed_loss")[0], g.stat("final_accuracy")[0])
            for k, g in groups.items()
        ]
        return sorted(items, key=lambda t: (math.isnan(t[1]), t[1]))

    def compute_seconds(self) -> float:
        """Wall seconds of every finished run, summed (the sweep's compute, not its duration)."""
        return float(sum(r["wall_seconds"] or 0.0 for r in self.rows if r["outcome"] in _RESULTS))

    def period(self) -> tuple[float | None, float | None]:
        """When the first run started and the last finished (epoch seconds)."""
        starts = [r["started_at"] for r in self.rows if r.get("started_at")]
        ends = [r["finished_at"] for r in self.rows if r.get("finished_at")]
        return (min(starts) if starts else None, max(ends) if ends else None)


def summarize(
    store: str | os.PathLike, sweep_id: str | None = None, target: float | None = None
) -> SweepReport:
    """Read one sweep of ``store`` (the most recently run one unless ``sweep_id``).

    ``target`` (test accuracy) recomputes time to target from the curves; default:
    the target the sweep ran with. Runs whose stored results are unreadable (altered
    curves, shapes, types) are listed in ``damaged`` and left out of everything else.
    """
    try:
        with Store(store, readonly=True) as st:
            sweep = _pick_sweep(st, store, sweep_id)
            linked = st.sweep_runs(sweep["id"])
            curves: dict[str, dict[str, np.ndarray] | str] = {}
            for r in linked:
                if r["status"] in FINISHED and r["id"] not in curves:
                    curves[r["id"]] = _read_curves(st, r["id"])
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{store}: cannot read the store ({e})") from None
    if target is None:
        target = float(sweep["target"]) if _is_number(sweep["target"]) else 0.97
    iterations = sweep["config"].get("problem", {}).get("protocol", {}).get("iterations")
    by_id: dict[str, dict[str, Any]] = {}
    damaged: dict[str, str] = {}
    for r in linked:
        row = by_id.setdefault(r["id"], {**r, "roles": [], "outcome": r["status"]})
        row["roles"].append(r["role"])
        if r["role"] == "tuned" or "replicate" not in row:
            row["replicate"] = r["replicate"]
        c = curves.get(r["id"])
        if c is None or r["id"] in damaged:
            continue
        why = c if isinstance(c, str) else _check_run(row, c, iterations)
        if why:
            damaged[r["id"]] = why
            row["outcome"] = "damaged"
            continue
        assert not isinstance(c, str)
        _derive(row, c, float(target))
    counts = {s: 0 for s in ("queued", "running", "done", "diverged")}
    for row in by_id.values():
        counts[row["status"]] += 1
    groups = _groups(linked, by_id, curves)
    rows = sorted(
        by_id.values(),
        key=lambda r: (_STAGE_ORDER.get(r["roles"][0], 9), r["label"], r["lr"], r["replicate"]),
    )
    for r in rows:
        r["stage"] = "+".join(sorted(set(r["roles"]), key=lambda s: _STAGE_ORDER.get(s, 9)))
    return SweepReport(
        str(store),
        sweep["id"],
        sweep["config"],
        float(target),
        rows,
        sweep["selection"] or {},
        groups["tuned"],
        groups["default"],
        counts,
        sorted(damaged.items()),
    )


_STAGE_ORDER = {"search": 0, "default": 1, "tuned": 2}


def _pick_sweep(st: Store, store: Any, sweep_id: str | None) -> dict[str, Any]:
    sweeps = st.sweeps()
    if not sweeps:
        raise StoreError(f"{store} holds no sweep yet")
    if sweep_id is None:
        return sweeps[-1]
    found = [s for s in sweeps if s["id"].startswith(sweep_id)]
    if len(found) != 1:
        raise StoreError(
            f"{store}: no single sweep with id {sweep_id!r}; sweeps: "
            + ", ".join(s["id"] for s in sweeps)
        )
    return found[0]


def _read_curves(st: Store, run_id: str) -> dict[str, np.ndarray] | str:
    """A run's curves, or what is wrong with them."""
    try:
        c = st.curves(run_id)
    except (ValueError, TypeError) as e:  # bad dtype, shape or size (JSONDecodeError too)
        return f"its stored curves are unreadable ({e})"
    missing = [k for k in CURVES if k not in c]
    if missing:
        return f"curves missing: {', '.join(missing)}"
    for k in CURVES:
        if c[k].ndim != 1 or c[k].dtype.kind not in "fiu":
            return (
                f"curve {k} is not a 1-D array of numbers (dtype {c[k].dtype}, shape {c[k].shape})"
            )
    return c


_NUMERIC = ("lr", "final_loss", "final_smoothed_loss", "final_accuracy", "wall_seconds")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_run(row: dict[str, Any], c: dict[str, np.ndarray], iterations: Any) -> str:
    """What is inconsistent in a finished run's row and curves ('' if nothing)."""
    bad = [k for k in _NUMERIC if row.get(k) is not None and not _is_number(row[k])]
    if bad:
        return f"non-numeric {', '.join(bad)}"
    n_eval = len(c["eval_iterations"])
    if isinstance(iterations, int) and len(c["losses"]) != iterations:
        return f"{len(c['losses'])} losses for {iterations} iterations"
    if len(c["losses"]) == 0:
        return "an empty loss curve"
    if len(c["test_accuracy"]) != n_eval or len(c["eval_seconds"]) != n_eval:
        return "evaluation curves of different lengths"
    return ""


def _derive(row: dict[str, Any], c: dict[str, np.ndarray], target: float) -> None:
    """Recompute what depends on the target and the learning test from the curves."""
    it, sec = time_to_target(c["eval_iterations"], c["test_accuracy"], c["eval_seconds"], target)
    row.update(
        iterations_to_target=it,
        seconds_to_target=sec,
        final_smoothed_loss=final_smoothed(c["losses"]),
    )
    if row["status"] == "done" and did_not_learn(c, row["final_accuracy"]):
        row["outcome"] = "did not learn"


def _groups(
    linked: list[dict[str, Any]], by_id: dict[str, dict[str, Any]], curves: dict[str, Any]
) -> dict[str, dict[str, Group]]:
    groups: dict[str, dict[str, Group]] = {"tuned": {}, "default": {}}
    for r in linked:
        if r["role"] in groups:
            g = groups[r["role"]].setdefault(r["label"], Group(r["label"], r["role"], r["lr"], []))
            g.runs.append(by_id[r["id"]])
    for stage in groups.values():
        for g in stage.values():
            ok = [curves[r["id"]] for r in g.ok]
            if ok:
                g.eval_iterations = np.asarray(ok[0]["eval_iterations"])
                g.loss_curves = np.array([final_smoothed_curve(c["losses"]) for c in ok])
                g.accuracy_curves = np.array([c["test_accuracy"] for c in ok])
    return groups


def final_smoothed_curve(losses: np.ndarray) -> np.ndarray:
    return smooth_curve(losses)


# -- files ---------------------------------------------------------------------------------


def csv_text(report: SweepReport) -> str:
    """``runs.csv``: one row per run, :data:`CSV_COLUMNS`."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for r in report.rows:
        out = []
        for k in CSV_COLUMNS:
            v = r.get("id" if k == "run_id" else k)
            out.append(
                ""
                if v is None or (isinstance(v, float) and math.isnan(v))
                else repr(v)
                if isinstance(v, float)
                else v
            )
        w.writerow(out)
    return buf.getvalue()


def write_csv(report: SweepReport, path: Path) -> None:
    commit_files({Path(path): csv_text(report).encode("utf-8")})


def _no_data(ax: Any) -> None:
    ax.text(
        0.5,
        0.5,
        "no data yet",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=14,
        color="gray",
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _sensitivity(report: SweepReport) -> Any:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    search = [r for r in report.rows if "search" in r["roles"]]
    order = list(report.config.get("optimizers", []))
    labels = [k for k in order if any(r["label"] == k for r in search)]
    top = blended_transform_factory(ax.transData, ax.transAxes)
    flat_seen = False
    for label in labels:
        st = style_of(label)
        rs = sorted((r for r in search if r["label"] == label), key=lambda r: r["lr"])
        ok = [r for r in rs if r["outcome"] in ("done", "did not learn")]
        ax.plot(
            [r["lr"] for r in ok],
            [r["final_smoothed_loss"] for r in ok],
            marker=st["marker"],
            color=st["color"],
            label=label,
        )
        flat = [r for r in ok if r["outcome"] == "did not learn"]
        if flat:  # hollow: did not learn
            flat_seen = True
            ax.plot(
                [r["lr"] for r in flat],
                [r["final_smoothed_loss"] for r in flat],
                linestyle="none",
                marker=st["marker"],
                markersize=9,
                markerfacecolor="white",
                markeredgecolor=st["color"],
                zorder=4,
            )
        div = [r["lr"] for r in rs if r["outcome"] == "diverged"]
        if div:  # in a row above the data, one row per optimizer so crosses do not hide
            ax.scatter(
                div,
                [0.97 - 0.035 * labels.index(label)] * len(div),
                marker="x",
                color=st["color"],
                s=60,
                transform=top,
                clip_on=False,
            )
        best = report.selection.get(label, {}).get("lr")
        chosen = [r for r in ok if best is not None and r["lr"] == best]
        if chosen:
            ax.scatter(
                [chosen[0]["lr"]],
                [chosen[0]["final_smoothed_loss"]],
                marker="*",
                s=220,
                color=st["color"],
                edgecolor="black",
                zorder=5,
            )
    if not any(r["outcome"] in _RESULTS for r in search):
        _no_data(ax)
        ax.set_title("Learning-rate sensitivity (stage 1)")
        fig.tight_layout()
        return fig
    lrs = [r["lr"] for r in search if r["lr"] and r["lr"] > 0]
    if lrs:  # diverged runs' crosses do not set the limits; every run may have diverged
        ax.set_xlim(min(lrs) / 2, max(lrs) * 2)
    ax.set_xscale("log")
    losses = [
        r["final_smoothed_loss"]
        for r in search
        if r["outcome"] in ("done", "did not learn") and (r["final_smoothed_loss"] or 0) > 0
    ]
    if losses:  # log axis, with room at the top for the row of diverged crosses
        ax.set_yscale("log")
        lo, hi = math.log10(min(losses)), math.log10(max(losses))
        span = max(hi - lo, 0.5)
        ax.set_ylim(10 ** (lo - 0.08 * span), 10 ** (hi + 0.25 * span))
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final smoothed training loss")
    ax.set_title("Learning-rate sensitivity (stage 1)")
    handles, names = ax.get_legend_handles_labels()
    keys = [
        (
            Line2D(
                [],
                [],
                marker="*",
                markersize=12,
                color="gray",
                markeredgecolor="black",
                linestyle="none",
            ),
            "chosen",
        ),
        (Line2D([], [], marker="x", color="gray", linestyle="none"), "diverged (at top)"),
    ]
    if flat_seen:
        keys.append(
            (
                Line2D([], [], marker="o", markerfacecolor="white", color="gray", linestyle="none"),
                "did not learn (hollow)",
            )
        )
    ax.legend(
        handles + [k for k, _ in keys],
        names + [n for _, n in keys],
        fontsize="small",
        loc="best",
    )
    fig.tight_layout()
    return fig


def _curves_figure(report: SweepReport, key: str) -> Any:
    ylabel = "smoothed training loss" if key == "loss" else "test accuracy"
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    drawn = False
    few = False
    for label, g in _in_order(report, report.tuned):
        curves = g.loss_curves if key == "loss" else g.accuracy_curves
        if curves.size == 0:
            continue
        drawn = True
        color = style_of(label)["color"]
        x = np.arange(1, curves.shape[1] + 1) if key == "loss" else g.eval_iterations
        n = curves.shape[0]
        name = f"{label} (lr {g.lr:g}, {n} seed{'s' if n > 1 else ''})"
        if n < MIN_SEEDS_FOR_BAND:
            few = True
            for k, c in enumerate(curves):
                ax.plot(x, c, color=color, linewidth=1, alpha=0.8, label=name if k == 0 else None)
        else:
            m, lo, hi = loss_band(curves) if key == "loss" else accuracy_band(curves)
            ax.plot(x, m, color=color, label=name)
            ax.fill_between(x, lo, hi, color=color, alpha=0.25, linewidth=0)
    what = (
        "each seed's curve"
        if few
        else ("geometric mean, 95% band" if key == "loss" else "mean, 95% band within [0, 1]")
    )
    ax.set_title(f"Tuned optimizers: {ylabel} ({what})")
    if not drawn:
        _no_data(ax)
        fig.tight_layout()
        return fig
    if key == "loss":
        ax.set_yscale("log")
    else:
        ax.axhline(
            report.target,
            color="gray",
            linestyle="--",
            linewidth=1,
            label=f"target {report.target:.0%}",
        )
        _zoom_accuracy(ax, report)
    ax.set_xlabel("iterations")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _in_order(report: SweepReport, groups: dict[str, Group]) -> list[tuple[str, Group]]:
    """``groups`` in the order the sweep lists its optimizers."""
    order = list(report.config.get("optimizers", []))
    return sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 1e9)


def _zoom_accuracy(ax: Any, report: SweepReport) -> None:
    """Show the informative range: from a little below the lowest accuracy of the last
    three quarters of the evaluations (the first ones would squash the rest) to a little
    above the highest accuracy or the target."""
    groups = [g for g in report.tuned.values() if g.accuracy_curves.size]
    if groups:
        low = min(
            float(np.min(g.accuracy_curves[:, len(g.eval_iterations) // 4 :])) for g in groups
        )
        high = max(float(np.max(g.accuracy_curves)) for g in groups)
        lo = max(0.0, min(low, report.target) - 0.02)
        hi = min(1.0, max(high, report.target) + 0.01)
        ax.set_ylim(lo, hi + 0.002 if hi >= 1.0 else hi)


def _figures(report: SweepReport) -> dict[str, Any]:
    return {
        "sensitivity": _sensitivity(report),
        "tuned_loss": _curves_figure(report, "loss"),
        "tuned_accuracy": _curves_figure(report, "accuracy"),
    }


def _fmt(m: float, s: float, digits: int = 4, pct: bool = False) -> str:
    if math.isnan(m):
        return DASH
    if pct:
        return f"{100 * m:.2f} ± {100 * s:.2f} %"
    return f"{m:.{digits}g} ± {s:.2g}"


DASH = "—"


def _fmt_seconds(v: float) -> str:
    return "not reached" if math.isinf(v) else DASH if math.isnan(v) else f"{v:.3g} s"


def _time_cell(g: Group) -> str:
    med, lo, hi, reached, _ = g.time_to_target()
    if reached == 0:
        return DASH
    return f"{_fmt_seconds(med)} [{_fmt_seconds(lo)}, {_fmt_seconds(hi)}]"


def _table(head: list[str], rows: list[list[str]], text_cols: tuple[int, ...] = (0,)) -> str:
    def cell(tag: str, i: int, v: str) -> str:
        cls = ' class="t"' if i in text_cols else ""
        return f"<{tag}{cls}>{html.escape(str(v))}</{tag}>"

    th = "".join(cell("th", i, h) for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def tuned_table(report: SweepReport) -> tuple[list[str], list[list[str]]]:
    head = [
        "optimizer",
        "tuned lr",
        "seeds",
        "diverged",
        "did not learn",
        "final loss (mean ± std)",
        "final accuracy (mean ± std)",
        "time to target: median [min, max]",
        "reached",
    ]
    rows = []
    for label, choice in report.selection.items():
        g = report.tuned.get(label)
        if choice.get("lr") is None:
            rows.append([label, "none learned", "0"] + [DASH] * 6)
            continue
        if g is None:
            rows.append([label, f"{choice['lr']:g}", "0"] + [DASH] * 6)
            continue
        *_, reached, n = g.time_to_target()
        rows.append(
            [
                label,
                f"{g.lr:g}",
                str(len(g.finished)),
                str(g.n_diverged),
                str(g.n_not_learned),
                _fmt(*g.stat("final_smoothed_loss")),
                _fmt(*g.stat("final_accuracy"), pct=True),
                _time_cell(g),
                f"{reached}/{n}",
            ]
        )
    return head, rows


def ranking_table(report: SweepReport) -> tuple[list[str], list[list[str]]]:
    """Untuned defaults beside tuned rates, best first; ranks only on a complete sweep."""
    d, t = report.ranking("default"), report.ranking("tuned")
    head = ["untuned default", "lr", "final loss", "accuracy"]
    head += ["tuned", "lr", "final loss", "accuracy"]
    rank = report.complete
    rows = []
    for i in range(max(len(d), len(t))):
        row = [str(i + 1)] if rank else []
        for items, groups in ((d, report.default), (t, report.tuned)):
            if i < len(items):
                label, loss, acc = items[i]
                row += [
                    label,
                    f"{groups[label].lr:g}",
                    DASH if math.isnan(loss) else f"{loss:.4g}",
                    DASH if math.isnan(acc) else f"{100 * acc:.2f} %",
                ]
            else:
                row += ["", "", "", ""]
        rows.append(row)
    return (["rank", *head] if rank else head), rows


def conclusion(report: SweepReport) -> str:
    """One line: the best tuned optimizer and its margin over the second, with a 95 % CI
    of the paired difference of final losses over the seeds both ran."""
    if not report.complete:
        return (
            "Incomplete sweep: no conclusion until every run has finished (rerun the same "
            "optimlab sweep command)."
        )
    rank = [t for t in report.ranking("tuned") if not math.isnan(t[1])]
    if not rank:
        return "No tuned optimizer has a finished run that did not diverge."
    best, loss = rank[0][0], rank[0][1]
    g = report.tuned[best]
    head = f"Best tuned optimizer: {best} (lr {g.lr:g}), mean final loss {loss:.4g}"
    if len(rank) == 1:
        return head + "; it is the only tuned optimizer."
    second = rank[1][0]
    a = {r["replicate"]: r["final_smoothed_loss"] for r in g.ok}
    b = {r["replicate"]: r["final_smoothed_loss"] for r in report.tuned[second].ok}
    common = sorted(set(a) & set(b))
    d = np.array([b[k] - a[k] for k in common], dtype=np.float64)
    if len(d) < 2:
        return head + f", {rank[1][1] - loss:.3g} lower than {second} (one seed: no uncertainty)."
    m, h = mean_ci(d)
    lo, hi = float(m - h), float(m + h)
    verdict = "" if lo > 0 else "; the interval includes 0: not distinguishable at this many seeds"
    return (
        head + f", {float(m):.2g} lower than {second} (95 % CI {lo:.2g} to {hi:.2g}, paired over "
        f"{len(d)} seeds){verdict}."
    )


_CSS = """body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:right;white-space:nowrap}th{background:#f3f3f3;white-space:normal}
td.t,th.t{text-align:left}
img{max-width:100%}code{background:#f3f3f3;padding:0 3px}
.conclusion{font-size:1.1em;background:#eef6ee;padding:.6em;border-left:4px solid #4a4}
.meta td{text-align:left;border:none;padding:2px 12px 2px 0}"""


def render_report(report: SweepReport) -> dict[str, bytes]:
    """Every file of the report, as bytes: ``report.html``, the PNGs, ``runs.csv``."""
    pngs = {f"{name}.png": figure_png(fig, dpi=120) for name, fig in _figures(report).items()}
    images = {k[:-4]: base64.b64encode(v).decode("ascii") for k, v in pngs.items()}
    return {
        "report.html": _html(report, images).encode("utf-8"),
        **pngs,
        "runs.csv": csv_text(report).encode("utf-8"),
    }


def write_files(out: str | os.PathLike, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` into ``out`` all or nothing (temporary files, then ``os.replace``);
    :class:`ReportWriteError` names the folder and the reason (e.g. a full disk)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        return commit_files({out / name: data for name, data in files.items()})
    except OutputError as e:
        raise ReportWriteError(e.errno, f"{e}; the report in {out} was left as it was") from None
    except OSError as e:
        raise ReportWriteError(e.errno, f"cannot write the report into {out}: {e}") from None


def write_report(
    store: str | os.PathLike,
    out: str | os.PathLike,
    *,
    sweep_id: str | None = None,
    target: float | None = None,
) -> list[Path]:
    """Write ``report.html`` (images embedded), the PNGs and ``runs.csv`` into ``out``.

    Everything is computed before any file is written, and the files replace the
    old ones all together or not at all.
    """
    return write_files(out, render_report(summarize(store, sweep_id, target)))


def _when(t: float | None) -> str:
    return DASH if t is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def _sizes(prob: dict[str, Any]) -> str:
    full = FULL_SIZES.get(str(prob.get("dataset")), (None, None))
    out = []
    for key, n_all in zip(("train_size", "test_size"), full, strict=True):
        n = prob.get(key)
        out.append(str(n) if n is not None else (f"all {n_all}" if n_all else "all"))
    return " / ".join(out)


def _header(report: SweepReport) -> str:
    cfg = report.config
    prob = cfg.get("problem", {})
    proto = prob.get("protocol", {})
    start, end = report.period()
    items = [
        ("dataset", str(prob.get("dataset"))),
        ("iterations a run", f"{proto.get('iterations')} (batch {proto.get('batch_size')})"),
        ("train / test samples", _sizes(prob)),
        ("optimizers", ", ".join(cfg.get("optimizers", []))),
        ("learning rates (stage 1)", str(len(cfg.get("lrs", [])))),
        ("seeds (stage 2)", str(cfg.get("seeds"))),
        ("target test accuracy", f"{report.target:.1%}"),
        ("total compute", f"{report.compute_seconds() / 60:.1f} min over all runs"),
        ("ran", f"{_when(start)} to {_when(end)}"),
        ("store", f"{report.store} (sweep {report.sweep_id})"),
    ]
    rows = "".join(
        f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in items
    )
    return f'<table class="meta">{rows}</table>'


def _html(report: SweepReport, images: dict[str, str]) -> str:
    cfg = report.config
    prob = cfg.get("problem", {})
    outcomes = [r["outcome"] for r in report.rows]
    kinds = ("done", "did not learn", "diverged", "damaged", "running", "queued")
    counts = ", ".join(f"{outcomes.count(k)} {k}" for k in kinds if outcomes.count(k))
    warn = ""
    if not report.complete:
        warn = (
            "<p><b>Incomplete:</b> some runs are not finished, so there are no ranks and no "
            "conclusion yet; rerun the same <code>optimlab sweep</code> command to complete "
            "them.</p>"
        )
    none_learned = [k for k, v in report.selection.items() if v.get("lr") is None]
    if none_learned:
        warn += (
            "<p><b>Every stage-1 run diverged or did not learn for:</b> "
            + html.escape(", ".join(none_learned))
            + " (no learning rate chosen; widen <code>--lr</code>).</p>"
        )
    if report.damaged:
        items = "".join(
            f"<li><code>{html.escape(rid)}</code>: {html.escape(why)}</li>"
            for rid, why in report.damaged
        )
        warn += (
            f"<p><b>Damaged runs</b> (left out of everything below; the store "
            f"<code>{html.escape(report.store)}</code> was altered):</p><ul>{items}</ul>"
        )

    def img(name: str, alt: str) -> str:
        return f'<img alt="{alt}" src="data:image/png;base64,{images[name]}">'

    th, tr = tuned_table(report)
    rh, rr = ranking_table(report)
    rank_text = (1, 5) if report.complete else (0, 4)
    title = f"Optimizer sweep on {prob.get('dataset')}, {_when(report.period()[1])[:10]}"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
{_header(report)}
<p class="conclusion">{html.escape(conclusion(report))}</p>
<p>Runs: {counts}. Every run: <a href="runs.csv">runs.csv</a>.</p>
{warn}
<h2>Tuned optimizers</h2>
<p>Learning rate chosen in stage 1 by the lowest final smoothed training loss (ties: the
smaller rate; runs that diverged or did not learn never chosen), then rerun with
{cfg.get("seeds")} seeds. <i>Did not learn</i>: final loss no lower than at the start, or
final accuracy at chance level. Time to target is training time until the first evaluation
at or above the target; runs that never reached it count as never ({DASH}: none did).</p>
{_table(th, tr)}
<h2>Untuned defaults vs tuned</h2>
<p>By mean final smoothed training loss over the seeds (diverged runs left out).</p>
{_table(rh, rr, rank_text)}
<h2>Learning-rate sensitivity</h2>
{img("sensitivity", "final loss against learning rate")}
<h2>Curves of the tuned optimizers</h2>
{img("tuned_loss", "training loss of each tuned optimizer")}
{img("tuned_accuracy", "test accuracy of each tuned optimizer")}
<h2>Configuration</h2>
<pre>{html.escape(json.dumps(cfg, indent=2))}</pre>
</body></html>
"""
