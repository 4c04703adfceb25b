"""Independent jobs on the local cores, results in order, the same bits whatever the count.

Each job runs with BLAS limited to one thread (in a worker process, or in this
process when ``workers`` is 1), so its arithmetic does not depend on where or
beside what it ran. On Linux workers are forked (the data is shared, nothing is
pickled but the job and its result); elsewhere they are spawned.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from threadpoolctl import threadpool_limits

from ..engine import default_workers

__all__ = ["default_workers", "map_jobs"]

J = TypeVar("J")
R = TypeVar("R")


def _limited(fn: Callable[[J], R], job: J) -> R:
    with threadpool_limits(limits=1):
        return fn(job)


def map_jobs(
    fn: Callable[[J], R], jobs: Sequence[J], *, workers: int | None = None
) -> Iterator[tuple[int, R]]:
    """Yield ``(k, fn(jobs[k]))`` as jobs finish, on ``workers`` processes (default: the
    cores; 1 runs them here in order). ``fn`` must be a module-level function."""
    n = default_workers() if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    n = min(n, len(jobs))
    if n <= 1:
        for k, job in enumerate(jobs):
            yield k, _limited(fn, job)
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with cf.ProcessPoolExecutor(n, mp_context=multiprocessing.get_context(method)) as pool:
        futures = {pool.submit(_limited, fn, job): k for k, job in enumerate(jobs)}
        try:
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()
