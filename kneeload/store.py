"""The embedded SQLite store: which files were read, their activities and samples.

One database file, ``kneeload.db`` in the home folder. Every batch of files is
written in one transaction together with its file-index rows, so a process killed
at any moment leaves the previous state intact and a re-run reads only the files
whose rows never committed. ``PRAGMA user_version`` holds the schema version.

Derived values that depend on athlete settings (TRIMP, high-intensity minutes)
are never stored: each activity keeps a histogram of seconds per bpm instead, so
changing HR max, HR rest or sex never requires re-reading files.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kneeload.codec import decode_hr_hist as decode_hr_hist
from kneeload.codec import decode_samples as decode_samples
from kneeload.codec import encode_hr_hist
from kneeload.codec import encode_samples as encode_samples
from kneeload.codec import finish_activity as finish_activity
from kneeload.codec import hr_peak_30s as hr_peak_30s
from kneeload.errors import StoreError
from kneeload.schema import (
    SPORTS,
    Activity,
    Samples,
    activity_columns,
    suspect_reason,
)

SCHEMA_VERSION = 3
DB_NAME = "kneeload.db"

#: Two activities are one when their starts are this close ...
DEDUPE_START_S = 120.0
#: ... and their time spans overlap by at least this share of the longer one.
DEDUPE_OVERLAP = 0.90

#: The activity row (declared once, in ``schema.Activity``) plus the store's own
#: bookkeeping columns: which file brought it, and which kept copy it duplicates.
_ROW = activity_columns()
_STORE_ONLY = (("file_key", "TEXT NOT NULL"), ("duplicate_of", "TEXT"))
_ACTIVITY_COLUMNS = [c.column for c in _ROW] + [name for name, _ in _STORE_ONLY]
_ACTIVITY_SQL = dict([(c.column, c.sql) for c in _ROW] + list(_STORE_ONLY))

_FILES_TABLE = """
CREATE TABLE IF NOT EXISTS files (
    key TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    checked_utc REAL
)"""
_ACTIVITIES_TABLE = "CREATE TABLE IF NOT EXISTS activities ({})".format(
    ", ".join(f"{name} {sql}" for name, sql in _ACTIVITY_SQL.items())
)
#: Tables new in schema 3: the runner's corrections (RULES §1.6) and the export
#: metadata, kept apart so a newer export updates them without re-reading files.
_SCHEMA_3_TABLES = (
    """CREATE TABLE IF NOT EXISTS corrections (
    activity_id TEXT PRIMARY KEY,
    sport TEXT,
    ok INTEGER NOT NULL DEFAULT 0,
    excluded INTEGER NOT NULL DEFAULT 0,
    updated_utc REAL
)""",
    """CREATE TABLE IF NOT EXISTS export_meta (
    key TEXT PRIMARY KEY,
    name TEXT,
    gear TEXT,
    rpe REAL,
    sport TEXT,
    updated_utc REAL
)""",
)
_SCHEMA = (
    _FILES_TABLE,
    _ACTIVITIES_TABLE,
    "CREATE INDEX IF NOT EXISTS activities_start ON activities (start_utc)",
    "CREATE INDEX IF NOT EXISTS activities_file ON activities (file_key)",
    "CREATE TABLE IF NOT EXISTS samples (activity_id TEXT PRIMARY KEY, "
    "data BLOB NOT NULL)",
    *_SCHEMA_3_TABLES,
)

#: Steps from schema N to N + 1, for stores written by earlier releases. The step
#: to 3 adds every activity column the declaration has and the table lacks.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE files ADD COLUMN checked_utc REAL",),
    2: _SCHEMA_3_TABLES,
}


@dataclass
class FileRecord:
    """What the store remembers of one input file."""

    size: int
    mtime_ns: int
    sha256: str | None
    status: str


@dataclass
class ParsedActivity:
    """An activity ready to store: the summary row and its encoded samples."""

    activity: Activity
    samples_blob: bytes


@dataclass
class FileResult:
    """The outcome of reading one input file, as a worker hands it back."""

    key: str
    size: int
    mtime_ns: int
    sha256: str | None
    status: str  # ingested | unchanged | skipped | error
    reason: str | None = None
    activities: list[ParsedActivity] = field(default_factory=list)


@dataclass
class ForgetOutcome:
    """What ``Store.forget`` removed, and the paths the store never read."""

    files: int = 0
    activities: int = 0
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportMeta:
    """An export's own metadata for one file key (``outer.zip!member`` or path)."""

    key: str
    name: str | None = None
    gear: str | None = None
    rpe: float | None = None  # CR-10, 1-10
    sport: str | None = None  # one of SPORTS


