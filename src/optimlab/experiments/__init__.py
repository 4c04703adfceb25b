"""Experiments: the seed's MNIST protocol (and, later, the 2-D paths and sweeps)."""

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
    "ENGINES",
    "Dataset",
    "Protocol",
    "RunResult",
    "batch_indices",
    "init_params",
    "train",
    "train_reference",
]
