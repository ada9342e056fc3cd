"""GPX and TCX readers: real device files against MANIFEST.tsv and gpxpy, quirks,
hand-computed small files, and hostile or broken inputs."""

from __future__ import annotations

import csv
import gzip
import math
import time
import tracemalloc
from pathlib import Path

import gpxpy
import numpy as np
import pytest

from kneeload.errors import CorruptFileError, NotAnActivityError, UnsafeFileError
from kneeload.io import parse_bytes
from kneeload.io.gpx import parse_gpx
from kneeload.io.tcx import parse_tcx
from kneeload.schema import RawActivity, iso_utc

REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "real_activities"
XML_FORMATS = ("gpx", "gpx.gz", "tcx", "tcx.gz")
#: gpxpy measures with the WGS84 equatorial radius, we with the mean radius.
GPXPY_RADIUS_RATIO = 6378137.0 / 6371008.8


def _manifest() -> dict[str, dict[str, str]]:
    path = REAL_DIR / "MANIFEST.tsv"
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["name"]: row for row in csv.DictReader(fh, delimiter="\t")}


MANIFEST = _manifest()
XML_FILES = sorted(n for n, r in MANIFEST.items() if r["format"] in XML_FORMATS)
GPX_FILES = [n for n in XML_FILES if MANIFEST[n]["format"].startswith("gpx")]
SKIP_NO_REAL = pytest.mark.skipif(
    not MANIFEST, reason=f"real device files not found at {REAL_DIR} (shared/ absent)"
)


def read_real(name: str) -> list[RawActivity]:
    """Parse one real file: gzip through parse_bytes, plain straight to the reader.

    (runpandas__malformed.tcx has no <TrainingCenterDatabase> root, so the
    byte sniffer in kneeload.io cannot recognise it; the reader itself can.)
    """
    data = (REAL_DIR / name).read_bytes()
    if name.lower().endswith(".gz"):
        return parse_bytes(data, name)
    reader = parse_gpx if name.lower().endswith(".gpx") else parse_tcx
    return reader(data, name)


def column(acts: list[RawActivity], key: str) -> np.ndarray:
    """One sample column over all activities of a file (empty when absent)."""
    parts = [a.samples[key] for a in acts if key in a.samples]
    return np.concatenate(parts) if parts else np.empty(0)


# ---------------------------------------------------------------- real files


@SKIP_NO_REAL
@pytest.mark.parametrize("name", XML_FILES or ["none"])
def test_real_file_matches_manifest(name: str) -> None:
    row = MANIFEST[name]
    if row["n_records"] == "0":
        with pytest.raises(NotAnActivityError, match="no track points"):
            read_real(name)
        return
    acts = read_real(name)
    assert sum(a.samples["time_s"].size for a in acts) == int(row["n_records"])
    assert _sport(acts, row["format"]) == row["sport"]
    assert acts[0].device == row["device"]
    timed = [a for a in acts if a.start_utc is not None]
    assert iso_utc(min(a.start_utc for a in timed)) == row["start_time_utc"]
    end = max(a.start_utc + a.total_elapsed_s for a in timed)
    assert end - min(a.start_utc for a in timed) == pytest.approx(
        float(row["duration_elapsed_s"]), abs=0.6
    )
    if row["distance_summary_m"]:
        total = sum(a.total_distance_m or 0.0 for a in acts)
        assert total == pytest.approx(float(row["distance_summary_m"]), rel=0.005)
    if row["format"].startswith("gpx"):
        total = sum(float(np.nanmax(a.samples["distance_m"])) for a in acts)
        assert total == pytest.approx(float(row["distance_gps_haversine_m"]), rel=0.005)
    _check_channels(acts, row)


def _sport(acts: list[RawActivity], fmt: str) -> str:
    if fmt.startswith("gpx"):
        sport = acts[0].sport
        return f"type={sport}" if sport is not None else "(no <type>)"
    return "+".join(a.sport or "" for a in acts)


def _check_channels(acts: list[RawActivity], row: dict[str, str]) -> None:
    hr = column(acts, "heart_rate_bpm")
    assert (row["has_hr"] == "yes") == bool(np.isfinite(hr).any())
    if row["hr_mean_records"]:
        assert float(np.nanmean(hr)) == pytest.approx(
            float(row["hr_mean_records"]), abs=0.5
        )
    cad = column(acts, "cadence_raw")
    assert (row["has_cadence"] == "yes") == bool(np.isfinite(cad).any())
    if row["cadence_median_raw"]:
        median = float(np.nanmedian(cad))
        assert median == pytest.approx(float(row["cadence_median_raw"]), abs=1)


