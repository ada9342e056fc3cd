"""Canonical shapes every stage agrees on: parser output, activity rows, sample columns.

Only ``kneeload/io/*`` knows file formats. Each reader returns ``RawActivity``
objects: the file's own summary values (``None`` where the file has none) and the
per-record samples as a dict of equal-length float64 numpy arrays. ``summarise``
(kneeload.summary) turns one ``RawActivity`` into one canonical ``Activity``.

Units are SI and carried in the names: seconds, metres, m/s, bpm. Times are UTC
epoch seconds (float64) inside the library; JSON shows ISO 8601 with ``Z``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

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
    name: str | None = None  # the activity's own title (file or export)
    gear: str | None = None  # shoe name from the export, if any
    rpe: float | None = None  # perceived exertion, CR-10 (1-10), from the export
    export_sport: str | None = None  # one of SPORTS, from the export's own metadata


def _col(
    sql: str, json: str | None = None, *, column: str | None = None
) -> dict[str, str | None]:
    """Field metadata: the store column type and the ``activities --json`` kind.

    ``json`` is ``"text"``, ``"number"``, ``"utc"`` (ISO 8601 Z), ``"date"``
    (YYYY-MM-DD) or None when the field is not part of the JSON row; ``column``
    names the store column when it differs from the field (encoded values).
    """
    return {"sql": sql, "json": json, "column": column}


@dataclass
class Activity:
    """One canonical activity: the row shown by ``kneeload activities``.

    This is the one declaration of the activity row: the store's ``activities``
    columns and SQL types (``activity_columns``), the History frame's typed columns
    and the ``activities --json`` fields all come from the field metadata here.
    """

    source: str = field(metadata=_col("TEXT NOT NULL", "text"))
    format: str = field(metadata=_col("TEXT NOT NULL", "text"))
    sport: str = field(metadata=_col("TEXT NOT NULL", "text"))
    sub_sport: str | None = field(metadata=_col("TEXT", "text"))
    start_utc: float = field(metadata=_col("REAL NOT NULL", "utc"))
    #: YYYY-MM-DD in the runner's local calendar
    local_date: str = field(metadata=_col("TEXT NOT NULL", "date"))
    utc_offset_s: float | None = field(metadata=_col("REAL"))
    #: "file" | "position" | "config"
    tz_source: str = field(metadata=_col("TEXT", "text"))
    elapsed_s: float = field(metadata=_col("REAL", "number"))
    moving_s: float = field(metadata=_col("REAL", "number"))
    distance_m: float | None = field(metadata=_col("REAL", "number"))
    #: "summary" | "records" | "haversine" | "none"
    distance_source: str = field(metadata=_col("TEXT", "text"))
    ascent_m: float | None = field(metadata=_col("REAL", "number"))
    descent_m: float | None = field(metadata=_col("REAL", "number"))
    avg_hr: float | None = field(metadata=_col("REAL", "number"))
    max_hr: float | None = field(metadata=_col("REAL", "number"))
    cadence_spm: float | None = field(metadata=_col("REAL", "number"))
    cadence_source: str | None = field(metadata=_col("TEXT", "text"))
    step_length_m: float | None = field(metadata=_col("REAL", "number"))
    device: str | None = field(metadata=_col("TEXT", "text"))
    #: why only part of the file could be read (JSON: ``partial`` bool + reason)
    partial: str | None = field(metadata=_col("TEXT"))
    n_samples: int = field(metadata=_col("INTEGER"))
    #: how many data channels the source carries; dedupe keeps the richest
    richness: int = field(metadata=_col("INTEGER"))
    #: seconds spent at each whole bpm 0..255 (time-weighted, gaps capped at 10 s);
    #: TRIMP and high-intensity minutes for any HR max/rest/sex come from this
    #: without re-reading files.
    hr_hist: np.ndarray | None = field(default=None, metadata=_col("BLOB"))
    #: steady segments (RULES §6.2): dicts with start_s, duration_s, speed_mps,
    #: cadence_spm, grade; used by the cadence and step-length rules (stored as
    #: JSON text).
    steady_segments: list[dict[str, float]] = field(
        default_factory=list, metadata=_col("TEXT", column="steady_json")
    )
    #: moving seconds at grade < -5 %
    downhill_s: float = field(default=0.0, metadata=_col("REAL"))
    #: highest 30-s rolling median of HR (RULES §1.5), the HR-max evidence
    hr_peak30: float | None = field(default=None, metadata=_col("REAL"))
    #: the activity's title, from the file or the export
    name: str | None = field(default=None, metadata=_col("TEXT", "text"))
    #: shoe name from the export, or None
    gear: str | None = field(default=None, metadata=_col("TEXT", "text"))
    #: session RPE, CR-10 (1-10), from the export
    rpe: float | None = field(default=None, metadata=_col("REAL", "number"))
    #: "file" | "export" | "inferred: <evidence>" | "runner" (RULES §1.4)
    sport_source: str = field(
        default="file", metadata=_col("TEXT NOT NULL DEFAULT 'file'", "text")
    )
    #: why the activity cannot be what it claims (RULES §1.5), else None
    suspect: str | None = field(default=None, metadata=_col("TEXT", "text"))
    #: stable content id, filled by the store
    id: str = field(default="", metadata=_col("TEXT PRIMARY KEY", "text"))


@dataclass(frozen=True)
class Column:
    """One field of the activity row: its name, store column, SQL type, JSON kind."""

    name: str
    column: str
    sql: str
    json: str | None


def activity_columns() -> tuple[Column, ...]:
    """The activity row's columns in declaration order (id first)."""
    cols = [
        Column(
            f.name,
            f.metadata["column"] or f.name,
            str(f.metadata["sql"]),
            f.metadata["json"],
        )
        for f in fields(Activity)
    ]
    return tuple(sorted(cols, key=lambda c: c.name != "id"))


