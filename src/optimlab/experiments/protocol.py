"""The seed's MNIST training protocol, its configuration, seeding and results.

One iteration, for every optimizer on the *same* mini-batch (drawn with
replacement, as ``np.random.choice(train_size, batch_size)`` in the book):
gradient by backprop, ``update``, then the loss on that batch again (the
book's post-update loss; ``loss_timing="pre"`` records the loss of the
forward pass that gave the gradient instead).

Seeding: ``SeedSequence(seed)`` spawns one child for the initial weights and
one for the batches, so changing the optimizers never changes the batches.
With ``same_init`` every network starts from the same weights; without it
network ``k`` draws from the ``k``-th child of the weights' sequence.

``draws="book"`` takes the book's random draws instead, from the one stream that
``np.random.seed(seed)`` starts (a ``RandomState(seed)``; NumPy's global
generator is not touched): each network's weights in turn (the first network's
only, shared by all, under ``same_init``), then one ``choice(n_train,
batch_size)`` per iteration. Without ``same_init`` a float64 run is then the
book's ``optimizer_compare_mnist.py``, loss for loss.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from ..nn import MultiLayerNet
from ..nn.layers import one_hot_to_labels
from ..optim import Optimizer, create, spec_of

__all__ = [
    "ENGINES",
    "Dataset",
    "Protocol",
    "RunResult",
    "batch_indices",
    "init_params",
    "train",
    "train_reference",
]

ENGINES = ("fast", "reference")


@dataclass(frozen=True)
class Dataset:
    """Training and test arrays: ``x`` float ``(N, d)``, ``t`` labels ``(N,)``.

    One-hot labels ``(N, classes)`` are accepted and stored as int64 labels.
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    name: str = "mnist"

    def __post_init__(self) -> None:
        columns = 0
        for name in ("t_train", "t_test"):
            t = np.asarray(getattr(self, name))
            if t.ndim == 2:  # one-hot, as load_mnist(one_hot_label=True) gives
                try:
                    labels = one_hot_to_labels(t)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
                columns = max(columns, t.shape[1])
                t = labels
            elif t.ndim != 1 or not np.issubdtype(t.dtype, np.integer) or (t.size and t.min() < 0):
                raise ValueError(
                    f"{name}: labels must be integers >= 0 of shape (N,) or one-hot of shape "
                    f"(N, classes); got dtype {t.dtype} and shape {t.shape}"
                )
            object.__setattr__(self, name, t.astype(np.int64, copy=False))
        for x_name, t_name in (("x_train", "t_train"), ("x_test", "t_test")):
            nx, nt = len(getattr(self, x_name)), len(getattr(self, t_name))
            if nx != nt:
                raise ValueError(f"{x_name} has {nx} samples but {t_name} has {nt} labels")
        object.__setattr__(self, "_one_hot_columns", columns)

    @property
    def n_classes(self) -> int:
        """Classes: one more than the largest label, or the one-hot width if larger."""
        largest = max(self.t_train.max(initial=-1), self.t_test.max(initial=-1))
        return max(int(largest) + 1, self._one_hot_columns)


