"""Helpers for the sweep tests: a tiny synthetic problem and what must be bit-identical."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from optimlab.experiments import Protocol
from optimlab.sweep import Problem, SweepPlan

#: everything of a run that must not depend on where or when it ran (timings excluded)
EXACT_COLUMNS = (
    "status",
    "final_loss",
    "final_smoothed_loss",
    "final_accuracy",
    "diverged_at",
    "iterations_to_target",
    "seed",
    "spec",
    "config",
)


def tiny_plan(
    optimizers: tuple[str, ...] = ("sgd", "adam"),
    lrs: tuple[float, ...] = (0.01, 0.1, 30.0),
    seeds: int = 2,
    iterations: int = 60,
    **kw: Any,
) -> SweepPlan:
    """A plan of a few fast runs on synthetic data; lr 30 makes SGD diverge."""
    proto = Protocol(hidden=(16,), iterations=iterations, batch_size=32, eval_every=20)
    problem = Problem("synthetic", proto, train_size=400, test_size=200)
    return SweepPlan(problem, optimizers, lrs=lrs, seeds=seeds, **kw)


def exact_results(store: str | Path) -> dict[str, tuple]:
    """run id -> (exact columns..., loss curve bytes, accuracy curve bytes, eval iterations)."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = db.execute(f"SELECT id, {', '.join(EXACT_COLUMNS)} FROM runs").fetchall()
        out = {}
        for r in rows:
            curves = dict(
                db.execute(
                    "SELECT name, dtype || shape || hex(data) FROM curves WHERE run_id = ? "
                    "AND name IN ('losses', 'test_accuracy', 'eval_iterations')",
                    (r[0],),
                )
            )
            out[r[0]] = (
                *r[1:],
                curves.get("losses"),
                curves.get("test_accuracy"),
                curves.get("eval_iterations"),
            )
        return out
    finally:
        db.close()
