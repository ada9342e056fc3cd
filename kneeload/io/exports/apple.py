"""Apple Health export (``export.zip`` or ``apple_health_export/``): workouts.

``export.xml`` is often 1-5 GB, so it is never parsed as a tree. It is streamed
in blocks and scanned with byte patterns for the three things kneeload needs:

* ``<Record type="HKQuantityTypeIdentifierHeartRate" ...>`` (time and bpm) and
  ``<Record type="HKQuantityTypeIdentifierStepCount" ...>`` (source, span, steps),
  with one pattern,
* ``<Workout ...>...</Workout>`` blocks, each parsed on its own (a few KB).

Everything else (other records, sleep, nutrition, clinical records,
``ActivitySummary``, ``export_cda.xml``) is passed over without being decoded.
Memory holds only the heart-rate and step records as numpy arrays (12 and 28
bytes per record) plus one block. Apple writes one element per line in a fixed
attribute order (``type, sourceName, ..., startDate, endDate, value``); the
patterns rely on that order. The file starts with an internal DTD of
``<!ELEMENT>``/``<!ATTLIST>`` declarations, which is accepted; a DTD that
declares an entity is refused (nothing here expands entities anyway).

Each running, walking (incl. hiking), cycling or swimming ``Workout`` becomes one
activity: start and end with their UTC offset, distance from the
``WorkoutStatistics`` sum (``DistanceWalkingRunning``/``Cycling``/``Swimming``)
or the older ``totalDistance`` attribute with its unit, ``duration`` as the timer
time, heart rate from the ``HeartRate`` records inside the span (each held until
the next, at most 10 s: RULES §10), cadence from the ``StepCount`` records of the
workout's own source over its moving time (steps/min), the route GPX named by
``WorkoutRoute/FileReference`` for positions (time zone) and altitude (descent),
and ``HKIndoorWorkout`` = 1 -> treadmill. The sport is the export's own
(``export_sport``, RULES §1.4); the name is the Fitness app's ("Outdoor Run");
the runner's own effort rating (iOS 18 ``WorkoutEffortScore``, 1-10, over the
workout's span) is its RPE (Apple's estimated effort is not a perceived one).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import defusedxml.ElementTree as SafeET
import numpy as np

from kneeload.errors import ActivityFileError, CorruptFileError, UnsafeFileError
from kneeload.schema import RawActivity
from kneeload.sport import sport_word

#: Block size of the streaming scan.
BLOCK_BYTES = 8 * 2**20
#: The DTD and the root element must start within this many bytes.
HEAD_BYTES = 2**20
#: A single element (a workout block, a line) longer than this is refused.
MAX_ELEMENT_BYTES = 64 * 2**20
#: Apple workout types kept (after ``sport_word``); others are skipped silently.
KEPT_SPORTS = ("running", "walking", "cycling", "swimming")
HR_HOLD_S = 10.0
HR_RANGE_BPM = (25.0, 240.0)
#: Route points kept this far outside the workout's span.
ROUTE_MARGIN_S = 60.0
_UNIT_M = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "yd": 0.9144, "ft": 0.3048}
_UNIT_S = {"s": 1.0, "min": 60.0, "hr": 3600.0, "h": 3600.0}
_DISTANCE_STATS = (
    "HKQuantityTypeIdentifierDistanceWalkingRunning",
    "HKQuantityTypeIdentifierDistanceCycling",
    "HKQuantityTypeIdentifierDistanceSwimming",
)

#: Any attributes between the ones we read (Apple's order: sourceVersion, device,
#: unit, creationDate); one attribute per step keeps the scan fast.
_ATTRS = rb'(?: [\w:]+="[^"]*")*?'
_RECORD_RE = re.compile(
    rb'<Record type="HKQuantityTypeIdentifier(HeartRate|StepCount)"'
    rb' sourceName="([^"]*)"'
    + _ATTRS
    + rb' startDate="([^"]*)" endDate="([^"]*)"'
    + _ATTRS
    + rb' value="([^"]*)"'
)
#: How a zip member that fails while streamed is said (its error follows).
DAMAGED_IN_ZIP = "export.xml is damaged inside its zip"
#: What inflating a damaged zip member raises while it is streamed.
_STREAM_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
#: The runner's own effort rating of a workout (iOS 18, 1-10): its RPE.
_EFFORT_TYPE = b"HKQuantityTypeIdentifierWorkoutEffortScore"
_EFFORT_RE = re.compile(
    rb'<Record type="' + _EFFORT_TYPE + rb'"'
    + _ATTRS
    + rb' startDate="([^"]*)" endDate="([^"]*)"'
    + _ATTRS
    + rb' value="([^"]*)"'
)  # fmt: skip
#: An effort rating belongs to the workout it overlaps, or that starts this close.
EFFORT_MATCH_S = 60.0
_WORKOUT_RE = re.compile(rb"<Workout\s[^>]*?(?:/>|>.*?</Workout>)", re.DOTALL)
_DTD_RE = re.compile(rb"<!DOCTYPE\s+\w+([^\[>]*)(?:\[(.*?)\]\s*)?>", re.DOTALL)


class Readable(Protocol):
    """What the scan needs of a stream: ``read(n)`` returning bytes."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; b"" at the end."""
        ...


