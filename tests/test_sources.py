"""Finding files safely: zips, gzip bombs, symlink loops, hostile member names."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import pytest

from kneeload.errors import CorruptFileError, UnsafeFileError
from kneeload.io import gunzip_bounded, parse_bytes, sniff
from kneeload.io.sources import Source, iter_sources


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_sniff_uses_bytes_not_names() -> None:
    assert sniff(b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT") == "fit"
    assert sniff(b'<?xml version="1.0"?>\n<gpx version="1.1">') == "gpx"
    assert sniff(b"\xef\xbb\xbf<?xml?><TrainingCenterDatabase>") == "tcx"
    assert sniff(gzip.compress(b"x")) == "gzip"
    assert sniff(b"hello") == "unknown"


def test_gzip_bomb_is_refused_without_inflating_it_all() -> None:
    bomb = gzip.compress(b"\0" * (3 * 2**20))
    with pytest.raises(UnsafeFileError, match="inflates past"):
        gunzip_bounded(bomb, "bomb.fit.gz", limit=2**20)
    assert gunzip_bounded(gzip.compress(b"abc"), "ok.gz") == b"abc"


def test_truncated_gzip_and_garbage_are_corrupt() -> None:
    data = gzip.compress(os.urandom(5000))
    with pytest.raises(CorruptFileError, match="truncated"):
        gunzip_bounded(data[: len(data) // 2], "cut.gz")
    with pytest.raises(CorruptFileError):
        parse_bytes(os.urandom(300), "random.fit")
    with pytest.raises(CorruptFileError, match="empty"):
        parse_bytes(b"", "empty.fit")


def test_zip_members_are_labels_never_paths(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "export.zip",
        {
            "../../evil.gpx": b"<gpx></gpx>",
            "/abs/run.fit": b"not really",
            "activities/1.fit.gz": gzip.compress(b"x"),
            "activities/notes.txt": b"ignored",
        },
    )
    before = sorted(p.name for p in tmp_path.rglob("*"))
    problems: list = []
    sources = list(iter_sources([archive], problems))
    assert [s.member for s in sources] == [
        "../../evil.gpx",
        "/abs/run.fit",
        "activities/1.fit.gz",
    ]
    for source in sources:
        assert source.key.startswith(str(archive.absolute()) + "!")
        source.read()  # reading a member writes nothing to disk
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not problems


def test_zip_member_inflating_past_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.io.sources as sources_mod

    monkeypatch.setattr(sources_mod, "MAX_FILE_BYTES", 2**20)
    archive = _zip(tmp_path / "bomb.zip", {"big.gpx": b"\0" * (2 * 2**20)})
    problems: list = []
    assert list(iter_sources([archive], problems)) == []
    assert isinstance(problems[0], UnsafeFileError)
    assert "big.gpx" in problems[0].path


def test_lying_zip_header_is_still_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.io.sources as sources_mod

    monkeypatch.setattr(sources_mod, "MAX_FILE_BYTES", 1000)
    archive = _zip(tmp_path / "a.zip", {"run.gpx": b"\0" * 5000})
    source = Source(
        key="x", size=10, mtime_ns=0, archive=str(archive), member="run.gpx"
    )
    with pytest.raises(UnsafeFileError):
        source.read()


def test_symlink_loop_ends(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    (root / "a").mkdir(parents=True)
    (root / "a" / "run.gpx").write_bytes(b"<gpx></gpx>")
    (root / "a" / "loop").symlink_to(root)
    (root / "self").symlink_to(root / "a")
    problems: list = []
    sources = list(iter_sources([root], problems))
    assert [Path(s.key).name for s in sources] == ["run.gpx"]


def test_folder_walk_filters_names_and_reports_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "run.FIT").write_bytes(b"x")
    (tmp_path / "ride.TCX.gz").write_bytes(b"x")
    (tmp_path / "photo.jpg").write_bytes(b"x")
    (tmp_path / ".hidden.fit").write_bytes(b"x")
    problems: list = []
    names = [Path(s.key).name for s in iter_sources([tmp_path], problems)]
    assert names == ["ride.TCX.gz", "run.FIT"]
    list(iter_sources([tmp_path / "nope"], problems))
    assert "no such file" in problems[0].reason


def test_broken_zip_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.fit", b"x" * 100)
    bad.write_bytes(buf.getvalue()[:40])
    problems: list = []
    assert list(iter_sources([bad], problems)) == []
    assert "zip" in problems[0].reason


def test_oversized_loose_file_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.io.sources as sources_mod

    monkeypatch.setattr(sources_mod, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "huge.gpx"
    big.write_bytes(b"<gpx>" + b" " * 5000)
    problems: list = []
    (source,) = iter_sources([big], problems)
    with pytest.raises(UnsafeFileError) as err:
        source.read()
    # 5005 bytes = 0.004773 MiB; the limit of 1000 bytes = 0.000954 MiB
    assert err.value.reason == (
        "0.005 MiB is larger than the 0.001 MiB limit for an activity file; refused"
    )


def test_oversized_bytes_are_refused_by_the_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kneeload.io

    monkeypatch.setattr(kneeload.io, "MAX_FILE_BYTES", 1000)
    with pytest.raises(UnsafeFileError, match="limit"):
        parse_bytes(b"<gpx>" + b" " * 5000, "big.gpx")
