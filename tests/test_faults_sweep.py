"""Faults around `optimlab sweep` and `optimlab report` (issue 16, sweep side).

Each test provokes one fault and checks what the user sees: the exit status, one line
naming the option or the file, no traceback; files intact or absent (never truncated);
no process left behind; the store unchanged. Full disks and read-only mounts come from a
small tmpfs, skipped when this machine does not let the tests mount one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimlab.sweep.cli import report, sweep
from sweep_helpers import CLI_ARGS, dask_processes, exact_results

#: a sweep of 14 runs of a fraction of a second each (2 optimizers x 3 rates, 2 x 2 seeds x 2)
ARGS = CLI_ARGS
#: the same with runs long enough (several seconds) to kill the sweep in the middle of one
SLOW = [a if a != "120" else "20000" for a in ARGS]
N_RUNS = 14


def _cmd(command: str, *args: str) -> list[str]:
    return [sys.executable, "-c", f"from optimlab.sweep.cli import {command}; {command}()", *args]


def _one_line_error(output: str, *words: str) -> None:
    """The output is an error on one line (click's usage lines aside) naming ``words``."""
    assert "Traceback" not in output
    lines = [ln for ln in output.splitlines() if ln.startswith(("Error", "error"))]
    assert len(lines) == 1, output
    for w in words:
        assert w in lines[0], output


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _count(store: Path, status: str) -> int:
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            q = "SELECT COUNT(*) FROM runs WHERE status = ?"
            return db.execute(q, (status,)).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:  # not created yet
        return 0


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` alive now (from /proc)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # a zombie has finished; only its parent's wait is missing
                parent[int(d.name)] = int(fields[1])
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.update(kids)
        todo += kids
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(p)
    return alive


def _wait_for(cond, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@contextlib.contextmanager
def _tmpfs(path: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (skips the test if mounting is not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if got.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({got.stderr.strip() or 'mount failed'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte."""
    filler = folder / "filler"
    for name, chunk in ((filler, 4096), (folder / "filler2", 1)):  # then the last block
        with contextlib.suppress(OSError), open(name, "wb", buffering=0) as f:
            while True:
                f.write(b"\0" * chunk)
    return filler


@pytest.fixture(scope="module")
def finished_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("finished") / "s.sqlite"
    res = CliRunner().invoke(sweep, [*ARGS, "--workers", "1", "--store", str(store)])
    assert res.exit_code == 0, res.output
    return store


# -- 1. the report's files are written all or nothing ----------------------------------------


def test_report_on_a_full_disk_says_so_and_leaves_the_old_report_intact(tmp_path, finished_store):
    with _tmpfs(tmp_path / "disk", "1m") as disk:
        out = disk / "report"
        res = CliRunner().invoke(report, ["--store", str(finished_store), "--out", str(out)])
        assert res.exit_code == 0, res.output
        before = {p.name: _digest(p) for p in out.iterdir()}
        _fill(disk)
        proc = subprocess.run(
            _cmd("report", "--store", str(finished_store), "--out", str(out), "--target", "0.6"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stderr
        _one_line_error(proc.stderr, "disk is full")
        assert {p.name: _digest(p) for p in out.iterdir()} == before  # no temp file, no change


# -- 2. a closed stdout ------------------------------------------------------------------------


def test_a_piped_sweep_whose_reader_quits_stores_every_run(tmp_path):
    store = tmp_path / "s.sqlite"
    proc = subprocess.Popen(
        _cmd("sweep", *ARGS, "--workers", "1", "--store", str(store)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert _count(store, "done") + _count(store, "diverged") == N_RUNS


# -- 3. Dask addresses -------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["foo", "tcp://127.0.0.1", "http://127.0.0.1:1", "tcp://:1"])
def test_a_malformed_scheduler_address_is_a_usage_error_before_anything(tmp_path, address):
    store = tmp_path / "s.sqlite"
    res = CliRunner().invoke(sweep, [*ARGS, "--scheduler", address, "--store", str(store)])
    assert res.exit_code == 2, res.output
    _one_line_error(res.output, "--scheduler", "tcp://HOST:PORT")
    assert not store.exists()


def test_a_malformed_dask_scheduler_address_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "127.0.0.1")
    store = tmp_path / "s.sqlite"
    res = CliRunner().invoke(sweep, [*ARGS, "--store", str(store)])
    assert res.exit_code == 2 and not store.exists()
    _one_line_error(res.output, "DASK_SCHEDULER_ADDRESS")


def test_scheduler_without_dask_installed_creates_no_store(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    store = tmp_path / "s.sqlite"
    res = CliRunner().invoke(
        sweep, [*ARGS, "--scheduler", "tcp://127.0.0.1:1", "--store", str(store)]
    )
    assert res.exit_code == 1 and not store.exists()
    _one_line_error(res.output, "pip install optimlab[dask]")


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A TCP listener on 127.0.0.1 that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conns.append(srv.accept()[0])

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        srv.close()


def test_a_listener_that_never_answers_gives_up_in_bounded_time(
    tmp_path, silent_listener, monkeypatch
):
    pytest.importorskip("distributed")
    from optimlab.sweep import execute

    monkeypatch.setattr(execute._Dask, "connect_timeout", 1.0)  # 10 s by default
    store = tmp_path / "s.sqlite"
    t0 = time.monotonic()
    res = CliRunner().invoke(sweep, [*ARGS, "--scheduler", silent_listener, "--store", str(store)])
    assert time.monotonic() - t0 < 30  # a bound, not a speed target: it used to hang
    assert res.exit_code == 1, res.output
    _one_line_error(res.output, silent_listener, "no Dask scheduler answered")
    assert not store.exists()


def test_a_scheduler_killed_mid_sweep_is_one_line_and_a_rerun_resumes(tmp_path):
    store = tmp_path / "s.sqlite"
    args = [a if a != "120" else "3000" for a in ARGS]
    with dask_processes(tmp_path) as (address, scheduler):
        proc = subprocess.Popen(
            _cmd("sweep", *args, "--scheduler", address, "--store", str(store)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for(lambda: _count(store, "done") + _count(store, "diverged") >= 2, proc, 120)
        stored = {k: v for k, v in exact_results(store).items() if v[0] in ("done", "diverged")}
        scheduler.kill()
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err[-3000:]
    assert "Traceback" not in err and "CancelledError" not in err
    _one_line_error(err, "lost the Dask scheduler at " + address, "rerun the same command")
    after = exact_results(store)
    assert {k: after[k] for k in stored} == stored and _count(store, "running") == 0
    res = CliRunner().invoke(sweep, [*args, "--workers", "1", "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert "already stored" in res.output and _count(store, "queued") == 0


# -- 4. no orphans -----------------------------------------------------------------------------


def _start_slow_sweep(store: Path, workers: int = 2) -> tuple[subprocess.Popen, set[int]]:
    """A sweep with ``workers`` local workers, once a run is in flight; its descendants."""
    proc = subprocess.Popen(
        _cmd("sweep", *SLOW, "--workers", str(workers), "--store", str(store)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: _count(store, "running") >= workers, proc)
    _wait_for(lambda: len(_children(proc.pid)) >= workers, proc)
    return proc, _children(proc.pid)


def _assert_all_gone(pids: set[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pids):
        assert time.monotonic() < deadline, f"left behind: {sorted(_alive(pids))}"
        time.sleep(0.1)


def test_sigkill_of_a_sweep_takes_its_workers_and_resource_tracker_with_it(tmp_path):
    proc, kids = _start_slow_sweep(tmp_path / "s.sqlite")
    assert len(kids) >= 3  # two workers and the resource tracker
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    _assert_all_gone(kids)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_sigterm_sighup_and_ctrl_c_release_the_runs_and_stop_the_workers(tmp_path, sig):
    store = tmp_path / "s.sqlite"
    proc, kids = _start_slow_sweep(store)
    stored = exact_results(store)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert "interrupted" in last and "rerun the same command to resume" in last
    _assert_all_gone(kids)
    assert _count(store, "running") == 0  # claimed runs went back to the queue
    finished = {k: v for k, v in stored.items() if v[0] in ("done", "diverged")}
    after = exact_results(store)
    assert {k: after[k] for k in finished} == finished  # what was finished stays as it was


def test_a_killed_compare_process_takes_its_forked_engine_workers_with_it(tmp_path):
    code = (
        "from optimlab.engine import train\n"
        "from optimlab.experiments import Protocol\n"
        "from optimlab.sweep import synthetic_dataset\n"
        "train(['sgd', 'adam'], synthetic_dataset(500, 100),\n"
        "      Protocol(hidden=(64,), iterations=10**6, batch_size=32, eval_every=0), workers=2)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: len(_children(proc.pid)) >= 2, proc, timeout=60)
    kids = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    _assert_all_gone(kids)


def test_a_local_worker_that_dies_is_retried_once_and_the_sweep_completes(tmp_path):
    store = tmp_path / "s.sqlite"
    proc = subprocess.Popen(
        _cmd("sweep", *ARGS[:-4], "--iterations", "1500", "--workers", "2", "--store", str(store)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: _count(store, "running") >= 1 and len(_children(proc.pid)) >= 2, proc)
    workers = [
        p
        for p in _children(proc.pid)
        if "resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text(errors="replace")
    ]
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "a worker process died" in err and "Traceback" not in err
    assert _count(store, "done") + _count(store, "diverged") == N_RUNS


# -- 5. a full disk under the store -------------------------------------------------------------


def test_a_disk_full_mid_sweep_says_so_and_keeps_what_was_stored(tmp_path):
    with _tmpfs(tmp_path / "disk", "1m") as disk:
        store = disk / "s.sqlite"
        res = CliRunner().invoke(sweep, [*ARGS, "--workers", "1", "--store", str(store)])
        assert res.exit_code == 0, res.output
        before = exact_results(store)
        filler = _fill(disk)
        other = [a if a != "0.01,0.1,1" else "0.02,0.2" for a in ARGS]  # new runs to store
        proc = subprocess.run(
            _cmd("sweep", *other, "--workers", "1", "--store", str(store)),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 1, proc.stderr
        _one_line_error(proc.stderr, str(store), "database or disk is full", "rerun")
        assert "cannot rollback" not in proc.stderr
        after = exact_results(store)
        assert {k: after[k] for k in before} == before
        filler.unlink()
        (disk / "filler2").unlink()
        res = CliRunner().invoke(sweep, [*other, "--workers", "1", "--store", str(store)])
        assert res.exit_code == 0, res.output  # resumes once there is room


def test_a_disk_full_at_the_start_leaves_no_empty_store(tmp_path):
    with _tmpfs(tmp_path / "disk", "1m") as disk:
        _fill(disk)
        store = disk / "new.sqlite"
        res = CliRunner().invoke(sweep, [*ARGS, "--workers", "1", "--store", str(store)])
        assert res.exit_code == 1, res.output
        _one_line_error(res.output, str(store), "full")
        assert not store.exists() and not Path(f"{store}-wal").exists()


# -- 6. a read-only store ----------------------------------------------------------------------


def test_a_finished_store_on_a_read_only_mount_can_be_reported(tmp_path, finished_store):
    with _tmpfs(tmp_path / "ro", "4m") as ro:
        store = ro / "s.sqlite"
        store.write_bytes(finished_store.read_bytes())
        got = subprocess.run(["mount", "-o", "remount,ro", str(ro)], capture_output=True)
        if got.returncode != 0:
            pytest.skip("cannot remount the tmpfs read-only")
        res = CliRunner().invoke(report, ["--store", str(store), "--out", str(tmp_path / "r")])
        assert res.exit_code == 0, res.output
        assert (tmp_path / "r" / "report.html").stat().st_size > 0


# -- 7. damaged stores -------------------------------------------------------------------------


def test_an_empty_file_is_named_as_no_store(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    res = CliRunner().invoke(report, ["--store", str(empty), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    _one_line_error(res.output, str(empty), "empty", "--store")
    assert empty.stat().st_size == 0


TAMPER = {
    "bytes": "UPDATE curves SET data = x'0001' WHERE run_id = ? AND name = 'losses'",
    "shape": "UPDATE curves SET shape = '[7, 3]' WHERE run_id = ? AND name = 'losses'",
    "shape-json": "UPDATE curves SET shape = 'not json' WHERE run_id = ? AND name = 'losses'",
    "dtype": "UPDATE curves SET dtype = '|O' WHERE run_id = ? AND name = 'test_accuracy'",
    "dtype-text": "UPDATE curves SET dtype = '<U2' WHERE run_id = ? AND name = 'losses'",
    "missing": "DELETE FROM curves WHERE run_id = ? AND name = 'eval_iterations'",
    "value": "UPDATE runs SET final_accuracy = 'high' WHERE id = ?",
}


@pytest.mark.parametrize("how", sorted(TAMPER))
def test_a_tampered_run_is_named_and_the_sound_ones_reported(tmp_path, finished_store, how):
    store = tmp_path / "s.sqlite"
    store.write_bytes(finished_store.read_bytes())
    db = sqlite3.connect(store)
    (victim,) = db.execute(
        "SELECT run_id FROM sweep_runs WHERE stage = 'tuned' ORDER BY run_id LIMIT 1"
    ).fetchone()
    with db:
        db.execute(TAMPER[how], (victim,))
    db.close()
    digest = _digest(store)
    out = tmp_path / "r"
    res = CliRunner().invoke(report, ["--store", str(store), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    warning = [ln for ln in res.output.splitlines() if ln.startswith("warning")]
    assert len(warning) == 1 and victim in warning[0] and str(store) in warning[0]
    page = (out / "report.html").read_text()
    assert "Damaged runs" in page and victim in page
    rows = (out / "runs.csv").read_text().splitlines()
    assert len(rows) == 1 + N_RUNS and any(victim in r and "damaged" in r for r in rows)
    assert _digest(store) == digest  # reading changed nothing


def test_a_sweep_with_a_non_json_configuration_is_named(tmp_path, finished_store):
    store = tmp_path / "s.sqlite"
    store.write_bytes(finished_store.read_bytes())
    db = sqlite3.connect(store)
    with db:
        db.execute("UPDATE sweeps SET config = '{not json'")
    (sid,) = db.execute("SELECT id FROM sweeps").fetchone()
    db.close()
    res = CliRunner().invoke(report, ["--store", str(store), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    _one_line_error(res.output, str(store), sid, "not valid JSON")


# -- 8, 9. sizes and non-finite numbers -------------------------------------------------------


def test_iterations_beyond_memory_are_refused_up_front(tmp_path):
    store = tmp_path / "s.sqlite"
    args = [a if a != "120" else str(10**12) for a in ARGS]
    res = CliRunner().invoke(sweep, [*args, "--workers", "1", "--store", str(store)])
    assert res.exit_code == 2
    _one_line_error(res.output, "--iterations", "memory", "available")
    assert not store.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--weight-decay", "nan"), ("--weight-decay", "inf"), ("--target", "nan")],
)
def test_non_finite_numbers_are_usage_errors(tmp_path, option, value):
    store = tmp_path / "s.sqlite"
    res = CliRunner().invoke(sweep, [*ARGS, option, value, "--store", str(store)])
    assert res.exit_code == 2
    _one_line_error(res.output, option)
    assert not store.exists()


def test_report_target_nan_is_a_usage_error(tmp_path, finished_store):
    res = CliRunner().invoke(
        report, ["--store", str(finished_store), "--out", str(tmp_path / "r"), "--target", "nan"]
    )
    assert res.exit_code == 2
    _one_line_error(res.output, "--target")
    assert not (tmp_path / "r").exists()


# -- minor ---------------------------------------------------------------------------------------


def test_workers_beyond_the_cores_are_capped_and_said(tmp_path):
    from optimlab.engine import default_workers

    res = CliRunner().invoke(
        sweep, [*ARGS, "--workers", str(default_workers() + 7), "--store", str(tmp_path / "s")]
    )
    assert res.exit_code == 0, res.output
    assert f"capped at {default_workers()}" in res.output


def test_own_data_warns_once_in_one_line(tmp_path):
    import numpy as np

    from optimlab.data.idx import write_idx

    rng = np.random.default_rng(0)
    names = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 300, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 50, dtype=np.uint8),
    }
    for name, arr in names.items():
        write_idx(tmp_path / name, arr, compress=False)
    args = ["--optimizer", "sgd", "--lr", "0.1", "--seeds", "1", "--iterations", "20"]
    args += ["--hidden", "8", "--batch-size", "10", "--eval-every", "10", "--workers", "2"]
    proc = subprocess.run(
        _cmd("sweep", *args, "--data-dir", str(tmp_path), "--store", str(tmp_path / "s.sqlite")),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in proc.stderr and "ChecksumSkippedWarning" not in proc.stderr
    assert "warnings.warn" not in proc.stderr
    if proc.returncode == 0:  # loaded as the user's own data: said once, in one line
        assert sum("checksum" in ln for ln in proc.stderr.splitlines()) <= 1
    else:  # refused (a damaged standard dataset): one usage line naming the option
        assert proc.returncode == 2
        _one_line_error(proc.stderr, "--data-dir")