@SKIP_NO_REAL
@pytest.mark.parametrize(
    "name", [n for n in GPX_FILES if MANIFEST[n]["n_records"] != "0"]
)
def test_gpx_agrees_with_gpxpy(name: str) -> None:
    data = (REAL_DIR / name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    ref = gpxpy.parse(data.decode("utf-8"))
    ref_tracks = [t for t in ref.tracks if t.get_points_no()]
    acts = read_real(name)
    assert len(acts) == len(ref_tracks)
    for act, track in zip(acts, ref_tracks, strict=True):
        points = [p for seg in track.segments for p in seg.points]
        s = act.samples
        assert s["time_s"].size == len(points)
        times = [p.time.timestamp() if p.time else math.nan for p in points]
        np.testing.assert_array_equal(s["time_s"], np.array(times))
        np.testing.assert_array_equal(s["lat_deg"], [p.latitude for p in points])
        np.testing.assert_array_equal(s["lon_deg"], [p.longitude for p in points])
        elev = [math.nan if p.elevation is None else p.elevation for p in points]
        np.testing.assert_array_equal(s["altitude_m"], elev)
        _check_segments(s, track)


def _check_segments(s: dict[str, np.ndarray], track: gpxpy.gpx.GPXTrack) -> None:
    """Per segment, our haversine length x radius ratio ~ gpxpy's length_2d."""
    for k, seg in enumerate(track.segments):
        dist = s["distance_m"][s["segment"] == k]
        if dist.size < 2:
            continue
        ours = (dist[-1] - dist[0]) * GPXPY_RADIUS_RATIO
        assert ours == pytest.approx(seg.length_2d(), rel=0.001, abs=0.01)


# ---------------------------------------------------------------- quirks


@SKIP_NO_REAL
def test_multisession_tcx_gives_four_activities() -> None:
    acts = read_real("goldencheetah__activity_165850259_multi-session.tcx")
    assert [a.sport for a in acts] == ["Running", "Biking", "Running", "Biking"]
    assert [a.index for a in acts] == [0, 1, 2, 3]
    starts = [a.start_utc for a in acts]
    assert starts == sorted(starts)
    assert (
        acts[0].device
        == MANIFEST["goldencheetah__activity_165850259_multi-session.tcx"]["device"]
    )


@SKIP_NO_REAL
def test_cerknicko_segments_and_untimed_points() -> None:
    # 8 <trk>, each one <trkseg>; the first is empty; only 5 of 296 points timed.
    acts = read_real("gpxpy__cerknicko-without-times.gpx")
    assert [a.index for a in acts] == [1, 2, 3, 4, 5, 6, 7]
    times = column(acts, "time_s")
    assert times.size == 296
    assert int(np.isfinite(times).sum()) == 5
    assert sum(a.start_utc is None for a in acts) == 6
    total = sum(float(np.nanmax(a.samples["distance_m"])) for a in acts)
    # MANIFEST: 4575 m summed per segment; 13665 m if gaps were bridged.
    assert total == pytest.approx(4575.0, rel=0.001)
    assert any("have no <time>" in note for note in acts[0].notes)


@SKIP_NO_REAL
def test_strava_numeric_type_kept_raw() -> None:
    (act,) = read_real("runpandas__strava_export.gpx")
    assert act.sport == "9"
    assert act.device == "StravaGPX"
    assert act.total_distance_m is None


@SKIP_NO_REAL
def test_amazfit_one_heart_rate_per_point() -> None:
    (act,) = read_real("sportslib__samples_amazfit.gpx")
    hr = act.samples["heart_rate_bpm"]
    assert hr.size == act.samples["time_s"].size == 1216
    assert np.isfinite(hr).all()


@SKIP_NO_REAL
@pytest.mark.parametrize(
    "name", ["runpandas__malformed.tcx", "sportslib__runs_6281425038.tcx"]
)
def test_malformed_tcx_recovered_without_loss(name: str) -> None:
    (act,) = read_real(name)
    assert act.partial is None
    assert any("recover mode" in note for note in act.notes)


# ------------------------------------------------------- small hand-made files

GPX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator="hand" xmlns="http://www.topografix.com/GPX/1/1"'
    ' xmlns:g="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">'
)


def _pt(lon: float, t: str | None, ext: str = "", lat: float = 0.0) -> str:
    time_el = f"<time>{t}</time>" if t else ""
    ext_el = f"<extensions>{ext}</extensions>" if ext else ""
    return f'<trkpt lat="{lat}" lon="{lon}"><ele>5</ele>{time_el}{ext_el}</trkpt>'


