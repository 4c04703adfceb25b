"""Exactness without torch: replay the stored PyTorch trajectories.

``tests/golden/torch_trajectories.npz`` was written by
``tests/golden/regenerate.py`` from torch.optim 2.13 (the mappings are the
``CASES`` of ``tests/_oracle.py``): 100 steps of a 7-element problem per case.
The problem itself (initial values and every gradient) is stored too, so the
replay does not depend on NumPy's random streams.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _oracle import CASES, TOL, golden_problem, run_ours, trajectory_error

GOLDEN = Path(__file__).parent / "golden" / "torch_trajectories.npz"


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_golden_file_covers_every_case(golden):
    stored = {k.removeprefix("traj/") for k in golden if k.startswith("traj/")}
    assert stored == {c.id for c in CASES}, "run tests/golden/regenerate.py"
    assert str(golden["torch_version"]).startswith("2.13")
    assert golden["grads"].shape == (100, 7)
    assert all(golden[f"traj/{c.id}"].shape == (100, 7) for c in CASES)


def test_golden_problem_is_the_stored_one(golden):
    # Not needed for the replay (which uses the stored arrays); tells whether
    # regenerate.py would rebuild the same problem with this NumPy.
    w0, grads = golden_problem()
    np.testing.assert_array_equal(w0, golden["w0"])
    np.testing.assert_array_equal(grads, golden["grads"])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_replay_matches_torch_trajectory(case, golden):
    w0, grads = golden["w0"], golden["grads"]
    ours = run_ours(case.ours(), {"w": w0}, lambda t, k, w: grads[t], len(grads))
    err = trajectory_error(ours, {"w": golden[f"traj/{case.id}"]}, {"w": w0})
    assert err <= TOL, f"{case.id}: relative error {err:.3e} > {TOL:g}"
