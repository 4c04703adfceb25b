"""The real MNIST shipped inside the package: counts, shapes, dtypes, variants.

Runs with the network forbidden and no configuration, as on a fresh machine.
"""

from __future__ import annotations

import gzip
import shutil
from importlib import resources

import numpy as np
import pytest

from data_helpers import NAMES, isolate_env
from optimlab.data import ChecksumError, load_mnist

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    return isolate_env(monkeypatch, tmp_path)


def load_isolated(tmp_path_factory, **kwargs):
    """Load in a clean, offline environment (module-scoped fixtures run before ``offline``)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        cache = isolate_env(monkeypatch, tmp_path_factory.mktemp("isolated"))
        result = load_mnist(**kwargs)
    assert not cache.exists()  # nothing was cached or downloaded
    return result


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return load_isolated(tmp_path_factory)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return load_isolated(tmp_path_factory, normalize=False, flatten=False)


def packaged_folder():
    return resources.files("optimlab.data") / "mnist"


def test_packaged_files_are_present():
    names = sorted(
        entry.name for entry in packaged_folder().iterdir() if entry.name.endswith(".gz")
    )
    assert names == sorted(f"{name}.gz" for name in NAMES.values())


def test_default_load_shapes_dtypes_and_range(default):
    (x, t), (xt, tt) = default
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == xt.dtype == np.float32
    assert t.shape == (60000,) and tt.shape == (10000,)
    assert t.dtype == tt.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert x.flags.writeable and x.flags.c_contiguous


def test_known_label_counts(default):
    (_, t), (_, tt) = default
    assert np.bincount(t, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(tt, minlength=10).tolist() == TEST_COUNTS


def test_unnormalised_unflattened(raw, default):
    (x, t), (xt, _) = raw
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == np.uint8 and x.max() == 255
    np.testing.assert_array_equal(x.reshape(60000, 784) / np.float32(255), default[0][0])
    np.testing.assert_array_equal(t, default[0][1])
    # The first training digit of MNIST is a 5, with ink in the middle rows.
    assert t[0] == 5 and x[0, 0, 14].sum() > 0 and x[0, 0, 0].sum() == 0


def test_one_hot_labels(default):
    (_, t), (_, tt) = load_mnist(one_hot_label=True)
    assert t.shape == (60000, 10) and tt.shape == (10000, 10)
    assert t.dtype == np.float32
    assert set(np.unique(t).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(t.sum(axis=1), 1.0)
    np.testing.assert_array_equal(t.argmax(axis=1), default[0][1])


def test_normalised_unflattened(offline):
    (x, _), _ = load_mnist(flatten=False)
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == 1.0
    assert not offline.exists()  # served from the package: nothing cached


def test_raw_copies_in_a_data_dir_are_verified(tmp_path, default):
    folder = tmp_path / "raw"
    folder.mkdir()
    for name in NAMES.values():
        packed = (packaged_folder() / f"{name}.gz").read_bytes()
        (folder / name).write_bytes(gzip.decompress(packed))
    # No ChecksumSkippedWarning: pytest turns any warning into an error.
    _, (xt, tt) = load_mnist(data_dir=folder)
    np.testing.assert_array_equal(xt, default[1][0])
    np.testing.assert_array_equal(tt, default[1][1])


def test_mnist_files_requested_as_fashion_mnist_are_refused(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(packaged_folder(), folder, ignore=shutil.ignore_patterns("__*"))
    with pytest.raises(ChecksumError, match="this file is mnist's train-images file"):
        load_mnist(dataset="fashion-mnist", data_dir=folder)


def test_zeroed_mnist_file_of_the_right_size_fails_the_checksum(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(packaged_folder(), folder, ignore=shutil.ignore_patterns("__*"))
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    zeroed = folder / "t10k-labels-idx1-ubyte"
    zeroed.write_bytes(bytes(10008))
    with pytest.raises(ChecksumError, match="is corrupt: it has the name and size") as info:
        load_mnist(data_dir=folder)
    assert str(zeroed) in str(info.value)
    assert "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" in str(info.value)


def test_zeroed_payload_under_an_intact_header_is_corrupt_not_own_data(tmp_path):
    """A valid IDX file of the standard name and size is a damaged copy, not 'your own data'."""
    import gzip

    folder = tmp_path / "mnist"
    shutil.copytree(packaged_folder(), folder, ignore=shutil.ignore_patterns("__*"))
    images = folder / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(raw[:16] + bytes(len(raw) - 16)))  # header kept
    with pytest.raises(ChecksumError, match="is corrupt") as info:
        load_mnist(data_dir=folder)
    assert str(images) in str(info.value)
