"""``optimlab.book`` module by module: the book's signatures and defaults, the loader's
dtypes and shapes, and thinness (each class is the one of ``optimlab.nn``/``optim``)."""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Mapping

import numpy as np
import pytest

from _book import GOLDEN
from optimlab import nn, optim
from optimlab.book import mnist

SIGNATURES = json.loads((GOLDEN / "signatures.json").read_text())
CASES = [(m, name) for m in SIGNATURES for name in SIGNATURES[m] if not name.startswith("_")]


def _default(p: inspect.Parameter) -> str:
    if p.default is p.empty:
        return ""
    # Trainer's optimizer_param default is a read-only mapping (no shared mutable dict)
    return repr(dict(p.default)) if isinstance(p.default, Mapping) else repr(p.default)


@pytest.mark.parametrize("module, name", CASES)
def test_the_books_parameters_and_defaults(module, name):
    """Positional parameters and defaults are the book's; optimlab's extras (``seed``,
    ``dtype``, ``rng``, ``exact``, ``eps``, ...) are keyword-only."""
    obj = getattr(importlib.import_module(f"optimlab.book.{module}"), name)
    params = inspect.signature(obj).parameters.values()
    ours = [[p.name, _default(p)] for p in params if p.kind is not p.KEYWORD_ONLY]
    assert ours == SIGNATURES[module][name]


def test_the_book_modules_are_thin():
    from optimlab.book import layers, multi_layer_net, multi_layer_net_extend, optimizer

    assert layers.BatchNormalization is nn.BatchNormalization
    assert layers.Convolution is nn.Convolution
    assert multi_layer_net.MultiLayerNet is nn.MultiLayerNet
    assert multi_layer_net_extend.MultiLayerNetExtend is nn.MultiLayerNetExtend
    assert optimizer.Adam is optim.Adam


@pytest.fixture(scope="module")
def plain():
    try:
        return mnist.load_mnist(normalize=False)
    except Exception as e:  # the data package may not find its files on this machine
        pytest.skip(f"MNIST not loadable: {e}")


@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot_label", [True, False])
def test_load_mnist_has_the_books_dtypes_and_shapes(plain, flatten, one_hot_label):
    (x, t), (xt, tt) = mnist.load_mnist(
        normalize=True, flatten=flatten, one_hot_label=one_hot_label
    )
    shape = (784,) if flatten else (1, 28, 28)
    assert x.shape == (60000, *shape) and xt.shape == (10000, *shape)
    assert x.dtype == xt.dtype == np.float32
    # the book: astype(float32), then /= 255.0, which divides by float32(255)
    raw = plain[0][0].reshape(x.shape)
    np.testing.assert_array_equal(x, raw.astype(np.float32) / np.float32(255.0))
    labels = plain[0][1]
    assert labels.dtype == np.uint8 and labels.shape == (60000,)
    if one_hot_label:
        assert t.dtype == np.float64 and t.shape == (60000, 10)
        np.testing.assert_array_equal(t, np.eye(10)[labels])
    else:
        np.testing.assert_array_equal(t, labels)
        assert t.dtype == tt.dtype == np.uint8


def test_load_mnist_without_normalize_gives_bytes(plain):
    (x, _), (xt, _) = plain
    assert x.dtype == xt.dtype == np.uint8 and x.shape == (60000, 784) and int(x.max()) == 255