@dataclass
class Workout:
    """One kept ``<Workout>`` of the export."""

    index: int  # position among all workouts of the file
    sport: str
    activity_type: str
    start_utc: float
    end_utc: float
    utc_offset_s: float
    duration_s: float | None
    distance_m: float | None
    source_name: str | None
    indoor: bool
    routes: list[str] = field(default_factory=list)  # FileReference paths
    #: HKSwimmingLocationType: "1" pool, "2" open water (swims only)
    swim_location: str | None = None


@dataclass
class ExportScan:
    """What one pass over ``export.xml`` collected."""

    workouts: list[Workout]
    hr_time: np.ndarray  # epoch s, sorted
    hr_bpm: np.ndarray
    step_start: np.ndarray
    step_end: np.ndarray
    step_count: np.ndarray
    step_source: np.ndarray  # index into step_sources
    step_sources: list[str]
    n_workouts_seen: int = 0
    longest_step_s: float = 0.0  # the longest step record: bounds the search
    notes: list[str] = field(default_factory=list)
    #: what of the file could not be read (a cut-off end, an unreadable workout)
    problems: list[str] = field(default_factory=list)
    #: (start, end, score) of the runner's WorkoutEffortScore records
    efforts: list[tuple[float, float, float]] = field(default_factory=list)
    truncated: bool = False  # the file ends before ``</HealthData>``
    cut_text: bytes = b""  # ... inside this unfinished ``<Workout>`` (it is lost)


def looks_like_export_xml(head: bytes) -> bool:
    """True when the first bytes of a file are an Apple Health ``export.xml``."""
    return b"<HealthData" in head or b"DOCTYPE HealthData" in head


def check_dtd(head: bytes, name: str) -> None:
    """Accept an internal DTD of element/attribute declarations; refuse entities."""
    match = _DTD_RE.search(head)
    if match is None:
        if b"<!DOCTYPE" in head:
            raise CorruptFileError(name, "unreadable <!DOCTYPE> in export.xml")
        return
    external, subset = match.group(1), match.group(2) or b""
    if b"<!ENTITY" in subset:
        raise UnsafeFileError(name, "export.xml declares XML entities: refused")
    if b"SYSTEM" in external or b"PUBLIC" in external:
        raise UnsafeFileError(name, "export.xml refers to an external DTD: refused")


