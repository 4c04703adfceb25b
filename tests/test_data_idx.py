"""IDX decoding and encoding, gzip handling: pure functions and the file wrappers."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from optimlab.data import DataError, decode_idx, encode_idx, read_idx, write_idx
from optimlab.data.idx import gunzip


@pytest.mark.parametrize(
    ("dtype", "shape"),
    [
        (np.uint8, (3, 4, 5)),
        (np.uint8, (7,)),
        (np.int8, (2, 3)),
        (np.int16, (4, 2)),
        (np.int32, (3,)),
        (np.float32, (2, 2, 2)),
        (np.float64, (5, 1)),
        (np.uint8, (0, 28, 28)),
    ],
)
def test_encode_decode_round_trip(dtype, shape):
    rng = np.random.default_rng(1)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    decoded = decode_idx(encode_idx(array))
    assert decoded.dtype == np.dtype(dtype)
    assert decoded.dtype.isnative
    assert decoded.shape == shape
    np.testing.assert_array_equal(decoded, array)


def test_encode_writes_the_documented_header():
    data = encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert data[:4] == bytes([0, 0, 0x08, 2])
    assert struct.unpack(">2I", data[4:12]) == (2, 3)
    assert data[12:] == bytes(range(6))


def test_decode_reads_big_endian_values():
    data = bytes([0, 0, 0x0B, 1]) + struct.pack(">I", 2) + struct.pack(">2h", 258, -2)
    np.testing.assert_array_equal(decode_idx(data), np.array([258, -2], dtype=np.int16))


@pytest.mark.parametrize("dtype", [np.uint16, np.bool_, np.complex64, np.int64])
def test_encode_rejects_types_idx_cannot_hold(dtype):
    with pytest.raises(TypeError, match="IDX cannot hold"):
        encode_idx(np.zeros(3, dtype=dtype))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "truncated IDX file: 2 bytes"),
        (b"\x12\x34\x08\x01" + b"\x00" * 8, "wrong magic number 0x12340801"),
        (b"\x00\x00\x07\x01" + b"\x00" * 8, "wrong magic number 0x00000701"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", r"truncated IDX file.*13 bytes.*has 11"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", r"wrong size.*10 bytes.*has 11"),
    ],
)
def test_decode_errors_name_the_source_and_the_expectation(data, message):
    with pytest.raises(DataError, match=message) as info:
        decode_idx(data, source="some/file")
    assert str(info.value).startswith("some/file: ")


def test_write_and_read_gzip_and_raw_files(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    gz = write_idx(tmp_path / "a-idx3-ubyte.gz", array)
    raw = write_idx(tmp_path / "a-idx3-ubyte", array)
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert raw.read_bytes()[:4] == b"\x00\x00\x08\x03"
    np.testing.assert_array_equal(read_idx(gz), array)
    np.testing.assert_array_equal(read_idx(raw), array)


def test_write_compress_flag_overrides_the_name(tmp_path):
    array = np.arange(5, dtype=np.uint8)
    path = write_idx(tmp_path / "plain-name", array, compress=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    # A gzip file without the .gz suffix is still recognised by its magic bytes.
    np.testing.assert_array_equal(read_idx(path), array)


def test_gz_name_with_raw_content_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(encode_idx(np.arange(4, dtype=np.uint8)))
    with pytest.raises(DataError, match="not gzip-compressed") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(encode_idx(np.arange(4000, dtype=np.int32)))[:-30])
    with pytest.raises(DataError, match="truncated gzip stream") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_gzip_with_a_bad_crc_is_reported():
    data = bytearray(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01z"))
    data[-8] ^= 0xFF  # first byte of the CRC-32 trailer
    with pytest.raises(DataError, match="corrupt gzip stream"):
        gunzip(bytes(data), source="x.gz")


def test_decoded_uint8_shares_memory_with_the_input():
    data = encode_idx(np.arange(10, dtype=np.uint8))
    decoded = decode_idx(data)
    assert not decoded.flags.writeable  # a view of the immutable bytes, no copy
    assert np.shares_memory(decoded, np.frombuffer(data, dtype=np.uint8))
