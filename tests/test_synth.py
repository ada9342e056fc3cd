"""kneeload._testing.synth: FIT/GPX round trips through the reference readers."""

from __future__ import annotations

import importlib.util
import io
import sys
import tomllib
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import fitparse
import fitparse.utils
import gpxpy
import numpy as np
import pytest

from kneeload._testing.synth import (
    make_corpus,
    run_totals,
    simulate_run,
    write_fit,
    write_gpx,
)
from kneeload.io.fit import fit_crc

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_activities"
TPX = "{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}"


def _reference_crc(data: bytes) -> int:
    """The nibble-table CRC printed in the FIT protocol document (section 3.3.2)."""
    table = [0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401]
    table += [0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400]
    crc = 0
    for byte in data:
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[byte & 0xF]
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[(byte >> 4) & 0xF]
    return crc


@pytest.fixture(scope="module")
def summer_run():
    """A hilly 8 km run at 5 s intervals on a summer morning (UTC+2 in Lyon)."""
    return simulate_run(
        datetime(2026, 8, 4, 5, 10, tzinfo=UTC),
        distance_km=8.0,
        pace_s_per_km=350,
        cadence_spm=166,
        hr_mean=145,
        elevation_profile=((0, 0), (2, 60), (3, 0), (5, 40), (6, 0)),
        efforts=((4.0, 5.0, 290),),
        seed=7,
    )


def _messages(data: bytes) -> list:
    return list(fitparse.FitFile(io.BytesIO(data), check_crc=True).get_messages())


def test_crc_matches_catalogue_check_value_and_fit_reference() -> None:
    # CRC-16/ARC check value of "123456789" is 0xBB3D (CRC catalogue).
    assert fit_crc(b"123456789") == 0xBB3D
    rng = np.random.default_rng(3)
    for size in (0, 1, 14, 1023, 1024, 1025, 4096, 20_001):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert fit_crc(data) == _reference_crc(data), size


def test_fitparse_reads_back_every_record_exactly(summer_run) -> None:
    msgs = _messages(write_fit(summer_run))
    counts = Counter(m.name for m in msgs)
    n = summer_run.samples["time_s"].size
    assert counts == {
        "file_id": 1, "event": 2, "record": n, "lap": 1, "session": 1, "activity": 1
    }  # fmt: skip
    recs = [m.get_values() for m in msgs if m.name == "record"]
    s = summer_run.samples
    epoch = np.array([r["timestamp"].replace(tzinfo=UTC).timestamp() for r in recs])
    np.testing.assert_array_equal(epoch, s["time_s"])
    np.testing.assert_array_equal([r["heart_rate"] for r in recs], s["heart_rate_bpm"])
    per_leg = [r["cadence"] + r["fractional_cadence"] for r in recs]
    np.testing.assert_allclose(per_leg, s["cadence_raw"], atol=1e-9)
    for key, field, tol in (
        ("distance_m", "distance", 0.005),
        ("speed_mps", "enhanced_speed", 0.0005),
        ("altitude_m", "enhanced_altitude", 0.1),
    ):
        np.testing.assert_allclose([r[field] for r in recs], s[key], atol=tol)
    lat = np.array([r["position_lat"] for r in recs]) * 180 / 2**31
    np.testing.assert_allclose(lat, s["lat_deg"], atol=1e-9)


def test_session_totals_and_local_time(summer_run) -> None:
    msgs = {m.name: m.get_values() for m in _messages(write_fit(summer_run))}
    ses, tot = msgs["session"], run_totals(summer_run)
    assert ses["total_distance"] == pytest.approx(8000.0, abs=0.01)
    assert ses["total_elapsed_time"] == ses["total_timer_time"] == tot["elapsed_s"]
    assert ses["avg_heart_rate"] == tot["avg_hr"]
    assert ses["max_heart_rate"] == max(summer_run.samples["heart_rate_bpm"])
    assert ses["sport"] == "running" and ses["sub_sport"] == "generic"
    assert ses["total_ascent"] == ses["total_descent"] == 100  # 60 + 40 up and down
    spm = 2 * (ses["avg_running_cadence"] + ses["avg_fractional_cadence"])
    assert spm == pytest.approx(
        2 * np.mean(summer_run.samples["cadence_raw"]), abs=0.02
    )
    assert ses["start_time"] == datetime(2026, 8, 4, 5, 10)  # naive UTC
    act = msgs["activity"]
    assert act["local_timestamp"] - act["timestamp"] == timedelta(hours=2)  # CEST
    assert msgs["file_id"]["type"] == "activity"