@dataclass
class BatchOutcome:
    """Counts of what one committed batch changed."""

    ingested: int = 0
    duplicates: int = 0


class Store:
    """The SQLite store in one home folder."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        """Open the store at ``path``; create or migrate it unless ``readonly``.

        ``readonly`` opens an existing store without writing a byte (a store on
        read-only media, a folder without write permission); every failure is a
        ``StoreError`` naming the file and what to do.
        """
        self.path = path
        self.readonly = readonly
        _check_home(path.parent, create=not readonly)
        if readonly and not path.is_file():
            raise StoreError(
                f"{path}: no store here yet; add files with: kneeload ingest"
            )
        try:
            self._db = _connect(path, readonly=readonly)
        except sqlite3.DatabaseError as exc:
            raise _open_error(path, exc, readonly=readonly) from exc
        try:
            if readonly:
                self._check_readable()
            else:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
                self._quick_check()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise _open_error(path, exc, readonly=readonly) from exc
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def in_home(cls, home: Path, *, readonly: bool = False) -> Store:
        """Open (or create) the store of a home folder.

        ``readonly``: for commands that only read. An existing, current store is
        opened read-only (so a store on read-only media can be read); a missing or
        older one is created or migrated as usual.
        """
        path = Path(home) / DB_NAME
        if readonly and path.is_file():
            try:
                return cls(path, readonly=True)
            except _NeedsMigrationError as old:
                try:
                    return cls(path)  # migrate once, in place
                except StoreError as exc:
                    raise StoreError(f"{old}; {exc}") from exc
        return cls(path)

    def _schema_version(self) -> int:
        """The store's schema version; StoreError when a newer kneeload wrote it."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer kneeload (schema {version}); "
                "upgrade kneeload or use another --home"
            )
        return version

    def _check_readable(self) -> None:
        version = self._schema_version()
        if version < SCHEMA_VERSION:
            raise _NeedsMigrationError(
                f"{self.path}: schema {version} must be upgraded to "
                f"{SCHEMA_VERSION}, which needs write access to its folder once"
            )
        self._quick_check()

    def _quick_check(self) -> None:
        """Check the small tables (not the samples) on open: a few ms (§ doctor)."""
        for table in _CHECKED_TABLES:
            row = self._db.execute(f"PRAGMA quick_check({table})").fetchone()
            if row is None or row[0] != "ok":
                raise StoreError(damaged_message(self.path, str(row[0] if row else "")))

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._schema_version()
        if version == SCHEMA_VERSION:
            return
        if version == 0:
            steps: list[str] = list(_SCHEMA)
        else:
            steps = [
                sql for v in range(version, SCHEMA_VERSION) for sql in _MIGRATIONS[v]
            ]
            steps += _SCHEMA  # every CREATE is IF NOT EXISTS: fills any gap
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for sql in steps:
                self._db.execute(sql)
            self._add_missing_columns()
            if version:
                self._backfill_evidence()
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            _rollback(self._db)
            raise

    def _add_missing_columns(self) -> None:
        """Add the declared activity columns an older store lacks (in place)."""
        have = {r[1] for r in self._db.execute("PRAGMA table_info(activities)")}
        for name, sql in _ACTIVITY_SQL.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE activities ADD COLUMN {name} {sql}")

    def _backfill_evidence(self) -> None:
        """Schema 3 evidence for activities stored before it: HR peak, suspect."""
        now = time.time()
        rows = self._db.execute(
            "SELECT a.id, a.sport, a.start_utc, a.elapsed_s, a.moving_s, "
            "a.distance_m, s.data FROM activities a "
            "LEFT JOIN samples s ON s.activity_id = a.id"
        ).fetchall()
        for aid, sport, start, elapsed, moving, distance, blob in rows:
            peak = None
            if blob is not None:
                try:
                    peak = hr_peak_30s(decode_samples(blob))
                except (StoreError, ValueError, zlib.error):
                    peak = None  # damaged samples: doctor reports them
            reason = suspect_reason(
                sport=sport,
                start_utc=start,
                elapsed_s=elapsed,
                moving_s=moving,
                distance_m=distance,
                now_utc=now,
            )
            self._db.execute(
                "UPDATE activities SET hr_peak30 = ?, suspect = ? WHERE id = ?",
                (peak, reason, aid),
            )

    def file_index(self) -> dict[str, FileRecord]:
        """Every file the store has seen, keyed by path (or archive!member)."""
        rows = self._db.execute("SELECT key, size, mtime_ns, sha256, status FROM files")
        return {r[0]: FileRecord(r[1], r[2], r[3], r[4]) for r in rows}

    def write_batch(self, results: Iterable[FileResult]) -> BatchOutcome:
        """Write several files' results in one transaction (all or nothing)."""
        outcome = BatchOutcome()
        with self._writing() as cur:
            for result in results:
                self._write_one(cur, result, outcome)
        return outcome

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction: committed whole, or rolled back on any error
        (an SQLite error becomes the one-line ``StoreError`` of ``_write_error``)."""
        cur = self._db.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc
        try:
            yield cur
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(self._db)
            raise self._write_error(exc) from exc
        except BaseException:
            _rollback(self._db)
            raise

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        """A write that failed: one line; the failed transaction left no trace."""
        text = str(exc)
        if "malformed" in text or "not a database" in text:
            return StoreError(damaged_message(self.path, text))
        if "full" in text:
            why = "the disk is full; free some space and run again"
        elif "readonly" in text or "read-only" in text:
            why = "the store is read-only; use a writable --home to change it"
        else:
            why = text
        return StoreError(
            f"{self.path}: cannot write: {why} (what was stored is intact)"
        )

    def _write_one(
        self, cur: sqlite3.Cursor, result: FileResult, outcome: BatchOutcome
    ) -> None:
        if result.status == "unchanged":
            cur.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE key = ?",
                (result.size, result.mtime_ns, result.key),
            )
            return
        carried = _file_corrections(cur, result.key)
        _release_file(cur, result.key)
        cur.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                result.key,
                result.size,
                result.mtime_ns,
                result.sha256,
                result.status,
                result.reason,
                time.time(),  # when it was read: reports list this week's problems
            ),
        )
        for parsed in result.activities:
            if self._insert_activity(cur, result.key, parsed):
                outcome.ingested += 1
            else:
                outcome.duplicates += 1
        if carried:
            _carry_corrections(cur, carried, result.activities)

    def _insert_activity(
        self, cur: sqlite3.Cursor, file_key: str, parsed: ParsedActivity
    ) -> bool:
        """Insert one activity; return False when it duplicates another one."""
        act = parsed.activity
        if cur.execute("SELECT 1 FROM activities WHERE id = ?", (act.id,)).fetchone():
            return False  # the very same content, reached through another path
        duplicate_of = None
        twin = _find_twin(cur, act)
        if twin is not None:
            twin_id, twin_rank = twin
            if _rank(act.richness, act.partial, act.suspect) > twin_rank:
                cur.execute(
                    "UPDATE activities SET duplicate_of = ? "
                    "WHERE id = ? OR duplicate_of = ?",
                    (act.id, twin_id, twin_id),
                )
            else:
                duplicate_of = twin_id
        cur.execute(_INSERT_ACTIVITY, _activity_row(act, file_key, duplicate_of))
        cur.execute(
            "INSERT OR REPLACE INTO samples VALUES (?, ?)",
            (act.id, parsed.samples_blob),
        )
        return twin is None

    def activity_rows(
        self, *, include_duplicates: bool = False
    ) -> list[dict[str, Any]]:
        """All stored activities as dicts (kept ones only, unless asked).

        Each row is the effective one: export metadata (name, gear, RPE, sport)
        over the file's, the runner's corrections over both (RULES §1.4, §1.6);
        ``confirmed`` and ``excluded`` are the runner's word on the activity.
        """
        cols = ", ".join(f"a.{c}" for c in _ACTIVITY_COLUMNS)
        sql = (
            f"SELECT {cols}, m.name, m.gear, m.rpe, m.sport, c.sport, c.ok, "
            "c.excluded FROM activities a "
            "LEFT JOIN export_meta m ON m.key = a.file_key "
            "LEFT JOIN corrections c ON c.activity_id = a.id"
        )
        if not include_duplicates:
            sql += " WHERE a.duplicate_of IS NULL"
        sql += " ORDER BY a.start_utc"
        n = len(_ACTIVITY_COLUMNS)
        out = []
        try:
            for row in self._db.execute(sql):
                rec = dict(zip(_ACTIVITY_COLUMNS, row[:n], strict=True))
                _merge_overrides(rec, *row[n:])
                out.append(rec)
        except sqlite3.DatabaseError as exc:
            raise StoreError(damaged_message(self.path, str(exc))) from exc
        return out

    def set_correction(
        self,
        activity_id: str,
        *,
        sport: str | None = None,
        ok: bool | None = None,
        excluded: bool | None = None,
    ) -> str:
        """Record the runner's word on one activity (id or unique id prefix).

        ``sport`` beats the file, the export and the inference; ``ok`` confirms a
        suspect activity; ``excluded`` keeps it out of the load. Returns the id.
        """
        if sport is not None and sport not in SPORTS:
            raise StoreError(f"unknown sport {sport!r}; one of {', '.join(SPORTS)}")
        full = self.resolve_id(activity_id)
        with self._writing() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO corrections (activity_id) VALUES (?)", (full,)
            )
            for column, value in (("sport", sport), ("ok", ok), ("excluded", excluded)):
                if value is not None:
                    cur.execute(
                        f"UPDATE corrections SET {column} = ?, updated_utc = ? "
                        "WHERE activity_id = ?",
                        (value, time.time(), full),
                    )
        return full

    def restore_corrections(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Write back (activity_id, sport, ok, excluded) rows, e.g. after a rebuild."""
        values = [
            (str(aid), sport if sport in SPORTS else None, int(bool(ok)), int(bool(ex)))
            for aid, sport, ok, ex in rows
        ]
        with self._writing() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO corrections "
                "(activity_id, sport, ok, excluded, updated_utc) "
                f"VALUES (?, ?, ?, ?, {time.time()!r})",
                values,
            )
        return len(values)

    def resolve_id(self, prefix: str) -> str:
        """The one stored activity id starting with ``prefix`` (StoreError if none)."""
        if not prefix or any(ch in prefix for ch in "%_"):
            raise StoreError(f"no activity with id {prefix!r}")
        ids = [
            r[0]
            for r in self._db.execute(
                "SELECT id FROM activities WHERE id LIKE ? LIMIT 2", (prefix + "%",)
            )
        ]
        if not ids:
            raise StoreError(
                f"no activity with id {prefix!r}; see: kneeload activities --json"
            )
        if len(ids) > 1:
            raise StoreError(f"id {prefix!r} is ambiguous; give more characters")
        return ids[0]

    def upsert_export_meta(self, rows: Iterable[ExportMeta | Mapping[str, Any]]) -> int:
        """Store export metadata per file key (newer values win; None keeps old)."""
        values = [_meta_values(row) for row in rows]
        with self._writing() as cur:
            cur.executemany(
                "INSERT INTO export_meta (key, name, gear, rpe, sport, updated_utc) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "name = coalesce(excluded.name, name), "
                "gear = coalesce(excluded.gear, gear), "
                "rpe = coalesce(excluded.rpe, rpe), "
                "sport = coalesce(excluded.sport, sport), "
                "updated_utc = excluded.updated_utc",
                values,
            )
        return len(values)

    def forget(self, paths: Iterable[str]) -> ForgetOutcome:
        """Remove the activities and file-index rows of files under ``paths``.

        A path matches its own key, the files under it (a folder) and the members
        of it (an archive: ``path!member``). The files themselves are untouched.
        """
        outcome = ForgetOutcome()
        with self._writing() as cur:
            found = {path: _keys_under(cur, path) for path in dict.fromkeys(paths)}
            leaving = frozenset(k for keys in found.values() for k in keys)
            outcome.unknown = [path for path, keys in found.items() if not keys]
            for key in sorted(leaving):
                outcome.activities += _release_file(cur, key, leaving)
                cur.execute("DELETE FROM files WHERE key = ?", (key,))
            outcome.files = len(leaving)
        return outcome

    def samples(self, activity_id: str) -> Samples:
        """The per-record samples of one activity."""
        try:
            row = self._db.execute(
                "SELECT data FROM samples WHERE activity_id = ?", (activity_id,)
            ).fetchone()
            if row is None:
                raise KeyError(activity_id)
            return decode_samples(row[0])
        except (sqlite3.DatabaseError, StoreError, ValueError, zlib.error) as exc:
            detail = f"samples of {activity_id}: {exc}"
            raise StoreError(damaged_message(self.path, detail)) from exc

    def problem_files(
        self, *, since_utc: float | None = None
    ) -> list[tuple[str, str, str]]:
        """Files skipped, failed or read only partly: (key, status, why).

        With ``since_utc`` (epoch seconds), only files read since then.
        """
        rows = self._db.execute(
            "SELECT key, status, reason FROM files "
            "WHERE status IN ('skipped', 'error', 'partial') "
            "AND coalesce(checked_utc, 0) >= ? ORDER BY key",
            (since_utc if since_utc is not None else float("-inf"),),
        )
        return [(r[0], r[1], r[2] or "") for r in rows]

    def problem_files_dated(
        self,
    ) -> list[tuple[str, str, str, float | None, str | None]]:
        """Problem files with when they were read and the last day of their activities.

        (key, status, why, checked_utc, last local_date of the activities the file
        brought, or None when nothing could be read from it).
        """
        rows = self._db.execute(
            "SELECT f.key, f.status, f.reason, f.checked_utc, max(a.local_date) "
            "FROM files f LEFT JOIN activities a ON a.file_key = f.key "
            "WHERE f.status IN ('skipped', 'error', 'partial') "
            "GROUP BY f.key ORDER BY f.key"
        )
        return [(r[0], r[1], r[2] or "", r[3], r[4]) for r in rows]


