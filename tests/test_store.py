"""The SQLite store: samples round trip, schema versions, transactions, dedupe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from kneeload.errors import StoreError
from kneeload.schema import Activity
from kneeload.store import (
    SCHEMA_VERSION,
    ExportMeta,
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
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


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


#: The activities table exactly as schema 2 wrote it (before name, gear, rpe, ...).
_SCHEMA_2 = """
CREATE TABLE files (key TEXT PRIMARY KEY, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, sha256 TEXT, status TEXT NOT NULL, reason TEXT,
    checked_utc REAL);
CREATE TABLE activities (id TEXT PRIMARY KEY, file_key TEXT NOT NULL,
    source TEXT NOT NULL, format TEXT NOT NULL, sport TEXT NOT NULL, sub_sport TEXT,
    start_utc REAL NOT NULL, local_date TEXT NOT NULL, utc_offset_s REAL,
    tz_source TEXT, elapsed_s REAL, moving_s REAL, distance_m REAL,
    distance_source TEXT, ascent_m REAL, descent_m REAL, avg_hr REAL, max_hr REAL,
    cadence_spm REAL, cadence_source TEXT, step_length_m REAL, device TEXT,
    partial TEXT, n_samples INTEGER, richness INTEGER, downhill_s REAL,
    hr_hist BLOB, steady_json TEXT, duplicate_of TEXT);
CREATE TABLE samples (activity_id TEXT PRIMARY KEY, data BLOB NOT NULL);
INSERT INTO files VALUES ('/r/run.fit', 1, 1, 'abc', 'ingested', NULL, 1.0);
INSERT INTO activities (id, file_key, source, format, sport, start_utc, local_date,
    elapsed_s, moving_s, distance_m, steady_json)
    VALUES ('r1', '/r/run.fit', '/r/run.fit', 'fit', 'running', 1e9, '2001-09-09',
    3600, 3500, 10000, '[]');
