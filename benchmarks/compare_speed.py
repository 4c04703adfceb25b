"""Wall time of the seed's MNIST comparison: optimlab's engine vs the seed's code vs PyTorch.

The protocol of ``optimizer_compare_mnist.py``: SGD, Momentum, AdaGrad and
Adam (book defaults), 784-100-100-100-100-10 ReLU nets from the same initial
weights, batch 128 drawn with replacement, 2000 iterations, the loss
recomputed after every update; no test evaluation (the seed has none). Every
implementation trains on the same batches from the same weights, in this one
process, so all ratios compare times taken minutes apart on the same machine.

* ``optimlab f32``/``f64``: :func:`optimlab.engine.train`.
* ``seed f64``: ``benchmarks/seed_baseline.py``, the seed's code in plain NumPy.
* ``torch f32``/``f64``: PyTorch ``nn.Linear``/``ReLU``, ``F.cross_entropy``,
  ``torch.optim`` SGD, SGD(momentum=0.9), Adagrad(eps=1e-7), Adam(eps=1e-7),
  ``torch.set_num_threads(2)``; skipped when torch is not installed.

The FLOP floor is the protocol's GEMM FLOPs (see ``_common.protocol_flops``)
at the large-matrix SGEMM rate of all cores, measured in the same run.

    python benchmarks/compare_speed.py [--iterations 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import struct
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from optimlab.engine import default_workers
from optimlab.engine import train as fast_train
from optimlab.experiments import Dataset, Protocol, batch_indices, init_params
from seed_baseline import train_seed

OPTIMIZERS = ["sgd", "momentum", "adagrad", "adam"]

# -- helpers the other benchmarks import too ---------------------------------------------

SHARED_MNIST = Path("/work/shared/data/mnist")


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x_train, t_train, x_test, t_test``: float32 in [0, 1] ``(N, 784)``, int64 labels."""
    try:
        from optimlab.data import load_mnist

        (x, t), (xt, tt) = load_mnist()
        return x, t, xt, tt
    except Exception:  # the data package is being written; read the shared copy directly
        out = []
        for prefix in ("train", "t10k"):
            images = _read_idx(SHARED_MNIST / f"{prefix}-images-idx3-ubyte.gz")
            labels = _read_idx(SHARED_MNIST / f"{prefix}-labels-idx1-ubyte.gz")
            out += [
                (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32),
                labels.astype(np.int64),
            ]
        return out[0], out[1], out[2], out[3]


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    """Best wall time of ``repeats`` calls and all the times."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), times


def gemm_rate(dtype=np.float32, threads: int | None = None, sizes=(1024, 2048), reps=3) -> float:
    """The machine's large-matrix GEMM rate in GFLOP/s (best over ``sizes``, best of ``reps``)."""
    rng = np.random.default_rng(0)
    best = 0.0
    with threadpool_limits(limits=threads, user_api="blas"):
        for n in sizes:
            a = rng.random((n, n)).astype(dtype)
            b = rng.random((n, n)).astype(dtype)
            c = np.empty((n, n), dtype=dtype)
            np.matmul(a, b, out=c)
            k = max(1, int(2e9 / (2 * n**3)))  # about 2 GFLOP per timing
            for _ in range(reps):
                t0 = time.perf_counter()
                for _ in range(k):
                    np.matmul(a, b, out=c)
                best = max(best, 2 * n**3 * k / (time.perf_counter() - t0) / 1e9)
    return best


def protocol_flops(sizes: Sequence[int], batch: int, post: bool = True) -> dict[str, float]:
    """Multiply-add FLOPs (2 per multiply-add) of one iteration of one run.

    Forward ``2B sum_l a_l c_l``; backward weight gradients the same; input
    gradients of layers 2..L ``2B sum_{l>=2} a_l c_l`` (none for layer 1,
    which nothing uses); the post-update loss forward once more. Bias adds,
    activations, softmax and the update are elementwise, not counted.
    """
    macs = [a * c for a, c in itertools.pairwise(sizes)]
    fwd = 2 * batch * sum(macs)
    out = {"forward": fwd, "weight_grads": fwd, "input_grads": 2 * batch * sum(macs[1:])}
    out["loss_forward"] = fwd if post else 0
    out["total"] = sum(out.values())
    return out


