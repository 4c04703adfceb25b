"""Rebuild ``tests/golden/oracle_trajectories.npz`` from PyTorch, Optax and Keras 3.

Run from anywhere (needs ``torch==2.13.0``, ``jax``, ``optax`` and ``keras>=3``)::

    python tests/golden/regenerate.py

The file holds the golden problem (``w0``: 7 initial values; ``grads``: 100
gradients of 7 elements, magnitudes 1e-4 to 1 with exact zeros) and, for every
row and library of ``optimlab.optim.equivalents.TABLE`` with a ``Match``:

* rule rows: ``traj/<row id>-<library>``, the library's parameters after each
  of the 100 steps, shape (100, 7), float64;
* schedule rows: ``lr/<row id>-<library>``, the library's learning rate of
  steps 1 .. 3 * horizon.

``versions`` records the libraries' versions. ``tests/test_optim_golden.py``
replays optimlab on the stored problem and compares with each row's bound,
so the checks run where the libraries are not installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "oracle_trajectories.npz"


def main() -> None:
    sys.path.insert(0, str(HERE.parent))  # tests/, for the shared _oracle module
    from _oracle import golden_problem, lib_lrs, library, match_cases, run_lib

    versions = {lib: library(lib).__version__ for lib in ("torch", "optax", "keras")}
    versions["jax"] = sys.modules["jax"].__version__  # imported (x64 on) by library()
    w0, grads = golden_problem()
    arrays: dict[str, np.ndarray] = {
        "w0": w0,
        "grads": grads,
        "versions": np.array(json.dumps(versions, sort_keys=True)),
    }
    for row, lib in match_cases("rule"):
        traj = run_lib(row, lib, {"w": w0}, lambda t, k, w: grads[t], len(grads))
        arrays[f"traj/{row.id}-{lib}"] = traj["w"]
    for row, lib in match_cases("schedule"):
        arrays[f"lr/{row.id}-{lib}"] = lib_lrs(row, lib, 3 * row.horizon)
    np.savez_compressed(OUT, **arrays)
    n = len(arrays) - 3
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {n} row-library pairs, {versions})")


if __name__ == "__main__":
    main()
