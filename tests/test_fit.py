"""FIT reader: fast path vs fitparse, MANIFEST values, quirks, broken bytes."""

from __future__ import annotations

import math
import random
import struct

import numpy as np
import pytest
from conftest import manifest_rows, real_dir_or_skip
from fitparse.records import Crc

from kneeload.errors import CorruptFileError, NotAnActivityError
from kneeload.io import gunzip_bounded, parse_bytes
from kneeload.io.fit import build_activities, decode_reference, fit_crc, parse_fit
from kneeload.schema import RawActivity

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z, from the FIT specification
FIT_ROWS = [r for r in manifest_rows() if r["format"] in ("fit", "fit.gz")]
SUMMARY = [
    "sport",
    "sub_sport",
    "start_utc",
    "total_distance_m",
    "total_elapsed_s",
    "total_timer_s",
    "avg_hr",
    "max_hr",
    "ascent_m",
    "descent_m",
    "device",
    "utc_offset_s",
    "relative_time",
]
#: fitparse needs seconds for these (developer fields, 14 k records): run with -m slow.
HEAVY = {
    "fitparse__nick.fit",
    "fitparse__developer-types-sample.fit",
    "sportslib__runs_6782987395.fit",
    "sportslib__runs_6860622783.fit",
    "tormoder__mornindew-broken.fit",
}
PARITY = [
    pytest.param(
        r, id=r["name"], marks=[pytest.mark.slow] if r["name"] in HEAVY else []
    )
    for r in FIT_ROWS
]

# ------------------------------------------------------------ a tiny FIT writer

BASE = {"B": 0x02, "b": 0x01, "H": 0x84, "I": 0x86, "i": 0x85}
RECORD = [(253, "I"), (0, "i"), (1, "i"), (2, "H"), (3, "B"), (4, "B")]
RECORD += [(5, "I"), (6, "H"), (53, "B")]


def definition(local: int, number: int, fields: list[tuple[int, str]], big=False):
    """A FIT definition message (fields as (field number, struct code))."""
    order = ">" if big else "<"
    out = struct.pack(order + "BBBHB", 0x40 | local, 0, int(big), number, len(fields))
    for num, code in fields:
        out += bytes([num, struct.calcsize(code), BASE[code]])
    return out


def data(local: int, fields, values, big=False, time_offset: int | None = None):
    """A FIT data message; a compressed-timestamp header when time_offset is given."""
    codes = "".join(code for _, code in fields)
    head = local if time_offset is None else 0x80 | local << 5 | time_offset
    return bytes([head]) + struct.pack((">" if big else "<") + codes, *values)


def fit_file(body: bytes) -> bytes:
    """Wrap messages in a 14-byte FIT header and the file CRC (fitparse's Crc)."""
    header = struct.pack("<BBHI4s", 14, 0x20, 2100, len(body), b".FIT")
    header += struct.pack("<H", Crc.calculate(header, 0))
    return header + body + struct.pack("<H", Crc.calculate(header + body, 0))


def build_run(n_records: int, start: int = 1_000_000_000) -> bytes:
    """A Garmin-like 1 Hz running file: file_id, records, session, activity."""
    file_id = [(0, "B"), (1, "H"), (2, "H")]
    body = definition(0, 0, file_id) + data(0, file_id, [4, 1, 3113])
    body += definition(1, 20, RECORD)
    for i in range(n_records):
        alt = (100 + 500) * 5
        lat, lon = 2**29 + i, -(2**28) + i
        values = [start + i, lat, lon, alt, 150, 85, 300 * i, 3000, 64]
        body += data(1, RECORD, values)
    session = [(253, "I"), (2, "I"), (5, "B"), (6, "B"), (7, "I"), (8, "I"), (9, "I")]
    body += definition(2, 18, session)
    elapsed_ms = n_records * 1000
    values = [start + n_records, start, 1, 0, elapsed_ms, elapsed_ms, 300 * n_records]
    body += data(2, session, values)
    activity = [(253, "I"), (5, "I")]
    body += definition(3, 34, activity) + data(3, activity, [start, start + 7200])
    return fit_file(body)


# ------------------------------------------------------------ helpers


def _real_bytes(name: str) -> bytes:
    raw = (real_dir_or_skip() / name).read_bytes()
    return gunzip_bounded(raw, name) if name.endswith(".gz") else raw


def _reference(data_bytes: bytes, name: str) -> list[RawActivity]:
    return build_activities(decode_reference(data_bytes, name), name)


def _assert_same(fast: list[RawActivity], ref: list[RawActivity]) -> None:
    assert len(fast) == len(ref)
    for a, b in zip(fast, ref, strict=True):
        assert sorted(a.samples) == sorted(b.samples)
        for key, values in a.samples.items():
            np.testing.assert_array_equal(values, b.samples[key], err_msg=key)
        for key in SUMMARY:
            assert getattr(a, key) == getattr(b, key), key
        assert (a.partial is None) == (b.partial is None)