def blas_description() -> str:
    """Which BLAS and kernel NumPy uses, and the OpenBLAS environment overrides."""
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    parts = [
        f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} "
        f"threads={i.get('num_threads')}"
        for i in info
    ]
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    return "; ".join(parts) + (f"; env {env}" if env else "; no OPENBLAS_* overrides")


def cpu_description() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{model}, {n} cores available, load average {load:.2f} at start"


# -- the comparison ------------------------------------------------------------------------


def run_optimlab(data: Dataset, protocol: Protocol) -> np.ndarray:
    return np.array([r.losses for r in fast_train(OPTIMIZERS, data, protocol)])


def run_seed(data: Dataset, protocol: Protocol) -> np.ndarray:
    params = init_params(protocol, 784, 10, 4)
    losses = train_seed(
        data.x_train,
        data.t_train,
        params,
        batch_indices(protocol, len(data.x_train)),
        protocol.iterations,
        dtype=np.dtype(protocol.dtype),
    )
    return np.array(list(losses.values()))


def run_torch(data: Dataset, protocol: Protocol, threads: int = 2) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    dtype = {"float32": torch.float32, "float64": torch.float64}[protocol.dtype]
    x_all = torch.from_numpy(data.x_train.astype(protocol.dtype))
    t_all = torch.from_numpy(data.t_train)
    nets = []
    for p in init_params(protocol, 784, 10, 4):
        layers = []
        n = len(p) // 2
        for i in range(1, n + 1):
            lin = torch.nn.Linear(*p[f"W{i}"].shape, dtype=dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(p[f"W{i}"].T.copy()))
                lin.bias.copy_(torch.from_numpy(p[f"b{i}"]))
            layers += [lin, torch.nn.ReLU()] if i < n else [lin]
        nets.append(torch.nn.Sequential(*layers))
    opts = [
        torch.optim.SGD(nets[0].parameters(), lr=0.01),
        torch.optim.SGD(nets[1].parameters(), lr=0.01, momentum=0.9),
        torch.optim.Adagrad(nets[2].parameters(), lr=0.01, eps=1e-7),
        torch.optim.Adam(nets[3].parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7),
    ]
    next_batch = batch_indices(protocol, len(data.x_train))
    losses = np.zeros((4, protocol.iterations))
    for i in range(protocol.iterations):
        idx = torch.from_numpy(next_batch())
        x, t = x_all[idx], t_all[idx]
        for k, (net, opt) in enumerate(zip(nets, opts, strict=True)):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(x), t).backward()
            opt.step()
            with torch.no_grad():
                losses[k, i] = F.cross_entropy(net(x), t).item()
    return losses


