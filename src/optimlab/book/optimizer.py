"""The book's ``common/optimizer.py``: its six rules from :mod:`optimlab.optim` (same
constructor arguments and defaults, same ``update(params, grads)``, same bits), and
``np``, which the book's chapter-6 scripts take from ``from common.optimizer import *``."""

import numpy as np

from ..optim import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Nesterov", "RMSprop", "np"]
