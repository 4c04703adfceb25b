"""The IDX file format (as used by MNIST): decoding, encoding, gzip handling.

``decode_idx``, ``encode_idx`` and ``gunzip`` work on bytes in memory and touch
no files; ``read_idx`` and ``write_idx`` are thin wrappers that do the file I/O.

Layout: a 4-byte magic number ``00 00 TT NN`` (``TT`` the element type, ``NN``
the number of dimensions), then ``NN`` big-endian uint32 dimension sizes, then
the elements in C order, big-endian.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["decode_idx", "encode_idx", "gunzip", "read_idx", "read_payload", "write_idx"]

_TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {(dtype.kind, dtype.itemsize): code for code, dtype in _TYPE_CODES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def decode_idx(data: bytes | bytearray | memoryview, *, source: str = "<bytes>") -> np.ndarray:
    """Decode IDX ``data`` into an array of its shape, in native byte order.

    The array shares memory with ``data`` where no byte swap is needed (uint8,
    int8). Raises ``DataError`` naming ``source`` on a bad magic number, a
    truncated header or body, or trailing bytes.
    """
    size = len(data)
    if size < 4:
        raise DataError(
            f"{source}: truncated IDX file: {size} bytes, too short for the 4-byte magic number"
        )
    magic = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in _TYPE_CODES:
        valid = ", ".join(f"0x{c:02X}" for c in _TYPE_CODES)
        raise DataError(
            f"{source}: wrong magic number 0x{magic:08X}; an IDX file starts with "
            f"0x0000TTNN, TT the element type ({valid}) and NN the number of dimensions"
        )
    header = 4 + 4 * ndim
    if size < header:
        raise DataError(
            f"{source}: truncated IDX header: {ndim} dimensions need {header} bytes, "
            f"the file has {size}"
        )
    shape = struct.unpack_from(f">{ndim}I", data, 4)
    dtype = _TYPE_CODES[code]
    count = math.prod(shape)
    expected = header + count * dtype.itemsize
    if size != expected:
        what = "truncated IDX file" if size < expected else "wrong size for an IDX file"
        raise DataError(
            f"{source}: {what}: its header declares shape {shape} of {dtype.name}, "
            f"so {expected} bytes were expected, but it has {size}"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


def encode_idx(array: np.ndarray) -> bytes:
    """Encode ``array`` as IDX bytes (uint8, int8, int16, int32, float32 or float64)."""
    array = np.asarray(array)
    code = _CODE_OF.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise TypeError(f"IDX cannot hold dtype {array.dtype}")
    if array.ndim > 255 or any(dim >= 2**32 for dim in array.shape):
        raise ValueError(f"IDX cannot hold an array of shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=_TYPE_CODES[code]).tobytes()
    return header + body


def gunzip(data: bytes, *, source: str = "<bytes>") -> bytes:
    """Decompress gzip ``data``; ``DataError`` naming ``source`` if it is not valid gzip."""
    if not data.startswith(_GZIP_MAGIC):
        raise DataError(
            f"{source}: not gzip-compressed (starts with {data[:4].hex() or 'nothing'}, "
            f"gzip starts with 1f8b); rename it without '.gz' if it is a raw IDX file"
        )
    try:
        return gzip.decompress(data)
    except EOFError as exc:
        raise DataError(f"{source}: truncated gzip stream ({exc})") from exc
    except (OSError, zlib.error) as exc:
        raise DataError(f"{source}: corrupt gzip stream ({exc})") from exc


def read_payload(path: os.PathLike | str) -> bytes:
    """Read ``path`` and return its IDX bytes, decompressing when the name ends in ``.gz``.

    A raw file that happens to be gzip-compressed is decompressed too.
    """
    path = Path(path)
    data = path.read_bytes()
    if path.name.endswith(".gz") or data.startswith(_GZIP_MAGIC):
        return gunzip(data, source=str(path))
    return data


def read_idx(path: os.PathLike | str) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``.gz``) or raw, into an array."""
    return decode_idx(read_payload(path), source=str(path))


def write_idx(path: os.PathLike | str, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzip it when ``compress`` (default: name ends in ``.gz``)."""
    path = Path(path)
    data = encode_idx(array)
    if compress is None:
        compress = path.name.endswith(".gz")
    if compress:
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.write_bytes(data)
    return path
