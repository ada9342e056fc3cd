"""Garmin Connect "Export your data" archive: summary JSON joined to the FIT files.

The archive holds the original FIT files in nested zips
(``DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip``) and, under
``DI_CONNECT/DI-Connect-Fitness/``, ``*_summarizedActivities.json``: one record per
activity with ``activityId``, ``name``, ``activityType`` (a type key such as
``running``, ``trail_running``, ``road_biking``, or an object holding ``typeKey``)
and ``startTimeGmt`` (epoch milliseconds; ``beginTimestamp`` where it is
missing).

A FIT file is joined to its record by the activity id in its file name
(``name@example.com_12345678901.fit``, ``12345678901_ACTIVITY.fit``), else by
its start: the FIT ``file_id.time_created``, read from the first bytes of the
file, within ``START_TOLERANCE_S`` of ``startTimeGmt``. The other folders
(wellness, sleep, user profile, aggregated metrics) are not activity data and are
left out silently.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kneeload.io.exports._text import one_line
from kneeload.sport import sport_word

SUMMARY_SUFFIX = "_summarizedactivities.json"
#: Folders of the archive that hold no activities (matched case-insensitively).
NON_ACTIVITY_PARTS = (
    "di-connect-wellness",
    "di-connect-aggregator",
    "di-connect-user",
    "di-connect-metrics",
    "di-connect-sleep",
    "di-connect-nutrition",
    "di-connect-biometrics",
)
START_TOLERANCE_S = 120.0
FIT_EPOCH_S = 631065600
_DIGITS = re.compile(r"(?<!\d)(\d{6,})(?!\d)")


@dataclass(frozen=True)
class GarminActivity:
    """One record of ``*_summarizedActivities.json``."""

    activity_id: str
    name: str | None
    activity_type: str | None
    start_utc: float | None

    def meta(self) -> dict[str, object]:
        """RawActivity fields for the FIT file of this activity."""
        return {"name": self.name, "export_sport": sport_word(self.activity_type)}


def is_summary_name(name: str) -> bool:
    """True for a ``*_summarizedActivities.json`` member."""
    return name.lower().endswith(SUMMARY_SUFFIX)


def is_non_activity(name: str) -> bool:
    """True for a file in one of the archive's wellness/sleep/profile folders."""
    lower = name.lower()
    return any(part in lower for part in NON_ACTIVITY_PARTS)


def read_summaries(data: bytes) -> tuple[list[GarminActivity], str | None]:
    """The activity records of one ``*_summarizedActivities.json``, and its damage.

    A file that is not valid JSON (a download cut short, a disk error) keeps
    the complete records before the damage; the second value then says what
    was wrong and how many records were kept (None for a sound file).
    """
    text = data.decode("utf-8-sig", errors="replace")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        kept = [a for a in map(_activity, _salvage(text)) if a is not None]
        where = f"line {exc.lineno}, column {exc.colno}"
        body = text.strip()
        if body[:1] in ("[", "{") and body[-1:] not in ("]", "}"):
            what = f"the file is cut short (not valid JSON from {where})"
        else:
            what = f"not valid JSON ({exc.msg.removesuffix(' at')} at {where})"
        if len(kept) == 1:
            rest = "Garmin's name and type kept for the first activity"
        elif kept:
            rest = f"Garmin's names and types kept for the first {len(kept)} activities"
        else:
            rest = ""
        rest += (
            "; the other FIT files are read without them"
            if kept
            else "the FIT files are read without Garmin's names and types"
        )
        return kept, f"{what}; {rest}"
    except RecursionError:
        return [], "not valid JSON (nested too deeply); the FIT files are read alone"
    return [a for a in map(_activity, _records(doc)) if a is not None], None


