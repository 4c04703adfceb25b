"""Writing chapter 6's results: each figure as PNG, the data behind it as CSV and JSON.

A result object (:mod:`optimlab.experiments.activations`, ``weight_init``,
``batch_norm``, ``regularize``, ``hyperparams``) has ``.plot()`` and may have
more figures (:func:`figures`), ``csv_rows()`` and ``summary()``. Everything is
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

from .results_io import commit_files, figure_png

__all__ = ["csv_text", "figures", "save_result"]


def csv_text(rows: list[list[Any]]) -> str:
    """Rows as CSV text."""
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def figures(result: Any, name: str) -> dict[str, Any]:
    """``file stem -> Figure``: ``.plot()`` as ``name``, and a hyperparameter search's
    scatter as ``name_scatter``."""
    out = {name: result.plot()}
    if hasattr(result, "plot_scatter"):
        out[f"{name}_scatter"] = result.plot_scatter()
    return out


def save_result(result: Any, out: str | os.PathLike, name: str) -> list[Path]:
    """Write ``name.png`` (and any other figure), ``name.csv`` and ``name.json`` into
    ``out``; return the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[Path, bytes] = {
        out / f"{stem}.png": figure_png(fig) for stem, fig in figures(result, name).items()
    }
    files[out / f"{name}.csv"] = csv_text(result.csv_rows()).encode()
    summary = json.dumps(result.summary(), indent=2, allow_nan=False, ensure_ascii=False)
    files[out / f"{name}.json"] = (summary + "\n").encode()
    return commit_files(files)
