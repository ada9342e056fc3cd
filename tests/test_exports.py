"""Whole-account exports: Strava bulk export, Garmin Connect archive, Apple Health.

Each export is written by the test itself (``export_builders``: synthetic runs and
small hand-written CSV/JSON/XML in the real layout). Expected values are hand
computations there: HR each record held until the next (at most 10 s), cadence =
the watch's steps in the span / moving minutes, distance in the export's unit.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from export_builders import (
    apple_export,
    garmin_archive,
    run_totals,
    strava_csv,
    strava_files,
    strava_row,
    write_tree,
    zip_bytes,
)

from kneeload.errors import CorruptFileError, UnsafeFileError
from kneeload.ingest import ingest
from kneeload.io.exports import APPLE_HEAD_BYTES, apple, garmin, strava
from kneeload.io.sources import iter_sources
from kneeload.store import Store

STRAVA_IDS = {4711: "Morning Run", 4712: "Tempo Tuesday", 4713: "Easy"}


def _export(tmp_path: Path, files: dict[str, bytes], zipped: bool, name: str) -> Path:
    if zipped:
        path = tmp_path / f"{name}.zip"
        path.write_bytes(zip_bytes(files))
        return path
    return write_tree(tmp_path / name, files)


def _rows(store: Store) -> list[dict]:
    return sorted(store.activity_rows(), key=lambda r: r["start_utc"])


# ---- Strava ------------------------------------------------------------------


def test_newer_strava_export_renames_without_reading_files(tmp_path, monkeypatch):
    files, _ = strava_files(STRAVA_IDS)
    folder = write_tree(tmp_path / "strava", files)
    with Store(tmp_path / "k.db") as store:
        ingest([folder], store, workers=1)
        # the runner downloads a newer export: one activity renamed, new gear, RPE
        csv_text = files["activities.csv"].decode()
        csv_text = csv_text.replace("Tempo Tuesday", '"Tempo, felt strong"')
        csv_text = csv_text.replace("Kinvara 14", "Endorphin Speed")
        (folder / "activities.csv").write_text(csv_text, encoding="utf-8")
        import kneeload.ingest as ingest_module

        def no_reading(*args, **kwargs):
            raise AssertionError("an unchanged activity file was read again")

        monkeypatch.setattr(ingest_module, "read_source", no_reading)
        report = ingest([folder], store, workers=1)
        assert (report.ingested, report.unchanged) == (0, 3)
        rows = _rows(store)
    assert [r["name"] for r in rows] == ["Morning Run", "Tempo, felt strong", "Easy"]
    assert [r["gear"] for r in rows] == [
        "Pegasus 40",
        "Endorphin Speed",
        "Endorphin Speed",
    ]


def test_strava_csv_is_read_by_position_with_its_repeated_columns():
    rows = [
        strava_row(
            **{
                "Activity ID": "1",
                "Activity Name": "Run, with a comma",
                "Activity Type": "Run",
                "Elapsed Time": "3600",
                "Distance": "10.00",  # display units (km) ...
                "Distance_si": "10000.0",  # ... and SI, later in the row
                "Activity Gear": "Pegasus 40",
                "Filename": "activities/1.gpx",
                "Perceived Exertion": "7.0",
                "Commute": "true",
            }
        ),
        strava_row(**{"Activity ID": "2", "Perceived Exertion": "0"}),  # no file
    ]
    data = strava_csv(rows)
    assert data.count(b"Distance") == 3  # two Distance columns + Grade Adjusted
    (row,) = strava.read_activities_csv(data)
    assert row.name == "Run, with a comma"
    assert row.filename == "activities/1.gpx"
    assert (row.gear, row.rpe, row.commute) == ("Pegasus 40", 7.0, True)
    assert row.meta()["export_sport"] == "running"


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "folder"])
def test_strava_export(tmp_path, zipped):
    files, runs = strava_files(STRAVA_IDS)
    path = _export(tmp_path, files, zipped, "export_12345")
    problems: list = []
    sources = {
        s.key.rsplit("activities/", 1)[-1]: s for s in iter_sources([path], problems)
    }
    # routes/1.gpx (a planned route) and profile.csv are left out silently
    assert sorted(sources) == ["4711.gpx", "4712.fit.gz", "4713.gpx"]
    assert sources["4711.gpx"].meta == {
        "name": "Morning Run",
        "gear": "Pegasus 40",
        "rpe": 6.0,
        "export_sport": "running",
    }
    assert sources["4712.fit.gz"].meta["rpe"] is None
    # the row whose file is missing is listed once; the manual entry not at all
    assert [(Path(p.path).name, p.reason) for p in problems] == [
        (
            "999.gpx",
            "listed in activities.csv (activity 999 'Lost run') but not in the export",
        )
    ]
    with Store(tmp_path / "k.db") as store:
        report = ingest([path], store, workers=1)
        assert report.ingested == 3 and not report.errors
        assert [p for p, _ in report.skipped] == [problems[0].path]
        rows = _rows(store)
        for row, (activity_id, run) in zip(rows, runs.items(), strict=True):
            tot = run_totals(run)
            assert row["sport"] == "running", activity_id  # the GPX say nothing
            assert row["distance_m"] == pytest.approx(tot["distance_m"], rel=0.01)
            assert row["elapsed_s"] == pytest.approx(tot["elapsed_s"], abs=1)
            assert row["cadence_spm"] == pytest.approx(
                tot["avg_cadence_per_leg"] * 2, abs=3
            )
        assert [(r["name"], r["gear"], r["rpe"]) for r in rows] == [
            ("Morning Run", "Pegasus 40", 6.0),
            ("Tempo Tuesday", "Kinvara 14", None),
            ("Easy", "Kinvara 14", None),
        ]
        # the GPX carry no <type>: Strava's "Run"; the FIT says "generic": the same
        assert [r["sport_source"] for r in rows] == ["export"] * 3
        moving_min = rows[0]["moving_s"] / 60
        if "srpe" in rows[0]:
            assert rows[0]["srpe"] == pytest.approx(6.0 * moving_min)
        # re-ingest of the same export: nothing read again
        again = ingest([path], store, workers=1)
        assert (again.ingested, again.unchanged) == (0, 3)


# ---- Garmin ------------------------------------------------------------------


def test_garmin_summary_json_shapes():
    data = (
        b'[{"summarizedActivitiesExport": [{"activityId": 5.0, "name": "A", '
        b'"activityType": {"typeKey": "road_biking"}, "startTimeGmt": 1.7e12}]}]'
    )
    (act,), damage = garmin.read_summaries(data)
    assert damage is None
    assert (act.activity_id, act.name, act.start_utc) == ("5", "A", 1.7e9)
    assert act.meta()["export_sport"] == "cycling"
    records, damage = garmin.read_summaries(b"not json")
    assert records == [] and damage is not None
    assert damage.startswith("not valid JSON (Expecting value at line 1, column 1)")


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "folder"])
def test_garmin_archive(tmp_path, zipped):
    files, _ = garmin_archive()
    path = _export(tmp_path, files, zipped, "garmin_export")
    problems: list = []
    sources = list(iter_sources([path], problems))
    assert problems == []  # wellness, sleep, profile, metrics: silent
    metas = {s.key.rsplit("!", 1)[-1].rsplit("/", 1)[-1]: s.meta for s in sources}
    assert metas == {
        # joined by the activity id in the file name
        "runner@example.com_21000000001.fit": {
            "name": "Lyon Long Run",
            "export_sport": "running",
        },
        # joined by the FIT start (file_id.time_created), 3 s from the summary's
        "morning_upload.fit": {"name": "Parc trail", "export_sport": "running"},
    }
    if zipped:  # the FIT files sit in a zip inside the zip
        assert all(s.key.count("!") == 2 for s in sources)
    with Store(tmp_path / "k.db") as store:
        report = ingest([path], store, workers=1)
        assert (report.ingested, report.errors, report.skipped) == (2, [], [])
        rows = _rows(store)
        assert [r["sport"] for r in rows] == ["running", "running"]
        # the second FIT says "generic": the export's trail_running makes it a run
        assert rows[1]["distance_m"] == pytest.approx(5000, abs=1)
        assert [r["name"] for r in rows] == ["Lyon Long Run", "Parc trail"]
        assert [r["sport_source"] for r in rows] == ["file", "export"]
        again = ingest([path], store, workers=1)
        assert (again.ingested, again.unchanged) == (0, 2)


def test_fit_start_from_the_first_bytes():
    files, runs = garmin_archive()
    import zipfile

    inner = zipfile.ZipFile(
        io.BytesIO(
            files["DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"]
        )
    )
    head = inner.read("morning_upload.fit")[:4096]
    assert garmin.fit_time_created(head) == runs["by_start"].start_s
    assert garmin.fit_time_created(b"not a fit file at all") is None


# ---- Apple Health --------------------------------------------------------------


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "folder"])
def test_apple_health_export(tmp_path, zipped):
    files, expected = apple_export()
    path = _export(tmp_path, files, zipped, "export")
    if not zipped:
        path = path / "apple_health_export"
    problems: list = []
    sources = list(iter_sources([path], problems))
    assert problems == []
    # one source: export.xml (its routes are read with their workouts)
    assert [s.key.rsplit("/", 1)[-1] for s in sources] == ["export.xml"]
    with Store(tmp_path / "k.db") as store:
        report = ingest([path], store, workers=1)
        assert (report.ingested, report.errors, report.skipped) == (3, [], [])
        run, treadmill, ride = _rows(store)  # the yoga workout is not kept
    for row, name in ((run, "run"), (treadmill, "treadmill"), (ride, "ride")):
        exp = expected[name]
        assert row["start_utc"] == exp["start"], name
        assert row["elapsed_s"] == pytest.approx(exp["elapsed"], abs=1), name
        assert row["distance_m"] == pytest.approx(exp["distance"], abs=1), name
        assert row["utc_offset_s"] == 3600  # the +0100 of the dates
    assert (run["sport"], run["sub_sport"]) == ("running", None)
    assert (treadmill["sport"], treadmill["sub_sport"]) == ("running", "treadmill")
    assert ride["sport"] == "cycling"
    assert run["avg_hr"] == pytest.approx(expected["run"]["hr"], abs=2)
    assert treadmill["avg_hr"] == pytest.approx(expected["treadmill"]["hr"], abs=2)
    # only the watch's steps (the phone counted the same steps again)
    assert run["cadence_spm"] == pytest.approx(expected["run"]["cadence"], abs=3)
    assert treadmill["cadence_spm"] == pytest.approx(180, abs=3)
    assert ride["cadence_spm"] is None and ride["avg_hr"] is None
    assert [r["sport_source"] for r in (run, treadmill, ride)] == ["export"] * 3
    # the route gives the descent (the simulated profile falls 40 + 30 m)
    assert run["descent_m"] == pytest.approx(expected["run"]["descent"], abs=6)
    assert treadmill["descent_m"] is None


def test_apple_reingest_is_a_no_op(tmp_path):
    files, _ = apple_export()
    path = _export(tmp_path, files, True, "export")
    with Store(tmp_path / "k.db") as store:
        ingest([path], store, workers=1)
        before = _rows(store)
        again = ingest([path], store, workers=1)
        assert (again.ingested, again.unchanged, again.errors) == (0, 1, [])
        assert _rows(store) == before


def _count_export_xml_reads(monkeypatch) -> dict[str, int]:
    """Count the bytes read from export.xml streams, and the scans of it."""
    from kneeload.io.sources import Source

    counts = {"bytes": 0, "scans": 0}
    real_open, real_scan = Source.open, apple.scan_export

    class Counted:
        def __init__(self, fh):
            self._fh = fh

        def read(self, size=-1):
            data = self._fh.read(size)
            counts["bytes"] += len(data)
            return data

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    def open_counted(self):
        fh = real_open(self)
        return Counted(fh) if self.key.endswith("export.xml") else fh

    def scan_counted(fh, name):
        counts["scans"] += 1
        return real_scan(fh, name)

    monkeypatch.setattr(Source, "open", open_counted)
    monkeypatch.setattr(apple, "scan_export", scan_counted)
    return counts


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "folder"])
def test_apple_export_xml_is_inflated_once(tmp_path, monkeypatch, zipped):
    """The parse and the content hash share one pass over export.xml."""
    files, _ = apple_export()
    size = len(files["apple_health_export/export.xml"])
    path = _export(tmp_path, files, zipped, "export")
    counts = _count_export_xml_reads(monkeypatch)
    with Store(tmp_path / "k.db") as store:
        report = ingest([path], store, workers=1)
        assert report.ingested == 3
        hashed = {r.sha256 for r in store.file_index().values()}
    # the export detector peeks at the first 64 KiB; the rest is read once
    assert size < counts["bytes"] <= size + APPLE_HEAD_BYTES, counts
    assert counts["scans"] == 1
    xml = files["apple_health_export/export.xml"]
    assert hashlib.sha256(xml).hexdigest() in hashed


def test_apple_touched_export_is_hashed_not_parsed(tmp_path, monkeypatch):
    """A re-copied export.zip (new mtime, same bytes) is recognised by its hash."""
    files, _ = apple_export()
    path = _export(tmp_path, files, True, "export")
    with Store(tmp_path / "k.db") as store:
        ingest([path], store, workers=1)
        before = _rows(store)
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        counts = _count_export_xml_reads(monkeypatch)
        again = ingest([path], store, workers=1)
        assert (again.ingested, again.unchanged, again.errors) == (0, 1, [])
        assert _rows(store) == before
    assert counts["scans"] == 0


def test_apple_newer_export_same_size_is_read_again(tmp_path):
    """Incremental and correct: same size, new mtime, one HR value changed."""
    files, _ = apple_export()
    xml = files["apple_health_export/export.xml"]
    path = _export(tmp_path, files, True, "export")
    with Store(tmp_path / "k.db") as store:
        ingest([path], store, workers=1)
        old_hr = _rows(store)[1]["avg_hr"]
        # the treadmill run's records hold 150..154 bpm: one record raised by
        # 40 bpm, same number of bytes (150 -> 190); mean moves by 40/600 bpm
        at = xml.index(b'value="150"/>', xml.index(b"</Workout>"))  # treadmill's
        changed = xml[:at] + b'value="190"/>' + xml[at + 13 :]
        assert len(changed) == len(xml) and changed != xml
        newer = zip_bytes({**files, "apple_health_export/export.xml": changed})
        st = path.stat()
        path.write_bytes(newer)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        again = ingest([path], store, workers=1)
        assert (again.ingested, again.errors) == (3, [])
        rows = _rows(store)
    assert len(rows) == 3
    n_records = 2400 // 4  # one HR record every 4 s over 40 minutes
    assert rows[1]["avg_hr"] == pytest.approx(old_hr + 40 / n_records, abs=0.01)


def test_apple_newer_export_keeps_the_runners_corrections(tmp_path):
    """A newer export.xml gives every workout a new id; the runner's word stays."""
    files, _ = apple_export()
    path = _export(tmp_path, files, True, "export")
    with Store(tmp_path / "k.db") as store:
        ingest([path], store, workers=1)
        _, treadmill, ride = _rows(store)
        store.set_correction(treadmill["id"], excluded=True)
        store.set_correction(ride["id"], sport="other")
        # next week's download: a later ExportDate, one more line, same workouts
        xml = files["apple_health_export/export.xml"].replace(
            b"2026-11-20 09:00:00", b"2026-11-27 09:00:00", 1
        )
        path.write_bytes(zip_bytes({**files, "apple_health_export/export.xml": xml}))
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        again = ingest([path], store, workers=1)
        assert again.ingested == 3
        new_run, new_treadmill, new_ride = _rows(store)
    assert new_treadmill["id"] != treadmill["id"]  # the content hash changed
    assert (new_treadmill["excluded"], new_ride["sport"]) == (True, "other")
    assert new_ride["sport_source"] == "runner"
    assert new_run["excluded"] is False and new_run["sport"] == "running"


