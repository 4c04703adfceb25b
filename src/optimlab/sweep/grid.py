"""The two-stage plan of a sweep: which runs exist, their ids and their seeds.

Stage 1 (``"search"``) runs every optimizer at every learning rate with one seed;
each optimizer's best learning rate is the one with the lowest final smoothed
training loss (:func:`final_smoothed`, :func:`select_best`). Stage 2 (``"tuned"``) reruns each best
setting with ``seeds`` seeds. Stage ``"default"`` runs each optimizer as given
(its own default learning rate) with the same seeds as stage 2, so the untuned
and tuned rankings compare like with like.

Seeds come from ``numpy.random.SeedSequence(base_seed, spawn_key=(stage, k))``
where ``k`` is the replicate's position in its stage: stage 1 uses position
``(0, 0)``, stages 2 and default ``(1, k)``. Every optimizer and learning rate
at one position shares the seed (the same initial weights and the same
batches: common random numbers), and stage 2 never reuses the draw that chose
the learning rate. A run's seed and id depend only on its place in the grid,
never on the order or the machine it ran on.

A run's id is the SHA-256 of the canonical JSON of its configuration and seed
(first 16 hex digits): the same configuration and seed is the same run in any
sweep, on any machine.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..curves import final_smoothed, time_to_target
from ..optim import create, parse_spec, spec_of
from ..protocol import Protocol

__all__ = [
    "DEFAULT_LRS",
    "DEFAULT_SEEDS",
    "DEFAULT_TARGETS",
    "STAGES",
    "Choice",
    "Problem",
    "RunConfig",
    "SweepPlan",
    "canonical_json",
    "chance_accuracy",
    "default_target",
    "did_not_learn",
    "final_smoothed",
    "parse_lrs",
    "prior_loss",
    "run_seed",
    "select_best",
    "time_to_target",
]

#: stage 1, stage 2, and the untuned defaults (with stage 2's seeds)
STAGES = ("search", "tuned", "default")
_SEED_POSITION = {"search": 0, "tuned": 1, "default": 1}

#: 13 points, log-spaced from 1e-4 to 1, rounded to 6 significant digits
DEFAULT_LRS: tuple[float, ...] = tuple(float(f"{x:.6g}") for x in np.logspace(-4, 0, 13))
DEFAULT_SEEDS = 5
#: AlgoPerf's MNIST target; 85 % on Fashion-MNIST
DEFAULT_TARGETS = {"mnist": 0.97, "fashion-mnist": 0.85}


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: equal configurations give equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def default_target(dataset: str) -> float:
    """The target test accuracy for ``dataset`` (97 % MNIST, 85 % Fashion-MNIST, else 97 %)."""
    return DEFAULT_TARGETS.get(dataset, 0.97)


def parse_lrs(text: str | Iterable[float] | None) -> tuple[float, ...]:
    """``"0.001,0.01,0.1"`` (or numbers) as sorted unique positive floats; None: the default."""
    if text is None:
        return DEFAULT_LRS
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        try:
            lr = float(item)
        except ValueError:
            raise ValueError(f"learning rate must be a number, got {item!r} in {text!r}") from None
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a finite number > 0, got {lr!r}")
        out.append(lr)
    if not out:
        raise ValueError(f"no learning rates in {text!r}; give e.g. 0.001,0.01,0.1")
    return tuple(sorted(set(out)))


def run_seed(base_seed: int, stage: str, replicate: int) -> int:
    """The protocol seed of replicate ``replicate`` of ``stage`` (a 32-bit integer)."""
    if stage not in _SEED_POSITION:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    ss = np.random.SeedSequence(base_seed, spawn_key=(_SEED_POSITION[stage], replicate))
    return int(ss.generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class Problem:
    """What is trained and evaluated: dataset, subset sizes and protocol (its seed unused).

    ``train_size``/``test_size`` take the first N samples (None: all).
    ``data_dir`` says where files are and is not part of a run's identity.
    """

    dataset: str = "mnist"
    protocol: Protocol = field(default_factory=Protocol)
    train_size: int | None = None
    test_size: int | None = None
    data_dir: str | None = None

    def __post_init__(self) -> None:
        for name in ("train_size", "test_size"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be an integer >= 1 or None, got {v!r}")

    def identity(self) -> dict[str, Any]:
        """The part of the problem that changes results (no seed, no data_dir)."""
        proto = self.protocol.to_dict()
        proto.pop("seed")
        return {
            "dataset": self.dataset,
            "train_size": self.train_size,
            "test_size": self.test_size,
            "protocol": proto,
        }


@dataclass(frozen=True)
class RunConfig:
    """One run: a problem, a full optimizer spec, a seed and its place in the grid."""

    problem: Problem
    optimizer: str  # full spec, e.g. "adam:lr=0.001,beta1=0.9,..."
    label: str  # the optimizer as the user named it (without the grid's lr)
    lr: float
    stage: str
    replicate: int
    seed: int

    @property
    def name(self) -> str:
        return parse_spec(self.optimizer)[0]

    def configuration(self) -> dict[str, Any]:
        """Everything that determines the result, seed included (hashed into :attr:`run_id`)."""
        return {"problem": self.problem.identity(), "optimizer": self.optimizer, "seed": self.seed}

    @property
    def run_id(self) -> str:
        return hashlib.sha256(canonical_json(self.configuration()).encode()).hexdigest()[:16]

    def protocol(self) -> Protocol:
        return replace(self.problem.protocol, seed=self.seed)


def _full_spec(spec: str, lr: float | None = None) -> str:
    return spec_of(create(spec) if lr is None else create(spec, lr=lr))


def _label(spec: str) -> str:
    """The user's spec, normalised (lower-case name, no spaces), used as the optimizer's key."""
    name, kwargs = parse_spec(spec)
    rest = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}:{rest}" if rest else name


@dataclass(frozen=True)
class SweepPlan:
    """Optimizers x learning rates (stage 1), then ``seeds`` seeds of each best setting."""

    problem: Problem
    optimizers: tuple[str, ...]
    lrs: tuple[float, ...] = DEFAULT_LRS
    seeds: int = DEFAULT_SEEDS
    base_seed: int = 0
    defaults: bool = True

    def __post_init__(self) -> None:
        if not self.optimizers:
            raise ValueError("give at least one optimizer")
        labels = [_label(o) for o in self.optimizers]  # validates the specs
        if "lr" in {k for o in self.optimizers for k in parse_spec(o)[1]}:
            raise ValueError(
                "optimizer specs must not set lr: the sweep sets it from the grid "
                f"(--lr); got {list(self.optimizers)}"
            )
        if len(set(labels)) != len(labels):
            raise ValueError(f"optimizer given twice: {list(self.optimizers)}")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"seeds must be an integer >= 1, got {self.seeds!r}")
        if not isinstance(self.base_seed, int) or self.base_seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.base_seed!r}")
        object.__setattr__(self, "lrs", parse_lrs(self.lrs))
        object.__setattr__(self, "optimizers", tuple(labels))

    def identity(self) -> dict[str, Any]:
        return {
            "problem": self.problem.identity(),
            "optimizers": list(self.optimizers),
            "lrs": list(self.lrs),
            "seeds": self.seeds,
            "base_seed": self.base_seed,
            "defaults": self.defaults,
        }

    @property
    def sweep_id(self) -> str:
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()[:16]

    def _run(self, label: str, lr: float | None, stage: str, k: int) -> RunConfig:
        spec = _full_spec(label, lr)
        lr_used = float(create(spec).hyperparameters()["lr"])
        return RunConfig(
            self.problem, spec, label, lr_used, stage, k, run_seed(self.base_seed, stage, k)
        )

    def search_runs(self) -> list[RunConfig]:
        """Stage 1: every optimizer at every learning rate, one seed."""
        return [self._run(o, lr, "search", 0) for o in self.optimizers for lr in self.lrs]

    def default_runs(self) -> list[RunConfig]:
        """Each optimizer with its own defaults, stage 2's seeds (empty if not ``defaults``)."""
        if not self.defaults:
            return []
        return [
            self._run(o, None, "default", k) for o in self.optimizers for k in range(self.seeds)
        ]

    def tuned_runs(self, best: dict[str, Choice]) -> list[RunConfig]:
        """Stage 2: each optimizer's chosen learning rate with ``seeds`` seeds."""
        return [
            self._run(o, best[o].lr, "tuned", k)
            for o in self.optimizers
            if o in best and best[o].lr is not None
            for k in range(self.seeds)
        ]


