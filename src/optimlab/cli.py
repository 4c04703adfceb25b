"""The ``optimlab`` command: the book's two optimizer comparisons, with figures.

``optimlab paths`` draws rules' paths on 2-D functions, ``optimlab compare``
trains the book's MNIST network once per rule, ``optimlab demo`` runs both with
the book's settings. Each command parses its options, calls one function,
writes its files and prints where they went.

Output files are rendered in full and then replaced together
(:func:`optimlab.results_io.commit_files`); a closed standard output (``optimlab
compare | head -1``) is ignored, so results still reach ``--out``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from . import __version__
from .cli_chapter6 import register as register_chapter6
from .cli_chapter6 import run_chapter
from .cli_options import (
    Point,
    engine_option,
    load_data,
    optimizer_option,
    out_option,
    protocol_options,
    run_inputs,
    writable_out,
)
from .experiments.compare import (
    DEFAULT_OPTIMIZERS,
    CompareResult,
    available_memory,
    estimate_memory,
    format_losses,
    run_compare,
)
from .experiments.paths import MAX_STEPS, PathsResult, optimizer_labels, run_paths
from .functions import FUNCTIONS, Function2D, get_function
from .protocol import Dataset, Protocol
from .results_io import OutputError, save_compare, save_paths

__all__ = ["main"]


class _PipeSafe:
    """A text stream that keeps working after its reader has gone (``| head -1``).

    The first ``BrokenPipeError`` points the file descriptor at ``/dev/null``
    (so the interpreter's final flush is quiet too); from then on output is
    dropped and the command carries on, so its files are still written.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"" for binary streams
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not self._gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        self._gone = True
        with contextlib.suppress(OSError, ValueError):  # no descriptor (a test's buffer)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optimlab")
def main() -> None:
    """Learn, verify and fairly compare neural-network update rules.

    Start with `optimlab demo`: the book's two comparisons (chapter 6), figures
    in results/demo.
    """
    if not isinstance(sys.stdout, _PipeSafe):
        sys.stdout = _PipeSafe(sys.stdout)


# -- paths ---------------------------------------------------------------------------
@main.command()
@click.option(
    "--function",
    "function",
    type=click.Choice(list(FUNCTIONS)),
    default="bowl",
    show_default=True,
    help="Test function; bowl is the book's x²/20 + y².",
)
@click.option(
    "--start",
    type=Point(),
    default=None,
    help="Starting point X,Y.  [default: the function's; (-7,2) for bowl]",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1, max=MAX_STEPS),
    default=None,
    help=f"Number of updates, at most {MAX_STEPS}.  [default: the function's; 30 for bowl]",
)
@optimizer_option(
    help="Update rule as name[:key=value,...], repeatable; without lr it takes the "
    "function's rate for that rule.  [default: SGD, Momentum, AdaGrad, Adam, for bowl "
    "with the book's lr 0.95, 0.1, 1.5, 0.3; other functions use rates suited to them]"
)
@click.option(
    "--gif/--no-gif",
    default=False,
    show_default=True,
    help="Also write paths.gif: all paths drawn step by step on one panel.",
)
@out_option("results/paths")
def paths(
    function: str,
    start: tuple[float, float] | None,
    steps: int | None,
    optimizer: tuple[str, ...],
    gif: bool,
    out: Path,
) -> None:
    """Paths of update rules on a 2-D function (the book's optimizer_compare_naive.py).

    Writes paths.png (one panel per rule; on a quadratic, the closed-form
    gradient-descent / heavy-ball iterates as hollow circles), paths.csv
    (optimizer, step, x, y, f) and, with --gif, paths.gif.
    """
    fn = get_function(function)
    specs = optimizer or fn.optimizers
    _heading(_paths_heading(fn, specs, steps or fn.steps, gif))
    with _output_folder(out) as folder:
        _write_paths(run_paths(specs, fn, start, steps), folder, gif=gif)


def _paths_heading(fn: Function2D, specs: Sequence[str], steps: int, gif: bool) -> str:
    what = "paths.png, paths.csv" + (" and paths.gif (a few seconds)" if gif else "")
    return (
        f"Paths of {', '.join(optimizer_labels(specs))} on {fn.name} "
        f"(f = {fn.formula}), {steps} steps; drawing {what}"
    )


def _write_paths(result: PathsResult, out: Path, *, gif: bool) -> list[Path]:
    files = _save(save_paths, result, out, gif=gif)
    _echo_paths(result)
    _echo_written(files)
    return files


