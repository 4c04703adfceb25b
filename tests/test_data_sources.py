"""Locating files: data_dir, OPTIMLAB_DATA, offline mode, checksums, clear errors.

All data here is synthetic; the network is forbidden (OPTIMLAB_OFFLINE=1 and a
urlopen that fails the test if called).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from data_helpers import NAMES, fill_cache, isolate_env, synthetic
from optimlab.data import (
    DATASETS,
    ChecksumError,
    ChecksumSkippedWarning,
    DataError,
    DataNotFoundError,
    OfflineError,
    SettingError,
    load_mnist,
)
from optimlab.data.sources import Settings, cache_path


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    return isolate_env(monkeypatch, tmp_path)


@pytest.fixture
def registered(monkeypatch):
    """A synthetic dataset registered under the name 'synthetic', so it is verified."""
    data = synthetic("synthetic", n_train=9, n_test=4)
    monkeypatch.setitem(DATASETS, "synthetic", data.spec)
    return data


def own_dataset(tmp_path: Path, **kwargs) -> tuple[Path, object]:
    """A user's own IDX dataset (not MNIST-sized) written to a folder."""
    data = synthetic("own", **kwargs)
    return data.write(tmp_path / "own"), data


def test_own_dataset_loads_from_data_dir_with_a_checksum_note(tmp_path):
    folder, data = own_dataset(tmp_path, rows=5, cols=6)
    with pytest.warns(ChecksumSkippedWarning, match="checksum check skipped") as record:
        (x, t), (xt, tt) = load_mnist(data_dir=folder)
    assert len(record) == 1
    assert str(folder / "train-images-idx3-ubyte.gz") in str(record[0].message)
    assert x.shape == (12, 30) and xt.shape == (5, 30)
    assert x.dtype == np.float32 and t.dtype == np.int64
    np.testing.assert_array_equal(x, data.arrays["train-images"].reshape(12, 30) / np.float32(255))
    np.testing.assert_array_equal(tt, data.arrays["t10k-labels"])


def test_own_dataset_from_env_var_and_raw_files(tmp_path, monkeypatch):
    folder, data = own_dataset(tmp_path, n_train=3, n_test=2)
    for path in folder.iterdir():
        path.unlink()
    data.write(folder, compress=False)
    monkeypatch.setenv("OPTIMLAB_DATA", str(folder))
    with pytest.warns(ChecksumSkippedWarning):
        (x, _), _ = load_mnist(normalize=False, flatten=False)
    assert x.dtype == np.uint8 and x.shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0], data.arrays["train-images"])


def test_data_dir_argument_wins_over_env_var(tmp_path, monkeypatch):
    folder, _ = own_dataset(tmp_path, n_train=2, n_test=1)
    monkeypatch.setenv("OPTIMLAB_DATA", str(tmp_path / "does-not-exist"))
    with pytest.warns(ChecksumSkippedWarning):
        (x, _), _ = load_mnist(data_dir=str(folder))
    assert len(x) == 2


def test_registered_dataset_is_verified_without_warning(tmp_path, registered):
    folder = registered.write(tmp_path / "syn")
    (_, t), (xt, _) = load_mnist(one_hot_label=True, dataset="synthetic", data_dir=folder)
    assert t.shape == (9, 10) and t.dtype == np.float32
    np.testing.assert_array_equal(t.argmax(axis=1), registered.arrays["train-labels"])
    np.testing.assert_array_equal(xt * 255, registered.arrays["t10k-images"].reshape(4, -1))


def test_zeroed_file_of_the_right_size_fails_the_checksum(tmp_path, registered):
    folder = registered.write(tmp_path / "syn")
    target = folder / "t10k-labels-idx1-ubyte.gz"
    target.unlink()
    zeroed = folder / "t10k-labels-idx1-ubyte"
    zeroed.write_bytes(bytes(len(registered.raw["t10k-labels"])))
    with pytest.raises(ChecksumError, match="SHA-256") as info:
        load_mnist(dataset="synthetic", data_dir=folder)
    message = str(info.value)
    assert str(zeroed) in message
    assert registered.spec.file("t10k-labels").sha256 in message


