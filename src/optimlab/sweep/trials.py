"""Jobs of other experiments on the sweep's executors and store (``optimlab hyperparams``).

A job is any picklable object with the attributes a store row needs
(``run_id``, ``stage``, ``name``, ``optimizer``, ``lr``, ``seed``, ``label``,
``replicate``, ``configuration()``) and ``execute(engine)`` returning the record
:func:`~optimlab.sweep.execute.run_one` returns.
:func:`~optimlab.sweep.execute.run_jobs` claims, runs and stores them exactly as
:func:`~optimlab.sweep.execute.run_sweep` does its runs (serially, on local
processes or on Dask), so a search that is interrupted resumes where it stopped,
and ``optimlab report`` reads its store.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..experiments.hyperparams import HyperparamSearch, HyperparamsResult, TrialResult
from .execute import Reporter, SweepSummary, run_jobs
from .grid import default_target
from .store import Store

__all__ = ["read_search", "run_search"]

#: ``progress(trial, record, done, total)`` after each trial this call computed
Progress = Callable[[Any, dict[str, Any], int, int], None]


class _TrialProgress(Reporter):
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def finished(self, config: Any, result: dict[str, Any], summary: SweepSummary) -> None:
        self._progress(config, result, summary.position, summary.planned)


def read_search(search: HyperparamSearch, store: str | os.PathLike) -> HyperparamsResult:
    """The finished trials of ``search`` as the store holds them."""
    trials = search.make_trials()
    with Store(store, readonly=True) as st:
        rows = {r["id"]: r for r in st.runs([t.run_id for t in trials])}
        out = []
        for t in trials:
            row = rows.get(t.run_id)
            if row is None or row["status"] not in ("done", "diverged"):
                continue
            c = st.curves(t.run_id)
            out.append(
                TrialResult(
                    t.index,
                    t.lr,
                    t.weight_decay,
                    c["test_accuracy"].copy(),
                    c["train_accuracy"].copy(),
                    row["diverged_at"],
                    row["train_seconds"] or float("nan"),
                )
            )
    return HyperparamsResult(search, out, str(store))


def run_search(
    search: HyperparamSearch,
    store: str | os.PathLike | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any | None = None,
    engine: str = "fast",
    progress: Progress | None = None,
) -> HyperparamsResult:
    """Run (or resume) the random search ``search`` with its trials stored in ``store``
    (an SQLite store as ``optimlab sweep`` writes; None: a temporary one).

    ``workers``/``scheduler``/``client`` as :func:`~optimlab.sweep.run_sweep`.
    ``progress(trial, record, done, total)`` after each trial finishes.
    """
    if store is None:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_search(
                search,
                Path(tmp) / "search.sqlite",
                workers=workers,
                scheduler=scheduler,
                client=client,
                engine=engine,
                progress=progress,
            )
            result.store = None
            return result
    run_jobs(
        search.make_trials(),
        store,
        sweep_id=search.search_id,
        identity={**search.identity(), "trials": search.trials},
        target=default_target(search.dataset),
        workers=workers,
        scheduler=scheduler,
        client=client,
        engine=engine,
        reporter=None if progress is None else _TrialProgress(progress),
    )
    return read_search(search, store)