def _echo_paths(result: PathsResult) -> None:
    width = max(len(p.label) for p in result.paths)
    for p in result.paths:
        if p.diverged_at is not None:
            click.echo(f"{p.label:<{width}}  diverged at step {p.diverged_at}")
        else:
            x, y = p.xy[-1]
            click.echo(
                f"{p.label:<{width}}  after {result.steps} steps: "
                f"(x, y) = ({x:.4g}, {y:.4g}), f = {p.f[-1]:.4g}"
            )


# -- compare -------------------------------------------------------------------------
@main.command()
@optimizer_option(default=DEFAULT_OPTIMIZERS)
@protocol_options
@click.option(
    "--train-size",
    type=click.IntRange(min=1),
    default=None,
    help="Use the first N training samples.  [default: all]",
)
@click.option(
    "--test-size",
    type=click.IntRange(min=1),
    default=None,
    help="Use the first N test samples.  [default: all]",
)
@engine_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the fast engine, each with single-threaded BLAS "
    "(1: run in this process).  [default: the number of cores]",
)
@out_option("results/compare")
def compare(
    out: Path,
    engine: str,
    train_size: int | None,
    test_size: int | None,
    workers: int | None,
    **options,
) -> None:
    """Train the book's MNIST network once per rule on the same batches
    (the book's optimizer_compare_mnist.py).

    Prints each rule's loss every 100 iterations as the book does and writes
    loss.png (smoothed as in the book), accuracy.png, loss.csv and summary.json.
    """
    data, protocol, specs = run_inputs(**options)
    data = _subset(data, protocol, train_size, test_size)
    _check_memory(data, protocol, len(specs))
    sizes = f"{len(data.t_train)} training, {len(data.t_test)} test samples"
    _heading(_compare_heading(f"{data.name} ({sizes})", protocol, specs, engine))
    with _output_folder(out) as folder:
        result = _train(specs, data, protocol, engine, workers)
        files = _save(save_compare, result, folder)
    _echo_compare(result)
    _echo_written(files)


def _subset(
    data: Dataset, protocol: Protocol, train_size: int | None, test_size: int | None
) -> Dataset:
    """The first ``train_size``/``test_size`` samples; ``--train-size`` must hold a batch."""
    if train_size is None and test_size is None:
        return data
    n_train = len(data.t_train) if train_size is None else min(train_size, len(data.t_train))
    if protocol.batch_size > n_train:
        raise click.BadParameter(
            f"{n_train} training samples cannot fill a batch of {protocol.batch_size}; "
            f"valid: {protocol.batch_size}..{len(data.t_train)} (or a smaller --batch-size)",
            param_hint="'--train-size'",
        )
    return Dataset(
        data.x_train[:train_size],
        data.t_train[:train_size],
        data.x_test[:test_size],
        data.t_test[:test_size],
        name=data.name,
    )


#: the option that sets the size of each part of :func:`estimate_memory`
_MEMORY_OPTION = {
    "curves": "--iterations",
    "networks": "--hidden",
    "activations": "--hidden",
}


def _bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _check_memory(data: Dataset, protocol: Protocol, n_runs: int) -> None:
    """Refuse (``--iterations`` or ``--hidden``) a comparison that cannot fit in memory,
    before allocating anything, with the estimate and the machine's memory."""
    available = available_memory()
    n_inputs = int(data.x_train[:1].size) if len(data.x_train) else 0
    est = estimate_memory(protocol, n_inputs, data.n_classes, len(data.t_test), n_runs)
    if available is None or est.total <= 0.8 * available:
        return
    parts = ", ".join(f"{name} {_bytes(v)}" for name, v in est.parts.items())
    raise click.BadParameter(
        f"{n_runs} runs need about {_bytes(est.total)} of memory ({parts}), more than the "
        f"{_bytes(available)} this machine has available; choose a smaller value",
        param_hint=f"'{_MEMORY_OPTION[est.largest]}'",
    )


def _compare_heading(data: str, protocol: Protocol, specs: Sequence[str], engine: str) -> str:
    return (
        f"Training {', '.join(optimizer_labels(specs))} on {data}: "
        f"{protocol.iterations} iterations each, {engine} engine"
    )


