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
import re
import signal
import socket
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from .. import __version__
from ..data import load_mnist
from ..data.errors import ChecksumSkippedWarning
from ..engine import default_workers
from ..experiments import Dataset, train
from ..procutil import die_with_parent
from .grid import (
    Choice,
    Problem,
    RunConfig,
    SweepPlan,
    chance_accuracy,
    default_target,
    did_not_learn,
    final_smoothed,
    prior_loss,
    select_best,
    time_to_target,
)
from .store import FINISHED, Store, new_owner

__all__ = [
    "Reporter",
    "SweepError",
    "SweepSummary",
    "check_scheduler_address",
    "default_workers",
    "estimate_run_seconds",
    "load_data",
    "memory_per_run",
    "run_jobs",
    "run_one",
    "run_sweep",
    "synthetic_dataset",
]


class SweepError(RuntimeError):
    """A sweep could not run (bad executor settings, a failing run, Dask missing)."""


class Reporter(Protocol):
    """What :func:`run_sweep` tells as it goes (the methods given here say nothing).

    ``start`` once the store is open and the plan is counted, ``finished`` after each run
    this sweep computed, ``advanced`` when places of the plan need no computing (already
    stored, a tuned run that is also a default run, stage 2 of an optimizer that has no
    learning rate). ``summary.position`` is how many places of ``summary.planned`` are done.
    """

    def start(self, summary: SweepSummary) -> None:
        """The sweep is about to run."""
        return None

    def finished(self, config: RunConfig, result: dict[str, Any], summary: SweepSummary) -> None:
        """``config`` was computed now; ``result`` as :func:`run_one` gives it, plus
        ``final_smoothed_loss`` and ``learned``."""
        return None

    def advanced(self, n: int, summary: SweepSummary) -> None:
        """``n`` places of the plan needed no run."""
        return None

    def notice(self, message: str) -> None:
        """Something the user should know (a worker crash retried, ...)."""
        return None


class _Quiet(Reporter):
    """Says nothing."""


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
            # what learning nothing scores (one value each; see did_not_learn)
            "chance_accuracy": np.array([chance_accuracy(data.t_test)], dtype=np.float64),
            "prior_loss": np.array([prior_loss(data.t_train)], dtype=np.float64),
        },
    }


