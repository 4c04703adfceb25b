"""An Adam step over 10 million float32 parameters against the machine's memory bandwidth.

One Adam step must read ``w, g, m, v`` and write ``w, m, v``: 7 x 4 bytes per
parameter at the least. The step's effective bandwidth (those bytes / its
time) is compared with the bandwidth of a large ``np.copyto`` (read + write,
counted the same way) measured in the same run, on one thread (the step runs
on one) and on all cores (two threads each copying half).

Also times the step unchunked (one ``_step`` over the whole arrays) to show
what ``optim.base.CHUNK`` buys, and checks the two give the same bits.

    python benchmarks/adam_bandwidth.py [--n 10000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

import optimlab.optim.base as base
from optimlab.optim import Adam


def copy_bandwidth(n: int, threads: int, repeats: int) -> float:
    """GB/s of ``np.copyto`` on float32 arrays of ``n`` elements (2 x 4 bytes per element)."""
    src = np.ones(n, dtype=np.float32)
    dst = np.zeros(n, dtype=np.float32)
    parts = np.array_split(np.arange(n), threads)
    bounds = [(p[0], p[-1] + 1) for p in parts]

    def copy(lo: int, hi: int) -> None:
        np.copyto(dst[lo:hi], src[lo:hi])

    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        if threads == 1:
            copy(0, n)
        else:
            ts = [threading.Thread(target=copy, args=b) for b in bounds]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        best = min(best, time.perf_counter() - t0)
    return 8 * n / best / 1e9


def adam_seconds(n: int, repeats: int, chunk: int) -> tuple[float, np.ndarray]:
    rng = np.random.default_rng(0)
    w = rng.standard_normal(n, dtype=np.float32)
    g = (rng.standard_normal(n, dtype=np.float32) * 1e-2).astype(np.float32)
    opt = Adam()
    items = [("params", w, g)]
    old = base.CHUNK
    base.CHUNK = chunk
    try:
        opt.step_arrays(items)  # creates m, v
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            opt.step_arrays(items)
            best = min(best, time.perf_counter() - t0)
    finally:
        base.CHUNK = old
    return best, w


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    n = args.n
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    bw1 = copy_bandwidth(n, 1, args.repeats)
    bw_all = copy_bandwidth(n, cores, args.repeats)
    t_chunk, w_chunk = adam_seconds(n, args.repeats, base.CHUNK)
    t_whole, w_whole = adam_seconds(n, args.repeats, 1 << 62)
    moved = 7 * 4 * n
    print(
        f"Adam step over {n:,} float32 parameters; bytes moved at least 7 x 4 x n = "
        f"{moved / 1e6:.0f} MB"
    )
    print(f"copy bandwidth: {bw1:.1f} GB/s one thread, {bw_all:.1f} GB/s {cores} threads")
    for name, t in ((f"chunked (CHUNK={base.CHUNK})", t_chunk), ("unchunked", t_whole)):
        bw = moved / t / 1e9
        print(
            f"  {name:24s} {t * 1e3:7.1f} ms  {bw:5.1f} GB/s = {bw / bw1 * 100:3.0f}% of "
            f"one thread's copy, {bw / bw_all * 100:3.0f}% of all cores' copy"
        )
    print(f"chunked and unchunked give the same bits: {np.array_equal(w_chunk, w_whole)}")
    print("target: >= 50% of the machine's memory bandwidth")


if __name__ == "__main__":
    main()
