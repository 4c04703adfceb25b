"""The book's ``common/trainer.py``: :class:`optimlab.nn.Trainer`, and what the book's
module star-imports."""

import os
import sys

from ..nn.trainer import Trainer
from .optimizer import *  # noqa: F403  (the book's module binds all of common.optimizer)
from .optimizer import __all__ as _optimizer_all

__all__ = [*_optimizer_all, "Trainer", "os", "sys"]
