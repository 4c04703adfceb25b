"""Peak resident memory of the seed's MNIST comparison (target: <= 600 MB).

Each workload runs in a fresh subprocess; its peak RSS is the ``ru_maxrss``
that ``os.wait4`` reports for it (Linux: KiB):

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
import shutil
import subprocess
import sys
import tempfile

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


def peak_rss_mb(cmd: list[str]) -> tuple[float, int, str]:
    """Peak RSS in MB (10^6 bytes) of ``cmd``, its exit status and its last output line."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return usage.ru_maxrss * 1024 / 1e6, proc.returncode, last


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
        print(f"{'workload':40s} {'peak RSS MB':>12s}  status  last line")
        for name, cmd in rows:
            mb, rc, last = peak_rss_mb(cmd)
            print(f"{name:40s} {mb:12.0f}  {rc:6d}  {last[:60]}")
    print("target: <= 600 MB for the compare workload")


if __name__ == "__main__":
    main()
