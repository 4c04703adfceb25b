"""Curves from runs: the book's smoothing, time to a target accuracy, confidence intervals.

Pure NumPy (no plotting), so experiments and the sweep compute what the
figures later draw without loading matplotlib.
"""

from __future__ import annotations

import numpy as np

__all__ = ["smooth_curve"]

_WINDOW = 11  # the book's window length
_BETA = 2.0  # the book's Kaiser beta


def smooth_curve(x) -> np.ndarray:
    """Smooth a loss curve as the book's ``common/util.py`` does.

    The signal is extended by ``window - 1 = 10`` samples at each end, mirrored
    (without the first sample on the left, with the last one on the right, as in
    the book), convolved with a normalised Kaiser window of length 11 and
    ``beta = 2``, and cut back to ``len(x)`` samples, each centred on its own.

    Parameters
    ----------
    x : array_like, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n,), float64
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0:
        return x.copy()
    pad = _WINDOW - 1
    left = np.pad(x, (pad, 0), mode="reflect")[:pad]  # x[10], x[9], ..., x[1]
    right = np.pad(x, (0, pad), mode="symmetric")[-pad:]  # x[-1], x[-2], ..., x[-10]
    signal = np.concatenate([left, x, right])
    w = np.kaiser(_WINDOW, _BETA)
    y = np.convolve(w / w.sum(), signal, mode="valid")  # len(x) + pad
    half = _WINDOW // 2
    return y[half : half + x.size]
