"""Faults around the store (issue 9 item 4): one line, an exit status, nothing lost.

Each test makes the fault for real where the machine allows it (a read-only bind
mount and a tiny tmpfs inside a user namespace via ``unshare``), and otherwise
through SQLite itself (``max_page_count`` makes SQLite report a full disk).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kneeload._testing.synth import make_corpus
from kneeload.cli import cli
from kneeload.errors import DateRangeError, KneeloadError, StoreError
from kneeload.store import DB_NAME, Store

REPO = Path(__file__).resolve().parents[1]
SAMPLE_FIT = sorted((REPO / "sample_activities").glob("*.fit"))


def run(home: Path, *args: str) -> tuple[int, str, str]:
    """Invoke kneeload with ``--home home``: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.stderr


def _corpus(folder: Path, n: int, seed: int = 11) -> Path:
    make_corpus(folder, n, fmt="fit", duration_s=600, interval_s=1, seed=seed)
    return folder


def _ids(home: Path) -> list[str]:
    with Store.in_home(home, readonly=True) as store:
        return sorted(r["id"] for r in store.activity_rows())


# ---- --home is a regular file ----


@pytest.mark.parametrize(
    "args",
    [["activities"], ["ingest", str(REPO)], ["note", "--text", "x"],
     ["config", "init"], ["doctor"], ["check", "--as-of", "2026-08-30"]],
    ids=lambda a: a[0],
)  # fmt: skip
def test_home_that_is_a_file_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    code, _, err = run(home, *args)
    assert code == 2
    assert f"{home} is a file, not a folder" in err
    assert home.read_text() == "not a folder"  # untouched


def test_store_on_a_file_path_is_a_store_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("x")
    with pytest.raises(StoreError, match="is a file, not a folder"):
        Store.in_home(home)


# ---- disk full during ingest ----


