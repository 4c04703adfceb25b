"""A user's code reading the book's state attributes type-checks under mypy (issue 15).

``opt.m["W1"]`` (Adam), ``opt.v["W1"]`` (Momentum), ``opt.h["W1"]`` (AdaGrad) are
declared fields, so mypy knows them; and the declarations are precise enough
that mypy still reports a misspelt attribute or hyperparameter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import optimlab

USER_CODE = """\
import numpy as np

from optimlab.optim import AdaGrad, Adam, AMSGrad, Momentum

adam = Adam(lr=0.001)
w1: np.ndarray = adam.m["W1"]
v1: np.ndarray = Momentum().v["W1"]
h1: np.ndarray = AdaGrad().h["W1"]
vmax: np.ndarray = AMSGrad().v_max["W1"]
beta: float = adam.beta1 + adam.t
bad = adam.mm
Adam(lr=0.1, beta3=0.5)
"""


def test_user_code_reading_optimizer_state_type_checks(tmp_path):
    pytest.importorskip("mypy")
    user = tmp_path / "user.py"
    user.write_text(USER_CODE)
    env = {**os.environ, "MYPYPATH": str(Path(optimlab.__file__).parents[1])}
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull, str(user)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    errors = [line for line in out.stdout.splitlines() if ": error:" in line]
    # exactly the two planted mistakes (lines 11 and 12), nothing on the state reads
    assert [e.split(":")[1] for e in errors] == ["11", "12"], out.stdout + out.stderr
    assert '"Adam" has no attribute "mm"' in errors[0]
    assert '"beta3"' in errors[1]
