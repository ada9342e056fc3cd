"""Sport when the file does not say (RULES §1.4): file -> export -> content."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from conftest import real_dir_or_skip

from kneeload._testing.synth import simulate_run, write_gpx
from kneeload.io import gunzip_bounded, parse_bytes, read_path
from kneeload.sport import file_sport, infer_from_content, infer_sport, sport_word
from kneeload.summary import summarise

START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def _steady(speed: float, cadence: float | None, n: int = 600) -> dict[str, np.ndarray]:
    """1 Hz samples at one speed, with a stored cadence (any unit) or none."""
    cad = np.full(n, np.nan if cadence is None else cadence)
    return {
        "time_s": 1.7e9 + np.arange(n, dtype=float),
        "speed_mps": np.full(n, speed),
        "cadence_raw": cad,
    }


@pytest.mark.parametrize(
    ("word", "creator", "expected"),
    [
        ("running", None, "running"),
        ("Running", None, "running"),  # TCX, Amazfit GPX
        ("trail_running", None, "running"),
        ("road_biking", None, "cycling"),  # Garmin Connect GPX
        ("mountain_biking", None, "cycling"),
        ("hiking", None, "walking"),
        ("Hike", None, "walking"),  # Strava activity type
        ("VirtualRun", None, "running"),
        ("Trail Run", None, "running"),  # Strava sport type with a space
        ("9", "StravaGPX", "running"),  # Strava numeric codes
        ("1", "StravaGPX", "cycling"),
        ("10", None, "walking"),
        ("1", "Garmin Connect", "running"),  # Garmin typeId 1 = running
        ("2", "Garmin Connect", "cycling"),
        ("HKWorkoutActivityTypeRunning", None, "running"),  # Apple Health
        ("HKWorkoutActivityTypeCycling", None, "cycling"),
        ("Other", None, None),  # TCX "Other": the file does not say
        ("generic", None, None),  # FIT generic
        ("", None, None),
        (None, None, None),
        ("training", None, "other"),  # a sport, just not one we track
        ("Yoga", None, "other"),
    ],
)
def test_sport_words(word, creator, expected):
    assert sport_word(word, creator=creator) == expected


def test_sub_sport_implies_running_only_when_the_sport_is_silent():
    assert file_sport(None, "trail") == ("running", "trail")
    assert file_sport("generic", "treadmill") == ("running", "treadmill")
    assert file_sport("cycling", "track") == ("cycling", "track")
    assert file_sport(None, "generic") == (None, None)


def test_order_file_then_export_then_content():
    run = _steady(3.0, 87.0)  # per-leg 87 -> 174 spm, step 3.0 / 2.9 = 1.03 m
    assert infer_sport(run, file_sport="cycling", export_sport="running") == (
        "cycling",
        "file",
    )
    assert infer_sport(run, file_sport=None, export_sport="walking") == (
        "walking",
        "export",
    )
    sport, source = infer_sport(run, file_sport=None, export_sport=None)
    assert sport == "running"
    assert source == "inferred: median 3.0 m/s, 174 spm, step 1.03 m"


@pytest.mark.parametrize(
    ("speed", "cadence", "sport"),
    [
        (3.0, 87.0, "running"),  # per leg: 174 spm, 1.03 m
        (3.0, 174.0, "running"),  # steps/min: 174 spm, 1.03 m
        (3.0, 348.0, "running"),  # doubled twice: 174 spm
        (1.3, 112.0, "walking"),  # 112 spm, step 1.3 / 1.87 = 0.70 m
        (1.3, 56.0, "walking"),  # per leg 56 -> 112 spm
        (8.0, 85.0, "cycling"),  # 85 "spm" would be a 5.6 m step: pedals
        (6.0, 90.0, "cycling"),  # x2 = 180 spm, 2.0 m step: no gait; 4 m as stored
        (3.0, None, "running"),  # speed only: 1.9-5.8 m/s
        (1.2, None, "walking"),  # < 1.9 m/s
        (7.5, None, "cycling"),  # > 6.5 m/s
        (6.2, None, "other"),  # 5.8-6.5 m/s: cannot tell
        (1.0, 26.0, "other"),  # swim strokes at 1 m/s: no gait, too slow to pedal
    ],
)
def test_content_inference(speed, cadence, sport):
    assert infer_from_content(_steady(speed, cadence))[0] == sport


def test_a_car_stretch_is_not_a_run():
    samples = _steady(3.0, None, n=1200)
    samples["speed_mps"][300:500] = 15.0  # 200 s at 54 km/h
    sport, evidence = infer_from_content(samples)
    assert sport == "other"
    assert "199 s above 8 m/s" in evidence  # 200 samples at 1 Hz span 199 s


def test_too_little_movement_says_so():
    samples = _steady(0.2, None)
    assert infer_from_content(samples) == ("other", "only 0 s moving")


def test_unlabelled_synthetic_gpx_becomes_running_with_cadence():
    run = simulate_run(START, distance_km=5, pace_s_per_km=330, cadence_spm=170)
    data = write_gpx(run, type="")  # a phone GPX without <type>
    (raw,) = parse_bytes(data, "activities/1234.gpx")
    act, _ = summarise(raw, "activities/1234.gpx")
    assert act.sport == "running"
    assert act.sport_source.startswith("inferred: median 3.0 m/s, 1")
    assert act.cadence_spm == pytest.approx(170, abs=3)  # cadence kept: a run


def test_export_sport_fills_an_unlabelled_file():
    run = simulate_run(START, distance_km=3)
    (raw,) = parse_bytes(write_gpx(run, type=""), "a.gpx")
    raw.export_sport = "walking"
    act, _ = summarise(raw, "a.gpx")
    assert (act.sport, act.sport_source) == ("walking", "export")


def test_file_name_is_the_last_clue():
    samples = _steady(6.2, None)  # the content cannot tell
    run = simulate_run(START, duration_s=600)
    (raw,) = parse_bytes(write_gpx(run, type=""), "x.gpx")
    raw.samples = {**samples, "distance_m": np.cumsum(samples["speed_mps"])}
    act, _ = summarise(raw, "/exports/2017-Run.gpx")
    assert act.sport == "running"
    assert act.sport_source.endswith("the file name says running")


# ---- the real files ------------------------------------------------------------

#: Real GPX runs; each is read with its <type> removed and under a neutral name,
#: as a phone app or an old Strava export leaves it.
REAL_GPX_RUNS = (
    "runpandas__strava_export.gpx",  # StravaGPX, <type>9</type>
    "sportslib__samples_amazfit.gpx",  # Huami Amazfit, no cadence
    "sportslib__runs_6782987395.gpx",  # Garmin Connect
    "trackeR__20170708-154835-Run.gpx.gz",  # StravaGPX without <type>
)
#: Real rides (FIT) read with their sport removed.
REAL_RIDES = ("fitparse__nick.fit", "goldencheetah__14582164182.fit.gz")
_TYPE = re.compile(rb"<type>[^<]*</type>")


@pytest.mark.parametrize("name", REAL_GPX_RUNS)
def test_real_unlabelled_gpx_runs_become_running(name):
    data = (real_dir_or_skip() / name).read_bytes()
    if name.endswith(".gz"):
        data = gunzip_bounded(data, name)
    (raw,) = parse_bytes(_TYPE.sub(b"", data), "activities/4711.gpx")
    assert raw.sport is None
    act, _ = summarise(raw, "activities/4711.gpx")
    assert act.sport == "running"
    assert act.sport_source.startswith("inferred: ")


@pytest.mark.parametrize("name", REAL_RIDES)
def test_real_rides_without_sport_are_not_running(name):
    raws = read_path(real_dir_or_skip() / name)
    for raw in raws:
        raw.sport = raw.sub_sport = None
        act, _ = summarise(raw, "activities/4712.fit")
        assert act.sport == "cycling", act.sport_source
