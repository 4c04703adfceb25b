"""The fast engine computes what the reference computes, bit-reproducibly on any workers."""

import math

import numpy as np
import pytest

from optimlab.engine import FlatNet, train
from optimlab.experiments import Dataset, Protocol, init_params, train_reference
from optimlab.experiments import train as experiments_train
from optimlab.nn import MultiLayerNet
from optimlab.optim import SGD, Adam, Optimizer, names


def _data(seed=0, n=400, d=20, k=5, n_test=90):
    rng = np.random.default_rng(seed)
    return Dataset(
        rng.random((n, d), dtype=np.float32),
        rng.integers(0, k, n),
        rng.random((n_test, d), dtype=np.float32),
        rng.integers(0, k, n_test),
    )


def _small(**kw):
    base = dict(hidden=(16, 12, 8), batch_size=32, iterations=100, eval_every=30, dtype="float64")
    return Protocol(**{**base, **kw})


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _assert_agree(fast, ref, rtol):
    assert len(fast) == len(ref)
    for f, r in zip(fast, ref, strict=True):
        assert (f.label, f.spec, f.diverged_at) == (r.label, r.spec, r.diverged_at)
        assert f.hyperparameters == r.hyperparameters
        np.testing.assert_array_equal(f.eval_iterations, r.eval_iterations)
        finite = np.isfinite(r.losses)
        np.testing.assert_array_equal(np.isfinite(f.losses), finite)
        assert _rel(f.losses[finite], r.losses[finite]) <= rtol
        np.testing.assert_allclose(f.test_accuracy, r.test_accuracy, atol=1.5 / 90)


