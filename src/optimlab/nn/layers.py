"""Layers with ``forward``/``backward``, as in the book's ``common/layers.py``.

Shapes: ``x`` is ``(N, d_in)`` (``Affine`` flattens any trailing axes),
``dout`` has the shape of the layer's output. ``backward`` returns the
gradient with respect to the layer's input and, for ``Affine``, stores
``dW`` and ``db``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .functions import book_cross_entropy, sigmoid, softmax

__all__ = [
    "Affine",
    "BatchNormalization",
    "Dropout",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "exact_cross_entropy",
    "one_hot_to_labels",
]


class Relu:
    """:math:`y = \\max(0, x)`; :math:`\\partial y/\\partial x = [x > 0]`."""

    def __init__(self) -> None:
        self.mask: Any = None

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
    """:math:`y = 1/(1+e^{-x})` (the book's formula, :func:`~optimlab.nn.functions.sigmoid`);
    :math:`\\partial y/\\partial x = y(1-y)`."""

    def __init__(self) -> None:
        self.out: Any = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(x)
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
        self.x: Any = None
        self.original_x_shape: Any = None
        self.dW: Any = None
        self.db: Any = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return dx.reshape(self.original_x_shape)


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


def exact_cross_entropy(x: np.ndarray, labels: np.ndarray) -> np.float64:
    """Mean :math:`\\log\\sum_j e^{x_j} - x_t` of ``(N, C)`` scores: the exact
    cross-entropy of softmax(``x``), finite for any finite scores.

    The book's loss, :math:`-\\log(y_t + 10^{-7})`, is smaller by
    :math:`\\log(1 + 10^{-7}/y_t) \\le 10^{-7}/y_t` per sample, and saturates at
    :math:`-\\log 10^{-7} \\approx 16.1` where :math:`y_t` underflows.
    """
    z = x - np.max(x, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z), axis=1))
    n = x.shape[0]
    return np.float64(np.sum(lse - z[np.arange(n), labels]) / n)


class SoftmaxWithLoss:
    """Softmax then mean cross-entropy; ``backward`` gives :math:`(y - t)/N`.

    The loss is the book's, :math:`-\\frac1N\\sum_n\\log(y_{n,t_n} + 10^{-7})` computed
    from the softmax output ``y`` in the book's order of operations, so printed losses
    and curves are the book's bit for bit. ``exact=True`` computes the exact
    cross-entropy from the scores instead (:func:`exact_cross_entropy`): larger by
    at most :math:`10^{-7}/y_t` per sample, and not capped at 16.1 when a
    :math:`y_t` underflows to 0. The gradient is the same either way.

    Labels ``t`` are integers ``(N,)`` or one-hot ``(N, C)``; soft labels and labels
    out of range raise ``ValueError``. ``loss`` is a ``numpy.float64``, as the book's.
    """

    def __init__(self, *, exact: bool = False) -> None:
        self.exact = bool(exact)
        self.loss: np.float64 | None = None
        self.y: Any = None
        self.t: Any = None
        self._labels: Any = None  # integer labels of the last forward

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.float64:
        self.t = t
        self.y = softmax(x)
        rows, self._labels = _rows(x, t)  # checked once; backward uses them again
        if self.exact:
            self.loss = exact_cross_entropy(rows, self._labels)
        else:
            self.loss = np.float64(book_cross_entropy(self.y.reshape(rows.shape), self._labels))
        return self.loss

    def backward(self, dout: float = 1) -> np.ndarray:
        """:math:`(y - t)/N`, times ``dout`` unless it is 1 (the book ignores ``dout``)."""
        dx = self.y.reshape(-1, self.y.shape[-1]).copy()
        n = dx.shape[0]
        dx[np.arange(n), self._labels] -= 1  # y - t
        dx = dx / n  # (y - t) / N, divided as the book divides
        if dout != 1:
            dx *= dout
        return dx.reshape(self.y.shape)


class Dropout:
    """Dropout (Srivastava et al. 2014), the book's form: no rescaling while training.

    Training (``train_flg=True``): each unit is kept where a uniform draw exceeds
    ``dropout_ratio``, :math:`y = x \\cdot m`; testing: :math:`y = x(1 - r)`.
    ``backward`` passes ``dout`` where units were kept.

    Parameters
    ----------
    dropout_ratio : float
        Probability :math:`r` of dropping a unit, in [0, 1). Default 0.5 (book).
    rng : numpy.random.Generator, optional
        Source of the masks. ``None`` (default) draws ``np.random.rand(*x.shape)``
        from NumPy's global generator, as the book does, so ``np.random.seed``
        reproduces the book's masks.
    """

    def __init__(
        self, dropout_ratio: float = 0.5, *, rng: np.random.Generator | None = None
    ) -> None:
        if isinstance(dropout_ratio, bool) or not 0 <= dropout_ratio < 1:
            raise ValueError(f"dropout_ratio must be in [0, 1), got {dropout_ratio!r}")
        self.dropout_ratio = dropout_ratio
        self.rng = rng
        self.mask: Any = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        if not train_flg:
            return x * (1.0 - self.dropout_ratio)
        # the book draws np.random.rand(*x.shape) from the global generator
        u = np.random.rand(*x.shape) if self.rng is None else self.rng.random(x.shape)  # noqa: NPY002
        self.mask = u > self.dropout_ratio
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.mask


class BatchNormalization:
    """Batch normalization (Ioffe & Szegedy 2015) in the book's order of operations.

    Training: :math:`\\mu = \\bar x`, :math:`x_c = x - \\mu`, :math:`\\sigma^2 =
    \\overline{x_c^2}`, :math:`s = \\sqrt{\\sigma^2 + 10^{-6}}`, :math:`\\hat x = x_c/s`,
    :math:`y = \\gamma\\hat x + \\beta` (means over the batch axis), and the running
    statistics move as :math:`m \\leftarrow \\rho m + (1-\\rho)\\mu`,
    :math:`v \\leftarrow \\rho v + (1-\\rho)\\sigma^2`. Testing uses ``running_mean``
    and ``running_var`` in place of :math:`\\mu, \\sigma^2`. A 4-D input ``(N, C, H, W)``
    is normalised per feature ``C*H*W`` (as the book does), not per channel.

    Parameters
    ----------
    gamma, beta : numpy.ndarray, shape (D,)
        Scale and shift; used as given (not copied), so an optimizer's in-place
        update is seen by the layer. ``dgamma``/``dbeta`` hold their gradients.
    momentum : float
        :math:`\\rho` of the running statistics. Default 0.9 (book).
    running_mean, running_var : numpy.ndarray, optional
        Initial running statistics; zeros of the input's width on the first
        forward pass when ``None`` (book).
    """

    #: the book's :math:`\\epsilon` (written ``10e-7`` there)
    eps = 1e-6

    def __init__(
        self,
        gamma: np.ndarray,
        beta: np.ndarray,
        momentum: float = 0.9,
        running_mean: np.ndarray | None = None,
        running_var: np.ndarray | None = None,
    ) -> None:
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape: Any = None
        self.running_mean: Any = running_mean
        self.running_var: Any = running_var
        self.batch_size: Any = None
        self.xc: Any = None
        self.xn: Any = None
        self.std: Any = None
        self.dgamma: Any = None
        self.dbeta: Any = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        self.input_shape = x.shape
        x2 = x.reshape(x.shape[0], -1)
        if self.running_mean is None:
            dtype = np.result_type(self.gamma, x2)
            self.running_mean = np.zeros(x2.shape[1], dtype=dtype)
            self.running_var = np.zeros(x2.shape[1], dtype=dtype)
        if train_flg:
            xn = self._normalize_batch(x2)
        else:
            xn = (x2 - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return (self.gamma * xn + self.beta).reshape(self.input_shape)

    def _normalize_batch(self, x: np.ndarray) -> np.ndarray:
        """:math:`\\hat x` of a training batch ``(N, D)``; keeps what backward needs."""
        mu = x.mean(axis=0)
        xc = x - mu
        var = np.mean(xc**2, axis=0)
        std = np.sqrt(var + self.eps)
        xn = xc / std
        self.batch_size, self.xc, self.xn, self.std = x.shape[0], xc, xn, std
        rho = self.momentum
        self.running_mean = rho * self.running_mean + (1 - rho) * mu
        self.running_var = rho * self.running_var + (1 - rho) * var
        return xn

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """:math:`\\partial L/\\partial x` of the last training forward pass; sets
        ``dgamma`` :math:`=\\sum \\hat x\\,d_{out}` and ``dbeta`` :math:`=\\sum d_{out}`."""
        d = dout.reshape(dout.shape[0], -1)
        n, xc, std = self.batch_size, self.xc, self.std
        self.dbeta = d.sum(axis=0)
        self.dgamma = np.sum(self.xn * d, axis=0)
        dxn = self.gamma * d
        dxc = dxn / std  # through xn = xc / std
        dstd = -np.sum((dxn * xc) / (std * std), axis=0)
        dvar = 0.5 * dstd / std  # std = sqrt(var + eps)
        dxc += (2.0 / n) * xc * dvar  # var = mean(xc^2)
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / n  # xc = x - mean(x)
        return dx.reshape(self.input_shape)
