"""Writing chapter 6's results: each figure as PNG, the data behind it as CSV and JSON.

A result object (:mod:`optimlab.experiments.activations`, ``weight_init``,
``batch_norm``, ``regularize``, ``hyperparams``) is drawn by
:func:`optimlab.plots_chapter6.figures` and has ``csv_rows()`` and ``summary()``. Everything is
rendered first and written with :func:`optimlab.results_io.commit_files`: all
files are replaced, or none.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from .plots_chapter6 import figures
from .results_io import commit_files, figure_png

__all__ = ["csv_text", "save_result"]


def csv_text(rows: list[list[Any]]) -> str:
    """Rows as CSV text."""
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def save_result(result: Any, out: str | os.PathLike, name: str, top: int = 20) -> list[Path]:
    """Write ``name.png`` (and any other figure; a search draws its best ``top`` trials),
    ``name.csv`` and ``name.json`` into ``out``; return the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[Path, bytes] = {
        out / f"{stem}.png": figure_png(fig) for stem, fig in figures(result, name, top).items()
    }
    files[out / f"{name}.csv"] = csv_text(result.csv_rows()).encode()
    summary = json.dumps(result.summary(), indent=2, allow_nan=False, ensure_ascii=False)
    files[out / f"{name}.json"] = (summary + "\n").encode()
    return commit_files(files)