def _salvage(text: str) -> list[dict[str, Any]]:
    """The complete activity objects of a damaged file, in order, up to the damage."""
    decoder = json.JSONDecoder()
    start = text.find("[", max(text.find('"summarizedActivitiesExport"'), 0) + 1)
    out: list[dict[str, Any]] = []
    pos = start + 1 if start >= 0 else len(text)
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            break
        if isinstance(item, dict) and "activityId" in item:
            out.append(item)
    return out


def _records(doc: Any) -> Iterable[dict[str, Any]]:
    """Activity dicts wherever the file nests them (list of exports, or one)."""
    if isinstance(doc, list):
        for item in doc:
            yield from _records(item)
    elif isinstance(doc, dict):
        if "activityId" in doc:
            yield doc
        else:
            for key in ("summarizedActivitiesExport", "activities"):
                if key in doc:
                    yield from _records(doc[key])


def _activity(rec: dict[str, Any]) -> GarminActivity | None:
    activity_id = rec.get("activityId")
    if activity_id is None:
        return None
    kind = rec.get("activityType")
    if isinstance(kind, dict):
        kind = kind.get("typeKey")
    start = rec.get("startTimeGmt")
    if not isinstance(start, int | float):
        start = rec.get("beginTimestamp")  # the same instant, in other exports
    start_utc = float(start) / 1000.0 if isinstance(start, int | float) else None
    name = rec.get("name")
    return GarminActivity(
        activity_id=str(int(activity_id))
        if isinstance(activity_id, float)
        else str(activity_id),
        name=one_line(str(name)) if name else None,
        activity_type=str(kind) if kind else rec.get("sportType"),
        start_utc=start_utc,
    )


def ids_in_name(name: str) -> list[str]:
    """Runs of six or more digits in a file name (candidate activity ids)."""
    base = name.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    return _DIGITS.findall(base)


def fit_time_created(head: bytes) -> float | None:
    """UTC epoch of ``file_id.time_created`` from the first bytes of a FIT file."""
    if len(head) < 14 or head[8:12] != b".FIT":
        return None
    pos = head[0]
    defs: dict[int, tuple[int, str, list[tuple[int, int]], int]] = {}
    for _ in range(64):
        if pos >= len(head):
            return None
        rec = head[pos]
        pos += 1
        if rec & 0x80:  # compressed-timestamp data message
            local = (rec >> 5) & 0x03
        elif rec & 0x40:  # definition
            if pos + 5 > len(head):
                return None
            endian = ">" if head[pos + 1] else "<"
            (gnum,) = struct.unpack_from(endian + "H", head, pos + 2)
            n = head[pos + 4]
            pos += 5
            fields = [(head[pos + 3 * i], head[pos + 3 * i + 1]) for i in range(n)]
            pos += 3 * n
            dev = 0
            if rec & 0x20:
                if pos >= len(head):
                    return None
                dev = sum(head[pos + 1 + 3 * i + 1] for i in range(head[pos]))
                pos += 1 + 3 * head[pos]
            defs[rec & 0x0F] = (gnum, endian, fields, dev)
            continue
        else:
            local = rec & 0x0F
        if local not in defs:
            return None
        gnum, endian, fields, dev = defs[local]
        if gnum == 0:
            offset = pos
            for num, size in fields:
                if num == 4 and size == 4 and offset + 4 <= len(head):
                    (value,) = struct.unpack_from(endian + "I", head, offset)
                    if value in (0, 0xFFFFFFFF) or value < 0x10000000:
                        return None
                    return float(value + FIT_EPOCH_S)
                offset += size
            return None
        pos += sum(size for _, size in fields) + dev
    return None


def match_by_start(
    start_utc: float | None, activities: list[GarminActivity]
) -> GarminActivity | None:
    """The activity whose start lies within ``START_TOLERANCE_S`` of ``start_utc``."""
    if start_utc is None:
        return None
    best = None
    for act in activities:
        if act.start_utc is None:
            continue
        gap = abs(act.start_utc - start_utc)
        if gap <= START_TOLERANCE_S and (best is None or gap < best[0]):
            best = (gap, act)
    return best[1] if best else None
