"""The seed's MNIST training protocol: its data, configuration, seeding and results.

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

Validation lives here and only here: every :class:`Protocol` field is declared
once with its default, its check and its help (:class:`FieldSpec`; the CLI
options are generated from them), :class:`Dataset` checks its arrays, and
:func:`check_fits` checks a protocol against a dataset. The training loops
are one layer up: :mod:`optimlab.engine` and :mod:`optimlab.experiments.training`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np

from .nn import MultiLayerNet, init_scale
from .nn.layers import one_hot_to_labels
from .optim import Optimizer, create, spec_of

__all__ = [
    "ACTIVATIONS",
    "DTYPES",
    "LOSS_TIMINGS",
    "Dataset",
    "FieldError",
    "FieldSpec",
    "Protocol",
    "RunResult",
    "batch_indices",
    "check_fits",
    "init_nets",
    "init_params",
    "prepare_runs",
    "run_results",
]

#: hidden activations both engines implement
ACTIVATIONS = ("relu", "sigmoid")
DTYPES = ("float32", "float64")
LOSS_TIMINGS = ("post", "pre")


# -- the data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Dataset:
    """Training and test arrays: ``x`` float ``(N, d)`` (or ``(N, h, w)``...), ``t`` labels
    ``(N,)``.

    One-hot labels ``(N, classes)`` are accepted and stored as int64 labels.
    ``ValueError`` for labels that are not class indices, a sample count that
    differs between ``x`` and ``t``, an empty training set, or test samples
    whose width differs from the training samples'.
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    name: str = "mnist"
    #: the widest one-hot label array given (0: none), so n_classes counts its columns
    _one_hot_columns: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        columns = 0
        for name in ("t_train", "t_test"):
            labels, width = _labels(name, getattr(self, name))
            object.__setattr__(self, name, labels)
            columns = max(columns, width)
        for x_name, t_name in (("x_train", "t_train"), ("x_test", "t_test")):
            nx, nt = len(getattr(self, x_name)), len(getattr(self, t_name))
            if nx != nt:
                raise ValueError(f"{x_name} has {nx} samples but {t_name} has {nt} labels")
        if len(self.x_train) == 0:
            raise ValueError("x_train is empty: a dataset needs at least one training sample")
        train_shape, test_shape = self.x_train.shape[1:], self.x_test.shape[1:]
        if math.prod(train_shape) != math.prod(test_shape):
            raise ValueError(
                f"x_test samples have shape {_shape(test_shape)} but x_train samples have "
                f"{_shape(train_shape)}: train and test must have the same width"
            )
        object.__setattr__(self, "_one_hot_columns", columns)

    @property
    def n_features(self) -> int:
        """Inputs per sample (the product of a sample's shape)."""
        return math.prod(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        """Classes: one more than the largest label, or the one-hot width if larger."""
        largest = max(self.t_train.max(initial=-1), self.t_test.max(initial=-1))
        return max(int(largest) + 1, self._one_hot_columns)


def _labels(name: str, t: Any) -> tuple[np.ndarray, int]:
    """``t`` as int64 class indices, and its one-hot width (0 if it was not one-hot)."""
    t = np.asarray(t)
    if t.ndim == 2:  # one-hot, as load_mnist(one_hot_label=True) gives
        try:
            return one_hot_to_labels(t).astype(np.int64, copy=False), t.shape[1]
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.integer) or (t.size and t.min() < 0):
        raise ValueError(
            f"{name}: labels must be integers >= 0 of shape (N,) or one-hot of shape "
            f"(N, classes); got dtype {t.dtype} and shape {t.shape}"
        )
    return t.astype(np.int64, copy=False), 0


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "()"


