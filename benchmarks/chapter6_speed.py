"""Wall time of chapter 6's experiments: optimlab's defaults vs the book's scripts, one run.

The book's scripts (``ch06/batch_norm_test.py``, ``overfit_weight_decay.py``,
``overfit_dropout.py``, ``hyperparameter_optimization.py``) are not shipped; their
training loops are reproduced here as the scripts write them, on the book's own
``common`` package imported from ``--book`` (default ``/work/shared/book``) at run
time, in float64 with NumPy's global generator, the figures left out:

* ``batch-norm``: 16 weight scales, a ``MultiLayerNetExtend`` with and one without
  batch norm stepped on the same batch, training accuracy on the 1000 images after
  every 10th update, 20 times;
* ``regularize``: ``overfit_weight_decay.py`` with lambda 0 and with lambda 0.1 (201
  epochs, train and test accuracy each epoch), then ``overfit_dropout.py`` (the
  ``Trainer``, 301 epochs, ``verbose=False``: the script prints every iteration);
* ``hyperparams``: 100 trials of the ``Trainer`` (50 epochs) on 400 + 100 images.

optimlab runs the same experiments through its library functions with their
defaults (float32, the local cores, the search through the sweep's executors and a
temporary store), figures left out too. Both sides get the data already in memory.
Each pair runs back to back, so its ratio compares times taken minutes apart on the
same machine.

    python benchmarks/chapter6_speed.py [--only batch-norm,regularize,hyperparams]
"""

# ruff: noqa: NPY002  (the book's loops draw from NumPy's global generator, as the book does)
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from optimlab.experiments.batch_norm import run_batch_norm
from optimlab.experiments.compare import load_dataset
from optimlab.experiments.hyperparams import HyperparamSearch
from optimlab.experiments.regularize import run_regularize
from optimlab.sweep.trials import run_search

PARTS = ("batch-norm", "regularize", "hyperparams")


def _book(path: Path):
    """The book's ``common`` package (its modules import each other as ``common.*``)."""
    sys.path.insert(0, str(path))
    import common.multi_layer_net as mln
    import common.multi_layer_net_extend as mlne
    import common.optimizer as opt
    import common.trainer as trainer
    import common.util as util

    return mln, mlne, opt, trainer, util


# -- the book's loops ---------------------------------------------------------------------
def book_batch_norm(book, x_train, t_train) -> None:
    _, mlne, opt, _, _ = book
    x_train, t_train = x_train[:1000], t_train[:1000]
    train_size, batch_size, lr, max_epochs = 1000, 100, 0.01, 20
    for w in np.logspace(0, -4, num=16):
        kw = dict(input_size=784, hidden_size_list=[100] * 5, output_size=10, weight_init_std=w)
        bn_network = mlne.MultiLayerNetExtend(**kw, use_batchnorm=True)
        network = mlne.MultiLayerNetExtend(**kw)
        optimizer = opt.SGD(lr=lr)
        iter_per_epoch = max(train_size / batch_size, 1)
        epoch_cnt = 0
        for i in range(1000000000):
            mask = np.random.choice(train_size, batch_size)
            xb, tb = x_train[mask], t_train[mask]
            for _network in (bn_network, network):
                grads = _network.gradient(xb, tb)
                optimizer.update(_network.params, grads)
            if i % iter_per_epoch == 0:
                network.accuracy(x_train, t_train)
                bn_network.accuracy(x_train, t_train)
                epoch_cnt += 1
                if epoch_cnt >= max_epochs:
                    break


def _book_weight_decay(book, x_train, t_train, x_test, t_test, lam: float) -> None:
    mln, _, opt, _, _ = book
    x_train, t_train = x_train[:300], t_train[:300]
    network = mln.MultiLayerNet(
        input_size=784, hidden_size_list=[100] * 6, output_size=10, weight_decay_lambda=lam
    )
    optimizer = opt.SGD(lr=0.01)
    train_size, batch_size, max_epochs = 300, 100, 201
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    for i in range(1000000000):
        mask = np.random.choice(train_size, batch_size)
        grads = network.gradient(x_train[mask], t_train[mask])
        optimizer.update(network.params, grads)
        if i % iter_per_epoch == 0:
            network.accuracy(x_train, t_train)
            network.accuracy(x_test, t_test)
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break


def book_regularize(book, x_train, t_train, x_test, t_test) -> None:
    for lam in (0.0, 0.1):
        _book_weight_decay(book, x_train, t_train, x_test, t_test, lam)
    _, mlne, _, trainer, _ = book
    network = mlne.MultiLayerNetExtend(
        input_size=784,
        hidden_size_list=[100] * 6,
        output_size=10,
        use_dropout=True,
        dropout_ration=0.2,
    )
    t = trainer.Trainer(
        network,
        x_train[:300],
        t_train[:300],
        x_test,
        t_test,
        epochs=301,
        mini_batch_size=100,
        optimizer="sgd",
        optimizer_param={"lr": 0.01},
        verbose=False,
    )
    t.train()


def book_hyperparams(book, x_train, t_train) -> None:
    mln, _, _, trainer, util = book
    x_train, t_train = util.shuffle_dataset(x_train[:500], t_train[:500])
    x_val, t_val, x_train, t_train = x_train[:100], t_train[:100], x_train[100:], t_train[100:]
    for _ in range(100):
        weight_decay = 10 ** np.random.uniform(-8, -4)
        lr = 10 ** np.random.uniform(-6, -2)
        network = mln.MultiLayerNet(
            input_size=784,
            hidden_size_list=[100] * 6,
            output_size=10,
            weight_decay_lambda=weight_decay,
        )
        t = trainer.Trainer(
            network,
            x_train,
            t_train,
            x_val,
            t_val,
            epochs=50,
            mini_batch_size=100,
            optimizer="sgd",
            optimizer_param={"lr": lr},
            verbose=False,
        )
        t.train()


# -- timing -------------------------------------------------------------------------------
def _seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--book", type=Path, default=Path("/work/shared/book"))
    ap.add_argument("--only", default=",".join(PARTS), help="comma-separated parts to time")
    args = ap.parse_args(argv)
    parts = [p for p in args.only.split(",") if p]
    bad = [p for p in parts if p not in PARTS]
    if bad:
        ap.error(f"--only: unknown part(s) {bad}; valid: {', '.join(PARTS)}")
    book = _book(args.book)
    data = load_dataset("mnist")
    x, t, xt, tt = data.x_train, data.t_train, data.x_test, data.t_test
    np.random.seed(0)
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "batch-norm": (lambda: book_batch_norm(book, x, t), lambda: run_batch_norm(data)),
        "regularize": (
            lambda: book_regularize(book, x, t, xt, tt),
            lambda: run_regularize(data),
        ),
        "hyperparams": (
            lambda: book_hyperparams(book, x, t),
            lambda: run_search(HyperparamSearch()),
        ),
    }
    print(f"{'experiment':<12} {'book s':>8} {'optimlab s':>11} {'optimlab/book':>14}")
    for name in parts:
        book_fn, ours_fn = pairs[name]
        b = _seconds(book_fn)
        o = _seconds(ours_fn)
        print(f"{name:<12} {b:>8.1f} {o:>11.1f} {o / b:>14.2f}", flush=True)


if __name__ == "__main__":
    main()