def test_gpx_haversine_speed_and_segment_break() -> None:
    # On the equator 0.001 deg of longitude = 6371008.8 * pi/180 * 0.001 = 111.19508 m
    step = 6371008.8 * math.pi / 180 * 0.001
    body = (
        "<trk><type>running</type><trkseg>"
        + _pt(0.0, "2024-05-01T10:00:00Z")
        + _pt(0.001, "2024-05-01T10:00:10Z")
        + "</trkseg><trkseg>"
        + _pt(1.0, "2024-05-01T10:05:00Z")
        + _pt(1.001, None)
        + "</trkseg></trk></gpx>"
    )
    (act,) = parse_gpx((GPX_HEAD + body).encode(), "hand.gpx")
    s = act.samples
    np.testing.assert_allclose(s["distance_m"], [0, step, step, 2 * step], rtol=1e-9)
    np.testing.assert_array_equal(s["segment"], [0, 0, 1, 1])
    assert s["speed_mps"][1] == pytest.approx(step / 10)
    assert np.isnan(s["speed_mps"][[0, 2, 3]]).all()
    assert np.isnan(s["time_s"][3])
    assert act.start_utc == 1714557600.0  # 2024-05-01T10:00:00Z
    assert act.total_elapsed_s == 300.0
    assert act.sport == "running" and act.device == "hand"
    assert "heart_rate_bpm" not in s and "cadence_raw" not in s


@pytest.mark.parametrize(
    ("ext", "hr", "cad"),
    [
        (
            "<g:TrackPointExtension><g:hr>150</g:hr><g:cad>88</g:cad></g:TrackPointExtension>",
            150,
            88,
        ),
        (
            "<heartrate>151</heartrate><g:TrackPointExtension><g:hr>99</g:hr></g:TrackPointExtension>",
            151,
            None,
        ),
        ("<hr>152</hr><cadence>80</cadence>", 152, 80),
    ],
    ids=["garmin-tpx-v2", "two-hr-elements", "plain-tags"],
)
def test_gpx_extension_variants(ext: str, hr: float, cad: float | None) -> None:
    body = (
        "<trk><trkseg>"
        + _pt(0.0, "2024-05-01T10:00:00Z", ext)
        + "</trkseg></trk></gpx>"
    )
    (act,) = parse_gpx((GPX_HEAD + body).encode(), "ext.gpx")
    np.testing.assert_array_equal(act.samples["heart_rate_bpm"], [hr])
    if cad is None:
        assert "cadence_raw" not in act.samples
    else:
        np.testing.assert_array_equal(act.samples["cadence_raw"], [cad])


def test_gpx_utf16_goes_through_defusedxml_path() -> None:
    body = (
        "<trk><trkseg>"
        + _pt(0.0, "2024-05-01T10:00:00+02:00")
        + "</trkseg></trk></gpx>"
    )
    text = (GPX_HEAD + body).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    (act,) = parse_gpx(text.encode("utf-16"), "wide.gpx")
    assert act.start_utc == 1714557600.0 - 7200


TCX = """<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
 xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
<Activities><Activity Sport="Running"><Id>2024-05-01T09:59:00Z</Id>
<Lap StartTime="2024-05-01T10:00:00Z"><TotalTimeSeconds>100</TotalTimeSeconds>
<DistanceMeters>300</DistanceMeters><AverageHeartRateBpm><Value>140</Value>
</AverageHeartRateBpm><MaximumHeartRateBpm><Value>150</Value></MaximumHeartRateBpm>
<Cadence>70</Cadence><Track>
<Trackpoint><Time>2024-05-01T10:00:00Z</Time><DistanceMeters>0</DistanceMeters>
<HeartRateBpm><Value>130</Value></HeartRateBpm><Extensions><ns3:TPX>
<ns3:Speed>3.0</ns3:Speed><ns3:RunCadence>85</ns3:RunCadence></ns3:TPX></Extensions>
</Trackpoint></Track></Lap>
<Lap StartTime="2024-05-01T10:01:40Z"><TotalTimeSeconds>300</TotalTimeSeconds>
<DistanceMeters>900</DistanceMeters><AverageHeartRateBpm><Value>160</Value>
</AverageHeartRateBpm><MaximumHeartRateBpm><Value>170</Value></MaximumHeartRateBpm>
<Track><Trackpoint><Time>2024-05-01T10:06:40Z</Time><Position>
<LatitudeDegrees>1.5</LatitudeDegrees><LongitudeDegrees>2.5</LongitudeDegrees></Position>
<Cadence>90</Cadence></Trackpoint></Track></Lap>
<Creator><Name>Watch</Name><ProductID>7</ProductID></Creator></Activity></Activities>
</TrainingCenterDatabase>"""


