"""Hostile or impossible input files (issue 9 item 1): one file never stops a run."""

from __future__ import annotations

from pathlib import Path

import pytest

import kneeload.ingest as ingest_mod
from kneeload.ingest import ingest, read_source
from kneeload.io.sources import Source
from kneeload.store import Store
from tests.test_archives import gpx


def test_an_unexpected_reader_failure_is_that_files_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = tmp_path / "good.gpx", tmp_path / "bad.gpx"
    good.write_bytes(gpx())
    bad.write_bytes(gpx(day="2024-05-05"))
    real = ingest_mod.parse_bytes

    def buggy(data: bytes, name: str) -> list:
        if name.endswith("bad.gpx"):
            raise ZeroDivisionError("a reader bug")
        return real(data, name)

    monkeypatch.setattr(ingest_mod, "parse_bytes", buggy)
    report = ingest([tmp_path], Store(tmp_path / "h" / "store.db"), workers=1)
    assert report.ingested == 1
    assert report.errors == [
        (str(bad), "could not be read (ZeroDivisionError: a reader bug)")
    ]
    assert "ZeroDivisionError" in report.tracebacks[str(bad)]
    assert "Traceback" in report.tracebacks[str(bad)]


def test_read_source_never_raises_even_for_a_missing_file(tmp_path: Path) -> None:
    result = read_source(Source(str(tmp_path / "gone.fit"), 10, 0), None, None)
    assert result.status == "error"
    assert result.reason is not None and "cannot read" in result.reason
