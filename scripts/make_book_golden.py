"""Make ``tests/golden/book/*.npz`` by running the book's own code.

Each script of ``tests/book_scripts.py`` (written as a book script: ``from
common.layers import ...``) runs on the book's ``common`` package and
``dataset/mnist.py`` from ``../shared/book`` (or ``$OPTIMLAB_BOOK_DIR``); what it
prints and its ``record`` go to ``tests/golden/book/<name>.npz``, so that
``tests/test_book_scripts.py`` checks :mod:`optimlab.book` where the book is absent.
It also writes ``star_imports.json``: the names each book module's star import binds,
and ``signatures.json``: the parameters and defaults of each function and class it
defines.

    python scripts/make_book_golden.py            # all scripts
    python scripts/make_book_golden.py layers     # some
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from _book import BOOK_DIR, GOLDEN, book, run_script, save_golden  # noqa: E402
from book_scripts import SCRIPTS  # noqa: E402

MODULES = [
    "functions",
    "gradient",
    "layers",
    "multi_layer_net",
    "multi_layer_net_extend",
    "optimizer",
    "trainer",
    "util",
]


def star_names(module) -> list[str]:
    """The names ``from <module> import *`` binds (the module has no ``__all__``)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [k for k in vars(module) if not k.startswith("_")]
    return sorted(names)


def signatures(module) -> dict[str, list[list[str]]]:
    """``{name: [[parameter, repr(default) or ""], ...]}`` of what ``module`` defines."""
    out = {}
    for name, obj in vars(module).items():
        if callable(obj) and getattr(obj, "__module__", None) == module.__name__:
            params = inspect.signature(obj).parameters.values()
            out[name] = [[p.name, "" if p.default is p.empty else repr(p.default)] for p in params]
    return out


def main(names: list[str]) -> None:
    if BOOK_DIR is None:
        sys.exit("the book's code is not here: set OPTIMLAB_BOOK_DIR to the folder with common/")
    for name in names or list(SCRIPTS):
        out, record = run_script(SCRIPTS[name], "book")
        print(f"{save_golden(name, out, record)}: {len(record)} records, {len(out)} chars")
    stars = {m: star_names(book(m)) for m in MODULES}
    (GOLDEN / "star_imports.json").write_text(json.dumps(stars, indent=1) + "\n")
    sigs = {m: signatures(book(m)) for m in MODULES}
    (GOLDEN / "signatures.json").write_text(json.dumps(sigs, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
