"""Time decoding and normalising all 70,000 MNIST images into float32.

Usage: python benchmarks/data_speed.py [--repeats N]

Measures, on the packaged MNIST, in one run:
- optimlab: ``decode_idx`` (np.frombuffer over the IDX bytes) plus
  ``prepare_images`` (one division into a float32 array), on already
  decompressed bytes: the decoding and normalising the issue asks to be fast;
- a naive baseline: a per-image Python loop with ``struct.unpack_from`` into a
  float64 array, divided by 255 and cast to float32;
- for context, gunzip alone and the whole ``load_mnist()`` (gunzip + SHA-256 +
  decode + normalise + labels).
Reports the best of ``--repeats`` runs (the naive baseline runs once) and the
ratio baseline / optimlab.
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable
from importlib import resources

import numpy as np

from optimlab.data import decode_idx, load_mnist
from optimlab.data.idx import gunzip
from optimlab.data.loader import prepare_images

FILES = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def best_of(repeats: int, func: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def fast(payloads: list[bytes]) -> list[np.ndarray]:
    return [prepare_images(decode_idx(p), normalize=True, flatten=True) for p in payloads]


def naive(payloads: list[bytes]) -> list[np.ndarray]:
    out = []
    for data in payloads:
        _, n, rows, cols = struct.unpack_from(">4I", data, 0)
        size = rows * cols
        fmt = f"{size}B"
        images = np.empty((n, size))
        for i in range(n):
            images[i] = struct.unpack_from(fmt, data, 16 + i * size)
        out.append((images / 255.0).astype(np.float32))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    folder = resources.files("optimlab.data") / "mnist"
    packed = [(folder / name).read_bytes() for name in FILES]
    t_gunzip, payloads = best_of(args.repeats, lambda: [gunzip(p) for p in packed])
    t_fast, images = best_of(args.repeats, lambda: fast(payloads))
    t_naive, reference = best_of(1, lambda: naive(payloads))
    t_load, _ = best_of(max(1, args.repeats // 2), load_mnist)

    n = sum(len(x) for x in images)
    for mine, theirs in zip(images, reference, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert n == 70_000 and all(x.dtype == np.float32 for x in images)

    print(f"images decoded and normalised to float32: {n}")
    print(f"optimlab decode+normalise (best of {args.repeats}): {t_fast * 1e3:8.1f} ms")
    print(f"naive per-image struct loop (once):      {t_naive * 1e3:8.1f} ms")
    print(f"speed-up over the naive reader:          {t_naive / t_fast:8.1f}x")
    print(f"gunzip of the two image files (context): {t_gunzip * 1e3:8.1f} ms")
    print(f"whole load_mnist() from the package:     {t_load * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
