"""Ingest end to end: incremental re-runs, crash safety, dedupe, bad files."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kneeload.ingest import ingest
from kneeload.store import Store

FR945 = (
    "sportslib__runs_6782987395.fit",
    "sportslib__runs_6782987395.gpx",
    "sportslib__runs_6782987395.tcx",
)

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<gpx><trk><name>&lol3;</name></trk></gpx>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gpx><trk><name>&xxe;</name><trkseg><trkpt lat="1" lon="1">
<time>2020-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>"""


def _copy(real_dir: Path, names: tuple[str, ...], dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(real_dir / name, dest / name)
    return dest


def test_same_run_in_three_formats_is_one_activity(
    real_dir: Path, tmp_path: Path
) -> None:
    folder = _copy(real_dir, FR945, tmp_path / "in")
    with Store.in_home(tmp_path) as store:
        report = ingest([folder], store, workers=1)
        rows = store.activity_rows()
    assert (report.ingested, report.duplicates) == (1, 2)
    assert [r["format"] for r in rows] == ["fit"]  # the richest source is kept


def test_rerun_of_unchanged_folder_does_nothing(real_dir: Path, tmp_path: Path) -> None:
    folder = _copy(real_dir, FR945[:1], tmp_path / "in")
    with Store.in_home(tmp_path) as store:
        first = ingest([folder], store, workers=1)
        second = ingest([folder], store, workers=1)
    assert first.ingested == 1
    assert (second.ingested, second.unchanged, second.duplicates) == (0, 1, 0)


def test_touched_but_identical_file_is_not_reparsed(
    real_dir: Path, tmp_path: Path
) -> None:
    folder = _copy(real_dir, FR945[:1], tmp_path / "in")
    with Store.in_home(tmp_path) as store:
        ingest([folder], store, workers=1)
        os.utime(folder / FR945[0], (1, 1))
        again = ingest([folder], store, workers=1)
        third = ingest([folder], store, workers=1)
    assert (again.unchanged, again.ingested) == (1, 0)
    assert third.unchanged == 1


def test_bad_files_are_reported_and_good_ones_ingested(
    real_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.io

    monkeypatch.setattr(kneeload.io, "MAX_FILE_BYTES", 8 * 2**20)
    folder = _copy(real_dir, FR945[:1], tmp_path / "in")
    good = (folder / FR945[0]).read_bytes()
    (folder / "truncated.fit").write_bytes(good[:5000])
    (folder / "random.fit").write_bytes(os.urandom(4000))
    (folder / "empty.gpx").write_bytes(b"")
    (folder / "header-only.fit").write_bytes(good[:14])
    (folder / "not-xml.tcx").write_bytes(b"hello, world")
    (folder / "bomb.gpx").write_bytes(ENTITY_BOMB)
    (folder / "xxe.gpx").write_bytes(EXTERNAL_ENTITY)
    (folder / "gzbomb.fit.gz").write_bytes(gzip.compress(b"\0" * (9 * 2**20)))
    with zipfile.ZipFile(folder / "evil.zip", "w") as zf:
        zf.writestr("../../escape.fit", good)
    (folder / "loop").symlink_to(folder)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    with Store.in_home(tmp_path) as store:
        report = ingest([folder], store, workers=1)
    problems = {Path(p).name: r for p, r in report.errors + report.skipped}
    for name in ("random.fit", "empty.gpx", "header-only.fit", "not-xml.tcx"):
        assert name in problems, name
    assert "bomb.gpx" in problems and "entit" in problems["bomb.gpx"].lower()
    assert "xxe.gpx" in problems and "root:" not in problems["xxe.gpx"]
    assert "inflates past" in problems["gzbomb.fit.gz"]
    assert [Path(p).name for p, _ in report.partial] == ["truncated.fit"]
    # the good run and the zip copy of it are one activity; the truncated copy too
    assert report.ingested == 1
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert not (tmp_path / "escape.fit").exists()


def test_zip_export_and_gzip_members(real_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "export_123.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        data = (real_dir / "trackeR__2013-06-01-183220.TCX.gz").read_bytes()
        zf.writestr("activities/1.tcx.gz", data)
        zf.writestr(
            "activities/2.fit.gz", gzip.compress((real_dir / FR945[0]).read_bytes())
        )
        zf.writestr("activities.csv", b"id,name\n")
    with Store.in_home(tmp_path) as store:
        report = ingest([archive], store, workers=1)
        again = ingest([archive], store, workers=1)
    assert (report.files_seen, report.ingested) == (2, 2)
    assert again.unchanged == 2


def _corpus(tmp_path: Path, n: int) -> Path:
    from kneeload._testing.synth import make_corpus

    folder = tmp_path / "corpus"
    make_corpus(folder, n, fmt="fit", duration_s=1800, interval_s=1, seed=7)
    return folder


def test_parallel_and_serial_ingest_agree(tmp_path: Path) -> None:
    folder = _corpus(tmp_path, 30)
    with Store.in_home(tmp_path / "a") as a, Store.in_home(tmp_path / "b") as b:
        ingest([folder], a, workers=1)
        ingest([folder], b, workers=2)
        rows_a, rows_b = a.activity_rows(), b.activity_rows()
    assert len(rows_a) == 30
    assert [(r["id"], r["distance_m"]) for r in rows_a] == [
        (r["id"], r["distance_m"]) for r in rows_b
    ]


def test_killed_ingest_leaves_a_usable_store_and_rerun_completes(
    tmp_path: Path,
) -> None:
    folder = _corpus(tmp_path, 200)
    home = tmp_path / "home"
    env = {**os.environ, "KNEELOAD_HOME": str(home)}
    cmd = [sys.executable, "-m", "kneeload", "ingest", str(folder), "--workers", "1"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until at least one batch committed
        time.sleep(0.05)
        if _count(home) > 0:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial_count = _count(home)
    assert 0 < partial_count < 200
    with sqlite3.connect(home / "kneeload.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    done = subprocess.run([*cmd, "--json"], env=env, capture_output=True, check=True)
    assert b'"ingested": ' + str(200 - partial_count).encode() in done.stdout
    assert _count(home) == 200


def _count(home: Path) -> int:
    if not (home / "kneeload.db").exists():
        return 0
    try:
        with sqlite3.connect(home / "kneeload.db", timeout=1) as db:
            return db.execute("SELECT count(*) FROM activities").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_replacing_one_of_two_identical_copies_keeps_the_run(
    real_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    _copy(real_dir, FR945[:1], folder / "a")
    _copy(real_dir, FR945[:1], folder / "b")
    with Store.in_home(tmp_path) as store:
        first = ingest([folder], store, workers=1)
        assert (first.ingested, first.duplicates) == (1, 1)
        other = real_dir / "trackeR__2013-06-01-183220.TCX.gz"
        shutil.copy2(other, folder / "a" / FR945[0])  # overwrite copy a
        second = ingest([folder], store, workers=1)
        dates = sorted(r["local_date"] for r in store.activity_rows())
    assert second.ingested == 1
    assert dates == ["2013-06-01", "2019-06-15"]  # copy b still holds the FR945 run
