"""Backpropagation against central differences, for whole nets and each layer.

Tolerance: max relative error < 1e-6 in float64 (``relative_error``: largest
absolute difference over the largest magnitude of the array). The central
difference with h = 1e-4 has truncation error ~h^2 |f'''| / 6, about 1e-9
relative here, and rounding error ~eps_mach |f| / h, about 1e-12; so 1e-6
leaves three orders of margin while any wrong backward formula (a missing
factor, transpose or term, e.g. forgetting lambda W) gives errors of 1e-2 or
more. ReLU's kink is the one place central differences are wrong: the tests
check that no pre-activation lies within the perturbation's reach of 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimlab.nn import (
    Affine,
    MultiLayerNet,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    cross_entropy_error,
    gradient_check,
    numerical_gradient,
    relative_error,
    softmax,
)

TOL = 1e-6
H = 1e-4


def _data(seed=0, n=6, d=5, c=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


def _min_preactivation(net, x):
    """Smallest |a| over hidden pre-activations (inputs of the activation layers)."""
    smallest, h = np.inf, x
    for name, layer in net.layers.items():
        if name.startswith("Activation"):
            smallest = min(smallest, float(np.min(np.abs(h))))
        h = layer.forward(h)
    return smallest


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("weight_decay_lambda", [0.0, 0.1])
def test_net_backprop_matches_numerical_gradient(activation, weight_decay_lambda):
    x, t = _data()
    net = MultiLayerNet(
        5, [4, 3], 3, activation=activation, weight_decay_lambda=weight_decay_lambda, seed=1
    )
    net.params["b1"][:] = 0.1  # nonzero biases, so that db is exercised
    if activation == "relu":
        # a weight change of h moves a pre-activation by at most h * |input|
        reach = H * max(float(np.max(np.abs(x))), 10.0)
        assert _min_preactivation(net, x) > reach, "pick another seed: a ReLU kink is in reach"
    errors = gradient_check(net, x, t)
    assert set(errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(errors.values()) < TOL, errors


def test_weight_decay_gradient_is_checked_not_just_present():
    """The check would catch a backward pass that forgot lambda W."""
    x, t = _data(2)
    net = MultiLayerNet(5, [4], 3, activation="sigmoid", weight_decay_lambda=0.5, seed=3)
    num = net.numerical_gradient(x, t)
    net.weight_decay_lambda = 0.0
    wrong = net.gradient(x, t)
    net.weight_decay_lambda = 0.5
    assert relative_error(wrong["W1"], num["W1"]) > 1e-2


def test_gradient_with_one_hot_labels_equals_integer_labels():
    x, t = _data(4)
    net = MultiLayerNet(5, [4], 3, seed=5)
    g_int = net.gradient(x, t)
    g_hot = net.gradient(x, np.eye(3)[t])
    for k in g_int:
        np.testing.assert_array_equal(g_int[k], g_hot[k])


# -- layers one by one -----------------------------------------------------------


def _check_layer(forward_backward, x, rng):
    """Backward of f(x) = sum(R * layer(x)) against its numerical gradient."""
    out, backward = forward_backward(x)
    r = rng.standard_normal(out.shape)
    dx = backward(r)
    num = numerical_gradient(lambda _: float(np.sum(r * forward_backward(x)[0])), x)
    assert relative_error(dx, num) < TOL


def test_affine_backward():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((6, 4)), rng.standard_normal(4)
    layer = Affine(w, b)
    x = rng.standard_normal((3, 2, 3))  # trailing axes are flattened, as in the book

    def fb(x_):
        out = layer.forward(x_)
        return out, layer.backward

    _check_layer(fb, x, rng)
    layer.forward(x)
    r = rng.standard_normal((3, 4))
    dx = layer.backward(r)
    assert dx.shape == x.shape
    num_w = numerical_gradient(lambda _: float(np.sum(r * layer.forward(x))), w)
    num_b = numerical_gradient(lambda _: float(np.sum(r * layer.forward(x))), b)
    assert relative_error(layer.dW, num_w) < TOL
    assert relative_error(layer.db, num_b) < TOL


def test_affine_uses_the_arrays_it_was_given():
    w, b = np.ones((2, 2)), np.zeros(2)
    layer = Affine(w, b)
    w -= 1.0  # an optimizer's in-place update
    np.testing.assert_array_equal(layer.forward(np.ones((1, 2))), [[0.0, 0.0]])


@pytest.mark.parametrize("cls", [Relu, Sigmoid])
def test_activation_backward(cls):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 1e-2] = 0.5  # keep ReLU's kink out of reach
    layer = cls()

    def fb(x_):
        return layer.forward(x_), layer.backward

    _check_layer(fb, x, rng)


def test_relu_forward_backward_values():
    layer = Relu()
    x = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(layer.forward(x), [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 5.0, 5.0]])), [[0.0, 0.0, 5.0]])
    assert x[0, 0] == -1.0  # input not modified


def test_sigmoid_is_stable_for_huge_inputs():
    layer = Sigmoid()
    y = layer.forward(np.array([[-1e4, -40.0, 0.0, 40.0, 1e4]]))
    np.testing.assert_allclose(
        y, [[0.0, 1 / (1 + np.exp(40.0)), 0.5, 1 / (1 + np.exp(-40.0)), 1.0]], rtol=1e-15, atol=0
    )
    assert np.all(np.isfinite(layer.backward(np.ones((1, 5)))))


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_backward(one_hot):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4)) * 3
    t = rng.integers(0, 4, 5)
    labels = np.eye(4)[t] if one_hot else t
    layer = SoftmaxWithLoss()
    layer.forward(x, labels)
    dx = layer.backward(1)
    # (y - t)/N is the gradient of the exact cross-entropy; the book's loss adds 1e-7
    # to y_t, which moves its gradient by ~1e-7/y_t relative (1e-6 here): check the exact one
    num = numerical_gradient(lambda _: SoftmaxWithLoss(exact=True).forward(x, labels), x)
    assert relative_error(dx, num) < TOL
    exact = SoftmaxWithLoss(exact=True)
    exact.forward(x, labels)
    np.testing.assert_array_equal(exact.backward(1), dx)  # the option changes the loss only
    # (y - t) / N exactly
    np.testing.assert_allclose(dx, (softmax(x) - np.eye(4)[t]) / 5, rtol=1e-14, atol=1e-17)


def test_softmax_with_loss_value_is_the_book_formula():
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    y = np.exp(x - x.max(axis=1, keepdims=True))
    y = y / y.sum(axis=1, keepdims=True)
    book = -np.sum(np.log(y[np.arange(8), t] + 1e-7)) / 8  # the book's cross_entropy_error
    ours = SoftmaxWithLoss().forward(x, t)
    assert ours == book and type(ours) is np.float64  # bit for bit, and the book's type
    exact = SoftmaxWithLoss(exact=True).forward(x, t)
    # the book's is smaller by log(1 + 1e-7 / y_t) <= 1e-7 / y_t per sample (rounding
    # of the two formulas adds a few ulp: 1e-15 of slack)
    assert -1e-15 <= exact - book <= 1e-7 / np.min(y[np.arange(8), t])


def test_softmax_with_loss_is_stable_for_huge_scores():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    # the book's loss saturates at -log(1e-7) where y_t underflows to 0
    book = SoftmaxWithLoss().forward(x, np.array([0, 0]))
    assert book == pytest.approx((-np.log1p(1e-7) - np.log(1e-7)) / 2, rel=1e-15)
    layer = SoftmaxWithLoss(exact=True)
    loss = layer.forward(x, np.array([0, 0]))  # right with certainty, wrong by 1e4
    assert np.isfinite(loss)
    assert loss == pytest.approx((0.0 + (1e4 + np.log(2.0))) / 2, rel=1e-15)
    dx = layer.backward(1)
    np.testing.assert_allclose(dx, [[0, 0, 0], [-0.5, 0.25, 0.25]], atol=1e-15)
    np.testing.assert_allclose(softmax(x).sum(axis=1), [1.0, 1.0], rtol=1e-15)
    one_hot = SoftmaxWithLoss(exact=True).forward(x, np.array([[1, 0, 0], [1, 0, 0]]))
    assert one_hot == loss


def test_cross_entropy_error_takes_probabilities_and_a_single_sample_as_the_book():
    y = softmax(np.array([0.1, 2.0, -1.0]))
    want = -np.log(y[1] + 1e-7)
    assert cross_entropy_error(y[None, :], np.array([1])) == want
    assert cross_entropy_error(y, np.array([0.0, 1.0, 0.0])) == want
    assert cross_entropy_error(y, np.array(1)) == want


@pytest.mark.parametrize(
    ("t", "match"),
    [
        (np.array([0.0, 1.0]), "integers"),
        (np.zeros((2, 4)), "one-hot"),
        (np.array([0, 1, 2]), "3 labels for 2 samples"),
    ],
)
def test_bad_labels_raise(t, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), t)


# -- the helpers themselves ------------------------------------------------------


def test_numerical_gradient_of_a_known_function_restores_x():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    g = numerical_gradient(lambda z: float(np.sum(z**3)), x)
    np.testing.assert_allclose(g, 3 * before**2, rtol=1e-7)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_what_it_cannot_perturb():
    with pytest.raises(ValueError, match="float array"):
        numerical_gradient(lambda z: 0.0, np.arange(3))
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        numerical_gradient(lambda z: 0.0, x)


@pytest.mark.parametrize("view", [lambda a: a.T, lambda a: a[:, ::2], lambda a: a[::-1, 1:]])
def test_numerical_gradient_perturbs_views_in_place(view):
    """A view (e.g. a transposed weight) is perturbed through to its base array."""
    base = np.arange(12.0).reshape(3, 4) / 10
    x = view(base)
    g = numerical_gradient(lambda _: float(np.sum(base**2)), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8)


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) == pytest.approx(1e-12)
    assert relative_error(np.array([2.0]), np.array([1.0])) == 0.5
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(2), np.zeros(3))
