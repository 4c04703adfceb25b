"""Weight initialisation on MNIST (the book's ``weight_init_compare.py``).

The seed's protocol (:class:`~optimlab.experiments.Protocol`: 784-100x4-10 ReLU
net, batch 128, 2000 iterations, the same batch for every run each iteration,
the loss after each update) with SGD lr 0.01, once per initial weight scale:
std 0.01, Xavier ``sqrt(1/n)`` and He ``sqrt(2/n)``. Runs with the same seed
see the same batches (the protocol's batch stream depends on the seed only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..curves import smooth_curve
from ..protocol import Dataset, Protocol, RunResult
from .training import train

__all__ = ["INITS", "WeightInitResult", "run_weight_init"]

#: the book's three settings: label -> weight_init_std
INITS: dict[str, str | float] = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}


@dataclass
class WeightInitResult:
    """One run per initial scale; ``smoothed[k]`` is the book's smoothed loss of run ``k``."""

    runs: list[RunResult]
    inits: dict[str, str | float]
    protocol: Protocol
    optimizer: str
    dataset: str
    smoothed: list[np.ndarray] = field(default_factory=list)

    @property
    def iterations(self) -> np.ndarray:
        return np.arange(1, self.protocol.iterations + 1)

    def summary(self) -> dict[str, Any]:
        return {
            "experiment": "weight-init",
            "dataset": self.dataset,
            "optimizer": self.optimizer,
            "protocol": self.protocol.to_dict(),
            "runs": [
                {
                    "init": r.label,
                    "weight_init_std": self.inits[r.label],
                    "final_smoothed_loss": _finite(s[-1]),
                    "final_test_accuracy": _finite(r.final_accuracy),
                    "diverged_at": r.diverged_at,
                    "eval_iterations": [int(i) for i in r.eval_iterations],
                    "test_accuracy": [_finite(a) for a in r.test_accuracy],
                }
                for r, s in zip(self.runs, self.smoothed, strict=True)
            ],
        }

    def csv_rows(self) -> list[list[Any]]:
        """``iteration, init, loss, smoothed_loss``."""
        rows: list[list[Any]] = [["iteration", "init", "loss", "smoothed_loss"]]
        for r, s in zip(self.runs, self.smoothed, strict=True):
            for i, (loss, sm) in enumerate(zip(r.losses, s, strict=True), start=1):
                rows.append([i, r.label, repr(float(loss)), repr(float(sm))])
        return rows

    def __repr__(self) -> str:
        p = self.protocol
        lines = [
            f"WeightInitResult: {self.optimizer}, {p.iterations} iterations of batch "
            f"{p.batch_size} on {self.dataset} (seed {p.seed})"
        ]
        for r, s in zip(self.runs, self.smoothed, strict=True):
            acc = r.final_accuracy
            acc_text = "" if acc != acc else f", test accuracy {100 * acc:.2f}%"
            lines.append(f"  {r.label:<9} smoothed loss {s[-1]:.4f}{acc_text}")
        return "\n".join(lines)


def _finite(v: float) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def run_weight_init(
    data: Dataset,
    protocol: Protocol | None = None,
    *,
    optimizer: str = "sgd:lr=0.01",
    inits: dict[str, str | float] | None = None,
    engine: str = "fast",
    progress: Callable[[str, int, float], None] | None = None,
) -> WeightInitResult:
    """Train ``protocol``'s net once per entry of ``inits`` (default :data:`INITS`).

    ``progress(label, iteration, loss)`` is called as each run goes.
    """
    protocol = protocol or Protocol()
    inits = dict(INITS if inits is None else inits)
    runs: list[RunResult] = []
    for label, std in inits.items():

        def report(i: int, losses: np.ndarray, label: str = label) -> None:
            if progress is not None:
                progress(label, i, float(losses[0]))

        (run,) = train(
            [optimizer],
            data,
            replace(protocol, weight_init=std),
            engine=engine,
            labels=[label],
            progress=report,
        )
        runs.append(run)
    with np.errstate(invalid="ignore", over="ignore"):
        smoothed = [smooth_curve(r.losses) for r in runs]
    return WeightInitResult(runs, inits, protocol, optimizer, data.name, smoothed)
