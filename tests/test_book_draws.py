"""``Protocol(draws="book")``: the book's random draws, so that a run is the book's
``optimizer_compare_mnist.py`` loss for loss.

The reference is the ``optimizer_compare_mnist`` script of ``book_scripts.py``
(``np.random.seed(0)``, the seed's four networks drawn in turn, one
``np.random.choice`` per iteration, 300 iterations on MNIST), run on the book's own
code where it is on this machine and always read from its golden file. Tolerance:
the issue's 1e-12 relative for the fast engine (it is in fact bit for bit, the same
operations in the same order); the reference engine must be exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from _book import BOOK_DIR, load_golden, run_script
from book_scripts import SCRIPTS
from optimlab.experiments import Dataset, Protocol, batch_indices, init_params, train

RULES = {"SGD": "sgd", "Momentum": "momentum", "AdaGrad": "adagrad", "Adam": "adam"}
BOOK = dict(draws="book", same_init=False, dtype="float64", iterations=300, eval_every=0, seed=0)


@pytest.fixture(scope="module")
def mnist():
    try:
        from optimlab.book.mnist import load_mnist

        (x, t), (xt, tt) = load_mnist(normalize=True)
    except Exception as e:  # the data package may not find its files on this machine
        pytest.skip(f"MNIST not loadable: {e}")
    return Dataset(x, t, xt[:10], tt[:10])


def _books_losses(source: str) -> dict[str, np.ndarray]:
    if source == "live":
        if BOOK_DIR is None:
            pytest.skip("the book's code is not on this machine")
        record = run_script(SCRIPTS["optimizer_compare_mnist"], "book")[1]
    else:
        record = load_golden("optimizer_compare_mnist")[1]
    return {k: np.asarray(record["loss." + k], dtype=np.float64) for k in RULES}


@pytest.mark.parametrize("source", ["golden", "live"])
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_book_draws_give_the_books_loss_curves(mnist, source, engine):
    want = _books_losses(source)
    with threadpool_limits(1):  # as the golden was made (see _book.run_script)
        runs = train(list(RULES.values()), mnist, Protocol(**BOOK), engine=engine)
    for key, run in zip(RULES, runs, strict=True):
        if engine == "reference":
            np.testing.assert_array_equal(run.losses, want[key], err_msg=key)
        else:
            np.testing.assert_allclose(run.losses, want[key], rtol=1e-12, atol=0, err_msg=key)


def test_book_draws_are_the_global_generators_after_np_random_seed():
    p = Protocol(**{**BOOK, "hidden": (4, 3), "batch_size": 8})
    params = init_params(p, 6, 2, 2)
    nxt = batch_indices(p, 50, sizes=[6, 4, 3, 2], n_runs=2)
    got = [nxt() for _ in range(3)]
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(0)  # noqa: NPY002
        for net in params:  # each network in turn, layer by layer, as the book
            for k, (n_in, n_out) in enumerate([(6, 4), (4, 3), (3, 2)], start=1):
                w = np.sqrt(2.0 / n_in) * np.random.randn(n_in, n_out)  # noqa: NPY002
                np.testing.assert_array_equal(net[f"W{k}"], w)
        for idx in got:
            np.testing.assert_array_equal(idx, np.random.choice(50, 8))  # noqa: NPY002
    finally:
        np.random.set_state(state)  # noqa: NPY002


def test_book_draws_with_same_init_share_the_first_networks_weights():
    p = Protocol(**{**BOOK, "same_init": True, "hidden": (4,), "batch_size": 8})
    a, b = init_params(p, 5, 2, 2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    # the batches follow one network's draws
    one = batch_indices(p, 40, sizes=[5, 4, 2], n_runs=2)()
    rs = np.random.RandomState(0)
    rs.randn(5, 4), rs.randn(4, 2)
    np.testing.assert_array_equal(one, rs.choice(40, 8))


def test_draws_are_checked():
    with pytest.raises(ValueError, match="draws must be"):
        Protocol(draws="numpy")
    with pytest.raises(ValueError, match="needs the layer sizes"):
        batch_indices(Protocol(draws="book"), 1000)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_fast_engine_is_the_reference_bit_for_bit_with_the_books_draws(activation):
    """Both activations are the book's formulas in both engines (float64, same bits)."""
    rng = np.random.default_rng(0)
    data = Dataset(
        rng.random((300, 20), dtype=np.float32) * 4 - 2,
        rng.integers(0, 5, 300),
        rng.random((40, 20), dtype=np.float32),
        rng.integers(0, 5, 40),
    )
    p = Protocol(
        **{**BOOK, "hidden": (16, 12), "batch_size": 32, "iterations": 60, "eval_every": 20},
        activation=activation,
        weight_init=1.0,  # large weights: pre-activations far below zero, where the
    )  # book's sigmoid 1/(1 + e^-z) and the e^z/(1 + e^z) form differ in the last bit
    opts = ["sgd:lr=0.1", "adam", "rmsprop"]
    for f, r in zip(train(opts, data, p), train(opts, data, p, engine="reference"), strict=True):
        np.testing.assert_array_equal(f.losses, r.losses)
        np.testing.assert_array_equal(f.test_accuracy, r.test_accuracy)


def test_compare_with_book_draws_writes_the_books_losses(tmp_path, mnist):
    """``optimlab compare --draws book --no-same-init --dtype float64``: loss.csv holds the
    book's train_loss of its optimizer_compare_mnist.py (the seed's four rules)."""
    import csv

    from click.testing import CliRunner

    from optimlab.cli import main

    want = _books_losses("golden")
    out = tmp_path / "out"
    args = ["compare", "--draws", "book", "--no-same-init", "--dtype", "float64"]
    args += ["--iterations", "300", "--eval-every", "0", "--seed", "0", "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    got: dict[str, list[float]] = {}
    with open(out / "loss.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            got.setdefault(row["optimizer"], []).append(float(row["loss"]))
    assert sorted(got) == sorted(RULES)
    for key in RULES:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=0, err_msg=key)


@pytest.mark.slow
@pytest.mark.skipif(BOOK_DIR is None, reason="the book's code is not on this machine")
def test_the_seeds_full_run_is_the_books(mnist):
    """The seed's own length, 2000 iterations: the fast engine's curves are the book's."""
    source = SCRIPTS["optimizer_compare_mnist"].replace(
        "max_iterations = 300", "max_iterations = 2000"
    )
    record = run_script(source, "book")[1]
    with threadpool_limits(1):
        runs = train(list(RULES.values()), mnist, Protocol(**{**BOOK, "iterations": 2000}))
    for key, run in zip(RULES, runs, strict=True):
        want = np.asarray(record["loss." + key], dtype=np.float64)
        np.testing.assert_allclose(run.losses, want, rtol=1e-12, atol=0, err_msg=key)
