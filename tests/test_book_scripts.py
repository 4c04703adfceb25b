"""The README's swap rule: book scripts run on :mod:`optimlab.book` print the book's
text and compute the book's arrays, bit for bit.

Each script of ``book_scripts.py`` runs with ``common.`` replaced by ``optimlab.book.``
and ``dataset.mnist`` by ``optimlab.book.mnist``. Its printed text must be the book's
character for character and every recorded array equal in value and dtype
(``np.array_equal``, no tolerance: the same operations in the same order on the same
random draws give the same bits). The reference is the book's own code where it is
on this machine, and always the golden files that ``scripts/make_book_golden.py``
made from it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from _book import BOOK_DIR, GOLDEN, book, load_golden, run_script, swap
from book_scripts import SCRIPTS

LIVE = pytest.mark.skipif(BOOK_DIR is None, reason="the book's code is not on this machine")
_CACHE: dict[str, tuple[str, dict]] = {}


def _ours(name: str) -> tuple[str, dict]:
    if name not in _CACHE:
        _CACHE[name] = run_script(SCRIPTS[name], "optimlab")
    return _CACHE[name]


def _assert_same(got: tuple[str, dict], want: tuple[str, dict]) -> None:
    (out, rec), (want_out, want_rec) = got, want
    assert out.splitlines() == want_out.splitlines()
    assert out == want_out
    assert sorted(rec) == sorted(want_rec)
    for k in want_rec:
        a, b = np.asarray(rec[k]), np.asarray(want_rec[k])
        assert a.dtype == b.dtype and a.shape == b.shape, k
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), k


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_swapped_script_gives_the_golden_output(name):
    _assert_same(_ours(name), load_golden(name))


@LIVE
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_swapped_script_gives_the_books_output(name):
    _assert_same(_ours(name), run_script(SCRIPTS[name], "book"))


def test_every_script_has_a_golden_file():
    assert sorted(p.stem for p in GOLDEN.glob("*.npz")) == sorted(SCRIPTS)


def test_swap_is_the_readme_rule():
    src = "from common.layers import *\nfrom dataset.mnist import load_mnist\n"
    want = "from optimlab.book.layers import *\nfrom optimlab.book.mnist import load_mnist\n"
    assert swap(src) == want


STARS = json.loads((GOLDEN / "star_imports.json").read_text())


@pytest.mark.parametrize("module", sorted(STARS))
def test_star_import_binds_what_the_books_binds(module):
    ns: dict = {}
    exec(f"from optimlab.book.{module} import *", ns)
    got = sorted(k for k in ns if k != "__builtins__")
    assert got == STARS[module]
    assert ns["np"] is np
    live = book(module)
    if live is not None:  # the golden list is the book's
        assert got == sorted(k for k in vars(live) if not k.startswith("_"))