def test_winter_local_timestamp_is_utc_plus_one() -> None:
    run = simulate_run(datetime(2026, 11, 3, 6, 0, tzinfo=UTC), distance_km=3, seed=1)
    act = {m.name: m.get_values() for m in _messages(write_fit(run))}["activity"]
    assert act["local_timestamp"] - act["timestamp"] == timedelta(hours=1)


def test_corrupted_byte_fails_crc(summer_run) -> None:
    data = bytearray(write_fit(summer_run))
    data[500] ^= 0x01
    with pytest.raises(fitparse.utils.FitCRCError):
        _messages(bytes(data))


def test_simulation_is_plausible_and_seeded(summer_run) -> None:
    s = summer_run.samples
    assert s["distance_m"][-1] == 8000.0
    assert np.all(np.diff(s["distance_m"]) >= 0)
    assert np.all(np.diff(s["time_s"]) == 5)
    # 8 km at ~350 s/km with hills and one faster km: 40-55 minutes
    assert 2400 < s["time_s"][-1] - s["time_s"][0] < 3300
    flat_easy = (s["distance_m"] > 6500) & (s["distance_m"] < 7900)
    assert 2 * np.median(s["cadence_raw"][flat_easy]) == pytest.approx(166, abs=3)
    again = simulate_run(
        datetime(2026, 8, 4, 5, 10, tzinfo=UTC), distance_km=8.0, seed=7
    )
    other = simulate_run(
        datetime(2026, 8, 4, 5, 10, tzinfo=UTC), distance_km=8.0, seed=8
    )
    assert write_fit(again) != write_fit(other)
    with pytest.raises(ValueError, match="exactly one"):
        simulate_run(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("unit", "factor"), [("per_leg", 1), ("spm", 2)])
def test_gpxpy_reads_back_gpx(summer_run, unit: str, factor: int) -> None:
    data = write_gpx(summer_run, creator="StravaGPX", type="running", cadence_unit=unit)
    gpx = gpxpy.parse(data.decode("utf-8"))
    assert gpx.creator == "StravaGPX"
    assert gpx.tracks[0].type == "running"
    points = gpx.tracks[0].segments[0].points
    s = summer_run.samples
    assert len(points) == s["time_s"].size
    times = [p.time.timestamp() for p in points]
    np.testing.assert_array_equal(times, s["time_s"])
    np.testing.assert_allclose([p.latitude for p in points], s["lat_deg"], atol=1e-7)
    np.testing.assert_allclose(
        [p.elevation for p in points], s["altitude_m"], atol=0.05
    )
    hr = [int(p.extensions[0].find(f"{TPX}hr").text) for p in points]
    cad = [int(p.extensions[0].find(f"{TPX}cad").text) for p in points]
    np.testing.assert_array_equal(hr, s["heart_rate_bpm"])
    np.testing.assert_allclose(cad, s["cadence_raw"] * factor, atol=0.5)


def test_make_corpus_writes_distinct_readable_hour_runs(tmp_path: Path) -> None:
    paths = make_corpus(tmp_path, 3, fmt="fit", seed=5)
    assert [p.name for p in paths] == [
        "run_00000.fit",
        "run_00001.fit",
        "run_00002.fit",
    ]
    assert len({p.read_bytes() for p in paths}) == 3
    msgs = _messages(paths[1].read_bytes())
    ses = next(m.get_values() for m in msgs if m.name == "session")
    assert ses["total_elapsed_time"] == pytest.approx(3600, abs=1)
    assert sum(m.name == "record" for m in msgs) == 3601  # 1 Hz, both ends
    assert make_corpus(tmp_path / "g", 1, fmt="gpx", duration_s=60)[0].suffix == ".gpx"


