"""The book's own ``common`` package, when it is on this machine (tests compare against it).

``BOOK_DIR`` is ``$OPTIMLAB_BOOK_DIR``, else ``../shared/book`` beside the repository,
else ``/work/shared/book``. :func:`book` imports ``common.<module>`` from there, or
returns ``None`` when the book is absent (the tests then use their golden files).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _book_dir() -> Path | None:
    candidates = [os.environ.get("OPTIMLAB_BOOK_DIR"), ROOT.parent / "shared" / "book"]
    candidates.append("/work/shared/book")
    for c in candidates:
        if c and (Path(c) / "common" / "layers.py").is_file():
            return Path(c)
    return None


BOOK_DIR = _book_dir()


def book(module: str):
    """``common.<module>`` of the book (e.g. ``book("layers")``), or ``None`` if absent."""
    if BOOK_DIR is None:
        return None
    saved = list(sys.path)  # the book's modules append os.pardir to it
    sys.path.insert(0, str(BOOK_DIR))
    try:
        return importlib.import_module(f"common.{module}")
    finally:
        sys.path[:] = saved
