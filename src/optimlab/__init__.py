"""optimlab: learn, verify and fairly compare neural-network parameter-update rules.

Subpackages: :mod:`optimlab.optim` (update rules), :mod:`optimlab.nn` (layers,
``MultiLayerNet``, numerical gradients), :mod:`optimlab.data` (MNIST loading).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
