"""Exactness without the libraries: replay the stored PyTorch, Optax and Keras results.

``tests/golden/oracle_trajectories.npz`` was written by
``tests/golden/regenerate.py`` from torch 2.13, Optax and Keras 3 (JAX backend,
x64), one entry per row and library of ``optimlab.optim.equivalents.TABLE``
with a ``Match``: 100 steps of a 7-element problem for a rule, the learning
rates of 3 x the horizon for a schedule. The problem itself (initial values
and every gradient) is stored too, so the replay does not depend on NumPy's
random streams. Each entry is held to its row's bound.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _oracle import (
    golden_problem,
    lr_error,
    make_ours,
    match_cases,
    our_lrs,
    run_ours,
    trajectory_error,
)

GOLDEN = Path(__file__).parent / "golden" / "oracle_trajectories.npz"
RULE_CASES = match_cases("rule")
SCHEDULE_CASES = match_cases("schedule")


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_golden_file_covers_every_row_and_library(golden):
    stored = {k for k in golden if k.startswith(("traj/", "lr/"))}
    want = {f"traj/{r.id}-{lib}" for r, lib in RULE_CASES}
    want |= {f"lr/{r.id}-{lib}" for r, lib in SCHEDULE_CASES}
    assert stored == want, "run tests/golden/regenerate.py"
    assert json.loads(str(golden["versions"]))["torch"].startswith("2.13")
    assert golden["grads"].shape == (100, 7)


def test_golden_problem_is_the_stored_one(golden):
    # Not needed for the replay (which uses the stored arrays); tells whether
    # regenerate.py would rebuild the same problem with this NumPy.
    w0, grads = golden_problem()
    np.testing.assert_array_equal(w0, golden["w0"])
    np.testing.assert_array_equal(grads, golden["grads"])


@pytest.mark.parametrize(("row", "lib"), RULE_CASES, ids=[f"{r.id}-{lib}" for r, lib in RULE_CASES])
def test_replay_matches_library_trajectory(row, lib, golden):
    w0, grads = golden["w0"], golden["grads"]
    ours = run_ours(make_ours(row), {"w": w0}, lambda t, k, w: grads[t], len(grads))
    err = trajectory_error(ours, {"w": golden[f"traj/{row.id}-{lib}"]}, {"w": w0})
    assert err <= row.entry(lib).tol, f"{row.id} vs stored {lib}: relative error {err:.3e}"


@pytest.mark.parametrize(
    ("row", "lib"), SCHEDULE_CASES, ids=[f"{r.id}-{lib}" for r, lib in SCHEDULE_CASES]
)
def test_replay_matches_library_schedule(row, lib, golden):
    ref = golden[f"lr/{row.id}-{lib}"]
    err = lr_error(our_lrs(row, len(ref)), ref)
    assert err <= row.entry(lib).tol, f"{row.id} vs stored {lib}: relative error {err:.3e}"