@dataclass
class _Pass:
    """What the streaming loop of :func:`scan_export` gathers, block by block."""

    hr_t: list[np.ndarray] = field(default_factory=list)
    hr_v: list[np.ndarray] = field(default_factory=list)
    st_a: list[np.ndarray] = field(default_factory=list)
    st_b: list[np.ndarray] = field(default_factory=list)
    st_v: list[np.ndarray] = field(default_factory=list)
    st_s: list[np.ndarray] = field(default_factory=list)
    sources: dict[bytes, int] = field(default_factory=dict)
    blocks: list[bytes] = field(default_factory=list)
    efforts: list[tuple[float, float, float]] = field(default_factory=list)
    ending: bytes = b""  # the last bytes of the file: does it close </HealthData>?
    cut_text: bytes = b""

    def add_records(self, found: list[tuple[bytes, ...]]) -> None:
        """Append the heart-rate and step records of one block as arrays."""
        hr = [m for m in found if m[0] == b"HeartRate"]
        steps = (
            [m for m in found if m[0] != b"HeartRate"] if len(hr) < len(found) else []
        )
        if hr:
            self.hr_t.append(_epochs([m[2] for m in hr]))
            self.hr_v.append(_floats([m[4] for m in hr]))
        if steps:
            self.st_a.append(_epochs([m[2] for m in steps]))
            self.st_b.append(_epochs([m[3] for m in steps]))
            self.st_v.append(_floats([m[4] for m in steps]))
            ids = [self.sources.setdefault(m[1], len(self.sources)) for m in steps]
            self.st_s.append(np.array(ids, np.int32))

    def add_part(self, buf: bytes, cut: int, eof: bool) -> None:
        """Collect records, efforts and workout blocks from ``buf[:cut]``."""
        part = memoryview(buf)[:cut]
        found = _RECORD_RE.findall(part)
        if found:
            self.add_records(found)
        if buf.find(_EFFORT_TYPE, 0, cut) >= 0:
            self.efforts += [_effort(m) for m in _EFFORT_RE.findall(part)]
        if buf.find(b"<Workout ", 0, cut) >= 0:
            matches = list(_WORKOUT_RE.finditer(part))
            self.blocks.extend(bytes(m.group(0)) for m in matches)
            if eof:  # an unfinished <Workout> at the very end is in this part
                last = buf.rfind(b"<Workout ", 0, cut)
                if last > (matches[-1].start() if matches else -1):
                    self.cut_text = buf[last : last + 4096]


def scan_export(fh: Readable, name: str) -> ExportScan:
    """Stream ``export.xml`` once and collect workouts, HR and step records."""
    damage: list[str] = []
    gathered = _stream(fh, name, damage)
    scan = _to_scan(gathered, damage)
    _sort_and_drop_unreadable(scan)
    _drop_implausible_hr(scan)
    _read_workouts(scan, gathered.blocks)
    return scan


def _stream(fh: Readable, name: str, damage: list[str]) -> _Pass:
    """Read ``fh`` block by block, cutting each block at a safe element boundary."""
    gathered = _Pass()
    tail = _head(fh, name, damage)
    while True:
        chunk = _read_block(fh, damage)
        eof = not chunk
        buf = tail + chunk
        gathered.ending = (gathered.ending + buf[-64:])[-64:]
        cut = len(buf) if eof else _safe_cut(buf)
        if cut == 0 and not eof:
            if len(buf) > MAX_ELEMENT_BYTES:
                raise CorruptFileError(name, "an element of export.xml is too long")
            tail = buf
            continue
        tail = buf[cut:]
        gathered.add_part(buf, cut, eof)
        if eof:
            return gathered


def _to_scan(gathered: _Pass, damage: list[str]) -> ExportScan:
    """Concatenate the gathered arrays into one :class:`ExportScan`."""
    st_s = gathered.st_s
    return ExportScan(
        workouts=[],
        hr_time=_cat(gathered.hr_t),
        hr_bpm=_cat(gathered.hr_v),
        step_start=_cat(gathered.st_a),
        step_end=_cat(gathered.st_b),
        step_count=_cat(gathered.st_v),
        step_source=np.concatenate(st_s) if st_s else np.zeros(0, np.int32),
        step_sources=[s.decode("utf-8", "replace") for s in gathered.sources],
        n_workouts_seen=len(gathered.blocks),
        truncated=not gathered.ending.rstrip().endswith(b"</HealthData>"),
        cut_text=gathered.cut_text,
        efforts=[e for e in gathered.efforts if 1.0 <= e[2] <= 10.0],
        problems=damage,
    )


