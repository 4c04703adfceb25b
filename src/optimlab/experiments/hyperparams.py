"""Random hyperparameter search (the book's ``hyperparameter_optimization.py``).

The first ``train_size`` (500) training images are shuffled once; the first
``val_fraction`` (20 %) of them become the validation set, the rest the
training set. Each trial draws ``weight decay = 10^U(-8, -4)`` and then
``lr = 10^U(-6, -2)`` (the book's order) and trains a 784-100x6-10 ReLU net
(He initial weights) with SGD, batch 100, for ``epochs`` (50) book epochs
(:mod:`.epochs`), recording validation and training accuracy after each.

Seeds: ``SeedSequence(seed, spawn_key=(0,))`` draws the trials' hyperparameters
one trial after another (so the first 20 trials of a 100-trial search are a
20-trial search), ``spawn_key=(1,)`` shuffles the data, and trial ``k`` trains
from ``SeedSequence(trial.seed)`` (initial weights, batches), where
``trial.seed`` comes from ``spawn_key=(2, k)``.

A :class:`Trial` is a self-contained job: :meth:`Trial.execute` loads the data
(once per process) and returns the record that ``optimlab sweep``'s store
keeps, so trials run on the sweep's executors and store
(:func:`optimlab.sweep.trials.run_search`). This module only computes.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import socket
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import __version__
from ..data.errors import ChecksumSkippedWarning
from ..optim import create
from ..protocol import Dataset
from .compare import load_dataset
from .epochs import train_epochs
from .regularize import make_net
from .steppers import stepper

__all__ = ["HyperparamSearch", "HyperparamsResult", "Trial", "TrialResult"]

STAGE = "hyperparams"


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _range(name: str, r: Sequence[float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in r)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two numbers LO,HI (exponents of 10), got {r!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be two finite exponents LO < HI, got {r!r}")
    return lo, hi


@dataclass(frozen=True)
class HyperparamSearch:
    """The search: data, net, protocol and the ranges of lr and weight decay (log10)."""

    trials: int = 100
    epochs: int = 50
    train_size: int = 500
    val_fraction: float = 0.2
    lr_range: tuple[float, float] = (-6.0, -2.0)
    weight_decay_range: tuple[float, float] = (-8.0, -4.0)
    hidden: tuple[int, ...] = (100,) * 6
    batch_size: int = 100
    seed: int = 0
    dtype: str = "float32"
    dataset: str = "mnist"
    data_dir: str | None = None  # where the files are; not part of a result's identity

    def __post_init__(self) -> None:
        for name in ("trials", "epochs", "train_size", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction!r}")
        n_val = self.n_val
        if n_val < 1 or n_val >= self.train_size:
            raise ValueError(
                f"val_fraction {self.val_fraction} of train_size {self.train_size} leaves "
                f"{n_val} validation images; both parts need at least one"
            )
        object.__setattr__(self, "lr_range", _range("lr_range", self.lr_range))
        object.__setattr__(
            self, "weight_decay_range", _range("weight_decay_range", self.weight_decay_range)
        )
        if not self.hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden
        ):
            raise ValueError(f"hidden must be integers >= 1, got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")

    @property
    def n_val(self) -> int:
        """Validation images: ``int(train_size * val_fraction)``, as the book."""
        return int(self.train_size * self.val_fraction)

    def identity(self) -> dict[str, Any]:
        """What changes a trial's result (not ``trials``, ``data_dir``)."""
        d = asdict(self)
        for k in ("trials", "data_dir"):
            d.pop(k)
        d["hidden"] = list(self.hidden)
        d["lr_range"] = list(self.lr_range)
        d["weight_decay_range"] = list(self.weight_decay_range)
        return {"experiment": STAGE, **d}

    @property
    def search_id(self) -> str:
        ident = {**self.identity(), "trials": self.trials}
        return hashlib.sha256(_canonical(ident).encode()).hexdigest()[:16]

    def make_trials(self) -> list[Trial]:
        """The ``trials`` trials, hyperparameters drawn one trial after another."""
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0,)))
        out = []
        for k in range(self.trials):
            wd = float(10 ** rng.uniform(*self.weight_decay_range))
            lr = float(10 ** rng.uniform(*self.lr_range))
            ss = np.random.SeedSequence(self.seed, spawn_key=(2, k))
            out.append(Trial(self, k, lr, wd, int(ss.generate_state(1, np.uint32)[0])))
        return out

    def split(self, data: Dataset) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """``(x_train, t_train), (x_val, t_val)``: the first ``train_size`` images, shuffled,
        the first ``n_val`` of them for validation."""
        n = self.train_size
        if n > len(data.t_train):
            raise ValueError(
                f"train_size {n} is larger than the training set ({len(data.t_train)} images)"
            )
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1,)))
        perm = rng.permutation(n)
        x = data.x_train[:n][perm].astype(self.dtype, copy=False)
        t = data.t_train[:n][perm]
        v = self.n_val
        return (x[v:], t[v:]), (x[:v], t[:v])


_DATA: dict[tuple[str, str | None], Dataset] = {}


def _data(search: HyperparamSearch) -> Dataset:
    """The search's dataset, loaded once per process."""
    key = (search.dataset, search.data_dir)
    if key not in _DATA:
        with warnings.catch_warnings():  # files of a --data-dir: the command said so once
            warnings.simplefilter("ignore", ChecksumSkippedWarning)
            _DATA[key] = load_dataset(search.dataset, search.data_dir)
    return _DATA[key]


