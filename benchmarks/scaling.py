"""How the engine's time grows with batch size, width and the number of runs.

On MNIST with the seed's protocol otherwise (post-update loss, float32, no
evaluation), best of ``--repeats`` wall times:

* batch 32..1024, one Adam run: time per sample should fall or stay flat;
* hidden width 100..1000 (four hidden layers), batch 128, one Adam run:
  time per sample and the GEMM rate reached (protocol FLOPs / time);
* 1..16 Adam runs, batch 128: throughput in run-iterations per second; 2 runs
  should give >= 1.8 x the throughput of 1 (the same rule each, so that the
  ratio measures the parallelism, not a cheaper rule). Beside it, how a large
  SGEMM itself scales from one core to all, measured in the same run: on a
  shared virtual machine two cores do not always give twice one. And the
  ceiling for this very workload: the same one-run training in as many
  separate processes as there are cores, started together (each timed from
  a shared start, the throughput taken from the slowest); no scheme that
  gives each core its own run can do better than that on this machine.

The runs section times ``--run-iterations`` (1000) iterations: starting the
worker processes costs about 50 ms, which a short timing would count against
the parallel runs.

    python benchmarks/scaling.py [--iterations 200] [--run-iterations 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_speed import (
    best_of,
    blas_description,
    cpu_description,
    default_workers,
    gemm_rate,
    load_mnist_arrays,
)
from compare_speed import protocol_flops as flops
from optimlab.engine import train
from optimlab.experiments import Dataset, Protocol


def timed(data: Dataset, opts: list[str], repeats: int, **protocol) -> float:
    p = Protocol(eval_every=0, **protocol)
    return best_of(lambda: train(opts, data, p), repeats)[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--run-iterations", type=int, default=1000, help="per timing, runs section")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=["batch", "width", "runs"], help="one section only")
    args = ap.parse_args(argv)
    x, t, xt, tt = load_mnist_arrays()
    data = Dataset(x, t, xt, tt)
    n_it, reps = args.iterations, args.repeats
    print(f"CPU: {cpu_description()}")
    print(f"BLAS: {blas_description()}")
    print(f"{n_it} iterations per timing, best of {reps}\n")

    if args.only in (None, "batch"):
        batch_section(data, n_it, reps)
    if args.only in (None, "width"):
        width_section(data, n_it, reps)
    if args.only in (None, "runs"):
        runs_section(data, args.run_iterations, reps)
    print("\ntarget: 2 runs >= 1.8 x the throughput of 1 run; per-sample cost falls or stays flat")


def batch_section(data: Dataset, n_it: int, reps: int) -> None:
    print("batch size (one Adam run, 784-100x4-10)")
    print(f"{'batch':>6s} {'s':>7s} {'us/sample':>10s} {'GFLOP/s':>8s}")
    for b in (32, 64, 128, 256, 512, 1024):
        s = timed(data, ["adam"], reps, batch_size=b, iterations=n_it)
        f = flops([784, 100, 100, 100, 100, 10], b)["total"] * n_it
        print(f"{b:6d} {s:7.3f} {s / (b * n_it) * 1e6:10.2f} {f / s / 1e9:8.1f}")


def width_section(data: Dataset, n_it: int, reps: int) -> None:
    print("\nwidth (one Adam run, 784-w x4-10, batch 128)")
    print(f"{'width':>6s} {'s':>7s} {'us/sample':>10s} {'GFLOP/s':>8s}")
    for w in (100, 200, 500, 1000):
        it = max(20, n_it * 100 // w)
        s = timed(data, ["adam"], reps, hidden=(w,) * 4, iterations=it)
        f = flops([784, w, w, w, w, 10], 128)["total"] * it
        print(f"{w:6d} {s:7.3f} {s / (128 * it) * 1e6:10.2f} {f / s / 1e9:8.1f}")


def _alone(data: Dataset, p: Protocol, barrier, out) -> None:
    barrier.wait()
    t0 = time.perf_counter()
    train(["adam"], data, p, workers=1)
    out.put(time.perf_counter() - t0)


def independent(data: Dataset, p: Protocol, n: int) -> float:
    """Wall time of ``n`` one-run trainings in ``n`` separate processes started together."""
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_alone, args=(data, p, barrier, out)) for _ in range(n)]
    for q in procs:
        q.start()
    times = [out.get() for _ in procs]
    for q in procs:
        q.join()
    return max(times)


def runs_section(data: Dataset, n_it: int, reps: int) -> None:
    print(
        f"\nruns (Adam each, batch 128, {n_it} iterations; timings interleaved across run counts)"
    )
    counts = (1, 2, 4, 8, 16)
    p = Protocol(eval_every=0, iterations=n_it)
    times: dict[int, list[float]] = {k: [] for k in counts}
    n_cores = default_workers()
    apart: list[float] = []
    for _ in range(reps):  # interleaved: a load drift hits every count alike
        for k in counts:
            times[k].append(best_of(lambda k=k: train(["adam"] * k, data, p), 1)[0])
        apart.append(independent(data, p, n_cores))
    base = n_it / min(times[1])
    base_median = n_it / statistics.median(times[1])
    # the hardware's own scaling, measured now: what 2 runs on 2 cores can hope for
    one, every = gemm_rate(threads=1), gemm_rate(threads=n_cores)
    print(
        f"(large-matrix SGEMM: {one:.0f} GFLOP/s on one core, {every:.0f} on "
        f"{n_cores}: the machine itself scales {every / one:.2f} x)"
    )
    print(
        f"{'runs':>6s} {'best s':>7s} {'run-it/s':>9s} {'vs 1 run':>9s} {'median':>7s}"
        "  all timings (vs 1 run: best against best, median against median)"
    )

    def row(k: int, ts: list[float], note: str = "") -> None:
        thr = k * n_it / min(ts)
        ratio_median = k * n_it / statistics.median(ts) / base_median
        print(
            f"{k:6d} {min(ts):7.3f} {thr:9.1f} {thr / base:9.2f} {ratio_median:7.2f}  "
            + " ".join(f"{v:.3f}" for v in ts)
            + note
        )

    for k in counts:
        row(k, times[k])
    row(n_cores, apart, f"  <- {n_cores} separate one-run processes at once: the ceiling")


if __name__ == "__main__":
    main()
