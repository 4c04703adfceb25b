"""Steppers: one network and its optimizer, stepped batch by batch by :mod:`.epochs`.

* :class:`NetStepper` drives an :mod:`optimlab.nn` network through the book's API
  (``gradient``, then ``optimizer.update(params, grads)``); any layer the book has
  (dropout, batch normalisation) works. Accuracy is taken in inference mode by
  :func:`predict`, chunk by chunk.
* :class:`FlatStepper` trains a plain ``MultiLayerNet`` (ReLU/sigmoid, weight
  decay, no dropout or batch normalisation) on the fast engine's
  :class:`~optimlab.engine.net.FlatNet`: the same formulas in the same order
  (the engine is tested equal to the book's classes), on preallocated buffers.

:func:`stepper` picks the fast one when it can (``engine="fast"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.net import FlatNet
from ..nn import Affine, BatchNormalization, Dropout, MultiLayerNet, Relu
from ..optim import Optimizer

__all__ = ["FlatStepper", "NetStepper", "predict", "stepper"]


def predict(net: Any, x: np.ndarray) -> np.ndarray:
    """Scores of ``net`` on ``x`` in inference mode (``train_flg=False``): ``net.predict``'s
    values, bit for bit, with less memory traffic.

    ``Affine`` and ``Relu`` layers are computed in place (``x W + b``, then
    ``max(x, 0)``: the values ``Relu.forward`` gives, without its mask and copy);
    every other layer runs its own ``forward``. Nothing the layers keep for
    ``backward`` changes. All rows go in one pass: splitting them would change
    how BLAS blocks the products, and with it the last bits.
    """
    a = np.asarray(x).astype(net.params["W1"].dtype, copy=False)
    a = a.reshape(a.shape[0], -1)
    for layer in net.layers.values():
        if isinstance(layer, Affine):
            z = np.matmul(a, layer.W)  # x W
            a = np.add(z, layer.b, out=z)  # x W + b
        elif isinstance(layer, Relu):
            a = np.maximum(a, 0, out=a)  # a is an Affine's (or a layer's) fresh output
        elif isinstance(layer, (Dropout, BatchNormalization)):
            a = layer.forward(a, False)
        else:
            a = layer.forward(a)
    return a


def _accuracy(scores: np.ndarray, t: np.ndarray) -> float:
    return float(np.count_nonzero(np.argmax(scores, axis=1) == t) / len(t))


class NetStepper:
    """An :mod:`optimlab.nn` network (book API) and its optimizer."""

    def __init__(self, net: Any, optimizer: Optimizer) -> None:
        self.net = net
        self.optimizer = optimizer

    def step(self, x: np.ndarray, t: np.ndarray) -> float:
        grads = self.net.gradient(x, t)
        loss = float(self.net.last_layer.loss)
        decay = getattr(self.net, "weight_decay_loss", None)
        if decay is not None:
            loss += decay()
        self.optimizer.update(self.net.params, grads)
        return loss

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        return _accuracy(predict(self.net, x), t)


class FlatStepper:
    """A plain ``MultiLayerNet``'s computation on a ``FlatNet`` (its initial weights copied)."""

    def __init__(self, net: Any, optimizer: Optimizer, batch_size: int) -> None:
        self.flat = FlatNet(
            net.sizes,
            net.params,
            activation=net.activation,
            weight_decay=net.weight_decay_lambda,
            dtype=net.dtype,
            rows=batch_size,
            batch=batch_size,
        )
        self.optimizer = optimizer
        self._items = [("params", self.flat.w, self.flat.g)]

    def step(self, x: np.ndarray, t: np.ndarray) -> float:
        f = self.flat
        x = x.astype(f.dtype, copy=False)
        loss = f.forward(x, t, lo=0, hi=x.shape[0], loss_at=0, grad_at=0) + f.decay()
        f.backward(x, at=0)  # the loss above is the one before the update
        self.optimizer.step_arrays(self._items)
        return loss

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        return self.flat.accuracy(x, t, chunk=max(len(x), 1))  # one pass, as predict


def stepper(net: Any, optimizer: Optimizer, batch_size: int, engine: str = "fast"):
    """:class:`FlatStepper` for a plain ``MultiLayerNet`` with ``engine="fast"``, else
    :class:`NetStepper`."""
    if engine not in ("fast", "reference"):
        raise ValueError(f"engine must be 'fast' or 'reference', got {engine!r}")
    if engine == "fast" and type(net) is MultiLayerNet:
        return FlatStepper(net, optimizer, batch_size)
    return NetStepper(net, optimizer)