@dataclass(frozen=True)
class Trial:
    """One trial: a job for the sweep's executors and a row of its store."""

    search: HyperparamSearch
    index: int
    lr: float
    weight_decay: float
    seed: int

    # -- what the store records about a run ------------------------------------------------
    stage = STAGE
    name = "sgd"

    @property
    def optimizer(self) -> str:
        return f"sgd:lr={self.lr!r}"

    @property
    def label(self) -> str:
        return f"trial {self.index}"

    @property
    def replicate(self) -> int:
        return self.index

    def configuration(self) -> dict[str, Any]:
        return {
            "search": self.search.identity(),
            "index": self.index,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "seed": self.seed,
        }

    @property
    def run_id(self) -> str:
        return hashlib.sha256(_canonical(self.configuration()).encode()).hexdigest()[:16]

    # -- running ---------------------------------------------------------------------------
    def execute(self, engine: str = "fast", data: Dataset | None = None) -> dict[str, Any]:
        """Train this trial; the record :func:`optimlab.sweep.execute.run_one` returns
        (``test_accuracy`` is the validation accuracy; ``train_accuracy`` beside it)."""
        s = self.search
        data = data if data is not None else _data(s)
        (x_tr, t_tr), (x_val, t_val) = s.split(data)
        init_ss, batch_ss = np.random.SeedSequence(self.seed).spawn(2)
        net = make_net(
            (x_tr.shape[1], *s.hidden, data.n_classes),
            weight_decay=self.weight_decay,
            seed=init_ss,
            dtype=s.dtype,
        )
        t0 = time.perf_counter()
        c = train_epochs(
            stepper(net, create("sgd", lr=self.lr), s.batch_size, engine),
            x_tr,
            t_tr,
            {"val": (x_val, t_val), "train": (x_tr, t_tr)},
            epochs=s.epochs,
            batch_size=s.batch_size,
            rng=np.random.default_rng(batch_ss),
        )
        val = c.accuracy["val"]
        return {
            "run_id": self.run_id,
            "status": "diverged" if c.diverged_at is not None else "done",
            "final_loss": float(c.losses[-1]),
            "final_accuracy": float(val[-1]),
            "diverged_at": c.diverged_at,
            "wall_seconds": time.perf_counter() - t0,
            "train_seconds": c.seconds,
            "versions": {
                "optimlab": __version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "engine": engine,
            },
            "host": socket.gethostname(),
            "curves": {
                "losses": c.losses,
                "eval_iterations": c.eval_iterations,
                "test_accuracy": val,
                "train_accuracy": c.accuracy["train"],
                "eval_seconds": c.eval_seconds,
            },
        }


@dataclass
class TrialResult:
    """A finished trial: its hyperparameters and validation/training accuracy per epoch."""

    index: int
    lr: float
    weight_decay: float
    val_accuracy: np.ndarray
    train_accuracy: np.ndarray
    diverged_at: int | None = None
    seconds: float = math.nan

    @property
    def final_val(self) -> float:
        return float(self.val_accuracy[-1]) if len(self.val_accuracy) else math.nan

    @property
    def key(self) -> str:
        """The book's key, ``lr:..., weight decay:...``."""
        return f"lr:{self.lr}, weight decay:{self.weight_decay}"


@dataclass
class HyperparamsResult:
    """Every trial of a search; :meth:`ranked` best first (drawn by
    :mod:`optimlab.plots_chapter6`)."""

    search: HyperparamSearch
    trials: list[TrialResult]
    store: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def ranked(self) -> list[TrialResult]:
        """Trials by final validation accuracy, best first (ties: lower index; NaN last)."""
        return sorted(
            self.trials,
            key=lambda r: (math.isnan(r.final_val), -np.nan_to_num(r.final_val), r.index),
        )

    def table(self, top: int | None = None) -> str:
        """The ranked table as text: rank, validation accuracy, lr, weight decay."""
        lines = [f"{'rank':>4}  {'val acc':>7}  {'train acc':>9}  {'lr':>10}  {'weight decay':>12}"]
        for i, r in enumerate(self.ranked()[:top], start=1):
            val = "diverged" if r.diverged_at is not None else f"{r.final_val:.4f}"
            tr = r.train_accuracy[-1] if len(r.train_accuracy) else math.nan
            lines.append(f"{i:>4}  {val:>7}  {tr:>9.4f}  {r.lr:>10.3e}  {r.weight_decay:>12.3e}")
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        return {
            "experiment": STAGE,
            "search": {**self.search.identity(), "trials": self.search.trials},
            "search_id": self.search.search_id,
            "store": self.store,
            "ranked": [
                {
                    "rank": i,
                    "trial": r.index,
                    "lr": r.lr,
                    "weight_decay": r.weight_decay,
                    "final_val_accuracy": _finite(r.final_val),
                    "final_train_accuracy": _finite(r.train_accuracy[-1])
                    if len(r.train_accuracy)
                    else None,
                    "diverged_at": r.diverged_at,
                }
                for i, r in enumerate(self.ranked(), start=1)
            ],
        }

    def csv_rows(self) -> list[list[Any]]:
        """``trial, lr, weight_decay, epoch, val_accuracy, train_accuracy``."""
        rows: list[list[Any]] = [
            ["trial", "lr", "weight_decay", "epoch", "val_accuracy", "train_accuracy"]
        ]
        for r in sorted(self.trials, key=lambda r: r.index):
            for e, (v, t) in enumerate(zip(r.val_accuracy, r.train_accuracy, strict=True)):
                rows.append(
                    [r.index, repr(r.lr), repr(r.weight_decay), e, repr(float(v)), repr(float(t))]
                )
        return rows

    def __repr__(self) -> str:
        s = self.search
        head = (
            f"HyperparamsResult: {len(self.trials)} of {s.trials} trials, {s.epochs} epochs, "
            f"lr 10^U{s.lr_range}, weight decay 10^U{s.weight_decay_range} (seed {s.seed})"
        )
        return head + "\n" + self.table(top=10)


def _finite(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None
