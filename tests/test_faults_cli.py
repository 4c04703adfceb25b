"""Faults survived by the single-run commands (issue 16): each gives one line naming the
option or file, the right exit status, no traceback, and leaves files whole or absent."""

from __future__ import annotations

import pytest

from optimlab.results_io import OutputError, atomic_open, commit_files, write_text


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


# -- atomic writes ----------------------------------------------------------------------
def test_commit_files_all_or_nothing(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    b.write_text("old b")
    missing = tmp_path / "no-such-folder" / "c.txt"  # staging this one fails
    with pytest.raises(OutputError, match=r"no-such-folder/c\.txt"):
        commit_files({a: b"new a", b: b"new b", missing: b"c"})
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert _listing(tmp_path) == ["a.txt", "b.txt"]  # no temporary file left
    assert commit_files({a: b"new a", b: b"new b"}) == [a, b]
    assert a.read_text() == "new a" and b.read_text() == "new b"
    assert _listing(tmp_path) == ["a.txt", "b.txt"]


def test_atomic_open_error_keeps_old_file(tmp_path):
    target = tmp_path / "x.csv"
    write_text(target, "complete\n")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("part")
        raise RuntimeError("interrupted")
    assert target.read_text() == "complete\n"
    assert _listing(tmp_path) == ["x.csv"]


def test_written_files_get_ordinary_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "a.csv", "x\n")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # as open() makes them, not mkstemp's 0600


# -- the commands under faults ----------------------------------------------------------
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from data_helpers import isolate_env, synthetic  # noqa: E402
from optimlab.cli import main  # noqa: E402

SMALL = ["--iterations", "4", "--batch-size", "8", "--hidden", "6", "--eval-every", "2"]
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path)
    return synthetic(n_train=40, n_test=15, seed=3).write(tmp_path / "idx")


def invoke(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def error_line(res, status: int) -> str:
    """The command failed with ``status`` and one ``Error:`` line, no traceback; the line."""
    assert res.exit_code == status, res.output
    assert "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit), res.exception
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, res.stderr
    assert res.stderr.rstrip().endswith(errors[0]), "the message is a single line"
    return errors[0]


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (root only); skipped where it cannot be mounted."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {done.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` until about ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    (disk / "ballast").write_bytes(bytes(max(0, free - leave)))


def test_full_disk_keeps_the_previous_results_whole(small_disk, data_dir):
    out = small_disk / "out"
    res = invoke("compare", "--data-dir", data_dir, *SMALL, "--out", out)
    assert res.exit_code == 0, res.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"loss.png", "accuracy.png", "loss.csv", "summary.json"}
    _fill(small_disk, leave=40_000)  # less than the new figures need
    res = invoke("compare", "--data-dir", data_dir, *SMALL, "--seed", "1", "--out", out)
    line = error_line(res, 1)
    assert "the disk is full" in line and str(out) in line
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # every earlier file intact, no partial or temporary file


def test_full_disk_paths_gif_writes_nothing_partial(small_disk):
    out = small_disk / "p"
    out.mkdir()
    _fill(small_disk, leave=30_000)
    res = invoke("paths", "--gif", "--steps", "5", "--out", out)
    line = error_line(res, 1)
    assert "the disk is full" in line and "paths." in line
    assert list(out.iterdir()) == []


def test_closed_stdout_still_writes_the_results(tmp_path, data_dir):
    """`optimlab compare ... | head -1`: the reader is gone, the files are not lost."""
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=SRC)
    cmd = [sys.executable, "-m", "optimlab", "compare", "--data-dir", str(data_dir), *SMALL]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # before the command writes anything: every write meets EPIPE
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert {p.name for p in out.iterdir()} == {
        "loss.png",
        "accuracy.png",
        "loss.csv",
        "summary.json",
    }


