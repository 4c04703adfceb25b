"""Curves from runs: the book's smoothing, time to a target accuracy, confidence intervals.

Pure NumPy (no plotting), so experiments and the sweep compute what the
figures later draw without loading matplotlib.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["final_smoothed", "mean_ci", "smooth_curve", "t_quantile_975", "time_to_target"]

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


def final_smoothed(losses: np.ndarray) -> float:
    """Last value of the smoothed loss curve (:func:`smooth_curve`, the
    book's 11-point Kaiser window); NaN if any loss is not finite (diverged)."""
    losses = np.asarray(losses, dtype=np.float64)
    if len(losses) == 0 or not np.all(np.isfinite(losses)):
        return math.nan
    return float(smooth_curve(losses)[-1])


def time_to_target(
    eval_iterations: np.ndarray, accuracy: np.ndarray, eval_seconds: np.ndarray, target: float
) -> tuple[int | None, float | None]:
    """First evaluation with accuracy >= ``target``: (iterations, training seconds), or Nones."""
    acc = np.asarray(accuracy, dtype=np.float64)
    hit = np.flatnonzero(np.nan_to_num(acc, nan=-1.0) >= target)
    if len(hit) == 0:
        return None, None
    i = int(hit[0])
    sec = float(eval_seconds[i]) if i < len(eval_seconds) else None
    return int(eval_iterations[i]), sec


# two-sided 95 % Student t quantiles t(0.975, df); df > 30 interpolated in 1/df
_T975 = {
    1: 12.7062,
    2: 4.30265,
    3: 3.18245,
    4: 2.77645,
    5: 2.57058,
    6: 2.44691,
    7: 2.36462,
    8: 2.30600,
    9: 2.26216,
    10: 2.22814,
    11: 2.20099,
    12: 2.17881,
    13: 2.16037,
    14: 2.14479,
    15: 2.13145,
    16: 2.11991,
    17: 2.10982,
    18: 2.10092,
    19: 2.09302,
    20: 2.08596,
    21: 2.07961,
    22: 2.07387,
    23: 2.06866,
    24: 2.06390,
    25: 2.05954,
    26: 2.05553,
    27: 2.05183,
    28: 2.04841,
    29: 2.04523,
    30: 2.04227,
    40: 2.02108,
    60: 2.00030,
    120: 1.97993,
}
_Z975 = 1.959964


def t_quantile_975(df: int) -> float:
    """Student's t 97.5 % quantile with ``df`` degrees of freedom (4-5 significant digits)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df in _T975:
        return _T975[df]
    keys = [k for k in sorted(_T975) if k >= 30]
    pts = [(1 / k, _T975[k]) for k in keys] + [(0.0, _Z975)]
    x = 1 / df
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if x1 <= x <= x0:
            return y1 + (y0 - y1) * (x - x1) / (x0 - x1)
    return _Z975


def mean_ci(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over axis 0 and the 95 % CI half-width (zeros for one sample)."""
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    if n < 2:
        return mean, np.zeros_like(mean)
    return mean, t_quantile_975(n - 1) * samples.std(axis=0, ddof=1) / math.sqrt(n)
