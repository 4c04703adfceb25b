"""The reference MNIST protocol: seeding, batches, loss timing, divergence, validation."""

import numpy as np
import pytest

from optimlab.experiments import Dataset, Protocol, batch_indices, init_params, train_reference
from optimlab.nn import MultiLayerNet
from optimlab.optim import SGD, Adam, create


def _data(seed=0, n=300, d=12, k=4):
    rng = np.random.default_rng(seed)
    return Dataset(
        rng.random((n, d), dtype=np.float32),
        rng.integers(0, k, n),
        rng.random((60, d), dtype=np.float32),
        rng.integers(0, k, 60),
    )


SMALL = Protocol(hidden=(8, 8), iterations=30, batch_size=16, eval_every=10, dtype="float64")


def test_reference_equals_a_hand_written_book_loop():
    data = _data()
    results = train_reference(["sgd:lr=0.1", "adam"], data, SMALL)
    params = init_params(SMALL, 12, 4, 2)
    next_batch = batch_indices(SMALL, 300)
    nets, opts = [], [SGD(lr=0.1), Adam()]
    for p in params:
        net = MultiLayerNet(12, [8, 8], 4, seed=0)
        for key in p:
            net.params[key][...] = p[key]
        nets.append(net)
    losses = np.zeros((2, SMALL.iterations))
    for i in range(SMALL.iterations):
        idx = next_batch()
        xb, tb = data.x_train[idx].astype(np.float64), data.t_train[idx]
        for k in range(2):
            opts[k].update(nets[k].params, nets[k].gradient(xb, tb))
            losses[k, i] = nets[k].loss(xb, tb)
    # the same operations in the same order: equal to the last bit
    np.testing.assert_array_equal(results[0].losses, losses[0])
    np.testing.assert_array_equal(results[1].losses, losses[1])
    acc = nets[1].accuracy(data.x_test.astype(np.float64), data.t_test)
    assert results[1].test_accuracy[-1] == acc


def test_same_seed_same_results_and_same_init_shared():
    data = _data()
    a = train_reference(["sgd", "momentum"], data, SMALL)
    b = train_reference(["sgd", "momentum"], data, SMALL)
    np.testing.assert_array_equal(a[1].losses, b[1].losses)
    # same_init: SGD and Momentum take the same first gradient from the same weights;
    # their first updates are -lr g and v = -lr g: equal first post-update losses
    assert a[0].losses[0] == a[1].losses[0]
    p_same = init_params(SMALL, 12, 4, 3)
    np.testing.assert_array_equal(p_same[0]["W1"], p_same[2]["W1"])
    p_diff = init_params(
        Protocol(**{**SMALL.to_dict(), "same_init": False, "hidden": (8, 8)}), 12, 4, 3
    )
    assert not np.array_equal(p_diff[0]["W1"], p_diff[1]["W1"])


def test_batches_do_not_depend_on_the_optimizers():
    nb1, nb2 = batch_indices(SMALL, 300), batch_indices(SMALL, 300)
    first = [nb1() for _ in range(5)]
    np.testing.assert_array_equal(first, [nb2() for _ in range(5)])
    assert all(len(b) == 16 and b.min() >= 0 and b.max() < 300 for b in first)


def test_pre_update_loss_is_the_gradient_forward():
    data = _data()
    post = train_reference(["sgd:lr=0.5"], data, SMALL)[0].losses
    pre = train_reference(
        ["sgd:lr=0.5"],
        data,
        Protocol(**{**SMALL.to_dict(), "hidden": (8, 8), "loss_timing": "pre"}),
    )[0].losses
    assert not np.allclose(pre, post)
    # the pre-update loss of iteration 0 is the loss of the initial weights on batch 0
    p = init_params(SMALL, 12, 4, 1)[0]
    net = MultiLayerNet(12, [8, 8], 4, seed=0)
    for key in p:
        net.params[key][...] = p[key]
    idx = batch_indices(SMALL, 300)()
    assert pre[0] == pytest.approx(
        net.loss(data.x_train[idx].astype(np.float64), data.t_train[idx]), rel=1e-12
    )


def test_a_diverging_run_stops_and_leaves_the_others_alone():
    data = _data()
    res = train_reference([create("sgd:lr=1e200"), "sgd:lr=0.1"], data, SMALL)
    assert res[0].diverged_at is not None and 1 <= res[0].diverged_at <= SMALL.iterations
    assert np.all(np.isnan(res[0].losses[res[0].diverged_at :]))
    assert res[1].diverged_at is None and np.all(np.isfinite(res[1].losses))
    alone = train_reference(["sgd:lr=0.1"], data, SMALL)[0]
    np.testing.assert_array_equal(alone.losses, res[1].losses)


def test_eval_points():
    assert SMALL.eval_points() == [10, 20, 30]
    assert Protocol(iterations=25, eval_every=10).eval_points() == [10, 20, 25]
    assert Protocol(eval_every=0).eval_points() == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"iterations": 0}, "iterations must be an integer >= 1"),
        ({"batch_size": -3}, "batch_size must be an integer >= 1"),
        ({"eval_every": -1}, "eval_every"),
        ({"dtype": "float16"}, "dtype must be"),
        ({"hidden": ()}, "hidden"),
        ({"hidden": (10, 0)}, "hidden"),
        ({"loss_timing": "during"}, "loss_timing"),
        ({"seed": -1}, "seed"),
    ],
)
def test_protocol_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Protocol(**kwargs)


def test_batch_larger_than_training_set():
    with pytest.raises(ValueError, match="batch_size 400 is larger than the training set"):
        batch_indices(Protocol(batch_size=400), 300)


def test_one_hot_labels_are_stored_as_integers_and_both_engines_agree():
    from optimlab.experiments import train

    base = _data(k=4)
    one_hot = Dataset(base.x_train, np.eye(4)[base.t_train], base.x_test, np.eye(4)[base.t_test])
    assert one_hot.n_classes == 4 and one_hot.t_train.dtype == np.int64
    np.testing.assert_array_equal(one_hot.t_train, base.t_train)
    fast = train(["adam"], one_hot, SMALL, engine="fast")[0].losses
    ref = train(["adam"], base, SMALL, engine="reference")[0].losses
    np.testing.assert_array_equal(fast, ref)  # float64: bit for bit


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (np.full((300, 4), 0.25), "one-hot"),
        (np.full(300, -1), "labels must be integers >= 0"),
        (np.zeros(300, dtype=np.float32), "labels must be integers"),
        (np.zeros(299, dtype=np.int64), "x_train has 300 samples but t_train has 299"),
    ],
)
def test_dataset_rejects_bad_labels(labels, match):
    base = _data()
    with pytest.raises(ValueError, match=match):
        Dataset(base.x_train, labels, base.x_test, base.t_test)
