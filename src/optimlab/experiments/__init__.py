"""Experiments: the seed's MNIST protocol (and, later, the 2-D paths and sweeps)."""

from .compare import DEFAULT_OPTIMIZERS, CompareResult, run_compare
from .paths import PathResult, PathsResult, run_paths
from .protocol import (
    ENGINES,
    Dataset,
    Protocol,
    RunResult,
    batch_indices,
    init_params,
    train,
    train_reference,
)

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "ENGINES",
    "CompareResult",
    "Dataset",
    "PathResult",
    "PathsResult",
    "Protocol",
    "RunResult",
    "batch_indices",
    "init_params",
    "run_compare",
    "run_paths",
    "train",
    "train_reference",
]