def _scan(xml: bytes) -> apple.ExportScan:
    return apple.scan_export(io.BytesIO(xml), "export.xml")


def test_apple_dtd_accepted_entities_refused():
    files, _ = apple_export()
    xml = files["apple_health_export/export.xml"]
    assert b"<!ATTLIST Record" in xml
    assert len(_scan(xml).workouts) == 3
    bomb = xml.replace(
        b"<!ELEMENT HealthData", b'<!ENTITY lol "lol"><!ELEMENT HealthData'
    )
    with pytest.raises(UnsafeFileError, match="entities"):
        _scan(bomb)
    external = xml.replace(
        b"<!DOCTYPE HealthData [", b'<!DOCTYPE HealthData SYSTEM "x" ['
    )
    with pytest.raises(UnsafeFileError, match="external"):
        _scan(external)
    with pytest.raises(CorruptFileError, match="not an Apple Health"):
        _scan(b'<?xml version="1.0"?><gpx></gpx>')


def test_apple_scan_survives_block_boundaries(monkeypatch):
    files, _ = apple_export()
    xml = files["apple_health_export/export.xml"]
    whole = _scan(xml)
    monkeypatch.setattr(apple, "BLOCK_BYTES", 997)  # cuts through lines and workouts
    small = _scan(xml)
    assert [w.start_utc for w in small.workouts] == [
        w.start_utc for w in whole.workouts
    ]
    assert np.array_equal(small.hr_time, whole.hr_time)
    assert np.array_equal(small.step_count, whole.step_count)
    assert whole.n_workouts_seen == 4  # yoga seen, not kept