def test_another_known_datasets_file_is_named(tmp_path, registered, monkeypatch):
    other = synthetic("other-set", seed=7, n_train=9, n_test=4)
    monkeypatch.setitem(DATASETS, "other-set", other.spec)
    folder = other.write(tmp_path / "other")
    with pytest.raises(ChecksumError, match="pass dataset='other-set'"):
        load_mnist(dataset="synthetic", data_dir=folder)


def test_swapped_files_of_the_same_dataset_are_named(tmp_path, registered):
    folder = registered.write(tmp_path / "syn")
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(registered.gz("t10k-images"))
    with pytest.raises(ChecksumError, match="synthetic's t10k-images file, not its train-images"):
        load_mnist(dataset="synthetic", data_dir=folder)


def corrupt(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("train-images-idx3-ubyte.gz", "truncated", "truncated IDX file"),
        ("train-labels-idx1-ubyte.gz", "magic", "wrong magic number"),
        ("t10k-labels-idx1-ubyte.gz", "trailing", "wrong size"),
        ("t10k-images-idx3-ubyte.gz", "not-gzip", "not gzip-compressed"),
        ("train-images-idx3-ubyte.gz", "cut-gzip", "truncated gzip stream"),
    ],
)
def test_bad_files_get_errors_naming_them(tmp_path, name, content, message):
    folder, data = own_dataset(tmp_path, n_train=4, n_test=3)
    role = next(role for role, base in NAMES.items() if name.startswith(base))
    raw = data.raw[role]
    bad = {
        "truncated": lambda: gzip.compress(raw[:-5]),
        "magic": lambda: gzip.compress(b"\x00\x01" + raw[2:]),
        "trailing": lambda: gzip.compress(raw + b"\x00"),
        "not-gzip": lambda: raw,
        "cut-gzip": lambda: gzip.compress(raw)[:-12],
    }[content]()
    path = corrupt(folder, name, bad)
    with pytest.raises(DataError, match=message) as info:
        load_mnist(data_dir=folder)
    assert str(path) in str(info.value)


def test_missing_file_is_named(tmp_path):
    folder, _ = own_dataset(tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\]") as info:
        load_mnist(data_dir=folder)
    assert isinstance(info.value, FileNotFoundError)
    assert str(folder) in str(info.value)


def test_missing_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMLAB_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match=r"nowhere \(from OPTIMLAB_DATA\) does not exist"):
        load_mnist()


def test_mismatched_image_and_label_counts(tmp_path):
    folder, _ = own_dataset(tmp_path, n_train=6, n_test=2)
    labels = synthetic("x", n_train=5).raw["train-labels"]
    corrupt(folder, "train-labels-idx1-ubyte.gz", gzip.compress(labels))
    with pytest.raises(DataError, match=r"holds 6 images but .*train-labels.* holds 5 labels"):
        load_mnist(data_dir=folder)


def test_non_byte_images_are_rejected(tmp_path):
    from optimlab.data import encode_idx

    folder, _ = own_dataset(tmp_path, n_train=2)
    images = encode_idx(np.zeros((2, 4, 4), dtype=np.float32))
    corrupt(folder, "train-images-idx3-ubyte.gz", gzip.compress(images))
    with pytest.raises(DataError, match="expected unsigned-byte images"):
        load_mnist(data_dir=folder)


def test_one_hot_rejects_labels_outside_0_to_9(tmp_path):
    from optimlab.data import encode_idx

    folder, _ = own_dataset(tmp_path, n_train=3, n_test=1)
    corrupt(folder, "t10k-labels-idx1-ubyte.gz", gzip.compress(encode_idx(np.array([12], "u1"))))
    with pytest.warns(ChecksumSkippedWarning):
        _, (_, tt) = load_mnist(data_dir=folder)
    assert tt.tolist() == [12]
    with pytest.raises(DataError, match=r"classes 0\.\.9, found 12\.\.12"):
        load_mnist(one_hot_label=True, data_dir=folder)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'kmnist'.*'mnist', 'fashion-mnist'"):
        load_mnist(dataset="kmnist")


def test_offline_without_files_explains_how_to_supply_them(cache):
    with pytest.raises(OfflineError) as info:
        load_mnist(dataset="fashion-mnist")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "OPTIMLAB_OFFLINE=1 forbids network access" in message
    assert "--data-dir" in message and "OPTIMLAB_DATA" in message
    assert "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" in message
    assert str(cache / "fashion-mnist") in message
    assert not (cache / "fashion-mnist").exists() or not any((cache / "fashion-mnist").iterdir())


