"""``MultiLayerNet``: the book's fully connected network, reproducible and typed.

``input -> [Affine -> activation] x len(hidden) -> Affine -> SoftmaxWithLoss``.
The loss adds L2 weight decay on the weights only:

.. math::
   L = \\mathrm{CE}(\\mathrm{softmax}(y), t) + \\tfrac{\\lambda}{2}\\sum_l \\lVert W_l\\rVert^2,
   \\qquad \\partial L/\\partial W_l \\mathrel{+}= \\lambda W_l
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .gradient import numerical_gradient as _numerical_gradient
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["ACTIVATIONS", "MultiLayerNet", "init_scale", "l2_penalty"]

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}
_HE = ("relu", "he")
_XAVIER = ("sigmoid", "xavier")


def init_scale(weight_init_std: str | float, n_in: int) -> float:
    """Standard deviation of a layer's initial weights.

    ``'relu'``/``'he'``: :math:`\\sqrt{2/n_{in}}` (He et al. 2015);
    ``'sigmoid'``/``'xavier'``: :math:`\\sqrt{1/n_{in}}` (Glorot & Bengio 2010,
    as the book simplifies it); a positive number is used as it is.
    """
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in _HE:
            return float(np.sqrt(2.0 / n_in))
        if key in _XAVIER:
            return float(np.sqrt(1.0 / n_in))
        raise ValueError(
            f"weight_init_std must be 'relu', 'he', 'sigmoid', 'xavier' or a "
            f"positive number, got {weight_init_std!r}"
        )
    if (
        isinstance(weight_init_std, bool)
        or not isinstance(weight_init_std, numbers.Real)
        or not 0 < weight_init_std < math.inf
    ):
        raise ValueError(
            f"weight_init_std must be 'relu', 'he', 'sigmoid', 'xavier' or a "
            f"positive number, got {weight_init_std!r}"
        )
    return float(weight_init_std)


def _check_sizes(input_size: int, hidden_size_list: Sequence[int], output_size: int) -> None:
    for name, v in [("input_size", input_size), ("output_size", output_size)] + [
        (f"hidden_size_list[{i}]", h) for i, h in enumerate(hidden_size_list)
    ]:
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")


def l2_penalty(lam: float, weights: Iterable[np.ndarray]) -> float:
    """:math:`\\sum_l \\tfrac\\lambda2\\lVert W_l\\rVert^2`, summed layer by layer in
    ``weights``' order (0 if :math:`\\lambda = 0`): the weight-decay term of the loss,
    shared by :class:`MultiLayerNet` and the fast engine so that both add the same bits."""
    total = 0.0
    if lam:
        for w in weights:
            total += 0.5 * lam * float(np.sum(w * w))
    return total


class MultiLayerNet:
    """Fully connected network with the book's API (``params``, ``layers``, ``gradient``).

    Parameters
    ----------
    input_size : int
        Inputs per sample (784 for MNIST).
    hidden_size_list : list of int
        Units of each hidden layer, e.g. ``[100, 100, 100, 100]``.
    output_size : int
        Classes (10 for MNIST).
    activation : {'relu', 'sigmoid'}
        Hidden activation. Default ``'relu'``.
    weight_init_std : {'relu', 'he', 'sigmoid', 'xavier'} or float
        See :func:`init_scale`. Default ``'relu'`` (He).
    weight_decay_lambda : float
        L2 strength :math:`\\lambda \\ge 0`. Default 0.
    seed : int, numpy.random.Generator or None
        Source of the initial weights. ``None`` draws from NumPy's global
        generator (``np.random.randn``) exactly as the book does, so
        ``np.random.seed`` reproduces book results; an int or Generator makes
        the net reproducible on its own.
    dtype : float32 or float64
        Parameter dtype. Default float64, as the book.
    """

    input_size: int
    output_size: int
    hidden_size_list: list[int]
    hidden_layer_num: int
    activation: str
    dtype: np.dtype
    weight_decay_lambda: float
    layers: OrderedDict[str, Any]
    last_layer: SoftmaxWithLoss

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: str | float = "relu",
        weight_decay_lambda: float = 0,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        hidden_size_list = list(hidden_size_list)
        _check_sizes(input_size, hidden_size_list, output_size)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if (
            isinstance(weight_decay_lambda, bool)
            or not isinstance(weight_decay_lambda, numbers.Real)
            or not 0 <= weight_decay_lambda < math.inf
        ):
            raise ValueError(
                f"weight_decay_lambda must be a finite number >= 0, got {weight_decay_lambda!r}"
            )
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from None
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.activation = activation
        self.weight_init_std = weight_init_std
        # a Python float: a NumPy float64 lambda would turn float32 gradients into float64
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.params: dict[str, np.ndarray] = {}
        self._init_weight(weight_init_std, seed)

        self._build_layers()

    def _build_layers(self) -> None:
        """``Affine{i}``, ``Activation_function{i}`` per hidden layer, the output
        ``Affine`` and ``last_layer``, on the arrays of ``params``."""
        act = ACTIVATIONS[self.activation]
        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            self.layers[f"Activation_function{idx}"] = act()
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
        self.last_layer = SoftmaxWithLoss()

    @property
    def sizes(self) -> list[int]:
        """All layer widths, input to output."""
        return [self.input_size, *self.hidden_size_list, self.output_size]

    def _init_weight(self, weight_init_std, seed) -> None:
        sizes = self.sizes
        rng = None if seed is None else np.random.default_rng(seed)
        for idx in range(1, len(sizes)):
            scale = init_scale(weight_init_std, sizes[idx - 1])
            shape = (sizes[idx - 1], sizes[idx])
            # the book's draw, scale * np.random.randn(n_in, n_out), from the global generator
            z = np.random.randn(*shape) if rng is None else rng.standard_normal(shape)  # noqa: NPY002
            w = scale * z
            self.params[f"W{idx}"] = np.asarray(w, dtype=self.dtype)
            self.params[f"b{idx}"] = np.zeros(sizes[idx], dtype=self.dtype)

    def _input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        n_in = int(np.prod(x.shape[1:])) if x.ndim > 1 else -1
        if x.ndim < 2 or n_in != self.input_size:
            raise ValueError(
                f"x must have shape (N, {self.input_size}) (or (N, ...) with "
                f"{self.input_size} values per sample), got {x.shape}"
            )
        return x.astype(self.dtype, copy=False)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores before softmax, shape ``(N, output_size)``."""
        x = self._input(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray) -> np.float64:
        """The book's cross-entropy (see :class:`~optimlab.nn.SoftmaxWithLoss`) plus
        :math:`\\tfrac{\\lambda}{2}\\sum\\lVert W\\rVert^2`."""
        y = self.predict(x)
        return self.last_layer.forward(y, t) + self.weight_decay_loss()

    def weight_decay_loss(self) -> float:
        """The loss's L2 term :math:`\\tfrac{\\lambda}{2}\\sum_l\\lVert W_l\\rVert^2` (0 if
        :math:`\\lambda = 0`)."""
        weights = (self.params[f"W{idx}"] for idx in range(1, self.hidden_layer_num + 2))
        return l2_penalty(self.weight_decay_lambda, weights)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> np.float64:
        """Fraction of samples whose highest score is the label (a ``numpy.float64``)."""
        y = np.argmax(self.predict(x), axis=1)
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.float64(np.sum(y == t) / x.shape[0])

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients by central differences (slow: two losses per parameter)."""

        def loss_w(_):
            return self.loss(x, t)

        return self._numerical_gradients(loss_w)

    def _numerical_gradients(self, loss_w) -> dict[str, np.ndarray]:
        """:func:`~optimlab.nn.numerical_gradient` of ``loss_w`` for every parameter, in
        :meth:`_param_keys` order (the order matters when the loss draws random numbers)."""
        return {k: _numerical_gradient(loss_w, self.params[k]) for k in self._param_keys()}

    def _param_keys(self) -> list[str]:
        keys = []
        for idx in range(1, self.hidden_layer_num + 2):
            keys += [f"W{idx}", f"b{idx}"]
        return keys

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients by backpropagation, ``{'W1': ..., 'b1': ..., ...}``."""
        self.loss(x, t)
        return self._backprop()

    def _backprop(self) -> dict[str, np.ndarray]:
        """Backward through ``last_layer`` and ``layers`` after a forward pass; the
        ``W``/``b`` gradients, with :math:`\\lambda W` added to each ``W``'s."""
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        lam = self.weight_decay_lambda
        for idx in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{idx}"]
            grads[f"W{idx}"] = affine.dW + lam * affine.W if lam else affine.dW
            grads[f"b{idx}"] = affine.db
        return grads
