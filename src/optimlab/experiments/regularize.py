"""Overfitting and two cures (the book's ``overfit_weight_decay.py`` and ``overfit_dropout.py``).

The first ``train_size`` (300) training images, a 784-100x6-10 ReLU net with He
initial weights, SGD lr 0.01, batch 100 (3 updates per epoch), train and test
accuracy after each epoch's first update (:mod:`.epochs`). The book's settings:

* no regularisation, 201 epochs (``overfit_weight_decay.py`` with lambda 0);
* L2 weight decay lambda = 0.1, 201 epochs (``overfit_weight_decay.py``);
* dropout ratio 0.2 after every hidden activation, 301 epochs
  (``overfit_dropout.py``, ``MultiLayerNetExtend`` trained by the ``Trainer``).

Every setting starts from the same initial weights and sees the same batches
(common random numbers), so the curves differ by the regulariser alone.
Settings train in parallel on the local cores (:mod:`.parallel`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn
from ..optim import create
from ..protocol import Dataset
from .epochs import EpochCurves, train_epochs
from .parallel import map_jobs
from .steppers import stepper

__all__ = ["SETTINGS", "RegularizeResult", "Setting", "make_net", "run_regularize"]


@dataclass(frozen=True)
class Setting:
    """One regularisation protocol."""

    name: str
    epochs: int
    weight_decay: float = 0.0
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not 0 <= self.weight_decay < float("inf"):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {self.weight_decay}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


#: the book's three protocols
SETTINGS = (
    Setting("no regularization", 201),
    Setting("weight decay λ=0.1", 201, weight_decay=0.1),
    Setting("dropout 0.2", 301, dropout=0.2),
)


def make_net(
    sizes: Sequence[int],
    *,
    weight_init: str | float = "relu",
    weight_decay: float = 0.0,
    dropout: float = 0.0,
    batchnorm: bool = False,
    seed: np.random.SeedSequence,
    dtype: str = "float32",
):
    """The book's net for a setting: ``MultiLayerNet``, or ``MultiLayerNetExtend`` when it
    needs dropout or batch normalisation (both from :mod:`optimlab.nn`). Equal seeds give
    equal initial weights whichever class is used."""
    common: dict[str, Any] = dict(
        input_size=sizes[0],
        hidden_size_list=list(sizes[1:-1]),
        output_size=sizes[-1],
        weight_init_std=weight_init,
        weight_decay_lambda=weight_decay,
        seed=np.random.default_rng(seed),  # the weights, then any dropout masks
        dtype=dtype,
    )
    if not dropout and not batchnorm:
        return nn.MultiLayerNet(**common)
    return nn.MultiLayerNetExtend(
        **common,
        use_dropout=bool(dropout),
        dropout_ration=dropout or 0.5,
        use_batchnorm=batchnorm,
    )


@dataclass
class RegularizeResult:
    """Train and test accuracy per epoch of each setting (``curves[k]`` for ``settings[k]``)."""

    settings: tuple[Setting, ...]
    curves: list[EpochCurves]
    train_size: int
    test_size: int
    hidden: tuple[int, ...]
    batch_size: int
    optimizer: str
    seed: int
    dtype: str
    dataset: str = "mnist"
    extra: dict[str, Any] = field(default_factory=dict)

    def gap(self, k: int) -> float:
        """Final train minus test accuracy of setting ``k`` (the overfitting gap)."""
        acc = self.curves[k].accuracy
        return float(acc["train"][-1] - acc["test"][-1])

    def summary(self) -> dict[str, Any]:
        return {
            "experiment": "regularize",
            "dataset": self.dataset,
            "train_size": self.train_size,
            "test_size": self.test_size,
            "hidden": list(self.hidden),
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
            "seed": self.seed,
            "dtype": self.dtype,
            "settings": [
                {
                    "name": s.name,
                    "epochs": s.epochs,
                    "weight_decay": s.weight_decay,
                    "dropout": s.dropout,
                    "final_train_accuracy": float(c.accuracy["train"][-1]),
                    "final_test_accuracy": float(c.accuracy["test"][-1]),
                    "gap": self.gap(k),
                    "diverged_at": c.diverged_at,
                    "seconds": c.seconds,
                }
                for k, (s, c) in enumerate(zip(self.settings, self.curves, strict=True))
            ],
        }

    def csv_rows(self) -> list[list[Any]]:
        """``setting, epoch, iteration, train_accuracy, test_accuracy``."""
        rows: list[list[Any]] = [
            ["setting", "epoch", "iteration", "train_accuracy", "test_accuracy"]
        ]
        for s, c in zip(self.settings, self.curves, strict=True):
            for e, it in enumerate(c.eval_iterations):
                tr, te = c.accuracy["train"][e], c.accuracy["test"][e]
                rows.append([s.name, e, int(it), repr(float(tr)), repr(float(te))])
        return rows

    def __repr__(self) -> str:
        lines = [
            f"RegularizeResult: {self.train_size} training images, "
            f"{'-'.join(map(str, (784, *self.hidden, 10)))}, {self.optimizer}, batch "
            f"{self.batch_size} (seed {self.seed})"
        ]
        for k, (s, c) in enumerate(zip(self.settings, self.curves, strict=True)):
            lines.append(
                f"  {s.name:<20} {s.epochs:>4} epochs: train {c.accuracy['train'][-1]:.4f}, "
                f"test {c.accuracy['test'][-1]:.4f}, gap {self.gap(k):.4f}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class _Job:
    setting: Setting
    data: Dataset
    sizes: tuple[int, ...]
    batch_size: int
    optimizer: str
    seed: int
    dtype: str
    engine: str


def _run_setting(job: _Job) -> EpochCurves:
    s = job.setting
    init_ss, batch_ss = np.random.SeedSequence(job.seed).spawn(2)
    net = make_net(
        job.sizes,
        weight_decay=s.weight_decay,
        dropout=s.dropout,
        seed=init_ss,
        dtype=job.dtype,
    )
    d = job.data
    x_train = d.x_train.astype(job.dtype, copy=False)
    x_test = d.x_test.astype(job.dtype, copy=False)
    return train_epochs(
        stepper(net, create(job.optimizer), job.batch_size, job.engine),
        x_train,
        d.t_train,
        {"train": (x_train, d.t_train), "test": (x_test, d.t_test)},
        epochs=s.epochs,
        batch_size=job.batch_size,
        rng=np.random.default_rng(batch_ss),
    )


def subset(data: Dataset, train_size: int | None, test_size: int | None = None) -> Dataset:
    """The first ``train_size`` training and ``test_size`` test samples (None: all)."""
    for name, v, n in (
        ("train_size", train_size, len(data.t_train)),
        ("test_size", test_size, len(data.t_test)),
    ):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= n):
            raise ValueError(f"{name} must be an integer in 1..{n}, got {v!r}")
    return Dataset(
        data.x_train[:train_size],
        data.t_train[:train_size],
        data.x_test[:test_size],
        data.t_test[:test_size],
        name=data.name,
    )


def run_regularize(
    data: Dataset,
    *,
    settings: Sequence[Setting] = SETTINGS,
    train_size: int = 300,
    test_size: int | None = None,
    hidden: Sequence[int] = (100,) * 6,
    batch_size: int = 100,
    optimizer: str = "sgd:lr=0.01",
    seed: int = 0,
    dtype: str = "float32",
    engine: str = "fast",
    workers: int | None = None,
    progress: Callable[[Setting, EpochCurves], None] | None = None,
) -> RegularizeResult:
    """Train every setting on the first ``train_size`` images; test on the first
    ``test_size`` test images (None: all). ``progress(setting, curves)`` as each finishes."""
    create(optimizer)  # a bad spec fails here, not in a worker
    small = subset(data, train_size, test_size)
    sizes = (small.x_train.shape[1], *hidden, small.n_classes)
    jobs = [_Job(s, small, sizes, batch_size, optimizer, seed, dtype, engine) for s in settings]
    curves: list[EpochCurves | None] = [None] * len(jobs)
    for k, c in map_jobs(_run_setting, jobs, workers=workers):
        curves[k] = c
        if progress is not None:
            progress(settings[k], c)
    return RegularizeResult(
        tuple(settings),
        [c for c in curves if c is not None],
        len(small.t_train),
        len(small.t_test),
        tuple(hidden),
        batch_size,
        optimizer,
        seed,
        dtype,
        data.name,
    )