def estimate_run_seconds(config: RunConfig, engine: str = "fast", sample: int = 50) -> float:
    """Seconds one run of ``config`` takes here, from a short run of ``sample`` updates and one
    evaluation, with BLAS on one thread as in the workers (a rough guide, not a promise)."""
    proto = config.protocol()
    k = min(sample, proto.iterations)
    n_evals = 0 if proto.eval_every == 0 else -(-proto.iterations // proto.eval_every)
    short = replace(
        config,
        problem=replace(
            config.problem, protocol=replace(proto, iterations=k, eval_every=k if n_evals else 0)
        ),
    )
    with threadpool_limits(limits=1):
        result = run_one(short, engine)
    per_update = result["train_seconds"] / k
    per_eval = max(0.0, result["wall_seconds"] - result["train_seconds"])
    return per_update * proto.iterations + per_eval * n_evals


def memory_per_run(problem: Problem) -> int:
    """Bytes of memory a run's curves take at their peak, data excluded: the loss curve
    (float64, one value per update) is held about six times over (the engine's record, the
    result, its smoothed copy and the bytes written to the store)."""
    p = problem.protocol
    n_evals = 0 if p.eval_every == 0 else -(-p.iterations // p.eval_every)
    return 6 * 8 * p.iterations + 4 * 8 * n_evals


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux ``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _worker_init(parent_pid: int) -> None:
    """A local worker: dies with the sweep, leaves Ctrl-C to it, BLAS on one thread, and
    no repeat of data warnings the sweep already printed."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.filterwarnings("ignore", category=ChecksumSkippedWarning)
    _single_threaded_blas()


_BLAS_LIMITED = False


def _single_threaded_blas() -> None:
    """Limit BLAS to one thread in this process (workers only; once)."""
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        threadpool_limits(limits=1)
        _BLAS_LIMITED = True


def _run_in_worker(config: RunConfig, engine: str) -> dict[str, Any]:
    _single_threaded_blas()
    return run_one(config, engine)


# -- where runs execute ----------------------------------------------------------------------


def _local_outcome(fut: cf.Future) -> tuple[dict[str, Any] | None, BaseException | None]:
    """A finished local future's result, or the run's exception."""
    exc = fut.exception()
    return (None, exc) if exc is not None else (fut.result(), None)


class _Serial:
    """Runs in this process, one at a time, with BLAS limited to one thread meanwhile."""

    kind = "serial"

    def __init__(self, engine: str) -> None:
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

    outcome = staticmethod(_local_outcome)

    def restart(self) -> None:
        """Nothing to restart: runs execute in this process."""

    def close(self, abort: bool = False) -> None:
        self._limits.restore_original_limits()


class _Local:
    """``workers`` processes (spawned), each with single-threaded BLAS."""

    kind = "local"

    def __init__(self, workers: int, engine: str) -> None:
        self.engine = engine
        self.workers = workers
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )

    def slots(self) -> int:
        return self.workers

    def submit(self, config: RunConfig) -> cf.Future:
        return self._pool.submit(_run_in_worker, config, self.engine)

    def wait(self, futures: Sequence[Any], timeout: float) -> list[Any]:
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    outcome = staticmethod(_local_outcome)

    def restart(self) -> None:
        """A worker died (the pool is broken): start a fresh pool."""
        self.close(abort=True)
        self._pool = self._new_pool()

    def close(self, abort: bool = False) -> None:
        """Shut the pool down; ``abort``: stop the runs in progress too (an interrupt)."""
        # the executor has no public way to stop running tasks: terminate its processes
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=not abort, cancel_futures=True)
        if abort:
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(10)


_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_ADDRESS = re.compile(
    r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9a-fA-F:]+\]|[^:/\s]+):(?P<port>\d+)$"
)


def check_scheduler_address(address: str) -> str:
    """``address`` if it is a Dask scheduler address ``[tcp://]HOST:PORT``, else ValueError
    saying what is valid."""
    m = _ADDRESS.match(address.strip())
    if m is None or (m["scheme"] or "tcp") not in _SCHEMES or not 0 < int(m["port"]) < 65536:
        raise ValueError(
            f"{address!r} is not a Dask scheduler address; give tcp://HOST:PORT, "
            "e.g. tcp://127.0.0.1:8786 (schemes: " + ", ".join(_SCHEMES) + ")"
        )
    return address.strip()


def _probe(address: str, timeout: float) -> None:
    """Check that something at a ``tcp://`` address speaks first, as a Dask scheduler does
    on every new connection: Dask's own connect waits without bound for a listener that
    accepts and never answers."""
    m = _ADDRESS.match(address)
    if m is None or (m["scheme"] or "tcp") != "tcp":
        return
    host, port = m["host"].strip("[]"), int(m["port"])
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            if not sock.recv(1):
                raise OSError("the connection was closed without a word")
    except TimeoutError:
        raise SweepError(
            f"no Dask scheduler answered at {address} within {timeout:g} s "
            "(something accepts connections there but does not speak Dask)"
        ) from None
    except OSError as e:
        raise SweepError(f"cannot reach the Dask scheduler at {address}: {e}") from None


class _Dask:
    """Tasks on a Dask distributed cluster; as many in flight as the cluster has threads."""

    kind = "dask"
    connect_timeout = 10.0

    def __init__(self, engine: str, scheduler: str | None, client: Any | None) -> None:
        distributed = _import_distributed()
        self.engine = engine
        self.address = scheduler or "the given client's scheduler"
        self._own = client is None
        if client is None:
            assert scheduler is not None
            _probe(scheduler, self.connect_timeout)
            try:
                client = distributed.Client(
                    scheduler, timeout=f"{self.connect_timeout:g}s", set_as_default=False
                )
            except (OSError, TimeoutError) as e:
                raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        self.client = client
        self._slots = (0.0, 1)
        self._finished: queue.Queue = queue.Queue()

    def slots(self) -> int:
        checked, n = self._slots
        if time.monotonic() - checked > 2.0:
            try:
                n = max(1, sum(self.client.nthreads().values()))
            except Exception as e:  # the scheduler went away
                raise self.lost(e) from None
            self._slots = (time.monotonic(), n)
        return n

    def lost(self, exc: BaseException) -> SweepError:
        """The error for a scheduler that went away mid-sweep."""
        why = f": {exc}" if str(exc) else f" ({type(exc).__name__})"
        return SweepError(f"lost the Dask scheduler at {self.address}{why}")

    def submit(self, config: RunConfig) -> Any:
        try:
            fut = self.client.submit(
                _run_in_worker,
                config,
                self.engine,
                pure=False,
                key=f"optimlab-run-{config.run_id}-{os.urandom(4).hex()}",
            )
        except Exception as e:
            raise self.lost(e) from None
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

    def outcome(self, fut: Any) -> tuple[dict[str, Any] | None, BaseException | None]:
        """A finished future's result or the run's exception; a cancelled future (the
        scheduler is gone) raises :class:`SweepError`."""
        if fut.cancelled() or fut.status == "cancelled":
            raise self.lost(cf.CancelledError("the run was cancelled"))
        try:
            exc = fut.exception()
        except Exception as e:  # CancelledError, a closed comm
            raise self.lost(e) from None
        return (None, exc) if exc is not None else (fut.result(), None)

    def restart(self) -> None:
        """Dask retries a task whose worker died by itself."""

    def close(self, abort: bool = False) -> None:
        if self._own:
            try:
                self.client.close(timeout=5 if abort else None)
            except Exception:  # the scheduler is already gone
                pass


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise SweepError(
            "running on a Dask cluster needs dask.distributed: pip install optimlab[dask]"
        ) from None
    return distributed


def _backend(
    workers: int | None, scheduler: str | None, client: Any | None, engine: str, n_runs: int
) -> _Serial | _Local | _Dask:
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if client is not None or scheduler:
        if client is None and scheduler is not None:
            try:
                scheduler = check_scheduler_address(scheduler)
            except ValueError as e:
                raise SweepError(str(e)) from None
        return _Dask(engine, scheduler, client)
    n = default_workers() if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SweepError(f"workers must be an integer >= 1, got {workers!r}")
    n = min(n, max(1, n_runs))
    return _Serial(engine) if n == 1 else _Local(n, engine)


# -- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepSummary:
    """What a call to :func:`run_sweep` did (and, while it runs, has done so far).

    ``planned``: places in the plan (stage 1 + defaults + optimizers x seeds of stage 2);
    ``total``: distinct runs (a tuned run at the default rate is also a default run);
    ``computed``: runs computed now; ``skipped``: runs already stored when the sweep
    started (or finished meanwhile by another sweep on the store); ``shared``: stage-2 places
    that are default runs of this sweep; ``dropped``: stage-2 places of optimizers with no
    learning rate chosen.
    """

    sweep_id: str
    store: str
    executor: str
    slots: int = 1
    planned: int = 0
    total: int = 0
    computed: int = 0
    skipped: int = 0
    shared: int = 0
    dropped: int = 0
    not_learned: int = 0
    stored_before: int = 0  # of stage 1 and the defaults, when the sweep started
    best: dict[str, Choice] = field(default_factory=dict)

    @property
    def position(self) -> int:
        """Places of the plan done so far."""
        return self.computed + self.skipped + self.shared + self.dropped

    @property
    def all_diverged(self) -> list[str]:
        """Optimizers with no stage-1 run that learned (every one diverged or did not learn)."""
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
                    try:
                        store.renew(ids, owner, lease_s)
                    except Exception:  # a full disk: the main loop reports it on its next write
                        pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class _Stage:
    """One call of :func:`_execute`: the runs, where they go, and the sweep's bookkeeping."""

    store: Store
    backend: Any
    owner: str
    target: float
    lease_s: float
    poll_s: float
    summary: SweepSummary
    reporter: Reporter
    seen: set[str] = field(default_factory=set)
    crashes: dict[str, int] = field(default_factory=dict)


def _complete(result: dict[str, Any], target: float) -> dict[str, Any]:
    """Add what the store and the output need to a run's result."""
    c = result["curves"]
    it, sec = time_to_target(c["eval_iterations"], c["test_accuracy"], c["eval_seconds"], target)
    result.update(
        target=target,
        iterations_to_target=it,
        seconds_to_target=sec,
        final_smoothed_loss=final_smoothed(c["losses"]),
    )
    result["learned"] = result["status"] == "done" and not did_not_learn(
        c, result["final_accuracy"]
    )
    return result


def _crashed(ctx: _Stage, inflight: dict[Any, RunConfig], exc: BaseException) -> None:
    """A local worker process died: put every run in flight back in the queue and start a new
    pool, once per run (as Dask retries a task whose worker died); a second crash of a run
    ends the sweep."""
    configs = list(inflight.values())
    inflight.clear()
    ctx.store.release([c.run_id for c in configs], ctx.owner, error=repr(exc))
    again = [c for c in configs if ctx.crashes.get(c.run_id, 0) >= 1]
    if again:
        c = again[0]
        raise SweepError(
            f"a worker process died twice while running run {c.run_id} ({c.label}, lr "
            f"{c.lr:g}, seed {c.seed}); the runs stored so far stay stored"
        )
    for c in configs:
        ctx.crashes[c.run_id] = ctx.crashes.get(c.run_id, 0) + 1
    ctx.reporter.notice(
        f"a worker process died ({exc}); retrying its {len(configs)} run(s) once in a new pool"
    )
    ctx.backend.restart()


def _collect(ctx: _Stage, inflight: dict[Any, RunConfig], fut: Any) -> None:
    """Store the result of a finished future (or fail the sweep with the run's error)."""
    config = inflight[fut]
    result, exc = ctx.backend.outcome(fut)  # a lost scheduler raises: the run stays in flight
    if isinstance(exc, BrokenProcessPool):
        _crashed(ctx, inflight, exc)
        return
    del inflight[fut]
    if exc is not None:
        ctx.store.release([config.run_id], ctx.owner, error=repr(exc))
        raise SweepError(
            f"run {config.run_id} ({config.optimizer}, seed {config.seed}) failed: {exc!r}"
        ) from exc
    assert result is not None
    result = _complete(result, ctx.target)
    if ctx.store.finish(config.run_id, ctx.owner, result):
        ctx.summary.computed += 1
        ctx.summary.not_learned += result["status"] == "done" and not result["learned"]
        ctx.reporter.finished(config, result, ctx.summary)


def _execute(ctx: _Stage, runs: Sequence[RunConfig]) -> None:
    """Run those of ``runs`` not finished yet, counting the others in the summary."""
    by_id = {r.run_id: r for r in runs}
    ids = list(by_id)
    new = [i for i in ids if i not in ctx.seen]  # not already a run of an earlier stage
    ctx.seen.update(ids)
    st = ctx.store.statuses(new)
    stored = sum(st.get(i) in FINISHED for i in new)
    s = ctx.summary
    s.total += len(new)
    s.shared += len(runs) - len(new)
    s.skipped += stored
    ctx.reporter.advanced(len(runs) - len(new) + stored, s)
    before = s.computed
    inflight: dict[Any, RunConfig] = {}
    heartbeat = _Heartbeat(ctx.store.path, ctx.owner, ctx.lease_s)
    try:
        while True:
            st = ctx.store.statuses(ids)
            unfinished = [i for i in ids if st.get(i) not in FINISHED]
            if not unfinished and not inflight:
                break
            mine = {c.run_id for c in inflight.values()}
            free = ctx.backend.slots() - len(inflight)
            if free > 0:
                todo = [i for i in unfinished if i not in mine]
                for rid in ctx.store.claim(todo, ctx.owner, limit=free, lease_s=ctx.lease_s):
                    heartbeat.track([*(c.run_id for c in inflight.values()), rid])
                    inflight[ctx.backend.submit(by_id[rid])] = by_id[rid]
            if inflight:
                for fut in ctx.backend.wait(list(inflight), timeout=min(5.0, ctx.lease_s / 3)):
                    if fut in inflight:
                        _collect(ctx, inflight, fut)
            else:  # the rest is running in another sweep: wait for it (or its lease)
                time.sleep(ctx.poll_s)
            heartbeat.track(c.run_id for c in inflight.values())
    finally:
        heartbeat.stop()
        if inflight:
            for fut in inflight:
                fut.cancel()
            ctx.store.release([c.run_id for c in inflight.values()], ctx.owner)
    # runs another sweep on the same store finished meanwhile
    others = len(new) - stored - (s.computed - before)
    s.skipped += others
    ctx.reporter.advanced(others, s)


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
    reporter: Reporter | None = None,
) -> SweepSummary:
    """Run (or resume) ``plan``, writing every run to the SQLite ``store``.

    Stage 1 and the untuned defaults run first, then stage 2 with each
    optimizer's chosen learning rate. Finished and diverged runs already in the
    store are skipped; runs left ``running`` by a dead process are rerun.
    ``workers``: local processes (default: the cores; 1 runs in this process).
    ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) or a ``distributed.Client`` as
    ``client``: run on Dask instead (reached before the store is created or opened).
    ``reporter`` hears about progress (:class:`Reporter`). On an interrupt
    (KeyboardInterrupt) the runs in flight are stopped and put back in the queue.
    """
    if target is None:
        target = default_target(plan.problem.dataset)
    if not (isinstance(target, int | float) and 0 <= target <= 1):
        raise ValueError(f"target must be an accuracy in [0, 1], got {target!r}")
    reporter = reporter or _Quiet()
    first = plan.search_runs() + plan.default_runs()
    backend = _backend(workers, scheduler, client, engine, len(first))
    aborted = True
    try:
        with Store(store) as st:
            sid = plan.sweep_id
            summary = SweepSummary(sid, str(store), backend.kind, backend.slots())
            summary.planned = len(first) + len(plan.optimizers) * plan.seeds
            ctx = _Stage(
                st, backend, new_owner(), float(target), lease_s, poll_s, summary, reporter
            )
            st.record_sweep(sid, plan.identity(), float(target))
            st.enqueue(sid, first)
            done = st.statuses([c.run_id for c in first])
            summary.stored_before = sum(v in FINISHED for v in done.values())
            reporter.start(summary)
            _execute(ctx, first)
            search = plan.search_runs()
            summary.best = select_best([_outcome_of(st, c) for c in search])
            st.set_selection(sid, {k: v.to_dict() for k, v in summary.best.items()})
            tuned = plan.tuned_runs(summary.best)
            summary.dropped = len(plan.optimizers) * plan.seeds - len(tuned)
            reporter.advanced(summary.dropped, summary)
            st.enqueue(sid, tuned)
            _execute(ctx, tuned)
        aborted = False
    finally:
        backend.close(abort=aborted)
    return summary


def run_jobs(
    jobs: Sequence[Any],
    store: str | os.PathLike,
    *,
    sweep_id: str,
    identity: dict[str, Any],
    target: float,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any | None = None,
    engine: str = "fast",
    lease_s: float = 60.0,
    poll_s: float = 0.5,
    reporter: Reporter | None = None,
) -> SweepSummary:
    """Run (or resume) ``jobs`` of another experiment as sweep ``sweep_id`` of ``store``, on
    the executors and with the bookkeeping of :func:`run_sweep` (one stage; finished jobs
    are skipped). A job is a picklable object with a store row's attributes (``run_id``,
    ``stage``, ``name``, ``optimizer``, ``lr``, ``seed``, ``label``, ``replicate``,
    ``configuration()``) and ``execute(engine)`` returning what :func:`run_one` returns."""
    reporter = reporter or _Quiet()
    backend = _backend(workers, scheduler, client, engine, len(jobs))
    aborted = True
    try:
        with Store(store) as st:
            summary = SweepSummary(sweep_id, str(store), backend.kind, backend.slots())
            summary.planned = len(jobs)
            st.record_sweep(sweep_id, identity, float(target))
            st.enqueue(sweep_id, jobs)
            reporter.start(summary)
            owner = new_owner()
            ctx = _Stage(st, backend, owner, float(target), lease_s, poll_s, summary, reporter)
            _execute(ctx, jobs)
        aborted = False
    finally:
        backend.close(abort=aborted)
    return summary


def _outcome_of(store: Store, config: RunConfig) -> tuple[str, float, float, bool]:
    """``(label, lr, final smoothed loss, learned)`` of a finished stage-1 run, for
    :func:`select_best` (NaN loss: diverged)."""
    (row,) = store.runs([config.run_id])
    v = row["final_smoothed_loss"]
    if v is None or row["status"] == "diverged":
        return config.label, config.lr, math.nan, False
    c = store.curves(config.run_id)
    learned = not did_not_learn(c, row["final_accuracy"])
    return config.label, config.lr, float(v), learned
