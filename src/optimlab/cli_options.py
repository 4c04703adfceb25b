"""Reusable click options for commands that run the MNIST protocol.

A command that trains (``optimlab compare``, a sweep) stacks the decorators and
turns what they parsed into the library's objects with one call::

    @click.command()
    @optimizer_option(default=DEFAULT_OPTIMIZERS)
    @protocol_options
    @engine_option
    @out_option("results/mycommand")
    def mycommand(out, engine, **options):
        out = writable_out(out)
        data, protocol, specs = run_inputs(**options)
        ...

Every option is validated while parsing: a bad value exits with status 2 and
a one-line message naming the option and what is valid. Click parameter types
(:class:`OptimizerSpec`, :class:`IntList`, :class:`WeightInit`, :class:`Point`)
are usable on their own.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .data import DATASETS, DataError, DataNotFoundError
from .data.errors import ChecksumSkippedWarning, SettingError
from .experiments.protocol import ENGINES, Dataset, Protocol
from .optim import create, names

__all__ = [
    "IntList",
    "OptimizerSpec",
    "Point",
    "WeightInit",
    "engine_option",
    "load_data",
    "make_protocol",
    "optimizer_option",
    "out_option",
    "protocol_options",
    "run_inputs",
    "writable_out",
]

_DEFAULT = Protocol()


# -- parameter types -----------------------------------------------------------------
class OptimizerSpec(click.ParamType):
    """``name[:key=value,...]`` of a registered rule, checked by building it."""

    name = "SPEC"

    def convert(self, value: Any, param, ctx) -> str:
        try:
            create(value)
        except (ValueError, TypeError) as exc:
            self.fail(str(exc), param, ctx)
        return value

    def get_metavar(self, param, ctx=None) -> str:  # click >= 8.2 passes ctx
        return "NAME[:KEY=VALUE,...]"


class IntList(click.ParamType):
    """Comma-separated positive integers, e.g. ``100,100,100,100`` -> ``(100, 100, 100, 100)``."""

    name = "N,N,..."

    def convert(self, value: Any, param, ctx) -> tuple[int, ...]:
        if isinstance(value, tuple | list):
            return tuple(value)
        try:
            out = tuple(int(v) for v in str(value).split(","))
        except ValueError:
            out = ()
        if not out or any(v < 1 for v in out):
            self.fail(
                f"expected comma-separated integers >= 1 such as 100,100,100,100, got {value!r}",
                param,
                ctx,
            )
        return out


class WeightInit(click.ParamType):
    """``relu``/``he`` (sqrt(2/n)), ``sigmoid``/``xavier`` (sqrt(1/n)) or a positive std."""

    name = "relu|he|sigmoid|xavier|NUMBER"
    NAMES = ("relu", "he", "sigmoid", "xavier")

    def convert(self, value: Any, param, ctx) -> str | float:
        if isinstance(value, float):
            return value
        text = str(value).strip().lower()
        if text in self.NAMES:
            return text
        try:
            std = float(text)
        except ValueError:
            std = -1.0
        if not std > 0 or std == float("inf"):
            self.fail(
                f"expected one of {', '.join(self.NAMES)} or a positive number, got {value!r}",
                param,
                ctx,
            )
        return std


class Point(click.ParamType):
    """A point ``X,Y`` of two finite numbers, e.g. ``-7,2``."""

    name = "X,Y"

    def convert(self, value: Any, param, ctx) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        parts = str(value).split(",")
        try:
            x, y = (float(p) for p in parts)
        except ValueError:
            self.fail(f"expected two numbers X,Y such as -7,2, got {value!r}", param, ctx)
        if not all(abs(v) < float("inf") for v in (x, y)):
            self.fail(f"expected two finite numbers X,Y, got {value!r}", param, ctx)
        return x, y


# -- option decorators ---------------------------------------------------------------
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _stack(*decorators: Decorator) -> Decorator:
    def apply(f):
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


def optimizer_option(default: Sequence[str] = (), help: str | None = None) -> Decorator:
    """``--optimizer SPEC`` (repeatable) -> ``optimizer: tuple[str, ...]`` (``default`` if
    none is given)."""
    return click.option(
        "--optimizer",
        "optimizer",
        type=OptimizerSpec(),
        multiple=True,
        default=tuple(default),
        show_default=bool(default),
        help=help
        or ("Update rule as name[:key=value,...], repeatable. Names: " + ", ".join(names()) + "."),
    )


#: ``--dataset --data-dir --iterations --batch-size --hidden --activation --weight-init
#: --weight-decay --dtype --seed --same-init/--no-same-init --eval-every``, defaults the
#: seed's (:class:`~optimlab.experiments.Protocol`).
protocol_options: Decorator = _stack(
    click.option(
        "--dataset",
        type=click.Choice(list(DATASETS)),
        default="mnist",
        show_default=True,
        help="Dataset (MNIST ships with optimlab).",
    ),
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder holding the four IDX files (.gz or raw) to use instead.",
    ),
    click.option(
        "--iterations",
        type=click.IntRange(min=1),
        default=_DEFAULT.iterations,
        show_default=True,
        help="Updates per optimizer.",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=_DEFAULT.batch_size,
        show_default=True,
        help="Mini-batch size (drawn with replacement).",
    ),
    click.option(
        "--hidden",
        type=IntList(),
        default=",".join(map(str, _DEFAULT.hidden)),
        show_default=True,
        help="Hidden layer sizes.",
    ),
    click.option(
        "--activation",
        type=click.Choice(["relu", "sigmoid"]),
        default=_DEFAULT.activation,
        show_default=True,
        help="Hidden activation.",
    ),
    click.option(
        "--weight-init",
        type=WeightInit(),
        default=str(_DEFAULT.weight_init),
        show_default=True,
        help="Initial weight std: relu/he = sqrt(2/n), sigmoid/xavier = sqrt(1/n), or a number.",
    ),
    click.option(
        "--weight-decay",
        type=click.FloatRange(min=0.0),
        default=_DEFAULT.weight_decay,
        show_default=True,
        help="L2 weight decay lambda.",
    ),
    click.option(
        "--dtype",
        type=click.Choice(["float32", "float64"]),
        default=_DEFAULT.dtype,
        show_default=True,
        help="Floating-point type of the network.",
    ),
    click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=_DEFAULT.seed,
        show_default=True,
        help="Seed of the initial weights and the batches (bit-for-bit reproducible).",
    ),
    click.option(
        "--same-init/--no-same-init",
        default=_DEFAULT.same_init,
        show_default=True,
        help="Start every optimizer from the same initial weights (the book did not).",
    ),
    click.option(
        "--eval-every",
        type=click.IntRange(min=0),
        default=_DEFAULT.eval_every,
        show_default=True,
        help="Test accuracy every N iterations (0: never).",
    ),
)


def engine_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine fast|reference`` -> ``engine: str`` (default ``fast``)."""
    return click.option(
        "--engine",
        type=click.Choice(list(ENGINES)),
        default="fast",
        show_default=True,
        help="fast: the batched engine; reference: the book's classes step by step. Same "
        "numbers in float64; in float32 they differ from about the 4th digit.",
    )(f)


