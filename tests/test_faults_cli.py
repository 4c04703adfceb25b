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
