"""The house stays a house: no import cycles, no arrows running back up a layer."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _metrics() -> Any:
    spec = importlib.util.spec_from_file_location(
        "house_metrics", REPO / "scripts" / "house_metrics.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_import_cycle_and_no_upward_arrow() -> None:
    metrics = _metrics()
    edges = metrics.graph(REPO / "kneeload")
    assert metrics.cycles(edges) == []
    assert metrics.upward(edges) == []


def test_the_metric_sees_a_cycle_and_an_upward_arrow(tmp_path: Path) -> None:
    pkg = tmp_path / "kneeload"
    (pkg / "analysis").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "analysis" / "__init__.py").write_text("")
    (pkg / "analysis" / "a.py").write_text("from kneeload.analysis import b\n")
    (pkg / "analysis" / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from kneeload.analysis.a import X\n"
    )
    (pkg / "store.py").write_text("from kneeload.report import charts\n")
    (pkg / "report").mkdir()
    (pkg / "report" / "__init__.py").write_text("")
    (pkg / "report" / "charts.py").write_text("")
    metrics = _metrics()
    edges = metrics.graph(pkg)
    assert metrics.cycles(edges) == [["kneeload.analysis.a", "kneeload.analysis.b"]]
    assert metrics.upward(edges) == [("kneeload.store", "kneeload.report.charts")]
