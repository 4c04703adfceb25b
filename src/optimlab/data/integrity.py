"""Checking a file's decompressed content against its published SHA-256.

Pure functions on bytes: they read no files. ``require`` is for sources that
must hold the standard file (the package, the cache, a download);
``check_supplied`` is for files a user supplied, which may be a dataset of
their own.
"""

from __future__ import annotations

import hashlib

from .errors import ChecksumError
from .idx import decode_idx
from .registry import FileSpec, identify

__all__ = ["check_supplied", "require", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mismatch(data: bytes, digest: str, spec: FileSpec, dataset: str, source: str) -> str:
    message = (
        f"{source}: SHA-256 of the decompressed content is {digest}, but the standard "
        f"{dataset} {spec.name} has {spec.sha256} ({spec.size} bytes; this one has {len(data)})"
    )
    known = identify(digest)
    if known is not None:
        other, role = known
        if other == dataset:
            message += f"; this file is {dataset}'s {role} file, not its {spec.role} file"
        else:
            message += f"; this file is {other}'s {role} file: pass dataset={other!r}"
    return message


def require(data: bytes, spec: FileSpec, *, dataset: str, source: str) -> None:
    """Raise ``ChecksumError`` unless ``data`` is exactly the standard file."""
    digest = sha256_hex(data)
    if digest != spec.sha256:
        raise ChecksumError(_mismatch(data, digest, spec, dataset, source))


def check_supplied(data: bytes, spec: FileSpec, *, dataset: str, source: str) -> bool:
    """Check a user-supplied file: ``True`` if verified, ``False`` if it is another dataset.

    A file of the standard file's name and size whose checksum differs is a
    damaged copy of it and raises ``ChecksumError`` (a zeroed payload under an
    intact header is still the wrong data). So does one that matches another
    known dataset's file. A valid IDX file of another size is taken to be the
    user's own data (the caller should say that the check was skipped); other
    invalid files raise ``DataError`` from the IDX decoder.
    """
    digest = sha256_hex(data)
    if digest == spec.sha256:
        return True
    if identify(digest) is not None:
        raise ChecksumError(_mismatch(data, digest, spec, dataset, source))
    if len(data) == spec.size:
        raise ChecksumError(
            f"{source} is corrupt: it has the name and size of {dataset}'s {spec.name} "
            f"({spec.size} bytes decompressed) but not its SHA-256 ({digest} instead of "
            f"{spec.sha256}); replace it with the original file"
        )
    decode_idx(data, source=source)
    return False
