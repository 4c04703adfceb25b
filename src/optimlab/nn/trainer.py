"""``Trainer``: the book's training loop (``common/trainer.py``), with its printed lines.

Each step draws ``np.random.choice(train_size, mini_batch_size)`` from NumPy's
global generator, takes ``network.gradient``, lets the optimizer ``update`` the
parameters, records ``network.loss`` on the same batch, and once per epoch the
train and test accuracy. Printed lines, with ``verbose=True``::

    train loss:<loss>
    === epoch:<e>, train acc:<a>, test acc:<a> ===
    =============== Final Test Accuracy ===============
    test acc:<a>
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..optim import create, names

__all__ = ["Trainer"]


class Trainer:
    """Train ``network`` with an optimizer chosen by name, as the book's ``Trainer``.

    Parameters
    ----------
    network
        Has ``params``, ``gradient(x, t)``, ``loss(x, t)`` and ``accuracy(x, t)``.
    x_train, t_train, x_test, t_test : numpy.ndarray
    epochs : int
        Default 20. The loop runs ``int(epochs * iter_per_epoch)`` steps, where
        ``iter_per_epoch = max(train_size / mini_batch_size, 1)``.
    mini_batch_size : int
        Default 100.
    optimizer : str
        A rule name, case-insensitive: the book's ``'SGD'``, ``'Momentum'``,
        ``'Nesterov'``, ``'AdaGrad'``, ``'RMSprop'``, ``'Adam'`` or any other of
        :func:`optimlab.optim.names`. Default ``'SGD'``.
    optimizer_param : dict
        Its constructor arguments. Default ``{'lr': 0.01}``.
    evaluate_sample_num_per_epoch : int or None
        Evaluate the accuracies on the first this many samples of each set
        (all when ``None``, the default).
    verbose : bool
        Print the book's lines. Default True.

    Attributes
    ----------
    train_loss_list, train_acc_list, test_acc_list : list
        One loss per step; one accuracy per epoch.
    """

    def __init__(
        self,
        network: Any,
        x_train: np.ndarray,
        t_train: np.ndarray,
        x_test: np.ndarray,
        t_test: np.ndarray,
        epochs: int = 20,
        mini_batch_size: int = 100,
        optimizer: str = "SGD",
        optimizer_param: Mapping[str, Any] = MappingProxyType({"lr": 0.01}),
        evaluate_sample_num_per_epoch: int | None = None,
        verbose: bool = True,
    ) -> None:
        name = str(optimizer).lower()
        if name not in names():
            raise ValueError(f"unknown optimizer {optimizer!r}; valid: {', '.join(names())}")
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.optimizer = create(name, **optimizer_param)
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list: list[Any] = []
        self.train_acc_list: list[Any] = []
        self.test_acc_list: list[Any] = []

    def train_step(self) -> None:
        """One step on a fresh batch; at the first step of each epoch, the accuracies."""
        batch_mask = np.random.choice(self.train_size, self.batch_size)  # noqa: NPY002 (book)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        self._say("train loss:" + str(loss))
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            self._evaluate()
        self.current_iter += 1

    def _evaluate(self) -> None:
        n = self.evaluate_sample_num_per_epoch
        xs, ts, xt, tt = self.x_train, self.t_train, self.x_test, self.t_test
        if n is not None:
            xs, ts, xt, tt = xs[:n], ts[:n], xt[:n], tt[:n]
        train_acc = self.network.accuracy(xs, ts)
        test_acc = self.network.accuracy(xt, tt)
        self.train_acc_list.append(train_acc)
        self.test_acc_list.append(test_acc)
        self._say(
            f"=== epoch:{self.current_epoch}, train acc:{train_acc!s}, test acc:{test_acc!s} ==="
        )

    def train(self) -> None:
        """All ``max_iter`` steps, then the test accuracy on the whole test set."""
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        self._say("=============== Final Test Accuracy ===============")
        self._say("test acc:" + str(test_acc))

    def _say(self, line: str) -> None:
        if self.verbose:
            print(line)
