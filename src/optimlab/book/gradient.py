"""The book's ``common/gradient.py``: central differences (:mod:`optimlab.nn.gradient`)."""

import numpy as np

from ..nn.gradient import numerical_gradient, numerical_gradient_2d

__all__ = ["np", "numerical_gradient", "numerical_gradient_2d"]
