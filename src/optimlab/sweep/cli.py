"""``optimlab sweep`` and ``optimlab report``: parse options, call one function, print."""

from __future__ import annotations

import errno
import logging
import math
import os
import signal
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from ..cli_options import (
    check_protocol_fits,
    engine_option,
    load_data,
    make_protocol,
    optimizer_option,
    out_option,
    protocol_options,
    writable_out,
)
from ..data.errors import ChecksumSkippedWarning
from ..engine import default_workers
from ..experiments.compare import DEFAULT_OPTIMIZERS
from ..protocol import Dataset
from .execute import (
    SweepError,
    available_memory,
    check_scheduler_address,
    estimate_run_seconds,
    memory_per_run,
    run_sweep,
)
from .grid import (
    DEFAULT_LRS,
    DEFAULT_SEEDS,
    Problem,
    RunConfig,
    SweepPlan,
    default_target,
    parse_lrs,
)
from .report import ReportWriteError, render_report, summarize, write_files
from .store import StoreError, StoreWriteError

__all__ = ["report", "sweep"]

DEFAULT_STORE = "results/optimlab.sqlite"
#: the default sweep's size and its duration measured on this project's 2-core machine
DEFAULT_SIZE = (
    f"{len(DEFAULT_OPTIMIZERS)} optimizers x {len(DEFAULT_LRS)} learning rates, then "
    f"{DEFAULT_SEEDS} seeds of each default and tuned rate: "
    f"{len(DEFAULT_OPTIMIZERS) * (len(DEFAULT_LRS) + 2 * DEFAULT_SEEDS)} runs at most"
)


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


class Accuracy(click.ParamType):
    """A test accuracy: a number in [0, 1] (NaN refused)."""

    name = "ACC"

    def convert(self, value: Any, param, ctx) -> float:
        try:
            acc = float(value)
        except (TypeError, ValueError):
            acc = math.nan
        if not 0.0 <= acc <= 1.0:
            self.fail(
                f"expected an accuracy between 0 and 1 such as 0.97, got {value!r}", param, ctx
            )
        return acc


# -- output that survives a closed pipe ----------------------------------------------------


def _say(text: str, err: bool = False) -> None:
    """Print a line; if the reader went away (``| head -1``), keep working silently."""
    stream = sys.stderr if err else sys.stdout
    try:
        click.echo(text, file=stream)
        stream.flush()
    except OSError as exc:
        if not isinstance(exc, BrokenPipeError) and exc.errno != errno.EPIPE:
            raise
        _silence(stream)


