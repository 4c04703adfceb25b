"""`optimlab compare` and `optimlab demo` through click's runner, on tiny synthetic IDX data."""

import csv
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import optimlab
from data_helpers import isolate_env, synthetic
from optimlab.cli import main
from optimlab.cli_options import load_data, make_protocol
from optimlab.experiments import train

SMALL = ["--iterations", "6", "--batch-size", "8", "--hidden", "10,10", "--eval-every", "3"]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path)
    return synthetic(n_train=40, n_test=15, seed=3).write(tmp_path / "idx")


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_compare_writes_the_files(tmp_path, data_dir):
    out = tmp_path / "out"
    res = invoke("compare", "--data-dir", str(data_dir), *SMALL, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {
        "loss.png",
        "accuracy.png",
        "loss.csv",
        "summary.json",
    }
    for name in ("loss.png", "accuracy.png", "loss.csv", "summary.json"):
        assert str(out / name) in res.output
    assert "=========== iteration:0 ===========" in res.output
    assert "warning: checksum check skipped" in res.output  # the synthetic files


def test_loss_csv_and_summary_equal_the_runner(tmp_path, data_dir):
    out = tmp_path / "out"
    specs = ["sgd:lr=0.1", "adam", "momentum"]
    res = invoke(
        "compare",
        "--data-dir",
        str(data_dir),
        *SMALL,
        "--seed",
        "7",
        "--dtype",
        "float64",
        *[a for s in specs for a in ("--optimizer", s)],
        "--engine",
        "reference",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    data = load_data("mnist", data_dir)
    protocol = make_protocol(
        iterations=6,
        batch_size=8,
        hidden=(10, 10),
        activation="relu",
        weight_init="relu",
        weight_decay=0.0,
        dtype="float64",
        seed=7,
        same_init=True,
        eval_every=3,
    )
    runs = train(specs, data, protocol, engine="reference", labels=["SGD", "Adam", "Momentum"])
    with open(out / "loss.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    got = [(int(r["iteration"]), r["optimizer"], float(r["loss"])) for r in rows]
    want = [(i + 1, r.label, float(v)) for r in runs for i, v in enumerate(r.losses)]
    assert got == want
    # the seed's printout: loss after iteration 0 of each rule
    assert f"SGD:{float(runs[0].losses[0])}" in res.output

    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "mnist" and summary["seed"] == 7
    assert summary["versions"] == {"optimlab": optimlab.__version__, "numpy": np.__version__}
    assert summary["protocol"]["batch_size"] == 8
    assert [o["label"] for o in summary["optimizers"]] == ["SGD", "Adam", "Momentum"]
    sgd = summary["optimizers"][0]
    assert sgd["hyperparameters"] == {"lr": 0.1}
    assert sgd["final_test_accuracy"] == runs[0].final_accuracy
    assert sgd["eval_iterations"] == [3, 6]
    assert sgd["wall_seconds"] >= 0
    from optimlab.plots import smooth_curve

    assert sgd["final_smoothed_loss"] == pytest.approx(smooth_curve(runs[0].losses)[-1], rel=1e-15)


def test_same_seed_same_bits(tmp_path, data_dir):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        res = invoke("compare", "--data-dir", str(data_dir), *SMALL, "--out", str(out))
        assert res.exit_code == 0, res.output
    assert (outs[0] / "loss.csv").read_bytes() == (outs[1] / "loss.csv").read_bytes()


def test_divergence_reported_others_written(tmp_path, data_dir):
    out = tmp_path / "out"
    res = invoke(
        "compare",
        "--data-dir",
        str(data_dir),
        *SMALL,
        "--optimizer",
        "sgd:lr=1e30",
        "--optimizer",
        "adam",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert "diverged at iteration" in res.output
    summary = json.loads((out / "summary.json").read_text())
    bad, good = summary["optimizers"]
    assert bad["diverged_at"] is not None and bad["final_smoothed_loss"] is None
    assert math.isfinite(good["final_smoothed_loss"])


def test_eval_every_zero_skips_accuracy(tmp_path, data_dir):
    out = tmp_path / "out"
    res = invoke(
        "compare",
        "--data-dir",
        str(data_dir),
        *SMALL[:-2],
        "--eval-every",
        "0",
        "--optimizer",
        "sgd",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert not (out / "accuracy.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimizers"][0]["final_test_accuracy"] is None


@pytest.mark.parametrize(
    ("args", "option", "valid"),
    [
        (["--optimizer", "adamm"], "--optimizer", "valid names"),
        (["--optimizer", "adam:beta3=0.1"], "--optimizer", "valid options"),
        (["--iterations", "0"], "--iterations", "integer >= 1"),
        (["--batch-size", "0"], "--batch-size", "integer >= 1"),
        (["--batch-size", "41"], "--batch-size", "larger than the training set (40 samples)"),
        (["--hidden", "10,x"], "--hidden", "integers >= 1"),
        (["--weight-init", "zeros"], "--weight-init", "xavier"),
        (["--dtype", "float16"], "--dtype", "float32"),
        (["--engine", "gpu"], "--engine", "reference"),
        (["--eval-every", "-1"], "--eval-every", "integer >= 0"),
        (["--dataset", "cifar"], "--dataset", "mnist"),
    ],
)
def test_bad_input_exits_2(tmp_path, data_dir, args, option, valid):
    res = invoke(
        "compare",
        "--data-dir",
        str(data_dir),
        "--iterations",
        "2",
        "--batch-size",
        "4",
        *args,
        "--out",
        str(tmp_path / "o"),
    )
    assert res.exit_code == 2, res.output
    assert f"'{option}'" in res.output and valid in res.output
    assert "Traceback" not in res.output


def test_bad_data_dir(tmp_path, data_dir):
    res = invoke("compare", "--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path))
    assert res.exit_code == 2 and "'--data-dir'" in res.output


def test_unwritable_out(tmp_path, data_dir):
    (tmp_path / "f").write_text("")
    res = invoke("compare", "--data-dir", str(data_dir), *SMALL, "--out", str(tmp_path / "f" / "o"))
    assert res.exit_code == 2 and "'--out'" in res.output


def test_help():
    res = invoke("compare", "--help")
    assert res.exit_code == 0
    for opt in (
        "--dataset",
        "--data-dir",
        "--optimizer",
        "--iterations",
        "--batch-size",
        "--hidden",
        "--activation",
        "--weight-init",
        "--weight-decay",
        "--dtype",
        "--seed",
        "--same-init",
        "--eval-every",
        "--engine",
        "--out",
    ):
        assert opt in res.output


def test_demo_offline_small(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path)  # no network: MNIST comes with the package
    out = tmp_path / "demo"
    res = invoke("demo", "--iterations", "2", "--no-gif", "--out", str(out))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    # a heading says what runs before each part starts
    assert lines[0].startswith("== Part 1 of 2: the book's optimizer_compare_naive.py")
    part2 = next(i for i, line in enumerate(lines) if line.startswith("== Part 2 of 2"))
    assert "optimizer_compare_mnist.py" in lines[part2] and "2 iterations" in lines[part2]
    assert part2 < lines.index("=========== iteration:0 ===========")
    assert any(line.startswith("SGD ") for line in lines[:part2])  # part 1's results first
    assert {p.name for p in (out / "paths").iterdir()} == {"paths.png", "paths.csv"}
    assert {p.name for p in (out / "compare").iterdir()} == {
        "loss.png",
        "accuracy.png",
        "loss.csv",
        "summary.json",
    }


@pytest.mark.slow
def test_demo_full(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path)
    out = tmp_path / "demo"
    res = invoke("demo", "--out", str(out))
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "compare" / "summary.json").read_text())
    acc = {o["label"]: o["final_test_accuracy"] for o in summary["optimizers"]}
    assert acc["SGD"] > 0.85 and min(acc["Momentum"], acc["AdaGrad"], acc["Adam"]) > 0.95
    assert (out / "paths" / "paths.gif").exists()


def test_printed_losses_are_the_recorded_ones(tmp_path, data_dir):
    """The seed's printout comes while training runs; its values are loss.csv's."""
    out = tmp_path / "out"
    args = ["--iterations", "120", "--batch-size", "8", "--hidden", "10", "--eval-every", "0"]
    res = invoke("compare", "--data-dir", str(data_dir), *args, "--out", str(out))
    assert res.exit_code == 0, res.output
    printed = {}
    block = None
    for line in res.output.splitlines():
        if line.startswith("=========== iteration:"):
            block = int(line.split(":")[1].split()[0])
        elif block is not None and ":" in line and not line.startswith("="):
            label, value = line.split(":", 1)
            printed[(block, label)] = float(value)
        else:
            block = None
    assert {b for b, _ in printed} == {0, 100}
    with open(out / "loss.csv", newline="") as f:
        rows = {(int(r["iteration"]), r["optimizer"]): float(r["loss"]) for r in csv.DictReader(f)}
    for (i, label), value in printed.items():
        assert rows[(i + 1, label)] == value  # CSV iterations count updates, from 1


def test_train_and_test_size_and_workers(tmp_path, data_dir):
    out = tmp_path / "out"
    args = ["--train-size", "20", "--test-size", "5", "--workers", "1"]
    res = invoke("compare", "--data-dir", str(data_dir), *SMALL, *args, "--out", str(out))
    assert res.exit_code == 0, res.output
    heading = next(line for line in res.output.splitlines() if line.startswith("== "))
    assert "(20 training, 5 test samples)" in heading
    full = invoke("compare", "--data-dir", str(data_dir), *SMALL, "--out", str(tmp_path / "f"))
    assert full.exit_code == 0, full.output
    assert (out / "loss.csv").read_bytes() != (tmp_path / "f" / "loss.csv").read_bytes()


def test_train_size_must_hold_a_batch(tmp_path, data_dir):
    res = invoke("compare", "--data-dir", str(data_dir), *SMALL, "--train-size", "5")
    assert res.exit_code == 2 and "'--train-size'" in res.output
    assert "5 training samples cannot fill a batch of 8; valid: 8..40" in res.output
