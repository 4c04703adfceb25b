"""``MultiLayerNetExtend``: :class:`~optimlab.nn.MultiLayerNet` with dropout and batch norm.

``input -> [Affine -> BatchNorm? -> activation -> Dropout?] x len(hidden) -> Affine
-> SoftmaxWithLoss``, as the book's ``common/multi_layer_net_extend.py``: same
layer names, same parameter order (``W1, b1, ..., gamma1, beta1, ...``), same
random draws from NumPy's global generator when no ``seed`` is given.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .layers import Affine, BatchNormalization, Dropout, SoftmaxWithLoss
from .net import ACTIVATIONS, MultiLayerNet

__all__ = ["MultiLayerNetExtend"]

_MODAL = (BatchNormalization, Dropout)  # layers that behave differently in training


class MultiLayerNetExtend(MultiLayerNet):
    """Fully connected network with weight decay, dropout and batch normalization.

    Parameters are those of :class:`~optimlab.nn.MultiLayerNet`, plus:

    use_dropout : bool
        A :class:`~optimlab.nn.Dropout` after each hidden activation. Default False.
    dropout_ration : float
        Its drop probability (the book's spelling). Default 0.5.
    use_batchnorm : bool
        A :class:`~optimlab.nn.BatchNormalization` between each hidden ``Affine``
        and its activation, with ``gamma{i}`` (ones) and ``beta{i}`` (zeros) in
        ``params`` and in :meth:`gradient`. Default False.

    ``seed`` (keyword-only): ``None`` draws the weights and the dropout masks from
    NumPy's global generator, as the book does; an int or Generator draws both,
    weights first, from one ``numpy.random.Generator``.

    ``predict``, ``loss`` take ``train_flg`` (default False: test mode, as the
    book); :meth:`gradient` and :meth:`numerical_gradient` use training mode.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: str | float = "relu",
        weight_decay_lambda: float = 0,
        use_dropout: bool = False,
        dropout_ration: float = 0.5,
        use_batchnorm: bool = False,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.use_dropout = bool(use_dropout)
        self.dropout_ration = dropout_ration
        self.use_batchnorm = bool(use_batchnorm)
        self._rng = None if seed is None else np.random.default_rng(seed)
        if self.use_dropout:
            Dropout(dropout_ration)  # checks the ratio before any weight is drawn
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation,
            weight_init_std,
            weight_decay_lambda,
            seed=self._rng,
            dtype=dtype,
        )

    def _build_layers(self) -> None:
        act = ACTIVATIONS[self.activation]
        self.layers = OrderedDict()
        for idx, width in enumerate(self.hidden_size_list, start=1):
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            if self.use_batchnorm:
                gamma = self.params[f"gamma{idx}"] = np.ones(width, dtype=self.dtype)
                beta = self.params[f"beta{idx}"] = np.zeros(width, dtype=self.dtype)
                self.layers[f"BatchNorm{idx}"] = BatchNormalization(gamma, beta)
            self.layers[f"Activation_function{idx}"] = act()
            if self.use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(self.dropout_ration, rng=self._rng)
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Scores before softmax; ``train_flg`` selects training mode for dropout and
        batch norm (masks drawn, batch statistics used and the running ones moved)."""
        x = self._input(x)
        for layer in self.layers.values():
            x = layer.forward(x, train_flg) if isinstance(layer, _MODAL) else layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False) -> np.float64:
        """Cross-entropy (the book's) plus the L2 term, in the mode ``train_flg`` says."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + self.weight_decay_loss()

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Central differences of the training-mode loss, parameters in :meth:`gradient`'s
        order (with dropout, each loss draws new masks, as in the book)."""

        def loss_w(_):
            return self.loss(x, t, train_flg=True)

        return self._numerical_gradients(loss_w)

    def _param_keys(self) -> list[str]:
        keys = []
        for idx in range(1, self.hidden_layer_num + 2):
            keys += [f"W{idx}", f"b{idx}"]
            if self.use_batchnorm and idx <= self.hidden_layer_num:
                keys += [f"gamma{idx}", f"beta{idx}"]
        return keys

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients by backpropagation of the training-mode loss, ``W``/``b`` and, with
        batch norm, ``gamma``/``beta`` of each layer."""
        self.loss(x, t, train_flg=True)
        grads = self._backprop()
        for idx in range(1, self.hidden_layer_num + 1):
            if self.use_batchnorm:
                bn = self.layers[f"BatchNorm{idx}"]
                grads[f"gamma{idx}"], grads[f"beta{idx}"] = bn.dgamma, bn.dbeta
        return {k: grads[k] for k in self._param_keys()}
