"""Chapter 6's experiments as library functions, at small sizes (synthetic data)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from optimlab.experiments import Protocol
from optimlab.experiments.activations import run_activations
from optimlab.experiments.batch_norm import run_batch_norm
from optimlab.experiments.epochs import eval_iterations, train_epochs
from optimlab.experiments.parallel import map_jobs
from optimlab.experiments.regularize import SETTINGS, Setting, make_net, run_regularize
from optimlab.experiments.steppers import FlatStepper, NetStepper, predict
from optimlab.experiments.weight_init import run_weight_init
from optimlab.optim import create
from optimlab.plots_chapter6 import figures
from optimlab.sweep import synthetic_dataset


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=120, n_test=60, dim=20)


# -- the epoch loop ----------------------------------------------------------------------
@pytest.mark.parametrize(("n", "batch"), [(300, 100), (1000, 100), (400, 100), (50, 100)])
def test_eval_iterations_are_the_books(n, batch):
    # the book evaluates after the update of 0-based iteration i when i % iter_per_epoch == 0
    per_epoch = max(n / batch, 1)
    book = [i + 1 for i in range(10 * math.ceil(per_epoch)) if i % per_epoch == 0][:10]
    assert list(eval_iterations(n, batch, 10)) == book


def _pair(data, dtype, lam):
    nets = [
        make_net((20, 16, 16, 10), weight_decay=lam, seed=np.random.SeedSequence(4), dtype=dtype)
        for _ in range(2)
    ]
    return FlatStepper(nets[0], create("sgd:lr=0.1"), 16), NetStepper(nets[1], create("sgd:lr=0.1"))


@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_fast_and_book_steppers_train_the_same_bits(data, lam):
    """The fast engine's FlatNet and the book's classes: equal losses and accuracies in
    float64 (exact: same formulas, same order)."""
    curves = []
    for s in _pair(data, "float64", lam):
        x = data.x_train.astype("float64")
        curves.append(
            train_epochs(
                s,
                x,
                data.t_train,
                {"train": (x, data.t_train), "test": (data.x_test, data.t_test)},
                epochs=4,
                batch_size=16,
                rng=np.random.default_rng(1),
            )
        )
    fast, book = curves
    np.testing.assert_array_equal(fast.losses, book.losses)
    for k in ("train", "test"):
        np.testing.assert_array_equal(fast.accuracy[k], book.accuracy[k])
    assert len(fast.losses) == fast.eval_iterations[-1] == math.ceil(3 * 120 / 16) + 1


def test_predict_equals_the_nets_predict(data):
    net = make_net((20, 16, 16, 10), seed=np.random.SeedSequence(2), dtype="float64")
    np.testing.assert_array_equal(predict(net, data.x_test), net.predict(data.x_test))


def test_a_diverging_run_stops_and_says_when(data):
    net = make_net((20, 16, 10), seed=np.random.SeedSequence(0), dtype="float64")
    c = train_epochs(
        NetStepper(net, create("sgd:lr=1e6")),
        data.x_train,
        data.t_train,
        {"train": (data.x_train, data.t_train)},
        epochs=50,
        batch_size=16,
        rng=np.random.default_rng(0),
    )
    assert c.diverged_at is not None
    assert not math.isfinite(c.losses[c.diverged_at - 1])
    assert np.isnan(c.accuracy["train"][-1])


def _square(x: int) -> int:
    return x * x


def test_map_jobs_gives_every_result_whatever_the_workers():
    for workers in (1, 2):
        assert sorted(map_jobs(_square, [1, 2, 3], workers=workers)) == [(0, 1), (1, 4), (2, 9)]
    with pytest.raises(ValueError, match="workers"):
        list(map_jobs(_square, [1], workers=0))


# -- activations -------------------------------------------------------------------------
def test_activation_histograms_follow_the_scale():
    r = run_activations(samples=500, seed=1)
    for h in r.histograms:
        assert h.size == 500 * 100
    # near 0, tanh is the identity: each layer of std 0.01 over 100 inputs multiplies the
    # spread by 0.01 * sqrt(100) = 0.1 (10 % tolerance: one random matrix per layer)
    stds = [r.get("tanh", "std=0.01", k).std for k in range(1, 6)]
    assert all(0.09 < b / a < 0.11 for a, b in itertools.pairwise(stds))
    # He keeps ReLU activations' scale from layer to layer (within a factor 2), std 1
    # makes them explode (x sqrt(50) a layer in expectation; at least x 3 here)
    he = [r.get("relu", "He", k).std for k in range(1, 6)]
    assert max(he) / min(he) < 2
    big = [r.get("relu", "std=1", k).std for k in range(1, 6)]
    assert all(b > 3 * a for a, b in itertools.pairwise(big))
    assert "tanh" in repr(r) and "He" in repr(r)
    small = run_activations(activations=("relu",), scales=("He", "std=1"), layers=2, samples=9)
    assert len(figures(small, "x")["x"].axes) == 2 * 2


def test_activations_are_reproducible_and_checked():
    a, b = run_activations(samples=50, seed=3), run_activations(samples=50, seed=3)
    assert all(
        np.array_equal(x.counts, y.counts) for x, y in zip(a.histograms, b.histograms, strict=True)
    )
    c = run_activations(samples=50, seed=4)
    assert any(
        not np.array_equal(x.counts, y.counts)
        for x, y in zip(a.histograms, c.histograms, strict=True)
    )
    with pytest.raises(ValueError, match="unknown activation"):
        run_activations(activations=("softplus",))
    with pytest.raises(ValueError, match="layers"):
        run_activations(layers=0)


# -- weight-init -------------------------------------------------------------------------
def test_weight_init_small_std_learns_nothing(data):
    proto = Protocol(hidden=(16, 16, 16, 16), iterations=40, batch_size=16, eval_every=20)
    r = run_weight_init(data, proto)
    assert [run.label for run in r.runs] == ["std=0.01", "Xavier", "He"]
    # with std 0.01 through four hidden layers the inputs reach the scores as ~1e-8: only the
    # output biases learn (the class shares, a drift of < 0.02 from ln 10 in 40 small steps),
    # and every test image gets the same class
    np.testing.assert_allclose(r.runs[0].losses, math.log(10), atol=0.02)
    shares = np.bincount(data.t_test) / len(data.t_test)
    assert r.runs[0].final_accuracy in set(shares)
    assert r.smoothed[2][-1] < math.log(10) - 0.1  # He learns
    assert isinstance(figures(r, "x")["x"], Figure)
    assert r.summary()["runs"][2]["init"] == "He"
    assert len(r.csv_rows()) == 1 + 3 * 40


# -- regularize --------------------------------------------------------------------------
def test_regularize_is_reproducible_whatever_the_workers(data):
    settings = (SETTINGS[0], Setting("decay", 4, weight_decay=0.1))
    kw = dict(settings=settings, train_size=30, hidden=(16, 16), batch_size=10, seed=5)
    a = run_regularize(data, workers=1, **kw)
    b = run_regularize(data, workers=2, **kw)
    for ca, cb in zip(a.curves, b.curves, strict=True):
        np.testing.assert_array_equal(ca.losses, cb.losses)
        np.testing.assert_array_equal(ca.accuracy["test"], cb.accuracy["test"])
    assert len(a.curves[0].accuracy["train"]) == 201 and len(a.curves[1].accuracy["train"]) == 4
    # 30 images, 201 epochs: (nearly) memorised, and better than on unseen images
    assert a.curves[0].accuracy["train"][-1] >= 0.9 and a.gap(0) > 0
    assert a.gap(0) == a.curves[0].accuracy["train"][-1] - a.curves[0].accuracy["test"][-1]
    assert isinstance(figures(a, "x")["x"], Figure)
    assert "gap" in repr(a)


def test_regularize_rejects_bad_input(data):
    with pytest.raises(ValueError, match="train_size"):
        run_regularize(data, train_size=10_000)
    with pytest.raises(ValueError, match="dropout"):
        Setting("x", 3, dropout=1.0)
    with pytest.raises(ValueError, match="optimizer"):
        run_regularize(data, optimizer="nope")


def test_dropout_setting_trains_the_extended_net_reproducibly(data):
    settings = (Setting("dropout", 3, dropout=0.5),)
    kw = dict(settings=settings, train_size=40, hidden=(16, 16), batch_size=10, seed=2)
    a = run_regularize(data, workers=1, **kw)
    b = run_regularize(data, workers=1, **kw)
    np.testing.assert_array_equal(a.curves[0].losses, b.curves[0].losses)
    c = run_regularize(data, workers=1, **{**kw, "seed": 3})
    assert not np.array_equal(a.curves[0].losses, c.curves[0].losses)


def test_make_net_gives_equal_initial_weights_to_every_class():
    ss = np.random.SeedSequence(1)
    plain = make_net((20, 16, 16, 10), seed=ss)
    for extended in (
        make_net((20, 16, 16, 10), seed=ss, dropout=0.2),
        make_net((20, 16, 16, 10), seed=ss, batchnorm=True),
    ):
        assert type(extended).__name__ == "MultiLayerNetExtend"
        for k, w in plain.params.items():
            np.testing.assert_array_equal(extended.params[k], w)


def test_predict_equals_predict_with_dropout_and_batch_norm(data):
    ss = np.random.SeedSequence(2)
    for net in (
        make_net((20, 16, 10), seed=ss, dropout=0.3, dtype="float64"),
        make_net((20, 16, 10), seed=ss, batchnorm=True, dtype="float64"),
    ):
        NetStepper(net, create("sgd")).step(data.x_train[:20], data.t_train[:20])  # moves BN stats
        np.testing.assert_array_equal(predict(net, data.x_test), net.predict(data.x_test))


def test_batch_norm_pairs_share_batches_and_are_reproducible(data):
    kw = dict(scales=[1.0, 0.01], train_size=60, hidden=(16, 16), batch_size=20, epochs=3)
    a = run_batch_norm(data, workers=1, **kw)
    b = run_batch_norm(data, workers=2, **kw)
    for x, y in zip(a.bn + a.plain, b.bn + b.plain, strict=True):
        np.testing.assert_array_equal(x.losses, y.losses)
        np.testing.assert_array_equal(x.accuracy["train"], y.accuracy["train"])
    assert [len(c.accuracy["train"]) for c in a.bn + a.plain] == [3] * 4
    assert list(a.scales) == [1.0, 0.01]
    assert isinstance(figures(a, "x")["x"], Figure)
    assert "with BN" in repr(a)
    with pytest.raises(ValueError, match="scales"):
        run_batch_norm(data, scales=[0.1, -1.0])
