"""Archive trees (PROTOCOL contract 6): opened once, every entry, nested zips."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

import kneeload.io.sources as sources_mod
from kneeload.errors import NotAnActivityError
from kneeload.ingest import ingest
from kneeload.io.sources import (
    ArchiveTree,
    Detection,
    Source,
    close_archives,
    escape_controls,
    iter_sources,
    register_export_detector,
)
from kneeload.store import Store


def gpx(minutes: int = 3, lat0: float = 47.0, day: str = "2024-05-04") -> bytes:
    """A small timed GPX run: one point a minute, about 167 m apart (10 km/h)."""
    pts = "".join(
        f'<trkpt lat="{lat0 + i * 0.0015:.4f}" lon="8.0"><ele>400</ele>'
        f"<time>{day}T07:{i:02d}:00Z</time></trkpt>"
        for i in range(minutes)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type>'
        f"<trkseg>{pts}</trkseg></trk></gpx>"
    ).encode()


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _closed() -> None:
    close_archives()


def test_nested_zip_members_are_read_with_bang_labels(tmp_path: Path) -> None:
    inner = zip_bytes([("a.gpx", gpx(day="2024-05-04"))])
    middle = zip_bytes([("inner.zip", inner), ("b.gpx", gpx(day="2024-05-05"))])
    outer = tmp_path / "outer.zip"
    outer.write_bytes(zip_bytes([("mid/middle.zip", middle)]))
    problems: list = []
    sources = list(iter_sources([outer], problems))
    key = str(outer.absolute())
    assert [s.key for s in sources] == [
        f"{key}!mid/middle.zip!inner.zip!a.gpx",
        f"{key}!mid/middle.zip!b.gpx",
    ]
    assert not problems
    assert sources[0].read() == gpx(day="2024-05-04")
    report = ingest([outer], Store(tmp_path / "h" / "store.db"), workers=1)
    assert (report.ingested, report.errors) == (2, [])


def test_third_level_of_nesting_is_refused_with_a_reason(tmp_path: Path) -> None:
    level3 = zip_bytes([("deep.gpx", gpx())])
    level2 = zip_bytes([("l3.zip", level3)])
    level1 = zip_bytes([("l2.zip", level2)])
    outer = tmp_path / "o.zip"
    outer.write_bytes(zip_bytes([("l1.zip", level1)]))
    problems: list = []
    assert list(iter_sources([outer], problems)) == []
    (problem,) = problems
    assert problem.path.endswith("o.zip!l1.zip!l2.zip!l3.zip")
    assert "nested more than 2 levels" in problem.reason


def test_tree_budget_counts_inflated_bytes_across_nested_zips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = gpx(minutes=30)
    inner = zip_bytes([(f"r{i}.gpx", run) for i in range(4)])
    # room for the inner zip and two of its members, not for a third
    monkeypatch.setattr(sources_mod, "MAX_TREE_BYTES", len(inner) + 2 * len(run) + 10)
    outer = tmp_path / "o.zip"
    outer.write_bytes(
        zip_bytes([("in.zip", inner), *[(f"s{i}.gpx", run) for i in range(4)]])
    )
    problems: list = []
    sources = list(iter_sources([outer], problems))
    assert [s.key.split("!", 1)[1] for s in sources] == [
        "in.zip!r0.gpx",
        "in.zip!r1.gpx",
    ]
    (problem,) = problems  # said once, not once per member
    assert problem.path.endswith("o.zip!in.zip!r2.gpx")
    assert "the archive inflates past 0." in problem.reason
    assert "this member and the rest are not read" in problem.reason


def test_every_entry_is_read_even_with_duplicate_names(tmp_path: Path) -> None:
    first, second = gpx(day="2024-05-04"), gpx(day="2024-06-04")
    archive = tmp_path / "dup.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr("run.gpx", first)
        zf.writestr("run.gpx", second)
    archive.write_bytes(buf.getvalue())
    sources = list(iter_sources([archive], []))
    assert [s.key.rsplit("!", 1)[1] for s in sources] == ["run.gpx", "run.gpx#2"]
    assert [s.read() for s in sources] == [first, second]
    store = Store(tmp_path / "h" / "store.db")
    assert ingest([archive], store, workers=1).ingested == 2


def test_ten_thousand_members_open_the_archive_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(10_000):
            zf.writestr(f"f/{i:05d}.gpx", b"<gpx/>")
    opened: list[str] = []
    real = zipfile.ZipFile

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, file: object, *args: object, **kwargs: object) -> None:
            opened.append(str(file))
            super().__init__(file, *args, **kwargs)

    monkeypatch.setattr(sources_mod.zipfile, "ZipFile", Counting)
    sources = list(iter_sources([archive], []))
    assert len(sources) == 10_000
    assert all(s.read() == b"<gpx/>" for s in sources)
    assert opened == [str(archive.absolute())]
    close_archives()
    opened.clear()
    # the whole ingest (listing, then reading every member) opens it once too
    report = ingest([archive], Store(tmp_path / "h" / "store.db"), workers=1)
    assert len(report.skipped) == 10_000
    assert opened == [str(archive.absolute())]


def test_control_characters_in_member_names_are_escaped(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    name = "x\nerror: fake\r\x07\x1b[2J.gpx"
    archive.write_bytes(zip_bytes([(name, b"not xml")]))
    store = Store(tmp_path / "h" / "store.db")
    report = ingest([archive], store, workers=1)
    ((path, reason),) = report.errors
    assert path.endswith("!x\\x0aerror: fake\\x0d\\x07\\x1b[2J.gpx")
    assert not any(c in path + reason for c in "\n\r\x07\x1b")
    assert escape_controls("a\u202eb\tc") == "a\\u202eb\\x09c"


def _set_encrypted(data: bytes, name: bytes) -> bytes:
    """Set the 'encrypted' flag of member ``name`` in both of its headers."""
    out = bytearray(data)
    for sig, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        pos = out.find(sig)
        while pos >= 0:
            if out[pos + name_at : pos + name_at + len(name)] == name:
                out[pos + flag_at] |= 1
            pos = out.find(sig, pos + 4)
    return bytes(out)


def _set_method(data: bytes, name: bytes, method: int) -> bytes:
    out = bytearray(data)
    for sig, method_at, name_at in ((b"PK\x03\x04", 8, 30), (b"PK\x01\x02", 10, 46)):
        pos = out.find(sig)
        while pos >= 0:
            if out[pos + name_at : pos + name_at + len(name)] == name:
                struct.pack_into("<H", out, pos + method_at, method)
            pos = out.find(sig, pos + 4)
    return bytes(out)


def test_encrypted_and_unknown_method_members_beside_a_good_gpx(tmp_path: Path) -> None:
    data = zip_bytes([("locked.gpx", gpx()), ("odd.gpx", gpx()), ("good.gpx", gpx())])
    data = _set_method(_set_encrypted(data, b"locked.gpx"), b"odd.gpx", 99)
    archive = tmp_path / "mixed.zip"
    archive.write_bytes(data)
    report = ingest([archive], Store(tmp_path / "h" / "store.db"), workers=1)
    assert report.ingested == 1
    reasons = dict(report.errors)
    key = str(archive.absolute())
    assert reasons == {
        f"{key}!locked.gpx": "encrypted zip member: not read",
        f"{key}!odd.gpx": "zip member uses compression method 99: not read",
    }


def test_a_source_built_by_hand_still_reads_by_member_name(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes([("run.gpx", gpx())]))
    source = Source("x", 10, 0, archive=str(archive), member="run.gpx")
    assert source.read() == gpx()


def test_export_detector_sees_the_whole_tree_and_shapes_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "export"
    (folder / "activities").mkdir(parents=True)
    (folder / "activities.csv").write_text("Filename,Activity Name\n")
    (folder / "activities" / "1.gpx").write_bytes(gpx())
    (folder / "activities" / "wellness.fit").write_bytes(b"monitoring")
    (folder / "parts.zip").write_bytes(zip_bytes([("2.gpx", gpx(day="2024-06-01"))]))
    seen: list[list[str]] = []

    def detector(tree: ArchiveTree) -> Detection | None:
        names = sorted(e.name for e in tree.entries)
        seen.append(names)
        by_name = {e.name: e for e in tree.entries}
        if "activities.csv" not in by_name:
            return None
        assert by_name["activities.csv"].source.read().startswith(b"Filename")
        return Detection(
            meta={by_name["activities/1.gpx"].key: {"device": "from the export"}},
            quiet={by_name["activities/wellness.fit"].key},
            problems=[
                NotAnActivityError("export/3.gpx", "listed, but not in the export")
            ],
        )

    monkeypatch.setattr(sources_mod, "_DETECTORS", [])
    monkeypatch.setattr(sources_mod, "_DETECTORS_LOADED", True)
    register_export_detector(detector)
    problems: list = []
    sources = list(iter_sources([folder], problems))
    assert seen == [
        [
            "activities.csv",
            "activities/1.gpx",
            "activities/wellness.fit",
            "parts.zip!2.gpx",
        ]
    ]
    assert sorted(s.key.rsplit("/", 1)[1] for s in sources) == [
        "1.gpx",
        "parts.zip!2.gpx",
    ]
    sources.sort(key=lambda s: s.key)
    assert sources[0].meta == {"device": "from the export"}
    assert problems[0].reason == "listed, but not in the export"
    store = Store(tmp_path / "h" / "store.db")
    report = ingest([folder], store, workers=1)
    assert report.ingested == 2
    assert report.skipped == [("export/3.gpx", "listed, but not in the export")]
    devices = sorted(str(a["device"]) for a in store.activity_rows())
    assert devices == ["from the export", "test"]


def test_worker_processes_read_members_of_nested_zips(tmp_path: Path) -> None:
    runs = [(f"r{i:02d}.gpx", gpx(day=f"2024-05-{i + 1:02d}")) for i in range(28)]
    outer = tmp_path / "o.zip"
    outer.write_bytes(zip_bytes([("in.zip", zip_bytes(runs[:14])), *runs[14:]]))
    report = ingest([outer], Store(tmp_path / "h" / "store.db"), workers=2)
    assert (report.ingested, report.errors) == (28, [])