# -- the configuration ------------------------------------------------------------------
class FieldError(ValueError):
    """An invalid :class:`Protocol` field, or one that does not fit the data; ``field``
    names it (the message starts with it too)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FieldSpec:
    """How one :class:`Protocol` field is checked, documented and read from text.

    ``ok(value)`` says whether a value is valid; ``valid`` says in words what
    is (the error reads ``"<field> must be <valid>, got <value>"``); ``parse``
    turns a command-line string into a value, ``text`` a value into one, and
    ``metavar`` is how ``--help`` shows it.
    """

    help: str
    valid: str
    ok: Callable[[Any], bool]
    parse: Callable[[str], Any] = str
    text: Callable[[Any], str] = str
    choices: tuple[str, ...] = ()
    #: how ``--help`` shows the value (the choices, if any, when empty)
    metavar: str = ""


def _is_int(v: Any, least: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= least


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _ok_weight_init(v: Any) -> bool:
    try:
        init_scale(v, 1)  # nn's own check: the names it knows or a positive finite std
    except (ValueError, TypeError):
        return False
    return True


def _parse_weight_init(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text.strip().lower()


def _parse_ints(text: str) -> tuple[int, ...] | str:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        return text  # not integers: the check reports it


def _spec(default: Any, spec: FieldSpec) -> Any:
    return field(default=default, metadata={"spec": spec})


def _choice(help: str, choices: tuple[str, ...]) -> FieldSpec:
    return FieldSpec(
        help,
        "one of " + ", ".join(repr(c) for c in choices),
        lambda v: isinstance(v, str) and v in choices,
        choices=choices,
    )


def _count(help: str, least: int) -> FieldSpec:
    extra = " (0 disables it)" if least == 0 else ""
    return FieldSpec(
        help, f"an integer >= {least}{extra}", lambda v: _is_int(v, least), int, metavar="INTEGER"
    )


@dataclass(frozen=True)
class Protocol:
    """Everything that defines a run besides the optimizer. Defaults: the seed's.

    Each field's check, help and command-line form is its :class:`FieldSpec`
    (``Protocol.spec(name)``); an invalid field raises ``ValueError`` naming it.
    """

    hidden: tuple[int, ...] = _spec(
        (100, 100, 100, 100),
        FieldSpec(
            "Hidden layer sizes.",
            "a non-empty list of integers >= 1 such as 100,100,100,100",
            lambda v: isinstance(v, tuple) and len(v) > 0 and all(_is_int(h, 1) for h in v),
            _parse_ints,
            lambda v: ",".join(map(str, v)),
            metavar="N,N,...",
        ),
    )
    activation: Literal["relu", "sigmoid"] = _spec(
        "relu", _choice("Hidden activation.", ACTIVATIONS)
    )
    weight_init: str | float = _spec(
        "relu",
        FieldSpec(
            "Initial weight std: relu/he = sqrt(2/n), sigmoid/xavier = sqrt(1/n), or a number.",
            "'relu', 'he', 'sigmoid', 'xavier' or a positive number",
            _ok_weight_init,
            _parse_weight_init,
            metavar="relu|he|sigmoid|xavier|NUMBER",
        ),
    )
    weight_decay: float = _spec(
        0.0,
        FieldSpec(
            "L2 weight decay lambda.",
            "a finite number >= 0",
            lambda v: _is_real(v) and 0 <= v < math.inf,
            float,
            metavar="FLOAT",
        ),
    )
    batch_size: int = _spec(128, _count("Mini-batch size (drawn with replacement).", 1))
    iterations: int = _spec(2000, _count("Updates per optimizer.", 1))
    dtype: Literal["float32", "float64"] = _spec(
        "float32", _choice("Floating-point type of the network.", DTYPES)
    )
    seed: int = _spec(
        0, _count("Seed of the initial weights and the batches (bit-for-bit reproducible).", 0)
    )
    same_init: bool = _spec(
        True,
        FieldSpec(
            "Start every optimizer from the same initial weights (the seed did not).",
            "True or False",
            lambda v: isinstance(v, bool | np.bool_),
        ),
    )
    eval_every: int = _spec(100, _count("Test accuracy every N iterations (0: never).", 0))
    loss_timing: Literal["post", "pre"] = _spec(
        "post",
        _choice(
            "Loss recorded per iteration: after the update on the same batch (post, the "
            "book's) or of the forward pass that gave the gradient (pre).",
            LOSS_TIMINGS,
        ),
    )
    draws: Literal["optimlab", "book"] = _spec(
        "optimlab",
        _choice(
            "Random draws: optimlab's (weights and batches from separate seeded streams) "
            "or the book's (np.random.seed(SEED), each network's weights in turn, then one "
            "np.random.choice per iteration; with --no-same-init --dtype float64 the losses "
            "are the book's optimizer_compare_mnist.py's).",
            ("optimlab", "book"),
        ),
    )

    def __post_init__(self) -> None:
        if isinstance(self.hidden, list):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        for f in fields(self):
            value, spec = getattr(self, f.name), self.spec(f.name)
            if not spec.ok(value):
                raise FieldError(f.name, f"{f.name} must be {spec.valid}, got {value!r}")

    @staticmethod
    def spec(name: str) -> FieldSpec:
        """The :class:`FieldSpec` of field ``name``."""
        return next(f.metadata["spec"] for f in fields(Protocol) if f.name == name)

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


def check_fits(protocol: Protocol, data: Dataset) -> None:
    """``ValueError`` if ``protocol`` cannot run on ``data``: a batch larger than the
    training set, or test accuracy asked of an empty test set (a :class:`FieldError`
    naming the field). Call it before anything is trained or queued."""
    _check_batch(protocol.batch_size, len(data.t_train))
    if protocol.eval_every > 0 and len(data.t_test) == 0:  # eval_points() would allocate
        raise FieldError(
            "eval_every",
            f"eval_every is {protocol.eval_every} but the test set is empty; give test "
            "samples or set eval_every to 0",
        )


def _check_batch(batch_size: int, n_train: int) -> None:
    if batch_size > n_train:
        raise FieldError(
            "batch_size",
            f"batch_size {batch_size} is larger than the training set ({n_train} samples); "
            f"valid: 1..{n_train}",
        )


# -- seeds, batches, initial weights ----------------------------------------------------
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
    _check_batch(protocol.batch_size, n_train)
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
    return [net.params for net in init_nets(protocol, input_size, output_size, n_runs)]


def init_nets(
    protocol: Protocol, input_size: int, output_size: int, n_runs: int
) -> list[MultiLayerNet]:
    """``n_runs`` separate networks, initialised as :func:`init_params` says."""
    if protocol.draws == "book":
        return _book_nets(protocol, input_size, output_size, n_runs)[0]
    children = _seeds(protocol.seed)[0].spawn(n_runs)
    return [
        _net(
            protocol,
            input_size,
            output_size,
            np.random.default_rng(children[0] if protocol.same_init else children[k]),
        )
        for k in range(n_runs)
    ]


def _net(protocol: Protocol, input_size: int, output_size: int, seed: Any) -> MultiLayerNet:
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
        stream = np.random.RandomState(protocol.seed) if shared else rs
        nets.append(_net(protocol, input_size, output_size, stream))
    return nets, rs


# -- runs and their results -------------------------------------------------------------
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
    seconds: Sequence[float] | np.ndarray,
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
