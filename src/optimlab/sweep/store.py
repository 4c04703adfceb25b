"""The SQLite store of a sweep: every run, its status, results and curves in one file.

Schema (version :data:`SCHEMA_VERSION`)::

    optimlab_meta(key TEXT PRIMARY KEY, value TEXT)
        -- application = optimlab, schema_version, optimlab_version, created_at
    sweeps(id TEXT PRIMARY KEY, config TEXT, target REAL, selection TEXT,
           created_at REAL, updated_at REAL)
    runs(id TEXT PRIMARY KEY, stage TEXT, optimizer TEXT, spec TEXT, lr REAL,
         seed INTEGER, config TEXT,
         status TEXT CHECK (status IN ('queued','running','done','diverged')),
         owner TEXT, lease_until REAL, attempts INTEGER, error TEXT,
         queued_at REAL, started_at REAL, finished_at REAL,
         final_loss REAL, final_smoothed_loss REAL, final_accuracy REAL,
         target REAL, iterations_to_target INTEGER, seconds_to_target REAL,
         diverged_at INTEGER, wall_seconds REAL, train_seconds REAL,
         versions TEXT, host TEXT)
    sweep_runs(sweep_id TEXT, run_id TEXT, stage TEXT, label TEXT, replicate INTEGER,
               PRIMARY KEY (sweep_id, stage, run_id))
    curves(run_id TEXT, name TEXT, dtype TEXT, shape TEXT, data BLOB,
           PRIMARY KEY (run_id, name))

Curves are ``ndarray.tobytes()`` with their dtype (``dtype.str``, e.g. ``<f8``)
and shape (JSON) beside them. The file is in WAL mode; every change is one
transaction, so a process killed at any point leaves the file consistent.

Concurrency: runs are inserted with ``INSERT OR IGNORE`` (keyed by id, never
duplicated) and *claimed* under a write lock (``BEGIN IMMEDIATE``) by an owner
token ``host:pid:random`` with a lease that the owner renews. A run ``running``
under an owner whose process on this host no longer exists, or under an owner
on another host whose lease expired, may be claimed again. Results are written
only while the run is not already finished, so two sweeps on one store neither
lose nor duplicate a run.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__

__all__ = ["SCHEMA_VERSION", "STATUSES", "Store", "StoreError", "StoreWriteError", "new_owner"]

SCHEMA_VERSION = 1
APPLICATION_ID = 0x6F706C62  # "oplb", in the SQLite header
STATUSES = ("queued", "running", "done", "diverged")
FINISHED = ("done", "diverged")
_SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE optimlab_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sweeps (
    id TEXT PRIMARY KEY, config TEXT NOT NULL, target REAL, selection TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY, stage TEXT NOT NULL, optimizer TEXT NOT NULL, spec TEXT NOT NULL,
    lr REAL NOT NULL, seed INTEGER NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'diverged')),
    owner TEXT, lease_until REAL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
    queued_at REAL NOT NULL, started_at REAL, finished_at REAL,
    final_loss REAL, final_smoothed_loss REAL, final_accuracy REAL,
    target REAL, iterations_to_target INTEGER, seconds_to_target REAL,
    diverged_at INTEGER, wall_seconds REAL, train_seconds REAL,
    versions TEXT, host TEXT);
CREATE INDEX runs_status ON runs (status);
CREATE TABLE sweep_runs (
    sweep_id TEXT NOT NULL, run_id TEXT NOT NULL, stage TEXT NOT NULL, label TEXT NOT NULL,
    replicate INTEGER NOT NULL, PRIMARY KEY (sweep_id, stage, run_id));
CREATE TABLE curves (
    run_id TEXT NOT NULL, name TEXT NOT NULL, dtype TEXT NOT NULL, shape TEXT NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (run_id, name));
"""


class StoreError(RuntimeError):
    """The file is not an optimlab store, or one this optimlab cannot use."""


class StoreWriteError(StoreError):
    """Writing to a sound store failed (disk full, I/O error): a fault of the machine, not of
    the input. The transaction was rolled back; what was stored before stays stored."""


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only; on a read-only folder or mount (where SQLite cannot create
    the WAL index) open it as immutable, which reads a closed store's file as it is."""
    base = f"file:{path.resolve()}"
    try:
        db = sqlite3.connect(f"{base}?mode=ro", uri=True, timeout=60, isolation_level=None)
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
    return sqlite3.connect(f"{base}?immutable=1", uri=True, timeout=60, isolation_level=None)