def test_apple_dates_vectorised_match_strptime():
    dates = [b"2026-11-16 08:00:00 +0100", b"2024-02-29 23:59:59 -0530", b"1999-1-1"]
    got = apple._epochs(dates)
    assert got[0] == 1794812400.0
    assert got[1] == apple._epoch_and_offset(dates[1])[0]
    assert np.isnan(got[2])


def test_apple_export_xml_named_on_its_own(tmp_path):
    files, expected = apple_export()
    folder = write_tree(tmp_path / "unzipped", files)
    xml = folder / "apple_health_export" / "export.xml"
    problems: list = []
    sources = list(iter_sources([xml], problems))
    assert problems == []
    assert [(s.key, s.parser) for s in sources] == [
        (str(xml.absolute()), "kneeload.io.exports:parse_export")
    ]
    with Store(tmp_path / "k.db") as store:
        report = ingest([xml], store, workers=1)
        assert (report.ingested, report.errors) == (3, [])
        run = _rows(store)[0]
    # no route: the other files were not named, so no positions, no descent
    assert run["descent_m"] is None
    assert run["avg_hr"] == pytest.approx(expected["run"]["hr"], abs=2)


def test_apple_implausible_heart_rates_are_dropped():
    files, _ = apple_export()
    xml = files["apple_health_export/export.xml"]
    first = xml.index(b'value="', xml.index(b"HKQuantityTypeIdentifierHeartRate"))
    end = xml.index(b'"', first + 7)
    broken = xml[: first + 7] + b"255" + xml[end:]
    scan = _scan(broken)
    assert scan.hr_bpm.max() <= 240
    assert scan.notes == ["1 heart rates outside 25-240 bpm"]