#: Tables checked on every open: small, and read by every command.
_CHECKED_TABLES = ("files", "activities", "corrections", "export_meta")


class _NeedsMigrationError(StoreError):
    """A read-only open found an older schema (the caller retries read-write)."""


def _check_home(home: Path, *, create: bool) -> None:
    """The home folder exists (or is made) and is a folder, else one StoreError."""
    if home.exists() and not home.is_dir():
        raise StoreError(
            f"{home}: --home is a file, not a folder; give --home a folder "
            "(it is made if missing)"
        )
    if not create or home.is_dir():
        return
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"{home}: cannot create the home folder: {exc.strerror or exc}; "
            "give --home a writable folder"
        ) from exc


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if not readonly:
        return sqlite3.connect(path, isolation_level=None, timeout=30)
    uri = path.absolute().as_uri()
    try:
        db = sqlite3.connect(
            f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30
        )
        db.execute("PRAGMA user_version").fetchone()
        return db
    except sqlite3.OperationalError:
        # WAL needs a -shm file beside the database; on read-only media it cannot
        # be made, and nobody can be writing there: read the file as immutable.
        return sqlite3.connect(
            f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, timeout=30
        )


def damaged_message(path: Path, detail: str) -> str:
    """The one line for a damaged store: which file, and what to do."""
    lines = [ln.strip() for ln in detail.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("***")]
    detail = f" ({lines[0][:120]})" if lines else ""
    return (
        f"{path}: the store is damaged{detail}; run: kneeload doctor "
        "(it checks the store and can rebuild it from the original files)"
    )