def _remove_new_file(path: Path) -> None:
    """Delete a store file this process just created (and its WAL files), if still there."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            p.unlink()
        except OSError:
            pass


def new_owner() -> str:
    """A token naming this process: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_dead(owner: str | None) -> bool:
    """True when ``owner`` is a process on this host that no longer exists."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid != os.getpid() and not _pid_alive(pid)


def _abandoned(old_owner: str | None, owner: str, lease: float | None, now: float) -> bool:
    """Whether a running run may be taken over: its owner process on this host is gone, or
    its owner on another host let the lease expire. A live owner here is never overtaken."""
    if old_owner == owner:
        return False
    if _owner_dead(old_owner):
        return True
    on_this_host = (old_owner or "").partition(":")[0] == socket.gethostname()
    return not on_this_host and lease is not None and lease < now


def _nan_to_none(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


class Store:
    """An open store. ``Store(path)`` creates it if missing; ``readonly=True`` for reports.

    Writing needs a store of this optimlab version (its run ids do not say which
    code produced a result, so versions are never mixed); reading needs only the
    same schema version. Anything else raises :class:`StoreError` without
    touching the file.
    """

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.exists():
            raise StoreError(f"{self.path}: no such store")
        if readonly and self.path.stat().st_size == 0:
            raise StoreError(f"{self.path} is an empty file (0 bytes), not an optimlab store")
        self._check_existing()
        if readonly:
            self._db = _connect_readonly(self.path)
        else:
            self._open_for_writing()
        self._db.row_factory = sqlite3.Row

    # -- opening -------------------------------------------------------------------------

    def _open_for_writing(self) -> None:
        """Connect and create the schema if new; a file created here is removed on failure
        (a full disk leaves no empty store behind)."""
        created = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot create a store there ({exc})") from None
        try:
            self._initialise()
        except BaseException as exc:
            self._db.close()
            if created:
                _remove_new_file(self.path)
            if isinstance(exc, sqlite3.Error):
                what = "create" if created else "open"
                raise StoreWriteError(f"{self.path}: cannot {what} the store: {exc}") from None
            raise

    def _check_existing(self) -> None:
        """Refuse a file that is not a store (or of another version) before writing to it."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb") as f:
            head = f.read(len(_SQLITE_HEADER))
        if head != _SQLITE_HEADER:
            raise StoreError(
                f"{self.path} is not an optimlab store (not an SQLite database); "
                "give --store a new path; the file was left as it is"
            )
        try:
            db = _connect_readonly(self.path)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open the store ({e})") from None
        try:
            self._check_db(db)
        except sqlite3.DatabaseError as e:
            raise StoreError(
                f"{self.path} is not a readable optimlab store ({e}); the file was left as it is"
            ) from None
        finally:
            db.close()

    def _check_db(self, db: sqlite3.Connection) -> bool:
        """Check a database's identity; False if it is empty (a new store)."""
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return False
        app = db.execute("PRAGMA application_id").fetchone()[0]
        if app != APPLICATION_ID or "optimlab_meta" not in tables:
            raise StoreError(
                f"{self.path} is an SQLite database but not an optimlab store "
                f"(tables: {', '.join(sorted(tables))}); give --store a new path; "
                "the file was left as it is"
            )
        meta = dict(db.execute("SELECT key, value FROM optimlab_meta").fetchall())
        schema = int(meta.get("schema_version", -1))
        version = meta.get("optimlab_version", "unknown")
        if schema != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} is an optimlab store of schema version {schema} "
                f"(written by optimlab {version}); this optimlab {__version__} "
                f"reads schema version {SCHEMA_VERSION}. Use optimlab {version} "
                "for it, or give --store a new path; the file was left as it is"
            )
        if not self.readonly and version != __version__:
            raise StoreError(
                f"{self.path} was written by optimlab {version}; this is optimlab "
                f"{__version__}, and results of two versions are never mixed in "
                f"one store. Use optimlab {version} to continue it, or give "
                "--store a new path (reports can still read it); the file was "
                "left as it is"
            )
        return True

    def _initialise(self) -> None:
        with self._transaction() as db:
            if not self._check_db(db):
                for stmt in filter(None, (t.strip() for t in _SCHEMA.split(";"))):
                    db.execute(stmt)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                now = repr(time.time())
                db.executemany(
                    "INSERT INTO optimlab_meta VALUES (?, ?)",
                    [
                        ("application", "optimlab"),
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("optimlab_version", __version__),
                        ("created_at", now),
                    ],
                )
        db = self._db
        for _ in range(100):  # another process may hold a lock for a moment
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError:
                time.sleep(0.05)
        else:
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{self.path}: could not switch to WAL mode (got {mode})")
        db.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), rolled back on any
        error if one is still open (SQLite may already have rolled it back itself, e.g. on a
        full disk). SQLite failures become :class:`StoreWriteError` with SQLite's reason."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the error that got us here is the one to report
                raise
        except sqlite3.Error as exc:
            raise StoreWriteError(f"{self.path}: cannot write to the store: {exc}") from None

    def _write(self, sql_and_params: Iterable[tuple[str, Sequence[Any]]]) -> None:
        with self._transaction() as db:
            for sql, params in sql_and_params:
                db.execute(sql, params)

    # -- sweeps and queueing ----------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM optimlab_meta").fetchall())

    def record_sweep(self, sweep_id: str, config: dict[str, Any], target: float) -> None:
        now = time.time()
        self._write(
            [
                (
                    "INSERT OR IGNORE INTO sweeps (id, config, target, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (sweep_id, json.dumps(config), target, now, now),
                ),
                (
                    "UPDATE sweeps SET target = ?, updated_at = ? WHERE id = ?",
                    (target, now, sweep_id),
                ),
            ]
        )

    def set_selection(self, sweep_id: str, selection: dict[str, Any]) -> None:
        self._write(
            [
                (
                    "UPDATE sweeps SET selection = ?, updated_at = ? WHERE id = ?",
                    (json.dumps(selection), time.time(), sweep_id),
                )
            ]
        )

    def sweeps(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM sweeps ORDER BY updated_at").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            try:
                d["config"] = json.loads(d["config"])
                d["selection"] = json.loads(d["selection"]) if d["selection"] else None
            except (TypeError, ValueError) as e:
                raise StoreError(
                    f"{self.path}: sweep {d['id']}: its stored configuration is not valid "
                    f"JSON ({e}); the store was altered"
                ) from None
            if not isinstance(d["config"], dict) or not isinstance(d["selection"], dict | None):
                raise StoreError(
                    f"{self.path}: sweep {d['id']}: its stored configuration is not a JSON "
                    "object; the store was altered"
                )
            out.append(d)
        return out

    def enqueue(self, sweep_id: str, runs: Sequence[Any]) -> int:
        """Add ``runs`` (:class:`~optimlab.sweep.grid.RunConfig`) as queued; returns how many
        were new. Runs already in the store, whatever their status, are kept as they are."""
        now = time.time()
        before = self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        stmts: list[tuple[str, Sequence[Any]]] = []
        for r in runs:
            stmts.append(
                (
                    "INSERT OR IGNORE INTO runs (id, stage, optimizer, spec, lr, seed, config, "
                    "status, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                    (
                        r.run_id,
                        r.stage,
                        r.name,
                        r.optimizer,
                        r.lr,
                        r.seed,
                        json.dumps(r.configuration(), sort_keys=True),
                        now,
                    ),
                )
            )
            stmts.append(
                (
                    "INSERT OR IGNORE INTO sweep_runs (sweep_id, run_id, stage, label, replicate) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (sweep_id, r.run_id, r.stage, r.label, r.replicate),
                )
            )
        self._write(stmts)
        return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] - before

    # -- claiming and finishing ----------------------------------------------------------------

    def claim(
        self, ids: Sequence[str], owner: str, *, limit: int, lease_s: float = 60.0
    ) -> list[str]:
        """Mark up to ``limit`` of ``ids`` as running under ``owner``, in the order given.

        Claimable: queued runs, and running runs whose owner process on this host
        is gone or whose owner on another host let its lease expire.
        """
        if limit <= 0 or not ids:
            return []
        with self._transaction() as db:
            now = time.time()
            rows = {}
            for chunk in _chunks(ids, 500):
                q = ",".join("?" * len(chunk))
                for r in db.execute(
                    f"SELECT id, status, owner, lease_until FROM runs "
                    f"WHERE id IN ({q}) AND status IN ('queued', 'running')",
                    chunk,
                ):
                    rows[r[0]] = r
            got = []
            for run_id in ids:
                r = rows.get(run_id)
                if r is None:
                    continue
                _, status, old_owner, lease = r
                if status == "running" and not _abandoned(old_owner, owner, lease, now):
                    continue
                db.execute(
                    "UPDATE runs SET status = 'running', owner = ?, lease_until = ?, "
                    "attempts = attempts + 1, started_at = ? WHERE id = ?",
                    (owner, now + lease_s, now, run_id),
                )
                got.append(run_id)
                if len(got) >= limit:
                    break
        return got

    def renew(self, ids: Sequence[str], owner: str, lease_s: float = 60.0) -> None:
        """Extend the lease of ``owner``'s running ``ids``."""
        until = time.time() + lease_s
        self._write(
            [
                (
                    "UPDATE runs SET lease_until = ? WHERE id = ? AND owner = ? "
                    "AND status = 'running'",
                    (until, i, owner),
                )
                for i in ids
            ]
        )

    def release(self, ids: Sequence[str], owner: str, error: str | None = None) -> None:
        """Put ``owner``'s running ``ids`` back in the queue (e.g. after an error)."""
        self._write(
            [
                (
                    "UPDATE runs SET status = 'queued', owner = NULL, lease_until = NULL, "
                    "error = ? WHERE id = ? AND owner = ? AND status = 'running'",
                    (error, i, owner),
                )
                for i in ids
            ]
        )

    def finish(self, run_id: str, owner: str, result: dict[str, Any]) -> bool:
        """Write a run's result (see :func:`optimlab.sweep.execute.run_one`) and its curves.

        One transaction; skipped (returns False) if the run is already finished.
        """
        with self._transaction() as db:
            status = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if status is None or status[0] in FINISHED:
                return False
            db.execute(
                "UPDATE runs SET status = ?, owner = ?, lease_until = NULL, error = NULL, "
                "finished_at = ?, final_loss = ?, final_smoothed_loss = ?, final_accuracy = ?, "
                "target = ?, iterations_to_target = ?, seconds_to_target = ?, diverged_at = ?, "
                "wall_seconds = ?, train_seconds = ?, versions = ?, host = ? WHERE id = ?",
                (
                    result["status"],
                    owner,
                    time.time(),
                    _nan_to_none(result["final_loss"]),
                    _nan_to_none(result["final_smoothed_loss"]),
                    _nan_to_none(result["final_accuracy"]),
                    result.get("target"),
                    result.get("iterations_to_target"),
                    result.get("seconds_to_target"),
                    result["diverged_at"],
                    result["wall_seconds"],
                    result["train_seconds"],
                    json.dumps(result["versions"], sort_keys=True),
                    result["host"],
                    run_id,
                ),
            )
            for name, arr in result["curves"].items():
                arr = np.ascontiguousarray(arr)
                db.execute(
                    "INSERT OR REPLACE INTO curves VALUES (?, ?, ?, ?, ?)",
                    (run_id, name, arr.dtype.str, json.dumps(list(arr.shape)), arr.tobytes()),
                )
        return True

    # -- reading -------------------------------------------------------------------------------

    def statuses(self, ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(ids, 500):
            q = ",".join("?" * len(chunk))
            out.update(
                self._db.execute(f"SELECT id, status FROM runs WHERE id IN ({q})", chunk).fetchall()
            )
        return out

    def runs(self, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Rows of the runs table (all, or ``ids``), as dicts."""
        if ids is None:
            return [dict(r) for r in self._db.execute("SELECT * FROM runs ORDER BY rowid")]
        out = []
        for chunk in _chunks(ids, 500):
            q = ",".join("?" * len(chunk))
            out += [
                dict(r)
                for r in self._db.execute(
                    f"SELECT * FROM runs WHERE id IN ({q}) ORDER BY rowid", chunk
                )
            ]
        return out

    def sweep_runs(self, sweep_id: str) -> list[dict[str, Any]]:
        """The runs of one sweep joined with their role in it (stage, label, replicate)."""
        rows = self._db.execute(
            "SELECT r.*, s.stage AS role, s.label AS label, s.replicate AS replicate "
            "FROM sweep_runs s JOIN runs r ON r.id = s.run_id WHERE s.sweep_id = ? "
            "ORDER BY r.rowid",
            (sweep_id,),
        )
        return [dict(r) for r in rows]

    def curves(self, run_id: str) -> dict[str, np.ndarray]:
        out = {}
        for name, dtype, shape, data in self._db.execute(
            "SELECT name, dtype, shape, data FROM curves WHERE run_id = ?", (run_id,)
        ):
            out[name] = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(json.loads(shape))
        return out


def _chunks(seq: Sequence[str], n: int) -> Iterable[list[str]]:
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i : i + n]
