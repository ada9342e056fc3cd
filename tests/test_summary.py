"""summarise(): units and metric decisions on synthetic RawActivity objects.

Every expected number is a hand calculation written next to its test.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from kneeload.errors import NotAnActivityError
from kneeload.geo import EARTH_RADIUS_M, climb_with_hysteresis
from kneeload.schema import CANONICAL_SAMPLE_FIELDS, RawActivity
from kneeload.summary import normalise_sport, summarise

T0 = datetime(2024, 5, 4, 8, 0, tzinfo=UTC).timestamp()


def make_raw(time_s, fmt="fit", sport="running", **columns) -> RawActivity:
    """A RawActivity whose samples are ``time_s`` (relative to T0) plus ``columns``."""
    samples = {"time_s": T0 + np.asarray(time_s, dtype=float)}
    for name, values in columns.items():
        samples[name] = np.asarray(values, dtype=float)
    return RawActivity(format=fmt, samples=samples, sport=sport, utc_offset_s=0.0)


def steady_run(n=600, speed=3.0, cadence=87.0, dt=1.0, fmt="fit", sport="running"):
    """Constant-speed run without positions: n samples every dt seconds."""
    t = np.arange(n) * dt
    return make_raw(
        t,
        fmt=fmt,
        sport=sport,
        speed_mps=np.full(n, speed),
        distance_m=speed * t,
        cadence_raw=np.full(n, cadence),
    )


# ---- heart rate -----------------------------------------------------------------


def test_hr_is_time_weighted_on_mixed_1s_5s_recording():
    # t: 0 1 2 7 12 13 -> each sample holds 1 1 5 5 1 0 s (13 s in all)
    raw = make_raw([0, 1, 2, 7, 12, 13], heart_rate_bpm=[100, 110, 120, 150, 140, 130])
    act, _ = summarise(raw, "mixed.fit")
    expected = (100 * 1 + 110 * 1 + 120 * 5 + 150 * 5 + 140 * 1) / 13
    assert act.avg_hr == pytest.approx(expected)
    assert act.avg_hr != pytest.approx((100 + 110 + 120 + 150 + 140 + 130) / 6)
    assert act.max_hr == 150


def test_hr_gap_is_capped_at_10_s():
    # 180 bpm is followed by a 60 s gap: it counts for 10 s, not 60 s
    raw = make_raw([0, 1, 61, 62], heart_rate_bpm=[100, 180, 100, 100])
    act, _ = summarise(raw, "gap.fit")
    assert act.avg_hr == pytest.approx((100 * 1 + 180 * 10 + 100 * 1) / 12)


def test_hr_hist_sums_to_weighted_time():
    raw = make_raw([0, 1, 2, 7, 12, 13], heart_rate_bpm=[100, 110, 120, 150, 140, 130])
    act, _ = summarise(raw, "mixed.fit")
    assert act.hr_hist is not None
    assert act.hr_hist.shape == (256,)
    assert act.hr_hist.sum() == pytest.approx(13.0)
    assert act.hr_hist[120] == 5
    assert act.hr_hist[150] == 5
    assert act.hr_hist[130] == 0  # the last sample holds no time


def test_no_hr_gives_none():
    act, _ = summarise(steady_run(n=20), "nohr.fit")
    assert act.avg_hr is None
    assert act.hr_hist is None


# ---- cadence units ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_cadence", "speed", "expected_spm", "unit_word"),
    [
        (87.0, 3.0, 174.0, "per-leg"),  # 60-110 band: strides per leg, x2
        (170.0, 3.0, 170.0, "steps/min"),  # 130-230 band: already steps/min
        (340.0, 3.0, 170.0, "doubled"),  # > 260: doubled twice, /2
        # 110-130 ambiguous; at 4.5 m/s: x2 -> 240 spm, step 4.5/4 = 1.125 m (fits);
        # x1 -> 120 spm, step 4.5/2 = 2.25 m (too long) -> x2
        (120.0, 4.5, 240.0, "per-leg"),
        # at 1.9 m/s: x2 -> step 1.9/4 = 0.475 m (too short); x1 -> 0.95 m -> x1
        (120.0, 1.9, 120.0, "steps/min"),
    ],
    ids=["per-leg-87", "spm-170", "doubled-340", "ambiguous-fast", "ambiguous-slow"],
)
def test_cadence_bands(raw_cadence, speed, expected_spm, unit_word):
    act, samples = summarise(steady_run(cadence=raw_cadence, speed=speed), "c.gpx")
    assert act.cadence_spm == pytest.approx(expected_spm)
    assert unit_word in act.cadence_source
    assert np.nanmax(samples["cadence_spm"]) == pytest.approx(expected_spm)
    # step length = speed / (spm / 60)
    assert act.step_length_m == pytest.approx(speed / (expected_spm / 60))


def test_cadence_ambiguous_at_mid_speed_is_unknown():
    # 120 at 3.0 m/s: x2 -> 0.75 m, x1 -> 1.5 m; both plausible -> unknown
    act, samples = summarise(steady_run(cadence=120.0, speed=3.0), "c.gpx")
    assert act.cadence_spm is None
    assert act.cadence_source.startswith("unknown")
    assert np.isnan(samples["cadence_spm"]).all()


def test_cycling_cadence_is_not_converted():
    act, samples = summarise(steady_run(cadence=87.0, sport="cycling"), "ride.fit")
    assert act.sport == "cycling"
    assert act.cadence_spm is None
    assert act.cadence_source == "not steps (cycling)"
    assert np.isnan(samples["cadence_spm"]).all()


def test_cadence_median_ignores_stops():
    # 300 s running at 3 m/s with cadence 85, 300 s standing with cadence 40
    raw = steady_run(n=600, cadence=85.0)
    raw.samples["speed_mps"][300:] = 0.0
    raw.samples["cadence_raw"][300:] = 40.0
    act, _ = summarise(raw, "stop.fit")
    assert act.cadence_spm == pytest.approx(170.0)


# ---- distance, elapsed, moving --------------------------------------------------


def _two_far_segments() -> RawActivity:
    # segment 0: 11 points 0.001 deg of latitude apart (10 steps) at 46 N, 14 E;
    # segment 1: 6 points (5 steps) at 10 N, 50 E, thousands of km away
    lat = np.concatenate((46.0 + 0.001 * np.arange(11), 10.0 + 0.001 * np.arange(6)))
    lon = np.concatenate((np.full(11, 14.0), np.full(6, 50.0)))
    seg = np.concatenate((np.zeros(11), np.ones(6)))
    t = np.concatenate((np.arange(11) * 40.0, 10_000 + np.arange(6) * 40.0))
    return make_raw(t, fmt="gpx", lat_deg=lat, lon_deg=lon, segment=seg)


def test_haversine_is_summed_per_segment():
    act, _ = summarise(_two_far_segments(), "two.gpx")
    # along a meridian the great-circle distance is R * dphi: 15 steps of 0.001 deg
    expected = 15 * EARTH_RADIUS_M * math.radians(0.001)
    assert act.distance_source == "haversine"
    assert act.distance_m == pytest.approx(expected, rel=1e-9)


def test_summary_distance_wins():
    raw = _two_far_segments()
    raw.total_distance_m = 5000.0
    act, _ = summarise(raw, "two.gpx")
    assert (act.distance_m, act.distance_source) == (5000.0, "summary")


def test_records_distance_per_segment():
    # cumulative distance restarts in segment 1: 0..1000 then 0..500 -> 1500 m
    t = np.arange(6) * 100.0
    raw = make_raw(
        t, distance_m=[0, 500, 1000, 0, 250, 500], segment=[0, 0, 0, 1, 1, 1]
    )
    act, _ = summarise(raw, "laps.tcx")
    assert (act.distance_m, act.distance_source) == (1500.0, "records")


def test_no_distance_at_all():
    act, _ = summarise(make_raw([0, 10, 20], heart_rate_bpm=[90, 95, 99]), "x.fit")
    assert (act.distance_m, act.distance_source) == (None, "none")


def test_elapsed_and_moving_from_records():
    # 1 Hz, t = 0..9; stopped at samples 3-5; each sample holds 1 s, the last 0 s
    speed = [3, 3, 3, 0, 0, 0, 3, 3, 3, 3]
    act, _ = summarise(make_raw(np.arange(10), speed_mps=speed), "x.fit")
    assert act.elapsed_s == 9.0
    assert act.moving_s == 6.0  # samples 0, 1, 2, 6, 7, 8 hold 1 s each


def test_elapsed_and_moving_from_summary():
    raw = make_raw(np.arange(10), speed_mps=np.full(10, 3.0))
    raw.total_elapsed_s, raw.total_timer_s = 4000.0, 3500.0
    act, _ = summarise(raw, "x.fit")
    assert (act.elapsed_s, act.moving_s) == (4000.0, 3500.0)


# ---- elevation -----------------------------------------------------------------


def test_hysteresis_ignores_small_reversals():
    # up 100 -> 111 with a 2 m dip, down 111 -> 90 with a 2 m bump, then +3 m
    points = np.array([100, 102, 101, 103, 110, 108, 111, 95, 97, 90, 93], float)
    assert climb_with_hysteresis(points, 4.0) == pytest.approx((11.0, 21.0))


def _hill_profile() -> RawActivity:
    t = np.arange(1000.0)
    alt = np.interp(
        t,
        [0, 150, 250, 400, 500, 600, 600.01, 660, 660.01, 760, 860, 1000],
        [100, 100, 120, 120, 100, 100, 103, 103, 100, 100, 90, 90],
    )
    spikes = (t % 17 == 0) & ((t < 140) | ((t > 260) & (t < 390)) | (t > 870))
    alt[spikes] += 3.0  # single-sample noise: a 30 s median removes it
    return make_raw(t, altitude_m=alt)


def test_descent_with_hysteresis_on_hand_built_profile():
    # 100 -> 120 (+20) -> 100 (-20) -> bump to 103 and back (3 m, below 4 m)
    # -> 90 (-10): ascent 20, descent 30
    act, _ = summarise(_hill_profile(), "hill.fit")
    assert act.ascent_m == pytest.approx(20.0, abs=0.05)
    assert act.descent_m == pytest.approx(30.0, abs=0.05)


def test_smaller_hysteresis_counts_the_bump():
    act, _ = summarise(_hill_profile(), "hill.fit", hysteresis_m=2.0)
    assert act.ascent_m == pytest.approx(23.0, abs=0.05)
    assert act.descent_m == pytest.approx(33.0, abs=0.05)


def test_summary_elevation_used_without_altitude_samples():
    raw = steady_run(n=20)
    raw.ascent_m, raw.descent_m = 55.0, 60.0
    act, _ = summarise(raw, "x.fit")
    assert (act.ascent_m, act.descent_m) == (55.0, 60.0)


def test_downhill_seconds():
    # 900 s at 3 m/s: flat for 300 s, -8 % for 300 s, flat for 300 s
    run = steady_run(n=900)
    d = run.samples["distance_m"]
    run.samples["altitude_m"] = 200 - 0.08 * np.clip(d - 900, 0, 900)
    act, _ = summarise(run, "down.fit")
    assert act.downhill_s == pytest.approx(300, abs=20)
    assert act.descent_m == pytest.approx(0.08 * 900, abs=1)


# ---- steady segments ----------------------------------------------------------------


@pytest.mark.parametrize("dt", [1.0, 5.0], ids=["1s", "smart-5s"])
def test_steady_segment_after_minute_5(dt):
    n = int(900 / dt)
    act, _ = summarise(steady_run(n=n, dt=dt), "steady.fit")
    assert len(act.steady_segments) == 1
    seg = act.steady_segments[0]
    assert seg["start_s"] == 300.0
    assert seg["duration_s"] == pytest.approx(900 - dt - 300)
    assert seg["speed_mps"] == pytest.approx(3.0)
    assert seg["cadence_spm"] == pytest.approx(174.0)


def test_speed_change_splits_steady_segments():
    # 3.0 m/s to t = 600 s, then 3.6 m/s (+20 %): two stretches
    run = steady_run(n=900)
    run.samples["speed_mps"][600:] = 3.6
    act, _ = summarise(run, "change.fit")
    speeds = [seg["speed_mps"] for seg in act.steady_segments]
    assert speeds == pytest.approx([3.0, 3.6])
    assert act.steady_segments[0]["duration_s"] == pytest.approx(300, abs=10)


def test_no_steady_segment_uphill():
    run = steady_run(n=900)
    run.samples["altitude_m"] = 100 + 0.05 * run.samples["distance_m"]
    act, _ = summarise(run, "up.fit")
    assert act.steady_segments == []


# ---- sport, time zone, misc -------------------------------------------------------


@pytest.mark.parametrize(
    ("sport", "sub_sport", "hint", "expected"),
    [
        ("9", None, None, ("running", None)),  # Strava GPX numeric type 9 = Run
        ("1", None, None, ("cycling", None)),  # Strava 1 = Ride
        ("10", None, None, ("walking", None)),  # Strava 10 = Walk
        ("Running", None, None, ("running", None)),  # TCX
        ("Biking", None, None, ("cycling", None)),  # TCX
        ("Other", None, None, ("other", None)),  # TCX
        ("running", "generic", None, ("running", None)),  # FIT
        ("running", "treadmill", None, ("running", "treadmill")),  # FIT
        ("training", None, None, ("other", None)),  # FIT
        ("swimming", "lap_swimming", None, ("swimming", "lap_swimming")),
        (None, "trail", None, ("running", "trail")),
        (None, None, "trackeR__20170708-154835-Run.gpx.gz", ("running", None)),
        (None, None, "trackeR__2013-06-01-183220.TCX.gz", ("other", None)),
    ],
)
def test_normalise_sport(sport, sub_sport, hint, expected):
    assert normalise_sport(sport, sub_sport, hint) == expected


def test_source_name_is_the_sport_hint():
    raw = steady_run(n=20, fmt="gpx", sport=None)
    act, _ = summarise(raw, "/data/trackeR__20170708-154835-Run.gpx.gz")
    assert act.sport == "running"


@pytest.mark.parametrize(
    ("offset_s", "expected_date"), [(3600.0, "2024-03-10"), (-3600.0, "2024-03-09")]
)
def test_local_date_across_midnight_with_file_offset(offset_s, expected_date):
    raw = make_raw([0, 60])
    raw.samples["time_s"] = datetime(2024, 3, 9, 23, 30, tzinfo=UTC).timestamp() + (
        np.array([0.0, 60.0])
    )
    raw.utc_offset_s = offset_s
    act, _ = summarise(raw, "late.fit")
    assert (act.local_date, act.tz_source) == (expected_date, "file")


def _placed(start: datetime, **cols) -> RawActivity:
    raw = make_raw([0, 60], **cols)
    raw.samples["time_s"] = start.timestamp() + np.array([0.0, 60.0])
    raw.utc_offset_s = None
    return raw


def test_local_date_from_position():
    # Ljubljana, 22:30 UTC in July = 00:30 CEST (UTC+2) the next day
    raw = _placed(
        datetime(2024, 7, 1, 22, 30, tzinfo=UTC),
        lat_deg=[46.05] * 2,
        lon_deg=[14.5] * 2,
    )
    act, _ = summarise(raw, "x.gpx")
    assert (act.local_date, act.utc_offset_s, act.tz_source) == (
        "2024-07-02",
        7200.0,
        "position",
    )


def test_local_date_from_config_zone_and_utc_fallback():
    # 03:30 UTC on 10 March 2024 is 22:30 EST (UTC-5) on 9 March in New York
    raw = _placed(datetime(2024, 3, 10, 3, 30, tzinfo=UTC))
    act, _ = summarise(raw, "x.tcx", default_tz="America/New_York")
    assert (act.local_date, act.utc_offset_s, act.tz_source) == (
        "2024-03-09",
        -18000.0,
        "config",
    )
    act, _ = summarise(raw, "x.tcx")
    assert (act.local_date, act.utc_offset_s, act.tz_source) == (
        "2024-03-10",
        None,
        "config",
    )


def test_relative_timestamps_are_not_placed():
    raw = steady_run(n=20)
    raw.relative_time = True
    with pytest.raises(NotAnActivityError, match="relative to device power-on"):
        summarise(raw, "fr70.fit")


def test_no_timestamps_is_not_an_activity():
    raw = RawActivity(format="gpx", samples={"time_s": np.full(3, np.nan)})
    with pytest.raises(NotAnActivityError):
        summarise(raw, "notime.gpx")


def test_fit_is_richer_than_its_gpx_export():
    fit = steady_run(n=60, fmt="fit")
    fit.total_distance_m = 180.0
    gpx = steady_run(n=60, fmt="gpx")
    a_fit, _ = summarise(fit, "a.fit")
    a_gpx, _ = summarise(gpx, "a.gpx")
    # channels: time, distance, cadence (+ summary distance for FIT); bonus fit 2
    assert (a_fit.richness, a_gpx.richness) == (3 + 1 + 2, 3)


def test_canonical_samples_and_copied_fields():
    raw = steady_run(n=30)
    raw.partial = "truncated at byte 100"
    raw.device = "garmin/fr945"
    act, samples = summarise(raw, "x.fit")
    assert tuple(samples) == CANONICAL_SAMPLE_FIELDS
    assert all(len(col) == 30 for col in samples.values())
    assert (act.partial, act.device, act.n_samples) == (raw.partial, raw.device, 30)
    assert act.start_utc == T0
