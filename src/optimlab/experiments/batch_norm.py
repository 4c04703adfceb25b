"""Batch normalisation against initial weight scales (the book's ``batch_norm_test.py``).

The first ``train_size`` (1000) training images, a 784-100x5-10 ReLU net, SGD lr
0.01, batch 100 (10 updates per epoch), 20 book epochs (:mod:`.epochs`): for
each initial weight std in ``logspace(0, -4, 16)``, one net with a
``BatchNormalization`` before every hidden activation and one without, both
``MultiLayerNetExtend`` (:mod:`optimlab.nn`). Training accuracy on all
``train_size`` images is taken after each epoch's first update, as the book.

The two nets of one scale start from the same weights and see the same batches
(each scale has its own seed: ``SeedSequence(seed, spawn_key=(k,))``). The 32
runs spread over the local cores (:mod:`.parallel`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..optim import create
from ..protocol import Dataset
from .epochs import EpochCurves, train_epochs
from .parallel import map_jobs
from .regularize import make_net, subset
from .steppers import stepper

__all__ = ["BatchNormResult", "default_scales", "run_batch_norm"]


def default_scales(n: int = 16) -> np.ndarray:
    """The book's ``np.logspace(0, -4, n)``: initial weight std from 1 down to 1e-4."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of scales must be an integer >= 1, got {n!r}")
    return np.logspace(0, -4, n)


@dataclass
class BatchNormResult:
    """Per weight scale ``scales[k]``: training-accuracy curves with (``bn[k]``) and without
    (``plain[k]``) batch normalisation."""

    scales: np.ndarray
    bn: list[EpochCurves]
    plain: list[EpochCurves]
    train_size: int
    hidden: tuple[int, ...]
    batch_size: int
    epochs: int
    optimizer: str
    seed: int
    dtype: str
    dataset: str = "mnist"

    def final(self, which: str) -> np.ndarray:
        """Final training accuracy per scale of ``"bn"`` or ``"plain"``."""
        runs = self.bn if which == "bn" else self.plain
        return np.array([c.accuracy["train"][-1] for c in runs])

    def summary(self) -> dict[str, Any]:
        return {
            "experiment": "batch-norm",
            "dataset": self.dataset,
            "train_size": self.train_size,
            "hidden": list(self.hidden),
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "optimizer": self.optimizer,
            "seed": self.seed,
            "dtype": self.dtype,
            "scales": [
                {
                    "weight_init_std": float(w),
                    "final_train_accuracy_bn": _finite(b.accuracy["train"][-1]),
                    "final_train_accuracy_plain": _finite(p.accuracy["train"][-1]),
                    "diverged_at_bn": b.diverged_at,
                    "diverged_at_plain": p.diverged_at,
                }
                for w, b, p in zip(self.scales, self.bn, self.plain, strict=True)
            ],
        }

    def csv_rows(self) -> list[list[Any]]:
        """``weight_init_std, epoch, iteration, train_accuracy_bn, train_accuracy_plain``."""
        rows: list[list[Any]] = [
            ["weight_init_std", "epoch", "iteration", "train_accuracy_bn", "train_accuracy_plain"]
        ]
        for w, b, p in zip(self.scales, self.bn, self.plain, strict=True):
            for e, it in enumerate(b.eval_iterations):
                rows.append(
                    [
                        repr(float(w)),
                        e,
                        int(it),
                        repr(float(b.accuracy["train"][e])),
                        repr(float(p.accuracy["train"][e])),
                    ]
                )
        return rows

    def __repr__(self) -> str:
        lines = [
            f"BatchNormResult: {self.train_size} training images, "
            f"{'-'.join(map(str, (784, *self.hidden, 10)))}, {self.optimizer}, batch "
            f"{self.batch_size}, {self.epochs} epochs (seed {self.seed}); final training "
            "accuracy:",
            f"  {'weight std':>10}  {'with BN':>8}  {'without':>8}",
        ]
        for w, b, p in zip(self.scales, self.final("bn"), self.final("plain"), strict=True):
            lines.append(f"  {w:>10.3g}  {b:>8.4f}  {p:>8.4f}")
        return "\n".join(lines)


def _finite(v: float) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


@dataclass(frozen=True)
class _Job:
    data: Dataset
    sizes: tuple[int, ...]
    scale: float
    index: int
    batchnorm: bool
    epochs: int
    batch_size: int
    optimizer: str
    seed: int
    dtype: str
    engine: str


def _run(job: _Job) -> EpochCurves:
    init_ss, batch_ss = np.random.SeedSequence(job.seed, spawn_key=(job.index,)).spawn(2)
    net = make_net(
        job.sizes, weight_init=job.scale, batchnorm=job.batchnorm, seed=init_ss, dtype=job.dtype
    )
    x = job.data.x_train.astype(job.dtype, copy=False)
    t = job.data.t_train
    return train_epochs(
        stepper(net, create(job.optimizer), job.batch_size, job.engine),
        x,
        t,
        {"train": (x, t)},
        epochs=job.epochs,
        batch_size=job.batch_size,
        rng=np.random.default_rng(batch_ss),
    )


def run_batch_norm(
    data: Dataset,
    *,
    scales: Sequence[float] | np.ndarray | None = None,
    train_size: int = 1000,
    hidden: Sequence[int] = (100,) * 5,
    batch_size: int = 100,
    epochs: int = 20,
    optimizer: str = "sgd:lr=0.01",
    seed: int = 0,
    dtype: str = "float32",
    engine: str = "fast",
    workers: int | None = None,
    progress: Callable[[float, bool, EpochCurves], None] | None = None,
) -> BatchNormResult:
    """Train with and without batch normalisation at each of ``scales`` (default
    :func:`default_scales`). ``progress(scale, batchnorm, curves)`` as each run finishes."""
    create(optimizer)
    ws = default_scales() if scales is None else np.asarray(scales, dtype=np.float64)
    if ws.ndim != 1 or not len(ws) or not np.all((ws > 0) & np.isfinite(ws)):
        raise ValueError(f"scales must be positive finite numbers, got {scales!r}")
    small = subset(data, train_size)
    sizes = (small.x_train.shape[1], *hidden, small.n_classes)
    jobs = [
        _Job(small, sizes, float(w), k, bn, epochs, batch_size, optimizer, seed, dtype, engine)
        for k, w in enumerate(ws)
        for bn in (True, False)
    ]
    done: dict[int, EpochCurves] = {}
    for j, c in map_jobs(_run, jobs, workers=workers):
        done[j] = c
        if progress is not None:
            progress(jobs[j].scale, jobs[j].batchnorm, c)
    return BatchNormResult(
        ws,
        [done[j] for j in range(0, len(jobs), 2)],
        [done[j] for j in range(1, len(jobs), 2)],
        len(small.t_train),
        tuple(hidden),
        batch_size,
        epochs,
        optimizer,
        seed,
        dtype,
        data.name,
    )