ALL_RULES = names()


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_every_rule_agrees_with_the_reference_over_100_iterations(dtype, rtol):
    data, p = _data(), _small(dtype=dtype)
    _assert_agree(train(ALL_RULES, data, p), train_reference(ALL_RULES, data, p), rtol)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("loss_timing", ["post", "pre"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_protocol_options_agree_with_the_reference(
    activation, loss_timing, weight_decay, dtype, rtol
):
    data = _data(1)
    p = _small(
        activation=activation,
        loss_timing=loss_timing,
        weight_decay=weight_decay,
        dtype=dtype,
        same_init=False,
        weight_init=0.1 if activation == "sigmoid" else "relu",
    )
    opts = ["sgd:lr=0.1", "momentum", "adagrad", "adam"]
    _assert_agree(train(opts, data, p), train_reference(opts, data, p), rtol)


def test_float64_post_losses_are_the_reference_bit_for_bit():
    # same operations in the same order; a stricter check than the 1e-10 the issue asks
    data, p = _data(2), _small()
    for f, r in zip(
        train(["adam", "rmsprop"], data, p),
        train_reference(["adam", "rmsprop"], data, p),
        strict=True,
    ):
        np.testing.assert_array_equal(f.losses, r.losses)
        np.testing.assert_array_equal(f.test_accuracy, r.test_accuracy)


@pytest.mark.parametrize(
    "block, block_bytes", [(1, None), (3, None), (7, None), (1000, None), (20, 0)]
)
@pytest.mark.parametrize("loss_timing", ["post", "pre"])
def test_any_block_of_iterations_gives_the_reference_bits(
    monkeypatch, block, block_bytes, loss_timing
):
    # a worker runs a block of iterations of one run, then of the next, on batches it
    # gathered once; 23 iterations end in a partial block; BLOCK_BYTES 0 forces blocks of 1
    import optimlab.engine.runner as runner

    monkeypatch.setattr(runner, "BLOCK", block)
    if block_bytes is not None:
        monkeypatch.setattr(runner, "BLOCK_BYTES", block_bytes)
    data = _data(6)
    p = _small(iterations=23, eval_every=5, loss_timing=loss_timing, weight_decay=0.01)
    opts = ["adam", "sgd:lr=0.1", "momentum"]
    ref = train_reference(opts, data, p)
    for workers in (1, 2):
        for f, r in zip(train(opts, data, p, workers=workers), ref, strict=True):
            np.testing.assert_array_equal(f.losses, r.losses)
            np.testing.assert_array_equal(f.test_accuracy, r.test_accuracy)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_real_mnist_shapes_agree_with_the_reference(mnist_small, dtype, rtol):
    p = Protocol(iterations=4, eval_every=4, dtype=dtype)
    opts = ["sgd", "momentum", "adagrad", "adam"]
    fast, ref = train(opts, mnist_small, p), train_reference(opts, mnist_small, p)
    for f, r in zip(fast, ref, strict=True):
        assert _rel(f.losses, r.losses) <= rtol
        assert abs(f.test_accuracy[-1] - r.test_accuracy[-1]) <= 2 / len(mnist_small.t_test)


@pytest.fixture(scope="module")
def mnist_small():
    """The real MNIST arrays (the package ships them), test set cut to 2000 samples."""
    try:
        from optimlab.data import load_mnist

        (x, t), (xt, tt) = load_mnist()
    except Exception as e:  # the data package is another developer's work in progress
        pytest.skip(f"MNIST not loadable: {e}")
    return Dataset(x, t, xt[:2000], tt[:2000])


def test_bit_identical_whatever_the_workers():
    data, p = _data(3), _small(dtype="float32", same_init=False)
    opts = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "lion"]
    runs = [train(opts, data, p, workers=w) for w in (1, 2, 3, 7)]
    for other in runs[1:]:
        for a, b in zip(runs[0], other, strict=True):
            np.testing.assert_array_equal(a.losses, b.losses)
            np.testing.assert_array_equal(a.test_accuracy, b.test_accuracy)


def test_thread_workers_give_the_same_bits(monkeypatch):
    import optimlab.engine.runner as runner

    data, p = _data(3), _small(dtype="float32", iterations=40)
    opts = ["sgd", "adagrad", "adam"]
    procs = train(opts, data, p, workers=2)
    monkeypatch.setattr(runner, "FORK_WORKERS", False)
    seen = []
    threads = train(opts, data, p, workers=2, progress=lambda i, losses: seen.append(i))
    assert seen == list(range(1, 41))
    for a, b in zip(procs, threads, strict=True):
        np.testing.assert_array_equal(a.losses, b.losses)
    with pytest.raises(RuntimeError, match="boom at step 3"):
        train(["sgd", _Boom(0.1)], data, p, workers=2)


def test_a_run_does_not_depend_on_the_runs_beside_it():
    data, p = _data(4), _small(dtype="float32")
    alone = train(["adam"], data, p, workers=1)[0]
    among = train(["sgd", "adam", "adagrad"], data, p, workers=2)[1]
    np.testing.assert_array_equal(alone.losses, among.losses)


def _exploding():
    return SGD(1.0, schedule=lambda t: 10.0 ** (3 * t))  # overflows float32 near t = 13


def test_divergence_stops_only_that_run():
    data, p = _data(5), _small(iterations=40, eval_every=10, dtype="float32")
    with np.errstate(all="ignore"):
        ref = train_reference([_exploding(), "adam"], data, p)
    fast = train([_exploding(), "adam"], data, p, workers=2)
    assert ref[0].diverged_at is not None and 1 < ref[0].diverged_at < 40
    assert fast[0].diverged_at == ref[0].diverged_at
    k = fast[0].diverged_at
    assert not math.isfinite(fast[0].losses[k - 1])
    assert np.isnan(fast[0].losses[k:]).all()
    assert _rel(fast[0].losses[: k - 1], ref[0].losses[: k - 1]) <= 1e-4
    assert fast[1].diverged_at is None
    assert _rel(fast[1].losses, ref[1].losses) <= 1e-4
    assert np.isnan(fast[0].test_accuracy[-1]) and np.isfinite(fast[1].test_accuracy).all()


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_is_called_once_per_iteration_in_order(workers):
    seen, rows = [], []

    def progress(i, losses):
        seen.append(i)
        rows.append(losses)

    runs = train(
        ["sgd", "adam", "momentum"],
        _data(),
        _small(iterations=25),
        progress=progress,
        workers=workers,
    )
    assert seen == list(range(1, 26))
    # each call carries every run's loss of that iteration, as the results record it
    np.testing.assert_array_equal(np.array(rows).T, np.array([r.losses for r in runs]))


def test_results_record_times_and_eval_points():
    p = _small(iterations=35, eval_every=10)
    (r,) = train([Adam()], _data(), p, labels=["mine"])
    assert r.label == "mine" and r.spec.startswith("adam:")
    np.testing.assert_array_equal(r.eval_iterations, [10, 20, 30, 35])
    assert r.seconds > 0 and np.all(np.diff(r.eval_seconds) >= 0)
    assert r.eval_seconds[-1] <= r.seconds


def test_the_optimizer_instances_are_stepped_whatever_the_workers():
    states = []
    for workers in (1, 2):
        opts = [Adam(), SGD()]
        train(opts, _data(), _small(iterations=7), workers=workers)
        assert opts[0].t == 7 and opts[1].t == 7
        states.append(opts[0].state_dict())
    for name in ("m", "v"):  # the workers' state comes back to the caller's instances
        np.testing.assert_array_equal(
            states[0]["state"][name]["params"], states[1]["state"][name]["params"]
        )
    assert np.any(states[1]["state"]["v"]["params"] != 0)


def test_eval_every_zero_and_batch_larger_than_data():
    (r,) = train(["sgd"], _data(), _small(eval_every=0, iterations=3))
    assert r.test_accuracy.size == 0 and r.eval_iterations.size == 0
    with pytest.raises(ValueError, match="batch_size"):
        train(["sgd"], _data(n=10), _small(batch_size=32))


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda: [Adam(), "sgd"], None),
        (lambda: ["sgd", 3], "optimizers\\[1\\]"),
    ],
)
@pytest.mark.parametrize("engine", [train, train_reference])
def test_bad_optimizers_are_refused(bad, match, engine):
    if match is None:  # a stepped optimizer
        opts = bad()
        opts[0].t = 1
        match = "already taken 1 steps"
    else:
        opts = bad()
    with pytest.raises(ValueError, match=match):
        engine(opts, _data(), _small(iterations=2))


