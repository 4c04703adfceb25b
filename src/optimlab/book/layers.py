"""The book's ``common/layers.py``: layers with ``forward``/``backward``
(:mod:`optimlab.nn.layers`, :mod:`optimlab.nn.conv`), and what it star-imports from
``common.functions`` and ``common.util``."""

from ..nn.conv import Convolution, Pooling, col2im, im2col
from ..nn.layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from .functions import *  # noqa: F403  (the book's module binds all of common.functions)
from .functions import __all__ as _functions_all

__all__ = [
    *_functions_all,
    "Affine",
    "BatchNormalization",
    "Convolution",
    "Dropout",
    "Pooling",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "col2im",
    "im2col",
]
