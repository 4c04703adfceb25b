"""The fast training engine: the seed's MNIST protocol, bit-reproducible, on all cores.

:func:`train` has the signature and the results of
:func:`optimlab.experiments.train_reference` (tested equal: float64 to 1e-10,
float32 to 1e-4) and is what ``optimlab.experiments.train(engine="fast")``
runs. :class:`FlatNet` is the network it trains: the book's ``MultiLayerNet``
arithmetic on one flat parameter buffer and preallocated arrays.
"""

from .net import FlatNet
from .runner import default_workers, train

__all__ = ["FlatNet", "default_workers", "train"]
