"""Experiments: the seed's MNIST protocol (and, later, the 2-D paths and sweeps)."""

from .protocol import Dataset, Protocol, RunResult, batch_indices, init_params, train_reference

__all__ = ["Dataset", "Protocol", "RunResult", "batch_indices", "init_params", "train_reference"]
