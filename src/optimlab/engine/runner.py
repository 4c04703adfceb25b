"""The fast engine's training loop: the reference protocol, on the cores in parallel.

What is computed is :func:`optimlab.experiments.train_reference`'s protocol,
step for step (same initial weights, same batches, same update rules through
``Optimizer.step_arrays``, the same post- or pre-update loss per iteration,
test accuracy at the same points, the same divergence rule). How:

* each run is a :class:`~optimlab.engine.net.FlatNet` (flat parameters,
  preallocated buffers, no unused input gradient);
* with post-update losses, the loss forward of batch ``i`` and the gradient
  forward of batch ``i + 1`` share one stacked pass (same weights);
* a worker takes :data:`BLOCK` iterations of one run, then the same
  iterations of its next run, so that one run's arrays stay in the core's
  caches (the results are the same in any order: runs share nothing);
* runs are split over workers (one per core), each with single-threaded BLAS;
  every worker draws the protocol's batches from its own copy of the batch
  generator, so workers never wait for each other. On Linux the workers are
  forked processes writing into shared memory (threads share one interpreter
  lock, which the many small NumPy calls of a step contend for: measured, two
  threads reached about 1.3-1.6 x one, two processes 1.8-2.0 x); elsewhere
  they are threads. The training data is shared, not copied.

Each run's arithmetic does not depend on how runs are split over workers nor
on which other runs are trained with it, so results are the same bit for bit
whatever ``workers`` is.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing as mp
import multiprocessing.connection
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any, cast

import numpy as np
from threadpoolctl import threadpool_limits

from ..optim import Optimizer
from ..procutil import die_with_parent
from ..protocol import (
    Dataset,
    Protocol,
    RunResult,
    batch_indices,
    check_fits,
    init_params,
    prepare_runs,
    run_results,
)
from .net import FlatNet

__all__ = ["default_workers", "train"]

#: workers are forked processes where fork is safe and cheap (Linux), threads elsewhere
FORK_WORKERS = sys.platform.startswith("linux")


def default_workers() -> int:
    """Cores this process may run on (``os.sched_getaffinity``), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class _Record:
    """Results of all runs, written by the workers (each run by one worker only)."""

    losses: np.ndarray
    acc: np.ndarray
    acc_seconds: np.ndarray
    seconds: np.ndarray
    #: the iteration at which each run diverged, 0 while it has not
    diverged: np.ndarray

    @classmethod
    def empty(cls, n_runs: int, n_it: int, n_evals: int, alloc=None) -> _Record:
        alloc = alloc or (lambda shape, dtype: np.empty(shape, dtype=dtype))

        def full(shape, dtype, value):
            a = alloc(shape, dtype)
            a[...] = value
            return a

        return cls(
            losses=full((n_runs, n_it), np.float64, np.nan),
            acc=full((n_runs, n_evals), np.float64, np.nan),
            acc_seconds=full((n_runs, n_evals), np.float64, np.nan),
            seconds=full(n_runs, np.float64, 0.0),
            diverged=full(n_runs, np.int64, 0),
        )


def _shared_array(shape, dtype) -> np.ndarray:
    """An array in anonymous shared memory: forked children write, the parent reads."""
    count = int(np.prod(shape))
    buf = mmap.mmap(-1, max(1, count * np.dtype(dtype).itemsize))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def _cost(opt: Optimizer) -> float:
    """Rough relative cost of one iteration of a run (the update's share grows with state)."""
    return 1.0 + 0.05 * (len(opt.state_names) + opt.n_scratch)


def _split(opts: Sequence[Optimizer], n_workers: int) -> list[list[int]]:
    """Runs per worker, balanced greedily by :func:`_cost` (largest first)."""
    n_workers = max(1, min(n_workers, len(opts)))
    loads = [0.0] * n_workers
    groups: list[list[int]] = [[] for _ in range(n_workers)]
    for k in sorted(range(len(opts)), key=lambda k: (-_cost(opts[k]), k)):
        w = min(range(n_workers), key=lambda w: (loads[w], w))
        groups[w].append(k)
        loads[w] += _cost(opts[k])
    return [sorted(g) for g in groups if g]