def time_split(data: Dataset, protocol: Protocol, iterations: int = 200) -> dict[str, float]:
    """Where one worker's time goes, per run-iteration, in thread CPU time (best of 5).

    Like the engine, one run at a time: each part is timed over ``iterations``
    iterations of one run, then of the next, and averaged over the 4 runs.
    GEMM: the run's matrix products only (the same calls, same shapes);
    elementwise: forward and backward with the products skipped; update: the
    rule's ``step_arrays``; batch: the gather of one batch; the rest of a
    measured whole iteration is Python and NumPy call overhead.
    """
    import optimlab.engine.net as net_module
    from optimlab.engine import FlatNet
    from optimlab.optim import create

    clock = time.thread_time
    B = protocol.batch_size
    sizes = [784, *protocol.hidden, 10]
    nets = [
        FlatNet(sizes, p, dtype=np.float32, rows=2 * B, batch=B)
        for p in init_params(protocol, 784, 10, 4)
    ]
    opts = [create(o) for o in OPTIMIZERS]
    items = [[("params", n.w, n.g)] for n in nets]
    nb = batch_indices(protocol, len(data.x_train))
    x = data.x_train[np.concatenate([nb(), nb()])].astype(np.float32)
    t = data.t_train[np.concatenate([nb(), nb()])]

    def best(fn, runs: Sequence[int] = range(len(nets))) -> float:
        """Mean over ``runs`` of each run's best time per iteration, in us."""
        total = 0.0
        for k in runs:
            out = float("inf")
            for _ in range(5):
                t0 = clock()
                for _ in range(iterations):
                    fn(k)
                out = min(out, (clock() - t0) / iterations)
            total += out
        return total / len(runs) * 1e6

    def whole(k: int) -> None:
        np.take(data.x_train, nb(), axis=0, out=x[:B], mode="clip")
        nets[k].backward(x, at=0)
        opts[k].step_arrays(items[k])
        nets[k].forward(x, t, lo=0, hi=2 * B, loss_at=0, grad_at=B)

    def fwd_bwd(k: int) -> None:
        nets[k].backward(x, at=0)
        nets[k].forward(x, t, lo=0, hi=2 * B, loss_at=0, grad_at=B)

    products: list[list[tuple]] = [[] for _ in nets]
    real = np.matmul

    with threadpool_limits(limits=1, user_api="blas"), np.errstate(all="ignore"):
        for n in nets:
            n.forward(x, t, lo=0, hi=B, grad_at=0)
        t_whole = best(whole)
        try:
            for k in range(len(nets)):

                def record(a, b, out=None, k=k):
                    products[k].append((a, b, out))
                    return real(a, b, out=out)

                net_module.np.matmul = record
                fwd_bwd(k)
            net_module.np.matmul = lambda a, b, out=None: out
            t_noprod = best(fwd_bwd)
        finally:
            net_module.np.matmul = real

        def gemms(k: int) -> None:
            for a, b, out in products[k]:
                real(a, b, out=out)

        t_gemm = best(gemms)
        t_upd = {
            type(o).__name__: best(lambda k: opts[k].step_arrays(items[k]), runs=[k])
            for k, o in enumerate(opts)
        }
        t_batch = best(lambda k: np.take(data.x_train, nb(), axis=0, out=x[:B], mode="clip"))
    t_update = sum(t_upd.values()) / 4
    rest = t_whole - t_gemm - t_noprod - t_update - t_batch
    print(
        f"\ntime split of one worker, per run-iteration (thread CPU time, best of 5, "
        f"{iterations} iterations of each of 4 runs, one run at a time):"
    )
    parts = [
        ("GEMM", t_gemm),
        ("elementwise + its call overhead", t_noprod),
        ("update (mean of the 4 rules)", t_update),
        ("batch gather", t_batch),
    ]
    if rest >= 0:
        parts.append(("rest: Python loop, step_arrays dispatch", rest))
    for name, v in [*parts, ("whole", t_whole)]:
        print(f"  {name:40s} {v:7.0f} us  {v / t_whole * 100:5.1f}%")
    if rest < 0:  # each part alone runs with colder caches than inside the whole loop
        print(
            f"  (the parts, timed one by one, add up to {-rest:.0f} us more than the whole "
            "loop: too noisy to separate the Python overhead in this run)"
        )
    print("  updates: " + ", ".join(f"{k} {v:.0f} us" for k, v in t_upd.items()))
    return {
        "gemm": t_gemm,
        "elementwise": t_noprod,
        "update": t_update,
        "batch": t_batch,
        "whole": t_whole,
    }


