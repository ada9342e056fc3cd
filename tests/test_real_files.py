"""read_path + summarise on every real device file, checked against MANIFEST.tsv.

Expected values come from MANIFEST.tsv (computed independently with fitparse,
fitdecode, the Garmin SDK, gpxpy and lxml). Tolerances and their reasons:

* distance ±0.5 % (the file's own summary, or the records/haversine when none);
* elapsed ±1 s; moving ±1 s against a file timer, ±3 % for GPX files (no timer in
  the file: our speed > 0.5 m/s rule vs the MANIFEST's own estimate);
* mean HR ±2 bpm vs the per-record mean; ±5 bpm when the file has gaps > 60 s or
  smart recording, where time weighting (RULES §10) differs from it by design;
* cadence ±2 spm of 2 x the raw median when MANIFEST says "per-leg".
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from conftest import REAL_DIR, manifest_rows, real_dir_or_skip

from kneeload.errors import CorruptFileError, NotAnActivityError
from kneeload.io import read_path
from kneeload.schema import Activity
from kneeload.summary import summarise

ROWS = manifest_rows()
#: MANIFEST sport words (first token, "type=" stripped, lower-case) -> canonical
SPORT_WORDS = {
    "running": "running",
    "walking": "walking",
    "cycling": "cycling",
    "biking": "cycling",
    "swimming": "swimming",
    "transition": "other",
    "9": "running",  # Strava GPX numeric type 9 = Run
}
#: rows whose MANIFEST sport column is not a sport name (see their notes)
SPORT_BY_NOTE = {
    "fitparse__nick.fit": ["cycling"],  # "Sigma Sport ... CYCLING file"
    "trackeR__20170708-154835-Run.gpx.gz": ["running"],  # no <type>; "-Run" name
}


def _float(row: dict[str, str], key: str) -> float | None:
    return float(row[key]) if row[key] not in ("", "n/a") else None


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _expected_sports(row: dict[str, str]) -> list[str] | None:
    if row["name"] in SPORT_BY_NOTE:
        return SPORT_BY_NOTE[row["name"]]
    if row["sport"].startswith("("):
        return None
    words = [
        part.split("/")[0].removeprefix("type=").lower()
        for part in row["sport"].split("+")
    ]
    return [SPORT_WORDS.get(word, "other") for word in words]


@cache
def _summarise_file(path: Path) -> tuple[list[Activity], int]:
    """Activities of one file, and how many of its parts could not be placed."""
    activities, unplaced = [], 0
    for raw in read_path(path):
        try:
            activities.append(summarise(raw, str(path))[0])
        except NotAnActivityError:
            unplaced += 1
    return activities, unplaced


def _ids(rows: list[dict[str, str]]) -> list[str]:
    return [row["name"] for row in rows]


NOT_ACTIVITIES = [r for r in ROWS if r["n_records"] == "0"]
RELATIVE = [r for r in ROWS if r["start_time_utc"].startswith("relative:")]
ACTIVITIES = [r for r in ROWS if r not in NOT_ACTIVITIES and r not in RELATIVE]


@pytest.mark.parametrize("row", NOT_ACTIVITIES, ids=_ids(NOT_ACTIVITIES))
def test_files_without_activity_are_skipped(row):
    real_dir_or_skip()
    with pytest.raises(NotAnActivityError):
        activities, _ = _summarise_file(REAL_DIR / row["name"])
        if not activities:
            raise NotAnActivityError(row["name"], "no placeable activity")


@pytest.mark.parametrize("row", RELATIVE, ids=_ids(RELATIVE))
def test_relative_timestamps_are_skipped(row):
    real_dir_or_skip()
    (raw,) = read_path(REAL_DIR / row["name"])
    with pytest.raises(NotAnActivityError, match="relative"):
        summarise(raw, row["name"])


def _read_or_skip(row: dict[str, str]) -> tuple[list[Activity], int]:
    real_dir_or_skip()
    try:
        return _summarise_file(REAL_DIR / row["name"])
    except CorruptFileError as exc:
        if "not well-formed" not in row["quirks"]:
            raise
        pytest.skip(f"reader refuses this malformed file: {exc.reason}")


@pytest.mark.parametrize("row", ACTIVITIES, ids=_ids(ACTIVITIES))
def test_sport_start_and_distance(row):
    activities, unplaced = _read_or_skip(row)
    assert activities
    expected = _expected_sports(row)
    if expected is not None:
        assert [a.sport for a in activities] == expected
    assert min(a.start_utc for a in activities) == pytest.approx(
        _epoch(row["start_time_utc"]), abs=1.0
    )
    if unplaced:
        return  # parts without timestamps: the MANIFEST totals include them
    want = _float(row, "distance_summary_m") or _float(row, "distance_records_m")
    if activities[0].format == "gpx":
        want = _float(row, "distance_gps_haversine_m")
    total = sum(a.distance_m or 0.0 for a in activities)
    assert total == pytest.approx(want, rel=0.005, abs=0.1)  # MANIFEST: 0.1 m


SINGLE = [
    r for r in ACTIVITIES if "+" not in r["sport"] and "segments" not in r["quirks"]
]


@pytest.mark.parametrize("row", SINGLE, ids=_ids(SINGLE))
def test_elapsed_and_moving_time(row):
    (act,), _ = _read_or_skip(row)
    elapsed, timer = _float(row, "duration_elapsed_s"), _float(row, "duration_timer_s")
    if "timer_time > elapsed_time" in row["quirks"]:
        assert act.elapsed_s >= act.moving_s == pytest.approx(timer, abs=1.0)
        return
    if elapsed is not None:
        assert act.elapsed_s == pytest.approx(elapsed, abs=1.0)
    if timer is not None:
        tolerance = 0.03 * timer if act.format == "gpx" else 1.0
        assert act.moving_s == pytest.approx(timer, abs=tolerance)


HR_ROWS = [r for r in ACTIVITIES if r["hr_mean_records"]]


@pytest.mark.parametrize("row", HR_ROWS, ids=_ids(HR_ROWS))
def test_time_weighted_mean_hr(row):
    activities, _ = _read_or_skip(row)
    hists = [a.hr_hist for a in activities if a.hr_hist is not None]
    hist = np.sum(hists, axis=0)
    mean = float(np.dot(np.arange(256), hist) / hist.sum())  # all parts of the file
    irregular = "gaps >60 s" in row["quirks"] or "smart recording" in row["quirks"]
    tolerance = 5.0 if irregular else 2.0
    assert mean == pytest.approx(float(row["hr_mean_records"]), abs=tolerance)
    if len(activities) == 1:
        assert activities[0].avg_hr == pytest.approx(mean, abs=0.5)  # whole-bpm bins


CADENCE_ROWS = [r for r in SINGLE if r["cadence_units_guess"].startswith("per-leg")]


@pytest.mark.parametrize("row", CADENCE_ROWS, ids=_ids(CADENCE_ROWS))
def test_cadence_in_steps_per_minute(row):
    (act,), _ = _read_or_skip(row)
    assert act.cadence_spm == pytest.approx(2 * float(row["cadence_median_raw"]), abs=2)
    assert "per-leg" in act.cadence_source


def test_local_dates_are_plausible():
    """Every placed activity's local date is within a day of its UTC date."""
    real_dir_or_skip()
    for row in ACTIVITIES:
        try:
            activities, _ = _summarise_file(REAL_DIR / row["name"])
        except CorruptFileError:
            continue
        for act in activities:
            utc_day = datetime.fromisoformat(
                np.datetime_as_string(np.datetime64(int(act.start_utc), "s"), unit="D")
            ).date()
            local_day = datetime.fromisoformat(act.local_date).date()
            assert abs((local_day - utc_day).days) <= 1, row["name"]
