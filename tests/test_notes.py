"""The notes diary: kinds, ids, same-day notes, rm, migration, damaged store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from kneeload import notes
from kneeload.errors import KneeloadError, NotesError

TODAY = date(2026, 5, 10)


def test_kinds_round_trip_with_ids_and_same_day_notes(tmp_path: Path) -> None:
    day = date(2026, 5, 9)
    a = notes.add_note(
        tmp_path,
        notes.knee_pain(day, 3, when="during", side="left",
                        aggravated_by=["stairs", "downhill"]),
        today=TODAY,
    )  # fmt: skip
    b = notes.add_note(tmp_path, notes.knee_pain(day, 2), today=TODAY)
    c = notes.add_note(tmp_path, notes.shoes(date(2026, 5, 1), " Pegasus 41 "),
                       today=TODAY)  # fmt: skip
    d = notes.add_note(tmp_path, notes.strength(day, 25), today=TODAY)
    e = notes.add_note(tmp_path, notes.text(TODAY, "stairs felt fine"), today=TODAY)
    assert [a.id, b.id, c.id, d.id, e.id] == [1, 2, 3, 4, 5]
    got = notes.list_notes(tmp_path)
    # by date, then id: the shoes of 1 May first, both notes of 9 May kept
    assert [n.id for n in got] == [3, 1, 2, 4, 5]
    assert [n.to_json() for n in got] == [
        {"id": 3, "date": "2026-05-01", "kind": "shoes", "name": "Pegasus 41"},
        {"id": 1, "date": "2026-05-09", "kind": "knee_pain", "score": 3,
         "when": "during", "side": "left", "aggravated_by": ["stairs", "downhill"]},
        {"id": 2, "date": "2026-05-09", "kind": "knee_pain", "score": 2,
         "when": "after", "side": None, "aggravated_by": []},
        {"id": 4, "date": "2026-05-09", "kind": "strength", "minutes": 25.0},
        {"id": 5, "date": "2026-05-10", "kind": "text", "text": "stairs felt fine"},
    ]  # fmt: skip
    assert [n.id for n in notes.list_notes(tmp_path, since=day)] == [1, 2, 4, 5]
    assert [n.id for n in notes.list_notes(tmp_path, kind="knee_pain")] == [1, 2]
    assert (tmp_path / "notes.db").exists()


def test_rm_deletes_one_note_and_ids_are_not_reused(tmp_path: Path) -> None:
    for score in (1, 2, 3):
        notes.add_note(tmp_path, notes.knee_pain(TODAY, score), today=TODAY)
    gone = notes.delete_note(tmp_path, 2)
    assert (gone.id, gone.score) == (2, 2)
    assert [n.score for n in notes.list_notes(tmp_path)] == [1, 3]
    with pytest.raises(KeyError):
        notes.delete_note(tmp_path, 2)
    again = notes.add_note(tmp_path, notes.knee_pain(TODAY, 4), today=TODAY)
    assert again.id == 4  # AUTOINCREMENT: a deleted id never comes back


def test_future_date_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2026-05-11 is in the future"):
        notes.add_note(tmp_path, notes.knee_pain(date(2026, 5, 11), 2), today=TODAY)
    notes.add_note(tmp_path, notes.knee_pain(TODAY, 2), today=TODAY)  # today is fine
    assert len(notes.list_notes(tmp_path)) == 1


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: notes.knee_pain(TODAY, 11), "0-10"),
        (lambda: notes.knee_pain(TODAY, -1), "0-10"),
        (lambda: notes.knee_pain(TODAY, 2, when="later"), "when must be one of"),
        (lambda: notes.knee_pain(TODAY, 2, side="middle"), "side must be one of"),
        (lambda: notes.knee_pain(TODAY, 2, aggravated_by=["x"]), "aggravated by"),
        (lambda: notes.shoes(TODAY, "  "), "shoe name is empty"),
        (lambda: notes.strength(TODAY, 0), "1-600"),
        (lambda: notes.text(TODAY, ""), "text is empty"),
    ],
    ids=["pain-11", "pain-neg", "when", "side", "aggravator", "shoes", "min", "text"],
)
def test_bad_fields_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_no_diary_lists_nothing_and_creates_nothing(tmp_path: Path) -> None:
    assert notes.list_notes(tmp_path / "missing") == []
    assert not (tmp_path / "missing").exists()


def test_old_notes_json_migrated_once_as_after(tmp_path: Path) -> None:
    old = {"knee_pain": [{"date": "2026-04-01", "score": 4},
                         {"date": "2026-04-03", "score": 0}]}  # fmt: skip
    (tmp_path / "notes.json").write_text(json.dumps(old))
    got = notes.list_notes(tmp_path)
    assert [(n.day, n.score, n.when, n.kind) for n in got] == [
        (date(2026, 4, 1), 4, "after", "knee_pain"),
        (date(2026, 4, 3), 0, "after", "knee_pain"),
    ]
    assert not (tmp_path / "notes.json").exists()
    assert json.loads((tmp_path / "notes.json.migrated").read_text()) == old
    # a second open (even with the old file put back) does not migrate again
    (tmp_path / "notes.json").write_text(json.dumps(old))
    assert len(notes.list_notes(tmp_path)) == 2
    notes.add_note(tmp_path, notes.knee_pain(TODAY, 1), today=TODAY)
    assert len(notes.list_notes(tmp_path)) == 3


def test_damaged_old_notes_json_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{not json")
    with pytest.raises(NotesError) as info:
        notes.list_notes(tmp_path)
    text = str(info.value)
    assert "\n" not in text and "notes.json" in text and "rename" in text
    assert (tmp_path / "notes.json").exists()  # nothing lost


def test_damaged_notes_db_is_one_line_naming_file_and_what_to_do(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.db").write_bytes(b"this is not sqlite at all" * 100)
    for call in (
        lambda: notes.list_notes(tmp_path),
        lambda: notes.add_note(tmp_path, notes.knee_pain(TODAY, 2), today=TODAY),
        lambda: notes.delete_note(tmp_path, 1),
    ):
        with pytest.raises(NotesError) as info:
            call()
        text = str(info.value)
        assert isinstance(info.value, KneeloadError)
        assert "\n" not in text
        assert str(tmp_path / "notes.db") in text
        assert "rename it (e.g. to notes.db.damaged)" in text


def test_locked_notes_store_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    notes.add_note(tmp_path, notes.knee_pain(TODAY, 2), today=TODAY)
    other = sqlite3.connect(tmp_path / "notes.db")
    other.execute("BEGIN EXCLUSIVE")  # another process holds the diary
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda p: connect(p, timeout=0.05))
    try:
        with pytest.raises(NotesError) as info:
            notes.add_note(tmp_path, notes.knee_pain(TODAY, 3), today=TODAY)
    finally:
        other.rollback()
        other.close()
    text = str(info.value)
    assert "\n" not in text and "database is locked" in text
    assert "cannot write the notes" in text and "damaged" not in text
    monkeypatch.undo()
    assert [n.score for n in notes.list_notes(tmp_path)] == [2]  # nothing half-written
