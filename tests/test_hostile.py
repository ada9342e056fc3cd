"""Hostile or impossible input files (issue 9 item 1): one file never stops a run."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

import kneeload.ingest as ingest_mod
from kneeload._testing.synth import _fit_message
from kneeload.errors import ActivityFileError
from kneeload.ingest import ingest, read_source
from kneeload.io import parse_bytes
from kneeload.io.fit import SEMICIRCLE_DEG, decode_reference, fit_crc
from kneeload.io.sources import Source
from kneeload.store import Store
from tests.test_archives import gpx


def test_an_unexpected_reader_failure_is_that_files_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = tmp_path / "good.gpx", tmp_path / "bad.gpx"
    good.write_bytes(gpx())
    bad.write_bytes(gpx(day="2024-05-05"))
    real = ingest_mod.parse_bytes

    def buggy(data: bytes, name: str) -> list:
        if name.endswith("bad.gpx"):
            raise ZeroDivisionError("a reader bug")
        return real(data, name)

    monkeypatch.setattr(ingest_mod, "parse_bytes", buggy)
    report = ingest([tmp_path], Store(tmp_path / "h" / "store.db"), workers=1)
    assert report.ingested == 1
    assert report.errors == [
        (str(bad), "could not be read (ZeroDivisionError: a reader bug)")
    ]
    assert "ZeroDivisionError" in report.tracebacks[str(bad)]
    assert "Traceback" in report.tracebacks[str(bad)]


def test_read_source_never_raises_even_for_a_missing_file(tmp_path: Path) -> None:
    result = read_source(Source(str(tmp_path / "gone.fit"), 10, 0), None, None)
    assert result.status == "error"
    assert result.reason is not None and "cannot read" in result.reason


def _fit(messages: list[bytes]) -> bytes:
    body = b"".join(messages)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    return header + body + struct.pack("<H", fit_crc(header + body))


def _dev_field_fit(base_type: int) -> bytes:
    """file_id, a developer field of ``base_type``, and records the fast decoder
    leaves to fitparse (they carry ``compressed_speed_distance``)."""
    t0 = 1_000_000_000  # FIT time: 2021-09-09
    file_id = _fit_message(0, 0, [(0, "enum", 4), (1, "uint16", 1), (4, "uint32", t0)])
    dev_id = _fit_message(1, 207, [(3, "uint8", 0)])  # developer_data_index 0
    # field_description: developer_data_index, field_definition_number, base type
    desc = _fit_message(
        2, 206, [(0, "uint8", 0), (1, "uint8", 0), (2, "uint8", base_type)]
    )
    # record: timestamp + compressed_speed_distance (3 bytes) + heart rate
    rec_def = struct.pack("<BBBHB", 0x43, 0, 0, 20, 3)
    rec_def += struct.pack("<BBB", 253, 4, 0x86) + struct.pack("<BBB", 8, 3, 0x0D)
    rec_def += struct.pack("<BBB", 3, 1, 0x02)
    records = b"".join(
        struct.pack("<BI3sB", 3, t0 + i, b"\x10\x00\x01", 140) for i in range(5)
    )
    return _fit([file_id, dev_id, desc, rec_def + records])


def test_a_developer_field_with_an_unknown_base_type_is_a_named_problem() -> None:
    good = decode_reference(_dev_field_fit(0x02), "dev.fit")  # uint8: fine
    assert good.partial is None and good.records["heart_rate"].size == 5
    data = _dev_field_fit(0x55)  # no FIT base type has number 0x55
    decoded = decode_reference(data, "dev.fit")
    assert decoded.partial == (
        "developer field with an unknown base type 85: kept 0 records"
    )
    # through the whole reader: the file is one named outcome, never a KeyError
    with pytest.raises(ActivityFileError):
        parse_bytes(data, "dev.fit")


def test_kneeloads_own_bugs_inside_the_fitparse_path_are_not_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kneeload.io.fit as fit_mod

    def broken(message: object) -> dict:
        raise KeyError("a kneeload bug")

    monkeypatch.setattr(fit_mod, "_reference_row", broken)
    with pytest.raises(KeyError, match="a kneeload bug"):
        decode_reference(_dev_field_fit(0x02), "dev.fit")


def tcx(
    points: list[tuple[str, float, float, int | None]], sport: str = "Running"
) -> bytes:
    """A one-lap TCX: (time, lat, lon, hr or None) per trackpoint."""
    tps = "".join(
        f"<Trackpoint><Time>{t}</Time><Position><LatitudeDegrees>{lat}"
        f"</LatitudeDegrees><LongitudeDegrees>{lon}</LongitudeDegrees></Position>"
        + (
            f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>"
            if hr is not None
            else ""
        )
        + "</Trackpoint>"
        for t, lat, lon, hr in points
    )
    return (
        '<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/'
        'xmlschemas/TrainingCenterDatabase/v2"><Activities>'
        f'<Activity Sport="{sport}"><Id>{points[0][0]}</Id>'
        f'<Lap StartTime="{points[0][0]}"><Track>{tps}</Track></Lap>'
        "</Activity></Activities></TrainingCenterDatabase>"
    ).encode()


def _minutes(day: str, n: int) -> list[str]:
    return [f"{day}T07:{i:02d}:00Z" for i in range(n)]


def test_lat_91_gpx_does_not_poison_a_folder_first_run_or_rerun(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for day in range(1, 6):
        (folder / f"good{day}.gpx").write_bytes(gpx(day=f"2024-05-0{day}"))
    (folder / "poison.gpx").write_bytes(
        gpx(day="2024-05-09").replace(b'lat="47.0000"', b'lat="91"')
    )
    store = Store(tmp_path / "h" / "store.db")
    first = ingest([folder], store, workers=1)
    assert (first.ingested, first.errors) == (6, [])
    # the one impossible position is dropped, the rest of the file is the run
    poison = next(
        a for a in store.activity_rows() if a["source"].endswith("poison.gpx")
    )
    assert poison["tz_source"] == "position"
    again = ingest([folder], store, workers=1)
    assert (again.ingested, again.unchanged, again.errors) == (0, 6, [])
    assert len(store.activity_rows()) == 6


@pytest.mark.parametrize("lat, lon", [(91.0, 8.0), (-90.5, 8.0), (47.0, 180.5)])
def test_positions_off_the_globe_never_reach_the_time_zone_lookup(
    lat: float, lon: float
) -> None:
    from kneeload.summary import summarise

    days = _minutes("2024-05-04", 3)
    data = tcx([(t, lat, lon, 140) for t in days])
    (raw,) = parse_bytes(data, "off.tcx")
    activity, _ = summarise(raw, "off.tcx", default_tz="Europe/Paris")
    assert activity.tz_source == "config"
    assert "position off the globe or at (0, 0): 3 dropped (RULES §1.5)" in raw.notes
    if abs(lon) <= 180:  # a FIT longitude (int32 semicircles) cannot leave +/-180
        (raw,) = parse_bytes(_position_fit(lat, lon), "off.fit")
        activity, _ = summarise(raw, "off.fit", default_tz="Europe/Paris")
        assert activity.tz_source == "config"


def _position_fit(lat: float, lon: float) -> bytes:
    """A FIT activity of three records at one (possibly impossible) position."""
    t0 = 1_000_000_000
    semis = [round(v / SEMICIRCLE_DEG) for v in (lat, lon)]
    records = [
        _fit_message(
            2,
            20,
            [
                (253, "uint32", t0 + i),
                (0, "sint32", semis[0]),
                (1, "sint32", semis[1]),
                (3, "uint8", 140),
            ],
        )
        for i in range(3)
    ]
    file_id = _fit_message(0, 0, [(0, "enum", 4), (1, "uint16", 1), (4, "uint32", t0)])
    return _fit([file_id, *records])


@pytest.mark.parametrize("year", ["1500", "0001", "3000", "9999", "99999"])
def test_years_pandas_cannot_hold_are_no_timestamps(year: str) -> None:
    from kneeload.summary import summarise

    days = _minutes("2024-05-04", 4)
    odd = f"{year}-05-04T07:01:00Z"
    data = gpx(minutes=4).replace(days[1].encode(), odd.encode())
    (raw,) = parse_bytes(data, "odd.gpx")
    activity, samples = summarise(raw, "odd.gpx")
    assert activity.start_utc == 1714806000.0  # 2024-05-04T07:00:00Z
    assert activity.elapsed_s == 180.0
    assert np.isfinite(samples["time_s"]).sum() == 3  # 99999: no time at all
    points = [(t, 47.0, 8.0, 140) for t in days]
    points[0] = (odd, 47.0, 8.0, 140)
    (raw,) = parse_bytes(tcx(points), "odd.tcx")  # the lap starts in that year too
    activity, samples = summarise(raw, "odd.tcx")
    assert activity.start_utc == 1714806060.0  # 07:01, the first plausible point
    assert activity.elapsed_s == 120.0


@pytest.mark.parametrize(
    "encoding, note",
    [
        (
            "no-such-codec",
            "declared encoding: unknown encoding 'no-such-codec', read as UTF-8",
        ),
        ("Shift_JIS", "declared encoding: decoded as Shift_JIS"),
        ("EUC-JP", "declared encoding: decoded as EUC-JP"),
    ],
)
def test_encodings_expat_cannot_use_are_decoded(encoding: str, note: str) -> None:
    decl = f'<?xml version="1.0" encoding="{encoding}"?>'.encode()
    for make, name in (
        (gpx, "e.gpx"),
        (
            lambda: tcx([(t, 47.0, 8.0, 140) for t in _minutes("2024-05-04", 3)]),
            "e.tcx",
        ),
    ):
        data = make().replace(b'<?xml version="1.0"?>', decl)
        (raw,) = parse_bytes(data, name)
        assert raw.notes == [note]
        assert raw.partial is None
        assert np.isfinite(raw.samples["time_s"]).sum() == 3


def test_a_shift_jis_creator_name_is_decoded() -> None:
    data = gpx().replace(
        b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="Shift_JIS"?>'
    )
    data = data.replace(b'creator="test"', 'creator="東京"'.encode("shift_jis"))
    (raw,) = parse_bytes(data, "jp.gpx")
    assert raw.device == "東京"


def test_a_damaged_multi_activity_tcx_says_its_reason_once(tmp_path: Path) -> None:
    def activity(day: str) -> bytes:
        one = tcx([(t, 47.0, 8.0, 140) for t in _minutes(day, 3)])
        return one[one.index(b"<Activity ") : one.index(b"</Activities>")]

    body = b"".join(activity(f"2024-05-0{d}") for d in range(1, 5))
    data = (
        b'<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/'
        b'xmlschemas/TrainingCenterDatabase/v2"><Activities>' + body
    )  # cut off: no closing tags
    path = tmp_path / "multi.tcx"
    path.write_bytes(data)
    report = ingest([path], Store(tmp_path / "h" / "store.db"), workers=1)
    assert report.ingested == 4
    ((_, reason),) = report.partial
    assert reason.count("XML damaged or truncated") == 1
    assert reason.count("; ") == 1  # the one reason's own "; data after ..."


def test_a_file_over_the_limit_is_refused_with_exact_numbers(tmp_path: Path) -> None:
    big = tmp_path / "big.gpx"
    size = round(64.3 * 2**20)
    with big.open("wb") as fh:
        fh.truncate(size)  # sparse: no 64 MiB written to disk
    report = ingest([big], Store(tmp_path / "h" / "store.db"), workers=1)
    assert report.errors == [
        (
            str(big),
            "64.3 MiB is larger than the 64 MiB limit for an activity file; refused",
        )
    ]


def test_the_traceback_of_an_unexpected_failure_shows_only_with_v(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from kneeload.cli import cli

    (tmp_path / "bad.gpx").write_bytes(gpx())

    def buggy(data: bytes, name: str) -> list:
        raise ZeroDivisionError("a reader bug")

    monkeypatch.setattr(ingest_mod, "parse_bytes", buggy)
    home = str(tmp_path / "home")
    args = ["ingest", str(tmp_path / "bad.gpx")]
    quiet = CliRunner().invoke(cli, ["--home", home, *args])
    loud = CliRunner().invoke(cli, ["--home", home, "-v", *args])
    line = "could not be read (ZeroDivisionError: a reader bug)"
    assert line in quiet.output and "Traceback" not in quiet.output
    assert line in loud.output and "Traceback (most recent call last)" in loud.output
    assert quiet.exit_code == loud.exit_code == 0


def test_a_file_that_kills_its_worker_process_is_that_files_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the patched reader reaches the workers only when they fork")
    folder = tmp_path / "runs"
    folder.mkdir()
    for i in range(30):
        (folder / f"r{i:02d}.gpx").write_bytes(gpx(day=f"2024-05-{i + 1:02d}"))
    real = ingest_mod.parse_bytes

    def deadly(data: bytes, name: str) -> list:
        if name.endswith("r07.gpx"):
            os._exit(3)  # what an out-of-memory kill looks like to the pool
        return real(data, name)

    monkeypatch.setattr(ingest_mod, "parse_bytes", deadly)
    report = ingest([folder], Store(tmp_path / "h" / "store.db"), workers=2)
    assert report.errors == [(str(folder / "r07.gpx"), ingest_mod.WORKER_DIED)]
    assert report.ingested == 29
