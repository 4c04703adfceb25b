"""optimlab's rules equal the book's code bit for bit in float64.

``Book*`` below is our own minimal transcription of the formulas of chapter 6
(``common/optimizer.py`` as the seed prints it): dicts, loops over keys, state
created on the first call, the same order of operations. optimlab must give
the same bits (``np.array_equal``), including the chunked path for large
arrays and the book's 2-D example whose params are Python floats.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import optim
from optimlab.nn import MultiLayerNet


class BookSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class BookMomentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class BookNesterov:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class BookAdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookRMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookAdam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# (book class, optimlab class, keyword arguments: defaults and non-defaults)
PAIRS = [
    (BookSGD, optim.SGD, {}),
    (BookSGD, optim.SGD, {"lr": 0.95}),
    (BookMomentum, optim.Momentum, {}),
    (BookMomentum, optim.Momentum, {"lr": 0.1, "momentum": 0.5}),
    (BookNesterov, optim.Nesterov, {}),
    (BookAdaGrad, optim.AdaGrad, {}),
    (BookAdaGrad, optim.AdaGrad, {"lr": 1.5}),
    (BookRMSprop, optim.RMSprop, {}),
    (BookRMSprop, optim.RMSprop, {"lr": 0.1, "decay_rate": 0.9}),
    (BookAdam, optim.Adam, {}),
    (BookAdam, optim.Adam, {"lr": 0.3, "beta1": 0.8, "beta2": 0.99}),
]
IDS = [
    f"{b.__name__[4:]}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}"
    for b, _, kw in PAIRS
]


def _book_problem():
    rng = np.random.default_rng(6)
    shapes = {"W1": (4, 3), "b1": (3,), "one": (1,), "zero_d": (), "big": (40_000,)}
    w0 = {k: rng.standard_normal(s) for k, s in shapes.items()}
    grads = [
        {k: rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1, s) for k, s in shapes.items()}
        for _ in range(100)
    ]
    return w0, grads


@pytest.mark.parametrize(("book_cls", "cls", "kwargs"), PAIRS, ids=IDS)
def test_arrays_bit_for_bit(book_cls, cls, kwargs):
    w0, grads = _book_problem()
    book, ours = book_cls(**kwargs), cls(**kwargs)
    p_book = {k: v.copy() for k, v in w0.items()}
    p_ours = {k: v.copy() for k, v in w0.items()}
    for g in grads:
        book.update(p_book, g)
        ours.update(p_ours, g)
        for k in w0:
            assert np.array_equal(p_ours[k], p_book[k]), k


def f2d(x, y):
    return x**2 / 20.0 + y**2


def df2d(x, y):
    return x / 10.0, 2.0 * y


@pytest.mark.parametrize(("book_cls", "cls", "kwargs"), PAIRS, ids=IDS)
def test_book_2d_example_bit_for_bit(book_cls, cls, kwargs):
    """optimizer_compare_naive.py: Python float params (-7.0, 2.0), 100 steps."""
    book, ours = book_cls(**kwargs), cls(**kwargs)
    p_book = {"x": -7.0, "y": 2.0}
    p_ours = {"x": -7.0, "y": 2.0}
    for _ in range(100):
        g_book, g_ours = {}, {}
        g_book["x"], g_book["y"] = df2d(p_book["x"], p_book["y"])
        g_ours["x"], g_ours["y"] = df2d(p_ours["x"], p_ours["y"])
        book.update(p_book, g_book)
        ours.update(p_ours, g_ours)
        assert np.array_equal(p_ours["x"], p_book["x"])
        assert np.array_equal(p_ours["y"], p_book["y"])
    # the scalars stay plain floats, usable in the book's plotting code
    assert isinstance(p_ours["x"], float)
    assert f2d(p_ours["x"], p_ours["y"]) < f2d(-7.0, 2.0)


def test_book_2d_example_settings_approach_the_minimum():
    """The book's four settings (SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3), 30 steps."""
    for opt in (
        optim.SGD(lr=0.95),
        optim.Momentum(lr=0.1),
        optim.AdaGrad(lr=1.5),
        optim.Adam(lr=0.3),
    ):
        p = {"x": -7.0, "y": 2.0}
        for _ in range(30):
            gx, gy = df2d(p["x"], p["y"])
            opt.update(p, {"x": gx, "y": gy})
        assert f2d(p["x"], p["y"]) < 0.5 * f2d(-7.0, 2.0), type(opt).__name__


def test_adam_exposes_the_book_iter_counter():
    opt = optim.Adam()
    p = {"w": np.ones(2)}
    for _ in range(3):
        opt.update(p, {"w": np.ones(2)})
    assert opt.iter == 3 == opt.t
    assert set(opt.m) == set(opt.v) == {"w"}


@pytest.mark.parametrize(("book_cls", "cls"), [(BookSGD, optim.SGD), (BookAdam, optim.Adam)])
def test_book_training_loop_on_a_net_bit_for_bit(book_cls, cls):
    """The book's MNIST-comparison loop on a small net: same losses, same params."""
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((16, 6)), rng.integers(0, 3, 16)
    nets = [MultiLayerNet(6, [5, 4], 3, seed=2) for _ in range(2)]
    opts = [book_cls(), cls()]
    for _ in range(20):
        for net, opt in zip(nets, opts, strict=True):
            opt.update(net.params, net.gradient(x, t))
    for k in nets[0].params:
        assert np.array_equal(nets[0].params[k], nets[1].params[k])
    assert nets[0].loss(x, t) == nets[1].loss(x, t)
