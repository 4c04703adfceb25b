"""Where the protocol and the reference loop used to live; kept for existing imports.

The protocol is :mod:`optimlab.protocol`; the training loops are
:mod:`optimlab.experiments.training`.
"""

from ..protocol import (
    Dataset,
    Protocol,
    RunResult,
    batch_indices,
    check_fits,
    init_params,
    prepare_runs,
    run_results,
)
from .training import ENGINES, train, train_reference

__all__ = [
    "ENGINES",
    "Dataset",
    "Protocol",
    "RunResult",
    "batch_indices",
    "check_fits",
    "init_params",
    "prepare_runs",
    "run_results",
    "train",
    "train_reference",
]
