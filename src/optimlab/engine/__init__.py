"""The fast training engine: the seed's MNIST protocol, bit-reproducible, on all cores.

:func:`train` has the signature and the results of
:func:`optimlab.experiments.train_reference` (tested equal bit for bit, float64
and float32, at MNIST shapes too) and is what ``optimlab.experiments.train(engine="fast")``
runs. :class:`FlatNet` is the network it trains: the book's ``MultiLayerNet``
arithmetic on one flat parameter buffer and preallocated arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .net import FlatNet
    from .runner import default_workers, train

__all__ = [
    "FlatNet",
    "default_workers",
    "train",
]

__getattr__, __dir__ = lazy_exports(__name__, __file__)
