"""The book's ``common/multi_layer_net.py``: :class:`optimlab.nn.MultiLayerNet`, and what
the book's module star-imports."""

import os
import sys
from collections import OrderedDict

from ..nn.net import MultiLayerNet
from .gradient import numerical_gradient
from .layers import *  # noqa: F403  (the book's module binds all of common.layers)
from .layers import __all__ as _layers_all

__all__ = [*_layers_all, "MultiLayerNet", "OrderedDict", "numerical_gradient", "os", "sys"]
