"""Training under the protocol: the reference loop, and :func:`train` choosing an engine.

:func:`train_reference` runs the book-compatible classes step by step
(``MultiLayerNet.gradient``, ``Optimizer.update``): the definition every faster
engine is tested against. :func:`train` runs the engine named in
:data:`ENGINES` (``"fast"``: :func:`optimlab.engine.train`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from ..engine import train as fast_train
from ..optim import Optimizer
from ..protocol import (
    Dataset,
    Protocol,
    RunResult,
    batch_indices,
    check_fits,
    init_nets,
    prepare_runs,
    run_results,
)

__all__ = ["ENGINES", "Trainer", "train", "train_reference"]

#: ``trainer(optimizers, data, protocol, *, labels, progress) -> results``
Trainer = Callable[..., list[RunResult]]


def train_reference(
    optimizers: Sequence[str | Optimizer],
    data: Dataset,
    protocol: Protocol,
    *,
    labels: Sequence[str] | None = None,
    progress: Callable[[int, np.ndarray], None] | None = None,
) -> list[RunResult]:
    """Run the protocol with the book-compatible classes (``MultiLayerNet.gradient`` and
    ``Optimizer.update``): the reference every faster engine is tested against.

    ``progress(i, losses)`` is called after each iteration ``i`` (1-based) with every
    run's loss of that iteration (NaN for a run that diverged before it).

    BLAS runs single-threaded meanwhile, as in the engine's workers: a
    multi-threaded matrix product may split its sums by the number of cores,
    and the reference's last bits would then depend on the machine (measured:
    up to 1.5e-15 apart in float64 at MNIST shapes after 200 iterations).
    """
    opts, labels = prepare_runs(optimizers, labels)
    check_fits(protocol, data)
    with threadpool_limits(limits=1, user_api="blas"):
        return _reference_loop(opts, labels, data, protocol, progress)


def _reference_loop(
    opts: list[Optimizer],
    labels: list[str],
    data: Dataset,
    protocol: Protocol,
    progress: Callable[[int, np.ndarray], None] | None,
) -> list[RunResult]:
    """:func:`train_reference`'s iterations, once its inputs are checked."""
    nets = init_nets(protocol, data.n_features, data.n_classes, len(opts))
    sizes = nets[0].sizes if nets else ()
    next_batch = batch_indices(protocol, data.x_train.shape[0], sizes=sizes, n_runs=len(nets))
    n_it = protocol.iterations
    losses = np.full((len(opts), n_it), np.nan)
    evals = protocol.eval_points()
    acc = np.full((len(opts), len(evals)), np.nan)
    acc_s = np.full((len(opts), len(evals)), np.nan)
    seconds = np.zeros(len(opts))
    diverged: list[int | None] = [None] * len(opts)
    x_test = data.x_test.astype(protocol.dtype, copy=False)
    ei = 0
    for i in range(n_it):
        idx = next_batch()
        xb = data.x_train[idx].astype(protocol.dtype, copy=False)
        tb = data.t_train[idx]
        for k, (net, opt) in enumerate(zip(nets, opts, strict=True)):
            if diverged[k] is not None:
                continue
            t0 = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # divergence is an outcome, reported through diverged_at
                grads = net.gradient(xb, tb)
                pre = net.last_layer.loss + net.weight_decay_loss()
                opt.update(net.params, grads)
                loss = pre if protocol.loss_timing == "pre" else net.loss(xb, tb)
            seconds[k] += time.perf_counter() - t0
            losses[k, i] = loss
            if not math.isfinite(loss):
                diverged[k] = i + 1
        if ei < len(evals) and evals[ei] == i + 1:
            for k, net in enumerate(nets):
                if diverged[k] is None:
                    acc[k, ei] = net.accuracy(x_test, data.t_test)
                    acc_s[k, ei] = seconds[k]
            ei += 1
        if progress is not None:
            progress(i + 1, losses[:, i].copy())
    return run_results(opts, labels, evals, losses, acc, acc_s, seconds, diverged)


#: the engines :func:`train` runs, by name; both compute the same thing (tested equal)
_TRAINERS: dict[str, Trainer] = {"fast": fast_train, "reference": train_reference}
ENGINES = tuple(_TRAINERS)


def train(
    optimizers: Sequence[str | Optimizer],
    data: Dataset,
    protocol: Protocol,
    *,
    engine: str = "fast",
    labels: Sequence[str] | None = None,
    progress: Callable[[int, np.ndarray], None] | None = None,
    workers: int | None = None,
) -> list[RunResult]:
    """Run the protocol for each optimizer; ``engine`` is ``"fast"`` (default) or ``"reference"``.

    Both engines compute the same thing (tested equal); ``"reference"`` runs the
    book-compatible classes step by step, in this process. ``workers`` caps the fast
    engine's worker processes (default: one per core).
    """
    if engine not in _TRAINERS:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    extra = {"workers": workers} if engine == "fast" and workers is not None else {}
    return _TRAINERS[engine](optimizers, data, protocol, labels=labels, progress=progress, **extra)
