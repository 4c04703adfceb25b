"""Peak resident memory of the seed's MNIST comparison (target: <= 600 MB).

Each workload runs in a fresh subprocess. The engine forks one worker per
core, so the footprint is a process tree: every 20 ms the script sums, over
the tree, the proportional set size (PSS: shared pages split among the
processes sharing them, so the forked workers' shared training data counts
once) and the resident set size (RSS: shared pages counted in every process,
an over-estimate); it reports the peaks of both sums and ``ru_maxrss`` (the
largest single process, from ``os.wait4``). Linux only.

* ``engine``: load MNIST and ``optimlab.engine.train`` the four rules for the
  seed's protocol (test accuracy every 100 iterations, as ``compare`` does);
* ``python``: the interpreter with NumPy and optimlab imported, for scale;
* ``cli``: ``optimlab compare`` itself (figures and files included), when the
  command is installed.

    python benchmarks/memory.py [--iterations 2000] [--dtype float32]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ENGINE = """
import sys
from optimlab.data import load_mnist
from optimlab.engine import train
from optimlab.experiments import Dataset, Protocol
(x, t), (xt, tt) = load_mnist()
p = Protocol(iterations=int(sys.argv[1]), dtype=sys.argv[2])
r = train(["sgd", "momentum", "adagrad", "adam"], Dataset(x, t, xt, tt), p)
print("final test accuracy", [round(float(a.test_accuracy[-1]), 4) for a in r])
"""

BARE = "import numpy, optimlab.engine, optimlab.data"


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def _kb(pid: int, path: str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_memory_mb(cmd: list[str]) -> tuple[float, float, float, int, str]:
    """Peak tree PSS, peak tree RSS, ru_maxrss (MB), exit status, last output line."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    pss = rss = 0
    while proc.poll() is None:
        pids = _tree(proc.pid)
        pss = max(pss, sum(_kb(p, "smaps_rollup", "Pss:") for p in pids))
        rss = max(rss, sum(_kb(p, "status", "VmRSS:") for p in pids))
        time.sleep(0.02)
    reader.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    last = lines[-1].strip() if lines else ""
    return pss * 1024 / 1e6, rss * 1024 / 1e6, usage.ru_maxrss * 1024 / 1e6, proc.returncode, last


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = ap.parse_args(argv)
    its, dt = str(args.iterations), args.dtype
    rows = [
        ("python + numpy + optimlab", [sys.executable, "-c", BARE]),
        (f"engine, 4 rules x {its} it, {dt}", [sys.executable, "-c", ENGINE, its, dt]),
    ]
    cli = shutil.which("optimlab")
    with tempfile.TemporaryDirectory() as out:
        if cli:
            rows.append(
                (
                    f"optimlab compare, {its} it, {dt}",
                    [cli, "compare", "--iterations", its, "--dtype", dt, "--out", out],
                )
            )
        print(f"{'workload':36s} {'PSS MB':>7s} {'RSS MB':>7s} {'maxrss':>7s}  status  last line")
        for name, cmd in rows:
            pss, rss, maxrss, rc, last = peak_memory_mb(cmd)
            print(f"{name:36s} {pss:7.0f} {rss:7.0f} {maxrss:7.0f}  {rc:6d}  {last[:50]}")
    print("PSS, RSS: peak of the sum over the process tree; maxrss: the largest process so far")
    print("target: <= 600 MB for the compare workload")


if __name__ == "__main__":
    main()
