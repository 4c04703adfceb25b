"""BatchNormalization, Dropout and MultiLayerNetExtend: backprop against central
differences, train/test behaviour, the book's random draws and, where the book is on
this machine, bit-for-bit equality with its classes.

Tolerance of the gradient checks: as in ``test_nn_gradient.py`` (max relative error
< 1e-6; central differences with h = 1e-4 are good to ~1e-9 here, a wrong formula is
off by 1e-2 or more).
"""

# The legacy global generator is used on purpose: the book draws from it.
# ruff: noqa: NPY002

from __future__ import annotations

import numpy as np
import pytest

from _book import book
from optimlab.nn import (
    BatchNormalization,
    Dropout,
    MultiLayerNetExtend,
    numerical_gradient,
    relative_error,
)

TOL = 1e-6


@pytest.fixture
def global_rng_restored():
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def _bn(d, seed=0):
    rng = np.random.default_rng(seed)
    return BatchNormalization(1.0 + rng.random(d), rng.standard_normal(d))


@pytest.mark.parametrize("n", [3, 100])
def test_batchnorm_training_output_is_normalized_then_scaled(n):
    rng = np.random.default_rng(1)
    x = 5.0 + 3.0 * rng.standard_normal((n, 4))
    bn = _bn(4)
    xn = (bn.forward(x) - bn.beta) / bn.gamma
    # mean 0 and variance var/(var + 1e-6) (the book's eps); 1e-12 covers rounding
    np.testing.assert_allclose(xn.mean(axis=0), 0.0, atol=1e-12)
    var = x.var(axis=0)
    np.testing.assert_allclose(xn.var(axis=0), var / (var + 1e-6), rtol=1e-12)
    # running statistics: 0.9 * 0 + 0.1 * batch statistic after the first step
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, 0.1 * var, rtol=1e-12)


def test_batchnorm_test_mode_uses_running_statistics_and_leaves_them():
    rng = np.random.default_rng(2)
    bn = _bn(3)
    bn.running_mean, bn.running_var = rng.standard_normal(3), 1.0 + rng.random(3)
    before = bn.running_mean.copy(), bn.running_var.copy()
    x = rng.standard_normal((5, 3))
    want = bn.gamma * (x - before[0]) / np.sqrt(before[1] + 1e-6) + bn.beta
    np.testing.assert_allclose(bn.forward(x, train_flg=False), want, rtol=1e-14)
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 2, 2)])
def test_batchnorm_backward_matches_numerical_gradient(shape):
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
    bn = _bn(int(np.prod(shape[1:])))

    def f(_):
        return float(np.sum(_bn(bn.gamma.size).forward(x) * dout))

    bn.forward(x)
    dx = bn.backward(dout)
    assert dx.shape == shape
    assert relative_error(dx, numerical_gradient(f, x)) < TOL
    for name, arr, grad in [("gamma", bn.gamma, bn.dgamma), ("beta", bn.beta, bn.dbeta)]:

        def g(_, name=name, arr=arr):
            layer = _bn(bn.gamma.size)
            setattr(layer, name, arr)
            return float(np.sum(layer.forward(x) * dout))

        assert relative_error(grad, numerical_gradient(g, arr)) < TOL, name


def test_dropout_draws_the_books_masks_from_the_global_generator(global_rng_restored):
    x = np.arange(1.0, 201.0).reshape(20, 10)
    np.random.seed(5)
    y = Dropout(0.3).forward(x)
    np.random.seed(5)
    keep = np.random.rand(20, 10) > 0.3
    np.testing.assert_array_equal(y, x * keep)


def test_dropout_train_test_and_backward():
    rng = np.random.default_rng(0)
    layer = Dropout(0.25, rng=rng)
    x = np.ones((400, 50))
    y = layer.forward(x, train_flg=True)
    # kept fraction ~ 0.75; 20000 Bernoulli draws: 5 standard deviations are 0.0153
    assert abs(y.mean() - 0.75) < 0.0153
    dout = np.full_like(x, 2.0)
    np.testing.assert_array_equal(layer.backward(dout), 2.0 * y)
    np.testing.assert_array_equal(layer.forward(x, train_flg=False), x * 0.75)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, True])
def test_dropout_ratio_is_checked(bad):
    with pytest.raises(ValueError, match="dropout_ratio must be in"):
        Dropout(bad)


