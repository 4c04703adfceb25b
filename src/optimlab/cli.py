"""The ``optimlab`` command: the book's two optimizer comparisons, with figures.

``optimlab paths`` draws rules' paths on 2-D functions, ``optimlab compare``
trains the seed's MNIST network once per rule, ``optimlab demo`` runs both with
the seed's settings. Each command parses its options, calls one function,
writes its files and prints where they went.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from . import __version__
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
    format_losses,
    run_compare,
)
from .experiments.paths import PathsResult, optimizer_labels, run_paths
from .experiments.protocol import Dataset, Protocol
from .functions import FUNCTIONS, get_function
from .results_io import save_compare, save_paths

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optimlab")
def main() -> None:
    """Learn, verify and fairly compare neural-network update rules.

    Start with `optimlab demo`: the book's two comparisons (chapter 6), figures
    in results/demo.
    """


# -- paths ---------------------------------------------------------------------------
@main.command()
@click.option(
    "--function",
    "function",
    type=click.Choice(list(FUNCTIONS)),
    default="bowl",
    show_default=True,
    help="Test function; bowl is the seed's x²/20 + y².",
)
@click.option(
    "--start",
    type=Point(),
    default=None,
    help="Starting point X,Y.  [default: the function's; (-7,2) for bowl]",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=None,
    help="Number of updates.  [default: the function's; 30 for bowl]",
)
@optimizer_option(
    help="Update rule as name[:key=value,...], repeatable.  [default: SGD, "
    "Momentum, AdaGrad, Adam, for bowl with the seed's lr 0.95, 0.1, 1.5, "
    "0.3; other functions use rates suited to them]"
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

    Writes paths.png (one panel per rule; on the quadratic bowl, the closed-form
    gradient-descent / heavy-ball iterates dashed grey), paths.csv (optimizer,
    step, x, y, f) and, with --gif, paths.gif.
    """
    out = writable_out(out)
    fn = get_function(function)
    result = run_paths(optimizer or fn.optimizers, fn, start, steps)
    files = save_paths(result, out, gif=gif)
    _echo_paths(result)
    _echo_written(files)


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
@engine_option
@out_option("results/compare")
def compare(out: Path, engine: str, **options) -> None:
    """Train the seed's MNIST network once per rule on the same batches
    (the book's optimizer_compare_mnist.py).

    Prints each rule's loss every 100 iterations as the seed does and writes
    loss.png (smoothed as in the book), accuracy.png, loss.csv and summary.json.
    """
    out = writable_out(out)
    data, protocol, specs = run_inputs(**options)
    result = _train(specs, data, protocol, engine)
    files = save_compare(result, out)
    _echo_compare(result)
    _echo_written(files)


def _train(specs: Sequence[str], data: Dataset, protocol: Protocol, engine: str) -> CompareResult:
    """:func:`run_compare`, printing each rule's loss every 100 iterations as the seed does
    (as training goes), with a progress bar on stderr when it is a terminal."""
    from tqdm import tqdm

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
            if (i - 1) % 100 == 0:  # the seed prints after iterations 0, 100, ... (0-based)
                tqdm.write(format_losses(i - 1, labels, losses), file=sys.stdout)

        try:
            return run_compare(specs, data, protocol, engine=engine, progress=progress)
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
    help="MNIST iterations (the seed's 2000; fewer for a quick look).",
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
    """Both of the book's comparisons with the seed's settings, offline.

    Writes OUT/paths (paths.png, paths.csv, paths.gif) and OUT/compare (loss.png,
    accuracy.png, loss.csv, summary.json).
    """
    out = writable_out(out)
    fn = get_function("bowl")
    path_result = run_paths(fn.optimizers, fn)
    files = save_paths(path_result, out / "paths", gif=gif)
    _echo_paths(path_result)
    data = load_data("mnist")
    result = _train(DEFAULT_OPTIMIZERS, data, Protocol(iterations=iterations), engine)
    files += save_compare(result, out / "compare")
    _echo_compare(result)
    _echo_written(files)
    if all_:
        from .cli_chapter6 import run_chapter

        run_chapter(ctx, out, engine)


def _echo_written(files: Sequence[Path]) -> None:
    click.echo("wrote:")
    for f in files:
        click.echo(f"  {f}")


# -- sweep, report (optimlab.sweep) --------------------------------------------------
from .sweep.cli import report as _report  # noqa: E402
from .sweep.cli import sweep as _sweep  # noqa: E402

main.add_command(_sweep)
main.add_command(_report)

from .cli_chapter6 import register as _register_chapter6  # noqa: E402

_register_chapter6(main)
