"""Check the store, and rebuild a damaged one from the files it indexes.

``diagnose`` reads the whole database read-only: SQLite's ``integrity_check``,
then every stored blob (samples, HR histograms, steady segments) decoded once.
``rebuild`` moves the damaged database aside (never deletes it), creates a new
store, carries over what can still be read of the runner's own words (the
corrections and the export metadata), and ingests again the original files the
old file index names. Files that are gone are listed: their activities cannot
come back.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kneeload.codec import decode_hr_hist, decode_samples
from kneeload.errors import StoreError
from kneeload.ingest import IngestReport, ingest
from kneeload.io.sources import ZIP_SEPARATOR
from kneeload.store import DB_NAME, Store

#: Lines of ``integrity_check`` kept in a diagnosis (SQLite stops at 100 anyway).
MAX_PROBLEMS = 20


@dataclass
class Diagnosis:
    """What ``diagnose`` found: problems (empty when the store is sound) and counts."""

    path: Path
    exists: bool
    problems: list[str] = field(default_factory=list)
    activities: int = 0
    files: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The ``doctor --json`` document."""
        return {
            "store": str(self.path),
            "exists": self.exists,
            "ok": self.ok,
            "problems": list(self.problems),
            "activities": self.activities,
            "files": self.files,
        }


@dataclass
class Rebuild:
    """What ``rebuild`` did: where the old database went, what was read again."""

    moved_to: Path | None
    roots: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    corrections: int = 0
    report: IngestReport = field(default_factory=IngestReport)
    index_lost: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``doctor --rebuild --json`` document."""
        return {
            "moved_to": str(self.moved_to) if self.moved_to else None,
            "reingested": self.roots,
            "gone": self.gone,
            "corrections_kept": self.corrections,
            "index_lost": self.index_lost,
            "ingest": self.report.to_json(),
        }


def _open_ro(path: Path) -> sqlite3.Connection:
    uri = path.absolute().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        db.execute("PRAGMA user_version").fetchone()
    except sqlite3.OperationalError:
        db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    return db


def diagnose(home: Path) -> Diagnosis:
    """Check the store of ``home`` end to end, without changing a byte."""
    path = Path(home) / DB_NAME
    found = Diagnosis(path, path.is_file())
    if not found.exists:
        return found
    try:
        db = _open_ro(path)
    except sqlite3.DatabaseError as exc:
        found.problems.append(f"cannot open: {exc}")
        return found
    try:
        lines = [
            line.strip()
            for (text,) in db.execute("PRAGMA integrity_check")
            for line in str(text).splitlines()
            if line.strip() and not line.startswith("***")
        ]
        if lines != ["ok"]:
            found.problems += lines[:MAX_PROBLEMS]
            if len(lines) > MAX_PROBLEMS:
                found.problems.append(f"... and {len(lines) - MAX_PROBLEMS} more")
        found.files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        found.activities = db.execute("SELECT count(*) FROM activities").fetchone()[0]
        found.problems += _blob_problems(db)
    except sqlite3.DatabaseError as exc:
        found.problems.append(str(exc))
    finally:
        db.close()
    return found


def _blob_problems(db: sqlite3.Connection) -> list[str]:
    """Decode every stored blob once; name the activities whose blobs are bad."""
    bad: list[str] = []
    for aid, hist, steady in db.execute(
        "SELECT id, hr_hist, steady_json FROM activities"
    ):
        try:
            decode_hr_hist(hist)
            json.loads(steady or "[]")
        except (ValueError, TypeError, zlib.error):
            bad.append(f"activity {aid}: damaged summary values")
    for aid, blob in db.execute("SELECT activity_id, data FROM samples"):
        try:
            decode_samples(blob)
        except StoreError:
            bad.append(f"activity {aid}: damaged samples")
    if len(bad) > MAX_PROBLEMS:
        bad = [*bad[:MAX_PROBLEMS], f"... and {len(bad) - MAX_PROBLEMS} more"]
    return bad


def _salvage(path: Path) -> tuple[list[str] | None, list[tuple[Any, ...]], list[dict]]:
    """(file keys or None if unreadable, corrections, export metadata) of a store."""
    keys: list[str] | None = None
    corrections: list[tuple[Any, ...]] = []
    meta: list[dict[str, Any]] = []
    try:
        db = _open_ro(path)
    except sqlite3.DatabaseError:
        return None, [], []
    with contextlib.closing(db):
        with contextlib.suppress(sqlite3.DatabaseError):
            keys = [r[0] for r in db.execute("SELECT key FROM files")]
        with contextlib.suppress(sqlite3.DatabaseError):
            corrections = db.execute(
                "SELECT activity_id, sport, ok, excluded FROM corrections"
            ).fetchall()
        with contextlib.suppress(sqlite3.DatabaseError):
            cols = ("key", "name", "gear", "rpe", "sport")
            meta = [
                dict(zip(cols, r, strict=True))
                for r in db.execute(f"SELECT {', '.join(cols)} FROM export_meta")
            ]
    return keys, corrections, meta


def file_roots(keys: list[str]) -> list[str]:
    """The files on disk behind index keys (``a.zip!b.zip!c.fit`` → ``a.zip``)."""
    return sorted({key.split(ZIP_SEPARATOR, 1)[0] for key in keys})


def rebuild(
    home: Path, *, default_tz: str | None = None, workers: int | None = None
) -> Rebuild:
    """Move the store aside and build a new one from the files it indexes."""
    path = Path(home) / DB_NAME
    keys, corrections, meta = _salvage(path) if path.is_file() else ([], [], [])
    moved = _move_aside(path) if path.exists() else None
    out = Rebuild(moved, index_lost=keys is None)
    roots = file_roots(keys or [])
    out.roots = [r for r in roots if Path(r).exists()]
    out.gone = [r for r in roots if not Path(r).exists()]
    with Store.in_home(Path(home)) as store:
        if meta:
            store.upsert_export_meta(meta)
        if out.roots:
            out.report = ingest(
                out.roots, store, default_tz=default_tz, workers=workers
            )
        out.corrections = store.restore_corrections(corrections)
    return out


def _move_aside(path: Path) -> Path:
    """Rename the database (and its WAL files) to ``kneeload.db.damaged-<time>``."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot move the damaged store aside: {exc.strerror or exc}"
        ) from exc
    return target