def test_extend_names_order_and_shared_arrays():
    net = MultiLayerNetExtend(6, [5, 4], 3, use_dropout=True, use_batchnorm=True, seed=0)
    assert list(net.params) == [
        *["W1", "b1", "W2", "b2", "W3", "b3"],
        *["gamma1", "beta1", "gamma2", "beta2"],
    ]
    assert list(net.layers) == [
        *["Affine1", "BatchNorm1", "Activation_function1", "Dropout1"],
        *["Affine2", "BatchNorm2", "Activation_function2", "Dropout2", "Affine3"],
    ]
    assert net.layers["BatchNorm2"].gamma is net.params["gamma2"]
    assert net.layers["Affine1"].W is net.params["W1"]
    x, t = np.random.default_rng(1).standard_normal((7, 6)), np.arange(7) % 3
    assert list(net.gradient(x, t)) == [
        *["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    ]


@pytest.mark.parametrize("lam", [0.0, 0.1])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_extend_batchnorm_backprop_matches_numerical_gradient(lam, activation):
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    net = MultiLayerNetExtend(
        5, [6, 4], 3, activation, weight_decay_lambda=lam, use_batchnorm=True, seed=2
    )
    # ReLU's kink: no activation input may lie within the perturbation's reach of 0
    # (a parameter change of h = 1e-4 moves a normalized pre-activation by < 1e-2 here)
    h = x
    for name, layer in net.layers.items():
        if name.startswith("Activation"):
            assert np.min(np.abs(h)) > 1e-2
        h = layer.forward(h, True) if name.startswith("BatchNorm") else layer.forward(h)
    grads, num = net.gradient(x, t), net.numerical_gradient(x, t)
    for k in grads:
        if k in ("b1", "b2"):  # batch norm subtracts the batch mean: the bias cancels
            assert np.max(np.abs(grads[k])) < 1e-15 and np.max(np.abs(num[k])) < 1e-10
        else:
            assert relative_error(grads[k], num[k]) < TOL, k


def test_extend_dropout_train_and_test_modes():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 5))
    net = MultiLayerNetExtend(5, [6], 3, use_dropout=True, dropout_ration=0.5, seed=3)
    plain = MultiLayerNetExtend(5, [6], 3, seed=3)
    # test mode scales the hidden layer by 1 - r instead of dropping units
    h = np.maximum(x @ net.params["W1"] + net.params["b1"], 0) * 0.5
    want = h @ net.params["W2"] + net.params["b2"]
    np.testing.assert_allclose(net.predict(x), want, rtol=1e-14)
    np.testing.assert_array_equal(net.params["W1"], plain.params["W1"])
    a, b = net.predict(x, train_flg=True), net.predict(x, train_flg=True)
    assert not np.array_equal(a, b)  # fresh masks each training pass


def test_extend_seed_none_draws_weights_then_masks_as_the_book(global_rng_restored):
    np.random.seed(7)
    net = MultiLayerNetExtend(5, [4], 2, use_dropout=True)
    y = net.predict(np.ones((3, 5)), train_flg=True)
    np.random.seed(7)
    w1 = np.sqrt(2.0 / 5) * np.random.randn(5, 4)
    w2 = np.sqrt(2.0 / 4) * np.random.randn(4, 2)
    mask = np.random.rand(3, 4) > 0.5
    np.testing.assert_array_equal(net.params["W1"], w1)
    np.testing.assert_array_equal(net.params["W2"], w2)
    np.testing.assert_array_equal(y, (np.maximum(np.ones((3, 5)) @ w1, 0) * mask) @ w2)


# -- against the book's own classes, where the book is on this machine -----------------
BOOK = book("multi_layer_net_extend")


@pytest.mark.skipif(BOOK is None, reason="the book's code is not on this machine")
@pytest.mark.parametrize("n", [1, 3, 100, 128])
@pytest.mark.parametrize("dropout, batchnorm", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("lam", [0, 0.1])
def test_extend_equals_the_books_bit_for_bit(global_rng_restored, n, dropout, batchnorm, lam):
    kw = dict(weight_decay_lambda=lam, use_dropout=dropout, use_batchnorm=batchnorm)
    nets = []
    for cls in (BOOK.MultiLayerNetExtend, MultiLayerNetExtend):
        np.random.seed(n)
        nets.append(cls(12, [10, 8], 4, dropout_ration=0.3, **kw))
    rng = np.random.default_rng(n)
    x = rng.random((n, 12)).astype(np.float32)
    t = rng.integers(0, 4, n)
    got = []
    for net in nets:
        np.random.seed(1000 + n)
        got.append(
            (
                net.gradient(x, t),
                net.loss(x, t, train_flg=True),
                net.loss(x, t),
                net.predict(x),
                net.accuracy(x, t),
            )
        )
    (gb, *rest_b), (go, *rest_o) = got
    assert list(gb) == list(go)
    for k in gb:
        np.testing.assert_array_equal(go[k], gb[k], err_msg=k)
    for a, b in zip(rest_o, rest_b, strict=True):
        np.testing.assert_array_equal(a, b)
    for k in nets[0].params:
        np.testing.assert_array_equal(nets[1].params[k], nets[0].params[k])
