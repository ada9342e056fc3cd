"""The runner's diary: knee pain, shoes, strength sessions and free text.

Storage only (nothing here knows about analysis). Notes live in ``notes.db``, a
small SQLite database beside the store in the home folder; every change is one
transaction, so a crash leaves the previous state intact. Several notes per day
are normal (pain during a run and again the next morning). An old ``notes.json``
(one 0-10 score per day) is migrated once, as ``when = after`` notes, and renamed
``notes.json.migrated``; the migration is recorded in the same transaction, so it
never runs twice.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kneeload.errors import NotesError

NOTES_DB = "notes.db"
LEGACY_JSON = "notes.json"
SCHEMA_VERSION = 1

KINDS: tuple[str, ...] = ("knee_pain", "shoes", "strength", "text")
WHENS: tuple[str, ...] = ("during", "after", "next-morning", "rest")
SIDES: tuple[str, ...] = ("left", "right", "both")
AGGRAVATORS: tuple[str, ...] = ("stairs", "downhill", "sitting", "squatting", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    score INTEGER,
    "when" TEXT,
    side TEXT,
    aggravated_by TEXT,
    name TEXT,
    minutes REAL,
    text TEXT
);
CREATE INDEX IF NOT EXISTS notes_date ON notes (date);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = 'id, date, kind, score, "when", side, aggravated_by, name, minutes, text'


@dataclass(frozen=True)
class Note:
    """One diary entry; which fields are set depends on ``kind``."""

    id: int
    day: date
    kind: str  # "knee_pain" | "shoes" | "strength" | "text"
    score: int | None = None  # knee_pain: 0 none ... 10 worst
    when: str | None = None  # knee_pain: during | after | next-morning | rest
    side: str | None = None  # knee_pain: left | right | both
    aggravated_by: tuple[str, ...] = ()  # knee_pain
    name: str | None = None  # shoes: the pair in use from ``day`` on
    minutes: float | None = None  # strength: session length, if given
    text: str | None = None  # text

    def to_json(self) -> dict[str, Any]:
        """``{"id", "date", "kind", ...fields of the kind}`` (INTERFACE.md)."""
        out: dict[str, Any] = {
            "id": self.id,
            "date": self.day.isoformat(),
            "kind": self.kind,
        }
        if self.kind == "knee_pain":
            out.update(score=self.score, when=self.when, side=self.side)
            out["aggravated_by"] = list(self.aggravated_by)
        elif self.kind == "shoes":
            out["name"] = self.name
        elif self.kind == "strength":
            out["minutes"] = self.minutes
        else:
            out["text"] = self.text
        return out


def notes_path(home: Path) -> Path:
    """Where the notes database of a home folder lives."""
    return Path(home) / NOTES_DB


def knee_pain(
    day: date,
    score: int,
    *,
    when: str = "after",
    side: str | None = None,
    aggravated_by: Sequence[str] = (),
) -> Note:
    """A knee-pain note (not yet stored: ``id`` 0), with every field checked."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValueError(f"knee pain score must be a whole number 0-10, got {score!r}")
    _choice("when", when, WHENS)
    if side is not None:
        _choice("side", side, SIDES)
    for item in aggravated_by:
        _choice("aggravated by", item, AGGRAVATORS)
    return Note(0, day, "knee_pain", score=score, when=when, side=side,
                aggravated_by=tuple(dict.fromkeys(aggravated_by)))  # fmt: skip


def shoes(day: date, name: str) -> Note:
    """A note that the pair ``name`` is in use from ``day`` on."""
    if not name.strip():
        raise ValueError("the shoe name is empty")
    return Note(0, day, "shoes", name=name.strip())


def strength(day: date, minutes: float | None = None) -> Note:
    """A hip and knee strengthening session on ``day``."""
    if minutes is not None and not 0 < minutes <= 600:
        raise ValueError(f"strength minutes must be 1-600, got {minutes}")
    return Note(0, day, "strength", minutes=minutes)


def text(day: date, body: str) -> Note:
    """A free-text note on ``day``."""
    if not body.strip():
        raise ValueError("the note text is empty")
    return Note(0, day, "text", text=body.strip())