#: how many first losses make the starting level of :func:`did_not_learn`
START_WINDOW = 10
#: a final loss less than this fraction below the starting level counts as no better
MIN_IMPROVEMENT = 0.01
#: accuracy within this of the majority-class rate counts as chance level
CHANCE_MARGIN = 0.01


#: the prior loss of a store written before it was recorded: ln 10, ten equally likely classes
DEFAULT_PRIOR_LOSS = math.log(10)


def chance_accuracy(labels: np.ndarray) -> float:
    """The accuracy of always answering the most frequent class of ``labels``."""
    labels = np.asarray(labels)
    return float(np.bincount(labels.astype(np.int64)).max() / len(labels)) if len(labels) else 0.0


def prior_loss(labels: np.ndarray) -> float:
    """The cross-entropy of always predicting the class frequencies of ``labels`` (their
    entropy, natural log): the loss of a network that learned nothing from the images."""
    counts = np.bincount(np.asarray(labels).astype(np.int64))
    p = counts[counts > 0] / max(1, counts.sum())
    return float(-(p * np.log(p)).sum())


def _stored_value(curves: Mapping[str, Any], name: str) -> float | None:
    if name not in curves:
        return None
    v = np.ravel(np.asarray(curves[name], dtype=np.float64))
    return float(v[0]) if v.size == 1 else None


