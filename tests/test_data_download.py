"""Downloading from mirrors, against local HTTP servers on 127.0.0.1 only.

Covers a dead first mirror, a mirror serving a corrupt file, an interrupted
transfer, every mirror failing, and a corrupt cached file being replaced.
"""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from data_helpers import NAMES, dead_url, gz_routes, isolate_env, serve, synthetic
from optimlab.data import DATASETS, DownloadError, OfflineError, load_mnist
from optimlab.data.download import download, url_for
from optimlab.data.registry import ROLES


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    return isolate_env(monkeypatch, tmp_path, network=True)


@pytest.fixture
def data(monkeypatch):
    data = synthetic("synthetic", n_train=20, n_test=7, seed=3)
    monkeypatch.setitem(DATASETS, "synthetic", data.spec)
    return data


def cached_files(cache):
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def expected_cache():
    return sorted(f"synthetic/{NAMES[role]}.gz" for role in ROLES)


def use_mirrors(monkeypatch, *urls):
    monkeypatch.setenv("OPTIMLAB_MIRRORS", " ".join(urls))


def test_dead_first_mirror_then_a_good_one(monkeypatch, cache, data):
    with serve(gz_routes(data)) as good:
        use_mirrors(monkeypatch, dead_url(), good.url)
        (x, _), (_, tt) = load_mnist(normalize=False, dataset="synthetic")
    np.testing.assert_array_equal(x, data.arrays["train-images"].reshape(20, -1))
    np.testing.assert_array_equal(tt, data.arrays["t10k-labels"])
    assert sorted(good.requests) == sorted(f"/{NAMES[role]}.gz" for role in ROLES)
    assert cached_files(cache) == expected_cache()  # no temporary files left behind


def test_mirrors_come_from_the_dataset_spec_when_not_overridden(monkeypatch, cache, data):
    with serve(gz_routes(data, "/mirror/")) as server:
        spec = data.spec.__class__(data.spec.name, data.spec.files, (server.url + "mirror",))
        monkeypatch.setitem(DATASETS, "synthetic", spec)
        (x, _), _ = load_mnist(dataset="synthetic")
    assert x.shape == (20, 784)
    assert len(server.requests) == 4


def test_corrupt_mirror_is_skipped(monkeypatch, cache, data):
    zeroed = gzip.compress(bytes(len(data.raw["train-images"])))
    with (
        serve(gz_routes(data, train_images=zeroed)) as bad,
        serve(gz_routes(data)) as good,
    ):
        use_mirrors(monkeypatch, bad.url, good.url)
        (x, _), _ = load_mnist(normalize=False, dataset="synthetic")
    np.testing.assert_array_equal(x, data.arrays["train-images"].reshape(20, -1))
    assert "/train-images-idx3-ubyte.gz" in good.requests
    stored = gzip.decompress((cache / "synthetic/train-images-idx3-ubyte.gz").read_bytes())
    assert stored == data.raw["train-images"]
    assert cached_files(cache) == expected_cache()


def test_interrupted_transfer_is_retried_on_the_next_mirror(monkeypatch, cache, data):
    cut = ("cut", data.gz("t10k-images"))
    with serve(gz_routes(data, t10k_images=cut)) as flaky, serve(gz_routes(data)) as good:
        use_mirrors(monkeypatch, flaky.url, good.url)
        _, (xt, _) = load_mnist(normalize=False, dataset="synthetic")
    np.testing.assert_array_equal(xt, data.arrays["t10k-images"].reshape(7, -1))
    assert good.requests == ["/t10k-images-idx3-ubyte.gz"]
    assert cached_files(cache) == expected_cache()


def test_every_mirror_failing_lists_each_and_leaves_nothing(monkeypatch, cache, data):
    spec = data.spec.file("train-images")
    zeroed = gzip.compress(bytes(spec.size))
    with (
        serve(gz_routes(data, train_images=zeroed)) as corrupt,
        serve(gz_routes(data, train_images=("cut", data.gz("train-images")))) as flaky,
        serve({}) as empty,
        serve(gz_routes(data, train_images=data.raw["train-images"])) as not_gzip,
    ):
        dead = dead_url()
        mirrors = (dead, corrupt.url, flaky.url, empty.url, not_gzip.url)
        with pytest.raises(DownloadError) as info:
            download(spec, data.spec, cache / "synthetic" / "x.gz", mirrors=mirrors)
    error = info.value
    assert isinstance(error, FileNotFoundError)
    assert [url for url, _ in error.failures] == [url_for(m, spec) for m in mirrors]
    reasons = [reason for _, reason in error.failures]
    assert "Connection refused" in reasons[0] or "URLError" in reasons[0]
    assert "ChecksumError" in reasons[1] and "SHA-256" in reasons[1]
    assert f"received {len(data.gz('train-images')) // 2} of" in reasons[2]
    assert "404" in reasons[3]
    assert "not gzip-compressed" in reasons[4]
    message = str(error)
    for mirror in mirrors:
        assert url_for(mirror, spec) in message
    assert "--data-dir" in message and "OPTIMLAB_DATA" in message
    assert cached_files(cache) == []


def test_load_mnist_reports_failure_with_guidance(monkeypatch, cache, data):
    use_mirrors(monkeypatch, dead_url())
    with pytest.raises(DownloadError, match=r"every mirror failed:\n  - http://127\.0\.0\.1"):
        load_mnist(dataset="synthetic")
    assert cached_files(cache) == []


def test_corrupt_cached_file_is_replaced_by_a_fresh_download(monkeypatch, cache, data):
    with serve(gz_routes(data)) as server:
        use_mirrors(monkeypatch, server.url)
        load_mnist(dataset="synthetic")
        assert len(server.requests) == 4
        target = cache / "synthetic" / "train-labels-idx1-ubyte.gz"
        target.write_bytes(gzip.compress(bytes(len(data.raw["train-labels"]))))
        (_, t), _ = load_mnist(dataset="synthetic")
        assert server.requests[4:] == ["/train-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(t, data.arrays["train-labels"])
    digest = hashlib.sha256(gzip.decompress(target.read_bytes())).hexdigest()
    assert digest == data.spec.file("train-labels").sha256


def test_second_load_uses_the_cache_without_network(monkeypatch, cache, data):
    with serve(gz_routes(data)) as server:
        use_mirrors(monkeypatch, server.url)
        first = load_mnist(dataset="synthetic")
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "1")
    use_mirrors(monkeypatch, dead_url())
    second = load_mnist(dataset="synthetic")
    np.testing.assert_array_equal(first[0][0], second[0][0])
    np.testing.assert_array_equal(first[1][1], second[1][1])


def test_offline_forbids_download_even_with_a_live_mirror(monkeypatch, cache, data):
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "1")
    with serve(gz_routes(data)) as server:
        use_mirrors(monkeypatch, server.url)
        with pytest.raises(OfflineError, match="--data-dir"):
            load_mnist(dataset="synthetic")
    assert server.requests == []
    assert cached_files(cache) == []


@pytest.mark.parametrize("mirror", ["http://h/m/", "http://h/m"])
def test_url_for_joins_with_one_slash(mirror, data):
    spec = data.spec.file("t10k-labels")
    assert url_for(mirror, spec) == "http://h/m/t10k-labels-idx1-ubyte.gz"
