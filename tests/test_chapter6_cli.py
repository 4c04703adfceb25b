"""The chapter-6 commands through click's runner, at small sizes on synthetic IDX data."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from data_helpers import isolate_env, synthetic
from optimlab.cli import main

SMALL = {
    "activations": ["--samples", "20", "--layers", "2"],
    "weight-init": ["--iterations", "12", "--batch-size", "8", "--hidden", "8,8"],
    "batch-norm": ["--train-size", "40", "--epochs", "2", "--scales", "2", "--hidden", "8,8"],
    "regularize": ["--train-size", "30", "--test-size", "20", "--epochs", "2", "--hidden", "8"],
    "hyperparams": ["--trials", "3", "--epochs", "2", "--train-size", "50", "--hidden", "8"],
}
FILES = {
    "activations": {"activations.png", "activations.csv", "activations.json"},
    "weight-init": {"weight-init.png", "weight-init.csv", "weight-init.json"},
    "batch-norm": {"batch-norm.png", "batch-norm.csv", "batch-norm.json"},
    "regularize": {"regularize.png", "regularize.csv", "regularize.json"},
    "hyperparams": {
        "hyperparams.png",
        "hyperparams_scatter.png",
        "hyperparams.csv",
        "hyperparams.json",
    },
}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path)
    return synthetic(n_train=120, n_test=40, seed=3).write(tmp_path / "idx")


def run(command, tmp_path, data_dir, *extra, out="out"):
    args = [command, *SMALL[command], "--out", str(tmp_path / out), *extra]
    if command != "activations":
        args += ["--data-dir", str(data_dir)]
    if command in ("batch-norm", "regularize", "hyperparams"):
        args += ["--workers", "1"]
    if command == "hyperparams":
        args += ["--store", str(tmp_path / f"{out}.sqlite")]
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize("command", list(SMALL))
def test_each_command_writes_its_files_and_reproduces_them(command, tmp_path, data_dir):
    first = run(command, tmp_path, data_dir, "--seed", "7", out="a")
    assert first.exit_code == 0, first.output
    assert {p.name for p in (tmp_path / "a").iterdir()} == FILES[command]
    assert "wrote:" in first.output
    second = run(command, tmp_path, data_dir, "--seed", "7", out="b")
    assert second.exit_code == 0, second.output
    for name in FILES[command] - {f for f in FILES[command] if f.endswith(".png")}:
        a, b = (tmp_path / d / name for d in ("a", "b"))
        if name.endswith(".json"):  # wall-clock seconds and store paths differ; results not
            a_json, b_json = json.loads(a.read_text()), json.loads(b.read_text())
            assert _without_times(a_json) == _without_times(b_json), name
        else:
            assert a.read_bytes() == b.read_bytes(), name  # bit for bit
    other = run(command, tmp_path, data_dir, "--seed", "8", out="c")
    assert other.exit_code == 0, other.output
    csv_name = next(f for f in FILES[command] if f.endswith(".csv"))
    assert (tmp_path / "c" / csv_name).read_bytes() != (tmp_path / "a" / csv_name).read_bytes()


def _without_times(obj):
    if isinstance(obj, dict):
        return {k: _without_times(v) for k, v in obj.items() if k not in ("seconds", "store")}
    if isinstance(obj, list):
        return [_without_times(v) for v in obj]
    return obj


def test_commands_print_results_as_they_go(tmp_path, data_dir):
    res = run("regularize", tmp_path, data_dir)
    assert "no regularization" in res.output and "gap" in res.output
    res = run("hyperparams", tmp_path, data_dir)
    assert "val acc:" in res.output and "Hyper-Parameter Optimization Result" in res.output
    assert "[3/3]" in res.output


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["activations", "--samples", "0"], "--samples"),
        (["regularize", "--dropout", "1.5"], "--dropout"),
        (["regularize", "--train-size", "100000"], "--train-size"),
        (["batch-norm", "--optimizer", "nope"], "--optimizer"),
        (["weight-init", "--batch-size", "100000"], "--batch-size"),
        (["hyperparams", "--lr-range", "-2,-6"], "--lr-range"),
        (["hyperparams", "--val-fraction", "0.001", "--train-size", "50"], "validation"),
        (["batch-norm", "--hidden", "8,x"], "--hidden"),
    ],
)
def test_bad_input_is_a_usage_error(args, names, tmp_path, data_dir):
    full = [*args, "--out", str(tmp_path / "out")]
    if args[0] != "activations":
        full += ["--data-dir", str(data_dir)]
    if args[0] == "hyperparams":
        full += ["--store", str(tmp_path / "s.sqlite")]
    res = CliRunner().invoke(main, full)
    assert res.exit_code == 2, res.output
    assert names in res.output
    assert "Traceback" not in res.output


def test_a_file_that_is_not_a_store_is_a_bad_store(tmp_path, data_dir):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("not a database")
    res = CliRunner().invoke(
        main,
        [
            "hyperparams",
            *SMALL["hyperparams"],
            *("--data-dir", str(data_dir), "--workers", "1"),
            *("--store", str(bad), "--out", str(tmp_path / "o")),
        ],
    )
    assert res.exit_code == 2 and "--store" in res.output
    assert bad.read_text() == "not a database"


def test_demo_all_runs_every_chapter_command(tmp_path, monkeypatch):
    import optimlab.cli_chapter6 as ch6

    assert CliRunner().invoke(main, ["demo", "--help"]).output.count("--all") == 1
    calls = []
    monkeypatch.setattr(
        ch6.click.Context, "invoke", lambda self, cmd, **kw: calls.append((cmd.name, kw))
    )
    ctx = ch6.click.Context(main)
    ch6.run_chapter(ctx, tmp_path, "fast")
    assert [name for name, _ in calls] == [
        "activations",
        "weight-init",
        "batch-norm",
        "regularize",
        "hyperparams",
    ]
    assert all(kw["out"] == tmp_path / name for name, kw in calls)
