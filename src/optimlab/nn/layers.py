"""Layers with ``forward``/``backward``, as in the book's ``common/layers.py``.

Shapes: ``x`` is ``(N, d_in)`` (``Affine`` flattens any trailing axes),
``dout`` has the shape of the layer's output. ``backward`` returns the
gradient with respect to the layer's input and, for ``Affine``, stores
``dW`` and ``db``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Affine", "Relu", "Sigmoid", "SoftmaxWithLoss", "cross_entropy_error", "softmax"]


class Relu:
    """:math:`y = \\max(0, x)`; :math:`\\partial y/\\partial x = [x > 0]`."""

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Sigmoid:
    """:math:`y = 1/(1+e^{-x})`; :math:`\\partial y/\\partial x = y(1-y)`."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # exp of -|x| never overflows; the two branches are the same function
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self.out) * self.out


class Affine:
    """:math:`y = xW + b`; :math:`dW = x^T d_{out}`, :math:`db = \\sum_n d_{out}`,
    :math:`dx = d_{out} W^T`.

    ``W`` and ``b`` are the network's parameter arrays themselves (not copies),
    so an optimizer's in-place update is seen by the layer.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x: np.ndarray | None = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return dx.reshape(self.original_x_shape)


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that ``exp`` never overflows."""
    z = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def one_hot_to_labels(t: np.ndarray) -> np.ndarray:
    """Integer labels ``(N,)`` of one-hot ``t`` ``(N, C)``; ``ValueError`` unless every row
    holds a single 1 and zeros (soft labels are not supported)."""
    if not (np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1)):
        raise ValueError(
            "2-D labels must be one-hot (a single 1 per row); soft labels are not supported"
        )
    return np.argmax(t, axis=1)


def _labels(t: np.ndarray, n_classes: int) -> np.ndarray:
    """Integer labels from integer or one-hot ``t``."""
    t = np.asarray(t)
    if t.ndim == 2:
        if t.shape[1] != n_classes:
            raise ValueError(f"one-hot labels have {t.shape[1]} columns, expected {n_classes}")
        return one_hot_to_labels(t)
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape (N,) or one-hot of shape (N, "
            f"{n_classes}); got dtype {t.dtype} and shape {t.shape}"
        )
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(
            f"labels must be in 0..{n_classes - 1}, got values from {t.min()} to {t.max()}"
        )
    return t


def cross_entropy_error(x: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy of softmax(``x``) against labels ``t`` (integers or one-hot).

    Computed from the log-sum-exp of the scores, so it is finite for any finite
    scores. The book computes :math:`-\\log(y_t + 10^{-7})` instead; the two
    differ by :math:`\\log(1 + 10^{-7}/y_t) \\le 10^{-7}/y_t` per sample.
    """
    x, labels = _rows(x, t)
    return _mean_cross_entropy(x, labels)


def _rows(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores as ``(N, C)`` and checked integer labels ``(N,)``; one 1-D sample, as the
    book allows, becomes one row."""
    if x.ndim == 1:
        x = x.reshape(1, -1)
        t = np.asarray(t)
        t = t.reshape(1, -1) if t.size == x.shape[1] > 1 else t.reshape(-1)
    labels = _labels(t, x.shape[1])
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"{labels.shape[0]} labels for {x.shape[0]} samples")
    return x, labels


def _mean_cross_entropy(x: np.ndarray, labels: np.ndarray) -> float:
    """:func:`cross_entropy_error` of ``(N, C)`` scores and checked integer labels."""
    z = x - np.max(x, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z), axis=1))
    n = x.shape[0]
    return float(np.sum(lse - z[np.arange(n), labels]) / n)


class SoftmaxWithLoss:
    """Softmax then mean cross-entropy; backward gives :math:`(y - t)/N`."""

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None
        self._labels: np.ndarray | None = None  # integer labels of the last forward

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        self.t = t
        self.y = softmax(x)
        rows, self._labels = _rows(x, t)  # checked once; backward uses them again
        self.loss = _mean_cross_entropy(rows, self._labels)
        return self.loss

    def backward(self, dout: float = 1) -> np.ndarray:
        dx = self.y.reshape(-1, self.y.shape[-1]).copy()
        n = dx.shape[0]
        dx[np.arange(n), self._labels] -= 1
        return (dx * (dout / n)).reshape(self.y.shape)