def _open_error(
    path: Path, exc: sqlite3.DatabaseError, *, readonly: bool
) -> StoreError:
    """One line for a store that cannot be opened, saying what to do."""
    text = str(exc)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(damaged_message(path, text))
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            f"{path}: cannot open the store for writing: the folder is read-only; "
            "commands that only read still work, or give --home a writable folder"
        )
    if "full" in text:
        return StoreError(f"{path}: cannot open the store: the disk is full")
    mode = " read-only" if readonly else ""
    return StoreError(f"{path}: cannot open the store{mode}: {text}")


#: A re-read activity takes over the runner's correction of the one it replaces
#: when both start within this many seconds (same file).
CORRECTION_MATCH_S = 1.0


def _file_corrections(
    cur: sqlite3.Cursor, key: str
) -> list[tuple[float, str | None, int, int]]:
    """(start_utc, sport, ok, excluded) of the runner's corrections on a file's runs."""
    return cur.execute(
        "SELECT a.start_utc, c.sport, c.ok, c.excluded FROM corrections c "
        "JOIN activities a ON a.id = c.activity_id WHERE a.file_key = ?",
        (key,),
    ).fetchall()


def _carry_corrections(
    cur: sqlite3.Cursor,
    carried: list[tuple[float, str | None, int, int]],
    activities: list[ParsedActivity],
) -> None:
    """Give re-read activities the corrections of the ones they replace.

    A changed file gives its activities new ids (the id comes from the content
    hash): a newer Apple ``export.xml`` changes every workout's id. The runner's
    word (RULES §1.6) follows the activity that starts at the same time.
    """
    for parsed in activities:
        act = parsed.activity
        match = next(
            (c for c in carried if abs(c[0] - act.start_utc) <= CORRECTION_MATCH_S),
            None,
        )
        if match is None:
            continue
        cur.execute(
            "INSERT OR IGNORE INTO corrections "
            "(activity_id, sport, ok, excluded, updated_utc) VALUES (?, ?, ?, ?, ?)",
            (act.id, match[1], match[2], match[3], time.time()),
        )


