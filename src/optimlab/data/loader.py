"""``load_mnist``: MNIST-style datasets as NumPy arrays.

File and network access happen in ``sources``; the functions here that shape
arrays (``prepare_images``, ``prepare_labels``, ``check_pair``) are pure.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from .errors import ChecksumSkippedWarning, DataError
from .idx import decode_idx
from .registry import get_dataset
from .sources import Settings, obtain

__all__ = ["NUM_CLASSES", "check_pair", "load_mnist", "prepare_images", "prepare_labels"]

NUM_CLASSES = 10

Split = tuple[np.ndarray, np.ndarray]


def check_pair(images: np.ndarray, labels: np.ndarray, image_src: str, label_src: str) -> None:
    """Raise ``DataError`` unless ``images`` (N, H, W) uint8 and ``labels`` (N,) integers agree."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{image_src}: expected unsigned-byte images of shape (N, rows, cols), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(
            f"{label_src}: expected integer labels of shape (N,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"mismatched counts: {image_src} holds {len(images)} images "
            f"but {label_src} holds {len(labels)} labels"
        )


def prepare_images(images: np.ndarray, *, normalize: bool, flatten: bool) -> np.ndarray:
    """(N, H, W) uint8 -> (N, H*W) or (N, 1, H, W); float32 in [0, 1] if ``normalize``.

    Always returns a new, writable array.
    """
    n, rows, cols = images.shape
    shaped = images.reshape((n, rows * cols) if flatten else (n, 1, rows, cols))
    if not normalize:
        return shaped.copy()
    out = np.empty(shaped.shape, dtype=np.float32)
    np.divide(shaped, np.float32(255.0), out=out)
    return out


def prepare_labels(labels: np.ndarray, *, one_hot: bool, source: str = "labels") -> np.ndarray:
    """Labels as int64 (N,), or as one-hot float32 (N, 10) if ``one_hot``."""
    labels = labels.astype(np.int64)
    if not one_hot:
        return labels
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(
            f"{source}: one-hot labels need classes 0..{NUM_CLASSES - 1}, "
            f"found {labels.min()}..{labels.max()}"
        )
    encoded = np.zeros((labels.size, NUM_CLASSES), dtype=np.float32)
    encoded[np.arange(labels.size), labels] = 1.0
    return encoded


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    dataset: str = "mnist",
    data_dir: os.PathLike | str | None = None,
) -> tuple[Split, Split]:
    """Load MNIST or Fashion-MNIST as ``(x_train, t_train), (x_test, t_test)``.

    Images are float32 in [0, 1] if ``normalize`` else uint8 0..255, shaped
    (N, 784) if ``flatten`` else (N, 1, 28, 28). Labels are int64 (N,), or
    one-hot float32 (N, 10) if ``one_hot_label``. ``dataset`` is ``"mnist"`` or
    ``"fashion-mnist"``.

    Files come from ``data_dir``, else ``$OPTIMLAB_DATA``, else the package
    (MNIST only), else the cache (``$OPTIMLAB_CACHE``, default
    ``~/.cache/optimlab``), downloaded from mirrors unless ``OPTIMLAB_OFFLINE=1``.
    Every file's decompressed SHA-256 is checked; files in ``data_dir`` that are
    valid IDX but not the standard ones load with a ``ChecksumSkippedWarning``.
    """
    spec = get_dataset(dataset)
    payloads = obtain(spec, Settings.from_env(data_dir))
    arrays = {role: decode_idx(p.data, source=p.source) for role, p in payloads.items()}
    splits = []
    for prefix in ("train", "t10k"):
        images, labels = arrays[f"{prefix}-images"], arrays[f"{prefix}-labels"]
        image_src = payloads[f"{prefix}-images"].source
        label_src = payloads[f"{prefix}-labels"].source
        check_pair(images, labels, image_src, label_src)
        splits.append(
            (
                prepare_images(images, normalize=normalize, flatten=flatten),
                prepare_labels(labels, one_hot=one_hot_label, source=label_src),
            )
        )
    skipped = [p.source for p in payloads.values() if not p.verified]
    if skipped:
        warnings.warn(
            ChecksumSkippedWarning(
                f"checksum check skipped: these files are not the standard {spec.name} "
                f"files, so they were loaded as your own IDX dataset without verification: "
                + ", ".join(skipped)
            ),
            stacklevel=2,
        )
    return splits[0], splits[1]