def _all(activities: list[RawActivity], key: str) -> np.ndarray:
    return np.concatenate([a.samples.get(key, np.zeros(0)) for a in activities])


# ------------------------------------------------------------ real files


@pytest.mark.parametrize("row", PARITY)
def test_fast_path_matches_fitparse(row: dict[str, str]) -> None:
    content = _real_bytes(row["name"])
    try:
        fast = parse_bytes(content, row["name"])
    except (NotAnActivityError, CorruptFileError):
        with pytest.raises((NotAnActivityError, CorruptFileError)):
            _reference(content, row["name"])
        return
    _assert_same(fast, _reference(content, row["name"]))


def _check_manifest(acts: list[RawActivity], row: dict[str, str]) -> None:
    if "/" in row["sport"] or row["sport"].isalpha():
        names = [a.sport + (f"/{a.sub_sport}" if a.sub_sport else "") for a in acts]
        assert "+".join(names) == row["sport"]
    start = row["start_time_utc"]
    if start.startswith("relative:"):
        assert acts[0].relative_time and acts[0].start_utc == int(start[9:])
    elif start:
        stamp = np.datetime64(start.rstrip("Z"), "s").astype(int)
        assert acts[0].start_utc == pytest.approx(stamp, abs=1)
    durations = {"total_elapsed_s": "duration_elapsed_s"}
    durations["total_timer_s"] = "duration_timer_s"
    for key, column in durations.items():
        if row[column]:
            total = sum(getattr(a, key) for a in acts)
            assert total == pytest.approx(float(row[column]), abs=0.051)
    if row["distance_summary_m"]:
        total = sum(a.total_distance_m for a in acts)
        expected = float(row["distance_summary_m"])  # MANIFEST rounds to 0.1 m
        assert total == pytest.approx(expected, rel=0.005, abs=0.051)
    assert len(_all(acts, "time_s")) == int(row["n_records"])


@pytest.mark.parametrize("row", FIT_ROWS, ids=[r["name"] for r in FIT_ROWS])
def test_manifest_values(row: dict[str, str]) -> None:
    if not row["n_records"] or row["n_records"] == "0":
        pytest.skip("no activity in this file (see the quirk tests)")
    acts = parse_bytes(_real_bytes(row["name"]), row["name"])
    _check_manifest(acts, row)
    assert acts[0].device == row["device"]
    if row["hr_mean_records"]:
        hr = _all(acts, "heart_rate_bpm")
        assert np.nanmean(hr) == pytest.approx(float(row["hr_mean_records"]), abs=0.5)
    if row["has_hr"] == "no":
        assert "heart_rate_bpm" not in acts[0].samples
    if row["cadence_median_raw"]:
        cadence = _all(acts, "cadence_raw")
        median = float(row["cadence_median_raw"])
        assert np.nanmedian(cadence) == pytest.approx(median, abs=1)


def test_monitoring_file_is_not_an_activity() -> None:
    with pytest.raises(NotAnActivityError, match="monitoring"):
        parse_bytes(_real_bytes("fitparse__MonitoringFile.fit"), "m.fit")


def test_empty_activities_file_is_skipped_with_reason() -> None:
    content = _real_bytes("sportslib__others_empty-activities.fit")
    with pytest.raises(NotAnActivityError, match="no activity data") as info:
        parse_fit(content, "e.fit")
    assert "CRC" in info.value.reason  # header says 0 data bytes; 86 KB follow


@pytest.mark.parametrize(
    ("name", "n_records"),
    [
        ("fitparse__activity-unexpected-eof.fit", 14),
        ("fitparse__nick.fit", 14391),
        ("fitparse__strava-android-app-201.10-b1218918.fit", 473),
    ],
)
def test_truncated_files_keep_their_records(name: str, n_records: int) -> None:
    acts = parse_fit(_real_bytes(name), name)
    assert len(acts) == 1
    assert (
        acts[0].partial is not None and f"kept {n_records} records" in acts[0].partial
    )
    assert len(acts[0].samples["time_s"]) == n_records


def test_nick_has_no_session_and_takes_sport_from_sport_message() -> None:
    (act,) = parse_fit(_real_bytes("fitparse__nick.fit"), "nick.fit")
    assert act.sport == "cycling"  # MANIFEST notes: Sigma Sport CYCLING file
    assert act.total_distance_m is None and "no session message" in act.partial


def test_mornindew_broken_is_a_valid_paused_run() -> None:
    # Named "broken" in tormoder/fit, but CRC and structure are fine (MANIFEST notes).
    (act,) = parse_fit(_real_bytes("tormoder__mornindew-broken.fit"), "m.fit")
    assert act.partial is None and act.notes == []
    assert act.total_elapsed_s - act.total_timer_s == pytest.approx(
        8629.4 - 6856.0, abs=0.1
    )


def test_chained_multisport_file_gives_five_sessions() -> None:
    acts = parse_fit(_real_bytes("fitparse__sample_mulitple_header.fit"), "t.fit")
    assert len(acts) == 5
    assert [a.sport for a in acts][-1] == "running"
    assert [a.index for a in acts] == [0, 1, 2, 3, 4]
    for act in acts:  # every record sits inside its own session's window
        times = act.samples["time_s"]
        assert times.min() >= act.start_utc