PRAGMA user_version = 2;
"""


def test_schema_2_store_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "kneeload.db"
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA_2)
    with Store(path) as store:
        (row,) = store.activity_rows()
        assert row["id"] == "r1"
        assert row["distance_m"] == 10000
        assert (row["name"], row["gear"], row["rpe"], row["suspect"]) == (None,) * 4
        assert row["sport_source"] == "file"
        assert (row["confirmed"], row["excluded"]) == (False, False)
        store.set_correction("r1", excluded=True)
        assert store.activity_rows()[0]["excluded"] is True
        store.upsert_export_meta([ExportMeta("/r/run.fit", name="Long run")])
        assert store.activity_rows()[0]["name"] == "Long run"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3


def test_new_store_has_every_declared_column(tmp_path: Path) -> None:
    from dataclasses import fields

    Store(tmp_path / "kneeload.db").close()
    with sqlite3.connect(tmp_path / "kneeload.db") as db:
        have = {r[1] for r in db.execute("PRAGMA table_info(activities)")}
    declared = {f.metadata["column"] or f.name for f in fields(Activity)}
    assert have == declared | {"file_key", "duplicate_of"}


def test_new_fields_round_trip(tmp_path: Path) -> None:
    act = _activity("n1", 1e9, 3600, 5)
    act.name, act.gear, act.rpe = "Tempo", "Pegasus", 6.0
    act.sport_source, act.suspect = "inferred: 3.1 m/s", "a run of 400 km"
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a", act)])
        row = store.activity_rows()[0]
    assert (row["name"], row["gear"], row["rpe"]) == ("Tempo", "Pegasus", 6.0)
    assert row["sport_source"] == "inferred: 3.1 m/s"
    assert row["suspect"] == "a run of 400 km"


def test_export_meta_newer_values_win_and_sport_beats_inference(
    tmp_path: Path,
) -> None:
    inferred = _activity("i1", 1e9, 3600, 5)
    inferred.sport, inferred.sport_source = "other", "inferred: 6.1 m/s"
    from_file = _activity("f1", 2e9, 3600, 5)
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a", inferred), _result("b", from_file)])
        store.upsert_export_meta(
            [
                {
                    "key": "a",
                    "name": "Old",
                    "gear": "Shoe",
                    "rpe": 4,
                    "sport": "cycling",
                },
                ExportMeta("b", name="B", sport="walking", rpe=11),
                {"key": "c", "name": "", "rpe": "hard", "sport": "kayak"},
            ]
        )
        store.upsert_export_meta([ExportMeta("a", name="New")])
        rows = {r["id"]: r for r in store.activity_rows()}
    assert (rows["i1"]["name"], rows["i1"]["gear"], rows["i1"]["rpe"]) == (
        "New",
        "Shoe",
        4.0,
    )
    assert (rows["i1"]["sport"], rows["i1"]["sport_source"]) == ("cycling", "export")
    # the file's own sport beats the export's (RULES §1.4); RPE 11 is not CR-10
    assert (rows["f1"]["sport"], rows["f1"]["sport_source"]) == ("running", "file")
    assert rows["f1"]["rpe"] is None


def test_runner_correction_beats_file_and_export(tmp_path: Path) -> None:
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a", _activity("abc123", 1e9, 3600, 5))])
        store.upsert_export_meta([ExportMeta("a", sport="cycling")])
        assert store.set_correction("abc", sport="walking", ok=True) == "abc123"
        row = store.activity_rows()[0]
        assert (row["sport"], row["sport_source"]) == ("walking", "runner")
        assert row["confirmed"] is True
        store.set_correction("abc123", excluded=True)
        store.set_correction("abc123", excluded=False)
        row = store.activity_rows()[0]
        assert (row["sport"], row["excluded"]) == ("walking", False)
        with pytest.raises(StoreError, match="no activity"):
            store.set_correction("zzz", ok=True)
        with pytest.raises(StoreError, match="unknown sport"):
            store.set_correction("abc123", sport="rowing")


def test_forget_removes_folder_and_archive_members_only(tmp_path: Path) -> None:
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch(
            [
                _result("/d/sample/a.fit", _activity("a", 1e9, 3600, 5)),
                _result("/d/sample.zip!b.fit", _activity("b", 2e9, 3600, 5)),
                _result("/d/samples2/c.fit", _activity("c", 3e9, 3600, 5)),
            ]
        )
        out = store.forget(["/d/sample/", "/d/sample.zip", "/d/nothing"])
        assert (out.files, out.activities, out.unknown) == (2, 2, ["/d/nothing"])
        assert [r["id"] for r in store.activity_rows()] == ["c"]
        assert set(store.file_index()) == {"/d/samples2/c.fit"}
        with pytest.raises(KeyError):
            store.samples("a")


def test_forget_keeps_a_duplicate_from_another_file(tmp_path: Path) -> None:
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("/s/rich.fit", _activity("f", 1e9, 3600, 9))])
        store.write_batch([_result("/own/a.gpx", _activity("g", 1e9 + 5, 3600, 3))])
        store.write_batch([_result("/own/b.tcx", _activity("t", 1e9 + 9, 3600, 5))])
        store.forget(["/s"])
        kept = store.activity_rows(include_duplicates=True)
        assert {r["id"]: r["duplicate_of"] for r in kept} == {"g": "t", "t": None}


def test_rollback_after_sqlite_ended_the_transaction(tmp_path: Path) -> None:
    """A full disk ends SQLite's transaction itself: one StoreError, no second one."""
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a", _activity("a1", 1e9, 3600, 5))])
        real = store._db

        class FullDisk:
            in_transaction = False

            def __init__(self) -> None:
                self.calls = 0

            def cursor(self) -> FullDisk:
                return self

            def execute(self, sql: str, *args: object) -> object:
                if sql.startswith("BEGIN"):
                    self.in_transaction = True
                    return real.execute(sql)
                if sql == "ROLLBACK":
                    return real.execute(sql)
                if sql.startswith("SELECT"):
                    return real.execute(sql, *args)
                self.in_transaction = False  # SQLite rolled back on its own
                real.execute("ROLLBACK")
                raise sqlite3.OperationalError("database or disk is full")

        store._db = FullDisk()  # type: ignore[assignment]
        with pytest.raises(StoreError, match="disk is full"):
            store.write_batch([_result("b", _activity("b1", 2e9, 3600, 5))])
        store._db = real
        assert [r["id"] for r in store.activity_rows()] == ["a1"]
        assert set(store.file_index()) == {"a"}


