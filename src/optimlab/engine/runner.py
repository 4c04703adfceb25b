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
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..experiments.protocol import (
    Dataset,
    Protocol,
    RunResult,
    batch_indices,
    init_params,
    prepare_runs,
    run_results,
)
from ..optim import Optimizer
from ..procutil import die_with_parent
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


def _run_group(
    ks: list[int],
    nets: list[FlatNet],
    opts: list[Optimizer],
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    t_test: np.ndarray,
    protocol: Protocol,
    rec: _Record,
    slot: int,
    report: Callable[[int, int], None],
    stop: threading.Event,
) -> None:
    """Train runs ``ks`` for all iterations on the same batches, a block of iterations of
    one run at a time.

    The worker gathers a block's batches once, back to back in ``xb``: row
    block ``j`` (rows ``jB:(j + 1)B``) holds batch ``i0 - 1 + j``. Batch ``i``
    and the next one are then adjacent rows, which is what a stacked forward
    pass takes; each run reads them in place.
    """
    next_batch = batch_indices(protocol, x_train.shape[0])
    B, d = protocol.batch_size, x_train.shape[1]
    post = protocol.loss_timing == "post"
    n_it = protocol.iterations
    dtype = np.dtype(protocol.dtype)
    block = max(1, min(BLOCK, BLOCK_BYTES // (B * d * dtype.itemsize) - 2))
    xb = np.empty(((block + 2) * B, d), dtype=dtype)
    tb = np.empty((block + 2) * B, dtype=t_train.dtype)
    # data in another dtype is cast batch by batch, as the reference does (no full copy)
    stage = None if x_train.dtype == dtype else np.empty((B, d), x_train.dtype)
    items = {k: [("params", nets[k].w, nets[k].g)] for k in ks}
    eval_at = {e: j for j, e in enumerate(protocol.eval_points())}
    active = list(ks)
    clock = time.perf_counter

    def draw(j: int) -> None:
        """The next batch of the protocol into row block ``j``."""
        idx = next_batch()
        at = j * B
        # indices are in range, so mode="clip" changes nothing; with the default
        # mode="raise", take() writes to a buffer and copies it to out: twice the time
        if stage is None:
            np.take(x_train, idx, axis=0, out=xb[at : at + B], mode="clip")
        else:
            np.copyto(xb[at : at + B], np.take(x_train, idx, axis=0, out=stage, mode="clip"))
        np.take(t_train, idx, axis=0, out=tb[at : at + B], mode="clip")

    def run_block(k: int, i0: int, i1: int) -> None:
        """Iterations ``i0:i1`` of run ``k``, on the batches in ``xb``."""
        net, opt, rows = nets[k], opts[k], rec.losses[k]
        t0 = clock()
        if post and i0 == 0:  # the gradient forward of batch 0, into activation rows B:2B
            net.forward(xb, tb, B, 2 * B, None, B)
        for i in range(i0, i1):
            j = (i - i0 + 1) * B  # batch i's first row in xb
            if post:
                # batch i is rows B:2B of the previous pass, activations included
                net.backward(xb[j - B : j + B], B)
                opt.step_arrays(items[k])
                if i == n_it - 1:
                    loss = net.forward(xb[j : j + B], tb[j : j + B], 0, B, 0, None)
                else:  # post-update loss of batch i and gradient forward of i + 1
                    loss = net.forward(xb[j : j + 2 * B], tb[j : j + 2 * B], 0, 2 * B, 0, B)
                loss += net.decay()
            else:
                xi, ti = xb[j : j + B], tb[j : j + B]
                loss = net.forward(xi, ti, 0, B, 0, 0) + net.decay()  # before the update
                net.backward(xi, 0)
                opt.step_arrays(items[k])
            rows[i] = loss
            if not math.isfinite(loss):
                rec.seconds[k] += clock() - t0
                rec.diverged[k] = i + 1
                active.remove(k)
                return
            if i + 1 in eval_at:
                rec.seconds[k] += clock() - t0
                e = eval_at[i + 1]
                rec.acc[k, e] = net.accuracy(x_test, t_test)  # leaves the activations alone
                rec.acc_seconds[k, e] = rec.seconds[k]
                t0 = clock()
        rec.seconds[k] += clock() - t0

    drawn = 0  # batches drawn so far
    for i0 in range(0, n_it, block):
        if stop.is_set():
            return
        i1 = min(i0 + block, n_it)
        if post and i0 > 0:  # batches i0 - 1 and i0 were the last two of the block before
            np.copyto(xb[: 2 * B], xb[block * B : (block + 2) * B])
            np.copyto(tb[: 2 * B], tb[block * B : (block + 2) * B])
        # post: up to batch i1, the gradient forward of the block's last iteration
        while drawn < (min(i1 + 1, n_it) if post else i1):
            draw(drawn - i0 + 1)
            drawn += 1
        for k in list(active):
            run_block(k, i0, i1)
        report(slot, i1)
        if not active:
            report(slot, n_it)
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
    dtype = np.dtype(protocol.dtype)
    n_train = data.x_train.shape[0]
    x_train = np.ascontiguousarray(data.x_train.reshape(n_train, -1))
    x_test = np.ascontiguousarray(data.x_test.reshape(data.x_test.shape[0], -1))
    t_train = np.ascontiguousarray(data.t_train)  # Dataset holds int64 labels
    t_test = data.t_test
    d_in = x_train.shape[1]
    n_classes = data.n_classes
    sizes = [d_in, *protocol.hidden, n_classes]
    rows = 2 * protocol.batch_size if protocol.loss_timing == "post" else protocol.batch_size
    nets = [
        FlatNet(
            sizes,
            p,
            activation=protocol.activation,
            weight_decay=protocol.weight_decay,
            dtype=dtype,
            rows=rows,
            batch=protocol.batch_size,
        )
        for p in init_params(protocol, d_in, n_classes, len(opts))
    ]
    K, n_it, evals = len(opts), protocol.iterations, protocol.eval_points()
    rec = _Record.empty(K, n_it, len(evals))
    if K:
        batch_indices(protocol, n_train)  # validates batch_size against the data
        groups = _split(opts, default_workers() if workers is None else workers)
        _run(groups, nets, opts, x_train, t_train, x_test, t_test, protocol, rec, progress)
    diverged = [int(d) or None for d in rec.diverged]
    return run_results(
        opts, labels, evals, rec.losses, rec.acc, rec.acc_seconds, rec.seconds, diverged
    )


def _run(groups, nets, opts, x_train, t_train, x_test, t_test, protocol, rec, progress) -> None:
    """Run each group on its own worker (a process on Linux, else a thread) and report."""

    def group(slot: int, into: _Record, report, stop: threading.Event) -> None:
        with np.errstate(all="ignore"):  # divergence is detected and recorded, not warned
            _run_group(
                groups[slot],
                nets,
                opts,
                x_train,
                t_train,
                x_test,
                t_test,
                protocol,
                into,
                slot,
                report,
                stop,
            )

    with threadpool_limits(limits=1, user_api="blas"):
        # a daemonic process (a multiprocessing pool's worker) may not start children
        forkable = FORK_WORKERS and not mp.current_process().daemon
        if len(groups) > 1 and forkable:
            _run_processes(group, groups, opts, protocol, rec, progress)
        else:
            _run_threads(group, len(groups), protocol, rec, progress)


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


def _run_processes(group, groups, opts, protocol, rec, progress) -> None:
    """Each group in a forked child; results come back through shared memory and a pipe."""
    ctx = mp.get_context("fork")
    shared = _Record.empty(*rec.losses.shape, rec.acc.shape[1], alloc=_shared_array)
    done = _shared_array(len(groups), np.int64)
    done[:] = 0
    parent = os.getpid()

    def child(slot: int, conn) -> None:
        die_with_parent(parent)  # a killed parent takes its workers with it

        def report(s: int, i: int) -> None:
            done[s] = i

        try:
            with threadpool_limits(limits=1, user_api="blas"):
                group(slot, shared, report, threading.Event())
            msg = ("ok", {k: opts[k].state_dict() for k in groups[slot]})
        except BaseException as e:
            msg = ("error", e)
        try:
            conn.send(msg)
        except Exception:  # something in it does not pickle
            conn.send(("error", RuntimeError(f"engine worker {slot} failed: {msg[1]!r}")))
        conn.close()

    pipes = [ctx.Pipe(duplex=False) for _ in groups]
    procs = [
        ctx.Process(target=child, args=(s, pipes[s][1]), daemon=True, name=f"optimlab-{s}")
        for s in range(len(groups))
    ]
    report = _Progress(progress, shared.losses)
    states: dict[int, dict] = {}
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
        while pending:
            timeout = None if progress is None else 0.02
            for r in mp.connection.wait(list(pending), timeout=timeout):
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
    finally:
        for p in procs:
            if pending and p.is_alive():  # an error or an interrupt: stop the others
                p.terminate()
            if p.pid is not None:
                p.join()
    report.upto(protocol.iterations)
    for name in ("losses", "acc", "acc_seconds", "seconds", "diverged"):
        getattr(rec, name)[...] = getattr(shared, name)
    for k, sd in states.items():
        opts[k].load_state_dict(sd)


def _run_threads(group, n_groups, protocol, rec, progress) -> None:
    """Each group on its own thread (a single group on this one)."""
    done = [0] * n_groups  # the iterations each worker has finished
    cond = threading.Condition()
    stop = threading.Event()
    errors: list[BaseException] = []
    report_upto = _Progress(progress, rec.losses)

    def report(slot: int, i: int) -> None:
        with cond:
            done[slot] = i
            cond.notify_all()
        if n_groups == 1:
            report_upto.upto(i)

    def work(slot: int) -> None:
        try:
            group(slot, rec, report, stop)
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
                if report_upto.reported >= protocol.iterations or not any(
                    th.is_alive() for th in threads
                ):
                    break
        finally:
            stop.set()
            for th in threads:
                th.join()
    if errors:
        raise errors[0]
    report_upto.upto(protocol.iterations)
