"""TCX reader: one RawActivity per ``<Activity>`` (multisport files hold several).

Streaming like the GPX reader: trackpoints are read on their "end" event and
cleared; laps are summarised and cleared when they end. Tags are matched by
local name (``ns3:RunCadence``, a default-namespace ``<TPX>``, or no namespace
at all in hand-edited files).

Summary values come from the laps: distance and timer time are lap sums, average
heart rate is lap averages weighted by lap time, max heart rate the lap maximum.
``start_utc`` is the first lap's StartTime (the Activity Id when no lap has one);
``total_elapsed_s`` runs from there to the last timed trackpoint. ``segment``
numbers the ``<Track>`` elements inside the activity. ``cadence_raw`` is the
trackpoint ``<Cadence>``, else the TPX ``<RunCadence>``, as written.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kneeload.errors import NotAnActivityError
from kneeload.io._xml import (
    Recovery,
    add_column,
    child_text,
    epoch_seconds,
    first_last,
    local_name,
    read_xml,
    to_float,
    value_text,
)
from kneeload.schema import RawActivity

#: trackpoint child -> sample column, for the plain numeric children
_POINT_FIELDS = {
    "AltitudeMeters": "altitude_m",
    "DistanceMeters": "distance_m",
    "Cadence": "cadence_raw",
}
_COLUMNS = (
    "time_s",
    "lat_deg",
    "lon_deg",
    "altitude_m",
    "distance_m",
    "heart_rate_bpm",
    "cadence_raw",
    "speed_mps",
)


class _ActivityState:
    """Values collected inside one ``<Activity>``."""

    def __init__(self) -> None:
        self.times: list[str | None] = []
        self.values: dict[str, list[float]] = {k: [] for k in _COLUMNS[1:]}
        self.segment: list[int] = []
        self.n_tracks = 0
        self.laps: list[dict[str, Any]] = []


class _TcxHandler:
    """Collects finished activities from a stream of "end" elements."""

    def __init__(self) -> None:
        self.activities: list[tuple[_ActivityState, Any]] = []
        self.current = _ActivityState()

    def end(self, elem: Any) -> None:
        """Handle one finished element."""
        local = local_name(elem.tag)
        if local == "Trackpoint":
            self._point(elem)
            elem.clear()
        elif local == "Track":
            self.current.n_tracks += 1
            elem.clear()
        elif local == "Lap":
            self.current.laps.append(_lap_summary(elem))
            elem.clear()
        elif local == "Activity":
            self.activities.append((self.current, _activity_header(elem)))
            self.current = _ActivityState()
            elem.clear()
        elif local in ("Course", "Workout"):
            self.current = _ActivityState()  # their tracks are plans, not activities
            elem.clear()

    def _point(self, elem: Any) -> None:
        row = dict.fromkeys(_COLUMNS[1:], math.nan)
        time = None
        for child in elem:
            if not isinstance(child.tag, str):
                continue
            local = local_name(child.tag)
            if local == "Time":
                time = child.text
            elif local == "Position":
                row["lat_deg"] = to_float(child_text(child, "LatitudeDegrees"))
                row["lon_deg"] = to_float(child_text(child, "LongitudeDegrees"))
            elif local == "HeartRateBpm":
                row["heart_rate_bpm"] = to_float(value_text(child))
            elif local in _POINT_FIELDS:
                row[_POINT_FIELDS[local]] = to_float(child.text)
            elif local == "Extensions":
                _extension_values(child, row)
        state = self.current
        state.times.append(time)
        for key, value in row.items():
            state.values[key].append(value)
        state.segment.append(state.n_tracks)


def _extension_values(ext: Any, row: dict[str, float]) -> None:
    """Fill speed and (if the point had no <Cadence>) RunCadence from TPX."""
    for sub in ext.iter():
        if not isinstance(sub.tag, str):
            continue
        local = local_name(sub.tag)
        if local == "Speed" and math.isnan(row["speed_mps"]):
            row["speed_mps"] = to_float(sub.text)
        elif local == "RunCadence" and math.isnan(row["cadence_raw"]):
            row["cadence_raw"] = to_float(sub.text)


def _lap_summary(lap: Any) -> dict[str, Any]:
    """StartTime, time, distance and heart rates of one lap (direct children only)."""
    out: dict[str, Any] = {"start": lap.get("StartTime")}
    for child in lap:
        if not isinstance(child.tag, str):
            continue
        local = local_name(child.tag)
        if local == "TotalTimeSeconds":
            out["time"] = to_float(child.text)
        elif local == "DistanceMeters":
            out["distance"] = to_float(child.text)
        elif local == "AverageHeartRateBpm":
            out["avg_hr"] = to_float(value_text(child))
        elif local == "MaximumHeartRateBpm":
            out["max_hr"] = to_float(value_text(child))
    return out


def _activity_header(act: Any) -> dict[str, str | None]:
    """Sport, Id and device name of an ``<Activity>`` element."""
    device = None
    for child in act:
        if isinstance(child.tag, str) and local_name(child.tag) == "Creator":
            device = _device(child)
    return {"sport": act.get("Sport"), "id": child_text(act, "Id"), "device": device}


def _device(creator: Any) -> str | None:
    """``Name (ProductID n)`` as MANIFEST.tsv and most tools show it."""
    name = (child_text(creator, "Name") or "").strip()
    product = (child_text(creator, "ProductID") or "").strip()
    if name and product:
        return f"{name} (ProductID {product})"
    return name or None


def parse_tcx(data: bytes, name: str) -> list[RawActivity]:
    """Parse TCX bytes into one RawActivity per ``<Activity>``."""
    handler, recovery = read_xml(data, name, _TcxHandler)
    acts = [
        _activity(index, state, header, recovery)
        for index, (state, header) in enumerate(handler.activities)
        if state.times or state.laps  # an <Activity> with only an Id holds nothing
    ]
    if not acts:
        raise NotAnActivityError(name, "no <Activity> with laps or trackpoints")
    return acts


def _activity(
    index: int,
    state: _ActivityState,
    header: dict[str, str | None],
    recovery: Recovery | None,
) -> RawActivity:
    """Build the RawActivity of one ``<Activity>``."""
    time_s = epoch_seconds(state.times)
    samples: dict[str, np.ndarray] = {
        "time_s": time_s,
        "segment": np.asarray(state.segment, dtype=np.float64),
    }
    for key, values in state.values.items():
        add_column(samples, key, np.asarray(values, dtype=np.float64))
    starts = [lap["start"] for lap in state.laps if lap["start"]] or [header["id"]]
    start = first_last(epoch_seconds(starts[:1]))
    span = first_last(time_s)
    start_utc = start[0] if start else (span[0] if span else None)
    raw = RawActivity(
        format="tcx",
        samples=samples,
        sport=header["sport"],
        start_utc=start_utc,
        total_elapsed_s=span[1] - start_utc if span and start_utc is not None else None,
        device=header["device"],
        index=index,
    )
    _lap_totals(raw, state.laps)
    if recovery is not None:
        raw.notes.append(recovery.note())
        raw.partial = recovery.partial()
    return raw


def _lap_totals(raw: RawActivity, laps: list[dict[str, Any]]) -> None:
    """Distance and timer sums, time-weighted average HR and max HR from the laps."""
    dist = [
        lap["distance"] for lap in laps if math.isfinite(lap.get("distance", math.nan))
    ]
    timer = [lap["time"] for lap in laps if math.isfinite(lap.get("time", math.nan))]
    raw.total_distance_m = float(sum(dist)) if dist else None
    raw.total_timer_s = float(sum(timer)) if timer else None
    hr = [
        (lap["avg_hr"], lap.get("time", math.nan))
        for lap in laps
        if math.isfinite(lap.get("avg_hr", math.nan))
    ]
    weights = [t for _, t in hr]
    if hr and all(math.isfinite(t) for t in weights) and sum(weights) > 0:
        raw.avg_hr = sum(h * t for h, t in hr) / sum(weights)
    elif hr:
        raw.avg_hr = sum(h for h, _ in hr) / len(hr)
    peaks = [
        lap["max_hr"] for lap in laps if math.isfinite(lap.get("max_hr", math.nan))
    ]
    raw.max_hr = max(peaks) if peaks else None
