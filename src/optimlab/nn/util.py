"""Small helpers of the book's training scripts."""

from __future__ import annotations

import numpy as np

__all__ = ["shuffle_dataset"]


def shuffle_dataset(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``t`` reordered by one ``np.random.permutation(len(x))`` (the global
    generator, as the book), returned as new arrays; the inputs are not changed."""
    permutation = np.random.permutation(x.shape[0])  # noqa: NPY002 (the book's draw)
    return x[permutation], t[permutation]
