"""The book's epoch loop (``common/trainer.py``, ``batch_norm_test.py``, ``overfit_*.py``).

One *epoch* is ``iter_per_epoch = max(n_train / batch_size, 1)`` updates. Each
iteration draws a batch with replacement (as ``np.random.choice(n_train,
batch_size)``), takes the gradient and updates; after the updates numbered
``1, 1 + iter_per_epoch, 1 + 2 iter_per_epoch, ...`` (the book's ``i %
iter_per_epoch == 0``, 0-based ``i``) it measures accuracy on each evaluation
set. ``epochs`` evaluations are taken, and the loop stops after the last one:
the book's ``Trainer`` runs ``iter_per_epoch - 1`` more updates that no curve
shows (only its final printout), which are skipped here.

The loss recorded per iteration is the one of the forward pass that gave the
gradient (the batch's loss before its update; free, unlike the ``Trainer``'s
extra forward pass after it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["EpochCurves", "Stepper", "eval_iterations", "train_epochs"]


class Stepper(Protocol):
    """One network and its optimizer, as the loop drives them (:mod:`.steppers`)."""

    def step(self, x: np.ndarray, t: np.ndarray) -> float:
        """Gradient on the batch, one update; return the batch's loss before the update."""
        ...

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of rows of ``x`` classified as ``t`` (inference mode)."""
        ...


@dataclass
class EpochCurves:
    """Accuracy per evaluation set and epoch, and the loss per iteration.

    ``accuracy[name]`` has ``epochs`` values; ``losses`` one per update;
    ``eval_iterations`` the number of updates made before each evaluation.
    ``diverged_at`` is the first update whose loss was not finite (training
    stopped there; later accuracies are NaN).
    """

    accuracy: dict[str, np.ndarray]
    losses: np.ndarray
    eval_iterations: np.ndarray
    eval_seconds: np.ndarray
    seconds: float
    diverged_at: int | None = None


def eval_iterations(n_train: int, batch_size: int, epochs: int) -> np.ndarray:
    """Updates made before each of the ``epochs`` evaluations (1-based: 1, 1 + ipe, ...)."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    per_epoch = max(n_train / batch_size, 1.0)
    # the first 0-based i with i % per_epoch == 0 at or after k * per_epoch
    return np.array([math.ceil(k * per_epoch) + 1 for k in range(epochs)], dtype=np.int64)


def train_epochs(
    stepper: Stepper,
    x_train: np.ndarray,
    t_train: np.ndarray,
    evals: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> EpochCurves:
    """Train for ``epochs`` book epochs; accuracy on each of ``evals`` (``name -> (x, t)``)
    after every epoch's first update.

    ``on_epoch(epoch, accuracies)`` is called after each evaluation (epoch 0-based).
    """
    n = x_train.shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    points = eval_iterations(n, batch_size, epochs)
    n_it = int(points[-1])
    losses = np.full(n_it, np.nan)
    acc = {name: np.full(epochs, np.nan) for name in evals}
    eval_s = np.full(epochs, np.nan)
    seconds = 0.0
    diverged: int | None = None
    e = 0
    for i in range(n_it):
        t0 = time.perf_counter()
        idx = rng.integers(0, n, size=batch_size)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            losses[i] = stepper.step(x_train[idx], t_train[idx])
        seconds += time.perf_counter() - t0
        if not math.isfinite(losses[i]):
            diverged = i + 1
            break
        if i + 1 == points[e]:
            with np.errstate(over="ignore", invalid="ignore"):
                now = {name: stepper.accuracy(x, t) for name, (x, t) in evals.items()}
            for name, a in now.items():
                acc[name][e] = a
            eval_s[e] = seconds
            if on_epoch is not None:
                on_epoch(e, now)
            e += 1
    return EpochCurves(acc, losses, points, eval_s, seconds, diverged)
