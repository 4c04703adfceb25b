"""The book's own code, when it is on this machine, and running book-style scripts.

``BOOK_DIR`` is ``$OPTIMLAB_BOOK_DIR``, else ``../shared/book`` beside the repository,
else ``/work/shared/book``. The book's ``dataset/mnist.py`` writes a pickle beside
itself, so the book runs from a private writable copy (:func:`book_root`) that also
holds the four MNIST files.

:func:`run_script` runs a script written as a book script (``from common.layers import
...``) either on the book's package or, through the README's swap rule
(:func:`swap`), on :mod:`optimlab.book`, and returns what it printed and its
``record`` dict.
"""

# The legacy global generator is saved and restored around the scripts, which seed it.
# ruff: noqa: NPY002

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "book"
MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def _book_dir() -> Path | None:
    candidates = [os.environ.get("OPTIMLAB_BOOK_DIR"), ROOT.parent / "shared" / "book"]
    candidates.append("/work/shared/book")
    for c in candidates:
        if c and (Path(c) / "common" / "layers.py").is_file():
            return Path(c)
    return None


BOOK_DIR = _book_dir()
_ROOT_COPY: list[Path] = []


def book_root() -> Path | None:
    """A writable copy of the book's ``common`` and ``dataset`` with the MNIST files in
    ``dataset/`` (made once per process, removed at exit); ``None`` without the book."""
    if BOOK_DIR is None:
        return None
    if not _ROOT_COPY:
        tmp = Path(tempfile.mkdtemp(prefix="optimlab-book-"))
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        for sub in ("common", "dataset"):
            (tmp / sub).mkdir()
            for f in (BOOK_DIR / sub).glob("*.py"):
                shutil.copyfile(f, tmp / sub / f.name)
        data = ROOT / "src" / "optimlab" / "data" / "mnist"
        for name in MNIST_FILES:
            shutil.copyfile(data / name, tmp / "dataset" / name)
        _ROOT_COPY.append(tmp)
    return _ROOT_COPY[0]


def book(module: str):
    """``common.<module>`` of the book (e.g. ``book("layers")``), or ``None`` if absent."""
    root = book_root()
    if root is None:
        return None
    with _on_path(root):
        return importlib.import_module(f"common.{module}")


@contextlib.contextmanager
def _on_path(root: Path):
    saved = list(sys.path)  # the book's modules append os.pardir to it
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path[:] = saved


def swap(source: str) -> str:
    """The README's rule: ``common.`` -> ``optimlab.book.``, ``dataset.mnist`` ->
    ``optimlab.book.mnist``."""
    return source.replace("common.", "optimlab.book.").replace(
        "dataset.mnist", "optimlab.book.mnist"
    )


def run_script(source: str, on: str) -> tuple[str, dict]:
    """Run ``source`` on the book (``on="book"``) or on optimlab through :func:`swap`
    (``on="optimlab"``); returns its standard output and its ``record`` dict.

    NumPy's global generator is given back as it was found. BLAS runs on one thread
    (on a loaded machine several threads are many times slower, never faster, for
    these small products), and NumPy's warnings of diverging runs (the book's
    batch-norm experiment diverges on purpose) are not errors here.
    """
    if on == "optimlab":
        code, root = swap(source), None
    elif on == "book":
        code, root = source, book_root()
        if root is None:
            raise RuntimeError("the book's code is not on this machine")
        _warm_book_loader(root)
    else:
        raise ValueError(f"on must be 'book' or 'optimlab', got {on!r}")
    ns: dict = {"__name__": "__main__"}
    state = np.random.get_state()
    out = io.StringIO()
    path = _on_path(root) if root else contextlib.nullcontext()
    try:
        with contextlib.redirect_stdout(out), path, threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            exec(compile(code, f"<book script on {on}>", "exec"), ns)
    finally:
        np.random.set_state(state)
    return out.getvalue(), ns.get("record", {})


def _warm_book_loader(root: Path) -> None:
    """Let the book's loader write its pickle once, so its one-time messages are not
    part of any script's output."""
    if (root / "dataset" / "mnist.pkl").exists():
        return
    with contextlib.redirect_stdout(io.StringIO()), _on_path(root):
        importlib.import_module("dataset.mnist").init_mnist()


def save_golden(name: str, stdout: str, record: dict) -> Path:
    """``tests/golden/book/<name>.npz``: the printed text and every recorded array."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    path = GOLDEN / f"{name}.npz"
    arrays = {f"r.{k}": np.asarray(v) for k, v in record.items()}
    np.savez_compressed(path, stdout=np.array(stdout), **arrays)
    return path


def load_golden(name: str) -> tuple[str, dict]:
    """What :func:`save_golden` wrote: ``(stdout, record)``."""
    with np.load(GOLDEN / f"{name}.npz", allow_pickle=False) as z:
        record = {k[2:]: z[k] for k in z.files if k.startswith("r.")}
        return str(z["stdout"][()]), record
