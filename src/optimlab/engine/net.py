"""``FlatNet``: the book's ``MultiLayerNet`` computation on preallocated buffers.

Same network, same formulas, same order of operations as
:class:`optimlab.nn.MultiLayerNet` with its layers (``Affine``, ``Relu`` or
``Sigmoid``, ``SoftmaxWithLoss``); what differs is only where the numbers live:

* all parameters sit in one flat contiguous buffer ``w`` (``W1, b1, W2, b2,
  ...``), the per-layer ``W[j]``/``b[j]`` are views of it, and the gradients
  in a second buffer ``g`` of the same layout, so an optimizer steps the whole
  net with one ``step_arrays`` call;
* every intermediate array is allocated once and written with ``out=``;
* the input gradient of the first layer, which nothing uses, is not computed;
* one forward pass may carry two batches stacked row-wise (``2B`` rows): the
  post-update loss of batch ``i`` and the forward pass of batch ``i + 1``
  need the same weights, so they share one GEMM per layer. Rows of a matrix
  product do not interact, so each half is the product it would be alone.

Shapes: ``sizes = [d_in, h_1, ..., h_n, n_classes]``; layer ``j`` maps
``sizes[j]`` to ``sizes[j + 1]``; ``W[j]`` is ``(sizes[j], sizes[j + 1])``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..nn.functions import BOOK_DELTA
from ..nn.net import l2_penalty

__all__ = ["FlatNet"]

_INT = {4: np.int32, 8: np.int64}  # integers as wide as float32, float64


class FlatNet:
    """A fully connected ReLU/sigmoid network on flat parameter and gradient buffers.

    Parameters
    ----------
    sizes : list of int
        Layer widths, input to output.
    params : dict
        Initial ``{'W1', 'b1', ...}`` as :class:`~optimlab.nn.MultiLayerNet` holds them;
        copied into the flat buffer.
    activation : {'relu', 'sigmoid'}
    weight_decay : float
        L2 strength :math:`\\lambda` (loss :math:`+\\tfrac\\lambda2\\sum\\lVert W\\rVert^2`,
        gradient :math:`+\\lambda W`).
    dtype : float32 or float64
    rows : int
        Most rows one forward pass carries (``2B`` for stacked passes).
    batch : int
        Rows of a backward pass ``B``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        params: Mapping[str, np.ndarray],
        *,
        activation: str = "relu",
        weight_decay: float = 0.0,
        dtype: np.dtype | type = np.float32,
        rows: int,
        batch: int,
    ) -> None:
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}")
        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.weight_decay = float(weight_decay)
        self.dtype = np.dtype(dtype)
        self.batch = int(batch)
        n_layers = len(self.sizes) - 1
        n = sum(a * c + c for a, c in zip(self.sizes[:-1], self.sizes[1:], strict=True))
        #: all parameters, ``W1, b1, W2, b2, ...`` back to back
        self.w = np.empty(n, dtype=self.dtype)
        #: their gradients, same layout
        self.g = np.zeros(n, dtype=self.dtype)
        self.W: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        self.gW: list[np.ndarray] = []
        self.gb: list[np.ndarray] = []
        off = 0
        for j, (a, c) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            self.W.append(self.w[off : off + a * c].reshape(a, c))
            self.gW.append(self.g[off : off + a * c].reshape(a, c))
            off += a * c
            self.b.append(self.w[off : off + c])
            self.gb.append(self.g[off : off + c])
            off += c
            self.W[j][...] = params[f"W{j + 1}"]
            self.b[j][...] = params[f"b{j + 1}"]
        # activations of every layer (the last holds scores, then softmax), per row
        self.out = [np.empty((rows, c), dtype=self.dtype) for c in self.sizes[1:]]
        # backward: gradient w.r.t. each hidden layer's output, B rows
        self.d_out = [np.empty((self.batch, c), dtype=self.dtype) for c in self.sizes[1:-1]]
        width = max(self.sizes[1:-1], default=1)
        self._zeros = np.zeros(rows * width, dtype=self.dtype)
        self._mask = np.empty(self.batch * width, dtype=bool)
        self._bits = np.empty(self.batch * width, dtype=_INT[self.dtype.itemsize])
        self._tmp = np.empty(self.batch * width, dtype=self.dtype)
        self._max = np.empty(rows, dtype=self.dtype)
        self._sum = np.empty(rows, dtype=self.dtype)
        self._row0 = np.arange(rows, dtype=np.intp) * self.sizes[-1]
        self._decay_tmp = [np.empty_like(W) for W in self.W] if self.weight_decay else []
        self.n_layers = n_layers

    # -- parameters ------------------------------------------------------------
    def params(self) -> dict[str, np.ndarray]:
        """``{'W1': ..., 'b1': ...}`` views of the flat buffer (the book's names)."""
        d = {}
        for j in range(self.n_layers):
            d[f"W{j + 1}"] = self.W[j]
            d[f"b{j + 1}"] = self.b[j]
        return d

    def decay(self) -> float:
        """The L2 term :math:`\\sum_l \\tfrac\\lambda2\\lVert W_l\\rVert^2` of the loss."""
        return l2_penalty(self.weight_decay, self.W)

    # -- forward ---------------------------------------------------------------
    def _activate(self, z: np.ndarray) -> None:
        if self.activation == "relu":
            # max(0, z); an array of zeros, not the scalar 0, takes NumPy's SIMD loop
            if self._zeros.size < z.size:
                self._zeros = np.zeros(z.size, dtype=self.dtype)
            np.maximum(z, self._zeros[: z.size].reshape(z.shape), out=z)
        else:  # the book's sigmoid, as Sigmoid.forward computes it (no overflow)
            e = np.exp(-np.abs(z))
            np.divide(np.where(z >= 0, 1.0, e), 1.0 + e, out=z)  # 1/(1+e) or e/(1+e)

    def predict_into(self, x: np.ndarray, outs: Sequence[np.ndarray]) -> np.ndarray:
        """Scores of ``x`` ``(N, d_in)``, written through ``outs`` (one ``(N, h)`` per layer)."""
        a = x
        last = self.n_layers - 1
        for j in range(self.n_layers):
            z = outs[j]
            np.matmul(a, self.W[j], out=z)  # x W
            np.add(z, self.b[j], out=z)  # x W + b
            if j < last:
                self._activate(z)
            a = z
        return a

    def forward(
        self,
        x: np.ndarray,
        t: np.ndarray,
        lo: int,
        hi: int,
        loss_at: int | None,
        grad_at: int | None,
    ) -> float:
        """Forward rows ``lo:hi`` of the batch buffer ``x``/``t``.

        ``loss_at``: first row of the B rows whose mean cross-entropy is
        returned (without decay; ``nan`` when ``None``). ``grad_at``: first row
        of the B rows whose softmax gradient :math:`(y - t)/B` is left in
        ``out[-1]`` for :meth:`backward`. Rows are absolute indices of the buffers.
        """
        outs = [o[lo:hi] for o in self.out]
        s = self.predict_into(x[lo:hi], outs)
        B = self.batch

        m = self._max[lo:hi]
        np.maximum.reduce(s, axis=1, out=m)  # the row maxima (np.max without its wrapper)
        np.subtract(s, m[:, None], out=s)  # z = x - max(x)
        scores = self.out[-1]
        flat = scores.reshape(-1)
        loss = float("nan")
        np.exp(s, out=s)  # e = exp(z)
        np.add.reduce(s, axis=1, out=self._sum[lo:hi])  # sum e
        if loss_at is not None:  # the book's loss: -sum(log(y_t + 1e-7)) / B
            rows = slice(loss_at, loss_at + B)
            y_t = flat[self._row0[rows] + t[rows]] / self._sum[rows]  # softmax y_t
            loss = float(-np.sum(np.log(y_t + BOOK_DELTA)) / B)
        if grad_at is not None:
            y = scores[grad_at : grad_at + B]
            np.divide(y, self._sum[grad_at : grad_at + B, None], out=y)  # softmax y
            flat[self._row0[grad_at : grad_at + B] + t[grad_at : grad_at + B]] -= 1  # y - t
            np.divide(y, B, out=y)  # (y - t) / B
        return loss

    # -- backward --------------------------------------------------------------
    def backward(self, x: np.ndarray, at: int) -> None:
        """Gradients into ``g`` from the softmax gradient that :meth:`forward` left at row ``at``.

        ``x`` is the batch buffer; rows ``at:at + B`` are the batch.
        """
        B = self.batch
        d = self.out[-1][at : at + B]
        lam = self.weight_decay
        for j in range(self.n_layers - 1, -1, -1):
            a = x[at : at + B] if j == 0 else self.out[j - 1][at : at + B]
            np.matmul(a.T, d, out=self.gW[j])  # dW = x^T dout
            np.add.reduce(d, axis=0, out=self.gb[j])  # db = sum_n dout
            if lam:
                tmp = np.multiply(self.W[j], lam, out=self._decay_tmp[j])
                np.add(self.gW[j], tmp, out=self.gW[j])  # dW + lambda W
            if j == 0:
                break  # the input gradient of the first layer is not needed
            dx = self.d_out[j - 1]
            np.matmul(d, self.W[j].T, out=dx)  # dx = dout W^T
            n = dx.size
            if self.activation == "relu":
                # Relu.backward zeroes dout where its input z was <= 0, which is where
                # a = max(z, 0) is 0 (a NaN z keeps its dout, as in the book); done as a
                # bitwise and with 0 or all ones, so that non-finite dout is zeroed too:
                # copyto(where=) branches per element and is several times slower
                keep = np.not_equal(a, 0, out=self._mask[:n].reshape(a.shape))
                bits = np.subtract(
                    0, keep, out=self._bits[:n].reshape(a.shape), dtype=self._bits.dtype
                )  # 0 or -1 (all bits set)
                np.bitwise_and(dx.view(bits.dtype), bits, out=dx.view(bits.dtype))
            else:
                tmp = np.subtract(1.0, a, out=self._tmp[:n].reshape(a.shape))
                np.multiply(dx, tmp, out=dx)
                np.multiply(dx, a, out=dx)  # dout (1 - y) y
            d = dx

    # -- evaluation ------------------------------------------------------------
    def accuracy(self, x: np.ndarray, t: np.ndarray, chunk: int = 2048) -> float:
        """Fraction of rows of ``x`` whose highest score is label ``t``."""
        n = x.shape[0]
        rows = min(chunk, n)
        outs = [np.empty((rows, c), dtype=self.dtype) for c in self.sizes[1:]]
        hits = 0
        for i in range(0, n, rows):
            j = min(i + rows, n)
            xi = x[i:j].astype(self.dtype, copy=False)  # cast chunk by chunk, if at all
            s = self.predict_into(xi, [o[: j - i] for o in outs])
            hits += int(np.count_nonzero(np.argmax(s, axis=1) == t[i:j]))
        return float(hits / n)
