"""Convolution and max pooling through ``im2col``, as the book's chapter 7.

Shapes: images are ``(N, C, H, W)``; filters ``(FN, C, FH, FW)``. ``im2col``
unrolls every receptive field into one row, so a convolution is one matrix
product; ``col2im`` sums the rows back onto the image (overlapping fields add).
Arrays are float64 as in the book, whatever the input's dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Convolution", "Pooling", "col2im", "conv_output_size", "im2col"]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """:math:`(n + 2p - f)/s + 1` (a float, as in the book; an integer when the filter fits)."""
    return (input_size + 2 * pad - filter_size) / stride + 1


def _out_hw(H: int, W: int, fh: int, fw: int, stride: int, pad: int) -> tuple[int, int]:
    return (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Receptive fields as rows: ``(N, C, H, W)`` -> ``(N*out_h*out_w, C*filter_h*filter_w)``.

    Row ``(n, i, j)`` holds the padded image's window at output position ``(i, j)``,
    channel-major; zero padding of ``pad`` on each side of ``H`` and ``W``.
    """
    N, C, H, W = input_data.shape
    out_h, out_w = _out_hw(H, W, filter_h, filter_w, stride, pad)
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for dy in range(filter_h):  # one filter offset at a time: a strided slice of the image
        for dx in range(filter_w):
            col[:, :, dy, dx] = img[
                :, :, dy : dy + stride * out_h : stride, dx : dx + stride * out_w : stride
            ]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Inverse layout of :func:`im2col`, summing overlaps: rows -> ``input_shape`` image."""
    N, C, H, W = input_shape
    out_h, out_w = _out_hw(H, W, filter_h, filter_w, stride, pad)
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for dy in range(filter_h):
        for dx in range(filter_w):
            img[:, :, dy : dy + stride * out_h : stride, dx : dx + stride * out_w : stride] += col[
                :, :, dy, dx
            ]
    return img[:, :, pad : H + pad, pad : W + pad]


class Convolution:
    """2-D convolution (cross-correlation) :math:`y = x \\star W + b` by ``im2col``.

    ``W`` ``(FN, C, FH, FW)`` and ``b`` ``(FN,)`` are used as given (an optimizer's
    in-place update is seen); ``backward`` sets ``dW`` and ``db``.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> None:
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x: Any = None
        self.col: Any = None
        self.col_W: Any = None
        self.dW: Any = None
        self.db: Any = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        FN, _, FH, FW = self.W.shape
        N, _, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        self.x = x
        self.col = im2col(x, FH, FW, self.stride, self.pad)
        self.col_W = self.W.reshape(FN, -1).T  # one filter per column
        out = np.dot(self.col, self.col_W) + self.b
        return out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        FN, C, FH, FW = self.W.shape
        d = dout.transpose(0, 2, 3, 1).reshape(-1, FN)  # one row per output position
        self.db = np.sum(d, axis=0)
        self.dW = np.dot(self.col.T, d).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(d, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    """Max pooling over ``pool_h x pool_w`` windows; ``backward`` routes ``dout`` to the
    first maximum of each window (``np.argmax``)."""

    def __init__(self, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0) -> None:
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x: Any = None
        self.arg_max: Any = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)  # the book's size (pad not counted)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)  # one window per row
        self.x = x
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        return out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        d = dout.transpose(0, 2, 3, 1)
        size = self.pool_h * self.pool_w
        dmax = np.zeros((d.size, size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = d.flatten()
        dcol = dmax.reshape(d.shape[0] * d.shape[1] * d.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