# ------------------------------------------------------------ sample_activities


@pytest.fixture(scope="module")
def index() -> dict:
    path = SAMPLES / "index.toml"
    if not path.exists():
        pytest.skip("sample_activities/index.toml not generated")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _km(acts: list[dict], first: date, days: int) -> float:
    last = str(first + timedelta(days=days - 1))
    return (
        sum(a["distance_m"] for a in acts if str(first) <= a["local_date"] <= last)
        / 1000
    )


def test_every_indexed_file_exists_and_folder_is_small(index: dict) -> None:
    files = {p.name for p in SAMPLES.iterdir()} - {"index.toml"}
    listed = {a["file"] for a in index["activity"]}
    assert files == listed
    with zipfile.ZipFile(SAMPLES / "export_strava_2026-10.zip") as zf:
        members = set(zf.namelist())
    assert members == {a["member"] for a in index["activity"] if a["member"]}
    assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 10 * 2**20
    assert {a["container"] for a in index["activity"]} == {"plain", "gzip", "zip"}


def test_story_taper_fits_rules_section_7(index: dict) -> None:
    acts = index["activity"]
    race = date(2026, 11, 15)
    base = sum(_km(acts, race - timedelta(49 - 7 * i), 7) for i in range(4)) / 4
    ratios = [_km(acts, race - timedelta(7 * k), 7) / base for k in (3, 2, 1)]
    # expected W/B bands of RULES.md section 7
    for ratio, (lo, hi) in zip(
        ratios, [(0.7, 0.9), (0.55, 0.8), (0.4, 0.6)], strict=True
    ):
        assert lo <= ratio <= hi
    assert ratios[0] > ratios[1] > ratios[2]
    assert acts[-1]["local_date"] == "2026-11-15" and acts[-1]["kind"] == "race"
    assert acts[-1]["distance_m"] == 42195.0


def test_story_ramp_spike_and_descent(index: dict) -> None:
    acts, story = index["activity"], index["story"]
    ramp = _km(acts, date(2026, 8, 24), 7) / _km(acts, date(2026, 8, 17), 7) - 1
    assert ramp >= 0.30  # R-WEEKLY-RAMP caution threshold
    spike = next(a for a in acts if a["local_date"] == story["session_spike"]["date"])
    prior = [
        a["distance_m"] for a in acts if "2026-07-31" <= a["local_date"] < "2026-08-30"
    ]
    assert spike["distance_m"] / max(prior) > 1.30
    week9 = sum(
        a["descent_m"] for a in acts if "2026-09-21" <= a["local_date"] <= "2026-09-27"
    )
    before = [
        a["descent_m"] for a in acts if "2026-08-24" <= a["local_date"] <= "2026-09-20"
    ]
    mean4 = sum(before) / 4
    assert week9 > 1.5 * mean4 and week9 - mean4 >= 300  # RULES 6.5


def test_story_low_cadence_and_time_zone(index: dict) -> None:
    acts = index["activity"]
    low = [a for a in acts if "2026-08-31" <= a["local_date"] <= "2026-09-20"]
    usual = [a for a in acts if a["kind"] == "easy"]
    # population heuristic low(10 km/h) = 160 spm (RULES 6.2)
    assert all(a["avg_cadence_spm"] < 160 for a in low)
    assert all(a["avg_cadence_spm"] > 160 for a in usual)
    for a in acts:  # Europe/Paris leaves summer time on 2026-10-25
        expected = 7200 if a["local_date"] < "2026-10-25" else 3600
        assert a["utc_offset_s"] == expected
        assert "05:30" <= a["local_start"] <= "20:00"


def test_samples_regenerate_identically(
    index: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_samples", ROOT / "scripts" / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_samples", module)  # for @dataclass
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for path in SAMPLES.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
