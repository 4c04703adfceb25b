"""Parameter-update rules with the book's ``update(params, grads)`` API.

>>> from optimlab.optim import Adam
>>> opt = Adam(lr=0.001)          # then, each iteration:
>>> # opt.update(net.params, grads)   # arrays updated in place

Rules: :class:`SGD`, :class:`Momentum`, :class:`Nesterov`, :class:`AdaGrad`,
:class:`RMSprop`, :class:`Adam` (the book's six) and :class:`AdamW`,
:class:`NAdam`, :class:`AMSGrad`, :class:`Adamax`, :class:`Adadelta`,
:class:`Lion`. ``create("adam:lr=0.3")`` builds one by name; ``names()`` lists them.
Each rule is declared once in :mod:`optimlab.optim.rules`; importing this
package registers them all.
"""

from . import rules
from .base import Optimizer, Step, state_from_arrays, state_to_arrays
from .registry import create, names, parse_spec, register, spec_of
from .rules import *  # noqa: F403  (the rules, listed once in rules.__all__)
from .schedules import CosineDecay, ExponentialDecay, InverseTimeDecay, LinearWarmup, StepDecay

__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LinearWarmup",
    "Optimizer",
    "Step",
    "StepDecay",
    "create",
    "names",
    "parse_spec",
    "register",
    "spec_of",
    "state_from_arrays",
    "state_to_arrays",
]
__all__ += rules.__all__
