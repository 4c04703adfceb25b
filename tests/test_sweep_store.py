"""The SQLite store: schema, refusing foreign files untouched, claims, leases, curves."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from optimlab.sweep import SCHEMA_VERSION, Store, StoreError
from optimlab.sweep.store import new_owner
from sweep_helpers import tiny_plan


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fake_result(status: str = "done") -> dict:
    return {
        "status": status,
        "final_loss": 0.5,
        "final_smoothed_loss": 0.4,
        "final_accuracy": 0.9,
        "diverged_at": None,
        "wall_seconds": 1.0,
        "train_seconds": 0.8,
        "versions": {"optimlab": "x"},
        "host": "h",
        "curves": {
            "losses": np.arange(5, dtype=np.float32),
            "grid": np.arange(6, dtype=np.int64).reshape(2, 3),
        },
    }


def test_new_store_schema_wal_and_curves_round_trip(tmp_path):
    path = tmp_path / "sub" / "s.sqlite"
    runs = tiny_plan().search_runs()
    with Store(path) as st:
        assert st.meta()["schema_version"] == str(SCHEMA_VERSION)
        assert st.enqueue("sw", runs) == len(runs)
        assert st.enqueue("sw", runs) == 0  # INSERT OR IGNORE: never duplicated
        owner = new_owner()
        assert st.claim([runs[0].run_id], owner, limit=5) == [runs[0].run_id]
        assert st.finish(runs[0].run_id, owner, _fake_result())
        assert not st.finish(runs[0].run_id, owner, _fake_result())  # already finished
        c = st.curves(runs[0].run_id)
        assert c["losses"].dtype == np.float32 and c["grid"].shape == (2, 3)
        np.testing.assert_array_equal(c["grid"], np.arange(6).reshape(2, 3))
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"optimlab_meta", "sweeps", "runs", "sweep_runs", "curves"} <= tables
    db.close()


def test_not_a_store_is_refused_and_left_untouched(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all\n" * 10)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    for path, match in ((text, "not an SQLite database"), (other, "tables: t")):
        before = _digest(path)
        with pytest.raises(StoreError, match=match):
            Store(path)
        assert _digest(path) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite", "other.sqlite"]


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("optimlab_version", "0.0.1", "written by optimlab 0.0.1"),
        ("schema_version", "99", "schema version 99"),
    ],
)
def test_store_of_another_version_is_refused_and_left_untouched(tmp_path, key, value, match):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE optimlab_meta SET value = ? WHERE key = ?", (value, key))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    before = _digest(path)
    with pytest.raises(StoreError, match=match):
        Store(path)
    assert _digest(path) == before
    if key == "optimlab_version":  # reports may still read it
        with Store(path, readonly=True) as st:
            assert st.meta()["optimlab_version"] == "0.0.1"
    else:
        with pytest.raises(StoreError, match=match):
            Store(path, readonly=True)


def test_claims_are_exclusive_until_the_owner_dies_or_its_lease_expires(tmp_path):
    runs = tiny_plan().search_runs()
    ids = [r.run_id for r in runs]
    with Store(tmp_path / "s.sqlite") as st:
        st.enqueue("sw", runs)
        a, b = new_owner(), new_owner()
        assert st.claim(ids, a, limit=2, lease_s=60) == ids[:2]
        assert st.claim(ids, b, limit=10, lease_s=60) == ids[2:]
        assert st.claim(ids, b, limit=10) == []
        st.release(ids[:1], a)
        assert st.claim(ids, b, limit=10) == ids[:1]
        st.renew(ids[1:2], a, lease_s=-1)  # a's lease ran out, but a lives on this host
        assert st.claim(ids, b, limit=10) == []
        st.release(ids[1:2], a)
        far = "elsewhere.example:4242:beef"  # another host's owner: only its lease counts
        assert st.claim(ids, far, limit=1, lease_s=60) == ids[1:2]
        assert st.claim(ids, b, limit=10) == []
        st.renew(ids[1:2], far, lease_s=-1)
        assert st.claim(ids, b, limit=10) == ids[1:2]
        # a dead process on this host: its runs are claimable at once
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        ghost = f"{a.split(':')[0]}:{dead}:feed"
        st.enqueue("sw", tiny_plan(seeds=1).default_runs())
        extra = [r.run_id for r in tiny_plan(seeds=1).default_runs()]
        assert st.claim(extra, ghost, limit=10, lease_s=3600) == extra
        assert st.claim(extra, b, limit=10) == extra
        rows = {r["id"]: r for r in st.runs(extra)}
        assert all(r["attempts"] == 2 and r["owner"] == b for r in rows.values())


_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from sweep_helpers import tiny_plan
    from optimlab.sweep import run_sweep
    while not __import__("os").path.exists({go!r}):
        pass
    s = run_sweep(tiny_plan(seeds=3), {store!r}, workers=1, poll_s=0.05)
    print(s.computed, s.skipped)
""")


def test_two_concurrent_sweeps_lose_nothing_and_duplicate_nothing(tmp_path):
    store, go = tmp_path / "s.sqlite", tmp_path / "go"
    code = _WRITER.format(tests=str(Path(__file__).parent), go=str(go), store=str(store))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    time.sleep(0.5)
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    plan = tiny_plan(seeds=3)
    with Store(store) as st:
        rows = st.runs()
        linked = st.sweep_runs(plan.sweep_id)
    n_expected = len(plan.search_runs()) + len(plan.default_runs()) + 2 * 3
    assert len(rows) == n_expected
    assert all(r["status"] in ("done", "diverged") for r in rows)
    assert all(r["attempts"] == 1 for r in rows)  # no run was computed twice
    computed = [int(o[0].split()[0]) for o in outs]
    assert sum(computed) == n_expected
    assert len(linked) == n_expected
    print("runs computed by each sweep:", computed)


def test_heartbeat_keeps_the_lease_of_runs_in_flight(tmp_path):
    from optimlab.sweep.execute import _Heartbeat

    runs = tiny_plan().search_runs()[:2]
    with Store(tmp_path / "s.sqlite") as st:
        st.enqueue("sw", runs)
        owner = new_owner()
        ids = st.claim([r.run_id for r in runs], owner, limit=2, lease_s=0.3)
        beat = _Heartbeat(st.path, owner, 0.3)
        beat.track(ids[:1])
        time.sleep(0.6)
        beat.stop()
        leases = {r["id"]: r["lease_until"] for r in st.runs(ids)}
    assert leases[ids[0]] > time.time() > leases[ids[1]]