def _release_file(
    cur: sqlite3.Cursor, key: str, leaving: frozenset[str] = frozenset()
) -> int:
    """Drop a file's activities, unless another file holds the same bytes.

    Identical copies share activity ids (the id comes from the content hash), so
    when the file that first brought an activity changes (or is forgotten), a
    copy elsewhere (not among ``leaving``) takes the activity over instead of it
    being lost. Returns how many activities were deleted.
    """
    row = cur.execute("SELECT sha256 FROM files WHERE key = ?", (key,)).fetchone()
    copies: list[str] = []
    if row is not None and row[0] is not None:
        copies = [
            r[0]
            for r in cur.execute(
                "SELECT key FROM files WHERE sha256 = ? AND key != ? "
                "AND status IN ('ingested', 'partial')",
                (row[0], key),
            )
            if r[0] not in leaving
        ]
    if copies:
        cur.execute(
            "UPDATE activities SET file_key = ? WHERE file_key = ?", (copies[0], key)
        )
        return 0
    ids = [
        r[0]
        for r in cur.execute("SELECT id FROM activities WHERE file_key = ?", (key,))
    ]
    for old in ids:
        _delete_activity(cur, old)
    return len(ids)


_INSERT_ACTIVITY = "INSERT INTO activities ({}) VALUES ({})".format(
    ", ".join(_ACTIVITY_COLUMNS), ", ".join("?" * len(_ACTIVITY_COLUMNS))
)


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already done so.

    On some errors (a full disk, an I/O error) SQLite ends the transaction
    itself, and a second ROLLBACK would raise "no transaction is active".
    """
    if db.in_transaction:
        # the original error says what went wrong; the journal undoes the rest
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _merge_overrides(
    rec: dict[str, Any],
    meta_name: str | None,
    meta_gear: str | None,
    meta_rpe: float | None,
    meta_sport: str | None,
    runner_sport: str | None,
    ok: int | None,
    excluded: int | None,
) -> None:
    """Apply export metadata, then the runner's corrections, to one row."""
    rec["name"] = meta_name or rec.get("name")
    rec["gear"] = meta_gear or rec.get("gear")
    rec["rpe"] = meta_rpe if meta_rpe is not None else rec.get("rpe")
    source = rec.get("sport_source") or "file"
    if meta_sport in SPORTS and source != "file":
        rec["sport"], source = meta_sport, "export"
    if runner_sport in SPORTS:
        rec["sport"], source = runner_sport, "runner"
    rec["sport_source"] = source
    rec["confirmed"] = bool(ok)
    rec["excluded"] = bool(excluded)


