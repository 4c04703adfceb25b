"""Writing results to disk: CSV, JSON and the figures (the edges of the commands).

Floats are written with ``repr`` so that reading a CSV back gives the very
values the run produced; non-finite values are written ``nan``/``inf`` in CSV
and ``null`` in JSON.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from . import plots

if TYPE_CHECKING:
    from .experiments.compare import CompareResult
    from .experiments.paths import PathsResult

__all__ = [
    "check_writable",
    "save_compare",
    "save_paths",
    "write_loss_csv",
    "write_paths_csv",
    "write_summary_json",
]


def check_writable(out: str | os.PathLike) -> Path:
    """Create folder ``out`` if needed and check a file can be written there.

    Raises ``OSError`` (with the reason) otherwise; call it before a long run.
    """
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path):
        pass
    return path


def write_paths_csv(result: PathsResult, path: str | os.PathLike) -> None:
    """``optimizer, step, x, y, f``: every iterate of every rule, from step 0 (the start)."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["optimizer", "step", "x", "y", "f"])
        for p in result.paths:
            for k, ((x, y), z) in enumerate(zip(p.xy, p.f, strict=True)):
                w.writerow([p.label, k, repr(float(x)), repr(float(y)), repr(float(z))])


def write_loss_csv(result: CompareResult, path: str | os.PathLike) -> None:
    """``iteration, optimizer, loss``: the loss after each update (iteration 1-based)."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["iteration", "optimizer", "loss"])
        for run in result.runs:
            for i, loss in zip(result.iterations, run.losses, strict=True):
                w.writerow([int(i), run.label, repr(float(loss))])


def write_summary_json(result: CompareResult, path: str | os.PathLike) -> None:
    """:meth:`CompareResult.summary` as indented JSON."""
    with open(path, "w") as fh:
        json.dump(result.summary(), fh, indent=2, allow_nan=False)
        fh.write("\n")


def save_paths(result: PathsResult, out: str | os.PathLike, *, gif: bool = False) -> list[Path]:
    """Write ``paths.png``, ``paths.csv`` (and ``paths.gif``) into ``out``; return them."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "paths.png", out / "paths.csv"]
    plots.save_figure(plots.paths_figure(result), written[0])
    write_paths_csv(result, written[1])
    if gif:
        written.append(out / "paths.gif")
        plots.write_paths_gif(result, written[-1])
    return written


def save_compare(result: CompareResult, out: str | os.PathLike) -> list[Path]:
    """Write ``loss.png``, ``accuracy.png`` (when accuracy was evaluated), ``loss.csv``
    and ``summary.json`` into ``out``; return them."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "loss.png"]
    plots.save_figure(plots.loss_figure(result), written[-1])
    if result.protocol.eval_every > 0:
        written.append(out / "accuracy.png")
        plots.save_figure(plots.accuracy_figure(result), written[-1])
    written.append(out / "loss.csv")
    write_loss_csv(result, written[-1])
    written.append(out / "summary.json")
    write_summary_json(result, written[-1])
    return written
