"""Why the engine takes blocks of iterations of one run: wall time by ``runner.BLOCK``.

The seed's MNIST comparison (4 rules, float32, post-update loss, no
evaluation) with the engine's block size set to each value in turn; timings
interleaved across block sizes so that load drifts hit all alike, best of
``--repeats``. ``BLOCK=1`` is the lockstep order (every run takes iteration
``i`` before any takes ``i + 1``); the ratio column is time / time at 1.

    python benchmarks/block_size.py [--iterations 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import optimlab.engine.runner as runner
from compare_speed import OPTIMIZERS, blas_description, cpu_description, load_mnist_arrays
from optimlab.engine import train
from optimlab.experiments import Dataset, Protocol


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--blocks", type=int, nargs="+", default=[1, 5, 20, 100])
    args = ap.parse_args(argv)
    x, t, xt, tt = load_mnist_arrays()
    data = Dataset(x, t, xt, tt)
    p = Protocol(iterations=args.iterations, eval_every=0, dtype="float32")
    print(f"CPU: {cpu_description()}")
    print(f"BLAS: {blas_description()}")
    print(f"engine default BLOCK = {runner.BLOCK}; {args.iterations} iterations, 4 runs\n")
    default = runner.BLOCK
    times: dict[int, list[float]] = {b: [] for b in args.blocks}
    losses = {}
    try:
        for _ in range(args.repeats):
            for b in args.blocks:
                runner.BLOCK = b
                t0 = time.perf_counter()
                res = train(OPTIMIZERS, data, p)
                times[b].append(time.perf_counter() - t0)
                losses[b] = [r.losses for r in res]
    finally:
        runner.BLOCK = default
    base = min(times[args.blocks[0]])
    print(f"{'BLOCK':>6s} {'best s':>7s} {'vs first':>9s}  all timings")
    for b in args.blocks:
        s = min(times[b])
        print(f"{b:6d} {s:7.2f} {s / base:9.2f}  " + " ".join(f"{v:.2f}" for v in times[b]))
    same = all(
        all((a == c).all() for a, c in zip(losses[b], losses[args.blocks[0]], strict=True))
        for b in args.blocks
    )
    print(f"\nlosses bit-identical across block sizes: {same}")


if __name__ == "__main__":
    main()
