"""Fair optimizer comparisons: tuned learning rates, several seeds, results in SQLite.

``SweepPlan`` describes the two-stage grid (:mod:`.grid`), ``run_sweep`` runs or
resumes it locally or on Dask (:mod:`.execute`), ``Store`` is the SQLite file
(:mod:`.store`) and ``write_report`` turns a store into HTML, PNGs and CSV
(:mod:`.report`). See ``docs/sweep.md``. Names are imported from their submodule
when first used, so ``import optimlab.sweep.store`` needs SQLite and NumPy only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .execute import (
        SweepError,
        SweepSummary,
        load_data,
        run_one,
        run_sweep,
        synthetic_dataset,
    )
    from .grid import (
        DEFAULT_LRS,
        DEFAULT_SEEDS,
        STAGES,
        Choice,
        Problem,
        RunConfig,
        SweepPlan,
        parse_lrs,
        select_best,
    )
    from .store import SCHEMA_VERSION, Store, StoreError

__all__ = [
    "DEFAULT_LRS",
    "DEFAULT_SEEDS",
    "SCHEMA_VERSION",
    "STAGES",
    "Choice",
    "Problem",
    "RunConfig",
    "Store",
    "StoreError",
    "SweepError",
    "SweepPlan",
    "SweepSummary",
    "load_data",
    "parse_lrs",
    "run_one",
    "run_sweep",
    "select_best",
    "synthetic_dataset",
]

__getattr__, __dir__ = lazy_exports(__name__, __file__)
