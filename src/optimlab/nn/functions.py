"""Elementwise functions and losses with the book's meanings (``common/functions.py``).

Each computes what the book's function of the same name computes, in the same order
of operations, so float64 results are the book's bit for bit. In particular
:func:`cross_entropy_error` takes *probabilities* (softmax outputs), as the book's
does, and adds the book's :math:`10^{-7}` inside the logarithm.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BOOK_DELTA",
    "book_cross_entropy",
    "cross_entropy_error",
    "identity_function",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_loss",
    "step_function",
    "sum_squared_error",
]

#: the book's guard against ``log(0)``: the loss is :math:`-\log(y_t + 10^{-7})`
BOOK_DELTA = 1e-7


def identity_function(x):
    """:math:`y = x` (the output layer of a regression net)."""
    return x


def step_function(x):
    """:math:`y = [x > 0]` as integers."""
    return np.array(x > 0, dtype=int)


def sigmoid(x):
    """:math:`y = 1/(1 + e^{-x})`, the book's formula.

    For :math:`x < -709` in float64 :math:`e^{-x}` overflows to ``inf`` and the
    result is 0, which is the correctly rounded value to within the smallest
    subnormal; the overflow is expected there and not reported.
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    """:math:`\\sigma'(x) = (1 - \\sigma(x))\\,\\sigma(x)`."""
    return (1.0 - sigmoid(x)) * sigmoid(x)


def relu(x):
    """:math:`y = \\max(0, x)`."""
    return np.maximum(0, x)


def relu_grad(x):
    """:math:`[x \\ge 0]` (the book's convention at 0, unlike the ``Relu`` layer's ``x > 0``)."""
    grad = np.zeros_like(x)
    grad[x >= 0] = 1
    return grad


def softmax(x):
    """Softmax along the last axis, shifted by the maximum so that ``exp`` never overflows."""
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))  # e^(x - max x)
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squared_error(y, t):
    """:math:`\\tfrac12\\sum (y - t)^2`."""
    return 0.5 * np.sum((y - t) ** 2)


def cross_entropy_error(y, t):
    """Mean cross-entropy :math:`-\\frac1N\\sum_n \\log(y_{n,t_n} + 10^{-7})` of probabilities.

    ``y`` is ``(N, C)`` (or one sample ``(C,)``) of probabilities, ``t`` integer
    labels ``(N,)`` or one-hot ``(N, C)``; as in the book, ``t`` with as many
    elements as ``y`` is read as one-hot (its row-wise argmax). The
    :math:`10^{-7}` keeps the loss finite when :math:`y_t = 0` and lowers it by at
    most :math:`10^{-7}/y_t` per sample over the exact :math:`-\\log y_t`.
    """
    y, t = np.asarray(y), np.asarray(t)
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot: the label is the position of the 1
        t = t.argmax(axis=1)
    return book_cross_entropy(y, t)


def book_cross_entropy(y: np.ndarray, labels: np.ndarray):
    """:func:`cross_entropy_error` of ``(N, C)`` probabilities and integer labels ``(N,)``."""
    n = y.shape[0]
    return -np.sum(np.log(y[np.arange(n), labels] + BOOK_DELTA)) / n


def softmax_loss(X, t):
    """:func:`cross_entropy_error` of :func:`softmax` ``(X)``: the loss of scores ``X``."""
    return cross_entropy_error(softmax(X), t)
