"""Strava bulk export: ``activities.csv`` joined to the files under ``activities/``.

The real ``activities.csv`` repeats column names: two ``Elapsed Time``, two
``Distance`` (display units first, SI later), two ``Max Heart Rate``, two
``Relative Effort``, two ``Commute``. A dict reader would keep only the last of
each, so rows are read by position: the first column of a name is the one used
(``Activity Type``, ``Activity Name``, ``Activity Gear``, ``Filename``,
``Perceived Exertion`` appear once). ``Filename`` (e.g. ``activities/4711.gpx.gz``)
is relative to the folder holding the CSV.

Per file, the export supplies: ``name`` (*Activity Name*), ``gear`` (*Activity
Gear*, the shoes of a run), ``rpe`` (*Perceived Exertion*, CR-10, 1-10) and
``export_sport`` (*Activity Type*), used only when the file names no sport of its
own (RULES §1.4). Rows without a file (manual entries) carry no samples and are
left out; a row whose file is not in the export is reported once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from kneeload.errors import CorruptFileError, NotAnActivityError
from kneeload.io.exports._text import one_line
from kneeload.sport import sport_word

CSV_NAME = "activities.csv"
#: Strava's CSV has about 90 columns; one this wide without ``Filename`` is a
#: Strava CSV in another language (said), a narrower one is someone else's.
STRAVA_MIN_COLUMNS = 20
#: Folders of a Strava export that hold GPX/FIT files that are not activities.
NON_ACTIVITY_FOLDERS = ("routes/", "segments/", "media/")


@dataclass(frozen=True)
class StravaRow:
    """What ``activities.csv`` says about one activity file."""

    activity_id: str
    filename: str  # relative to the CSV's folder, "/"-separated
    name: str | None
    activity_type: str | None
    gear: str | None
    rpe: float | None
    commute: bool

    def meta(self) -> dict[str, object]:
        """RawActivity fields for the file of this row."""
        return {
            "name": self.name,
            "gear": self.gear,
            "rpe": self.rpe,
            "export_sport": sport_word(self.activity_type),
        }


def read_activities_csv(
    data: bytes, problems: list[str] | None = None
) -> list[StravaRow]:
    """Rows of a Strava ``activities.csv`` that name a file, read by column position.

    A Strava CSV without a ``Filename`` column (headers in another language)
    cannot be joined to the files: that is a ``NotAnActivityError`` (ingest names
    the file and reads the files alone). A CSV damaged part way keeps the rows
    before the damage and says why in ``problems``. UTF-16 (a spreadsheet's
    "Unicode text") and Windows-1252 files are read too.
    """
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    col = _header_positions(reader)
    if col is None:
        return []
    rows: list[StravaRow] = []
    while True:
        try:
            fields = next(reader, None)
        except csv.Error as exc:  # a field that never ends, a NUL in old Pythons
            if problems is not None:
                problems.append(_damage_problem(reader.line_num, exc, len(rows)))
            break
        if fields is None:
            break
        row = _row(col, fields)
        if row is not None:
            rows.append(row)
    return rows


def _header_positions(reader: Iterator[list[str]]) -> dict[str, int] | None:
    """Column positions of the header; None when the CSV is not Strava's (or empty).

    Raises ``NotAnActivityError`` for a Strava-wide CSV without ``Filename``.
    """
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CorruptFileError(CSV_NAME, f"unreadable CSV header ({exc})") from exc
    if not header:
        return None
    col = _first_positions(header)
    if "Filename" not in col:
        if len(header) < STRAVA_MIN_COLUMNS:
            return None  # some other activities.csv, not Strava's
        raise NotAnActivityError(
            CSV_NAME,
            "no 'Filename' column (headers in another language?): the activity "
            "files are read without Strava's names, gear, effort and types",
        )
    return col


def _damage_problem(line_num: int, exc: csv.Error, n_rows: int) -> str:
    """The problem line of a CSV damaged at ``line_num`` after ``n_rows`` rows."""
    first = "first row" if n_rows == 1 else f"first {n_rows} rows"
    return (
        f"damaged CSV at line {line_num} ({exc}): names, gear "
        f"and types kept for the {first}; the other files are read "
        "without them"
    )


def _row(col: dict[str, int], fields: list[str]) -> StravaRow | None:
    """The row of one CSV line; None for a manual entry (no file, no samples)."""

    def get(name: str) -> str | None:
        i = col.get(name)
        value = fields[i].strip() if i is not None and i < len(fields) else ""
        return value or None

    filename = get("Filename")
    if not filename:
        return None
    return StravaRow(
        activity_id=get("Activity ID") or "",
        filename=filename.replace("\\", "/").lstrip("/"),
        name=one_line(get("Activity Name")),
        activity_type=get("Activity Type"),
        gear=one_line(get("Activity Gear")),
        rpe=_rpe(get("Perceived Exertion")),
        commute=(get("Commute") or "").lower() in ("true", "1", "yes"),
    )


def _decode(data: bytes) -> str:
    """The CSV's text: UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _first_positions(header: list[str]) -> dict[str, int]:
    """Column name -> position of its first occurrence."""
    col: dict[str, int] = {}
    for i, name in enumerate(header):
        col.setdefault(name.strip(), i)
    return col


def _rpe(text: str | None) -> float | None:
    """Perceived exertion on the CR-10 scale (1-10), else None."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 1.0 <= value <= 10.0 else None
