"""Sample-level plausibility (RULES §1.5) and sparse heart rate (RULES §10)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from kneeload.geo import EARTH_RADIUS_M
from kneeload.ingest import ingest
from kneeload.io import parse_bytes
from kneeload.schema import RawActivity
from kneeload.store import Store
from kneeload.summary import split_clock_jumps, summarise
from tests.test_hostile import tcx

T0 = 1_714_806_000.0  # 2024-05-04T07:00:00Z
NOW = 1_764_547_200.0  # 2025-12-01T00:00:00Z


def _iso(epoch: float) -> str:
    return np.datetime_as_string(np.datetime64(int(epoch), "s")) + "Z"


def gpx_points(points: list[tuple[float, float, float, str]]) -> bytes:
    """GPX of (epoch, lat, lon, extension xml) points in one segment."""
    pts = "".join(
        f'<trkpt lat="{lat}" lon="{lon}"><time>{_iso(t)}</time>'
        + (f"<extensions>{ext}</extensions>" if ext else "")
        + "</trkpt>"
        for t, lat, lon, ext in points
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type>'
        f"<trkseg>{pts}</trkseg></trk></gpx>"
    ).encode()


def test_a_gpx_clock_going_back_three_times_gives_the_true_distance() -> None:
    # 10 points 0.001 deg of latitude apart, 30 s apart: one way north
    way = [(T0 + 30 * i, 45.0 + 0.001 * i, 5.0, "") for i in range(10)]
    # the device then replays the way (but its last point) three times with the
    # old times: the clock goes back three times
    data = gpx_points(way + way[:9] * 3)
    (raw,) = parse_bytes(data, "replay.gpx")
    act, samples = summarise(raw, "replay.gpx", now_utc=NOW)
    step = EARTH_RADIUS_M * math.radians(0.001)  # 111.195 m along a meridian
    assert act.distance_m is not None
    assert abs(act.distance_m - 9 * step) < 0.01
    assert act.elapsed_s == 270.0
    assert samples["time_s"].size == 10
    assert "sample going back in time: 27 dropped (RULES §1.5)" in raw.notes


def test_heart_rate_sentinels_are_no_value() -> None:
    times = [_iso(T0 + 5 * i) for i in range(6)]
    for bpm in (255, 0):
        points = [(t, 45.0, 5.0, bpm) for t in times]
        data = tcx(points).replace(
            b"<Track>",
            f"<AverageHeartRateBpm><Value>{bpm}</Value></AverageHeartRateBpm>"
            f"<MaximumHeartRateBpm><Value>{bpm}</Value></MaximumHeartRateBpm>"
            "<Track>".encode(),
        )
        (raw,) = parse_bytes(data, "hr.tcx")
        act, _ = summarise(raw, "hr.tcx", now_utc=NOW)
        assert (act.avg_hr, act.max_hr, act.hr_hist) == (None, None, None)


def test_impossible_values_are_dropped_and_counted() -> None:
    t = T0 + np.arange(8.0) * 5
    raw = RawActivity(
        format="fit",
        sport="running",
        start_utc=T0,
        samples={
            "time_s": t,
            "heart_rate_bpm": np.array([150, 151, 999, 20, 152, 153, 154, 155.0]),
            "altitude_m": np.array([300, 301, 302, 9500, -600, 303, 304, 305.0]),
            "speed_mps": np.array([3, 3, 3, 40, 3, 3, 3, 3.0]),
            "cadence_raw": np.full(8, 85.0),  # strides: 170 steps/min
            "lat_deg": np.array([0, 45, 45, 45, 45, 45, 45, 95.0]),
            "lon_deg": np.array([0, 5, 5, 5, 5, 5, 5, 5.0]),
        },
    )
    act, samples = summarise(raw, "odd.fit", now_utc=NOW)
    assert act.max_hr == 155.0
    assert np.isnan(samples["heart_rate_bpm"][[2, 3]]).all()
    assert np.isnan(samples["altitude_m"][[3, 4]]).all()
    assert np.isnan(samples["speed_mps"][3])
    assert np.isnan(samples["lat_deg"][[0, 7]]).all()
    assert raw.notes == [
        "position off the globe or at (0, 0): 2 dropped (RULES §1.5)",
        "heart rate outside 25-240 bpm: 2 dropped (RULES §1.5)",
        "altitude outside -500…9,000 m: 2 dropped (RULES §1.5)",
        "running speed: 1 dropped (RULES §1.5)",
    ]


def test_cadence_above_260_steps_per_minute_is_dropped() -> None:
    t = T0 + np.arange(6.0)
    raw = RawActivity(
        format="fit",
        sport="running",
        start_utc=T0,
        samples={
            "time_s": t,
            "speed_mps": np.full(6, 3.0),
            # strides/min: 2 x 140 = 280 spm is no human cadence
            "cadence_raw": np.array([85, 85, 140, 86, 86, 86.0]),
        },
    )
    act, samples = summarise(raw, "cad.fit", now_utc=NOW)
    assert np.isnan(samples["cadence_spm"][2])
    assert act.cadence_spm is not None and 170 <= act.cadence_spm <= 172
    assert "cadence above 260 steps/min: 1 dropped (RULES §1.5)" in raw.notes


def test_timestamps_before_1990_or_in_the_future_are_dropped() -> None:
    t = T0 + np.arange(5.0) * 10
    t[1] = 0.0  # 1970
    t[3] = NOW + 3 * 86400  # three days after "now"
    raw = RawActivity(format="fit", samples={"time_s": t}, start_utc=T0)
    _, samples = summarise(raw, "t.fit", now_utc=NOW)
    assert samples["time_s"].tolist() == [T0, T0 + 20, T0 + 40]
    assert raw.notes == ["timestamp outside 1990 … now + 1 day: 2 dropped (RULES §1.5)"]


def test_a_clock_jumping_by_30_days_splits_the_activity(tmp_path: Path) -> None:
    first = [(T0 + 60 * i, 45.0 + 0.001 * i, 5.0, "") for i in range(5)]
    later = T0 + 30 * 86400
    second = [(later + 60 * i, 45.0 + 0.001 * i, 5.0, "") for i in range(5)]
    data = gpx_points(first + second)
    (raw,) = parse_bytes(data, "jump.gpx")
    parts = split_clock_jumps(raw, now_utc=NOW)
    assert [p.index for p in parts] == [0, 10_000]
    acts = [summarise(p, "jump.gpx", now_utc=NOW)[0] for p in parts]
    assert [a.elapsed_s for a in acts] == [240.0, 240.0]
    assert [a.start_utc for a in acts] == [T0, later]
    assert "30.0 days before this part" in parts[1].notes[-1]
    path = tmp_path / "jump.gpx"
    path.write_bytes(data)
    store = Store(tmp_path / "h" / "store.db")
    assert ingest([path], store, workers=1).ingested == 2


def test_sparse_gpx_heart_rate_holds_until_the_next_heart_rate_sample() -> None:
    def hr(bpm: int) -> str:
        return (
            '<gpxtpx:TrackPointExtension xmlns:gpxtpx="http://www.garmin.com/'
            f'xmlschemas/TrackPointExtension/v1"><gpxtpx:hr>{bpm}</gpxtpx:hr>'
            "</gpxtpx:TrackPointExtension>"
        )

    beats = {0: 120, 3: 150, 15: 180}
    points = [
        (T0 + i, 45.0 + 0.00003 * i, 5.0, hr(beats[i]) if i in beats else "")
        for i in range(21)
    ]
    (raw,) = parse_bytes(gpx_points(points), "sparse.gpx")
    act, _ = summarise(raw, "sparse.gpx", now_utc=NOW)
    # 120 holds 3 s (to the next HR at 3 s), 150 holds 12 s capped at 10 s,
    # 180 holds to the last point, 5 s: (120*3 + 150*10 + 180*5) / 18
    assert act.avg_hr == (120 * 3 + 150 * 10 + 180 * 5) / 18  # 153.33
    assert act.hr_hist is not None and act.hr_hist[150] == 10.0


def _run(**kw: object) -> RawActivity:
    base: dict = {
        "format": "fit",
        "sport": "running",
        "start_utc": T0,
        "samples": {"time_s": T0 + np.arange(0.0, 1801.0, 60.0)},
        "total_elapsed_s": 1800.0,
        "total_timer_s": 1800.0,
        "total_distance_m": 6000.0,
    }
    base.update(kw)
    return RawActivity(**base)


def test_activity_level_suspect_reasons() -> None:
    ok, _ = summarise(_run(), "ok.fit", now_utc=NOW)
    assert ok.suspect is None
    far, _ = summarise(_run(total_distance_m=5_000_000.0), "far.fit", now_utc=NOW)
    assert far.suspect is not None and "(limit 300 km)" in far.suspect
    assert "(limit 7 m/s)" in far.suspect  # 5,000 km in 30 min is also too fast
    fast, _ = summarise(_run(total_distance_m=14_400.0), "fast.fit", now_utc=NOW)
    # 14.4 km in 1,800 s = 8.0 m/s
    assert fast.suspect is not None and "8.0 m/s (limit 7 m/s)" in fast.suspect
    later = NOW + 10 * 86400
    future = _run(start_utc=later, samples={"time_s": later + np.arange(3.0)})
    act, _ = summarise(future, "future.fit", now_utc=NOW)
    assert act.suspect is not None and "future" in act.suspect
    zero = _run(total_elapsed_s=0.0, total_timer_s=0.0, samples={"time_s": [T0]})
    act, _ = summarise(zero, "zero.fit", now_utc=NOW)
    assert act.suspect is not None and "zero or negative elapsed" in act.suspect
    unset = _run(start_utc=0.0, samples={"time_s": np.arange(0.0, 1801.0, 60.0)})
    act, _ = summarise(unset, "1970.fit", now_utc=NOW)
    assert act.suspect == "starts before 1990 (1970-01-01T00:00:00Z)"
