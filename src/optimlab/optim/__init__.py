"""Parameter-update rules with the book's ``update(params, grads)`` API.

>>> from optimlab.optim import Adam
>>> opt = Adam(lr=0.001)          # then, each iteration:
>>> # opt.update(net.params, grads)   # arrays updated in place

Rules: :class:`SGD`, :class:`Momentum`, :class:`Nesterov`, :class:`AdaGrad`,
:class:`RMSprop`, :class:`Adam` (the book's six) and :class:`AdamW`,
:class:`NAdam`, :class:`AMSGrad`, :class:`Adamax`, :class:`Adadelta`,
:class:`Lion`. ``create("adam:lr=0.3")`` builds one by name; ``names()`` lists them.
"""

from .base import Optimizer, state_from_arrays, state_to_arrays
from .registry import create, names, parse_spec, register, spec_of
from .rules import (
    SGD,
    Adadelta,
    AdaGrad,
    Adam,
    Adamax,
    AdamW,
    AMSGrad,
    Lion,
    Momentum,
    NAdam,
    Nesterov,
    RMSprop,
)
from .schedules import CosineDecay, ExponentialDecay, InverseTimeDecay, LinearWarmup, StepDecay

__all__ = [
    "SGD",
    "AMSGrad",
    "AdaGrad",
    "Adadelta",
    "Adam",
    "AdamW",
    "Adamax",
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LinearWarmup",
    "Lion",
    "Momentum",
    "NAdam",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "StepDecay",
    "create",
    "names",
    "parse_spec",
    "register",
    "spec_of",
    "state_from_arrays",
    "state_to_arrays",
]
