"""Helpers for the sweep tests: a tiny synthetic problem and what must be bit-identical."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from optimlab.experiments import Protocol
from optimlab.sweep import Problem, SweepPlan

#: `optimlab sweep` options of a 14-run sweep of fractions of a second a run on MNIST's first
#: 1000 samples (2 optimizers x 3 rates, then 2 seeds of defaults and tuned rates)
CLI_ARGS = ["--optimizer", "sgd", "--optimizer", "adam", "--lr", "0.01,0.1,1", "--seeds", "2"]
CLI_ARGS += ["--iterations", "120", "--hidden", "16", "--batch-size", "32", "--train-size", "1000"]
CLI_ARGS += ["--test-size", "200", "--eval-every", "40", "--target", "0.5"]

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@contextlib.contextmanager
def dask_processes(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``dask scheduler`` and one ``dask worker`` on 127.0.0.1 as subprocesses (skips the
    test without Dask); yields the address and the scheduler's process."""
    pytest.importorskip("distributed")
    dask = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    port = str(_free_port())
    address = f"tcp://127.0.0.1:{port}"
    logs = [open(tmp_path / name, "w") for name in ("scheduler.log", "worker.log")]
    procs: list[subprocess.Popen] = []
    try:
        cmd = [dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"]
        procs.append(subprocess.Popen(cmd, stdout=logs[0], stderr=subprocess.STDOUT))
        cmd = [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1"]
        cmd += ["--no-nanny", "--no-dashboard", "--death-timeout", "60"]
        procs.append(subprocess.Popen(cmd, stdout=logs[1], stderr=subprocess.STDOUT))
        yield address, procs[0]
    finally:
        for p in reversed(procs):
            _stop(p)
        for f in logs:
            f.close()
