"""Writing results to disk: CSV, JSON and the figures (the edges of the commands).

Floats are written with ``repr`` so that reading a CSV back gives the very
values the run produced; non-finite values are written ``nan``/``inf`` in CSV
and ``null`` in JSON.

Every file is written atomically: its bytes go to a temporary file in the same
folder, which :func:`os.replace` then renames over the target, so a reader (or
a crash, or a full disk) sees the old file or the new one, never a part. A
command that writes several files renders all of them first and stages them
all (:func:`commit_files`) before it replaces any, so a failure leaves the
previous run's files together and untouched. Failures raise
:class:`OutputError`, whose one-line message names the file and says plainly
when the disk is full.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from . import plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .experiments.compare import CompareResult
    from .experiments.paths import PathsResult

__all__ = [
    "OutputError",
    "atomic_open",
    "check_writable",
    "commit_files",
    "figure_png",
    "loss_csv",
    "output_error",
    "paths_csv",
    "save_compare",
    "save_figure",
    "save_paths",
    "summary_json",
    "write_bytes",
    "write_loss_csv",
    "write_paths_csv",
    "write_summary_json",
    "write_text",
]


class OutputError(OSError):
    """A result file could not be written; the message names it and the reason."""

    def __str__(self) -> str:  # the message alone, without OSError's "[Errno N]"
        return str(self.strerror)


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full (no space left on device); free some space or write elsewhere"
    return exc.strerror or str(exc)


def output_error(path: str | os.PathLike, exc: OSError) -> OutputError:
    """An :class:`OutputError` ``cannot write PATH: REASON`` (same ``errno``)."""
    return OutputError(exc.errno or 0, f"cannot write {os.fspath(path)}: {_reason(exc)}")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file in ``path``'s folder with the permissions ``open`` would give
    (``mkstemp`` makes it private)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    except OSError:  # a file system without permissions: keep what it gives
        pass
    return fd, Path(name)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit flush it to
    disk and rename it over ``path``, on an error remove it (``path`` is untouched).

    ``mode`` is ``"w"`` (text, ``kwargs`` as for :func:`open`) or ``"wb"``. An
    ``OSError`` while writing becomes :class:`OutputError` naming ``path``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    try:
        fd, tmp = _temp_beside(path)
    except OSError as exc:
        raise output_error(path, exc) from None
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise output_error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_open`)."""
    return write_bytes(path, text.encode("utf-8"))


def figure_png(fig: Figure, *, dpi: int = plots.DPI) -> bytes:
    """``fig`` rendered as PNG bytes (nothing written to disk)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = plots.DPI) -> Path:
    """Render ``fig`` as PNG, then write it to ``path`` atomically."""
    return write_bytes(path, figure_png(fig, dpi=dpi))


def commit_files(files: Mapping[Path, bytes] | Mapping[str, bytes]) -> list[Path]:
    """Write several files so that either all are replaced or none is.

    Every file's bytes are first written to a temporary file beside it; only
    when all of them are safely on disk is each renamed over its target. If
    any write fails, the temporary files are removed, no target is touched,
    and :class:`OutputError` names the file that failed. Returns the paths.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in files.items():
            path = Path(target)
            try:
                fd, tmp = _temp_beside(path)
            except OSError as exc:
                raise output_error(path, exc) from None
            staged.append((tmp, path))
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise output_error(path, exc) from None
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise output_error(path, exc) from None
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    return [path for _, path in staged]


def check_writable(out: str | os.PathLike) -> Path:
    """Create folder ``out`` if needed and check a file can be written there.

    Raises ``OSError`` (with the reason) otherwise; call it before a long run.
    """
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path):
        pass
    return path


def _csv(rows) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def paths_csv(result: PathsResult) -> str:
    """``optimizer, step, x, y, f``: every iterate of every rule, from step 0 (the start)."""
    rows: list[list] = [["optimizer", "step", "x", "y", "f"]]
    for p in result.paths:
        for k, ((x, y), z) in enumerate(zip(p.xy, p.f, strict=True)):
            rows.append([p.label, k, repr(float(x)), repr(float(y)), repr(float(z))])
    return _csv(rows)


def loss_csv(result: CompareResult) -> str:
    """``iteration, optimizer, loss``: the loss after each update (iteration 1-based)."""
    rows: list[list] = [["iteration", "optimizer", "loss"]]
    for run in result.runs:
        for i, loss in zip(result.iterations, run.losses, strict=True):
            rows.append([int(i), run.label, repr(float(loss))])
    return _csv(rows)


def summary_json(result: CompareResult) -> str:
    """:meth:`CompareResult.summary` as indented JSON (NaN as ``null``)."""
    return json.dumps(result.summary(), indent=2, allow_nan=False) + "\n"


def write_paths_csv(result: PathsResult, path: str | os.PathLike) -> Path:
    """:func:`paths_csv` written to ``path`` atomically."""
    return write_text(path, paths_csv(result))


def write_loss_csv(result: CompareResult, path: str | os.PathLike) -> Path:
    """:func:`loss_csv` written to ``path`` atomically."""
    return write_text(path, loss_csv(result))


def write_summary_json(result: CompareResult, path: str | os.PathLike) -> Path:
    """:func:`summary_json` written to ``path`` atomically."""
    return write_text(path, summary_json(result))


def save_paths(result: PathsResult, out: str | os.PathLike, *, gif: bool = False) -> list[Path]:
    """Write ``paths.png``, ``paths.csv`` (and ``paths.gif``) into ``out``; return them.

    Everything is rendered before anything is replaced (:func:`commit_files`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        out / "paths.png": figure_png(plots.paths_figure(result)),
        out / "paths.csv": paths_csv(result).encode(),
    }
    if gif:
        files[out / "paths.gif"] = plots.paths_gif(result)
    return commit_files(files)


def save_compare(result: CompareResult, out: str | os.PathLike) -> list[Path]:
    """Write ``loss.png``, ``accuracy.png`` (when accuracy was evaluated), ``loss.csv``
    and ``summary.json`` into ``out``; return them.

    Everything is rendered before anything is replaced (:func:`commit_files`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[Path, bytes] = {out / "loss.png": figure_png(plots.loss_figure(result))}
    if result.protocol.eval_every > 0:
        files[out / "accuracy.png"] = figure_png(plots.accuracy_figure(result))
    files[out / "loss.csv"] = loss_csv(result).encode()
    files[out / "summary.json"] = summary_json(result).encode()
    return commit_files(files)
