"""In-place building blocks the rules share, each keeping the book's order of operations.

Every function writes into arrays it is given (``out=``), so a step makes no
temporaries, and computes its formula in one fixed order of operations, so
every rule that uses it gives the same bits as before it was shared.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bias_correction", "decay_add", "divide", "lerp_moment", "root_plus_eps"]


def bias_correction(beta: float, t: int) -> float:
    """:math:`1 - \\beta^t`."""
    return 1.0 - beta**t


def lerp_moment(m: np.ndarray, x: np.ndarray, k: float, out: np.ndarray) -> None:
    """:math:`m \\leftarrow m + k(x - m)` (the book's Adam form; ``x`` may be ``out``)."""
    np.subtract(x, m, out=out)
    np.multiply(out, k, out=out)
    np.add(m, out, out=m)


def decay_add(h: np.ndarray, rho: float, inc: np.ndarray) -> None:
    """:math:`h \\leftarrow \\rho h + \\mathrm{inc}` (``inc`` already scaled by the caller)."""
    np.multiply(h, rho, out=h)
    np.add(h, inc, out=h)


def root_plus_eps(x: np.ndarray, eps: float, out: np.ndarray, *, inside: bool = False) -> None:
    """``out`` = :math:`\\sqrt{x} + \\epsilon`, or :math:`\\sqrt{x + \\epsilon}` with ``inside``."""
    if inside:
        np.add(x, eps, out=out)
        np.sqrt(out, out=out)
    else:
        np.sqrt(x, out=out)
        np.add(out, eps, out=out)


def divide(num: np.ndarray, den: np.ndarray, out: np.ndarray, eps: float) -> None:
    """``out`` = ``num / den``; with ``eps == 0`` a 0/0 is 0 (a zero step, not NaN).

    Only a rule whose ``eps`` is 0 can divide 0 by 0 (a zero gradient with a
    zero history); the limit of its step as :math:`\\epsilon \\to 0^+` is 0.
    PyTorch gives NaN there. A nonzero number over 0 stays ``inf``.
    """
    if eps:
        np.divide(num, den, out=out)
        return
    zero = den == 0  # before dividing: ``out`` may be ``den``
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(num, den, out=out)
    np.copyto(out, 0.0, where=zero & np.isnan(out))