#: Activity level plausibility limits (RULES §1.5).
MAX_RUN_SPEED_MPS = 7.0
MAX_RUN_DISTANCE_M = 300_000.0
MAX_RUN_ELAPSED_S = 30 * 3600.0
FUTURE_SLACK_S = 86_400.0


def activity_suspect(act: Activity, *, now_utc: float) -> str | None:
    """Why ``act`` cannot be what it claims (RULES §1.5 activity level), or None."""
    return suspect_reason(
        sport=act.sport,
        start_utc=act.start_utc,
        elapsed_s=act.elapsed_s,
        moving_s=act.moving_s,
        distance_m=act.distance_m,
        now_utc=now_utc,
    )


def suspect_reason(
    *,
    sport: str,
    start_utc: float,
    elapsed_s: float | None,
    moving_s: float | None,
    distance_m: float | None,
    now_utc: float,
) -> str | None:
    """The activity-level plausibility check of RULES §1.5 on plain values."""
    reasons = []
    if not elapsed_s or elapsed_s <= 0:
        reasons.append("zero or negative elapsed time")
    if distance_m is not None and distance_m <= 0:
        reasons.append("zero or negative distance")
    if start_utc > now_utc + FUTURE_SLACK_S:
        reasons.append(f"starts in the future ({iso_utc(start_utc)})")
    if sport == "running":
        dist = distance_m or 0.0
        moving = moving_s or elapsed_s or 0.0
        if dist > MAX_RUN_DISTANCE_M:
            reasons.append(f"a run of {dist / 1000:,.0f} km (limit 300 km)")
        if elapsed_s and elapsed_s > MAX_RUN_ELAPSED_S:
            reasons.append(f"a run of {elapsed_s / 3600:,.1f} h (limit 30 h)")
        if moving > 0 and dist / moving > MAX_RUN_SPEED_MPS:
            reasons.append(
                f"average running speed {dist / moving:,.1f} m/s (limit 7 m/s)"
            )
    return "; ".join(reasons) or None


def iso_utc(epoch_s: float | None) -> str | None:
    """Format epoch seconds as ISO 8601 UTC with a ``Z`` suffix."""
    if epoch_s is None:
        return None
    ts = np.datetime64(round(epoch_s * 1000), "ms")
    text = np.datetime_as_string(ts, unit="s")
    return f"{text}Z"
