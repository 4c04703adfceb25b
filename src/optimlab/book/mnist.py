"""The book's ``dataset/mnist.py``: ``load_mnist`` with the book's dtypes and shapes.

Images: float32 scaled by 1/255 if ``normalize`` (else uint8), ``(N, 784)`` if
``flatten`` (else ``(N, 1, 28, 28)``); labels: uint8 ``(N,)``, or float64 one-hot
``(N, 10)`` if ``one_hot_label``. The arrays are :func:`optimlab.data.load_mnist`'s
(checked files, no pickle written beside the source), cast to the book's dtypes.
"""

import os

import numpy as np

from ..data import load_mnist as _load

__all__ = [
    "img_dim",
    "img_size",
    "key_file",
    "load_mnist",
    "np",
    "os",
    "test_num",
    "train_num",
]

key_file = {
    "train_img": "train-images-idx3-ubyte.gz",
    "train_label": "train-labels-idx1-ubyte.gz",
    "test_img": "t10k-images-idx3-ubyte.gz",
    "test_label": "t10k-labels-idx1-ubyte.gz",
}
train_num = 60000
test_num = 10000
img_dim = (1, 28, 28)
img_size = 784


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    """``(x_train, t_train), (x_test, t_test)`` as the book's ``load_mnist`` returns them."""
    splits = _load(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label)
    return tuple((x, _book_labels(t)) for x, t in splits)


def _book_labels(t: np.ndarray) -> np.ndarray:
    """uint8 class numbers, or float64 one-hot rows (exact: they hold only 0 and 1)."""
    return t.astype(np.float64) if t.ndim == 2 else t.astype(np.uint8)