def out_option(default: str) -> Decorator:
    """``--out DIR`` -> ``out: Path`` (default ``default``); check it with :func:`writable_out`."""
    return click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=default,
        show_default=True,
        help="Folder to write into (created if needed).",
    )


# -- from options to the library's objects ------------------------------------------
def writable_out(out: str | os.PathLike) -> Path:
    """Create ``out`` and check it is writable; ``click.BadParameter`` on ``--out`` if not."""
    from .results_io import check_writable

    try:
        return check_writable(out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.BadParameter(
            f"cannot write to {os.fspath(out)!r}: {reason}; give a writable folder",
            param_hint="'--out'",
        ) from None


_OPTION_OF = {
    "batch_size": "--batch-size",
    "iterations": "--iterations",
    "eval_every": "--eval-every",
    "dtype": "--dtype",
    "hidden": "--hidden",
    "seed": "--seed",
    "loss_timing": "--loss-timing",
}


def make_protocol(
    *,
    iterations: int,
    batch_size: int,
    hidden: Sequence[int],
    activation: str,
    weight_init: str | float,
    weight_decay: float,
    dtype: str,
    seed: int,
    same_init: bool,
    eval_every: int,
) -> Protocol:
    """A :class:`~optimlab.experiments.Protocol`; ``click.BadParameter`` naming the option."""
    try:
        return Protocol(
            hidden=tuple(hidden),
            activation=activation,
            weight_init=weight_init,
            weight_decay=weight_decay,
            batch_size=batch_size,
            iterations=iterations,
            dtype=dtype,
            seed=seed,
            same_init=same_init,
            eval_every=eval_every,
        )
    except ValueError as exc:
        msg = str(exc)
        hint = next((o for f, o in _OPTION_OF.items() if msg.startswith(f)), None)
        raise click.BadParameter(msg, param_hint=f"'{hint}'" if hint else None) from None


def load_data(dataset: str = "mnist", data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load ``dataset`` (from ``data_dir`` if given); warnings go to stderr, failures become
    ``click.BadParameter`` on ``--data-dir`` (or ``--dataset``)."""
    from .experiments.compare import load_dataset

    hint = "'--data-dir'" if data_dir is not None else "'--dataset'"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ChecksumSkippedWarning)
            data = load_dataset(dataset, data_dir)
    except SettingError as exc:  # an environment variable, not an option
        raise click.UsageError(str(exc)) from None
    except (DataError, DataNotFoundError, ValueError) as exc:  # each sentence a line
        lines = (" ".join(line.split()) for line in str(exc).splitlines())
        raise click.BadParameter(
            "\n".join(line for line in lines if line), param_hint=hint
        ) from None
    for w in caught:
        click.echo(f"warning: {' '.join(str(w.message).split())}", err=True)
    return data


def run_inputs(
    *, optimizer: Sequence[str], dataset: str, data_dir: str | os.PathLike | None, **protocol: Any
) -> tuple[Dataset, Protocol, list[str]]:
    """What :func:`optimizer_option` and :func:`protocol_options` parsed, as
    ``(Dataset, Protocol, optimizer specs)``. Checks the batch fits the training set."""
    proto = make_protocol(**protocol)
    data = load_data(dataset, data_dir)
    n_train = len(data.t_train)
    if proto.batch_size > n_train:
        raise click.BadParameter(
            f"{proto.batch_size} is larger than the training set "
            f"({n_train} samples); valid: 1..{n_train}",
            param_hint="'--batch-size'",
        )
    return data, proto, list(optimizer)
