"""``optimlab sweep`` and ``optimlab report``: parse options, call one function, print."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import click

from ..cli_options import (
    check_protocol_fits,
    engine_option,
    make_protocol,
    optimizer_option,
    out_option,
    protocol_options,
    writable_out,
)
from ..experiments.compare import DEFAULT_OPTIMIZERS
from .execute import SweepError, load_data, run_sweep
from .grid import DEFAULT_SEEDS, Problem, RunConfig, SweepPlan, default_target, parse_lrs
from .report import write_report
from .store import StoreError

__all__ = ["report", "sweep"]

DEFAULT_STORE = "results/optimlab.sqlite"


class LearningRates(click.ParamType):
    """``0.001,0.01,0.1``: comma-separated positive numbers."""

    name = "LR,LR,..."

    def convert(self, value: Any, param, ctx) -> tuple[float, ...]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_lrs(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _print_run(config: RunConfig, result: dict[str, Any], n: int, total: int) -> None:
    loss = result.get("final_smoothed_loss", math.nan)
    acc = result["final_accuracy"]
    what = (
        f"diverged at {result['diverged_at']}"
        if result["status"] == "diverged"
        else f"loss {loss:.4g}" + ("" if math.isnan(acc) else f", accuracy {100 * acc:.2f}%")
    )
    click.echo(
        f"[{n:>{len(str(total))}}/{total}] {config.stage:<7} {config.label} "
        f"lr={config.lr:g} seed={config.seed}: {what} ({result['wall_seconds']:.1f} s)"
    )


def _store_option(help: str):
    """``--store FILE`` (default ``results/optimlab.sqlite``) -> ``store: Path``."""
    return click.option(
        "--store",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_STORE,
        show_default=True,
        help=help,
    )


@click.command()
@optimizer_option(default=DEFAULT_OPTIMIZERS)
@click.option(
    "--lr",
    "lrs",
    type=LearningRates(),
    default=None,
    help="Learning rates of stage 1, e.g. 0.001,0.01,0.1.  [default: 13 log-spaced from 1e-4 to 1]",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=DEFAULT_SEEDS,
    show_default=True,
    help="Seeds of stage 2 (each optimizer's best learning rate, and the defaults).",
)
@click.option(
    "--defaults/--no-defaults",
    default=True,
    show_default=True,
    help="Also run each optimizer at its own default learning rate with the same "
    "seeds, for the untuned-vs-tuned ranking.",
)
@click.option(
    "--target",
    type=click.FloatRange(0, 1),
    default=None,
    help="Target test accuracy for time-to-target.  [default: 0.97 MNIST, 0.85 Fashion-MNIST]",
)
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
@_store_option("SQLite file holding every run (created if missing; rerun to resume).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes, each with single-threaded BLAS (1: run in this "
    "process).  [default: the number of cores]",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Run on this Dask scheduler instead (also DASK_SCHEDULER_ADDRESS); needs "
    "pip install optimlab[dask].",
)
def sweep(
    optimizer: tuple[str, ...],
    lrs: tuple[float, ...] | None,
    seeds: int,
    defaults: bool,
    target: float | None,
    dataset: str,
    data_dir: Path | None,
    train_size: int | None,
    test_size: int | None,
    engine: str,
    store: Path,
    workers: int | None,
    scheduler: str | None,
    seed: int,
    **protocol: Any,
) -> None:
    """Tune each optimizer's learning rate, then rerun the best with several seeds.

    Stage 1 trains every optimizer at every --lr with one seed and picks each
    optimizer's learning rate by the lowest final smoothed training loss (ties:
    the smaller rate; diverged runs never). Stage 2 reruns the choice with
    --seeds seeds. Every run goes to --store as it finishes; the same command
    again skips finished runs and reruns those a killed sweep left behind.
    Then: optimlab report --store STORE --out DIR.
    """
    proto = make_protocol(seed=0, **protocol)
    ddir = None if data_dir is None else os.fspath(data_dir)
    problem = Problem(dataset, proto, train_size, test_size, ddir)
    try:
        data = load_data(dataset, train_size=train_size, test_size=test_size, data_dir=ddir)
    except (OSError, ValueError) as exc:  # DataError is a ValueError/OSError subclass
        raise click.BadParameter(
            " ".join(str(exc).split()), param_hint="'--data-dir'" if ddir else "'--dataset'"
        ) from None
    check_protocol_fits(proto, data)  # before anything is queued
    try:
        plan = SweepPlan(
            problem,
            optimizer,
            lrs=lrs or parse_lrs(None),
            seeds=seeds,
            base_seed=seed,
            defaults=defaults,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--optimizer'") from None
    target = default_target(dataset) if target is None else target
    try:
        summary = run_sweep(
            plan,
            store,
            target=target,
            workers=workers,
            scheduler=scheduler,
            engine=engine,
            progress=_print_run,
        )
    except StoreError as exc:  # bad input: exit 2 like every other bad option
        raise click.BadParameter(str(exc), param_hint="'--store'") from None
    except SweepError as exc:  # a failure while running: exit 1
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"sweep {summary.sweep_id} ({summary.executor}): {summary.total} runs, "
        f"{summary.computed} computed now, {summary.skipped} already in the store"
    )
    for label, choice in summary.best.items():
        if choice.lr is None:
            click.echo(f"  {label}: every stage-1 run diverged; no learning rate chosen")
        else:
            tie = f" (tied with {', '.join(f'{t:g}' for t in choice.ties)})" if choice.ties else ""
            click.echo(
                f"  {label}: best lr {choice.lr:g}{tie}, final smoothed loss {choice.loss:.4g}"
            )
    click.echo(f"store: {store}\nnext: optimlab report --store {store} --out results/report")


@click.command()
@_store_option("SQLite file of a sweep.")
@out_option("results/report")
@click.option(
    "--sweep",
    "sweep_id",
    default=None,
    help="Which sweep of the store (id or prefix).  [default: the latest]",
)
@click.option(
    "--target",
    type=click.FloatRange(0, 1),
    default=None,
    help="Target test accuracy.  [default: the sweep's]",
)
def report(store: Path, out: Path, sweep_id: str | None, target: float | None) -> None:
    """A sweep's results: report.html (images embedded), PNGs and runs.csv."""
    out = writable_out(out)
    try:
        files = write_report(store, out, sweep_id=sweep_id, target=target)
    except StoreError as exc:
        raise click.BadParameter(str(exc), param_hint="'--store'") from None
    click.echo("wrote:")
    for f in files:
        click.echo(f"  {f}")
