"""Canonical shapes every stage agrees on: parser output, activity rows, sample columns.

Only ``kneeload/io/*`` knows file formats. Each reader returns ``RawActivity``
objects: the file's own summary values (``None`` where the file has none) and the
per-record samples as a dict of equal-length float64 numpy arrays. ``summarise``
(kneeload.summary) turns one ``RawActivity`` into one canonical ``Activity``.

Units are SI and carried in the names: seconds, metres, m/s, bpm. Times are UTC
epoch seconds (float64) inside the library; JSON shows ISO 8601 with ``Z``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Per-record columns a reader may fill. Missing values are NaN; a reader leaves a
#: column out entirely when the file never has it.
#: ``cadence_raw`` is the cadence as the file stores it (FIT: cadence +
#: fractional_cadence, per leg for running; GPX/TCX: whatever the writer put);
#: ``summarise`` decides the unit and produces ``cadence_spm`` (steps/min).
#: ``segment`` numbers GPX track segments / TCX tracks; distance is never summed
#: across a segment break.
SAMPLE_FIELDS: tuple[str, ...] = (
    "time_s",
    "distance_m",
    "speed_mps",
    "altitude_m",
    "heart_rate_bpm",
    "cadence_raw",
    "lat_deg",
    "lon_deg",
    "segment",
)

#: Canonical sample columns after ``summarise`` (cadence converted to steps/min).
CANONICAL_SAMPLE_FIELDS: tuple[str, ...] = (
    "time_s",
    "distance_m",
    "speed_mps",
    "altitude_m",
    "heart_rate_bpm",
    "cadence_spm",
    "lat_deg",
    "lon_deg",
)

#: Sample columns kept in the store. Positions are used while reading (time zone,
#: GPS distance) but not kept: no analysis needs them, the store stays smaller,
#: and it holds no map of where the runner lives.
STORED_SAMPLE_FIELDS: tuple[str, ...] = tuple(
    f for f in CANONICAL_SAMPLE_FIELDS if f not in ("lat_deg", "lon_deg")
)

SPORTS: tuple[str, ...] = ("running", "walking", "cycling", "swimming", "other")

Samples = dict[str, np.ndarray]


@dataclass
class RawActivity:
    """One activity as a reader found it, before any unit decisions."""

    format: str  # "fit" | "gpx" | "tcx"
    samples: Samples
    sport: str | None = None  # as the file names it (FIT enum, TCX Sport, GPX type)
    sub_sport: str | None = None
    start_utc: float | None = None  # epoch s; the file's own start if any
    total_distance_m: float | None = None  # the file's own summary distance
    total_elapsed_s: float | None = None
    total_timer_s: float | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    ascent_m: float | None = None
    descent_m: float | None = None
    device: str | None = None  # "manufacturer/product" (FIT) or creator (GPX/TCX)
    utc_offset_s: float | None = None  # local time minus UTC, when the file says
    partial: str | None = None  # why only part of the file could be read
    index: int = 0  # position of this activity inside its file
    relative_time: bool = False  # FIT timestamps relative to power-on: no calendar date
    notes: list[str] = field(default_factory=list)
    name: str | None = None  # the activity's title (file or export metadata)
    gear: str | None = None  # shoes (or bike) named by the export
    rpe: float | None = None  # perceived exertion, CR-10 (1-10), from the export
    export_sport: str | None = None  # one of SPORTS, from the export's metadata


@dataclass
class Activity:
    """One canonical activity: the row shown by ``kneeload activities``."""

    source: str
    format: str
    sport: str
    sub_sport: str | None
    start_utc: float
    local_date: str  # YYYY-MM-DD in the runner's local calendar
    utc_offset_s: float | None
    tz_source: str  # "file" | "position" | "config"
    elapsed_s: float
    moving_s: float
    distance_m: float | None
    distance_source: str  # "summary" | "records" | "haversine" | "none"
    ascent_m: float | None
    descent_m: float | None
    avg_hr: float | None
    max_hr: float | None
    cadence_spm: float | None
    cadence_source: str | None
    step_length_m: float | None
    device: str | None
    partial: str | None
    n_samples: int
    richness: int  # how many data channels the source carries; dedupe keeps the richest
    #: seconds spent at each whole bpm 0..255 (time-weighted, gaps capped at 10 s);
    #: TRIMP and high-intensity minutes for any HR max/rest/sex come from this
    #: without re-reading files.
    hr_hist: np.ndarray | None = None
    #: steady segments (RULES §6.2): dicts with start_s, duration_s, speed_mps,
    #: cadence_spm, grade; used by the cadence and step-length rules.
    steady_segments: list[dict[str, float]] = field(default_factory=list)
    downhill_s: float = 0.0  # moving seconds at grade < -5 %
    #: where ``sport`` comes from: "file", "export", "inferred: <evidence>", "runner"
    sport_source: str = "file"
    id: str = ""  # stable content id, filled by the store


def iso_utc(epoch_s: float | None) -> str | None:
    """Format epoch seconds as ISO 8601 UTC with a ``Z`` suffix."""
    if epoch_s is None:
        return None
    ts = np.datetime64(round(epoch_s * 1000), "ms")
    text = np.datetime_as_string(ts, unit="s")
    return f"{text}Z"


def _round(value: float | None, ndigits: int) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), ndigits)
