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

import json
import sqlite3
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kneeload.errors import StoreError
from kneeload.schema import STORED_SAMPLE_FIELDS, Activity, Samples

SCHEMA_VERSION = 2
DB_NAME = "kneeload.db"

#: Two activities are one when their starts are this close ...
DEDUPE_START_S = 120.0
#: ... and their time spans overlap by at least this share of the longer one.
DEDUPE_OVERLAP = 0.90

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    key TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    checked_utc REAL
);
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY,
    file_key TEXT NOT NULL,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    sport TEXT NOT NULL,
    sub_sport TEXT,
    start_utc REAL NOT NULL,
    local_date TEXT NOT NULL,
    utc_offset_s REAL,
    tz_source TEXT,
    elapsed_s REAL,
    moving_s REAL,
    distance_m REAL,
    distance_source TEXT,
    ascent_m REAL,
    descent_m REAL,
    avg_hr REAL,
    max_hr REAL,
    cadence_spm REAL,
    cadence_source TEXT,
    step_length_m REAL,
    device TEXT,
    partial TEXT,
    n_samples INTEGER,
    richness INTEGER,
    downhill_s REAL,
    hr_hist BLOB,
    steady_json TEXT,
    duplicate_of TEXT
);
CREATE INDEX IF NOT EXISTS activities_start ON activities (start_utc);
CREATE INDEX IF NOT EXISTS activities_file ON activities (file_key);
CREATE TABLE IF NOT EXISTS samples (
    activity_id TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
"""

#: Steps from schema N to N + 1, for stores written by earlier releases.
_MIGRATIONS = {
    1: "ALTER TABLE files ADD COLUMN checked_utc REAL;",
}

_ACTIVITY_COLUMNS = [
    "id",
    "file_key",
    "source",
    "format",
    "sport",
    "sub_sport",
    "start_utc",
    "local_date",
    "utc_offset_s",
    "tz_source",
    "elapsed_s",
    "moving_s",
    "distance_m",
    "distance_source",
    "ascent_m",
    "descent_m",
    "avg_hr",
    "max_hr",
    "cadence_spm",
    "cadence_source",
    "step_length_m",
    "device",
    "partial",
    "n_samples",
    "richness",
    "downhill_s",
    "hr_hist",
    "steady_json",
    "duplicate_of",
]


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
class BatchOutcome:
    """Counts of what one committed batch changed."""

    ingested: int = 0
    duplicates: int = 0


class Store:
    """The SQLite store in one home folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the store: {exc}") from exc

    @classmethod
    def in_home(cls, home: Path) -> Store:
        """Open (or create) the store of a home folder."""
        return cls(home / DB_NAME)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer kneeload (schema {version}); "
                "upgrade kneeload or use another --home"
            )
        if version == 0:
            script = _SCHEMA
        else:
            script = "".join(_MIGRATIONS[v] for v in range(version, SCHEMA_VERSION))
        if version < SCHEMA_VERSION:
            self._db.executescript(
                f"BEGIN IMMEDIATE;{script}"
                f"PRAGMA user_version = {SCHEMA_VERSION};COMMIT;"
            )

    def file_index(self) -> dict[str, FileRecord]:
        """Every file the store has seen, keyed by path (or archive!member)."""
        rows = self._db.execute("SELECT key, size, mtime_ns, sha256, status FROM files")
        return {r[0]: FileRecord(r[1], r[2], r[3], r[4]) for r in rows}

    def write_batch(self, results: Iterable[FileResult]) -> BatchOutcome:
        """Write several files' results in one transaction (all or nothing)."""
        outcome = BatchOutcome()
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for result in results:
                self._write_one(cur, result, outcome)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return outcome

    def touch_file(self, key: str, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        self._db.execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE key = ?",
            (size, mtime_ns, key),
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
            if _rank(act.richness, act.partial) > twin_rank:
                cur.execute(
                    "UPDATE activities SET duplicate_of = ? "
                    "WHERE id = ? OR duplicate_of = ?",
                    (act.id, twin_id, twin_id),
                )
            else:
                duplicate_of = twin_id
        cur.execute(
            f"INSERT INTO activities VALUES ({','.join('?' * len(_ACTIVITY_COLUMNS))})",
            _activity_row(act, file_key, duplicate_of),
        )
        cur.execute(
            "INSERT OR REPLACE INTO samples VALUES (?, ?)",
            (act.id, parsed.samples_blob),
        )
        return twin is None

    def activity_rows(
        self, *, include_duplicates: bool = False
    ) -> list[dict[str, Any]]:
        """All stored activities as dicts (kept ones only, unless asked)."""
        sql = f"SELECT {','.join(_ACTIVITY_COLUMNS)} FROM activities"
        if not include_duplicates:
            sql += " WHERE duplicate_of IS NULL"
        sql += " ORDER BY start_utc"
        return [
            dict(zip(_ACTIVITY_COLUMNS, row, strict=True))
            for row in self._db.execute(sql)
        ]

    def samples(self, activity_id: str) -> Samples:
        """The per-record samples of one activity."""
        row = self._db.execute(
            "SELECT data FROM samples WHERE activity_id = ?", (activity_id,)
        ).fetchone()
        if row is None:
            raise KeyError(activity_id)
        return decode_samples(row[0])

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


def _release_file(cur: sqlite3.Cursor, key: str) -> None:
    """Drop a changed file's activities, unless another file holds the same bytes.

    Identical copies share activity ids (the id comes from the content hash), so
    when the file that first brought an activity changes, a copy elsewhere takes
    the activity over instead of it being lost.
    """
    row = cur.execute("SELECT sha256 FROM files WHERE key = ?", (key,)).fetchone()
    copy = None
    if row is not None and row[0] is not None:
        copy = cur.execute(
            "SELECT key FROM files WHERE sha256 = ? AND key != ? "
            "AND status IN ('ingested', 'partial') LIMIT 1",
            (row[0], key),
        ).fetchone()
    if copy is not None:
        cur.execute(
            "UPDATE activities SET file_key = ? WHERE file_key = ?", (copy[0], key)
        )
        return
    ids = [
        r[0]
        for r in cur.execute("SELECT id FROM activities WHERE file_key = ?", (key,))
    ]
    for old in ids:
        _delete_activity(cur, old)


def _delete_activity(cur: sqlite3.Cursor, activity_id: str) -> None:
    cur.execute("DELETE FROM samples WHERE activity_id = ?", (activity_id,))
    cur.execute("DELETE FROM activities WHERE id = ?", (activity_id,))
    cur.execute(
        "UPDATE activities SET duplicate_of = NULL WHERE duplicate_of = ?",
        (activity_id,),
    )


def _find_twin(cur: sqlite3.Cursor, act: Activity) -> tuple[str, int] | None:
    """The kept activity ``act`` duplicates, with its rank (richness, -1 if partial).

    Two recordings are one run when they start within 2 minutes and their spans
    overlap by >= 90 % of the longer one; a partial (truncated) file only has to
    lie >= 90 % inside the other, since its end is missing, not different.
    """
    rows = cur.execute(
        "SELECT id, start_utc, elapsed_s, richness, partial FROM activities "
        "WHERE duplicate_of IS NULL AND start_utc BETWEEN ? AND ?",
        (act.start_utc - DEDUPE_START_S, act.start_utc + DEDUPE_START_S),
    ).fetchall()
    for twin_id, start, elapsed, richness, partial in rows:
        elapsed = elapsed or 0.0
        share = overlap_share(act.start_utc, act.elapsed_s, start, elapsed)
        if act.partial or partial:
            shorter = min(act.elapsed_s, elapsed)
            share = share * max(act.elapsed_s, elapsed) / shorter if shorter > 0 else 0
        if share >= DEDUPE_OVERLAP:
            return twin_id, _rank(richness, partial)
    return None


def _rank(richness: int, partial: str | None) -> int:
    """Which copy to keep: a complete file beats a partial one, then richness."""
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
    hist = None
    if act.hr_hist is not None:
        hist = zlib.compress(np.asarray(act.hr_hist, dtype="<f4").tobytes(), 1)
    values = {
        **{name: getattr(act, name, None) for name in _ACTIVITY_COLUMNS},
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


def decode_hr_hist(blob: bytes | None) -> np.ndarray | None:
    """Decode a stored HR histogram (seconds per whole bpm 0..255)."""
    if blob is None:
        return None
    return np.frombuffer(zlib.decompress(blob), dtype="<f4").astype(np.float64)


_MAGIC = b"KLS1"


def encode_samples(samples: Samples) -> bytes:
    """Pack the stored sample columns into a blob (time float64, others float32)."""
    names = [k for k in STORED_SAMPLE_FIELDS if samples.get(k) is not None]
    n = len(samples[names[0]]) if names else 0
    parts, cols = [], []
    for name in names:
        dtype = "<f8" if name == "time_s" else "<f4"
        parts.append(np.asarray(samples[name], dtype=dtype).tobytes())
        cols.append([name, dtype])
    header = json.dumps({"n": n, "cols": cols}).encode()
    body = zlib.compress(b"".join(parts), 1)
    return _MAGIC + len(header).to_bytes(4, "little") + header + body


def decode_samples(blob: bytes) -> Samples:
    """Unpack a blob made by ``encode_samples`` into float64 columns."""
    if blob[:4] != _MAGIC:
        raise StoreError("samples blob has an unknown format")
    hlen = int.from_bytes(blob[4:8], "little")
    header = json.loads(blob[8 : 8 + hlen])
    body = zlib.decompress(blob[8 + hlen :])
    out: Samples = {}
    offset, n = 0, header["n"]
    for name, dtype in header["cols"]:
        width = np.dtype(dtype).itemsize * n
        out[name] = np.frombuffer(body, dtype=dtype, count=n, offset=offset).astype(
            np.float64
        )
        offset += width
    return out