def test_disk_full_during_ingest_is_one_line_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own SQLITE_FULL (max_page_count): no 'cannot rollback' traceback."""
    import kneeload.store as store_module

    home = tmp_path / "home"
    first = _corpus(tmp_path / "first", 3)
    assert run(home, "ingest", str(first))[0] == 0
    before = _ids(home)
    with sqlite3.connect(home / DB_NAME) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    real = store_module._connect

    def tiny_disk(path: Path, *, readonly: bool) -> sqlite3.Connection:
        db = real(path, readonly=readonly)
        db.execute(f"PRAGMA max_page_count = {pages + 2}")
        return db

    monkeypatch.setattr(store_module, "_connect", tiny_disk)
    more = _corpus(tmp_path / "more", 6, seed=12)
    code, _, err = run(home, "ingest", str(more))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "the disk is full" in lines[-1], err
    assert "what was stored is intact" in lines[-1]
    assert "cannot rollback" not in err
    monkeypatch.setattr(store_module, "_connect", real)
    assert set(before) <= set(_ids(home))  # what was stored is still there
    assert run(home, "doctor")[0] == 0
    code, _, err = run(home, "ingest", str(more))  # space again: the run completes
    assert code == 0, err
    assert len(_ids(home)) == 3 + 6


def _unshare_ok() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt 2>/dev/null"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not _unshare_ok(), reason="needs Linux user+mount namespaces (unshare -rm)"
)


def _in_namespace(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "KNEELOAD_HOME": ""}
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=240,
    )


@needs_mounts
def test_real_full_disk(tmp_path: Path) -> None:
    """A 256 KiB tmpfs fills up mid-ingest: one line, exit 1, the store still opens."""
    corpus = _corpus(tmp_path / "corpus", 30)
    py = sys.executable
    result = _in_namespace(
        f"""
        mkdir -p disk && mount -t tmpfs -o size=256k tmpfs disk || exit 99
        {py} -m kneeload --home disk/home ingest {corpus} --workers 1; echo "rc=$?"
        {py} -m kneeload --home disk/home doctor; echo "rc=$?"
        {py} -m kneeload --home disk/home activities --json > /dev/null; echo "rc=$?"
        """,
        tmp_path,
    )
    out = result.stdout.splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert out[0] == "rc=1", (result.stdout, result.stderr)
    assert "the disk is full" in result.stderr
    assert out[-2:] == ["rc=0", "rc=0"] or out[-1] == "rc=0", result.stdout


# ---- read-only home ----


@needs_mounts
def test_read_only_home_is_readable_and_writes_are_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    corpus = _corpus(tmp_path / "corpus", 3)
    assert run(home, "ingest", str(corpus))[0] == 0
    listed = run(home, "activities", "--json")[1]
    new = _corpus(tmp_path / "new", 2, seed=13)
    py = sys.executable
    result = _in_namespace(
        f"""
        mkdir -p ro && mount --bind {home} ro && mount -o remount,ro,bind ro \
            || exit 99
        {py} -m kneeload --home ro activities --json > listed.json; echo "rc=$?"
        {py} -m kneeload --home ro check --as-of 2021-01-03 --json >/dev/null; \
            echo "rc=$?"
        {py} -m kneeload --home ro ingest {new}; echo "rc=$?"
        {py} -m kneeload --home ro activities set {_ids(home)[0]} --exclude; \
            echo "rc=$?"
        {py} -m kneeload --home ro note --text x; echo "rc=$?"
        """,
        tmp_path,
    )
    assert "Traceback" not in result.stderr, result.stderr
    rcs = result.stdout.split()
    assert rcs[:2] == ["rc=0", "rc=0"], (result.stdout, result.stderr)
    assert (tmp_path / "listed.json").read_text() == listed
    assert rcs[2:] == ["rc=1", "rc=1", "rc=1"], (result.stdout, result.stderr)
    assert result.stderr.count("read-only") >= 2, result.stderr
    assert len(_ids(home)) == 3  # intact


def test_read_only_open_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "ingest", str(_corpus(tmp_path / "c", 2)))[0] == 0
    db = home / DB_NAME
    stamp = (db.stat().st_mtime_ns, db.read_bytes())
    with Store.in_home(home, readonly=True) as store:
        assert store.readonly and len(store.activity_rows()) == 2
        with pytest.raises(StoreError, match="read-only"):
            store.set_correction(store.activity_rows()[0]["id"], excluded=True)
    assert (db.stat().st_mtime_ns, db.read_bytes()) == stamp


# ---- a damaged store ----


def test_damaged_samples_blob_is_a_store_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "ingest", str(_corpus(tmp_path / "c", 1)))[0] == 0
    (aid,) = _ids(home)
    with sqlite3.connect(home / DB_NAME) as db:
        db.execute("UPDATE samples SET data = ? WHERE activity_id = ?", (
            b"KLS1" + (40).to_bytes(4, "little") + b"{not json" + b"\0" * 40, aid,
        ))  # fmt: skip
        db.execute("UPDATE activities SET hr_hist = x'00ff00'")
    with Store.in_home(home) as store, pytest.raises(StoreError, match="doctor"):
        store.samples(aid)
    code, _, err = run(home, "activities")
    assert code == 1 and "damaged" in err and "kneeload doctor" in err
    code, _, err = run(home, "doctor")
    assert code == 1
    assert f"problem: activity {aid}: damaged samples" in err
    assert f"problem: activity {aid}: damaged summary values" in err


def test_not_a_database_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / DB_NAME).write_bytes(os.urandom(8192))
    for args in (["activities"], ["ingest", str(_corpus(tmp_path / "c", 1))]):
        code, _, err = run(home, *args)
        assert code == 1
        assert len(err.strip().splitlines()) == 1 and "kneeload doctor" in err
    code, _, err = run(home, "doctor", "--rebuild")
    assert code == 1 and "file index could not be read" in err
    assert list(home.glob("kneeload.db.damaged-*"))


# ---- extreme dates in the library ----


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31)], ids=str)
def test_extreme_dates_raise_a_kneeload_error_with_the_range(day: date) -> None:
    import pandas as pd

    from kneeload.analysis.check import cadence_advice, check
    from kneeload.analysis.taper import taper_check
    from kneeload.config import Settings
    from kneeload.report.weekly import build_weekly_report

    acts = pd.DataFrame(columns=["local_date", "sport"])
    settings = Settings()
    calls = [
        lambda: check(acts, settings=settings, as_of=day),
        lambda: cadence_advice(acts, settings=settings, as_of=day),
        lambda: taper_check(acts, settings=settings, race_date=day, as_of=date.today()),
        lambda: build_weekly_report(acts, settings=settings, week_ending=day),
    ]
    for call in calls:
        with pytest.raises(DateRangeError, match="1900-01-01 to 2200-12-31") as info:
            call()
        assert isinstance(info.value, KneeloadError)
        assert day.isoformat() in str(info.value)


# ---- worker processes and a killed parent ----


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_end_with_a_killed_parent(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 60, fmt="gpx", duration_s=1800, interval_s=1, seed=5)
    parent = subprocess.Popen(
        [sys.executable, "-m", "kneeload", "--home", str(tmp_path / "home"),
         "ingest", str(corpus), "--workers", "2"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [p for p in _children(parent.pid) if _alive(p)]
            time.sleep(0.05)
        assert len(workers) >= 2, "the pool never started"
        time.sleep(0.3)  # the initializer has run
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers)
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in workers:  # never leave a stray process behind a failed test
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
