"""Sweep throughput with 1 and 2 local workers, and the per-run overhead of the store and Dask.

    python benchmarks/sweep_throughput.py [--iterations 800] [--lrs 6] [--dask/--no-dask]

All numbers come from one invocation on one machine (ratios, not absolute
times, are the result). The problem is the seed's MNIST network on the first
10,000 training and 2,000 test images; stage 1 only (two optimizers x ``--lrs``
learning rates, one seed), so every run is independent and about equally long.

* throughput: runs per second of the whole sweep with ``--workers 1`` (in this
  process) and ``--workers 2`` (two spawned processes, start-up and data
  loading included); target >= 1.8x on 2 cores;
* store: mean seconds of ``claim`` + ``finish`` (curves included) + ``statuses``
  per run, against the mean run's own wall time;
* serial sweep machinery: (sweep wall - sum of runs' wall) / runs, against a
  run, with the data already loaded in this process;
* Dask: a LocalCluster of one single-threaded worker process, warmed up (data
  loaded), then (sweep wall - sum of runs' wall) / runs for half the learning
  rates, against a run.

Run it on an otherwise idle machine: other processes on the same cores lower
the speed-up.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from optimlab.experiments import Protocol
from optimlab.sweep import Problem, Store, SweepPlan, run_sweep
from optimlab.sweep.store import new_owner


def plan_of(iterations: int, n_lrs: int, seed: int = 0) -> SweepPlan:
    problem = Problem(
        "mnist", Protocol(iterations=iterations, eval_every=100), train_size=10_000, test_size=2_000
    )
    lrs = tuple(float(f"{x:.6g}") for x in np.logspace(-3, -0.5, n_lrs))
    return SweepPlan(problem, ("sgd", "adam"), lrs=lrs, seeds=1, base_seed=seed, defaults=False)


def stage1(plan: SweepPlan, store: Path, **kw) -> tuple[float, list[float]]:
    """Run stage 1 only (the tuned stage is the same work again); wall time and runs' walls."""
    t0 = time.perf_counter()
    run_sweep(_StageOne(plan), store, **kw)
    wall = time.perf_counter() - t0
    with Store(store, readonly=True) as st:
        runs = [r["wall_seconds"] for r in st.runs() if r["wall_seconds"] is not None]
    return wall, runs


def busy_span(store: Path) -> float:
    """Seconds from the first run's start to the last run's end: the sweep without the
    workers' start-up (process spawn, imports, data loading)."""
    with Store(store, readonly=True) as st:
        rows = st.runs()
    return max(r["finished_at"] for r in rows) - min(r["started_at"] for r in rows)


class _StageOne(SweepPlan):
    """A plan whose stage 2 is empty: benchmarks measure independent, equal runs."""

    def __init__(self, plan: SweepPlan) -> None:
        super().__init__(
            plan.problem, plan.optimizers, plan.lrs, plan.seeds, plan.base_seed, plan.defaults
        )

    def tuned_runs(self, best):
        return []


def store_overhead(plan: SweepPlan, tmp: Path, n: int = 200) -> float:
    """Mean seconds of the store's work for one run: claim, finish with curves, statuses."""
    its = plan.problem.protocol.iterations
    result = {
        "status": "done",
        "final_loss": 0.1,
        "final_smoothed_loss": 0.1,
        "final_accuracy": 0.9,
        "diverged_at": None,
        "wall_seconds": 1.0,
        "train_seconds": 1.0,
        "versions": {"optimlab": "x"},
        "host": "h",
        "target": 0.97,
        "iterations_to_target": None,
        "seconds_to_target": None,
        "curves": {
            "losses": np.random.default_rng(0).random(its),
            "eval_iterations": np.arange(100, its + 1, 100),
            "test_accuracy": np.linspace(0.5, 0.9, its // 100),
            "eval_seconds": np.linspace(0.1, 1.0, its // 100),
        },
    }
    runs = [
        r
        for k in range(n // len(plan.search_runs()) + 1)
        for r in plan_of(its, len(plan.lrs), seed=k + 1).search_runs()
    ][:n]
    owner = new_owner()
    with Store(tmp / "overhead.sqlite") as st:
        st.enqueue("bench", runs)
        ids = [r.run_id for r in runs]
        t0 = time.perf_counter()
        for rid in ids:
            st.statuses(ids)
            st.claim([rid], owner, limit=1)
            st.finish(rid, owner, result)
        return (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=800, help="iterations per run")
    ap.add_argument("--lrs", type=int, default=6, help="learning rates per optimizer")
    ap.add_argument("--dask", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    plan = plan_of(args.iterations, args.lrs)
    n = len(plan.search_runs())
    print(
        f"{n} runs of the seed's network, {args.iterations} iterations each, "
        f"MNIST 10k/2k; cores available: {len(os.sched_getaffinity(0))}"
    )
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        from optimlab.plots import smooth_curve  # noqa: F401  warm: imported once per sweep
        from optimlab.sweep.execute import load_data

        load_data("mnist", train_size=10_000, test_size=2_000)  # warm: loaded once per process
        w1, runs1 = stage1(plan, tmp / "w1.sqlite", workers=1)
        w2, _ = stage1(plan, tmp / "w2.sqlite", workers=2)
        run_s = float(np.mean(runs1))
        print(f"\nthroughput, workers=1: {n / w1:.3f} runs/s ({w1:.1f} s)")
        print(
            f"throughput, workers=2: {n / w2:.3f} runs/s ({w2:.1f} s, process start-up "
            "and data loading included)"
        )
        print(f"speed-up 2 workers / 1: {w1 / w2:.2f}x (target >= 1.8x on 2 cores)")
        b1, b2 = busy_span(tmp / "w1.sqlite"), busy_span(tmp / "w2.sqlite")
        print(
            f"speed-up once the workers are up (first run start to last run end: "
            f"{b1:.1f} s vs {b2:.1f} s): {b1 / b2:.2f}x"
        )
        print(f"\nmean run wall time: {run_s:.3f} s")
        st = store_overhead(plan, tmp)
        print(
            f"store per run (statuses + claim + finish with curves): {1e3 * st:.2f} ms "
            f"= {100 * st / run_s:.2f} % of a run"
        )
        machinery = (w1 - sum(runs1)) / n
        print(
            f"serial sweep machinery per run (data already loaded): "
            f"{1e3 * machinery:.1f} ms = {100 * machinery / run_s:.2f} % of a run"
        )
        if args.dask:
            import distributed

            with (
                distributed.LocalCluster(
                    n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                distributed.Client(cluster, set_as_default=False) as client,
            ):
                stage1(plan_of(args.iterations, 1, seed=99), tmp / "warm.sqlite", client=client)
                wd, runsd = stage1(
                    plan_of(args.iterations, max(1, args.lrs // 2)),
                    tmp / "dask.sqlite",
                    client=client,
                )
            dask_over = (wd - sum(runsd)) / len(runsd)
            print(
                f"Dask (1 worker process, warmed up) per run: {1e3 * dask_over:.1f} ms "
                f"= {100 * dask_over / float(np.mean(runsd)):.2f} % of a run "
                f"(sweep {wd:.1f} s, its runs {sum(runsd):.1f} s)"
            )


if __name__ == "__main__":
    main()
