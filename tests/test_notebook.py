"""docs/tour.ipynb runs top to bottom in a real Jupyter kernel, at small sizes.

The notebook's first code cell (tagged ``parameters``) holds the book's sizes; this
test inserts a cell after it with small ones, as papermill would, and fails on any
cell's error. Skipped when nbclient (the ``test`` extra) is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

TOUR = Path(__file__).resolve().parents[1] / "docs" / "tour.ipynb"

SMALL = """
ITERATIONS = 20
ACT_LAYERS = 2
BN_TRAIN_SIZE, BN_EPOCHS, BN_SCALES = 100, 2, 4
REG_EPOCHS = 3
REG_TEST_SIZE = 200
TRIALS, TRIAL_EPOCHS = 3, 2
WORKERS = 1
"""


def test_parameters_come_first():
    nb = nbformat.read(TOUR, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    names = {line.split("=")[0].strip() for line in SMALL.strip().splitlines()}
    for name in names:  # every override names a parameter the notebook defines
        for part in name.split(","):
            assert part.strip() in first.source


# nbclient and jupyter_client warn about their own deprecations; the notebook's errors fail
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_tour_runs_without_error(tmp_path):
    nb = nbformat.read(TOUR, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(SMALL.strip()))
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 8  # every experiment's figure shows inline
