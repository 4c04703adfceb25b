"""Would skipping all-zero input columns pay in the first layer? Its costs and savings.

A pixel that is zero in every image of a batch adds nothing to ``X W1`` and has
a zero row in ``X^T dY``; the products could run on the kept columns only. In
NumPy that needs per batch: the kept columns of ``X`` gathered (shared by a
worker's runs) and, per run, ``W1`` taken at those rows and the gradient rows
scattered back. This prints, on MNIST at the engine's shapes (float32, one
thread, best of ``--repeats``): how many columns a batch leaves zero, the
products dense and on the kept columns, and the gathers, per run-iteration
with ``--runs`` runs sharing a worker's gathers.

    python benchmarks/zero_columns.py [--runs 2] [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_speed import cpu_description, load_mnist_arrays


def best_us(fn, repeats: int, n: int = 500) -> float:
    out = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        out = min(out, (time.perf_counter() - t0) / n)
    return out * 1e6


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=2, help="runs sharing a worker's gathers")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    x, _, _, _ = load_mnist_arrays()
    rng = np.random.default_rng(0)
    B, h = 128, 100
    print(f"CPU: {cpu_description()}")
    for rows in (B, 2 * B):
        zero = [int((x[rng.integers(0, len(x), rows)].max(0) == 0).sum()) for _ in range(300)]
        print(f"rows {rows}: {np.mean(zero):.0f} of 784 columns zero on average (min {min(zero)})")

    pair = x[rng.integers(0, len(x), 2 * B)]  # the stacked forward's two batches
    keep = np.flatnonzero(pair.any(axis=0))
    keep_b = np.flatnonzero(pair[:B].any(axis=0))  # the backward's batch
    m, mb = keep.size, keep_b.size
    W = rng.standard_normal((784, h)).astype(np.float32)
    d = rng.standard_normal((B, h)).astype(np.float32)
    z, g = np.empty((2 * B, h), np.float32), np.empty((784, h), np.float32)
    xc, xbc = np.empty((2 * B, m), np.float32), np.empty((B, mb), np.float32)
    wc, gc = W[keep], np.empty((mb, h), np.float32)
    np.take(pair, keep, axis=1, out=xc)
    np.take(pair[:B], keep_b, axis=1, out=xbc)
    zero_b = np.setdiff1d(np.arange(784), keep_b)
    r = args.repeats

    def scatter() -> None:
        g[keep_b] = gc
        g[zero_b] = 0

    with threadpool_limits(limits=1, user_api="blas"):
        dense = best_us(lambda: np.matmul(pair, W, out=z), r) + best_us(
            lambda: np.matmul(pair[:B].T, d, out=g), r
        )
        kept = best_us(lambda: np.matmul(xc, wc, out=z), r) + best_us(
            lambda: np.matmul(xbc.T, d, out=gc), r
        )
        shared = best_us(lambda: np.take(pair, keep, axis=1, out=xc), r) + best_us(
            lambda: np.take(pair[:B], keep_b, axis=1, out=xbc), r
        )
        per_run = best_us(lambda: np.take(W, keep, axis=0, out=wc), r) + best_us(scatter, r)
    cost = shared / args.runs + per_run
    print(f"\nper run-iteration, {args.runs} runs per worker ({m} and {mb} columns kept):")
    print(f"  layer-1 products, dense            {dense:7.0f} us")
    print(f"  layer-1 products, kept columns     {kept:7.0f} us  (saves {dense - kept:.0f})")
    print(f"  gathers of X (shared) / {args.runs}           {shared / args.runs:7.0f} us")
    print(f"  W1 take and gradient scatter       {per_run:7.0f} us")
    print(f"  net gain                           {dense - kept - cost:7.0f} us")


if __name__ == "__main__":
    main()
