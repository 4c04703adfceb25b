"""Datasets for optimlab: MNIST (shipped with the package) and Fashion-MNIST.

``load_mnist`` returns ``(x_train, t_train), (x_test, t_test)``. ``read_idx`` and
``write_idx`` read and write IDX files, gzip-compressed or raw. See
``docs/data.md`` for where files come from and the environment variables.
"""

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
