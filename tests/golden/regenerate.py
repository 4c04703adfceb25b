"""Rebuild ``tests/golden/torch_trajectories.npz`` from PyTorch.

Run from anywhere (needs ``torch==2.13.0``)::

    python tests/golden/regenerate.py

The file holds the golden problem (``w0``: 7 initial values; ``grads``: 100
gradients of 7 elements, elements spanning 1e-4 to 10 in size) and, for every
case of ``tests/_oracle.py``'s ``CASES``, ``traj/<id>``: torch's parameters
after each of the 100 steps, shape (100, 7), float64. ``tests/test_optim_golden.py``
replays optimlab on the stored problem and compares, so the exactness check
runs where torch is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "torch_trajectories.npz"


def main() -> None:
    sys.path.insert(0, str(HERE.parent))  # tests/, for the shared _oracle module
    import torch

    from _oracle import CASES, golden_problem, run_torch

    w0, grads = golden_problem()
    arrays: dict[str, np.ndarray] = {
        "w0": w0,
        "grads": grads,
        "torch_version": np.array(torch.__version__),
    }
    for case in CASES:
        traj, _ = run_torch(case, {"w": w0}, lambda t, k, w: grads[t], len(grads))
        arrays[f"traj/{case.id}"] = traj["w"]
    np.savez_compressed(OUT, **arrays)
    print(
        f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(CASES)} cases, torch {torch.__version__})"
    )


if __name__ == "__main__":
    main()
