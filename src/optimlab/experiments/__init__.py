"""Experiments: the seed's MNIST comparison, the 2-D paths and the training loops.

Names are imported from their submodule when first used (:mod:`optimlab._lazy`),
so importing one experiment does not load the others. ``Dataset``, ``Protocol``
and the rest of the protocol live in :mod:`optimlab.protocol` and are
re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ..protocol import Dataset, Protocol, RunResult, batch_indices, init_params
    from .compare import DEFAULT_OPTIMIZERS, CompareResult, run_compare
    from .paths import PathResult, PathsResult, run_paths
    from .training import ENGINES, train, train_reference

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

__getattr__, __dir__ = lazy_exports(__name__, __file__)