def test_tcx_laps_and_trackpoints() -> None:
    (act,) = parse_tcx(TCX.encode(), "hand.tcx")
    assert act.total_distance_m == 1200.0
    assert act.total_timer_s == 400.0
    assert act.avg_hr == pytest.approx((140 * 100 + 160 * 300) / 400)  # 155
    assert act.max_hr == 170.0
    assert act.start_utc == 1714557600.0  # first Lap StartTime, not Id
    assert act.total_elapsed_s == 400.0
    assert act.device == "Watch (ProductID 7)"
    s = act.samples
    np.testing.assert_array_equal(s["segment"], [0, 1])
    np.testing.assert_array_equal(s["cadence_raw"], [85, 90])  # lap <Cadence> ignored
    np.testing.assert_array_equal(s["speed_mps"], [3.0, np.nan])
    np.testing.assert_array_equal(s["heart_rate_bpm"], [130, np.nan])
    np.testing.assert_array_equal(s["lat_deg"], [np.nan, 1.5])
    assert "altitude_m" not in s


@pytest.mark.parametrize(
    "inner",
    [
        "<Activities/>",
        '<Activities><Activity Sport="Running"><Id>x</Id></Activity></Activities>',
    ],
    ids=["no-activity", "id-only"],
)
def test_tcx_without_activity_data_is_not_an_activity(inner: str) -> None:
    text = f'<TrainingCenterDatabase xmlns="x">{inner}</TrainingCenterDatabase>'
    with pytest.raises(NotAnActivityError):
        parse_tcx(text.encode(), "empty.tcx")


# ------------------------------------------------------- hostile and broken inputs

BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE gpx [\n<!ENTITY a0 "lol">\n'
    + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10)
    )
    + ']>\n<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&a9;</name>'
    "<trkseg><trkpt lat='0' lon='0'/></trkseg></trk></gpx>"
)


@pytest.mark.parametrize("lead", ["", "  \n"], ids=["strict-path", "recover-path"])
@pytest.mark.parametrize("reader", [parse_gpx, parse_tcx], ids=["gpx", "tcx"])
def test_billion_laughs_refused_fast(reader, lead: str) -> None:
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(UnsafeFileError, match="entity"):
        reader((lead + BOMB).encode(), "bomb.xml")
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 20 * 2**20


def test_external_entity_refused_without_leak() -> None:
    text = (
        '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<gpx creator="&xxe;"><trk><type>&xxe;</type><trkseg>'
        '<trkpt lat="0" lon="0"><time>2024-05-01T10:00:00Z</time></trkpt>'
        "</trkseg></trk></gpx>"
    )
    with pytest.raises(UnsafeFileError) as info:
        parse_gpx(text.encode(), "xxe.gpx")
    assert "root:" not in str(info.value)


@pytest.mark.parametrize("data", [b"\x00\x01\x02 garbage", b"", b"just text"])
def test_not_xml_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptFileError):
        parse_gpx(data, "junk.gpx")
    with pytest.raises(CorruptFileError):
        parse_tcx(data, "junk.tcx")


def test_not_xml_through_parse_bytes() -> None:
    with pytest.raises(CorruptFileError):
        parse_bytes(b"not a gpx at all", "junk.gpx")


def test_empty_gpx_is_not_an_activity() -> None:
    with pytest.raises(NotAnActivityError, match="no track points"):
        parse_gpx(b"<gpx/>", "empty.gpx")


@SKIP_NO_REAL
@pytest.mark.parametrize(
    "name", ["runpandas__strava_export.gpx", "sportslib__samples_unknown_example.tcx"]
)
def test_truncated_file_recovers_the_head_and_is_partial(name: str) -> None:
    data = (REAL_DIR / name).read_bytes()
    full = read_real(name)[0].samples["time_s"]
    reader = parse_gpx if name.endswith(".gpx") else parse_tcx
    (act,) = reader(data[: len(data) // 2], name)
    got = act.samples["time_s"]
    assert act.partial is not None and "truncated" in act.partial
    assert 0.3 * full.size < got.size < 0.7 * full.size
    np.testing.assert_array_equal(got[:-1], full[: got.size - 1])
