"""Layers, the book's networks, its ``Trainer`` and numerical gradients.

The loss everywhere is the book's, :math:`-\\frac1N\\sum\\log(y_t + 10^{-7})`
(:class:`SoftmaxWithLoss`; ``exact=True`` for the exact log-sum-exp), so printed
numbers and curves are the book's.
"""

from .conv import Convolution, Pooling, col2im, conv_output_size, im2col
from .functions import cross_entropy_error, softmax, softmax_loss
from .gradient import gradient_check, numerical_gradient, numerical_gradient_2d, relative_error
from .layers import (
    Affine,
    BatchNormalization,
    Dropout,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    exact_cross_entropy,
)
from .net import MultiLayerNet, init_scale
from .net_extend import MultiLayerNetExtend
from .trainer import Trainer
from .util import shuffle_dataset

__all__ = [
    "Affine",
    "BatchNormalization",
    "Convolution",
    "Dropout",
    "MultiLayerNet",
    "MultiLayerNetExtend",
    "Pooling",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "Trainer",
    "col2im",
    "conv_output_size",
    "cross_entropy_error",
    "exact_cross_entropy",
    "gradient_check",
    "im2col",
    "init_scale",
    "numerical_gradient",
    "numerical_gradient_2d",
    "relative_error",
    "shuffle_dataset",
    "softmax",
    "softmax_loss",
]
