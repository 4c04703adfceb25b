"""Lazy package attributes (PEP 562): a submodule is imported when one of its names is
first used, so ``import optimlab.sweep.store`` loads neither the engine nor the
downloader, and ``import optimlab`` loads no matplotlib.

A package declares its exports once, as the imports of its ``if TYPE_CHECKING:``
block (what type checkers and readers see), lists them in ``__all__``, and ends
with ``__getattr__, __dir__ = lazy_exports(__name__, __file__)``.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, init_file: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose ``__init__.py`` is ``init_file``."""
    exports = type_checking_imports(init_file)

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__


def type_checking_imports(path: str) -> dict[str, str]:
    """``{name: "." * level + module}`` for each ``from ... import name`` under
    ``if TYPE_CHECKING:`` at the top level of the file ``path``."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                if isinstance(imp, ast.ImportFrom):
                    module = "." * imp.level + (imp.module or "")
                    out.update({a.asname or a.name: module for a in imp.names})
    return out
