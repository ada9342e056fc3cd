"""GPX reader: one RawActivity per ``<trk>`` that holds track points.

Streaming: elements are handled on their "end" event and cleared at once, so
memory stays flat. Tags are matched by local name, so GPX 1.0 and 1.1 and any
extension namespace version or prefix work alike.

Heart rate and cadence come from ``<extensions>``: Garmin's TrackPointExtension
(``hr``/``cad``), the cluetrust ``gpxdata`` names and the plain ``<heartrate>``/
``<cadence>`` some writers use. The first value found in a point wins, so a
point never contributes two heart rates (Huami Amazfit writes both
``<heartrate>`` and ``ns3:TrackPointExtension/ns3:hr`` with the same value).

``RawActivity.index`` is the position of the ``<trk>`` among all tracks of the
file (empty tracks are skipped but still counted, so indexes stay stable). A
track whose points carry no ``<time>`` is still returned, with ``start_utc``
None and a note; ``summarise`` decides whether it can be used.

GPX has no summary distance; ``distance_m`` is the cumulative haversine over the
points, restarted from the running total -- never bridged -- at each ``<trkseg>``
break. gpxpy (a slower pure-Python parser) serves as the reference in the tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kneeload.errors import NotAnActivityError
from kneeload.io._gpxfast import FastTrack, fast_tracks
from kneeload.io._xml import (
    Recovery,
    add_column,
    child_text,
    cumulative_distance,
    epoch_seconds,
    first_last,
    floats,
    local_name,
    plainly_without_dtd,
    read_xml,
    speed_from_distance,
    to_float,
)
from kneeload.schema import RawActivity

HR_TAGS = frozenset({"hr", "heartrate"})
CADENCE_TAGS = frozenset({"cad", "cadence"})


class _Track:
    """Texts collected for one ``<trk>``; numbers are parsed once, vectorised."""

    def __init__(self) -> None:
        self.times: list[str | None] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.ele: list[str | None] = []
        self.hr: list[str | None] = []
        self.cad: list[str | None] = []
        self.segment: list[int] = []
        self.n_segments = 0


class _GpxHandler:
    """Collects finished tracks from a stream of "end" elements."""

    def __init__(self) -> None:
        self.tracks: list[tuple[int, str | None, _Track]] = []
        self.creator: str | None = None
        self.n_trk = 0
        self.current = _Track()

    def end(self, elem: Any) -> None:
        """Handle one finished element."""
        local = local_name(elem.tag)
        if local == "trkpt":
            self._point(elem)
            elem.clear()
        elif local == "trkseg":
            self.current.n_segments += 1
            elem.clear()
        elif local == "trk":
            if self.current.times:
                self.tracks.append((self.n_trk, child_text(elem, "type"), self.current))
            self.current = _Track()
            self.n_trk += 1
            elem.clear()
        elif local in ("wpt", "rte"):
            elem.clear()
        elif local == "gpx":
            self.creator = elem.get("creator")

    def _point(self, elem: Any) -> None:
        trk = self.current
        time = ele = hr = cad = None
        for child in elem:
            local = local_name(child.tag) if isinstance(child.tag, str) else ""
            if local == "time":
                time = child.text
            elif local == "ele":
                ele = child.text
            elif local == "extensions":
                hr, cad = _extension_values(child)
        trk.times.append(time)
        trk.lat.append(to_float(elem.get("lat")))
        trk.lon.append(to_float(elem.get("lon")))
        trk.ele.append(ele)
        trk.hr.append(hr)
        trk.cad.append(cad)
        trk.segment.append(trk.n_segments)


def _extension_values(ext: Any) -> tuple[str | None, str | None]:
    """First heart rate and first cadence text anywhere under ``<extensions>``."""
    hr = cad = None
    for sub in ext.iter():
        if not isinstance(sub.tag, str) or not sub.text:
            continue
        local = local_name(sub.tag).lower()
        if hr is None and local in HR_TAGS:
            hr = sub.text
        elif cad is None and local in CADENCE_TAGS:
            cad = sub.text
    return hr, cad


def parse_gpx(data: bytes, name: str) -> list[RawActivity]:
    """Parse GPX bytes into one RawActivity per track that has points."""
    fast = fast_tracks(data) if plainly_without_dtd(data) else None
    tracks: list[tuple[int, str | None, _Track | FastTrack]]
    recovery: Recovery | None = None
    if fast is not None:
        tracks, creator = list(fast[0]), fast[1]
    else:
        handler, recovery = read_xml(data, name, _GpxHandler)
        tracks, creator = list(handler.tracks), handler.creator
    if not tracks:
        raise NotAnActivityError(name, "no track points")
    return [
        _activity(index, sport, trk, creator, recovery) for index, sport, trk in tracks
    ]


def _activity(
    index: int,
    sport: str | None,
    trk: _Track | FastTrack,
    creator: str | None,
    recovery: Recovery | None,
) -> RawActivity:
    """Build the RawActivity of one track."""
    time_s = epoch_seconds(trk.times)
    lat = np.asarray(trk.lat, dtype=np.float64)
    lon = np.asarray(trk.lon, dtype=np.float64)
    segment = np.asarray(trk.segment, dtype=np.float64)
    distance = cumulative_distance(lat, lon, segment)
    samples: dict[str, np.ndarray] = {"time_s": time_s, "segment": segment}
    add_column(samples, "lat_deg", lat)
    add_column(samples, "lon_deg", lon)
    add_column(samples, "distance_m", distance)
    add_column(samples, "speed_mps", speed_from_distance(distance, time_s, segment))
    add_column(samples, "altitude_m", floats(trk.ele))
    add_column(samples, "heart_rate_bpm", floats(trk.hr))
    add_column(samples, "cadence_raw", floats(trk.cad))
    span = first_last(time_s)
    raw = RawActivity(
        format="gpx",
        samples=samples,
        sport=sport.strip() if sport and sport.strip() else None,
        start_utc=span[0] if span else None,
        total_elapsed_s=span[1] - span[0] if span else None,
        device=creator,
        index=index,
    )
    untimed = int(np.isnan(time_s).sum())
    if untimed:
        raw.notes.append(f"{untimed} of {time_s.size} track points have no <time>")
    if recovery is not None:
        raw.notes.append(recovery.note())
        raw.partial = recovery.partial()
    return raw
