"""The book's ``common/multi_layer_net_extend.py``: :class:`optimlab.nn.MultiLayerNetExtend`
(dropout, batch norm, weight decay), and what the book's module star-imports."""

import os
import sys
from collections import OrderedDict

from ..nn.net_extend import MultiLayerNetExtend
from .gradient import numerical_gradient
from .layers import *  # noqa: F403  (the book's module binds all of common.layers)
from .layers import __all__ as _layers_all

__all__ = [*_layers_all, "MultiLayerNetExtend", "OrderedDict", "numerical_gradient", "os", "sys"]