def test_exports_zipped_inside_a_folder(tmp_path):
    """A folder of downloads: the Strava zip is recognised inside it too."""
    files, _ = strava_files(STRAVA_IDS)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "export_12345.zip").write_bytes(zip_bytes(files))
    problems: list = []
    sources = list(iter_sources([tmp_path / "downloads"], problems))
    assert len(sources) == 3  # routes/1.gpx left out
    assert {s.meta["name"] for s in sources} == set(STRAVA_IDS.values())
    assert [Path(p.path).name for p in problems] == ["999.gpx"]


def test_apple_steps_prorated_and_one_source():
    a = 1.8e9
    scan = apple.ExportScan(
        workouts=[],
        hr_time=np.zeros(0),
        hr_bpm=np.zeros(0),
        # watch: one 2-hour record (half inside), one inside; phone: inside
        step_start=np.array([a - 3600, a + 600, a + 600]),
        step_end=np.array([a + 3600, a + 660, a + 660]),
        step_count=np.array([7200.0, 170.0, 999.0]),
        step_source=np.array([0, 0, 1], np.int32),
        step_sources=["Watch", "Phone"],
        longest_step_s=7200.0,
    )
    workout = apple.Workout(
        0, "running", "x", a, a + 1800, 0.0, 1800.0, None, "Watch", False
    )
    # 7200 steps over 2 h, a quarter of which lies in the 30-min workout: 1800
    assert apple.workout_steps(scan, workout) == pytest.approx(1800 + 170)


def test_hashing_reader_stops_at_damage_the_parser_met():
    """Ingest drains what the export parser left: a damaged member ends it."""
    import zlib

    from kneeload.ingest import HashingReader

    class Damaged:
        calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise zlib.error("invalid distance too far back")
            return b"abc"

    stream = HashingReader(Damaged())  # type: ignore[arg-type]
    assert stream.read(10) == b"abc"
    stream.drain()
    assert stream.hexdigest() == hashlib.sha256(b"abc").hexdigest()