def _choice(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")


def add_note(home: Path, note: Note, *, today: date) -> Note:
    """Store ``note`` and return it with its id; a day after ``today`` is refused."""
    if note.day > today:
        raise ValueError(f"{note.day.isoformat()} is in the future")
    row = (note.day.isoformat(), note.kind, note.score, note.when, note.side,
           ",".join(note.aggravated_by) or None, note.name, note.minutes,
           note.text)  # fmt: skip
    with _open(home, write=True) as db:
        cur = db.execute(
            f"INSERT INTO notes ({_COLUMNS.removeprefix('id, ')}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        new_id = int(cur.lastrowid or 0)
    return Note(new_id, **{k: v for k, v in vars(note).items() if k != "id"})


def list_notes(
    home: Path, *, since: date | None = None, kind: str | None = None
) -> list[Note]:
    """The notes of ``home`` (from ``since``, of one ``kind``), by date then id."""
    where, args = [], []
    if since is not None:
        where.append("date >= ?")
        args.append(since.isoformat())
    if kind is not None:
        where.append("kind = ?")
        args.append(kind)
    sql = f"SELECT {_COLUMNS} FROM notes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    with _open(home, write=False) as db:
        if db is None:
            return []
        rows = db.execute(sql + " ORDER BY date, id", args).fetchall()
    return [_note(row, notes_path(home)) for row in rows]


def delete_note(home: Path, note_id: int) -> Note:
    """Delete one note by id and return it; an unknown id raises ``KeyError``."""
    with _open(home, write=True) as db:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM notes WHERE id = ?", (note_id,)
        ).fetchone()
        if row is None:
            raise KeyError(note_id)
        db.execute("DELETE FROM notes WHERE id = ?", (note_id,))
    return _note(row, notes_path(home))


def _note(row: tuple[Any, ...], path: Path) -> Note:
    try:
        return Note(
            id=int(row[0]),
            day=date.fromisoformat(row[1]),
            kind=str(row[2]),
            score=None if row[3] is None else int(row[3]),
            when=row[4],
            side=row[5],
            aggravated_by=tuple(row[6].split(",")) if row[6] else (),
            name=row[7],
            minutes=None if row[8] is None else float(row[8]),
            text=row[9],
        )
    except (TypeError, ValueError) as exc:
        raise _damaged(path, f"note {row[0]}: {exc}") from exc


def _damaged(path: Path, problem: str) -> NotesError:
    return NotesError(
        str(path),
        f"{problem}; rename it (e.g. to {path.name}.damaged) and kneeload starts "
        "a new diary",
    )


@contextlib.contextmanager
def _open(home: Path, *, write: bool) -> Iterator[Any]:
    """A connection inside one transaction (None when reading a diary never written)."""
    path = notes_path(home)
    legacy = Path(home) / LEGACY_JSON
    if not write and not path.exists() and not legacy.exists():
        yield None
        return
    try:
        Path(home).mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path)
    except (OSError, sqlite3.Error) as exc:
        raise NotesError(str(path), f"cannot open the notes: {exc}") from exc
    try:
        with db:
            _prepare(db, path, legacy)
            yield db
    except sqlite3.OperationalError as exc:  # read-only, locked, disk full
        raise NotesError(
            str(path), f"cannot write the notes ({exc}); check the folder's "
            "permissions and free space, then try again",
        ) from exc  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, f"not a readable notes database ({exc})") from exc
    finally:
        db.close()
    _retire(legacy, db_path=path)


def _prepare(db: sqlite3.Connection, path: Path, legacy: Path) -> None:
    """Create or check the schema, and migrate ``notes.json`` once."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise NotesError(
            str(path), f"written by a newer kneeload (version {version}); upgrade"
        )
    if version == 0:
        for statement in filter(str.strip, _SCHEMA.split(";")):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    done = db.execute("SELECT 1 FROM meta WHERE key = 'migrated_json'").fetchone()
    if done is None and legacy.exists():
        rows = legacy_rows(legacy)
        db.executemany(
            'INSERT INTO notes (date, kind, score, "when") VALUES (?, ?, ?, ?)',
            [(d.isoformat(), "knee_pain", s, "after") for d, s in rows],
        )
        db.execute("INSERT INTO meta VALUES ('migrated_json', ?)", (str(len(rows)),))


def legacy_rows(path: Path) -> list[tuple[date, int]]:
    """(day, score) pairs of an old ``notes.json``; a damaged file is a NotesError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [
            (date.fromisoformat(n["date"]), int(n["score"]))
            for n in data.get("knee_pain", [])
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise NotesError(
            str(path),
            f"old notes file unreadable ({exc}); fix or rename it to migrate the rest",
        ) from exc


def _retire(legacy: Path, *, db_path: Path) -> None:
    """Rename a migrated ``notes.json`` to ``notes.json.migrated`` (kept as backup)."""
    if not legacy.exists() or not db_path.exists():
        return
    with contextlib.suppress(OSError):  # read-only home: the meta row still guards
        legacy.replace(legacy.with_name(legacy.name + ".migrated"))
