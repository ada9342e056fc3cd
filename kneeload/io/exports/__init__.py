"""Whole-account exports as people download them: Garmin Connect, Strava, Apple Health.

``kneeload.io.sources`` calls ``detect`` (registered on import) with every folder
and archive tree it walks (PROTOCOL contract 6). An export is recognised by its
marker files, never by the name of the folder or zip:

* **Strava**: ``activities.csv`` (its rows name files under ``activities/``);
* **Garmin Connect**: ``*_summarizedActivities.json`` or a ``DI_CONNECT/`` folder;
* **Apple Health**: an ``export.xml`` that starts as Apple's ``HealthData``.

The detection adds the export's metadata (name, gear, RPE, sport) to the sources
it joins, leaves out silently the files that are not activities (Garmin
wellness/sleep/profile folders, Strava routes, Apple route GPX files, which are
read with their workout), and for Apple adds one source whose own parser streams
``export.xml`` into one activity per workout.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import time
from typing import TYPE_CHECKING, Any

from kneeload.errors import ActivityFileError, CorruptFileError, NotAnActivityError
from kneeload.io.exports import garmin, strava
from kneeload.io.sources import (
    ArchiveTree,
    Detection,
    Source,
    TreeEntry,
    is_activity_name,
    register_export_detector,
)
from kneeload.schema import RawActivity

if TYPE_CHECKING:  # the Apple reader (and its XML parser) loads only when needed
    from kneeload.io.exports import apple

#: The parser hook of the Apple ``export.xml`` source ("module:function").
APPLE_PARSER = "kneeload.io.exports:parse_export"
FIT_HEAD_BYTES = 4096
#: What the detector reads of an ``export.xml`` to recognise it.
APPLE_HEAD_BYTES = 65536


@register_export_detector
def detect(tree: ArchiveTree) -> Detection | None:
    """Recognise the exports inside one folder or archive tree (None: none there)."""
    found = Detection()
    hit = False
    for finder in (_strava, _garmin, _apple):
        try:
            hit = finder(tree, found) or hit
        except Exception as exc:  # an export's metadata never stops the ingest
            hit = True
            found.problems.append(
                CorruptFileError(
                    tree.root,
                    f"could not read the export's own files ({type(exc).__name__}: "
                    f"{exc}); its activity files are read without them",
                )
            )
    return found if hit else None


def _activity_entries(tree: ArchiveTree) -> list[TreeEntry]:
    return [
        e
        for e in tree.entries
        if is_activity_name(e.source.member or e.name)
        and not e.name.lower().endswith(".zip")
    ]


def _base(name: str) -> str:
    """The file name part of a tree name (after the last "/" or "!")."""
    return re.split(r"[/!]", name)[-1]


def _dir(name: str) -> str:
    """The folder part of a tree name, "" or ending with "/"."""
    head = posixpath.dirname(name.rsplit("!", 1)[-1])
    prefix = name.rsplit("!", 1)[0] + "!" if "!" in name else ""
    return f"{prefix}{head}/" if head else prefix


def _label(tree: ArchiveTree, name: str) -> str:
    """How a file of the tree that is not there would be named."""
    if tree.kind == "folder":
        return posixpath.join(tree.root, name)
    return f"{tree.root}!{name}"


# ------------------------------------------------------------------ Strava


def _strava(tree: ArchiveTree, found: Detection) -> bool:
    csvs = [e for e in tree.entries if _base(e.name).lower() == strava.CSV_NAME]
    if not csvs:
        return False
    entries = _activity_entries(tree)
    by_name = {e.name: e for e in entries}
    by_lower = {e.name.lower(): e for e in entries}
    for csv_entry in csvs:
        root = _dir(csv_entry.name)
        for e in entries:  # routes, segments: not activities, even without the CSV
            rel = e.name[len(root) :] if e.name.startswith(root) else ""
            if rel.lower().startswith(strava.NON_ACTIVITY_FOLDERS):
                found.quiet.add(e.key)
        damage: list[str] = []
        try:
            rows = strava.read_activities_csv(csv_entry.source.read(), damage)
        except ActivityFileError as exc:  # named by the CSV's own key
            kind = type(exc) if exc.path == strava.CSV_NAME else None
            found.problems.append(kind(csv_entry.key, exc.reason) if kind else exc)
            continue
        found.problems += [CorruptFileError(csv_entry.key, why) for why in damage]
        for row in rows:
            name = root + row.filename
            entry = by_name.get(name) or by_lower.get(name.lower())
            if entry is None:
                what = f"activity {row.activity_id}" + (
                    f" '{row.name}'" if row.name else ""
                )
                found.problems.append(
                    NotAnActivityError(
                        _label(tree, name),
                        f"listed in activities.csv ({what}) but not in the export",
                    )
                )
                continue
            found.meta[entry.key] = row.meta()
    return True


# ------------------------------------------------------------------ Garmin


def _garmin(tree: ArchiveTree, found: Detection) -> bool:
    summaries = [e for e in tree.entries if garmin.is_summary_name(e.name)]
    if not summaries and not any("di_connect/" in e.name.lower() for e in tree.entries):
        return False
    activities: list[garmin.GarminActivity] = []
    for entry in summaries:
        try:
            records, damage = garmin.read_summaries(entry.source.read())
        except ActivityFileError as exc:
            found.problems.append(exc)
            continue
        activities += records
        if damage is not None:
            found.problems.append(CorruptFileError(entry.key, damage))
    by_id = {a.activity_id: a for a in activities}
    for entry in _activity_entries(tree):
        if garmin.is_non_activity(entry.name):
            found.quiet.add(entry.key)
            continue
        if not activities or entry.key in found.meta:
            continue
        match = next(
            (by_id[i] for i in garmin.ids_in_name(entry.name) if i in by_id), None
        )
        if match is None and (entry.source.member or entry.name).lower().endswith(
            ".fit"
        ):
            match = garmin.match_by_start(_fit_start(entry.source), activities)
        if match is not None:
            found.meta[entry.key] = match.meta()
    return True


def _fit_start(source: Source) -> float | None:
    try:
        with source.open() as fh:
            head = fh.read(FIT_HEAD_BYTES)
    except (ActivityFileError, OSError):
        return None
    return garmin.fit_time_created(head)


# ------------------------------------------------------------------ Apple


def _apple(tree: ArchiveTree, found: Detection) -> bool:
    hit = False
    for entry in tree.entries:
        if _base(entry.name).lower() != "export.xml":
            continue
        from kneeload.io.exports import apple

        try:
            with entry.source.open() as fh:
                head = fh.read(APPLE_HEAD_BYTES)
        except (ActivityFileError, OSError):
            continue
        if not apple.looks_like_export_xml(head):
            continue
        hit = True
        root = _dir(entry.name)
        routes: dict[str, Source] = {}
        for other in tree.entries:
            if other.name.startswith(root) and other.name[
                len(root) :
            ].lower().startswith("workout-routes/"):
                routes["/" + other.name[len(root) :]] = other.source
                found.quiet.add(other.key)
        meta: dict[str, Any] = {"apple_routes": routes}
        found.quiet.add(entry.key)  # named on its own, it would be sniffed too
        found.sources.append(
            dataclasses.replace(entry.source, parser=APPLE_PARSER, meta=meta)
        )
    return hit


def parse_export(
    source: Source, stream: apple.Readable | None = None
) -> list[RawActivity]:
    """One RawActivity per running/walking/cycling/swimming workout in export.xml.

    ``stream`` is the opened content of ``source`` (ingest passes one that it
    hashes as it is read); without it the source is opened here.
    """
    from kneeload.io.exports import apple

    routes: dict[str, Source] = dict((source.meta or {}).get("apple_routes", {}))
    if stream is not None:
        scan = apple.scan_export(stream, source.key)
    else:
        with source.open() as fh:
            scan = apple.scan_export(fh, source.key)

    def read_route(path: str) -> bytes | None:
        route = routes.get(path) or routes.get("/" + path.lstrip("/"))
        if route is None:
            return None
        try:
            return route.read()
        except ActivityFileError:
            return None

    out = [apple.to_activity(scan, w, read_route) for w in scan.workouts]
    problems = list(scan.problems)
    if scan.truncated:  # said with its cause when the zip member was damaged
        damaged = [p for p in problems if p.startswith(apple.DAMAGED_IN_ZIP)]
        for p in damaged:
            problems.remove(p)
        problems.append(_truncation(scan, *damaged[:1]))
    if not out:
        if problems:
            raise CorruptFileError(source.key, "; ".join(problems))
        raise NotAnActivityError(
            source.key, "no running, walking, cycling or swimming workout in export.xml"
        )
    if problems:  # said once, on the file's last activity (the file is partial)
        out[-1].partial = "; ".join(problems)
    return out


def _truncation(
    scan: apple.ExportScan,
    cause: str = "export.xml is cut short (the export is incomplete)",
) -> str:
    """Why a cut-off export.xml is only partly read, and what to do."""
    from kneeload.io.exports import apple

    advice = "export it again from the Health app"
    if scan.cut_text:
        lost = f"{apple.cut_workout_words(scan.cut_text)} is cut off and not read"
    elif scan.workouts:
        last = scan.workouts[-1]
        day = time.strftime("%Y-%m-%d", time.gmtime(last.start_utc + last.utc_offset_s))
        lost = f"workouts after {day}, if any, are missing"
    else:
        lost = "no workout could be read"
    return f"{cause}: {lost}; {advice}"