def test_offline_loads_a_valid_cache(cache, registered):
    fill_cache(cache, registered)
    (x, _), _ = load_mnist(normalize=False, dataset="synthetic")
    np.testing.assert_array_equal(x, registered.arrays["train-images"].reshape(9, -1))


def test_offline_with_a_corrupt_cache_removes_it_and_says_so(cache, registered):
    bad = fill_cache(cache, registered)["train-labels"]
    assert bad == cache_path(
        Settings.from_env(), registered.spec, registered.spec.file("train-labels")
    )
    bad.write_bytes(gzip.compress(bytes(len(registered.raw["train-labels"]))))
    with pytest.raises(OfflineError, match="cached copy was corrupt and has been removed"):
        load_mnist(dataset="synthetic")
    assert not bad.exists()


@pytest.mark.parametrize(
    ("environ", "offline", "mirrors"),
    [
        ({}, False, None),
        ({"OPTIMLAB_OFFLINE": "0"}, False, None),
        ({"OPTIMLAB_OFFLINE": "TRUE"}, True, None),
        ({"OPTIMLAB_OFFLINE": " Yes "}, True, None),
        ({"OPTIMLAB_OFFLINE": "off"}, False, None),
        ({"OPTIMLAB_OFFLINE": "False"}, False, None),
        ({"OPTIMLAB_OFFLINE": ""}, False, None),
        (
            {"OPTIMLAB_MIRRORS": " http://a/, http://b/\nhttp://c "},
            False,
            ("http://a/", "http://b/", "http://c"),
        ),
    ],
)
def test_settings_from_environment(environ, offline, mirrors):
    settings = Settings.from_env(environ=environ)
    assert settings.offline is offline
    assert settings.mirrors == mirrors
    assert settings.data_dir is None


def test_cache_folder_defaults_and_overrides(monkeypatch):
    monkeypatch.setenv("HOME", "/home/u")
    assert Settings.from_env(environ={}).cache_dir == Path("/home/u/.cache/optimlab")
    xdg = Settings.from_env(environ={"XDG_CACHE_HOME": "/x"})
    assert xdg.cache_dir == Path("/x/optimlab")
    explicit = Settings.from_env(environ={"XDG_CACHE_HOME": "/x", "OPTIMLAB_CACHE": "/c"})
    assert explicit.cache_dir == Path("/c")
    from_env = Settings.from_env(environ={"OPTIMLAB_DATA": "/d"})
    assert from_env.data_dir == Path("/d") and from_env.data_dir_origin == "OPTIMLAB_DATA"


@pytest.mark.parametrize("value", ["maybe", "2", "y", "offline"])
def test_offline_flag_rejects_other_spellings(value):
    with pytest.raises(SettingError, match=f"OPTIMLAB_OFFLINE='{value}' is not a yes/no value"):
        Settings.from_env(environ={"OPTIMLAB_OFFLINE": value})


def test_cache_that_is_a_file_is_named_and_nothing_is_created(tmp_path, monkeypatch, registered):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("OPTIMLAB_CACHE", str(blocker / "sub"))
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "0")
    with pytest.raises(SettingError, match=r"OPTIMLAB_CACHE\) cannot be created: .* is a file"):
        load_mnist(dataset="synthetic")
    assert blocker.read_text() == "not a folder"


def test_unwritable_cache_is_named_and_leaves_no_empty_folder(tmp_path, monkeypatch, registered):
    cache = tmp_path / "ro-cache"
    cache.mkdir()
    monkeypatch.setenv("OPTIMLAB_CACHE", str(cache))
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "0")

    def refuse(self, *args, **kwargs):  # a read-only folder, even for root
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "touch", refuse)
    with pytest.raises(SettingError, match=r"ro-cache \(from OPTIMLAB_CACHE\) is not writable"):
        load_mnist(dataset="synthetic")
    assert list(cache.iterdir()) == []  # the dataset's subfolder was removed again


def test_unreadable_data_file_is_named(tmp_path, monkeypatch):
    folder, _ = own_dataset(tmp_path, n_train=3, n_test=2)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name.startswith("t10k-labels"):
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DataError, match=r"cannot read .*t10k-labels-idx1-ubyte\.gz: Permission"):
        load_mnist(data_dir=folder)
