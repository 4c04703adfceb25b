"""Learning-rate schedules: ``factor(t)`` multiplies the base ``lr`` at step ``t``.

Every rule takes ``schedule=``; step ``t`` (1-based, the ``t``-th call of
``update``) then uses :math:`\\eta_t = \\eta \\cdot \\mathrm{factor}(t)`. The book
mentions learning-rate decay as the idea behind AdaGrad; these are the usual
global forms. Any callable works as a schedule; a factor that is not a finite
number >= 0 (NaN, inf, negative) is refused by the rule with a ``ValueError``
naming the schedule and the step, before the step changes anything. With
:math:`s = t - 1` the number of steps already taken:

=====================  ==============================================================
``StepDecay``          :math:`\\gamma^{\\lfloor s / k \\rfloor}` (PyTorch ``StepLR``)
``ExponentialDecay``   :math:`\\gamma^{s}` (PyTorch ``ExponentialLR``)
``InverseTimeDecay``   :math:`1 / (1 + r s / k)` (Keras ``InverseTimeDecay``;
                       PyTorch Adagrad's ``lr_decay`` is ``r`` with ``k = 1``)
``CosineDecay``        :math:`f + (1-f)\\tfrac12(1 + \\cos(\\pi \\min(s, T)/T))`
                       (Optax ``cosine_decay_schedule``; PyTorch
                       ``CosineAnnealingLR`` only up to step T + 1)
``LinearWarmup``       :math:`\\min(1, t / w)` times an optional following schedule
                       evaluated at :math:`t - w` (one step ahead of Optax's
                       ``linear_schedule(0, lr, w)``)
=====================  ==============================================================

The library calls equal to each schedule are in
:mod:`optimlab.optim.equivalents` (tested in ``tests/test_oracle.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .base import Schedule
from .fields import check_range

__all__ = ["CosineDecay", "ExponentialDecay", "InverseTimeDecay", "LinearWarmup", "StepDecay"]


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class StepDecay:
    """Multiply by ``gamma`` every ``step_size`` steps."""

    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _positive_int("step_size", self.step_size)
        check_range("gamma", self.gamma, low=0.0, high=1.0, low_open=True, high_open=False)

    def __call__(self, t: int) -> float:
        return self.gamma ** ((t - 1) // self.step_size)


@dataclass(frozen=True)
class ExponentialDecay:
    """Multiply by ``gamma`` every step."""

    gamma: float

    def __post_init__(self) -> None:
        check_range("gamma", self.gamma, low=0.0, high=1.0, low_open=True, high_open=False)

    def __call__(self, t: int) -> float:
        return self.gamma ** (t - 1)


@dataclass(frozen=True)
class InverseTimeDecay:
    """``1 / (1 + decay_rate * (t - 1) / decay_steps)``."""

    decay_rate: float
    decay_steps: int = 1

    def __post_init__(self) -> None:
        check_range("decay_rate", self.decay_rate, low=0.0, high=None)
        _positive_int("decay_steps", self.decay_steps)

    def __call__(self, t: int) -> float:
        return 1.0 / (1.0 + self.decay_rate * (t - 1) / self.decay_steps)


@dataclass(frozen=True)
class CosineDecay:
    """Half a cosine from 1 down to ``final_factor`` over ``total_steps``, then flat."""

    total_steps: int
    final_factor: float = 0.0

    def __post_init__(self) -> None:
        _positive_int("total_steps", self.total_steps)
        check_range("final_factor", self.final_factor, low=0.0, high=1.0, high_open=False)

    def __call__(self, t: int) -> float:
        s = min(t - 1, self.total_steps)
        f = self.final_factor
        return f + (1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * s / self.total_steps))


@dataclass(frozen=True)
class LinearWarmup:
    """Ramp linearly from ``1/warmup_steps`` to 1, then follow ``then`` (if given)."""

    warmup_steps: int
    then: Schedule | None = None

    def __post_init__(self) -> None:
        _positive_int("warmup_steps", self.warmup_steps)
        if self.then is not None and not callable(self.then):
            raise ValueError(f"then must be a schedule (callable), got {self.then!r}")

    def __call__(self, t: int) -> float:
        if t <= self.warmup_steps:
            return t / self.warmup_steps
        return 1.0 if self.then is None else float(self.then(t - self.warmup_steps))