def _train(
    specs: Sequence[str],
    data: Dataset,
    protocol: Protocol,
    engine: str,
    workers: int | None = None,
) -> CompareResult:
    """:func:`run_compare`, printing each rule's loss every 100 iterations as the book does
    (as training goes), with a progress bar on stderr when it is a terminal."""
    labels = optimizer_labels(specs)
    quiet = not sys.stderr.isatty()
    with tqdm(
        total=protocol.iterations,
        desc=f"{data.name}, {len(specs)} optimizers",
        unit="it",
        file=sys.stderr,
        disable=quiet,
        leave=False,
    ) as bar:

        def progress(i: int, losses) -> None:
            bar.update(i - bar.n)
            if (i - 1) % 100 == 0:  # the book prints after iterations 0, 100, ... (0-based)
                tqdm.write(format_losses(i - 1, labels, losses), file=sys.stdout)

        try:
            return run_compare(
                specs, data, protocol, engine=engine, workers=workers, progress=progress
            )
        except ValueError as exc:  # validated above; kept as a usage error if not
            raise click.UsageError(str(exc)) from None


def _echo_compare(result: CompareResult) -> None:
    click.echo("=========== result ===========")
    width = max(len(r.label) for r in result.runs)
    for run, s in zip(result.runs, result.smoothed, strict=True):
        if run.diverged_at is not None:
            click.echo(f"{run.label:<{width}}  diverged at iteration {run.diverged_at}")
            continue
        acc = (
            ""
            if run.final_accuracy != run.final_accuracy
            else f", test accuracy {100 * run.final_accuracy:.2f}%"
        )
        click.echo(f"{run.label:<{width}}  smoothed loss {s[-1]:.4f}{acc}, {run.seconds:.1f} s")


# -- demo ----------------------------------------------------------------------------
@main.command()
@engine_option
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=Protocol().iterations,
    show_default=True,
    help="MNIST iterations (the book's 2000; fewer for a quick look).",
)
@click.option(
    "--gif/--no-gif", default=True, show_default=True, help="Also write the animated paths.gif."
)
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Then the rest of chapter 6: activations, weight-init, batch-norm, regularize, "
    "hyperparams (each with its defaults, into OUT/<command>).",
)
@out_option("results/demo")
@click.pass_context
def demo(
    ctx: click.Context, engine: str, iterations: int, gif: bool, all_: bool, out: Path
) -> None:
    """Both of the book's comparisons with the book's settings, offline.

    Writes OUT/paths (paths.png, paths.csv, paths.gif) and OUT/compare (loss.png,
    accuracy.png, loss.csv, summary.json).
    """
    fn = get_function("bowl")
    protocol = Protocol(iterations=iterations)
    with _output_folder(out) as folder:
        _heading(
            "Part 1 of 2: the book's optimizer_compare_naive.py. "
            + _paths_heading(fn, fn.optimizers, fn.steps, gif)
        )
        _write_paths(run_paths(fn.optimizers, fn), folder / "paths", gif=gif)
        _heading(
            "Part 2 of 2: the book's optimizer_compare_mnist.py. "
            + _compare_heading("MNIST", protocol, DEFAULT_OPTIMIZERS, engine)
        )
        data = load_data("mnist")
        result = _train(DEFAULT_OPTIMIZERS, data, protocol, engine)
        files = _save(save_compare, result, folder / "compare")
    _echo_compare(result)
    _echo_written(files)
    if all_:
        run_chapter(ctx, out, engine)


# -- shared by the commands ----------------------------------------------------------
def _heading(text: str) -> None:
    """A line saying what starts now, before a part that takes a while."""
    click.echo(f"== {text}")


@contextlib.contextmanager
def _output_folder(out: Path) -> Iterator[Path]:
    """``--out`` created and checked writable (``click.BadParameter`` if not); if the
    command fails before writing into it, the folders it created are removed again."""
    created = [p for p in (out, *out.parents) if not p.exists()]
    folder = writable_out(out)
    try:
        yield folder
    except BaseException:
        for p in created:  # deepest first; only folders left empty
            with contextlib.suppress(OSError):
                p.rmdir()
        raise


def _save(save, result, out: Path, **kwargs) -> list[Path]:
    """``save(result, out)``, an :class:`OutputError` (full disk, ...) as one line, exit 1."""
    try:
        return save(result, out, **kwargs)
    except OutputError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # making the folder
        raise click.ClickException(f"cannot write to {out}: {exc.strerror or exc}") from None


def _echo_written(files: Sequence[Path]) -> None:
    click.echo("wrote:")
    for f in files:
        click.echo(f"  {f}")


# -- sweep, report (optimlab.sweep) --------------------------------------------------
from .sweep.cli import report as _report  # noqa: E402
from .sweep.cli import sweep as _sweep  # noqa: E402

main.add_command(_sweep)
main.add_command(_report)
register_chapter6(main)
