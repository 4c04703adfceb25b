"""The seed's MNIST optimizer comparison as plain NumPy: the baseline for the speed benchmarks.

A re-telling of what ``optimizer_compare_mnist.py`` and the book's
``common/`` modules compute (``MultiLayerNet`` with ``Affine``/``Relu``/
``SoftmaxWithLoss`` layers, the four optimizers' ``update``), written out
straightforwardly: new arrays every step, the input gradient of every layer,
the loss recomputed after each update, float64 as the book. It is kept here,
apart from optimlab, so that the benchmark measures the code a reader of the
book would write, not optimlab's own reference classes.

It takes its batches from a callable so that every implementation in
``compare_speed.py`` trains on the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["BookNet", "book_optimizers", "train_seed"]


class BookNet:
    """784-100-100-100-100-10 ReLU net in the book's layer-by-layer style."""

    def __init__(self, params: dict[str, np.ndarray], dtype=np.float64) -> None:
        self.params = {k: np.array(v, dtype=dtype) for k, v in params.items()}
        self.n = len(params) // 2

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        inputs, masks = [], []
        h = x
        for i in range(1, self.n + 1):
            inputs.append(h)
            h = h @ self.params[f"W{i}"] + self.params[f"b{i}"]  # Affine
            if i < self.n:  # Relu: zero where the input was <= 0
                mask = h <= 0
                h = h.copy()
                h[mask] = 0
                masks.append(mask)
        return h, inputs, masks

    @staticmethod
    def _softmax(s: np.ndarray) -> np.ndarray:
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        y = self._softmax(self._forward(x)[0])
        return float(-np.sum(np.log(y[np.arange(len(t)), t] + 1e-7)) / len(t))

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        scores, inputs, masks = self._forward(x)
        y = self._softmax(scores)
        d = y.copy()
        d[np.arange(len(t)), t] -= 1
        d = d / len(t)
        grads = {}
        for i in range(self.n, 0, -1):
            grads[f"W{i}"] = inputs[i - 1].T @ d
            grads[f"b{i}"] = np.sum(d, axis=0)
            d = d @ self.params[f"W{i}"].T  # the book computes it for the first layer too
            if i > 1:
                d = d.copy()
                d[masks[i - 2]] = 0
        return grads


class _SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for k in params:
            params[k] -= self.lr * grads[k]


class _Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(w) for k, w in params.items()}
        for k in params:
            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]
            params[k] += self.v[k]


class _AdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {k: np.zeros_like(w) for k, w in params.items()}
        for k in params:
            self.h[k] += grads[k] * grads[k]
            params[k] -= self.lr * grads[k] / (np.sqrt(self.h[k]) + 1e-7)


class _Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.t, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(w) for k, w in params.items()}
            self.v = {k: np.zeros_like(w) for k, w in params.items()}
        self.t += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.t) / (1.0 - self.beta1**self.t)
        for k in params:
            self.m[k] += (1 - self.beta1) * (grads[k] - self.m[k])
            self.v[k] += (1 - self.beta2) * (grads[k] ** 2 - self.v[k])
            params[k] -= lr_t * self.m[k] / (np.sqrt(self.v[k]) + 1e-7)


def book_optimizers() -> dict[str, object]:
    """The seed's four optimizers with the book's default hyperparameters."""
    return {"SGD": _SGD(), "Momentum": _Momentum(), "AdaGrad": _AdaGrad(), "Adam": _Adam()}


def train_seed(
    x_train: np.ndarray,
    t_train: np.ndarray,
    params: Sequence[dict[str, np.ndarray]],
    next_batch: Callable[[], np.ndarray],
    iterations: int,
    dtype=np.float64,
) -> dict[str, np.ndarray]:
    """The seed's training loop; returns each optimizer's post-update losses."""
    opts = book_optimizers()
    nets = {k: BookNet(p, dtype) for k, p in zip(opts, params, strict=True)}
    losses = {k: np.zeros(iterations) for k in opts}
    for i in range(iterations):
        idx = next_batch()
        x, t = x_train[idx].astype(dtype, copy=False), t_train[idx]
        for k, opt in opts.items():
            opt.update(nets[k].params, nets[k].gradient(x, t))
            losses[k][i] = nets[k].loss(x, t)
    return losses
