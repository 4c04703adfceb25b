"""MultiLayerNet: the book's API, initial scales, reproducibility, dtype, weight decay, errors."""

# The legacy global generator is used on purpose: seed=None must draw from it as the book does.
# ruff: noqa: NPY002

from __future__ import annotations

import numpy as np
import pytest

from optimlab.nn import MultiLayerNet, Relu, Sigmoid, SoftmaxWithLoss, init_scale


@pytest.fixture
def global_rng_restored():
    """Tests that seed NumPy's global generator give it back as they found it."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def test_book_api_names_and_shared_arrays():
    net = MultiLayerNet(input_size=6, hidden_size_list=[5, 4], output_size=3, seed=0)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert list(net.layers) == [
        "Affine1",
        "Activation_function1",
        "Affine2",
        "Activation_function2",
        "Affine3",
    ]
    assert isinstance(net.layers["Activation_function1"], Relu)
    assert isinstance(net.last_layer, SoftmaxWithLoss)
    assert net.hidden_layer_num == 2
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (6, 5), "b1": (5,), "W2": (5, 4), "b2": (4,), "W3": (4, 3), "b3": (3,)}
    for i in (1, 2, 3):
        assert net.layers[f"Affine{i}"].W is net.params[f"W{i}"]
        assert net.layers[f"Affine{i}"].b is net.params[f"b{i}"]
    assert all(np.all(net.params[f"b{i}"] == 0) for i in (1, 2, 3))
    sig = MultiLayerNet(6, [5], 3, activation="sigmoid", seed=0)
    assert isinstance(sig.layers["Activation_function1"], Sigmoid)


def test_predict_loss_accuracy_gradient_shapes():
    rng = np.random.default_rng(0)
    net = MultiLayerNet(6, [5], 3, seed=1)
    x, t = rng.standard_normal((10, 6)), rng.integers(0, 3, 10)
    assert net.predict(x).shape == (10, 3)
    assert np.isfinite(net.loss(x, t))
    acc = net.accuracy(x, t)
    assert 0.0 <= acc <= 1.0
    assert net.accuracy(x, np.eye(3)[t]) == acc
    assert acc == np.mean(np.argmax(net.predict(x), axis=1) == t)
    assert net.predict(x.reshape(10, 2, 3)).shape == (10, 3)  # (N, ...) inputs, as MNIST images
    grads = net.gradient(x, t)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in net.params.items()}


@pytest.mark.parametrize(
    ("activation", "init", "factor"),
    [
        ("relu", "relu", 2.0),
        ("relu", "he", 2.0),
        ("relu", "He", 2.0),
        ("sigmoid", "sigmoid", 1.0),
        ("sigmoid", "xavier", 1.0),
        ("sigmoid", "relu", 2.0),  # the init is chosen by weight_init_std, not activation
    ],
)
def test_initial_weight_scales(activation, init, factor):
    """std of W_l is sqrt(factor / n_in): He factor 2, Xavier (book's form) factor 1.

    With n weights the sample std has relative standard error 1/sqrt(2n):
    0.2% for W1 (120 000 weights) and 0.3% for W2 (60 000); 2% is > 6 standard errors.
    """
    net = MultiLayerNet(400, [300], 200, activation=activation, weight_init_std=init, seed=0)
    for i, n_in in ((1, 400), (2, 300)):
        w = net.params[f"W{i}"]
        want = np.sqrt(factor / n_in)
        assert abs(float(np.std(w)) / want - 1.0) < 0.02, (i, np.std(w), want)
        assert abs(float(np.mean(w))) < 0.02 * want * 10
        assert init_scale(init, n_in) == pytest.approx(want, rel=1e-15)


def test_numeric_init_std():
    net = MultiLayerNet(300, [200], 10, weight_init_std=0.01, seed=0)
    assert float(np.std(net.params["W1"])) == pytest.approx(0.01, rel=0.02)
    assert float(np.std(net.params["W2"])) == pytest.approx(0.01, rel=0.05)


def test_seed_makes_nets_reproducible():
    a = MultiLayerNet(8, [6, 5], 4, seed=42)
    b = MultiLayerNet(8, [6, 5], 4, seed=42)
    c = MultiLayerNet(8, [6, 5], 4, seed=43)
    d = MultiLayerNet(8, [6, 5], 4, seed=np.random.default_rng(42))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        np.testing.assert_array_equal(a.params[k], d.params[k])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_seed_none_draws_from_the_global_generator_as_the_book(global_rng_restored):
    np.random.seed(0)
    a = MultiLayerNet(8, [6], 4)
    np.random.seed(0)
    b = MultiLayerNet(8, [6], 4)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    # exactly the book's draws: scale * np.random.randn(n_in, n_out), layer by layer
    np.random.seed(0)
    w1 = np.sqrt(2.0 / 8) * np.random.randn(8, 6)
    w2 = np.sqrt(2.0 / 6) * np.random.randn(6, 4)
    np.testing.assert_array_equal(a.params["W1"], w1)
    np.testing.assert_array_equal(a.params["W2"], w2)


@pytest.mark.parametrize("lam", [0.0, 0.1, np.float64(0.1)])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_float32_net_stays_float32(activation, lam):
    rng = np.random.default_rng(0)
    net = MultiLayerNet(
        6, [5], 3, activation=activation, weight_decay_lambda=lam, seed=0, dtype=np.float32
    )
    assert all(p.dtype == np.float32 for p in net.params.values())
    x = rng.standard_normal((4, 6))  # float64 input is cast
    t = rng.integers(0, 3, 4)
    assert net.predict(x).dtype == np.float32
    grads = net.gradient(x, t)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    assert net.layers["Affine1"].dW.dtype == np.float32
    for name, layer in net.layers.items():
        if name.startswith("Activation"):
            assert (layer.out if activation == "sigmoid" else layer.mask) is not None


def test_float64_is_the_default():
    net = MultiLayerNet(3, [2], 2, seed=0)
    assert net.dtype == np.float64 and net.params["W1"].dtype == np.float64


def test_weight_decay_adds_half_lambda_w_squared_and_lambda_w():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    plain = MultiLayerNet(4, [3, 3], 3, seed=7)
    lam = 0.3
    decayed = MultiLayerNet(4, [3, 3], 3, seed=7, weight_decay_lambda=lam)
    sum_w2 = sum(float(np.sum(decayed.params[f"W{i}"] ** 2)) for i in (1, 2, 3))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + 0.5 * lam * sum_w2, rel=1e-14)
    g0, g = plain.gradient(x, t), decayed.gradient(x, t)
    for i in (1, 2, 3):
        np.testing.assert_allclose(
            g[f"W{i}"] - g0[f"W{i}"], lam * decayed.params[f"W{i}"], rtol=1e-12, atol=1e-15
        )
        np.testing.assert_array_equal(g[f"b{i}"], g0[f"b{i}"])  # biases are not decayed


def test_no_hidden_layer_is_softmax_regression():
    net = MultiLayerNet(4, [], 3, seed=0)
    assert list(net.layers) == ["Affine1"] and list(net.params) == ["W1", "b1"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_size": 0}, "input_size"),
        ({"input_size": 2.5}, "input_size"),
        ({"input_size": True}, "input_size"),
        ({"output_size": -1}, "output_size"),
        ({"hidden_size_list": [3, 0]}, r"hidden_size_list\[1\]"),
        ({"hidden_size_list": ["3"]}, r"hidden_size_list\[0\]"),
        ({"activation": "tanh"}, "activation"),
        ({"activation": "ReLU"}, "activation"),
        ({"weight_init_std": "glorot"}, "weight_init_std"),
        ({"weight_init_std": 0}, "weight_init_std"),
        ({"weight_init_std": -0.01}, "weight_init_std"),
        ({"weight_init_std": float("inf")}, "weight_init_std"),
        ({"weight_init_std": float("nan")}, "weight_init_std"),
        ({"weight_decay_lambda": -0.1}, "weight_decay_lambda"),
        ({"weight_decay_lambda": float("nan")}, "weight_decay_lambda"),
        ({"weight_decay_lambda": "0.1"}, "weight_decay_lambda"),
        ({"dtype": np.float16}, "dtype"),
        ({"dtype": np.int32}, "dtype"),
        ({"dtype": "not-a-dtype"}, "dtype"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    args = {"input_size": 4, "hidden_size_list": [3], "output_size": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        MultiLayerNet(**args)


def test_input_of_the_wrong_width_raises():
    net = MultiLayerNet(4, [3], 2, seed=0)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        net.predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        net.loss(np.zeros(4), np.array([0]))


@pytest.mark.parametrize(
    ("t", "match"),
    [
        (np.full((4, 10), 0.1), "one-hot"),
        (np.array([0, 1, 2, 10]), r"labels must be in 0\.\.9"),
        (np.array([0, -1, 2, 3]), r"labels must be in 0\.\.9"),
    ],
)
def test_loss_rejects_soft_or_out_of_range_labels(t, match):
    net = MultiLayerNet(6, [5], 10, seed=0)
    with pytest.raises(ValueError, match=match):
        net.loss(np.random.default_rng(0).random((4, 6)), t)