def test_compressed_speed_distance_is_relative() -> None:
    name = "fitparse__compressed-speed-distance.fit"
    (act,) = parse_fit(_real_bytes(name), name)
    assert act.relative_time and act.start_utc == 17217864  # MANIFEST "relative:"
    assert len(act.samples["time_s"]) == 755


# ------------------------------------------------------------ hand-made bytes


def test_hand_made_run_values() -> None:
    (act,) = parse_fit(build_run(10), "run.fit")
    s = act.samples
    np.testing.assert_array_equal(
        s["time_s"], FIT_EPOCH + 1_000_000_000 + np.arange(10)
    )
    np.testing.assert_array_equal(s["distance_m"], 3.0 * np.arange(10))  # 300 cm
    assert s["speed_mps"][0] == 3.0 and s["altitude_m"][0] == 100.0  # 3000/1000; /5-500
    assert s["cadence_raw"][0] == 85.5  # 85 + 64/128, per leg, not doubled
    assert s["lat_deg"][0] == pytest.approx(45.0) and s["lon_deg"][0] == pytest.approx(
        -22.5
    )
    assert act.device == "garmin/fr945" and act.sport == "running"
    assert act.utc_offset_s == 7200 and act.total_distance_m == 30.0
    assert act.partial is None


def test_crc_matches_fitparse_crc() -> None:
    rng = random.Random(7)
    for size in (0, 1, 255, 256, 257, 5000, 70_001):
        blob = bytes(rng.getrandbits(8) for _ in range(size))
        assert fit_crc(blob) == Crc.calculate(blob, 0)


def test_flipped_data_byte_is_a_crc_mismatch() -> None:
    good = bytearray(build_run(20))
    good[-30] ^= 0x01  # a byte inside the activity message
    (act,) = parse_fit(bytes(good), "flip.fit")
    assert act.partial == "file CRC mismatch"
    assert len(act.samples["time_s"]) == 20


@pytest.mark.parametrize(
    ("blob", "error"),
    [
        (b"", CorruptFileError),
        (bytes(random.Random(1).getrandbits(8) for _ in range(4000)), CorruptFileError),
        (fit_file(b""), NotAnActivityError),  # header and CRC, no messages
        (fit_file(b"")[:14], CorruptFileError),  # header only, CRC missing
    ],
    ids=["empty", "random", "header-and-crc", "header-only"],
)
def test_broken_bytes(blob: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_fit(blob, "bad.fit")


def test_truncated_hand_made_file_keeps_complete_records() -> None:
    whole = build_run(50)
    (act,) = parse_fit(whole[: 14 + 200], "cut.fit")
    assert "truncated" in act.partial
    # file_id definition 15 + data 6, record definition 33, then 24-byte records
    assert len(act.samples["time_s"]) == (200 - 15 - 6 - 33) // 24


def test_compressed_timestamps_and_big_endian_match_fitparse() -> None:
    short = [(3, "B"), (5, "I")]
    body = definition(0, 20, RECORD, big=True)
    body += data(0, RECORD, [1000, 0, 0, 3000, 140, 80, 0, 2500, 0], big=True)
    body += definition(1, 20, short)
    stamps = [1000]
    for i in range(1, 70):  # 1 s steps through two 32-second rollovers
        stamps.append(1000 + i)
        body += data(1, short, [140 + i % 5, 100 * i], time_offset=(1000 + i) & 0x1F)
    content = fit_file(body)
    fast = parse_fit(content, "c.fit")
    _assert_same(fast, _reference(content, "c.fit"))
    assert fast[0].relative_time
    np.testing.assert_array_equal(fast[0].samples["time_s"], stamps)
    assert fast[0].samples["speed_mps"][0] == 2.5 and math.isnan(
        fast[0].samples["speed_mps"][1]
    )


def test_chained_hand_made_files_decode_fully() -> None:
    first, second = build_run(5), build_run(7, start=1_000_000_100)
    acts = parse_fit(first + second, "chain.fit")
    assert sum(len(a.samples["time_s"]) for a in acts) == 12
    _assert_same(acts, _reference(first + second, "chain.fit"))


def test_mutated_bytes_raise_only_activity_file_errors() -> None:
    rng = random.Random(11)
    originals = [build_run(40), build_run(5) + build_run(6, start=1_000_000_050)]
    for _ in range(300):
        blob = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 4)):
            blob[rng.randrange(12, len(blob))] = rng.randrange(256)
        cut = rng.randrange(12, len(blob)) if rng.random() < 0.3 else len(blob)
        try:
            acts = parse_fit(bytes(blob[:cut]), "fuzz.fit")
        except (CorruptFileError, NotAnActivityError):
            continue
        for act in acts:
            lengths = {len(values) for values in act.samples.values()}
            assert lengths == {len(act.samples["time_s"])}
