"""Two-dimensional test functions for drawing optimizer paths.

Each :class:`Function2D` carries the function, its analytic gradient and what
a good picture of it needs: a default start, a view window, contour levels
(log-spaced where values span decades), its minima and, for a diagonal
quadratic, its Hessian (so that gradient descent and heavy ball have closed
forms, see :mod:`optimlab.experiments.paths`).

=============  ==========================================================  ============
name           f(x, y)                                                     minima
=============  ==========================================================  ============
``bowl``       x²/20 + y² (the book's ``optimizer_compare_naive.py``)      (0, 0)
``rosenbrock`` (1 - x)² + 100 (y - x²)²                                    (1, 1)
``beale``      (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²    (3, 0.5)
``himmelblau`` (x² + y - 11)² + (x + y² - 7)²                              four, f = 0
``rastrigin``  20 + Σ (u² - 10 cos 2πu) over u = x, y                      (0, 0)
``saddle``     (x² - y²) / 2                                               none
=============  ==========================================================  ============

All functions take NumPy arrays or floats and broadcast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["FUNCTIONS", "Function2D", "get_function", "names"]

Scalar2 = tuple[float, float]


@dataclass(frozen=True)
class Function2D:
    """A 2-D test function and how to draw it.

    Attributes
    ----------
    name : str
        Registry name (``"bowl"``).
    formula : str
        The function in plain text, for titles and help.
    f : callable
        ``f(x, y) -> z``, broadcasting over arrays.
    grad : callable
        ``grad(x, y) -> (df/dx, df/dy)``, analytic.
    start : (float, float)
        Default starting point.
    xlim, ylim : (float, float)
        View window.
    levels : numpy.ndarray
        Contour levels (increasing).
    log_scale : bool
        Whether ``levels`` are log-spaced (values span decades).
    minima : tuple of (float, float)
        Global minima, marked with ``+``.
    saddles : tuple of (float, float)
        Saddle points worth marking (``saddle`` only).
    hessian : (float, float) or None
        ``(a, b)`` when ``f = (a x² + b y²) / 2`` exactly, else ``None``.
    optimizers : tuple of str
        Default rules for this function: the book's four (SGD, Momentum,
        AdaGrad, Adam) with learning rates that show each one's character here
        (the book's own on ``bowl``).
    steps : int
        Default number of steps (the book's 30 on ``bowl``).
    """

    name: str
    formula: str
    f: Callable[..., np.ndarray]
    grad: Callable[..., tuple[np.ndarray, np.ndarray]]
    start: Scalar2
    xlim: Scalar2
    ylim: Scalar2
    levels: np.ndarray
    log_scale: bool
    minima: tuple[Scalar2, ...]
    saddles: tuple[Scalar2, ...] = ()
    hessian: Scalar2 | None = None
    optimizers: tuple[str, ...] = ()
    steps: int = 30


# -- bowl: the book's f(x, y) = x**2/20 + y**2 ------------------------------------------
def _bowl(x, y):
    return x**2 / 20.0 + y**2


def _bowl_grad(x, y):
    return x / 10.0, 2.0 * y


# -- rosenbrock ------------------------------------------------------------------------
def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_grad(x, y):
    r = y - x**2
    return -2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r


# -- beale -----------------------------------------------------------------------------
_BEALE_C = (1.5, 2.25, 2.625)


def _beale(x, y):
    return sum((c - x + x * y ** (i + 1)) ** 2 for i, c in enumerate(_BEALE_C))


def _beale_grad(x, y):
    gx = 0.0
    gy = 0.0
    for i, c in enumerate(_BEALE_C):
        n = i + 1
        r = c - x + x * y**n  # residual of term n
        gx = gx + 2.0 * r * (y**n - 1.0)  # d r/dx = y^n - 1
        gy = gy + 2.0 * r * n * x * y ** (n - 1)  # d r/dy = n x y^(n-1)
    return gx, gy


# -- himmelblau ------------------------------------------------------------------------
def _himmelblau(x, y):
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _himmelblau_grad(x, y):
    a = x**2 + y - 11.0
    b = x + y**2 - 7.0
    return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


# -- rastrigin -------------------------------------------------------------------------
def _rastrigin(x, y):
    return 20.0 + x**2 - 10.0 * np.cos(2 * np.pi * x) + y**2 - 10.0 * np.cos(2 * np.pi * y)


def _rastrigin_grad(x, y):
    return (
        2.0 * x + 20.0 * np.pi * np.sin(2 * np.pi * x),
        2.0 * y + 20.0 * np.pi * np.sin(2 * np.pi * y),
    )


# -- saddle ----------------------------------------------------------------------------
def _saddle(x, y):
    return (x**2 - y**2) / 2.0


def _saddle_grad(x, y):
    return x, -y


FUNCTIONS: dict[str, Function2D] = {
    fn.name: fn
    for fn in (
        Function2D(
            "bowl",
            "x²/20 + y²",
            _bowl,
            _bowl_grad,
            start=(-7.0, 2.0),
            xlim=(-10.0, 10.0),
            ylim=(-5.0, 5.0),
            levels=np.array([0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 7]),
            log_scale=False,
            minima=((0.0, 0.0),),
            hessian=(0.1, 2.0),
            optimizers=("sgd:lr=0.95", "momentum:lr=0.1", "adagrad:lr=1.5", "adam:lr=0.3"),
            steps=30,
        ),
        Function2D(
            "rosenbrock",
            "(1 - x)² + 100 (y - x²)²",
            _rosenbrock,
            _rosenbrock_grad,
            start=(-1.2, 1.0),
            xlim=(-2.0, 2.0),
            ylim=(-1.0, 3.0),
            levels=np.logspace(-1, 3.5, 16),
            log_scale=True,
            minima=((1.0, 1.0),),
            optimizers=("sgd:lr=0.001", "momentum:lr=0.001", "adagrad:lr=0.22", "adam:lr=0.22"),
            steps=1000,
        ),
        Function2D(
            "beale",
            "(1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²",
            _beale,
            _beale_grad,
            start=(0.5, 1.5),
            xlim=(-4.5, 4.5),
            ylim=(-4.5, 4.5),
            levels=np.logspace(-1, 4.5, 20),
            log_scale=True,
            minima=((3.0, 0.5),),
            optimizers=("sgd:lr=0.015", "momentum:lr=0.01", "adagrad:lr=0.32", "adam:lr=0.46"),
            steps=300,
        ),
        Function2D(
            "himmelblau",
            "(x² + y - 11)² + (x + y² - 7)²",
            _himmelblau,
            _himmelblau_grad,
            start=(-0.5, -0.5),
            xlim=(-5.0, 5.0),
            ylim=(-5.0, 5.0),
            levels=np.logspace(-0.5, 2.75, 14),
            log_scale=True,
            minima=(
                (3.0, 2.0),
                (-2.805118, 3.131312),
                (-3.779310, -3.283186),
                (3.584428, -1.848126),
            ),
            optimizers=("sgd:lr=0.0068", "momentum:lr=0.00068", "adagrad:lr=0.46", "adam:lr=0.46"),
            steps=100,
        ),
        Function2D(
            "rastrigin",
            "20 + x² - 10 cos 2πx + y² - 10 cos 2πy",
            _rastrigin,
            _rastrigin_grad,
            start=(-4.2, 3.6),
            xlim=(-5.12, 5.12),
            ylim=(-5.12, 5.12),
            levels=np.linspace(5.0, 75.0, 8),
            log_scale=False,
            minima=((0.0, 0.0),),
            optimizers=("sgd:lr=0.002", "momentum:lr=0.002", "adagrad:lr=1.0", "adam:lr=0.3"),
            steps=100,
        ),
        Function2D(
            "saddle",
            "(x² - y²) / 2",
            _saddle,
            _saddle_grad,
            start=(-2.5, 0.01),
            xlim=(-3.0, 3.0),
            ylim=(-3.0, 3.0),
            levels=np.linspace(-4.0, 4.0, 17),
            log_scale=False,
            minima=(),
            saddles=((0.0, 0.0),),
            hessian=(1.0, -1.0),
            optimizers=("sgd:lr=0.1", "momentum:lr=0.05", "adagrad:lr=0.3", "adam:lr=0.1"),
            steps=40,
        ),
    )
}


def names() -> list[str]:
    """Names of the test functions, the book's ``bowl`` first."""
    return list(FUNCTIONS)


def get_function(name: str) -> Function2D:
    """The function called ``name``; ``ValueError`` naming the valid ones otherwise."""
    try:
        return FUNCTIONS[name.strip().lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown function {name!r}; valid: {', '.join(FUNCTIONS)}") from None