def test_history_in_load_srpe_and_json_fields(tmp_path: Path) -> None:
    import json

    from kneeload.history import History, activity_records

    plain = _activity("p1", 1e9, 3600, 5)
    plain.rpe = 5.0  # 5 x 60 moving minutes = 300 (Foster 2001)
    odd = _activity("s1", 2e9, 3600, 5)
    odd.suspect = "a run of 5000 km (limit 300 km)"
    gone = _activity("x1", 3e9, 3600, 5)
    ok = _activity("o1", 4e9, 3600, 5)
    ok.suspect = "starts in the future"
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result(a.id, a) for a in (plain, odd, gone, ok)])
        store.set_correction("x1", excluded=True)
        store.set_correction("o1", ok=True)
        frame = History(store).activities
    assert dict(zip(frame["id"], frame["in_load"], strict=True)) == {
        "p1": True,
        "s1": False,
        "x1": False,
        "o1": True,
    }
    assert frame.set_index("id").loc["p1", "srpe"] == pytest.approx(300.0)
    records = {r["id"]: r for r in activity_records(frame)}
    json.dumps(list(records.values()), allow_nan=False)  # strict JSON
    assert records["p1"]["srpe"] == 300.0
    assert records["s1"]["srpe"] is None
    assert records["s1"]["suspect"] == "a run of 5000 km (limit 300 km)"
    assert (records["x1"]["excluded"], records["o1"]["confirmed"]) == (True, True)
    for key in ("name", "gear", "rpe", "sport_source", "partial", "start_utc"):
        assert key in records["p1"]
    assert records["p1"]["start_utc"] == "2001-09-09T01:46:40Z"


def test_analysis_counts_only_in_load_rows(tmp_path: Path) -> None:
    from kneeload.analysis.load import heart_rate_profile, load_rows
    from kneeload.config import AthleteSettings
    from kneeload.history import History

    good = _activity("g1", 1e9, 3600, 5)
    bad = _activity("b1", 1e9 + 86400, 600, 5)
    bad.distance_m, bad.max_hr = 5_000_000.0, 999.0
    bad.suspect = "a run of 5000 km (limit 300 km)"
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("g", good), _result("b", bad)])
        frame = History(store).activities
    assert list(load_rows(frame)["id"]) == ["g1"]
    from kneeload.analysis.daily import daily_series
    from kneeload.config import Settings

    daily = daily_series(frame, settings=Settings())
    assert daily["run_km"].sum() == pytest.approx(10.0)  # the good run alone
    profile = heart_rate_profile(frame, athlete=AthleteSettings())
    assert profile.hr_max < 250  # the 999-bpm suspect run is not evidence


def test_schema_2_migration_fills_hr_peak_and_suspect(tmp_path: Path) -> None:
    path = tmp_path / "kneeload.db"
    t = np.arange(0.0, 120.0)
    hr = np.full(t.size, 150.0)
    hr[50] = 250.0  # one glitch: the 30-s peak stays 150
    blob = encode_samples({"time_s": t, "heart_rate_bpm": hr})
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA_2)
        db.execute("INSERT INTO samples VALUES ('r1', ?)", (blob,))
        db.execute(  # 5,000 km in an hour, stored before plausibility existed
            "INSERT INTO activities (id, file_key, source, format, sport, start_utc, "
            "local_date, elapsed_s, moving_s, distance_m) VALUES ('x', 'k', 'k', "
            "'gpx', 'running', 1.7e9, '2023-11-14', 3600, 3600, 5e6)"
        )
    with Store(path) as store:
        rows = {r["id"]: r for r in store.activity_rows()}
    assert rows["r1"]["hr_peak30"] == 150.0
    assert rows["r1"]["suspect"] is None
    assert rows["x"]["suspect"] == (
        "a run of 5,000 km (limit 300 km); average running speed 1,388.9 m/s "
        "(limit 7 m/s)"
    )


def test_dedupe_keeps_a_plausible_copy_over_a_richer_suspect_one(
    tmp_path: Path,
) -> None:
    odd = _activity("fit", 1e9, 3600, 9)
    odd.suspect = "a run of 5,000 km (limit 300 km)"
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a.fit", odd)])
        store.write_batch([_result("a.gpx", _activity("gpx", 1e9 + 20, 3600, 3))])
        assert [r["id"] for r in store.activity_rows()] == ["gpx"]
        store.forget(["a.gpx"])  # the suspect copy comes back, shown as suspect
        assert [r["suspect"] for r in store.activity_rows()] == [odd.suspect]
