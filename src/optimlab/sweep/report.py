"""``optimlab report``: a sweep's results as an HTML page, PNGs and ``runs.csv``.

:func:`summarize` reads a store into a :class:`SweepReport` (numbers only);
:func:`write_report` draws it. Statistics:

* final loss: the last value of the smoothed training loss (the stage-1
  criterion); final accuracy: the last test accuracy;
* mean ± std over the seeds of stage 2 (and of the defaults), diverged runs
  left out of the means and counted;
* 95 % confidence bands: mean ± t(0.975, n-1) · s / √n over the seeds,
  t from a table (:func:`t_quantile_975`);
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from ..curves import mean_ci, smooth_curve, t_quantile_975
from ..plots import MARKERS
from .grid import final_smoothed, time_to_target
from .store import FINISHED, Store, StoreError

__all__ = ["CSV_COLUMNS", "Group", "SweepReport", "summarize", "t_quantile_975", "write_report"]

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
    "final_loss",
    "final_smoothed_loss",
    "final_accuracy",
    "iterations_to_target",
    "seconds_to_target",
    "diverged_at",
    "wall_seconds",
)


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
        return [r for r in self.runs if r["status"] in FINISHED]

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] == "done"]

    @property
    def n_diverged(self) -> int:
        return sum(r["status"] == "diverged" for r in self.runs)

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

    def ranking(self, stage: str) -> list[tuple[str, float, float]]:
        """``(label, mean final loss, mean final accuracy)`` of ``stage``'s groups, best first;
        groups with no run that finished without diverging come last."""
        groups = self.tuned if stage == "tuned" else self.default
        items = [
            (k, g.stat("final_smoothed_loss")[0], g.stat("final_accuracy")[0])
            for k, g in groups.items()
        ]
        return sorted(items, key=lambda t: (math.isnan(t[1]), t[1]))


def summarize(
    store: str | os.PathLike, sweep_id: str | None = None, target: float | None = None
) -> SweepReport:
    """Read one sweep of ``store`` (the most recently run one unless ``sweep_id``).

    ``target`` (test accuracy) recomputes time to target from the curves; default:
    the target the sweep ran with.
    """
    with Store(store, readonly=True) as st:
        sweeps = st.sweeps()
        if not sweeps:
            raise StoreError(f"{store} holds no sweep yet")
        if sweep_id is None:
            sweep = sweeps[-1]
        else:
            found = [s for s in sweeps if s["id"].startswith(sweep_id)]
            if len(found) != 1:
                raise StoreError(
                    f"{store}: no single sweep with id {sweep_id!r}; sweeps: "
                    + ", ".join(s["id"] for s in sweeps)
                )
            sweep = found[0]
        if target is None:
            target = float(sweep["target"])
        linked = st.sweep_runs(sweep["id"])
        curves = {r["id"]: st.curves(r["id"]) for r in linked if r["status"] in FINISHED}
    by_id: dict[str, dict[str, Any]] = {}
    for r in linked:
        row = by_id.setdefault(r["id"], {**r, "roles": []})
        row["roles"].append(r["role"])
        if r["role"] == "tuned" or "replicate" not in row:
            row["replicate"] = r["replicate"]
        c = curves.get(r["id"])
        if c is not None:
            it, sec = time_to_target(
                c["eval_iterations"], c["test_accuracy"], c["eval_seconds"], target
            )
            row.update(
                iterations_to_target=it,
                seconds_to_target=sec,
                final_smoothed_loss=final_smoothed(c["losses"]),
            )
    counts = {s: 0 for s in ("queued", "running", "done", "diverged")}
    for row in by_id.values():
        counts[row["status"]] += 1
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
    )


_STAGE_ORDER = {"search": 0, "default": 1, "tuned": 2}


def final_smoothed_curve(losses: np.ndarray) -> np.ndarray:
    return smooth_curve(losses)


# -- files ---------------------------------------------------------------------------------


def write_csv(report: SweepReport, path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
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


def _figures(report: SweepReport) -> dict[str, Any]:
    figs = {}
    # learning-rate sensitivity
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    search = [r for r in report.rows if "search" in r["roles"]]
    order = list(report.config.get("optimizers", []))
    labels = [k for k in order if any(r["label"] == k for r in search)]
    top = blended_transform_factory(ax.transData, ax.transAxes)
    for label in labels:
        i = order.index(label)
        rs = sorted((r for r in search if r["label"] == label), key=lambda r: r["lr"])
        ok = [r for r in rs if r["status"] == "done" and r["final_smoothed_loss"] is not None]
        color = f"C{i % 10}"
        ax.plot(
            [r["lr"] for r in ok],
            [r["final_smoothed_loss"] for r in ok],
            marker=MARKERS[i % len(MARKERS)],
            color=color,
            label=label,
        )
        div = [r["lr"] for r in rs if r["status"] == "diverged"]
        if div:
            ax.scatter(
                div, [0.97] * len(div), marker="x", color=color, s=60, transform=top, clip_on=False
            )
        best = report.selection.get(label, {}).get("lr")
        chosen = [r for r in ok if best is not None and r["lr"] == best]
        if chosen:
            ax.scatter(
                [best],
                [chosen[0]["final_smoothed_loss"]],
                marker="*",
                s=220,
                color=color,
                edgecolor="black",
                zorder=5,
            )
    lrs = [r["lr"] for r in search if r["lr"] and r["lr"] > 0]
    if lrs:  # diverged runs' crosses do not set the limits; every run may have diverged
        ax.set_xlim(min(lrs) / 2, max(lrs) * 2)
    ax.set_xscale("log")
    if any(r["final_smoothed_loss"] and r["final_smoothed_loss"] > 0 for r in search):
        ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final smoothed training loss")
    ax.set_title("Learning-rate sensitivity (stage 1; ★ chosen, × diverged)")
    if labels:
        ax.legend(fontsize="small")
    fig.tight_layout()
    figs["sensitivity"] = fig
    # tuned curves with 95 % CI bands
    for key, ylabel in (("loss", "smoothed training loss"), ("accuracy", "test accuracy")):
        fig = Figure(figsize=(7, 4.5))
        ax = fig.add_subplot()
        order = list(report.config.get("optimizers", []))
        for label, g in report.tuned.items():
            i = order.index(label) if label in order else len(order)
            curves = g.loss_curves if key == "loss" else g.accuracy_curves
            if curves.size == 0:
                continue
            x = np.arange(1, curves.shape[1] + 1) if key == "loss" else g.eval_iterations
            m, h = mean_ci(curves)
            ax.plot(x, m, color=f"C{i % 10}", label=f"{label} (lr {g.lr:g}, n={curves.shape[0]})")
            ax.fill_between(x, m - h, m + h, color=f"C{i % 10}", alpha=0.25, linewidth=0)
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
        ax.set_xlabel("iterations")
        ax.set_ylabel(ylabel)
        ax.set_title(f"Tuned optimizers: {ylabel}, mean ± 95% CI over seeds")
        if report.tuned:
            ax.legend(fontsize="small")
        fig.tight_layout()
        figs[f"tuned_{key}"] = fig
    return figs


def _fmt(m: float, s: float, digits: int = 4, pct: bool = False) -> str:
    if math.isnan(m):
        return "–"
    if pct:
        return f"{100 * m:.2f} ± {100 * s:.2f} %"
    return f"{m:.{digits}g} ± {s:.2g}"


def _fmt_seconds(v: float) -> str:
    return "not reached" if math.isinf(v) else "–" if math.isnan(v) else f"{v:.3g} s"


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def tuned_table(report: SweepReport) -> tuple[list[str], list[list[str]]]:
    head = [
        "optimizer",
        "tuned lr",
        "seeds",
        "diverged",
        "final loss (mean ± std)",
        "final accuracy (mean ± std)",
        "time to target: median [min, max]",
        "reached",
    ]
    rows = []
    for label, choice in report.selection.items():
        g = report.tuned.get(label)
        if choice.get("lr") is None:
            rows.append([label, "all diverged", "0", "–", "–", "–", "–", "–"])
            continue
        if g is None:
            rows.append([label, f"{choice['lr']:g}", "0", "–", "–", "–", "–", "–"])
            continue
        med, lo, hi, reached, n = g.time_to_target()
        rows.append(
            [
                label,
                f"{g.lr:g}",
                str(len(g.finished)),
                str(g.n_diverged),
                _fmt(*g.stat("final_smoothed_loss")),
                _fmt(*g.stat("final_accuracy"), pct=True),
                f"{_fmt_seconds(med)} [{_fmt_seconds(lo)}, {_fmt_seconds(hi)}]",
                f"{reached}/{n}",
            ]
        )
    return head, rows


def ranking_table(report: SweepReport) -> tuple[list[str], list[list[str]]]:
    d, t = report.ranking("default"), report.ranking("tuned")
    head = [
        "rank",
        "untuned default",
        "lr",
        "final loss",
        "accuracy",
        "tuned",
        "lr",
        "final loss",
        "accuracy",
    ]
    rows = []
    for i in range(max(len(d), len(t))):
        row = [str(i + 1)]
        for items, groups in ((d, report.default), (t, report.tuned)):
            if i < len(items):
                label, loss, acc = items[i]
                row += [
                    label,
                    f"{groups[label].lr:g}",
                    "–" if math.isnan(loss) else f"{loss:.4g}",
                    "–" if math.isnan(acc) else f"{100 * acc:.2f} %",
                ]
            else:
                row += ["", "", "", ""]
        rows.append(row)
    return head, rows


_CSS = """body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%}code{background:#f3f3f3;padding:0 3px}"""


def write_report(
    store: str | os.PathLike,
    out: str | os.PathLike,
    *,
    sweep_id: str | None = None,
    target: float | None = None,
) -> list[Path]:
    """Write ``report.html`` (images embedded), the PNGs and ``runs.csv`` into ``out``."""
    report = summarize(store, sweep_id, target)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    csv_path = out / "runs.csv"
    write_csv(report, csv_path)
    files.append(csv_path)
    images = {}
    for name, fig in _figures(report).items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120)
        (out / f"{name}.png").write_bytes(buf.getvalue())
        files.append(out / f"{name}.png")
        images[name] = base64.b64encode(buf.getvalue()).decode("ascii")
    page = out / "report.html"
    page.write_text(_html(report, images), encoding="utf-8")
    files.insert(0, page)
    return files


