"""Datasets for optimlab: MNIST (shipped with the package) and Fashion-MNIST.

``load_mnist`` returns ``(x_train, t_train), (x_test, t_test)``. ``read_idx`` and
``write_idx`` read and write IDX files, gzip-compressed or raw. See
``docs/data.md`` for where files come from and the environment variables.
Names are imported from their submodule when first used, so reading an IDX
file does not load the downloader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .errors import (
        ChecksumError,
        ChecksumSkippedWarning,
        DataError,
        DataNotFoundError,
        DownloadError,
        OfflineError,
        SettingError,
    )
    from .idx import decode_idx, encode_idx, read_idx, write_idx
    from .loader import load_mnist
    from .registry import DATASETS

__all__ = [
    "DATASETS",
    "ChecksumError",
    "ChecksumSkippedWarning",
    "DataError",
    "DataNotFoundError",
    "DownloadError",
    "OfflineError",
    "SettingError",
    "decode_idx",
    "encode_idx",
    "load_mnist",
    "read_idx",
    "write_idx",
]

__getattr__, __dir__ = lazy_exports(__name__, __file__)
