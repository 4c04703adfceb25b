"""``optimlab activations | weight-init | batch-norm | regularize | hyperparams``: the rest
of chapter 6, one command per experiment of the book.

Each command parses its options (named and checked as ``compare``'s where they
mean the same), calls one library function, prints results as they come,
writes NAME.png, NAME.csv and NAME.json into ``--out`` and prints where they
went. A progress bar shows on stderr when it is a terminal. ``register`` adds
the commands to the ``optimlab`` group; :func:`run_chapter` is ``demo --all``'s.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from .cli_options import (
    IntList,
    OptimizerSpec,
    engine_option,
    load_data,
    make_protocol,
    out_option,
    writable_out,
)
from .data import DATASETS
from .experiments.activations import run_activations
from .experiments.batch_norm import default_scales, run_batch_norm
from .experiments.hyperparams import HyperparamSearch
from .experiments.regularize import Setting, run_regularize
from .experiments.weight_init import INITS, run_weight_init
from .results_chapter6 import save_result
from .sweep.execute import SweepError
from .sweep.store import StoreError
from .sweep.trials import run_search

__all__ = ["register", "run_chapter"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


# -- options shared by these commands (as compare's) -----------------------------------
def _options(*decorators: Decorator) -> Decorator:
    def apply(f):
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


def _data_options() -> Decorator:
    return _options(
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
    )


def _hidden_option(default: Sequence[int]) -> Decorator:
    return click.option(
        "--hidden",
        type=IntList(),
        default=",".join(map(str, default)),
        show_default=True,
        help="Hidden layer sizes.",
    )


def _int_option(name: str, default: int | None, help: str, minimum: int = 1) -> Decorator:
    return click.option(
        name,
        type=click.IntRange(min=minimum),
        default=default,
        show_default=default is not None,
        help=help,
    )


_seed_option = _int_option(
    "--seed", 0, "Seed of every random draw (bit-for-bit reproducible).", minimum=0
)
_dtype_option = click.option(
    "--dtype",
    type=click.Choice(["float32", "float64"]),
    default="float32",
    show_default=True,
    help="Floating-point type of the networks.",
)
_workers_option = _int_option(
    "--workers", None, "Local processes to spread the runs over.  [default: the cores]"
)


def _optimizer_option(default: str = "sgd:lr=0.01") -> Decorator:
    return click.option(
        "--optimizer",
        type=OptimizerSpec(),
        default=default,
        show_default=True,
        help="Update rule as name[:key=value,...] (the book's SGD with lr 0.01).",
    )


def _fits(value: int | None, n: int, option: str) -> None:
    if value is not None and value > n:
        raise click.BadParameter(
            f"{value} is larger than the set ({n} samples); valid: 1..{n}", param_hint=f"'{option}'"
        )


def _usage(fn: Callable[[], Any]) -> Any:
    """``fn()``, its ``ValueError`` (bad input the options could not see) as a usage error."""
    try:
        return fn()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@contextmanager
def _bar(total: int, desc: str, unit: str) -> Iterator[Any]:
    """A tqdm bar on stderr, shown only on a terminal; lines printed through ``bar.write``."""
    with tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    ) as bar:
        yield bar


def _say(bar: Any, text: str) -> None:
    bar.write(text, file=sys.stdout)


def _write(result: Any, out: Path, name: str, top: int = 20) -> None:
    files = save_result(result, out, name, top)
    click.echo("wrote:")
    for f in files:
        click.echo(f"  {f}")


# -- activations -----------------------------------------------------------------------
@click.command()
@_int_option("--layers", 5, "Layers the random inputs go through.")
@_int_option("--units", 100, "Units per layer (and values per input).")
@_int_option("--samples", 1000, "Random standard-normal inputs.")
@_seed_option
@out_option("results/activations")
def activations(layers: int, units: int, samples: int, seed: int, out: Path) -> None:
    """Histograms of each layer's activations for weight std 1, 0.01, Xavier and He, and
    sigmoid, tanh and ReLU (the book's weight_init_activation_histogram.py).

    Writes activations.png (rows: settings, columns: layers), activations.csv
    (the counts) and activations.json (each layer's std).
    """
    out = writable_out(out)
    with _bar(1, "activations", "grid") as bar:
        result = run_activations(layers=layers, units=units, samples=samples, seed=seed)
        bar.update(1)
    click.echo(repr(result))
    _write(result, out, "activations")


# -- weight-init -----------------------------------------------------------------------
@click.command("weight-init")
@_optimizer_option()
@_data_options()
@_int_option("--iterations", 2000, "Updates per run.")
@_int_option("--batch-size", 128, "Mini-batch size (drawn with replacement).")
@_hidden_option((100, 100, 100, 100))
@_dtype_option
@_seed_option
@_int_option("--eval-every", 100, "Test accuracy every N iterations (0: never).", minimum=0)
@engine_option
@out_option("results/weight-init")
def weight_init(
    optimizer: str,
    dataset: str,
    data_dir: Path | None,
    iterations: int,
    batch_size: int,
    hidden: tuple[int, ...],
    dtype: str,
    seed: int,
    eval_every: int,
    engine: str,
    out: Path,
) -> None:
    """Train the seed's network from std 0.01, Xavier and He initial weights on the same
    batches (the book's weight_init_compare.py).

    Prints each run's loss every 100 iterations; writes weight-init.png (smoothed
    loss as in the book, and test accuracy), weight-init.csv and weight-init.json.
    """
    out = writable_out(out)
    protocol = make_protocol(
        iterations=iterations,
        batch_size=batch_size,
        hidden=hidden,
        activation="relu",
        weight_init="relu",
        weight_decay=0.0,
        dtype=dtype,
        seed=seed,
        same_init=True,
        eval_every=eval_every,
    )
    data = load_data(dataset, data_dir)
    _fits(batch_size, len(data.t_train), "--batch-size")
    with _bar(iterations * len(INITS), "weight-init", "it") as bar:

        def progress(label: str, i: int, loss: float) -> None:
            bar.update(1)
            if (i - 1) % 100 == 0:
                _say(bar, f"{label:<9} iteration {i - 1:>5}: loss {loss:.4f}")

        result = _usage(
            lambda: run_weight_init(
                data, protocol, optimizer=optimizer, engine=engine, progress=progress
            )
        )
    click.echo(repr(result))
    _write(result, out, "weight-init")


# -- batch-norm ------------------------------------------------------------------------
@click.command("batch-norm")
@_optimizer_option()
@_data_options()
@_int_option("--train-size", 1000, "Training images used (the first N).")
@_int_option("--epochs", 20, "Epochs (one evaluation each).")
@_int_option("--batch-size", 100, "Mini-batch size (drawn with replacement).")
@_hidden_option((100,) * 5)
@_int_option("--scales", 16, "Initial weight stds, logspace(0, -4, N).")
@_dtype_option
@_seed_option
@engine_option
@_workers_option
@out_option("results/batch-norm")
def batch_norm(
    optimizer: str,
    dataset: str,
    data_dir: Path | None,
    train_size: int,
    epochs: int,
    batch_size: int,
    hidden: tuple[int, ...],
    scales: int,
    dtype: str,
    seed: int,
    engine: str,
    workers: int | None,
    out: Path,
) -> None:
    """Training accuracy with and without batch normalisation at initial weight stds
    logspace(0, -4, 16) (the book's batch_norm_test.py).

    Writes batch-norm.png (the book's 4x4 grid), batch-norm.csv and batch-norm.json.
    """
    out = writable_out(out)
    data = load_data(dataset, data_dir)
    _fits(train_size, len(data.t_train), "--train-size")
    ws = default_scales(scales)
    with _bar(2 * len(ws), "batch-norm", "run") as bar:

        def progress(w: float, bn: bool, c: Any) -> None:
            bar.update(1)
            what = "with BN   " if bn else "without BN"
            _say(bar, f"W {w:<9.4g} {what}: final training accuracy {c.accuracy['train'][-1]:.4f}")

        result = _usage(
            lambda: run_batch_norm(
                data,
                scales=ws,
                train_size=train_size,
                hidden=hidden,
                batch_size=batch_size,
                epochs=epochs,
                optimizer=optimizer,
                seed=seed,
                dtype=dtype,
                engine=engine,
                workers=workers,
                progress=progress,
            )
        )
    click.echo(repr(result))
    _write(result, out, "batch-norm")


# -- regularize ------------------------------------------------------------------------
@click.command()
@_optimizer_option()
@_data_options()
@_int_option("--train-size", 300, "Training images used (the first N).")
@_int_option("--test-size", None, "Test images used (the first N).  [default: all]")
@_int_option("--epochs", None, "Epochs of every setting.  [default: the book's 201, 201, 301]")
@_int_option("--batch-size", 100, "Mini-batch size (drawn with replacement).")
@_hidden_option((100,) * 6)
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0.0, min_open=True),
    default=0.1,
    show_default=True,
    help="L2 weight decay lambda of the weight-decay setting.",
)
@click.option(
    "--dropout",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Dropout ratio of the dropout setting.",
)
@_dtype_option
@_seed_option
@engine_option
@_workers_option
@out_option("results/regularize")
def regularize(
    optimizer: str,
    dataset: str,
    data_dir: Path | None,
    train_size: int,
    test_size: int | None,
    epochs: int | None,
    batch_size: int,
    hidden: tuple[int, ...],
    weight_decay: float,
    dropout: float,
    dtype: str,
    seed: int,
    engine: str,
    workers: int | None,
    out: Path,
) -> None:
    """Overfitting on 300 images and two cures: no regularisation, weight decay 0.1 and
    dropout 0.2 (the book's overfit_weight_decay.py and overfit_dropout.py).

    Writes regularize.png (train and test accuracy per epoch, one panel per setting),
    regularize.csv and regularize.json.
    """
    out = writable_out(out)
    data = load_data(dataset, data_dir)
    _fits(train_size, len(data.t_train), "--train-size")
    _fits(test_size, len(data.t_test), "--test-size")
    settings = (
        Setting("no regularization", epochs or 201),
        Setting(f"weight decay λ={weight_decay:g}", epochs or 201, weight_decay=weight_decay),
        Setting(f"dropout {dropout:g}", epochs or 301, dropout=dropout),
    )
    with _bar(len(settings), "regularize", "setting") as bar:

        def progress(s: Any, c: Any) -> None:
            bar.update(1)
            tr, te = c.accuracy["train"][-1], c.accuracy["test"][-1]
            _say(bar, f"{s.name:<20} train {tr:.4f}, test {te:.4f}, gap {tr - te:.4f}")

        result = _usage(
            lambda: run_regularize(
                data,
                settings=settings,
                train_size=train_size,
                test_size=test_size,
                hidden=hidden,
                batch_size=batch_size,
                optimizer=optimizer,
                seed=seed,
                dtype=dtype,
                engine=engine,
                workers=workers,
                progress=progress,
            )
        )
    click.echo(repr(result))
    _write(result, out, "regularize")


# -- hyperparams -----------------------------------------------------------------------
class Exponents(click.ParamType):
    """``LO,HI``: two exponents of 10, LO < HI, e.g. ``-6,-2``."""

    name = "LO,HI"

    def convert(self, value: Any, param, ctx) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        try:
            lo, hi = (float(v) for v in str(value).split(","))
        except ValueError:
            self.fail(f"expected two exponents LO,HI such as -6,-2, got {value!r}", param, ctx)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            self.fail(f"expected two finite exponents with LO < HI, got {value!r}", param, ctx)
        return lo, hi


@click.command()
@_data_options()
@_int_option("--trials", 100, "Random (lr, weight decay) pairs tried.")
@_int_option("--epochs", 50, "Epochs per trial.")
@_int_option("--train-size", 500, "Images used (the first N; part of them for validation).")
@click.option(
    "--val-fraction",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of the shuffled images held out for validation.",
)
@click.option(
    "--lr-range",
    type=Exponents(),
    default="-6,-2",
    show_default=True,
    help="lr = 10^U(LO, HI).",
)
@click.option(
    "--weight-decay-range",
    type=Exponents(),
    default="-8,-4",
    show_default=True,
    help="Weight decay = 10^U(LO, HI).",
)
@_int_option("--batch-size", 100, "Mini-batch size (drawn with replacement).")
@_hidden_option((100,) * 6)
@_int_option("--top", 20, "Trials drawn in the grid of curves.")
@_dtype_option
@_seed_option
@engine_option
@_workers_option
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler (tcp://HOST:PORT) to run the trials on.  "
    "[default: $DASK_SCHEDULER_ADDRESS, else local processes]",
)
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default="results/optimlab.sqlite",
    show_default=True,
    help="SQLite store of the trials (the sweep's; an interrupted search resumes from it).",
)
@out_option("results/hyperparams")
def hyperparams(
    dataset: str,
    data_dir: Path | None,
    trials: int,
    epochs: int,
    train_size: int,
    val_fraction: float,
    lr_range: tuple[float, float],
    weight_decay_range: tuple[float, float],
    batch_size: int,
    hidden: tuple[int, ...],
    top: int,
    dtype: str,
    seed: int,
    engine: str,
    workers: int | None,
    scheduler: str | None,
    store: Path,
    out: Path,
) -> None:
    """Random search of lr and weight decay (the book's hyperparameter_optimization.py),
    trials in parallel through the sweep's executors and store.

    Prints each trial as it finishes, then the ranked table; writes hyperparams.png
    (the best trials' validation and training curves), hyperparams_scatter.png,
    hyperparams.csv and hyperparams.json. Rerun the same command to resume an
    interrupted search; `optimlab report --store STORE` lists its runs.
    """
    out = writable_out(out)
    data = load_data(dataset, data_dir)  # checks the data before any trial starts
    _fits(train_size, len(data.t_train), "--train-size")
    search = _usage(
        lambda: HyperparamSearch(
            trials=trials,
            epochs=epochs,
            train_size=train_size,
            val_fraction=val_fraction,
            lr_range=lr_range,
            weight_decay_range=weight_decay_range,
            hidden=hidden,
            batch_size=batch_size,
            seed=seed,
            dtype=dtype,
            dataset=dataset,
            data_dir=None if data_dir is None else str(data_dir),
        )
    )
    with _bar(trials, "hyperparams", "trial") as bar:

        def progress(trial: Any, record: dict[str, Any], done: int, total: int) -> None:
            bar.update(done - bar.n)
            _say(
                bar,
                f"[{done:>{len(str(total))}}/{total}] val acc:{record['final_accuracy']} | "
                f"lr:{trial.lr}, weight decay:{trial.weight_decay}",
            )

        try:
            result = run_search(
                search,
                store,
                workers=workers,
                scheduler=scheduler,
                engine=engine,
                progress=progress,
            )
        except StoreError as exc:
            raise click.BadParameter(str(exc), param_hint="'--store'") from None
        except SweepError as exc:
            raise click.UsageError(str(exc)) from None
    click.echo("=========== Hyper-Parameter Optimization Result ===========")
    click.echo(result.table(top=top))
    click.echo(f"store: {store} (search {search.search_id})")
    _write(result, out, "hyperparams", top)


# -- the chapter at once ---------------------------------------------------------------
COMMANDS = (activations, weight_init, batch_norm, regularize, hyperparams)


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    for cmd in COMMANDS:
        group.add_command(cmd)


def run_chapter(ctx: click.Context, out: Path, engine: str) -> None:
    """Every command of this module with its defaults, into ``out/<command>`` (``demo --all``);
    the search's store is ``out/optimlab.sqlite``."""
    for cmd in COMMANDS:
        click.echo(f"=========== optimlab {cmd.name} ===========")
        kwargs: dict[str, Any] = {"out": out / str(cmd.name)}
        if cmd is hyperparams:
            kwargs["store"] = out / "optimlab.sqlite"
        if any(p.name == "engine" for p in cmd.params):
            kwargs["engine"] = engine
        ctx.invoke(cmd, **kwargs)