def _html(report: SweepReport, images: dict[str, str]) -> str:
    cfg = report.config
    prob = cfg.get("problem", {})
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items() if v)
    warn = ""
    if report.counts["queued"] or report.counts["running"]:
        warn = (
            "<p><b>Incomplete:</b> some runs are not finished; rerun the same "
            "<code>optimlab sweep</code> command to complete them.</p>"
        )
    diverged_all = [k for k, v in report.selection.items() if v.get("lr") is None]
    if diverged_all:
        warn += (
            "<p><b>Every stage-1 run diverged for:</b> "
            + html.escape(", ".join(diverged_all))
            + " (no learning rate chosen; widen <code>--lr</code>).</p>"
        )

    def img(name: str, alt: str) -> str:
        return f'<img alt="{alt}" src="data:image/png;base64,{images[name]}">'

    th, tr = tuned_table(report)
    rh, rr = ranking_table(report)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>optimlab sweep {report.sweep_id}</title>
<style>{_CSS}</style></head><body>
<h1>Optimizer sweep {html.escape(report.sweep_id)}</h1>
<p>Store <code>{html.escape(report.store)}</code>; dataset
<b>{html.escape(str(prob.get("dataset")))}</b>; optimizers
{html.escape(", ".join(cfg.get("optimizers", [])))}; {len(cfg.get("lrs", []))} learning rates;
{cfg.get("seeds")} seeds; target test accuracy {report.target:.1%}. Runs: {counts}.</p>
{warn}
<h2>Tuned optimizers</h2>
<p>Learning rate chosen in stage 1 by the lowest final smoothed training loss (ties: the
smaller rate; diverged runs never chosen), then rerun with {cfg.get("seeds")} seeds. Time to
target is training time until the first evaluation at or above the target; runs that never
reached it count as never.</p>
{_table(th, tr)}
<h2>Ranking: untuned defaults vs tuned</h2>
<p>By mean final smoothed training loss over the seeds (diverged runs left out).</p>
{_table(rh, rr)}
<h2>Learning-rate sensitivity</h2>
{img("sensitivity", "final loss against learning rate")}
<h2>Curves of the tuned optimizers</h2>
{img("tuned_loss", "training loss, mean and 95% CI")}
{img("tuned_accuracy", "test accuracy, mean and 95% CI")}
<h2>Configuration</h2>
<pre>{html.escape(json.dumps(cfg, indent=2))}</pre>
<p>Every run: <code>runs.csv</code>.</p>
</body></html>
"""