def print_bounds(split: dict[str, float], iterations: int, cores: int, floor: float) -> None:
    """What the protocol would take if only some parts of a step cost time, each at the
    speed it reaches alone (warm caches): how far the FLOP floor is from NumPy's reach.

    A worker trains ``4 / cores`` runs on the batches it gathers once, so it spends
    ``runs x iterations`` run-iterations and ``iterations`` gathers.
    """
    runs = 4 / cores
    gemm = split["gemm"] * runs * iterations / 1e6
    parts = (
        ((split["gemm"] + split["elementwise"] + split["update"]) * runs + split["batch"])
        * iterations
        / 1e6
    )
    print(
        f"  if only the matrix products cost time: {gemm:.2f} s = {gemm / floor:.2f} x floor; "
        f"with the elementwise work, the update and the gather, each at its speed alone: "
        f"{parts:.2f} s = {parts / floor:.2f} x floor"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3, help="timings per implementation (best)")
    ap.add_argument("--skip", nargs="*", default=[], help="names to skip, e.g. 'seed f64'")
    ap.add_argument("--seed-float32", action="store_true", help="also time the seed in float32")
    ap.add_argument("--split", action="store_true", help="print how optimlab's time splits")
    args = ap.parse_args(argv)

    x, t, xt, tt = load_mnist_arrays()
    data = Dataset(x, t, xt, tt)
    p32 = Protocol(iterations=args.iterations, eval_every=0, dtype="float32")
    p64 = Protocol(iterations=args.iterations, eval_every=0, dtype="float64")
    impls = {
        "optimlab f32": lambda: run_optimlab(data, p32),
        "optimlab f64": lambda: run_optimlab(data, p64),
        "seed f64": lambda: run_seed(data, p64),
    }
    if args.seed_float32:
        impls["seed f32"] = lambda: run_seed(data, p32)
    try:
        import torch

        impls["torch f32"] = lambda: run_torch(data, p32)
        impls["torch f64"] = lambda: run_torch(data, p64)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    for name in args.skip:
        impls.pop(name, None)

    print(f"CPU: {cpu_description()}")
    print(f"BLAS: {blas_description()}")
    print(f"torch: {torch_version}; optimlab workers: {default_workers()}")
    cores = default_workers()
    rate32_all, rate32_one = gemm_rate(np.float32), gemm_rate(np.float32, threads=1)
    rate64_all, rate64_one = gemm_rate(np.float64), gemm_rate(np.float64, threads=1)
    # the floor uses the higher of the all-core rate and cores x the one-core rate: on a
    # busy machine the all-core rate drops, and a lower rate would flatter the ratio
    rate32, rate64 = max(rate32_all, cores * rate32_one), max(rate64_all, cores * rate64_one)
    fl = protocol_flops([784, 100, 100, 100, 100, 10], 128)
    total = fl["total"] * 4 * args.iterations
    floor32, floor64 = total / rate32 / 1e9, total / rate64 / 1e9
    print(
        f"large-matrix GEMM rate (GFLOP/s): SGEMM {rate32_all:.0f} all cores, {rate32_one:.0f} "
        f"one core; DGEMM {rate64_all:.0f} all cores, {rate64_one:.0f} one core; the floor "
        f"uses {rate32:.0f} (f32) and {rate64:.0f} (f64)"
    )
    print(
        f"protocol FLOPs: {fl['total'] / 1e6:.1f} MFLOP per run-iteration "
        f"(forward {fl['forward'] / 1e6:.1f}, weight grads {fl['weight_grads'] / 1e6:.1f}, "
        f"input grads {fl['input_grads'] / 1e6:.1f}, loss forward {fl['loss_forward'] / 1e6:.1f})"
        f" x 4 runs x {args.iterations} = {total / 1e9:.0f} GFLOP; "
        f"floor {floor32:.2f} s (f32), {floor64:.2f} s (f64)"
    )
    if args.split:
        print_bounds(time_split(data, p32), args.iterations, cores, floor32)

    times: dict[str, list[float]] = {k: [] for k in impls}
    final: dict[str, np.ndarray] = {}
    for rep in range(args.repeats):  # interleaved, so that load drifts hit all alike
        for name, fn in impls.items():
            t0 = time.perf_counter()
            losses = fn()
            times[name].append(time.perf_counter() - t0)
            final[name] = losses[:, -100:].mean(axis=1)
            print(f"  [{rep + 1}/{args.repeats}] {name:13s} {times[name][-1]:7.2f} s", flush=True)

    best = {k: min(v) for k, v in times.items()}
    print()
    print(
        f"{'implementation':14s} {'best s':>7s} {'runs s':>22s} {'vs torch':>9s} "
        f"{'vs seed':>8s} {'x floor':>8s}  mean loss of the last 100 iterations"
    )
    for name, b in best.items():
        same = "torch " + name.split()[1]
        vs_torch = f"{b / best[same]:.2f}" if same in best else "-"
        vs_seed = f"{best['seed f64'] / b:.2f}x" if "seed f64" in best else "-"
        floor = floor32 if name.endswith("f32") else floor64
        runs = " ".join(f"{s:.2f}" for s in times[name])
        losses = " ".join(f"{v:.4f}" for v in final[name])
        print(
            f"{name:14s} {b:7.2f} {runs:>22s} {vs_torch:>9s} {vs_seed:>8s} "
            f"{b / floor:8.2f}  {losses}"
        )
    print()
    print(
        "vs torch: wall time / PyTorch's in the same dtype (target f32 <= 0.5, f64 <= 1.0); "
        "vs seed: seed f64 time / this (target >= 4); x floor: wall time / FLOP floor "
        "(target <= 1.6)"
    )
    if "optimlab f32" in best:
        print(
            f"optimlab f32 reaches {floor32 / best['optimlab f32'] * 100:.0f}% of the "
            f"all-core SGEMM rate"
        )


if __name__ == "__main__":
    main()
