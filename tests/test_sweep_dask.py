"""Sweeps on Dask: a LocalCluster, and a real `dask scheduler` + `dask worker` on 127.0.0.1.

Both must give the serial sweep's results bit for bit.
"""

from __future__ import annotations

import time

import pytest

from optimlab.sweep import run_sweep
from sweep_helpers import dask_processes, exact_results, tiny_plan

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def serial_results(tmp_path_factory):
    store = tmp_path_factory.mktemp("serial") / "s.sqlite"
    run_sweep(tiny_plan(), store, workers=1)
    return exact_results(store)


def test_local_cluster_matches_serial_bit_for_bit(tmp_path, serial_results):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        # a lease of 0.06 s: the client waits 0.02 s at a time, renews leases constantly
        s = run_sweep(tiny_plan(), tmp_path / "d.sqlite", client=client, lease_s=0.06)
    assert s.executor == "dask" and s.computed == s.total
    assert exact_results(tmp_path / "d.sqlite") == serial_results


@pytest.fixture
def dask_cluster(tmp_path):
    """``dask scheduler`` and one ``dask worker`` as subprocesses; yields the address."""
    with dask_processes(tmp_path) as (address, _):
        yield address


def test_real_scheduler_and_worker_match_serial_bit_for_bit(
    tmp_path, dask_cluster, serial_results, monkeypatch
):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(dask_cluster, timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(1, timeout=60)
        workers = list(client.scheduler_info()["workers"].values())
        assert workers and all(w["host"] == "127.0.0.1" for w in workers)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_cluster)  # no --scheduler needed
    t0 = time.monotonic()
    s = run_sweep(tiny_plan(), tmp_path / "d.sqlite")
    assert s.executor == "dask" and s.computed == s.total
    assert time.monotonic() - t0 < 120
    assert exact_results(tmp_path / "d.sqlite") == serial_results