_STEP_FIELDS = ("step_start", "step_end", "step_count", "step_source")


def _sort_and_drop_unreadable(scan: ExportScan) -> None:
    """Sort HR and step records by time; drop step records with a damaged value."""
    order = np.argsort(scan.hr_time, kind="stable")
    scan.hr_time, scan.hr_bpm = scan.hr_time[order], scan.hr_bpm[order]
    order = np.argsort(scan.step_start, kind="stable")
    for name in _STEP_FIELDS:
        setattr(scan, name, getattr(scan, name)[order])
    readable = np.isfinite(scan.step_count) & np.isfinite(scan.step_start)
    readable &= np.isfinite(scan.step_end)
    if not readable.all():  # a damaged value or date: that record is not counted
        for name in _STEP_FIELDS:
            setattr(scan, name, getattr(scan, name)[readable])
    spans = scan.step_end - scan.step_start
    scan.longest_step_s = float(spans.max()) if spans.size else 0.0


def _drop_implausible_hr(scan: ExportScan) -> None:
    """Drop heart rates outside the plausible range (RULES §1.5), with a note."""
    plausible = (scan.hr_bpm >= HR_RANGE_BPM[0]) & (scan.hr_bpm <= HR_RANGE_BPM[1])
    plausible &= np.isfinite(scan.hr_time)  # NaN bpm fails the range test too
    if not plausible.all():  # RULES §1.5: not a heart rate
        scan.notes.append(f"{int((~plausible).sum())} heart rates outside 25-240 bpm")
        scan.hr_time, scan.hr_bpm = scan.hr_time[plausible], scan.hr_bpm[plausible]


def _read_workouts(scan: ExportScan, blocks: list[bytes]) -> None:
    """Parse each ``<Workout>`` block; an unreadable one is a note and a problem."""
    for index, block in enumerate(blocks):
        try:
            workout = _workout(block, index)
        except ActivityFileError as exc:
            scan.notes.append(f"workout {index + 1}: {exc.reason}")
            scan.problems.append(f"workout {index + 1} not read ({exc.reason})")
            continue
        if workout is not None:
            scan.workouts.append(workout)


def _effort(match: tuple[bytes, ...]) -> tuple[float, float, float]:
    """(start, end, score) of one effort record; NaN score when unreadable."""
    try:
        score = float(match[2])
    except ValueError:
        score = float("nan")
    return _epoch_and_offset(match[0])[0], _epoch_and_offset(match[1])[0], score


def workout_rpe(scan: ExportScan, workout: Workout) -> float | None:
    """The runner's effort rating of the workout (1-10), if one was given."""
    best: tuple[float, float] | None = None
    for start, end, score in scan.efforts:
        overlap = min(end, workout.end_utc) - max(start, workout.start_utc)
        near = abs(start - workout.start_utc) <= EFFORT_MATCH_S
        if (overlap > 0 or near) and (best is None or overlap > best[0]):
            best = (overlap, score)
    return best[1] if best else None


def cut_workout_words(text: bytes) -> str:
    """What an unfinished ``<Workout>`` was: "the cycling workout of 2026-11-19"."""
    kind = re.search(rb'workoutActivityType="HKWorkoutActivityType(\w+)"', text)
    start = re.search(rb'startDate="(\d{4}-\d\d-\d\d)', text)
    what = f"the {kind.group(1).decode().lower()} workout" if kind else "a workout"
    return f"{what} of {start.group(1).decode()}" if start else what


def _read_block(fh: Readable, damage: list[str]) -> bytes:
    """The next block; b"" (the end) when a damaged zip member cannot go on."""
    if damage:
        return b""
    try:
        return fh.read(BLOCK_BYTES)
    except _STREAM_ERRORS as exc:  # keep what was read before the damage
        damage.append(f"{DAMAGED_IN_ZIP} ({exc})")
        return b""