def test_python_dash_m_optimlab():
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run(
        [sys.executable, "-m", "optimlab", "--help"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and "Usage: optimlab" in done.stdout


# -- sizes ---------------------------------------------------------------------------
def test_huge_iterations_refused_with_the_estimate(tmp_path, data_dir, monkeypatch):
    monkeypatch.setattr("optimlab.cli.available_memory", lambda: 8 * 10**9)
    out = tmp_path / "out"
    args = ["--iterations", 10**12, "--batch-size", 8]
    res = invoke("compare", "--data-dir", data_dir, *args, "--out", out)
    line = error_line(res, 2)
    assert "'--iterations'" in line and "8 GB this machine has available" in line
    # 4 runs x 1e12 losses x 124 bytes each (3 float64 copies and a CSV row)
    assert "need about 496 TB" in line
    assert not out.exists()  # nothing created for a run that never started


def test_huge_hidden_layer_refused_with_the_estimate(tmp_path, data_dir, monkeypatch):
    monkeypatch.setattr("optimlab.cli.available_memory", lambda: 10**9)
    args = ["--hidden", 1000000, "--batch-size", 8]
    res = invoke("compare", "--data-dir", data_dir, *args, "--out", tmp_path / "o")
    line = error_line(res, 2)
    assert "'--hidden'" in line and "1 GB this machine has available" in line


def test_paths_steps_have_an_upper_bound(tmp_path):
    line = error_line(invoke("paths", "--steps", 10**10, "--out", tmp_path / "o"), 2)
    assert "'--steps'" in line and "1<=x<=100000" in line
    assert not (tmp_path / "o").exists()


# -- NaN and inf past the option checks ------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_weight_decay_names_the_option(tmp_path, data_dir, value):
    res = invoke("compare", "--data-dir", data_dir, *SMALL, "--weight-decay", value)
    line = error_line(res, 2)
    assert "'--weight-decay'" in line and "weight_decay_lambda" not in res.output


# -- data errors -----------------------------------------------------------------------
def test_unreadable_data_file_is_named(tmp_path, data_dir, monkeypatch):
    real = Path.read_bytes

    def read_bytes(self):  # a file without read permission, even for root
        if self.name.startswith("train-labels"):
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    line = error_line(invoke("compare", "--data-dir", data_dir, *SMALL, "--out", tmp_path), 2)
    assert "'--data-dir'" in line and "train-labels-idx1-ubyte.gz: Permission denied" in line


def test_unreadable_optimlab_data_folder_is_named(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("OPTIMLAB_DATA", str(data_dir))
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    line = error_line(invoke("compare", *SMALL, "--out", tmp_path / "o"), 2)
    assert f"cannot read data folder {data_dir} (from OPTIMLAB_DATA)" in line


def test_cache_that_is_a_file(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path)
    blocker = tmp_path / "cache-file"
    blocker.write_text("")
    monkeypatch.setenv("OPTIMLAB_CACHE", str(blocker))
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "0")
    res = invoke("compare", "--dataset", "fashion-mnist", *SMALL, "--out", tmp_path / "o")
    line = error_line(res, 2)
    assert "(from OPTIMLAB_CACHE) cannot be created" in line and "is a file" in line
    assert not (tmp_path / "o").exists()


def test_read_only_cache(tmp_path, monkeypatch):
    cache = isolate_env(monkeypatch, tmp_path)
    cache.mkdir()
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "no")

    def refuse(self, *args, **kwargs):  # a read-only folder, even for root
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "touch", refuse)
    res = invoke("compare", "--dataset", "fashion-mnist", *SMALL, "--out", tmp_path / "o")
    line = error_line(res, 2)
    assert "(from OPTIMLAB_CACHE) is not writable" in line
    assert list(cache.iterdir()) == [] and not (tmp_path / "o").exists()


def test_offline_flag_must_be_yes_or_no(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "maybe")
    line = error_line(invoke("compare", *SMALL, "--out", tmp_path / "o"), 2)
    assert "OPTIMLAB_OFFLINE='maybe' is not a yes/no value" in line and "false" in line


def test_offline_fashion_mnist_leaves_no_folders_and_prints_lines(tmp_path, monkeypatch):
    cache = isolate_env(monkeypatch, tmp_path)
    out = tmp_path / "results" / "fm"
    res = invoke("compare", "--dataset", "fashion-mnist", *SMALL, "--out", out)
    assert res.exit_code == 2 and "Traceback" not in res.output
    lines = res.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Error:"))
    message = lines[start:]
    assert "OPTIMLAB_OFFLINE=1 forbids network access" in message[0]
    assert message[1].startswith("To supply the files by hand")  # lines, not one run-on line
    assert message[-1].startswith("fashion-mnist is published at: http")
    assert not (tmp_path / "results").exists() and not cache.exists()


def test_corrupt_mnist_of_the_standard_size_is_named(tmp_path, monkeypatch):
    import gzip

    from optimlab.data.registry import DATASETS
    from optimlab.data.sources import find_in_folder

    isolate_env(monkeypatch, tmp_path)
    folder = tmp_path / "mnist"
    packaged = Path(__file__).resolve().parents[1] / "src" / "optimlab" / "data" / "mnist"
    shutil.copytree(packaged, folder)
    labels = find_in_folder(folder, DATASETS["mnist"].file("t10k-labels"))
    raw = gzip.decompress(labels.read_bytes())
    labels.write_bytes(gzip.compress(raw[:8] + bytes(len(raw) - 8)))  # header intact
    res = invoke("compare", "--data-dir", folder, *SMALL, "--out", tmp_path / "o")
    line = error_line(res, 2)
    assert f"{labels} is corrupt" in line