def _meta_values(row: ExportMeta | Mapping[str, Any]) -> tuple[Any, ...]:
    """One export_meta row; a value that cannot be meant (RPE 11, sport "x") is None.

    Export metadata is a hint, never a reason to stop an ingest.
    """
    get: Any = row.get if isinstance(row, Mapping) else lambda k: getattr(row, k, None)
    sport = get("sport")
    sport = sport if sport in SPORTS else None
    try:
        rpe = float(get("rpe"))
    except (TypeError, ValueError):
        rpe = None
    if rpe is not None and not 1 <= rpe <= 10:
        rpe = None
    name, gear = (_short_text(get(k)) for k in ("name", "gear"))
    return (str(get("key")), name, gear, rpe, sport, time.time())


def _short_text(value: Any) -> str | None:
    return str(value)[:200] if value not in (None, "") else None


def _keys_under(cur: sqlite3.Cursor, path: str) -> list[str]:
    """File-index keys of ``path`` itself, of files under it, of its members."""
    base = path.rstrip("/\\") or path
    rows = cur.execute(
        "SELECT key FROM files WHERE key = ? OR substr(key, 1, ?) IN (?, ?, ?)",
        (base, len(base) + 1, base + "/", base + "\\", base + "!"),
    )
    return [r[0] for r in rows]


