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
a one-line message naming the option and what is valid. The protocol's options
are generated from :class:`~optimlab.protocol.Protocol`'s fields: each field's
default, check and help are declared once, there. Click parameter types
(:class:`OptimizerSpec`, :class:`ProtocolField`, :class:`IntList`, :class:`Point`) are usable on
their own.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .data import DATASETS, DataError, DataNotFoundError
from .data.errors import ChecksumSkippedWarning, SettingError
from .experiments.compare import load_dataset
from .experiments.training import ENGINES
from .optim import create, names
from .protocol import Dataset, FieldError, FieldSpec, Protocol, check_fits
from .results_io import check_writable

__all__ = [
    "IntList",
    "OptimizerSpec",
    "Point",
    "ProtocolField",
    "check_protocol_fits",
    "engine_option",
    "load_data",
    "make_protocol",
    "optimizer_option",
    "option_name",
    "out_option",
    "protocol_options",
    "run_inputs",
    "writable_out",
]


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


class ProtocolField(click.ParamType):
    """A :class:`~optimlab.protocol.Protocol` field read from text: parsed and checked by
    the field's own :class:`~optimlab.protocol.FieldSpec` (one check, the protocol's)."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.spec = Protocol.spec(field)
        self.name = self.spec.metavar or "[" + "|".join(self.spec.choices) + "]"

    def get_metavar(self, param, ctx=None) -> str:  # click >= 8.2 passes ctx
        return self.name

    def convert(self, value: Any, param, ctx) -> Any:
        try:
            v = self.spec.parse(value) if isinstance(value, str) else value
        except ValueError:
            v = value  # not a number: the check below reports it
        if not self.spec.ok(v):
            self.fail(f"expected {self.spec.valid}, got {value!r}", param, ctx)
        return v


class IntList(ProtocolField):
    """Comma-separated integers >= 1, e.g. ``100,100,100,100`` -> ``(100, 100, 100, 100)``:
    the check of ``--hidden``, for other options of layer sizes."""

    def __init__(self) -> None:
        super().__init__("hidden")

    def convert(self, value: Any, param, ctx) -> Any:
        return super().convert(tuple(value) if isinstance(value, list) else value, param, ctx)


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


def option_name(field: str) -> str:
    """The command-line option of a :class:`~optimlab.protocol.Protocol` field."""
    return "--" + field.replace("_", "-")


def _field_option(f: dataclasses.Field) -> Decorator:
    """The option of one protocol field: its name, default, check and help from the field."""
    spec: FieldSpec = f.metadata["spec"]
    if f.type in ("bool", bool):
        opt = f"{option_name(f.name)}/--no-{option_name(f.name)[2:]}"
        return click.option(opt, f.name, default=f.default, show_default=True, help=spec.help)
    return click.option(
        option_name(f.name),
        f.name,
        type=ProtocolField(f.name),
        default=spec.text(f.default),
        show_default=True,
        help=spec.help,
    )


#: ``--dataset --data-dir`` and one option per :class:`~optimlab.protocol.Protocol` field
#: (``--hidden``, ``--batch-size``, ``--same-init/--no-same-init``...), defaults the seed's
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
    *(_field_option(f) for f in dataclasses.fields(Protocol)),
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
    try:
        return check_writable(out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.BadParameter(
            f"cannot write to {os.fspath(out)!r}: {reason}; give a writable folder",
            param_hint="'--out'",
        ) from None


def _bad_field(exc: FieldError) -> click.BadParameter:
    return click.BadParameter(str(exc), param_hint=f"'{option_name(exc.field)}'")


def make_protocol(**options: Any) -> Protocol:
    """A :class:`~optimlab.protocol.Protocol` from parsed options (one keyword per field;
    a field not given keeps its default); ``click.BadParameter`` naming the option."""
    try:
        return Protocol(**options)
    except FieldError as exc:
        raise _bad_field(exc) from None


def load_data(
    dataset: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
) -> Dataset:
    """Load ``dataset`` (from ``data_dir`` if given; the first ``train_size``/``test_size``
    samples); warnings go to stderr, failures become ``click.BadParameter`` on
    ``--data-dir`` (or ``--dataset``)."""
    hint = "'--data-dir'" if data_dir is not None else "'--dataset'"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ChecksumSkippedWarning)
            data = load_dataset(dataset, data_dir, train_size=train_size, test_size=test_size)
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
    ``(Dataset, Protocol, optimizer specs)``, checked to fit
    (:func:`~optimlab.protocol.check_fits`)."""
    proto = make_protocol(**protocol)
    data = load_data(dataset, data_dir)
    check_protocol_fits(proto, data)
    return data, proto, list(optimizer)


def check_protocol_fits(protocol: Protocol, data: Dataset) -> None:
    """:func:`~optimlab.protocol.check_fits`; ``click.BadParameter`` naming the option."""
    try:
        check_fits(protocol, data)
    except FieldError as exc:
        raise _bad_field(exc) from None