@pytest.mark.parametrize("engine", [train, train_reference])
def test_a_shared_optimizer_and_bad_labels_are_refused(engine):
    # both engines share one check (experiments.protocol.prepare_runs)
    opt = SGD()
    with pytest.raises(ValueError, match="same object"):
        engine([opt, opt], _data(), _small(iterations=2))
    with pytest.raises(ValueError, match="labels"):
        engine(["sgd"], _data(), _small(iterations=2), labels=["a", "b"])


def test_bad_workers_are_refused():
    with pytest.raises(ValueError, match="workers"):
        train(["sgd"], _data(), _small(iterations=2), workers=0)


class _Boom(Optimizer):
    name = "boom"

    def _step(self, w, g, state, c, tmp):
        if self.t == 3:
            raise RuntimeError("boom at step 3")
        np.subtract(w, g * c[0], out=w)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_in_a_worker_reaches_the_caller(workers):
    with pytest.raises(RuntimeError, match="boom at step 3"):
        train(["sgd", _Boom(0.1)], _data(), _small(iterations=10), workers=workers)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_flatnet_gradient_equals_multilayernet(activation):
    rng = np.random.default_rng(0)
    p = _small(activation=activation)
    params = init_params(p, 20, 5, 1)[0]
    ref = MultiLayerNet(20, [16, 12, 8], 5, activation=activation, weight_decay_lambda=0.1, seed=0)
    for k, v in params.items():
        ref.params[k][...] = v
    net = FlatNet(
        [20, 16, 12, 8, 5],
        params,
        activation=activation,
        weight_decay=0.1,
        dtype=np.float64,
        rows=32,
        batch=32,
    )
    x, t = rng.random((32, 20)), rng.integers(0, 5, 32)
    grads = ref.gradient(x, t)
    loss = net.forward(x, t, lo=0, hi=32, loss_at=0, grad_at=0) + net.decay()
    net.backward(x, at=0)
    assert loss == pytest.approx(ref.loss(x, t), rel=1e-14)
    mine = dict(zip(net.params(), _grads(net), strict=True))
    for k, w in net.params().items():
        assert np.shares_memory(w, net.w) and np.shares_memory(mine[k], net.g)
        np.testing.assert_allclose(mine[k], grads[k], rtol=1e-12, atol=1e-15)
    assert net.accuracy(x, t) == ref.accuracy(x, t)


def test_flatnet_relu_gradient_with_non_finite_pre_activations_is_the_books():
    """The book's ReLU zeroes the gradient where its input was ``<= 0``: a NaN input keeps
    its gradient, ``+inf`` keeps it and ``-inf`` zeroes it. One NaN column, one ``+inf``
    and one ``-inf`` column in layer 2 must give the book's gradient (NaN where it has NaN)."""
    rng = np.random.default_rng(1)
    p = _small()
    params = init_params(p, 20, 5, 1)[0]
    W2 = params["W2"]
    W2[:, 0], W2[:, 1], W2[:, 2] = np.nan, 1e308, -1e308  # z2: NaN, +inf, -inf (overflow)
    ref = MultiLayerNet(20, [16, 12, 8], 5, seed=0)
    for k, v in params.items():
        ref.params[k][...] = v
    net = FlatNet([20, 16, 12, 8, 5], params, dtype=np.float64, rows=32, batch=32)
    x, t = rng.random((32, 20)), rng.integers(0, 5, 32)
    with np.errstate(all="ignore"):
        grads = ref.gradient(x, t)
        net.forward(x, t, lo=0, hi=32, loss_at=0, grad_at=0)
        net.backward(x, at=0)
        z2 = np.maximum(x @ params["W1"] + params["b1"], 0) @ W2
    assert np.isnan(z2[:, 0]).all() and (z2[:, 1] == np.inf).all() and (z2[:, 2] == -np.inf).all()
    mine = dict(zip(net.params(), _grads(net), strict=True))
    assert np.isnan(grads["W2"][:, 0]).all()  # kept where the input was NaN
    assert (grads["W2"][:, 2] == 0).all()  # zeroed where it was -inf
    for k in grads:
        np.testing.assert_array_equal(np.isnan(mine[k]), np.isnan(grads[k]), err_msg=k)
        np.testing.assert_allclose(mine[k], grads[k], rtol=1e-12, atol=1e-15, err_msg=k)


def _grads(net):
    for j in range(net.n_layers):
        yield net.gW[j]
        yield net.gb[j]


def test_experiments_train_uses_the_fast_engine(monkeypatch):
    from optimlab.experiments import training

    calls = []
    real = training._TRAINERS["fast"]
    assert real is train
    monkeypatch.setitem(
        training._TRAINERS, "fast", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    experiments_train(["sgd"], _data(), _small(iterations=3))
    assert calls == [1]