def did_not_learn(curves: Mapping[str, Any], final_accuracy: float | None) -> bool:
    """True when a run that did not diverge learned nothing, from its curves (``losses``,
    and the 1-value ``chance_accuracy`` and ``prior_loss`` of :func:`run_one
    <optimlab.sweep.execute.run_one>`):

    * its final smoothed loss is not :data:`MIN_IMPROVEMENT` (1 %) below its starting
      level: the lower of the mean of its first :data:`START_WINDOW` losses and the
      prior loss (:func:`prior_loss`; :data:`DEFAULT_PRIOR_LOSS` if not stored), or
    * its final test accuracy is within :data:`CHANCE_MARGIN` of the majority-class rate
      (:func:`chance_accuracy`; not checked if not stored).
    """
    losses = np.asarray(curves["losses"], dtype=np.float64)
    final = final_smoothed(losses)
    if math.isnan(final):
        return False  # diverged, a status of its own
    prior = _stored_value(curves, "prior_loss") or DEFAULT_PRIOR_LOSS
    start = min(float(np.mean(losses[:START_WINDOW])), prior)
    if final > (1 - MIN_IMPROVEMENT) * start:
        return True
    chance = _stored_value(curves, "chance_accuracy")
    if chance is None or final_accuracy is None or math.isnan(float(final_accuracy)):
        return False
    return float(final_accuracy) <= chance + CHANCE_MARGIN


@dataclass(frozen=True)
class Choice:
    """An optimizer's stage-1 outcome: ``lr`` chosen (None if no run learned: every one
    diverged or did not learn)."""

    lr: float | None
    loss: float
    diverged: tuple[float, ...] = ()
    ties: tuple[float, ...] = ()
    not_learned: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "loss": None if math.isnan(self.loss) else self.loss,
            "diverged": list(self.diverged),
            "ties": list(self.ties),
            "did_not_learn": list(self.not_learned),
        }


def select_best(results: Sequence[tuple[Any, ...]]) -> dict[str, Choice]:
    """Each optimizer's best learning rate from ``(label, lr, final smoothed loss)`` triples,
    or ``(label, lr, loss, learned)``.

    The lowest final smoothed training loss wins. Diverged runs (NaN loss) and
    runs that did not learn (``learned`` False, :func:`did_not_learn`) are never
    chosen; if no run of an optimizer is left its ``lr`` is None. Exact ties go
    to the *smaller* learning rate (the more stable choice, the one further from
    divergence); tied rates are listed in ``ties``.
    """
    by: dict[str, list[tuple[float, float, bool]]] = {}
    for label, lr, loss, *learned in results:
        by.setdefault(label, []).append((lr, loss, bool(learned[0]) if learned else True))
    out = {}
    for label, rows in by.items():
        diverged = tuple(sorted(lr for lr, loss, _ in rows if not math.isfinite(loss)))
        flat = tuple(sorted(lr for lr, loss, ok in rows if math.isfinite(loss) and not ok))
        ok = sorted((loss, lr) for lr, loss, fine in rows if math.isfinite(loss) and fine)
        if not ok:
            out[label] = Choice(None, math.nan, diverged, not_learned=flat)
            continue
        best_loss, best_lr = ok[0]
        ties = tuple(lr for loss, lr in ok[1:] if loss == best_loss)
        out[label] = Choice(best_lr, best_loss, diverged, ties, flat)
    return out
