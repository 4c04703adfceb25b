"""Layers, the book's ``MultiLayerNet`` and numerical gradients."""

from .gradient import gradient_check, numerical_gradient, relative_error
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss, cross_entropy_error, softmax
from .net import MultiLayerNet, init_scale

__all__ = [
    "Affine",
    "MultiLayerNet",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "cross_entropy_error",
    "gradient_check",
    "init_scale",
    "numerical_gradient",
    "relative_error",
    "softmax",
]