def _head(fh: Readable, name: str, damage: list[str]) -> bytes:
    """The first blocks, up to the root element: the DTD is checked on them."""
    head = b""
    while len(head) < HEAD_BYTES and b"<HealthData" not in head:
        chunk = _read_block(fh, damage)
        if not chunk:
            break
        head += chunk
    if damage and b"<HealthData" not in head:
        raise CorruptFileError(
            name, f"{damage[0]}; export it again from the Health app"
        )
    check_dtd(head[:HEAD_BYTES], name)
    if not looks_like_export_xml(head[:HEAD_BYTES]):
        raise CorruptFileError(name, "not an Apple Health export.xml")
    return head


def _safe_cut(buf: bytes) -> int:
    """End of the last complete line, not inside an unfinished ``<Workout>``."""
    cut = buf.rfind(b"\n") + 1
    start = buf.rfind(b"<Workout ", 0, cut)  # not <WorkoutStatistics, <WorkoutRoute
    if start >= 0:
        gt = buf.find(b">", start, cut)
        complete = gt >= 0 and (
            buf[gt - 1 : gt] == b"/" or buf.find(b"</Workout>", gt, cut) >= 0
        )
        if not complete:
            cut = start
    return cut


def _floats(values: list[bytes]) -> np.ndarray:
    """The record values as floats (vectorised); one unreadable value is NaN."""
    try:
        return np.array(values).astype(np.float64)
    except ValueError:  # a damaged value: read one by one
        out = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            try:
                out[i] = float(value)
            except ValueError:
                continue
        return out


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _epochs(dates: tuple[bytes, ...] | list[bytes]) -> np.ndarray:
    """Epoch seconds of Apple dates ``YYYY-MM-DD HH:MM:SS +HHMM`` (vectorised)."""
    arr = np.array(dates)
    if arr.dtype.itemsize == 25:
        d = np.frombuffer(arr.tobytes(), np.uint8).reshape(-1, 25).astype(np.int64) - 48
        ok = (d[:, 4] == ord("-") - 48) & (d[:, 10] == ord(" ") - 48)
        ok &= (d[:, 19] == ord(" ") - 48) & (d[:, 13] == ord(":") - 48)
        if ok.all():
            year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
            month = d[:, 5] * 10 + d[:, 6]
            day = d[:, 8] * 10 + d[:, 9]
            secs = (d[:, 11] * 10 + d[:, 12]) * 3600 + (d[:, 14] * 10 + d[:, 15]) * 60
            secs += d[:, 17] * 10 + d[:, 18]
            sign = np.where(d[:, 20] == ord("-") - 48, -1, 1)
            off = (d[:, 21] * 10 + d[:, 22]) * 3600 + (d[:, 23] * 10 + d[:, 24]) * 60
            months = (year - 1970) * 12 + month - 1
            days = (
                months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
            )
            return ((days + day - 1) * 86400 + secs - sign * off).astype(np.float64)
    return np.array([_epoch_and_offset(x)[0] for x in dates], dtype=np.float64)


