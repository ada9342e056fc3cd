"""The SQLite store: samples round trip, schema versions, transactions, dedupe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from kneeload.errors import StoreError
from kneeload.schema import Activity
from kneeload.store import (
    FileResult,
    ParsedActivity,
    Store,
    decode_samples,
    encode_samples,
    overlap_share,
)


def _activity(aid: str, start: float, elapsed: float, richness: int) -> Activity:
    return Activity(
        source=f"/x/{aid}",
        format="fit",
        sport="running",
        sub_sport=None,
        start_utc=start,
        local_date="2026-01-01",
        utc_offset_s=0.0,
        tz_source="file",
        elapsed_s=elapsed,
        moving_s=elapsed,
        distance_m=10000.0,
        distance_source="summary",
        ascent_m=None,
        descent_m=None,
        avg_hr=150.0,
        max_hr=170.0,
        cadence_spm=170.0,
        cadence_source="test",
        step_length_m=1.0,
        device=None,
        partial=None,
        n_samples=3,
        richness=richness,
        hr_hist=np.arange(256, dtype=float),
        id=aid,
    )


def _result(key: str, *acts: Activity) -> FileResult:
    samples = {"time_s": np.array([1.0, 2.0, 3.0])}
    return FileResult(
        key=key,
        size=1,
        mtime_ns=1,
        sha256=key,
        status="ingested",
        activities=[ParsedActivity(a, encode_samples(samples)) for a in acts],
    )


def test_samples_round_trip_keeps_time_exact() -> None:
    t = 1.7e9 + np.arange(0, 3600, 5, dtype=float)
    samples = {"time_s": t, "heart_rate_bpm": np.full(t.size, 150.0)}
    samples["heart_rate_bpm"][3] = np.nan
    back = decode_samples(encode_samples(samples))
    np.testing.assert_array_equal(back["time_s"], t)
    np.testing.assert_array_equal(back["heart_rate_bpm"], samples["heart_rate_bpm"])


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kneeload.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer kneeload"):
        Store(path)


def test_failed_batch_leaves_previous_state(tmp_path: Path) -> None:
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a", _activity("a1", 1e9, 3600, 5))])
        bad = _result("b", _activity("b1", 2e9, 3600, 5))
        bad.activities[0].activity.start_utc = None  # type: ignore[assignment]
        with pytest.raises((TypeError, sqlite3.IntegrityError)):
            store.write_batch([_result("c", _activity("c1", 3e9, 60, 5)), bad])
        assert [r["id"] for r in store.activity_rows()] == ["a1"]
        assert set(store.file_index()) == {"a"}


def test_dedupe_keeps_the_richest_copy(tmp_path: Path) -> None:
    with Store(tmp_path / "kneeload.db") as store:
        out1 = store.write_batch([_result("gpx", _activity("g", 1e9, 3600, 3))])
        out2 = store.write_batch([_result("fit", _activity("f", 1e9 + 30, 3590, 9))])
        out3 = store.write_batch([_result("tcx", _activity("t", 1e9 - 60, 3650, 5))])
        assert (out1.ingested, out2.ingested, out3.ingested) == (1, 0, 0)
        assert (out2.duplicates, out3.duplicates) == (1, 1)
        assert [r["id"] for r in store.activity_rows()] == ["f"]
        every = store.activity_rows(include_duplicates=True)
        assert {r["id"]: r["duplicate_of"] for r in every} == {
            "g": "f",
            "f": None,
            "t": "f",
        }


def test_runs_close_in_time_but_not_overlapping_are_kept(tmp_path: Path) -> None:
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch(
            [
                _result("warmup", _activity("w", 1e9, 600, 5)),
                _result("main", _activity("m", 1e9 + 100, 3600, 5)),
            ]
        )
        assert len(store.activity_rows()) == 2


def test_overlap_share_by_hand() -> None:
    assert overlap_share(0, 100, 10, 100) == pytest.approx(0.9)
    assert overlap_share(0, 100, 0, 50) == pytest.approx(0.5)
    assert overlap_share(0, 10, 20, 10) == 0.0


def test_changed_file_replaces_its_activities(tmp_path: Path) -> None:
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a", _activity("old", 1e9, 3600, 5))])
        store.write_batch([_result("a", _activity("new", 1e9, 3600, 5))])
        assert [r["id"] for r in store.activity_rows(include_duplicates=True)] == [
            "new"
        ]
        with pytest.raises(KeyError):
            store.samples("old")


def test_schema_1_store_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "kneeload.db"
    with sqlite3.connect(path) as db:  # the files table as schema 1 had it
        db.executescript(
            "CREATE TABLE files (key TEXT PRIMARY KEY, size INTEGER NOT NULL, "
            "mtime_ns INTEGER NOT NULL, sha256 TEXT, status TEXT NOT NULL, "
            "reason TEXT);"
            "INSERT INTO files VALUES ('old.fit', 1, 1, 'abc', 'error', 'bad');"
            "PRAGMA user_version = 1;"
        )
    with Store(path) as store:
        assert store.file_index()["old.fit"].sha256 == "abc"
        assert store.problem_files() == [("old.fit", "error", "bad")]
        assert store.problem_files(since_utc=1.0) == []  # never dated: not recent
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_problem_files_since(tmp_path: Path) -> None:
    import time

    bad = FileResult(
        key="bad.fit", size=1, mtime_ns=1, sha256="x", status="error", reason="nope"
    )
    with Store(tmp_path / "kneeload.db") as store:
        before = time.time() - 1
        store.write_batch([bad])
        assert store.problem_files(since_utc=before) == [("bad.fit", "error", "nope")]
        assert store.problem_files(since_utc=time.time() + 60) == []
