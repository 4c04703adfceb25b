"""Numerical gradients (central differences) and a gradient check."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["gradient_check", "numerical_gradient", "numerical_gradient_2d", "relative_error"]


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4
) -> np.ndarray:
    """Central difference :math:`(f(x + h e_i) - f(x - h e_i)) / 2h` for every element.

    ``x`` is perturbed in place, one element at a time, and restored exactly;
    ``f`` is called with ``x`` (the book's convention: ``f`` usually ignores its
    argument and reads the network's parameters, which ``x`` is one of).
    Error :math:`O(h^2)`: with the default ``h = 1e-4`` about 1e-8 relative on
    smooth float64 functions.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"numerical_gradient needs a float array, got {type(x).__name__}")
    if not x.flags.writeable:
        raise ValueError("numerical_gradient perturbs x in place; got a read-only array")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):  # any memory layout: views and transposes too
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    r"""Infinity-norm relative error :math:`\max_i|a_i-b_i| / \max(\max_i|a_i|, \max_i|b_i|)`.

    Elements are judged against the scale of the whole array, so a gradient
    entry that is exactly 0 in backprop and 1e-12 by finite differences (a
    dead ReLU unit) does not count as a 100% error. 0 when both are all zero.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return 0.0 if scale == 0.0 else float(np.max(np.abs(a - b))) / scale


def gradient_check(net, x: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """Relative error between backprop and numerical gradients, per parameter.

    Returns ``{key: max relative error}``; ``max(result.values())`` is the
    worst. ``net`` needs ``gradient(x, t)`` and ``numerical_gradient(x, t)``.
    """
    g_bp: Mapping[str, np.ndarray] = net.gradient(x, t)
    g_num: Mapping[str, np.ndarray] = net.numerical_gradient(x, t)
    return {k: relative_error(g_bp[k], g_num[k]) for k in g_bp}


def numerical_gradient_2d(f: Callable[[np.ndarray], float], X: np.ndarray) -> np.ndarray:
    """The book's row-by-row central differences (chapter 4's ``gradient_2d``).

    A 1-D ``X`` is one point; each row of a 2-D ``X`` is a point of its own, and
    ``f`` is called with that row. The perturbed value is computed as
    ``float(x_i) + h`` (the book's 1-D form), so float32 inputs round as the book's do.
    """
    if X.ndim == 1:
        return _numerical_gradient_1d(f, X)
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = _numerical_gradient_1d(f, x)
    return grad


def _numerical_gradient_1d(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    h = 1e-4
    grad = np.zeros_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = float(old) + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * h)
        x[i] = old
    return grad
