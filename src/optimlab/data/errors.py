"""Exceptions and warnings raised while locating, fetching and decoding datasets."""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "ChecksumSkippedWarning",
    "DataError",
    "DataNotFoundError",
    "DownloadError",
    "OfflineError",
    "SettingError",
]


class DataError(ValueError):
    """A data file exists but its content is not what was expected.

    The message names the file and says what was expected (magic number, size,
    compression, checksum, matching image/label counts).
    """


class ChecksumError(DataError):
    """The SHA-256 of a file's decompressed content is not the published one."""


class DataNotFoundError(FileNotFoundError):
    """A required data file is not where it was looked for."""


class DownloadError(DataNotFoundError):
    """Every mirror failed; ``failures`` holds ``(url, error)`` pairs in the order tried."""

    def __init__(self, message: str, failures: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.failures = failures


class OfflineError(DataNotFoundError):
    """A download was needed but ``OPTIMLAB_OFFLINE`` forbids network access."""


class ChecksumSkippedWarning(UserWarning):
    """Files that are not one of the known datasets were loaded without verification."""


class SettingError(ValueError):
    """An environment variable (``OPTIMLAB_OFFLINE``, ``OPTIMLAB_CACHE``, ...) holds a value
    that cannot be used; the message names the variable, its value and what is valid."""
