"""The analysis notebook runs top to bottom and is stored without outputs (issue 5)."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "kneeload_tour.ipynb"


def _read() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_notebook_is_stored_without_outputs() -> None:
    nb = _read()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the tour has code cells"
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_notebook_executes_top_to_bottom() -> None:
    if not (REPO / "sample_activities" / "index.toml").exists():
        pytest.skip("sample_activities/ has not been generated")
    nb = _read()
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.perf_counter() - start
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs
        if o.output_type == "error"
    ]  # fmt: skip
    assert errors == []
    assert elapsed < 120, f"the tour took {elapsed:.0f} s"
