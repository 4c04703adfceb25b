"""Running sweeps: bit-identical results serially and with workers, resume after SIGKILL,
the command line, and the report."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from optimlab.sweep import Store, SweepError, run_sweep
from optimlab.sweep.cli import report, sweep
from optimlab.sweep.report import CSV_COLUMNS, summarize, write_report
from sweep_helpers import CLI_ARGS, exact_results, tiny_plan


def test_serial_and_local_workers_give_bit_identical_runs(tmp_path):
    plan = tiny_plan()
    s1 = run_sweep(plan, tmp_path / "serial.sqlite", workers=1)
    s2 = run_sweep(plan, tmp_path / "local.sqlite", workers=2, lease_s=0.06)  # short waits
    assert (s1.executor, s2.executor) == ("serial", "local")
    a, b = exact_results(tmp_path / "serial.sqlite"), exact_results(tmp_path / "local.sqlite")
    assert a == b and len(a) == s1.total == 6 + 4 + 4
    assert any(v[0] == "diverged" for v in a.values())  # sgd at lr 30
    assert s1.best["sgd"].diverged == (30.0,) and s1.best == s2.best
    again = run_sweep(plan, tmp_path / "serial.sqlite", workers=2)  # resume: nothing to do
    assert (again.computed, again.skipped) == (0, s1.total)


def test_every_run_diverged_or_did_not_learn_is_reported_and_gets_no_stage_2(tmp_path):
    # lr 1e-9 leaves the near-uniform initial outputs (loss ln k) where they are; lr 100
    # overflows the weights of both rules
    plan = tiny_plan(("sgd", "momentum"), lrs=(1e-9, 100.0), seeds=2, defaults=False)
    s = run_sweep(plan, tmp_path / "s.sqlite", workers=1)
    assert s.all_diverged == ["sgd", "momentum"] and s.total == 4  # no stage 2
    assert s.best["sgd"].diverged == (100.0,) and s.best["momentum"].diverged == (100.0,)
    assert s.best["sgd"].not_learned == (1e-9,) and s.best["momentum"].not_learned == (1e-9,)
    rep = summarize(tmp_path / "s.sqlite")
    assert rep.selection["sgd"]["lr"] is None and rep.tuned == {}
    files = write_report(tmp_path / "s.sqlite", tmp_path / "out")
    page = files[0].read_text()
    assert "Every stage-1 run diverged or did not learn for:</b> sgd, momentum" in page
    assert page.count("none learned") == 2


def test_a_failing_run_raises_and_goes_back_to_the_queue(tmp_path):
    plan = tiny_plan()
    bad = type(plan)(
        type(plan.problem)("synthetic", plan.problem.protocol, 10, 10), plan.optimizers, plan.lrs, 1
    )  # batch 32 > 10 training samples
    with pytest.raises(SweepError, match="batch_size 32 is larger"):
        run_sweep(bad, tmp_path / "s.sqlite", workers=1)
    with Store(tmp_path / "s.sqlite") as st:
        rows = st.runs()
    assert {r["status"] for r in rows} == {"queued"} and "batch_size" in rows[0]["error"]


def test_dask_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SweepError, match=r"pip install optimlab\[dask\]"):
        run_sweep(tiny_plan(), tmp_path / "s.sqlite", scheduler="tcp://127.0.0.1:1")


SWEEP_ARGS = [*CLI_ARGS, "--workers", "1"]


def _count(store, status):
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM runs WHERE status = ?", (status,)).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:  # not created yet
        return 0


def test_sigkill_mid_sweep_then_the_same_command_completes_every_run_once(tmp_path):
    store = tmp_path / "s.sqlite"
    cmd = [
        sys.executable,
        "-c",
        "from optimlab.sweep.cli import sweep; sweep()",
        *SWEEP_ARGS,
        "--store",
        str(store),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (_count(store, "done") >= 3 and _count(store, "running") == 1):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the sweep never got going"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
    with Store(store) as st:
        before = {r["id"]: r for r in st.runs()}
    finished = {k: r["finished_at"] for k, r in before.items() if r["status"] == "done"}
    in_flight = [k for k, r in before.items() if r["status"] == "running"]
    assert len(finished) >= 3 and len(in_flight) == 1
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with Store(store) as st:
        after = {r["id"]: r for r in st.runs()}
    assert len(after) == 6 + 4 + 4
    assert all(r["status"] in ("done", "diverged") for r in after.values())
    assert all(after[k]["finished_at"] == t for k, t in finished.items())  # not redone
    assert after[in_flight[0]]["attempts"] == 2
    assert sum(r["attempts"] for r in after.values()) == len(after) + 1
    assert f"{len(after) - len(finished)} new, {len(finished)} already stored" in done.stdout


def test_cli_sweep_then_report(tmp_path):
    runner = CliRunner()
    store, out = tmp_path / "s.sqlite", tmp_path / "report"
    res = runner.invoke(sweep, [*SWEEP_ARGS, "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert "14 runs: 14 new, 0 already stored" in res.output and "best lr" in res.output
    res = runner.invoke(report, ["--store", str(store), "--out", str(out)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "report.html",
        "runs.csv",
        "sensitivity.png",
        "tuned_accuracy.png",
        "tuned_loss.png",
    ]
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "http" not in page.split("<body>")[1]
    with open(out / "runs.csv") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 14
    assert {r["stage"] for r in rows} <= {"search", "default", "tuned", "default+tuned"}
    # errors are one clear line, and the file is left alone
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"hello")
    res = runner.invoke(sweep, [*SWEEP_ARGS, "--store", str(junk)])
    assert res.exit_code == 2 and "not an optimlab store" in res.output
    assert "--store" in res.output
    assert junk.read_bytes() == b"hello"
    res = runner.invoke(sweep, [*SWEEP_ARGS[:4], "--lr", "0.1,x", "--store", str(store)])
    assert res.exit_code == 2 and "learning rate must be a number" in res.output


def test_report_when_every_search_run_diverged(tmp_path):
    """The sensitivity plot has no finished point: still drawn, no crash."""
    runner = CliRunner()
    store = tmp_path / "s.sqlite"
    args = ["--optimizer", "sgd", "--lr", "1e300", "--seeds", "1", "--iterations", "5"]
    args += ["--hidden", "5", "--train-size", "200", "--test-size", "50", "--workers", "1"]
    res = runner.invoke(sweep, [*args, "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert "no stage-1 run learned" in res.output
    res = runner.invoke(report, ["--store", str(store), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "sensitivity.png").stat().st_size > 0


def test_unusable_store_and_out_paths_are_option_errors(tmp_path):
    runner = CliRunner()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(sweep, [*SWEEP_ARGS, "--store", str(blocker / "s.sqlite")])
    assert res.exit_code == 2 and "--store" in res.output and "cannot create" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    store = tmp_path / "s.sqlite"
    assert runner.invoke(sweep, [*SWEEP_ARGS, "--store", str(store)]).exit_code == 0
    res = runner.invoke(report, ["--store", str(store), "--out", str(blocker / "out")])
    assert res.exit_code == 2 and "--out" in res.output
