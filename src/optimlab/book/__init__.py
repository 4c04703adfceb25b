"""The book's ``common`` package and ``dataset.mnist``, module for module.

A script of *Deep Learning from Scratch* runs here with one change to its imports:
replace ``common.`` with ``optimlab.book.`` and ``dataset.mnist`` with
``optimlab.book.mnist``::

    from common.multi_layer_net_extend import MultiLayerNetExtend   # the book
    from optimlab.book.multi_layer_net_extend import MultiLayerNetExtend

Each module has the book's names, signatures and defaults, and a star import binds
what the book's binds (``np`` included). With the same ``np.random.seed`` the
numbers printed and plotted are the book's, bit for bit in float64. The modules
are thin: the code lives in :mod:`optimlab.nn` and :mod:`optimlab.optim`.

Modules: :mod:`~optimlab.book.functions`, :mod:`~optimlab.book.gradient`,
:mod:`~optimlab.book.layers`, :mod:`~optimlab.book.multi_layer_net`,
:mod:`~optimlab.book.multi_layer_net_extend`, :mod:`~optimlab.book.optimizer`,
:mod:`~optimlab.book.trainer`, :mod:`~optimlab.book.util`, :mod:`~optimlab.book.mnist`.
"""