def _delete_activity(cur: sqlite3.Cursor, activity_id: str) -> None:
    """Delete one activity; the best of its duplicates (if any) is kept instead."""
    cur.execute("DELETE FROM samples WHERE activity_id = ?", (activity_id,))
    cur.execute("DELETE FROM activities WHERE id = ?", (activity_id,))
    twins = cur.execute(
        "SELECT id, richness, partial, suspect FROM activities WHERE duplicate_of = ?",
        (activity_id,),
    ).fetchall()
    if not twins:
        return
    best = max(twins, key=lambda r: _rank(r[1] or 0, r[2], r[3]))[0]
    cur.execute(
        "UPDATE activities SET duplicate_of = ? WHERE duplicate_of = ?",
        (best, activity_id),
    )
    cur.execute("UPDATE activities SET duplicate_of = NULL WHERE id = ?", (best,))


def _find_twin(cur: sqlite3.Cursor, act: Activity) -> tuple[str, int] | None:
    """The kept activity ``act`` duplicates, with its rank (see ``_rank``).

    Two recordings are one run when they start within 2 minutes and their spans
    overlap by >= 90 % of the longer one; a partial (truncated) file only has to
    lie >= 90 % inside the other, since its end is missing, not different.
    """
    rows = cur.execute(
        "SELECT id, start_utc, elapsed_s, richness, partial, suspect FROM activities "
        "WHERE duplicate_of IS NULL AND start_utc BETWEEN ? AND ?",
        (act.start_utc - DEDUPE_START_S, act.start_utc + DEDUPE_START_S),
    ).fetchall()
    for twin_id, start, elapsed, richness, partial, suspect in rows:
        elapsed = elapsed or 0.0
        share = overlap_share(act.start_utc, act.elapsed_s, start, elapsed)
        if act.partial or partial:
            shorter = min(act.elapsed_s, elapsed)
            share = share * max(act.elapsed_s, elapsed) / shorter if shorter > 0 else 0
        if share >= DEDUPE_OVERLAP:
            return twin_id, _rank(richness, partial, suspect)
    return None


def _rank(richness: int, partial: str | None, suspect: str | None = None) -> int:
    """Which copy to keep: a plausible one beats a suspect one (RULES §1.5), a
    complete file a partial one, then the richer one."""
    if suspect:
        return -2
    return -1 if partial else richness


def overlap_share(start_a: float, dur_a: float, start_b: float, dur_b: float) -> float:
    """Overlap of two time spans as a share of the longer one (0..1)."""
    longer = max(dur_a, dur_b)
    if longer <= 0:
        return 1.0 if abs(start_a - start_b) < 1 else 0.0
    inter = min(start_a + dur_a, start_b + dur_b) - max(start_a, start_b)
    return max(0.0, inter) / longer


def _activity_row(
    act: Activity, file_key: str, duplicate_of: str | None
) -> tuple[Any, ...]:
    hist = encode_hr_hist(act.hr_hist)
    values = {
        **{c.column: getattr(act, c.name, None) for c in _ROW},
        "file_key": file_key,
        "hr_hist": hist,
        "steady_json": json.dumps(act.steady_segments),
        "duplicate_of": duplicate_of,
    }
    return tuple(_plain(values[name]) for name in _ACTIVITY_COLUMNS)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
