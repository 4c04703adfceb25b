"""Downloading a dataset file from a list of mirrors into the cache.

Only the standard library's ``urllib`` touches the network. Each attempt
streams into a temporary file beside the destination, which is renamed into
place only after the SHA-256 of the decompressed content matches; any failure
(refused connection, HTTP error, interrupted transfer, bad gzip, wrong
checksum) removes the temporary file and moves on to the next mirror.
"""

from __future__ import annotations

import http.client
import os
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from .errors import DownloadError
from .idx import gunzip
from .integrity import require
from .registry import DatasetSpec, FileSpec

__all__ = ["TIMEOUT_S", "USER_AGENT", "download", "manual_instructions", "url_for"]

TIMEOUT_S = 30.0
USER_AGENT = "optimlab-data/0.1 (Python urllib)"
_CHUNK = 1 << 16


def url_for(mirror: str, spec: FileSpec) -> str:
    return f"{mirror.rstrip('/')}/{spec.name}.gz"


def manual_instructions(dataset: DatasetSpec, mirrors: Sequence[str]) -> str:
    """How to supply ``dataset``'s files by hand; shared by download and offline errors."""
    names = ", ".join(f"{spec.name}.gz" for spec in dataset.files)
    where = "; ".join(mirrors) if mirrors else "(no mirrors configured)"
    return (
        f"To supply the files by hand, put {names} (gzip-compressed or raw) in a folder DIR,\n"
        f"then pass --data-dir DIR (data_dir=DIR in Python) or set OPTIMLAB_DATA=DIR.\n"
        f"{dataset.name} is published at: {where}"
    )


def _stream(url: str, out: BinaryIO, *, timeout: float) -> None:
    """Copy ``url``'s body into ``out``; ``ConnectionError`` if it stops short."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    received = 0
    with urllib.request.urlopen(request, timeout=timeout) as response:
        header = response.headers.get("Content-Length")
        declared = int(header) if header and header.isdigit() else None
        if sys.stderr.isatty():
            size = f" ({declared / 1e6:.1f} MB)" if declared else ""
            print(f"optimlab: downloading {url}{size}", file=sys.stderr)
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            received += len(chunk)
    if declared is not None and received != declared:
        raise ConnectionError(f"transfer interrupted: received {received} of {declared} bytes")


def _fetch(url: str, spec: FileSpec, dataset: str, dest: Path, timeout: float) -> bytes:
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(url, out, timeout=timeout)
        data = gunzip(tmp.read_bytes(), source=url)
        require(data, spec, dataset=dataset, source=url)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return data


def download(
    spec: FileSpec,
    dataset: DatasetSpec,
    dest: Path,
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = TIMEOUT_S,
) -> bytes:
    """Fetch ``spec`` into ``dest`` from the first mirror that serves a verified copy.

    ``mirrors`` defaults to ``dataset.mirrors``. Returns the decompressed
    content. Raises ``DownloadError`` listing every mirror's error when all fail.
    """
    mirrors = dataset.mirrors if mirrors is None else tuple(mirrors)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[str, str]] = []
    for mirror in mirrors:
        url = url_for(mirror, spec)
        try:
            return _fetch(url, spec, dataset.name, dest, timeout)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            failures.append((url, f"{type(exc).__name__}: {exc}"))
    tried = "".join(f"\n  - {url}: {error}" for url, error in failures) or "\n  (none)"
    raise DownloadError(
        f"could not download {spec.name}.gz for {dataset.name} into {dest.parent}; "
        f"every mirror failed:{tried}\n{manual_instructions(dataset, mirrors)}",
        failures,
    )
