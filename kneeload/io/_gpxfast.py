"""Vectorised GPX fast path: lxml builds the tree in C, XPath pulls whole columns.

The streaming reader in ``gpx.py`` calls Python code for every element (~70 ms
for a one-hour 1 Hz file). Most GPX files are regular: every point has the same
children. For those, one XPath per column returns all values as strings and
numpy converts them (~30 ms). The fast path only answers when it can prove it
saw everything: the number of elements below the points must equal the number
of elements it extracted, so a point with an unexpected child (``<speed>``,
``<hdop>``, a second heart-rate tag...) sends the file back to the streaming
reader. It is used only for documents proven free of any DTD (so no entities),
parsed with entity resolution and network access off; any parse error also
falls back, to the streaming reader and its recovery.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lxml import etree

#: Extension namespaces whose ``hr``/``cad`` children hold heart rate and cadence.
TPX_NAMESPACES = (
    "http://www.garmin.com/xmlschemas/TrackPointExtension/v1",
    "http://www.garmin.com/xmlschemas/TrackPointExtension/v2",
)
GPX_NAMESPACES = (
    "http://www.topografix.com/GPX/1/1",
    "http://www.topografix.com/GPX/1/0",
)

#: lxml's tree costs ~10x the document in memory; larger files stream instead.
FAST_PATH_MAX_BYTES = 16 * 2**20

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


class FastTrack:
    """Columns of one ``<trk>`` as the streaming reader's ``_Track`` holds them."""

    def __init__(self, columns: dict[str, Any], segment: np.ndarray) -> None:
        n = segment.size
        self.times: list[str | None] = columns["time"]
        self.lat = _numbers(columns["lat"], n)
        self.lon = _numbers(columns["lon"], n)
        self.ele = _numbers(columns.get("ele"), n)
        self.hr = _numbers(columns.get("hr"), n)
        self.cad = _numbers(columns.get("cad"), n)
        self.segment = segment


def _numbers(texts: list[str] | None, n: int) -> np.ndarray:
    """float64 column from XML texts; all NaN when absent, NaN for junk values."""
    if texts is None:
        return np.full(n, np.nan)
    try:
        return np.asarray(texts, dtype=np.float64)
    except ValueError:
        out = np.full(n, np.nan)
        for i, text in enumerate(texts):
            try:
                out[i] = float(text)
            except ValueError:
                continue
        return out


def fast_tracks(
    data: bytes,
) -> tuple[list[tuple[int, str | None, FastTrack]], str | None] | None:
    """Tracks of a regular GPX document, or None when the streaming path must run."""
    if len(data) > FAST_PATH_MAX_BYTES:
        return None
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None
    ns = etree.QName(root).namespace
    if etree.QName(root).localname != "gpx" or ns not in GPX_NAMESPACES:
        return None
    names = {"g": ns}
    tracks = []
    for index, trk in enumerate(root.iterfind("g:trk", names)):
        columns = _track_columns(trk, names)
        if columns is None:
            return None
        if columns == {}:
            continue  # a track without points: skipped, its index still counted
        counts = [
            int(seg.xpath("count(g:trkpt)", namespaces=names))
            for seg in trk.iterfind("g:trkseg", names)
        ]
        segment = np.repeat(np.arange(len(counts), dtype=np.float64), counts)
        if segment.size != len(columns["lat"]):
            return None
        kind = trk.findtext("g:type", namespaces=names)
        tracks.append((index, kind, FastTrack(columns, segment)))
    return tracks, root.get("creator")


def _track_columns(trk: Any, names: dict[str, str]) -> dict[str, Any] | None:
    """Every column of one track, {} when it has no points, None when irregular."""
    pts = "g:trkseg/g:trkpt"

    def strings(path: str, extra: dict[str, str] | None = None) -> list[str]:
        return trk.xpath(
            f"{pts}/{path}", namespaces={**names, **(extra or {})}, smart_strings=False
        )

    lat = strings("@lat")
    n = len(lat)
    if n == 0:
        return {}
    columns: dict[str, Any] = {"lat": lat, "lon": strings("@lon")}
    seen = 0
    for key in ("time", "ele"):
        values = strings(f"g:{key}/text()")
        if len(values) not in (0, n):
            return None
        seen += len(values)
        columns[key] = values or None
    extensions = int(trk.xpath(f"count({pts}/g:extensions)", namespaces=names))
    if extensions not in (0, n):
        return None
    seen += extensions
    if extensions:
        found = _tpx_columns(trk, pts, names, strings, n)
        if found is None:
            return None
        columns.update(found[0])
        seen += found[1]
    below = _elements_below(trk, pts, names)
    anywhere = int(trk.xpath("count(.//g:trkpt)", namespaces=names))
    if below != seen or anywhere != n or columns["time"] is None:
        return None
    if len(columns["lon"]) != n:
        return None
    return columns


def _elements_below(trk: Any, pts: str, names: dict[str, str]) -> int:
    """Elements under the points, counted level by level (``//*`` is quadratic)."""
    total, path = 0, pts
    for _ in range(4):
        path += "/*"
        level = int(trk.xpath(f"count({path})", namespaces=names))
        if level == 0:
            return total
        total += level
    return -1  # deeper than any layout we extract: never matches


def _tpx_columns(
    trk: Any, pts: str, names: dict[str, str], strings: Any, n: int
) -> tuple[dict[str, Any], int] | None:
    """hr/cad from a Garmin TrackPointExtension on every point, and elements seen."""
    for uri in TPX_NAMESPACES:
        extra = {"x": uri}
        containers = int(
            trk.xpath(
                f"count({pts}/g:extensions/x:TrackPointExtension)",
                namespaces={**names, **extra},
            )
        )
        if containers == 0:
            continue
        if containers != n:
            return None
        out: dict[str, Any] = {}
        seen = n
        for key in ("hr", "cad"):
            values = strings(
                f"g:extensions/x:TrackPointExtension/x:{key}/text()", extra
            )
            if len(values) not in (0, n):
                return None
            out[key] = values or None
            seen += len(values)
        return out, seen
    return None