#: iterations a run takes before the next run of its worker takes the same ones. One run
#: at a time keeps its weights, state and activations in the core's caches; switching runs
#: every iteration evicts them (``python benchmarks/block_size.py``). Progress is reported
#: block by block.
BLOCK = 20

#: most bytes a worker's buffer of a block's batches may take (fewer iterations per block
#: for large batches)
BLOCK_BYTES = 1 << 24

#: the clock of ``RunResult.seconds``
clock = time.perf_counter


@dataclass(frozen=True)
class _Job:
    """What the workers train: the runs' networks and optimizers, the data as the
    engine holds it (flat, contiguous), the protocol, and where results go."""

    nets: list[FlatNet]
    opts: list[Optimizer]
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    protocol: Protocol
    rec: _Record
    #: iteration count -> index of the evaluation taken after it
    eval_at: dict[int, int]


class _Batches:
    """A worker's batches of one block of iterations, gathered once, back to back.

    Row block ``j`` of ``x``/``t`` (rows ``jB:(j + 1)B``) holds batch ``i0 - 1 + j``
    while the block starting at iteration ``i0`` runs. Batch ``i`` and the next
    one are then adjacent rows, which is what a stacked forward pass takes; each
    run reads them in place. Every worker draws the protocol's batches from its
    own copy of the batch generator.
    """

    def __init__(
        self, protocol: Protocol, x_train: np.ndarray, t_train: np.ndarray, nets: list[FlatNet]
    ) -> None:
        sizes, n_runs = nets[0].sizes, len(nets)  # draws="book" follows the weights' draws
        self.next_batch = batch_indices(protocol, x_train.shape[0], sizes=sizes, n_runs=n_runs)
        self.x_train, self.t_train = x_train, t_train
        self.B = B = protocol.batch_size
        self.post = protocol.loss_timing == "post"
        self.n_it = protocol.iterations
        d, dtype = x_train.shape[1], np.dtype(protocol.dtype)
        #: iterations per block: at most BLOCK, fewer when the batches would pass BLOCK_BYTES
        self.block = max(1, min(BLOCK, BLOCK_BYTES // (B * d * dtype.itemsize) - 2))
        self.x = np.empty(((self.block + 2) * B, d), dtype=dtype)
        self.t = np.empty((self.block + 2) * B, dtype=t_train.dtype)
        # data in another dtype is cast batch by batch, as the reference does (no full copy)
        self.stage = None if x_train.dtype == dtype else np.empty((B, d), x_train.dtype)
        self.drawn = 0  # batches drawn so far

    def fill(self, i0: int, i1: int) -> None:
        """Make the buffer hold the batches of iterations ``i0:i1`` (post: one more, the
        gradient forward of the block's last iteration, and the one before ``i0``)."""
        B = self.B
        if self.post and i0 > 0:  # batches i0 - 1 and i0 were the last two of the block before
            np.copyto(self.x[: 2 * B], self.x[self.block * B : (self.block + 2) * B])
            np.copyto(self.t[: 2 * B], self.t[self.block * B : (self.block + 2) * B])
        while self.drawn < (min(i1 + 1, self.n_it) if self.post else i1):
            self._draw(self.drawn - i0 + 1)
            self.drawn += 1

    def _draw(self, j: int) -> None:
        """The next batch of the protocol into row block ``j``."""
        idx = self.next_batch()
        rows = slice(j * self.B, (j + 1) * self.B)
        # indices are in range, so mode="clip" changes nothing; with the default
        # mode="raise", take() writes to a buffer and copies it to out: twice the time
        if self.stage is None:
            np.take(self.x_train, idx, axis=0, out=self.x[rows], mode="clip")
        else:
            np.take(self.x_train, idx, axis=0, out=self.stage, mode="clip")
            np.copyto(self.x[rows], self.stage)
        np.take(self.t_train, idx, axis=0, out=self.t[rows], mode="clip")


def _post_block(job: _Job, k: int, buf: _Batches, i0: int, i1: int) -> bool:
    """Iterations ``i0:i1`` of run ``k`` with post-update losses; False if it diverged.

    Batch ``i`` is rows ``B:2B`` of the previous stacked pass, activations and
    softmax gradient included: backward, step, then one forward of batch ``i``
    (its post-update loss) stacked with batch ``i + 1`` (its gradient forward).
    """
    net, opt, items = job.nets[k], job.opts[k], [("params", job.nets[k].w, job.nets[k].g)]
    xb, tb, B, last = buf.x, buf.t, buf.B, buf.n_it - 1
    t0 = clock()
    if i0 == 0:  # the gradient forward of batch 0, into activation rows B:2B
        net.forward(xb, tb, lo=B, hi=2 * B, grad_at=B)
    for i in range(i0, i1):
        j = (i - i0 + 1) * B  # batch i's first row in xb
        net.backward(xb[j - B : j + B], at=B)
        opt.step_arrays(items)
        if i == last:
            loss = net.forward(xb[j : j + B], tb[j : j + B], lo=0, hi=B, loss_at=0)
        else:  # post-update loss of batch i and gradient forward of i + 1
            x2, t2 = xb[j : j + 2 * B], tb[j : j + 2 * B]
            loss = net.forward(x2, t2, lo=0, hi=2 * B, loss_at=0, grad_at=B)
        t = _record(job, k, i, loss + net.decay(), t0)
        if t is None:
            return False
        t0 = t
    job.rec.seconds[k] += clock() - t0
    return True


def _pre_block(job: _Job, k: int, buf: _Batches, i0: int, i1: int) -> bool:
    """Iterations ``i0:i1`` of run ``k`` with pre-update losses; False if it diverged."""
    net, opt, items = job.nets[k], job.opts[k], [("params", job.nets[k].w, job.nets[k].g)]
    xb, tb, B = buf.x, buf.t, buf.B
    t0 = clock()
    for i in range(i0, i1):
        j = (i - i0 + 1) * B  # batch i's first row in xb
        xi, ti = xb[j : j + B], tb[j : j + B]
        loss = net.forward(xi, ti, lo=0, hi=B, loss_at=0, grad_at=0) + net.decay()
        net.backward(xi, at=0)
        opt.step_arrays(items)
        t = _record(job, k, i, loss, t0)
        if t is None:
            return False
        t0 = t
    job.rec.seconds[k] += clock() - t0
    return True


def _record(job: _Job, k: int, i: int, loss: float, t0: float) -> float | None:
    """Store run ``k``'s loss of iteration ``i``, and its test accuracy if due (taken off
    the clock). Returns the time to go on timing from, or None if the run diverged
    (its time is then added and ``diverged`` set)."""
    rec = job.rec
    rec.losses[k, i] = loss
    if not math.isfinite(loss):
        rec.seconds[k] += clock() - t0
        rec.diverged[k] = i + 1
        return None
    e = job.eval_at.get(i + 1)
    if e is None:
        return t0
    rec.seconds[k] += clock() - t0
    rec.acc[k, e] = job.nets[k].accuracy(job.x_test, job.t_test)  # leaves activations alone
    rec.acc_seconds[k, e] = rec.seconds[k]
    return clock()


def _run_group(
    job: _Job, ks: list[int], slot: int, report: Callable[[int, int], None], stop: threading.Event
) -> None:
    """Train runs ``ks`` for all iterations on the same batches, a block of iterations of
    one run at a time (:class:`_Batches`); ``report(slot, i)`` after each block."""
    buf = _Batches(job.protocol, job.x_train, job.t_train, job.nets)
    run_block = _post_block if buf.post else _pre_block
    active = list(ks)
    for i0 in range(0, buf.n_it, buf.block):
        if stop.is_set():
            return
        i1 = min(i0 + buf.block, buf.n_it)
        buf.fill(i0, i1)
        active = [k for k in active if run_block(job, k, buf, i0, i1)]
        report(slot, i1)
        if not active:
            report(slot, buf.n_it)
            return


def train(
    optimizers: Sequence[str | Optimizer],
    data: Dataset,
    protocol: Protocol,
    *,
    labels: Sequence[str] | None = None,
    progress: Callable[[int, np.ndarray], None] | None = None,
    workers: int | None = None,
) -> list[RunResult]:
    """Run the protocol for each optimizer; same results as ``train_reference``, faster.

    Parameters
    ----------
    optimizers : list of str or Optimizer
        Specs (``"adam:lr=0.01"``) or fresh optimizer instances, one per run.
        Instances are stepped in place (their state holds the flat buffer's).
    data, protocol, labels
        As :func:`optimlab.experiments.train_reference`.
    progress : callable, optional
        ``progress(i, losses)`` once each iteration ``i`` (1-based) is done for every
        run, with each run's loss of iteration ``i``; called from the calling thread.
    workers : int, optional
        Workers to spread the runs over (default: the cores available): forked
        processes on Linux, threads elsewhere. Results do not depend on it.

    ``RunResult.seconds`` is each run's own compute time (its share of the
    worker it ran on), excluding evaluation; the runs overlap in wall time.
    """
    opts, labels = prepare_runs(optimizers, labels)
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    check_fits(protocol, data)
    job = _job(opts, data, protocol)
    if opts:
        groups = _split(opts, default_workers() if workers is None else workers)
        _run(job, groups, progress)
    rec = job.rec
    diverged = [int(d) or None for d in rec.diverged]
    return run_results(
        opts,
        labels,
        protocol.eval_points(),
        rec.losses,
        rec.acc,
        rec.acc_seconds,
        rec.seconds,
        diverged,
    )


def _job(opts: list[Optimizer], data: Dataset, protocol: Protocol) -> _Job:
    """The runs' networks (same initial weights as the reference's), the data flat and
    contiguous, and an empty record."""
    n_train, B = data.x_train.shape[0], protocol.batch_size
    x_train = np.ascontiguousarray(data.x_train.reshape(n_train, -1))
    d_in, n_classes = x_train.shape[1], data.n_classes
    nets = [
        FlatNet(
            [d_in, *protocol.hidden, n_classes],
            p,
            activation=protocol.activation,
            weight_decay=protocol.weight_decay,
            dtype=np.dtype(protocol.dtype),
            rows=2 * B if protocol.loss_timing == "post" else B,
            batch=B,
        )
        for p in init_params(protocol, d_in, n_classes, len(opts))
    ]
    evals = protocol.eval_points()
    return _Job(
        nets=nets,
        opts=opts,
        x_train=x_train,
        t_train=np.ascontiguousarray(data.t_train),  # Dataset holds int64 labels
        x_test=np.ascontiguousarray(data.x_test.reshape(data.x_test.shape[0], -1)),
        t_test=data.t_test,
        protocol=protocol,
        rec=_Record.empty(len(opts), protocol.iterations, len(evals)),
        eval_at={e: j for j, e in enumerate(evals)},
    )


def _run(job: _Job, groups: list[list[int]], progress) -> None:
    """Run each group on its own worker (a process on Linux, else a thread) and report."""
    with threadpool_limits(limits=1, user_api="blas"):
        # a daemonic process (a multiprocessing pool's worker) may not start children
        forkable = FORK_WORKERS and not mp.current_process().daemon
        if len(groups) > 1 and forkable:
            _run_processes(job, groups, progress)
        else:
            _run_threads(job, groups, progress)


def _work(job: _Job, groups: list[list[int]], slot: int, report, stop: threading.Event) -> None:
    """One worker: group ``slot`` of the runs, results into ``job.rec``."""
    with np.errstate(all="ignore"):  # divergence is detected and recorded, not warned
        _run_group(job, groups[slot], slot, report, stop)


class _Progress:
    """Calls ``progress(i, losses[:, i - 1])`` once for each iteration all workers finished."""

    def __init__(
        self, progress: Callable[[int, np.ndarray], None] | None, losses: np.ndarray
    ) -> None:
        self.progress = progress
        self.losses = losses
        self.reported = 0

    def upto(self, i: int) -> None:
        while self.reported < i:
            self.reported += 1
            if self.progress is not None:
                self.progress(self.reported, self.losses[:, self.reported - 1].copy())


def _run_processes(job: _Job, groups: list[list[int]], progress) -> None:
    """Each group in a forked child; results come back through shared memory and a pipe."""
    ctx = mp.get_context("fork")
    rec = job.rec
    n_runs, n_it = rec.losses.shape
    shared = _Record.empty(n_runs, n_it, rec.acc.shape[1], alloc=_shared_array)
    done = _shared_array(len(groups), np.int64)
    done[:] = 0
    pipes = [ctx.Pipe(duplex=False) for _ in groups]
    procs = [
        ctx.Process(
            target=_child,
            args=(replace(job, rec=shared), groups, s, pipes[s][1], done, os.getpid()),
            daemon=True,
            name=f"optimlab-{s}",
        )
        for s in range(len(groups))
    ]
    report = _Progress(progress, shared.losses)
    pending = {r: s for s, (r, _) in enumerate(pipes)}
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns on fork() in a process with threads (here BLAS's idle
            # pool); the children use BLAS single-threaded and touch no lock of the parent
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            for p in procs:
                p.start()
        for _, w in pipes:
            w.close()
        states = _collect(pending, procs, done, report)
    finally:
        for p in procs:
            if pending and p.is_alive():  # an error or an interrupt: stop the others
                p.terminate()
            if p.pid is not None:
                p.join()
    report.upto(n_it)
    for name in ("losses", "acc", "acc_seconds", "seconds", "diverged"):
        getattr(rec, name)[...] = getattr(shared, name)
    for k, sd in states.items():
        job.opts[k].load_state_dict(sd)


def _child(
    job: _Job, groups: list[list[int]], slot: int, conn: Connection, done, parent: int
) -> None:
    """A forked worker: group ``slot`` into ``job.rec`` (shared memory), its progress
    into ``done[slot]``; sends ``("ok", optimizer states)`` or ``("error", exception)``.
    It dies with ``parent``: a killed command takes its workers with it."""
    die_with_parent(parent)

    def report(s: int, i: int) -> None:
        done[s] = i

    msg: tuple[str, Any]
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            _work(job, groups, slot, report, threading.Event())
        msg = ("ok", {k: job.opts[k].state_dict() for k in groups[slot]})
    except BaseException as e:
        msg = ("error", e)
    try:
        conn.send(msg)
    except Exception:  # something in it does not pickle
        conn.send(("error", RuntimeError(f"engine worker {slot} failed: {msg[1]!r}")))
    conn.close()


def _collect(
    pending: dict[Connection, int], procs: list, done: np.ndarray, report: _Progress
) -> dict[int, dict[str, Any]]:
    """Each worker's optimizer states as its message arrives (``pending`` empties);
    progress reported meanwhile. A worker's error, or its end without a message,
    is raised here."""
    states: dict[int, dict[str, Any]] = {}
    while pending:
        timeout = None if report.progress is None else 0.02
        for r in cast(list[Connection], mp.connection.wait(list(pending), timeout=timeout)):
            slot = pending.pop(r)
            try:
                status, payload = r.recv()
            except EOFError:
                procs[slot].join()
                status, payload = (
                    "error",
                    RuntimeError(
                        f"engine worker {slot} ended without a result "
                        f"(exit code {procs[slot].exitcode})"
                    ),
                )
            if status == "error":
                raise payload
            states.update(payload)
        report.upto(int(done.min()))
    return states


def _run_threads(job: _Job, groups: list[list[int]], progress) -> None:
    """Each group on its own thread (a single group on this one)."""
    n_groups = len(groups)
    done = [0] * n_groups  # the iterations each worker has finished
    cond = threading.Condition()
    stop = threading.Event()
    errors: list[BaseException] = []
    report_upto = _Progress(progress, job.rec.losses)

    def report(slot: int, i: int) -> None:
        with cond:
            done[slot] = i
            cond.notify_all()
        if n_groups == 1:
            report_upto.upto(i)

    def work(slot: int) -> None:
        try:
            _work(job, groups, slot, report, stop)
        except BaseException as e:
            errors.append(e)
            stop.set()
            with cond:
                cond.notify_all()

    if n_groups == 1:
        work(0)
    else:
        threads = [
            threading.Thread(target=work, args=(s,), daemon=True, name=f"optimlab-engine-{s}")
            for s in range(n_groups)
        ]
        for th in threads:
            th.start()
        try:
            while True:
                with cond:
                    cond.wait_for(lambda: errors or min(done) > report_upto.reported, timeout=1.0)
                if errors:
                    break
                report_upto.upto(min(done))
                if report_upto.reported >= job.protocol.iterations or not any(
                    th.is_alive() for th in threads
                ):
                    break
        finally:
            stop.set()
            for th in threads:
                th.join()
    if errors:
        raise errors[0]
    report_upto.upto(job.protocol.iterations)
