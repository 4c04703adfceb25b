"""The book's MNIST comparison (``optimizer_compare_mnist.py``) as a function.

:func:`run_compare` calls :func:`optimlab.experiments.train` and adds what the
figures and the summary read: each loss curve smoothed with the book's
:func:`~optimlab.curves.smooth_curve`, labels and versions. Loading the data
(:func:`load_dataset`) is the only I/O here; writing files is in
:mod:`optimlab.results_io`.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import __version__
from ..curves import smooth_curve
from ..data import load_mnist
from ..protocol import Dataset, Protocol, RunResult
from .paths import optimizer_labels
from .training import train

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "CompareResult",
    "MemoryEstimate",
    "available_memory",
    "estimate_memory",
    "format_losses",
    "load_dataset",
    "run_compare",
]

#: The book's four rules with the book's default hyperparameters.
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adagrad", "adam")


@dataclass
class CompareResult:
    """The runs of one comparison and what the figures and summary need.

    ``smoothed[k]`` is ``smooth_curve(runs[k].losses)``; ``iterations`` is
    ``1..protocol.iterations`` (the loss at ``i`` is the one after ``i`` updates).
    """

    runs: list[RunResult]
    protocol: Protocol
    dataset: str
    engine: str
    smoothed: list[np.ndarray]
    iterations: np.ndarray
    versions: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record: protocol, versions and, per optimizer, the final smoothed
        loss, final test accuracy, wall seconds and hyperparameters (NaN as ``None``)."""
        return {
            "dataset": self.dataset,
            "seed": self.protocol.seed,
            "engine": self.engine,
            "protocol": self.protocol.to_dict(),
            "versions": dict(self.versions),
            "optimizers": [
                {
                    "label": r.label,
                    "spec": r.spec,
                    "hyperparameters": dict(r.hyperparameters),
                    "final_smoothed_loss": _finite(s[-1]) if len(s) else None,
                    "final_loss": _finite(r.losses[-1]) if len(r.losses) else None,
                    "final_test_accuracy": _finite(r.final_accuracy),
                    "wall_seconds": r.seconds,
                    "diverged_at": r.diverged_at,
                    "eval_iterations": [int(i) for i in r.eval_iterations],
                    "test_accuracy": [_finite(a) for a in r.test_accuracy],
                }
                for r, s in zip(self.runs, self.smoothed, strict=True)
            ],
        }


def _finite(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def load_dataset(
    dataset: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
) -> Dataset:
    """Read ``dataset`` (a name of :data:`optimlab.data.DATASETS`) normalised and flattened,
    keeping the first ``train_size`` training and ``test_size`` test samples (default all)."""
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, flatten=True, dataset=dataset, data_dir=data_dir
    )
    return Dataset(
        x_train[:train_size], t_train[:train_size], x_test[:test_size], t_test[:test_size], dataset
    )


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a comparison needs at its peak, by part, and the option that sets each part."""

    parts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    @property
    def largest(self) -> str:
        """The part that needs the most (``"curves"``, ``"networks"`` or ``"activations"``)."""
        return max(self.parts, key=lambda k: self.parts[k])


#: bytes per recorded loss: the float64 curve, its smoothed copy, the padded
#: signal smoothing builds, and its row of loss.csv (text and the writer's buffer)
_BYTES_PER_LOSS = 8 * 3 + 100


def estimate_memory(
    protocol: Protocol, n_inputs: int, n_classes: int, n_test: int, n_runs: int
) -> MemoryEstimate:
    """What a comparison of ``n_runs`` rules will hold at once, before allocating any of it.

    ``curves``: every run's loss at every iteration and what is written from it;
    ``networks``: each run's weights, gradients and up to two optimizer moments;
    ``activations``: one forward and backward pass over the larger of a batch and
    the test set (accuracy is taken on the whole test set at once). An estimate,
    good to a small factor, for refusing runs that cannot fit.
    """
    item = np.dtype(protocol.dtype).itemsize
    sizes = [n_inputs, *protocol.hidden, n_classes]
    params = sum(a * b + b for a, b in itertools.pairwise(sizes))
    rows = max(protocol.batch_size, n_test)
    return MemoryEstimate(
        {
            "curves": n_runs * protocol.iterations * _BYTES_PER_LOSS,
            "networks": n_runs * 4 * params * item,
            "activations": n_runs * 3 * rows * sum(sizes) * item,
        }
    )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``, else the
    physical memory), or ``None`` where neither can be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def run_compare(
    specs: Sequence[str],
    data: Dataset,
    protocol: Protocol,
    *,
    engine: str = "fast",
    workers: int | None = None,
    progress: Callable[[int, np.ndarray], None] | None = None,
) -> CompareResult:
    """Train every rule in ``specs`` under ``protocol`` on ``data`` (see
    :func:`~optimlab.experiments.train`) and smooth the loss curves as the book does.

    ``workers`` (fast engine only) caps the worker processes (default: one per core).
    ``ValueError`` names what is wrong with a spec, the protocol or the batch size.
    """
    labels = optimizer_labels(specs)
    runs = train(
        list(specs),
        data,
        protocol,
        engine=engine,
        labels=labels,
        progress=progress,
        workers=workers,
    )
    with np.errstate(invalid="ignore", over="ignore"):
        smoothed = [smooth_curve(r.losses) for r in runs]
    return CompareResult(
        runs=runs,
        protocol=protocol,
        dataset=data.name,
        engine=engine,
        smoothed=smoothed,
        iterations=np.arange(1, protocol.iterations + 1),
        versions={"optimlab": __version__, "numpy": np.__version__},
    )


def format_losses(i: int, labels: Sequence[str], losses: Sequence[float]) -> str:
    """The book's printout of iteration ``i`` (0-based): a header, then ``label:loss`` lines."""
    lines = [f"=========== iteration:{i} ==========="]
    lines += [f"{label}:{float(loss)}" for label, loss in zip(labels, losses, strict=True)]
    return "\n".join(lines)