def _epoch_and_offset(text: bytes | str) -> tuple[float, float]:
    """(epoch s, UTC offset s) of one Apple date; NaN when unreadable."""
    from datetime import datetime

    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    try:
        stamp = datetime.strptime(raw.strip(), "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return float("nan"), float("nan")
    offset = stamp.utcoffset()
    return stamp.timestamp(), offset.total_seconds() if offset else 0.0


def _workout(block: bytes, index: int) -> Workout | None:
    """One kept workout from its XML block, or None for other activity types."""
    kind = re.search(rb'workoutActivityType="([^"]*)"', block)
    sport = sport_word(kind.group(1).decode("utf-8", "replace") if kind else None)
    if sport not in KEPT_SPORTS:
        return None
    try:
        elem = SafeET.fromstring(block)
    except Exception as exc:  # defusedxml and expat raise several kinds
        raise CorruptFileError("export.xml", f"unreadable <Workout>: {exc}") from exc
    start, offset = _epoch_and_offset(elem.get("startDate", ""))
    end, _ = _epoch_and_offset(elem.get("endDate", ""))
    if not np.isfinite(start) or not np.isfinite(end):
        raise CorruptFileError("export.xml", "workout without a readable start or end")
    meta = {m.get("key"): m.get("value") for m in elem.iter("MetadataEntry")}
    return Workout(
        index=index,
        sport=str(sport),
        activity_type=elem.get("workoutActivityType", ""),
        start_utc=start,
        end_utc=end,
        utc_offset_s=offset,
        duration_s=_quantity(elem.get("duration"), elem.get("durationUnit"), _UNIT_S),
        distance_m=_distance(elem),
        source_name=elem.get("sourceName"),
        indoor=(meta.get("HKIndoorWorkout") or "0").strip() in ("1", "true", "YES"),
        swim_location=(meta.get("HKSwimmingLocationType") or "").strip() or None,
        routes=[
            ref.get("path", "")
            for route in elem.iter("WorkoutRoute")
            for ref in route.iter("FileReference")
            if ref.get("path")
        ],
    )


def _quantity(
    value: str | None, unit: str | None, table: dict[str, float]
) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    if number is None or not np.isfinite(number):
        return None
    factor = table.get((unit or "").strip())
    return number * factor if factor is not None else None


def _distance(elem: Any) -> float | None:
    """Metres: ``WorkoutStatistics`` distance sum (iOS 16+), else ``totalDistance``."""
    for stat in elem.iter("WorkoutStatistics"):
        if stat.get("type") in _DISTANCE_STATS:
            found = _quantity(stat.get("sum"), stat.get("unit"), _UNIT_M)
            if found is not None:
                return found
    return _quantity(elem.get("totalDistance"), elem.get("totalDistanceUnit"), _UNIT_M)


# ------------------------------------------------------------ workouts -> activities


def hr_time_weighted(
    time_s: np.ndarray, bpm: np.ndarray, end_s: float
) -> tuple[float | None, float | None]:
    """(mean, max) of HR records, each held until the next (at most 10 s)."""
    if time_s.size == 0:
        return None, None
    hold = np.minimum(np.diff(np.append(time_s, max(end_s, time_s[-1]))), HR_HOLD_S)
    total = float(hold.sum())
    mean = float(np.dot(bpm, hold) / total) if total > 0 else float(bpm.mean())
    return mean, float(bpm.max())


def workout_steps(scan: ExportScan, workout: Workout) -> float:
    """Steps inside the workout: its own source's records, pro-rated at the edges.

    Phone and watch both count steps; adding them would count each step twice,
    so only one source is used: the workout's own, else the one with most steps.
    """
    start, end = workout.start_utc, workout.end_utc
    lo = int(np.searchsorted(scan.step_start, start - scan.longest_step_s, "left"))
    hi = int(np.searchsorted(scan.step_start, end, "right"))
    a, b = scan.step_start[lo:hi], scan.step_end[lo:hi]
    overlap = np.clip(np.minimum(b, end) - np.maximum(a, start), 0.0, None)
    span = b - a
    instant = (span <= 0) & (a >= start) & (a <= end)
    share = np.where(span > 0, overlap / np.where(span > 0, span, 1.0), instant)
    inside = share > 0
    if not inside.any():
        return 0.0
    steps = scan.step_count[lo:hi] * share
    own = [i for i, s in enumerate(scan.step_sources) if s == workout.source_name]
    totals = np.bincount(
        scan.step_source[lo:hi][inside],
        weights=steps[inside],
        minlength=len(scan.step_sources),
    )
    pick = own[0] if own and totals[own[0]] > 0 else int(np.argmax(totals))
    return float(totals[pick])


def to_activity(
    scan: ExportScan,
    workout: Workout,
    read_route: Callable[[str], bytes | None],
) -> RawActivity:
    """The RawActivity of one workout; ``read_route(path)`` gives a route's bytes."""
    lo = np.searchsorted(scan.hr_time, workout.start_utc, side="left")
    hi = np.searchsorted(scan.hr_time, workout.end_utc, side="right")
    hr_t, hr_v = scan.hr_time[lo:hi], scan.hr_bpm[lo:hi]
    avg_hr, max_hr = hr_time_weighted(hr_t, hr_v, workout.end_utc)
    elapsed = workout.end_utc - workout.start_utc
    moving = workout.duration_s if workout.duration_s else elapsed
    notes: list[str] = []
    samples = _route_samples(workout, read_route, notes)
    if samples is None:
        times = hr_t if hr_t.size else np.array([workout.start_utc, workout.end_utc])
        samples = {"time_s": times.astype(np.float64)}
        if workout.distance_m and moving > 0:
            samples["speed_mps"] = np.full(times.size, workout.distance_m / moving)
    times = samples["time_s"]
    samples["heart_rate_bpm"] = _held(hr_t, hr_v, times)
    steps = (
        workout_steps(scan, workout) if workout.sport in ("running", "walking") else 0
    )
    if steps > 0 and moving > 0:
        samples["cadence_raw"] = np.full(times.size, steps / (moving / 60.0))
    sub = None
    if workout.indoor:
        sub = "treadmill" if workout.sport == "running" else "indoor"
    return RawActivity(
        format="apple",
        samples=samples,
        sport=None,
        sub_sport=sub,
        start_utc=workout.start_utc,
        total_distance_m=workout.distance_m,
        total_elapsed_s=elapsed,
        total_timer_s=workout.duration_s,
        avg_hr=avg_hr,
        max_hr=max_hr,
        device=workout.source_name,
        utc_offset_s=workout.utc_offset_s,
        index=workout.index,
        notes=notes,
        export_sport=workout.sport,
        name=fitness_name(workout),
        rpe=workout_rpe(scan, workout),
    )


def fitness_name(workout: Workout) -> str:
    """The workout's title as Apple's Fitness app shows it ("Outdoor Run", ...)."""
    if "Hiking" in workout.activity_type:
        return "Hike"
    if workout.sport == "swimming":
        return {"1": "Pool Swim", "2": "Open Water Swim"}.get(
            workout.swim_location or "", "Swim"
        )
    place = "Indoor" if workout.indoor else "Outdoor"
    kind = {"running": "Run", "walking": "Walk", "cycling": "Cycle"}
    return f"{place} {kind.get(workout.sport, workout.sport.title())}"


def _held(hr_t: np.ndarray, hr_v: np.ndarray, times: np.ndarray) -> np.ndarray:
    """HR at each time: the last record at or before it, if at most 10 s old."""
    out = np.full(times.size, np.nan)
    if hr_t.size == 0:
        return out
    idx = np.searchsorted(hr_t, times, side="right") - 1
    ok = idx >= 0
    age = np.where(ok, times - hr_t[np.clip(idx, 0, None)], np.inf)
    ok &= age <= HR_HOLD_S
    out[ok] = hr_v[idx[ok]]
    return out


def _route_samples(
    workout: Workout, read_route: Callable[[str], bytes | None], notes: list[str]
) -> dict[str, np.ndarray] | None:
    """Samples of the workout's route GPX (within its span), or None."""
    from kneeload.io.gpx import parse_gpx

    for path in workout.routes:
        data = read_route(path)
        if data is None:
            notes.append(f"route {path} is not in the export")
            continue
        try:
            tracks = parse_gpx(data, path)
        except ActivityFileError as exc:
            notes.append(f"route {path}: {exc.reason}")
            continue
        samples = tracks[0].samples
        t = samples["time_s"]
        keep = (t >= workout.start_utc - ROUTE_MARGIN_S) & (
            t <= workout.end_utc + ROUTE_MARGIN_S
        )
        if keep.sum() >= 2:
            return {k: np.asarray(v)[keep] for k, v in samples.items()}
    return None