@dataclass(frozen=True)
class Protocol:
    """Everything that defines a run besides the optimizer. Defaults: the seed's."""

    hidden: tuple[int, ...] = (100, 100, 100, 100)
    activation: Literal["relu", "sigmoid"] = "relu"
    weight_init: str | float = "relu"
    weight_decay: float = 0.0
    batch_size: int = 128
    iterations: int = 2000
    dtype: Literal["float32", "float64"] = "float32"
    seed: int = 0
    same_init: bool = True
    eval_every: int = 100
    loss_timing: Literal["post", "pre"] = "post"
    draws: Literal["optimlab", "book"] = "optimlab"

    def __post_init__(self) -> None:
        if self.draws not in ("optimlab", "book"):
            raise ValueError(f"draws must be 'optimlab' or 'book', got {self.draws!r}")
        for name in ("batch_size", "iterations"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if (
            isinstance(self.eval_every, bool)
            or not isinstance(self.eval_every, int)
            or self.eval_every < 0
        ):
            raise ValueError(
                f"eval_every must be an integer >= 0 (0 disables it), got {self.eval_every!r}"
            )
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.loss_timing not in ("post", "pre"):
            raise ValueError(f"loss_timing must be 'post' or 'pre', got {self.loss_timing!r}")
        if not self.hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden
        ):
            raise ValueError(
                f"hidden must be a non-empty list of integers >= 1, got {self.hidden!r}"
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    def eval_points(self) -> list[int]:
        """Iteration counts (1-based, after that many updates) at which test accuracy is taken."""
        if self.eval_every == 0:
            return []
        pts = list(range(self.eval_every, self.iterations + 1, self.eval_every))
        if not pts or pts[-1] != self.iterations:
            pts.append(self.iterations)
        return pts

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


@dataclass
class RunResult:
    """One optimizer's run: per-iteration loss, test accuracy at ``eval_iterations``."""

    label: str
    spec: str
    losses: np.ndarray
    eval_iterations: np.ndarray
    test_accuracy: np.ndarray
    seconds: float
    diverged_at: int | None = None
    #: cumulative training seconds of this run when each evaluation was taken
    eval_seconds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    @property
    def final_accuracy(self) -> float:
        return float(self.test_accuracy[-1]) if len(self.test_accuracy) else math.nan


def _seeds(seed: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    init_ss, batch_ss = np.random.SeedSequence(seed).spawn(2)
    return init_ss, batch_ss


def batch_indices(
    protocol: Protocol, n_train: int, *, sizes: Sequence[int] = (), n_runs: int = 1
) -> Callable[[], np.ndarray]:
    """A function returning the next batch's indices (with replacement), reproducibly.

    Under ``draws="book"`` the batches follow the weights in one stream, so the
    layer ``sizes`` (input to output) and the number of networks are needed.
    """
    if protocol.batch_size > n_train:
        raise ValueError(
            f"batch_size {protocol.batch_size} is larger than the training set ({n_train} samples)"
        )
    if protocol.draws == "book":
        if len(sizes) < 2:
            raise ValueError("draws='book' needs the layer sizes to follow the weights' draws")
        rs = _book_nets(protocol, sizes[0], sizes[-1], n_runs)[1]
        return lambda: rs.choice(n_train, protocol.batch_size)
    rng = np.random.default_rng(_seeds(protocol.seed)[1])
    return lambda: rng.integers(0, n_train, size=protocol.batch_size)


def init_params(
    protocol: Protocol, input_size: int, output_size: int, n_runs: int
) -> list[dict[str, np.ndarray]]:
    """Initial parameters of each of ``n_runs`` networks (identical under ``same_init``)."""
    return [net.params for net in _init_nets(protocol, input_size, output_size, n_runs)]


def _init_nets(
    protocol: Protocol, input_size: int, output_size: int, n_runs: int
) -> list[MultiLayerNet]:
    """``n_runs`` separate networks, initialised as :func:`init_params` says."""
    if protocol.draws == "book":
        return _book_nets(protocol, input_size, output_size, n_runs)[0]
    init_ss = _seeds(protocol.seed)[0]
    children = init_ss.spawn(n_runs)
    out = []
    for k in range(n_runs):
        ss = children[0] if protocol.same_init else children[k]
        out.append(_net(protocol, input_size, output_size, np.random.default_rng(ss)))
    return out


def _net(protocol: Protocol, input_size: int, output_size: int, seed) -> MultiLayerNet:
    return MultiLayerNet(
        input_size,
        list(protocol.hidden),
        output_size,
        activation=protocol.activation,
        weight_init_std=protocol.weight_init,
        weight_decay_lambda=protocol.weight_decay,
        seed=seed,
        dtype=protocol.dtype,
    )


def _book_nets(
    protocol: Protocol, input_size: int, output_size: int, n_runs: int
) -> tuple[list[MultiLayerNet], np.random.RandomState]:
    """The networks of ``draws="book"`` and the stream after their weights (see above)."""
    rs = np.random.RandomState(protocol.seed)  # the stream np.random.seed(seed) starts
    nets = []
    for k in range(n_runs):
        # under same_init, network k > 0 repeats the first one's draws on a fresh stream
        shared = protocol.same_init and k > 0
        nets.append(
            _net(
                protocol,
                input_size,
                output_size,
                rs if not shared else np.random.RandomState(protocol.seed),
            )
        )
    return nets, rs


def prepare_runs(
    optimizers: Sequence[str | Optimizer], labels: Sequence[str] | None
) -> tuple[list[Optimizer], list[str]]:
    """Fresh optimizers from specs or instances, and a label for each run.

    ``ValueError`` for an entry that is neither, an instance that has already
    stepped or appears twice (runs must not share state), or a label count
    that does not match.
    """
    opts = [create(o) if isinstance(o, str) else o for o in optimizers]
    for k, o in enumerate(opts):
        if not isinstance(o, Optimizer):
            raise ValueError(f"optimizers[{k}] must be a spec string or an Optimizer, got {o!r}")
        if o.t != 0:
            raise ValueError(
                f"optimizers[{k}] ({o!r}) has already taken {o.t} steps; pass a fresh optimizer"
            )
        if any(o is p for p in opts[:k]):
            raise ValueError(
                f"optimizers[{k}] is the same object as an earlier one; each run "
                "needs its own optimizer"
            )
    labels = list(labels) if labels is not None else [type(o).__name__ for o in opts]
    if len(labels) != len(opts):
        raise ValueError(f"{len(labels)} labels for {len(opts)} optimizers")
    return opts, labels


def run_results(
    opts: Sequence[Optimizer],
    labels: Sequence[str],
    evals: Sequence[int],
    losses: np.ndarray,
    acc: np.ndarray,
    acc_seconds: np.ndarray,
    seconds: Sequence[float],
    diverged: Sequence[int | None],
) -> list[RunResult]:
    """One :class:`RunResult` per run from the arrays a training loop filled (row = run)."""
    return [
        RunResult(
            label=labels[k],
            spec=spec_of(opts[k]),
            losses=losses[k],
            eval_iterations=np.array(evals, dtype=np.int64),
            test_accuracy=acc[k],
            seconds=float(seconds[k]),
            diverged_at=diverged[k],
            hyperparameters=opts[k].hyperparameters(),
            eval_seconds=acc_seconds[k],
        )
        for k in range(len(opts))
    ]


def train_reference(
    optimizers: Sequence[str | Optimizer],
    data: Dataset,
    protocol: Protocol,
    *,
    labels: Sequence[str] | None = None,
    progress: Callable[[int, np.ndarray], None] | None = None,
) -> list[RunResult]:
    """Run the protocol with the book-compatible classes (``MultiLayerNet.gradient`` and
    ``Optimizer.update``): the reference every faster engine is tested against.

    ``progress(i, losses)`` is called after each iteration ``i`` (1-based) with every
    run's loss of that iteration (NaN for a run that diverged before it).
    """
    opts, labels = prepare_runs(optimizers, labels)
    d_in = int(np.prod(data.x_train.shape[1:]))
    nets = _init_nets(protocol, d_in, data.n_classes, len(opts))
    sizes = nets[0].sizes if nets else ()
    next_batch = batch_indices(protocol, data.x_train.shape[0], sizes=sizes, n_runs=len(nets))
    n_it = protocol.iterations
    losses = np.full((len(opts), n_it), np.nan)
    evals = protocol.eval_points()
    acc = np.full((len(opts), len(evals)), np.nan)
    acc_s = np.full((len(opts), len(evals)), np.nan)
    seconds = np.zeros(len(opts))
    diverged: list[int | None] = [None] * len(opts)
    x_test = data.x_test.astype(protocol.dtype, copy=False)
    ei = 0
    for i in range(n_it):
        idx = next_batch()
        xb = data.x_train[idx].astype(protocol.dtype, copy=False)
        tb = data.t_train[idx]
        for k, (net, opt) in enumerate(zip(nets, opts, strict=True)):
            if diverged[k] is not None:
                continue
            t0 = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # divergence is an outcome, reported through diverged_at
                grads = net.gradient(xb, tb)
                pre = net.last_layer.loss + net.weight_decay_loss()
                opt.update(net.params, grads)
                loss = pre if protocol.loss_timing == "pre" else net.loss(xb, tb)
            seconds[k] += time.perf_counter() - t0
            losses[k, i] = loss
            if not math.isfinite(loss):
                diverged[k] = i + 1
        if ei < len(evals) and evals[ei] == i + 1:
            for k, net in enumerate(nets):
                if diverged[k] is None:
                    acc[k, ei] = net.accuracy(x_test, data.t_test)
                    acc_s[k, ei] = seconds[k]
            ei += 1
        if progress is not None:
            progress(i + 1, losses[:, i].copy())
    return run_results(opts, labels, evals, losses, acc, acc_s, seconds, diverged)


def train(
    optimizers: Sequence[str | Optimizer],
    data: Dataset,
    protocol: Protocol,
    *,
    engine: str = "fast",
    labels: Sequence[str] | None = None,
    progress: Callable[[int, np.ndarray], None] | None = None,
) -> list[RunResult]:
    """Run the protocol for each optimizer; ``engine`` is ``"fast"`` (default) or ``"reference"``.

    Both engines compute the same thing (tested equal); ``"reference"`` runs the
    book-compatible classes step by step.
    """
    if engine == "reference":
        return train_reference(optimizers, data, protocol, labels=labels, progress=progress)
    if engine == "fast":
        from ..engine import train as fast_train

        return fast_train(optimizers, data, protocol, labels=labels, progress=progress)
    raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