def _silence(stream: Any) -> None:
    """Point a stream whose reader is gone at /dev/null, so later writes and the flush at exit
    do not fail."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


class _Console:
    """The sweep's output: the plan, one line per run with an ETA, a progress bar on a
    terminal's stderr (tqdm), notices."""

    def __init__(self, plan: SweepPlan, store: Path, per_run: float | None) -> None:
        self.plan = plan
        self.store = store
        self.per_run = per_run
        self.bar: Any = None
        self.walls: list[float] = []

    def start(self, summary: Any) -> None:
        p = self.plan
        n_opt, n_lr, seeds = len(p.optimizers), len(p.lrs), p.seeds
        stored = summary.stored_before
        proto = p.problem.protocol
        _say(
            f"plan: {n_opt} optimizer(s) ({', '.join(p.optimizers)}) on {p.problem.dataset}, "
            f"{proto.iterations} iterations a run"
        )
        _say(
            f"  stage 1:  {n_opt * n_lr:>3} runs ({n_opt} optimizers x {n_lr} learning rates, "
            "one seed)"
        )
        if p.defaults:
            _say(
                f"  defaults: {n_opt * seeds:>3} runs ({n_opt} optimizers at their own rate x "
                f"{seeds} seeds)"
            )
        _say(
            f"  stage 2:  {n_opt * seeds:>3} runs ({n_opt} optimizers at their chosen rate x "
            f"{seeds} seeds; a chosen rate equal to the default reuses those runs)"
        )
        where = {"serial": "in this process", "local": f"{summary.slots} local worker processes"}
        how = where.get(summary.executor, f"Dask, {summary.slots} threads")
        eta = ""
        if self.per_run is not None:
            todo = summary.planned - stored
            eta = (
                f"; about {_duration(math.ceil(todo / summary.slots) * self.per_run)} "
                f"({_duration(self.per_run)} a run, measured now)"
            )
        _say(f"  {summary.planned} runs at most, {stored} already stored; {how}{eta}")
        _say(
            f"  results: {self.store} (every run as it finishes; rerun the same command to resume)"
        )
        self.bar = tqdm(  # on a terminal only (disable=None): the lines below say it all
            total=summary.planned,
            unit="run",
            file=sys.stderr,
            dynamic_ncols=True,
            leave=False,
            disable=None,
        )

    def _eta(self, summary: Any) -> str:
        """Time left: the places left times the mean run time so far, over the parallel slots
        (worker start-up excluded; stage-2 runs that are default runs make it an upper bound)."""
        left = summary.planned - summary.position
        if not left or not self.walls:
            return ""
        per = sum(self.walls) / len(self.walls)
        return f" · ETA {_duration(per * math.ceil(left / summary.slots))}"

    def finished(self, config: RunConfig, result: dict[str, Any], summary: Any) -> None:
        loss = result.get("final_smoothed_loss", math.nan)
        acc = result["final_accuracy"]
        if result["status"] == "diverged":
            what = f"diverged at {result['diverged_at']}"
        else:
            what = f"loss {loss:.4g}" + ("" if math.isnan(acc) else f", accuracy {100 * acc:.2f}%")
            if not result.get("learned", True):
                what = f"did not learn ({what})"
        self.walls.append(float(result["wall_seconds"]))
        n, total = summary.position, summary.planned
        line = (
            f"[{n:>{len(str(total))}}/{total}] {config.stage:<7} {config.label} "
            f"lr={config.lr:g} seed={config.seed}: {what} ({result['wall_seconds']:.1f} s)"
            f"{self._eta(summary)}"
        )
        self._line(line)
        self._bar(1)

    def advanced(self, n: int, summary: Any) -> None:
        self._bar(n)

    def notice(self, message: str) -> None:
        self._line(f"note: {message}", err=True)

    def _bar(self, n: int) -> None:
        if self.bar is not None and n:
            try:
                self.bar.update(n)
            except OSError:
                _silence(sys.stderr)

    def _line(self, text: str, err: bool = False) -> None:
        if self.bar is not None:
            self.bar.clear()
        _say(text, err=err)
        if self.bar is not None:
            try:
                self.bar.refresh()
            except OSError:
                _silence(sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            try:
                self.bar.close()
            except OSError:
                _silence(sys.stderr)
            self.bar = None


class _Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While running: SIGTERM and SIGHUP raise :class:`_Interrupted` like Ctrl-C does."""

    def handler(signum: int, frame: Any) -> None:
        raise _Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _store_option(help: str):
    """``--store FILE`` (default ``results/optimlab.sqlite``) -> ``store: Path``."""
    return click.option(
        "--store",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_STORE,
        show_default=True,
        help=help,
    )


@click.command(epilog=f"Default size: {DEFAULT_SIZE}; about 7 minutes on 2 cores (docs/sweep.md).")
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
    type=Accuracy(),
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
    "process; more than the cores: capped).  [default: the number of cores]",
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
    the smaller rate; runs that diverged or did not learn never). Stage 2 reruns
    the choice with --seeds seeds. Every run goes to --store as it finishes; the
    same command again skips finished runs and reruns those a killed sweep left
    behind. Then: optimlab report --store STORE --out DIR.
    """
    scheduler = _scheduler_address(scheduler)
    proto = make_protocol(seed=0, **protocol)
    ddir = None if data_dir is None else os.fspath(data_dir)
    problem = Problem(dataset, proto, train_size, test_size, ddir)
    check_protocol_fits(proto, _check_data(problem))  # before anything is queued
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
    workers = _cap_workers(workers, scheduler)
    _check_memory(problem, 1 if scheduler else workers or 1)
    per_run = _measure(plan, engine)
    target = default_target(dataset) if target is None else target
    console = _Console(plan, store, per_run)
    try:
        with _terminate_as_interrupt():
            summary = run_sweep(
                plan,
                store,
                target=target,
                workers=workers,
                scheduler=scheduler,
                engine=engine,
                reporter=console,
            )
    except KeyboardInterrupt as exc:
        console.close()
        signum = getattr(exc, "signum", signal.SIGINT)
        _say(
            f"interrupted ({signal.Signals(signum).name}): {_stored(store)} runs are in {store}; "
            "rerun the same command to resume",
            err=True,
        )
        sys.exit(128 + signum)
    except StoreWriteError as exc:  # the machine's fault (a full disk): exit 1
        console.close()
        raise click.ClickException(
            f"{exc}; the runs stored before stay stored; rerun the same command to resume"
        ) from None
    except StoreError as exc:  # bad input: exit 2 like every other bad option
        console.close()
        raise click.BadParameter(str(exc), param_hint="'--store'") from None
    except SweepError as exc:  # a failure while running: exit 1
        console.close()
        raise click.ClickException(
            f"{exc}; {_stored(store)} runs are in {store}; rerun the same command to resume"
        ) from None
    console.close()
    _print_summary(summary, store)


def _scheduler_address(scheduler: str | None) -> str | None:
    """The Dask address of --scheduler (or DASK_SCHEDULER_ADDRESS), checked; Dask importable."""
    hint = "'--scheduler'"
    if scheduler is None and os.environ.get("DASK_SCHEDULER_ADDRESS"):
        scheduler, hint = os.environ["DASK_SCHEDULER_ADDRESS"], "DASK_SCHEDULER_ADDRESS"
    if scheduler is None:
        return None
    try:
        scheduler = check_scheduler_address(scheduler)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None
    try:
        import distributed  # noqa: F401

        # a lost scheduler is reported in one line; distributed would log tracebacks too
        for name in ["distributed", *logging.root.manager.loggerDict]:
            if name.split(".")[0] == "distributed":
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    except ImportError:
        raise click.ClickException(
            f"{hint.strip(chr(39))} needs dask.distributed: pip install optimlab[dask]"
        ) from None
    return scheduler


def _check_data(problem: Problem) -> Dataset:
    """Load the data as ``compare`` does (a bad file is an error naming the option, a warning
    one line), then keep later loads of this process quiet; the problem's samples."""
    data = load_data(
        problem.dataset,
        problem.data_dir,
        train_size=problem.train_size,
        test_size=problem.test_size,
    )
    warnings.filterwarnings("ignore", category=ChecksumSkippedWarning)  # said once is enough
    return data


def _cap_workers(workers: int | None, scheduler: str | None) -> int | None:
    """--workers, at most the cores (saying so when it caps)."""
    cores = default_workers()
    if scheduler is None and workers is not None and workers > cores:
        _say(f"note: --workers {workers} capped at {cores}, the cores available here", err=True)
        return cores
    return workers


def _check_memory(problem: Problem, concurrent: int) -> None:
    """Refuse up front a run whose curves would not fit in memory."""
    need, have = memory_per_run(problem), available_memory()
    if have is not None and need * concurrent > have:
        fits = problem.protocol.iterations * have // (need * concurrent)
        raise click.BadParameter(
            f"{problem.protocol.iterations} iterations need about {_bytes(need)} of memory a "
            f"run (its loss curve is kept), x {concurrent} at once; this machine has "
            f"{_bytes(have)} available: give at most about {fits} iterations",
            param_hint="'--iterations'",
        )


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"


def _measure(plan: SweepPlan, engine: str) -> float | None:
    """Seconds a run takes here (a short measured run), None if it could not be measured."""
    try:
        return estimate_run_seconds(plan.search_runs()[0], engine)
    except Exception:  # the estimate is a courtesy; the sweep reports real errors itself
        return None


def _stored(store: Path) -> int:
    """Finished runs in the store (0 if it cannot be read)."""
    try:
        db = sqlite3.connect(f"file:{store.resolve()}?mode=ro", uri=True, timeout=5)
        try:
            q = "SELECT COUNT(*) FROM runs WHERE status IN ('done', 'diverged')"
            return int(db.execute(q).fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _print_summary(summary: Any, store: Path) -> None:
    shared = f", {summary.shared} stage-2 runs are default runs" if summary.shared else ""
    flat = f"; {summary.not_learned} did not learn" if summary.not_learned else ""
    _say(
        f"sweep {summary.sweep_id} ({summary.executor}): {summary.total} runs: "
        f"{summary.computed} new, {summary.skipped} already stored{shared}{flat}"
    )
    for label, choice in summary.best.items():
        if choice.lr is None:
            _say(
                f"  {label}: no stage-1 run learned (each diverged or did not learn); "
                "no learning rate chosen"
            )
        else:
            tie = f" (tied with {', '.join(f'{t:g}' for t in choice.ties)})" if choice.ties else ""
            _say(f"  {label}: best lr {choice.lr:g}{tie}, final smoothed loss {choice.loss:.4g}")
    _say(f"store: {store}\nnext: optimlab report --store {store} --out results/report")


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
    type=Accuracy(),
    default=None,
    help="Target test accuracy.  [default: the sweep's]",
)
def report(store: Path, out: Path, sweep_id: str | None, target: float | None) -> None:
    """A sweep's results: report.html (images embedded), PNGs and runs.csv."""
    out = writable_out(out)
    try:
        rep = summarize(store, sweep_id, target)
        files = write_files(out, render_report(rep))
    except StoreError as exc:
        raise click.BadParameter(str(exc), param_hint="'--store'") from None
    except ReportWriteError as exc:
        raise click.ClickException(str(exc)) from None
    if rep.damaged:
        ids = ", ".join(f"{rid} ({why})" for rid, why in rep.damaged)
        _say(f"warning: {store}: {len(rep.damaged)} damaged run(s) left out: {ids}", err=True)
    _say("wrote:")
    for f in files:
        _say(f"  {f}")
