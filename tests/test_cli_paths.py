"""`optimlab paths` through click's runner: files, contents, errors."""

import csv

import numpy as np
import pytest
from click.testing import CliRunner

from optimlab.cli import main
from optimlab.experiments.paths import run_paths
from optimlab.functions import get_function


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_default_is_the_seed_experiment(tmp_path):
    res = invoke("paths", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert {p.name for p in tmp_path.iterdir()} == {"paths.png", "paths.csv"}
    assert str(tmp_path / "paths.png") in res.output
    rows = read_csv(tmp_path / "paths.csv")
    assert [r["optimizer"] for r in rows[::31]] == ["SGD", "Momentum", "AdaGrad", "Adam"]
    assert len(rows) == 4 * 31
    # the seed's SGD path: x_{k+1} = x_k (1 - 0.95/10), y_{k+1} = y_k (1 - 2 * 0.95)
    sgd = np.array([[float(r["x"]), float(r["y"])] for r in rows if r["optimizer"] == "SGD"])
    k = np.arange(31)
    np.testing.assert_allclose(sgd[:, 0], -7.0 * (1 - 0.095) ** k, rtol=1e-12)
    np.testing.assert_allclose(sgd[:, 1], 2.0 * (1 - 1.9) ** k, rtol=1e-12)
    assert [int(r["step"]) for r in rows[:3]] == [0, 1, 2]


def test_csv_rows_equal_the_runner_values(tmp_path):
    res = invoke(
        "paths",
        "--function",
        "himmelblau",
        "--steps",
        "7",
        "--start",
        "0.5,-1",
        "--optimizer",
        "adam:lr=0.2",
        "--optimizer",
        "rmsprop:lr=0.05",
        "--out",
        str(tmp_path),
    )
    assert res.exit_code == 0, res.output
    expected = run_paths(
        ["adam:lr=0.2", "rmsprop:lr=0.05"], get_function("himmelblau"), (0.5, -1.0), 7
    )
    rows = read_csv(tmp_path / "paths.csv")
    got = [
        (r["optimizer"], int(r["step"]), float(r["x"]), float(r["y"]), float(r["f"])) for r in rows
    ]
    want = [
        (p.label, k, x, y, f)
        for p in expected.paths
        for k, ((x, y), f) in enumerate(zip(p.xy, p.f, strict=True))
    ]
    assert got == want  # exact: floats are written with repr


def test_gif(tmp_path):
    res = invoke("paths", "--function", "saddle", "--steps", "3", "--gif", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "paths.gif").stat().st_size > 0


def test_divergence_is_reported_and_others_written(tmp_path):
    res = invoke(
        "paths", "--optimizer", "sgd:lr=10", "--optimizer", "adam:lr=0.3", "--out", str(tmp_path)
    )
    assert res.exit_code == 0, res.output
    assert "diverged at step 3" in res.output
    rows = read_csv(tmp_path / "paths.csv")
    assert sum(r["optimizer"] == "SGD" for r in rows) == 4
    assert sum(r["optimizer"] == "Adam" for r in rows) == 31
    assert (tmp_path / "paths.png").exists()


@pytest.mark.parametrize(
    ("args", "option", "valid"),
    [
        (["--optimizer", "nope"], "--optimizer", "valid names: sgd"),
        (["--optimizer", "sgd:momentum=0.9"], "--optimizer", "valid options: lr"),
        (["--optimizer", "sgd:lr=-1"], "--optimizer", "lr must be"),
        (["--function", "sphere"], "--function", "bowl"),
        (["--start", "1"], "--start", "X,Y"),
        (["--start", "a,b"], "--start", "X,Y"),
        (["--start", "1,inf"], "--start", "finite"),
        (["--steps", "0"], "--steps", "1<=x<=100000"),
        (["--steps", str(10**10)], "--steps", "1<=x<=100000"),
        (["--steps", "-3"], "--steps", "1<=x<=100000"),
    ],
)
def test_bad_input_exits_2_naming_the_option(tmp_path, args, option, valid):
    res = invoke("paths", *args, "--out", str(tmp_path / "o"))
    assert res.exit_code == 2
    assert f"'{option}'" in res.output and valid in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_unwritable_out(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = invoke("paths", "--out", str(blocker / "sub"))
    assert res.exit_code == 2
    assert "'--out'" in res.output and "cannot write" in res.output
    assert "Traceback" not in res.output


def test_help_lists_commands_and_options():
    res = invoke("--help")
    assert res.exit_code == 0
    for cmd in ("paths", "compare", "demo"):
        assert cmd in res.output
    res = invoke("paths", "--help")
    for opt in ("--function", "--start", "--steps", "--optimizer", "--gif", "--out"):
        assert opt in res.output


def test_heading_before_the_gif_is_drawn(tmp_path):
    res = invoke("paths", "--function", "saddle", "--steps", "3", "--gif", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    first = res.output.splitlines()[0]
    assert first.startswith("== Paths of SGD, Momentum, AdaGrad, Adam on saddle")
    assert "paths.gif (a few seconds)" in first


def test_rule_without_lr_uses_the_functions_rate(tmp_path):
    res = invoke("paths", "--optimizer", "adam", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    rows = read_csv(tmp_path / "paths.csv")
    want = run_paths(["adam:lr=0.3"], get_function("bowl")).paths[0].xy
    got = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    np.testing.assert_array_equal(got, want)  # the bowl's Adam rate, not 0.001
