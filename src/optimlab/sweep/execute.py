"""Running a sweep: one run (:func:`run_one`), and the loop that claims, runs and stores them.

Runs execute serially in this process (``workers=1``), in ``workers`` local
processes, or on a Dask distributed cluster (``scheduler="tcp://HOST:PORT"``, or
``DASK_SCHEDULER_ADDRESS``). Wherever a run executes, BLAS uses one thread and
the run's data, seed and code are the same, so its results are bit-identical.

This process is the only one writing to the store: it claims runs (at most as
many as can execute at once), submits them, and writes each result as soon as
it arrives, so a killed client or worker costs only the runs in flight.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
import platform
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..engine import default_workers
from ..experiments import Dataset, train
from .grid import (
    Choice,
    RunConfig,
    SweepPlan,
    default_target,
    final_smoothed,
    select_best,
    time_to_target,
)
from .store import FINISHED, Store, new_owner

__all__ = [
    "SweepError",
    "SweepSummary",
    "default_workers",
    "load_data",
    "run_one",
    "run_sweep",
    "synthetic_dataset",
]

Progress = Callable[[RunConfig, dict[str, Any], int, int], None]


class SweepError(RuntimeError):
    """A sweep could not run (bad executor settings, a failing run, Dask missing)."""


# -- data ------------------------------------------------------------------------------------

_DATA: dict[tuple[Any, ...], Dataset] = {}


def synthetic_dataset(
    n_train: int = 2000, n_test: int = 500, *, dim: int = 64, n_classes: int = 10
) -> Dataset:
    """A small, fixed classification problem (Gaussian clusters) for tests and benchmarks."""
    rng = np.random.default_rng(20240601)
    centres = rng.normal(0.0, 1.0, size=(n_classes, dim))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        t = rng.integers(0, n_classes, size=n)
        x = centres[t] + rng.normal(0.0, 1.5, size=(n, dim))
        return x.astype(np.float32), t.astype(np.int64)

    x_train, t_train = draw(n_train)
    x_test, t_test = draw(n_test)
    return Dataset(x_train, t_train, x_test, t_test, name="synthetic")


def load_data(
    dataset: str,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    data_dir: str | None = None,
) -> Dataset:
    """The dataset of a problem, loaded once per process and kept.

    ``"mnist"`` and ``"fashion-mnist"`` come from :func:`optimlab.data.load_mnist`
    (first ``train_size``/``test_size`` samples); ``"synthetic"`` is
    :func:`synthetic_dataset`.
    """
    key = (dataset, train_size, test_size, data_dir)
    if key not in _DATA:
        if dataset == "synthetic":
            _DATA[key] = synthetic_dataset(train_size or 2000, test_size or 500)
        else:
            from ..data import load_mnist

            (x_tr, t_tr), (x_te, t_te) = load_mnist(
                True, True, False, dataset=dataset, data_dir=data_dir
            )
            _DATA[key] = Dataset(
                x_tr[:train_size],
                t_tr[:train_size],
                x_te[:test_size],
                t_te[:test_size],
                name=dataset,
            )
    return _DATA[key]


# -- one run ---------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    return {"optimlab": __version__, "numpy": np.__version__, "python": platform.python_version()}


def run_one(config: RunConfig, engine: str = "fast") -> dict[str, Any]:
    """Train one run and return its results (plain values and arrays, picklable).

    Keys: ``run_id``, ``status`` (``"done"`` or ``"diverged"``), ``final_loss``,
    ``final_accuracy``, ``diverged_at``, ``wall_seconds``
    (data in memory to results, evaluation included), ``train_seconds`` (updates
    only), ``versions``, ``host``, ``engine`` and ``curves`` (``losses``,
    ``eval_iterations``, ``test_accuracy``, ``eval_seconds``).
    """
    if not isinstance(config, RunConfig):  # another experiment's job (see .trials)
        return config.execute(engine)
    p = config.problem
    data = load_data(p.dataset, train_size=p.train_size, test_size=p.test_size, data_dir=p.data_dir)
    t0 = time.perf_counter()
    (res,) = train(
        [config.optimizer], data, config.protocol(), engine=engine, labels=[config.label]
    )
    wall = time.perf_counter() - t0
    losses = np.asarray(res.losses)
    return {
        "run_id": config.run_id,
        "status": "diverged" if res.diverged_at is not None else "done",
        "final_loss": float(losses[-1]),
        "final_accuracy": res.final_accuracy,
        "diverged_at": res.diverged_at,
        "wall_seconds": wall,
        "train_seconds": float(res.seconds),
        "versions": {**versions(), "engine": engine},
        "host": socket.gethostname(),
        "curves": {
            "losses": losses,
            "eval_iterations": np.asarray(res.eval_iterations),
            "test_accuracy": np.asarray(res.test_accuracy),
            "eval_seconds": np.asarray(res.eval_seconds),
        },
    }


_BLAS_LIMITED = False


def _single_threaded_blas() -> None:
    """Limit BLAS to one thread in this process (workers only; once)."""
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
        _BLAS_LIMITED = True


def _run_in_worker(config: RunConfig, engine: str) -> dict[str, Any]:
    _single_threaded_blas()
    return run_one(config, engine)


# -- where runs execute ----------------------------------------------------------------------


class _Serial:
    """Runs in this process, one at a time, with BLAS limited to one thread meanwhile."""

    kind = "serial"

    def __init__(self, engine: str) -> None:
        from threadpoolctl import threadpool_limits

        self.engine = engine
        self._limits = threadpool_limits(limits=1)

    def slots(self) -> int:
        return 1

    def submit(self, config: RunConfig) -> cf.Future:
        f: cf.Future = cf.Future()
        try:
            f.set_result(run_one(config, self.engine))
        except Exception as e:
            f.set_exception(e)
        return f

    def wait(self, futures: Sequence[Any], timeout: float) -> list[Any]:
        return [f for f in futures if f.done()]

    def close(self) -> None:
        self._limits.restore_original_limits()


class _Local:
    """``workers`` processes (spawned), each with single-threaded BLAS."""

    kind = "local"

    def __init__(self, workers: int, engine: str) -> None:
        self.engine = engine
        self.workers = workers
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_single_threaded_blas,
        )

    def slots(self) -> int:
        return self.workers

    def submit(self, config: RunConfig) -> cf.Future:
        return self._pool.submit(_run_in_worker, config, self.engine)

    def wait(self, futures: Sequence[Any], timeout: float) -> list[Any]:
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Dask:
    """Tasks on a Dask distributed cluster; as many in flight as the cluster has threads."""

    kind = "dask"

    def __init__(self, engine: str, scheduler: str | None, client: Any | None) -> None:
        try:
            import distributed
        except ImportError:
            raise SweepError(
                "running on a Dask cluster needs dask.distributed: pip install optimlab[dask]"
            ) from None
        self.engine = engine
        self._own = client is None
        if client is None:
            try:
                client = distributed.Client(scheduler, timeout="30s", set_as_default=False)
            except (OSError, TimeoutError) as e:
                raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from e
        self.client = client
        self._slots = (0.0, 1)
        self._finished: queue.Queue = queue.Queue()

    def slots(self) -> int:
        checked, n = self._slots
        if time.monotonic() - checked > 2.0:
            n = max(1, sum(self.client.nthreads().values()))
            self._slots = (time.monotonic(), n)
        return n

    def submit(self, config: RunConfig) -> Any:
        fut = self.client.submit(
            _run_in_worker,
            config,
            self.engine,
            pure=False,
            key=f"optimlab-run-{config.run_id}-{os.urandom(4).hex()}",
        )
        fut.add_done_callback(self._finished.put)  # as distributed.as_completed does
        return fut

    def wait(self, futures: Sequence[Any], timeout: float) -> list[Any]:
        """The futures that finished, as soon as one has (or none after ``timeout``)."""
        ours = {id(f) for f in futures}
        got: list[Any] = []
        try:
            got.append(self._finished.get(timeout=timeout))
            while not self._finished.empty():
                got.append(self._finished.get_nowait())
        except queue.Empty:
            pass
        return [f for f in got if id(f) in ours]

    def close(self) -> None:
        if self._own:
            self.client.close()


def _backend(
    workers: int | None, scheduler: str | None, client: Any | None, engine: str, n_runs: int
) -> _Serial | _Local | _Dask:
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if client is not None or scheduler:
        return _Dask(engine, scheduler, client)
    n = default_workers() if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SweepError(f"workers must be an integer >= 1, got {workers!r}")
    n = min(n, max(1, n_runs))
    return _Serial(engine) if n == 1 else _Local(n, engine)


# -- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepSummary:
    """What a call to :func:`run_sweep` did."""

    sweep_id: str
    store: str
    executor: str
    total: int = 0
    computed: int = 0
    skipped: int = 0
    best: dict[str, Choice] = field(default_factory=dict)

    @property
    def all_diverged(self) -> list[str]:
        """Optimizers whose every stage-1 run diverged (no stage 2 for them)."""
        return [k for k, c in self.best.items() if c.lr is None]


class _Heartbeat:
    """Renews the lease of this sweep's runs in flight every ``lease_s / 3`` seconds, from a
    thread with its own connection, so that even a long run in this process keeps its claim."""

    def __init__(self, path: Path, owner: str, lease_s: float) -> None:
        self._ids: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat,
            args=(path, owner, lease_s),
            name="optimlab-sweep-heartbeat",
            daemon=True,
        )
        self._thread.start()

    def track(self, ids: Iterable[str]) -> None:
        with self._lock:
            self._ids = list(ids)

    def _beat(self, path: Path, owner: str, lease_s: float) -> None:
        with Store(path) as store:
            while not self._stop.wait(lease_s / 3):
                with self._lock:
                    ids = list(self._ids)
                if ids:
                    store.renew(ids, owner, lease_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _execute(
    store: Store,
    runs: Sequence[RunConfig],
    backend: Any,
    owner: str,
    *,
    target: float,
    lease_s: float,
    poll_s: float,
    summary: SweepSummary,
    progress: Progress | None,
) -> None:
    by_id = {r.run_id: r for r in runs}
    ids = list(by_id)
    st = store.statuses(ids)
    summary.total += len(ids)
    summary.skipped += sum(st.get(i) in FINISHED for i in ids)
    inflight: dict[Any, RunConfig] = {}
    heartbeat = _Heartbeat(store.path, owner, lease_s)
    try:
        while True:
            st = store.statuses(ids)
            unfinished = [i for i in ids if st.get(i) not in FINISHED]
            if not unfinished and not inflight:
                return
            mine = {c.run_id for c in inflight.values()}
            free = backend.slots() - len(inflight)
            if free > 0:
                todo = [i for i in unfinished if i not in mine]
                for rid in store.claim(todo, owner, limit=free, lease_s=lease_s):
                    heartbeat.track([*(c.run_id for c in inflight.values()), rid])
                    inflight[backend.submit(by_id[rid])] = by_id[rid]
            if inflight:
                for fut in backend.wait(list(inflight), timeout=min(5.0, lease_s / 3)):
                    config = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is not None:
                        store.release([config.run_id], owner, error=repr(exc))
                        raise SweepError(
                            f"run {config.run_id} ({config.optimizer}, seed "
                            f"{config.seed}) failed: {exc!r}"
                        ) from exc
                    result = fut.result()
                    it, sec = time_to_target(
                        result["curves"]["eval_iterations"],
                        result["curves"]["test_accuracy"],
                        result["curves"]["eval_seconds"],
                        target,
                    )
                    result.update(
                        target=target,
                        iterations_to_target=it,
                        seconds_to_target=sec,
                        final_smoothed_loss=final_smoothed(result["curves"]["losses"]),
                    )
                    if store.finish(config.run_id, owner, result):
                        summary.computed += 1
                    if progress is not None:
                        progress(config, result, summary.computed + summary.skipped, summary.total)
            else:  # the rest is running in another sweep: wait for it (or its lease)
                time.sleep(poll_s)
            heartbeat.track(c.run_id for c in inflight.values())
    finally:
        heartbeat.stop()
        if inflight:
            for fut in inflight:
                fut.cancel()
            store.release([c.run_id for c in inflight.values()], owner)


def run_sweep(
    plan: SweepPlan,
    store: str | os.PathLike,
    *,
    target: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any | None = None,
    engine: str = "fast",
    lease_s: float = 60.0,
    poll_s: float = 0.5,
    progress: Progress | None = None,
) -> SweepSummary:
    """Run (or resume) ``plan``, writing every run to the SQLite ``store``.

    Stage 1 and the untuned defaults run first, then stage 2 with each
    optimizer's chosen learning rate. Finished and diverged runs already in the
    store are skipped; runs left ``running`` by a dead process are rerun.
    ``workers``: local processes (default: the cores; 1 runs in this process).
    ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) or a ``distributed.Client`` as
    ``client``: run on Dask instead.
    """
    if target is None:
        target = default_target(plan.problem.dataset)
    if not (isinstance(target, int | float) and 0 <= target <= 1):
        raise ValueError(f"target must be an accuracy in [0, 1], got {target!r}")
    owner = new_owner()
    with Store(store) as st:
        sid = plan.sweep_id
        st.record_sweep(sid, plan.identity(), float(target))
        first = plan.search_runs() + plan.default_runs()
        backend = _backend(workers, scheduler, client, engine, len(first))
        summary = SweepSummary(sid, str(store), backend.kind)
        kw: dict[str, Any] = dict(
            target=float(target), lease_s=lease_s, poll_s=poll_s, summary=summary, progress=progress
        )
        try:
            st.enqueue(sid, first)
            _execute(st, first, backend, owner, **kw)
            search = plan.search_runs()
            rows = {r["id"]: r for r in st.runs([c.run_id for c in search])}
            summary.best = select_best([(c.label, c.lr, _loss_of(rows[c.run_id])) for c in search])
            st.set_selection(sid, {k: v.to_dict() for k, v in summary.best.items()})
            tuned = plan.tuned_runs(summary.best)
            st.enqueue(sid, tuned)
            _execute(st, tuned, backend, owner, **kw)
        finally:
            backend.close()
    return summary


def _loss_of(row: dict[str, Any]) -> float:
    v = row["final_smoothed_loss"]
    return math.nan if v is None or row["status"] == "diverged" else float(v)
