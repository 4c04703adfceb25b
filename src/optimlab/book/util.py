"""The book's ``common/util.py``: ``smooth_curve`` (from :mod:`optimlab.curves`; for 11
points or more, the book's; the book's returns fewer points than it is given below
that), ``shuffle_dataset``, ``im2col``, ``col2im`` and ``conv_output_size``."""

import numpy as np

from ..curves import smooth_curve
from ..nn.conv import col2im, conv_output_size, im2col
from ..nn.util import shuffle_dataset

__all__ = ["col2im", "conv_output_size", "im2col", "np", "shuffle_dataset", "smooth_curve"]
