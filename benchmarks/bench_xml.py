"""Benchmark: ms to read a one-hour 1 Hz GPX with kneeload's reader vs gpxpy.

Run: ``python benchmarks/bench_xml.py [--rounds N]``. The file is generated here
(Garmin Connect layout: ele, time, TrackPointExtension hr/cad per point), so the
numbers do not depend on the shared test files. Reports the median over rounds;
the bare stdlib ``iterparse`` row is the floor any ElementTree reader pays.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import gpxpy

from kneeload.io.gpx import parse_gpx
from kneeload.io.tcx import parse_tcx

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx creator="bench" version="1.1" xmlns="http://www.topografix.com/GPX/1/1"'
    ' xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
    "<trk><type>running</type><trkseg>\n"
)
POINT = (
    '<trkpt lat="{lat:.12f}" lon="{lon:.12f}"><ele>{ele:.1f}</ele>'
    "<time>{time}</time><extensions><ns3:TrackPointExtension>"
    "<ns3:hr>{hr}</ns3:hr><ns3:cad>{cad}</ns3:cad>"
    "</ns3:TrackPointExtension></extensions></trkpt>\n"
)
TCX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase'
    ' xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
    '<Activities><Activity Sport="Running"><Id>{start}</Id>'
    '<Lap StartTime="{start}"><TotalTimeSeconds>3600</TotalTimeSeconds>'
    "<DistanceMeters>10000</DistanceMeters><Track>\n"
)
TCX_POINT = (
    "<Trackpoint><Time>{time}</Time><Position><LatitudeDegrees>{lat:.12f}"
    "</LatitudeDegrees><LongitudeDegrees>{lon:.12f}</LongitudeDegrees></Position>"
    "<AltitudeMeters>{ele:.1f}</AltitudeMeters><DistanceMeters>{dist:.1f}"
    "</DistanceMeters><HeartRateBpm><Value>{hr}</Value></HeartRateBpm>"
    "<Cadence>{cad}</Cadence></Trackpoint>\n"
)


def _points(seconds: int) -> list[dict[str, object]]:
    """A loop run at ~2.8 m/s with gently varying HR, cadence and elevation."""
    start = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
    out = []
    for i in range(seconds):
        angle = 2 * math.pi * i / seconds
        out.append(
            {
                "lat": 51.5 + 0.02 * math.sin(angle),
                "lon": -0.12 + 0.03 * math.cos(angle),
                "ele": 30 + 5 * math.sin(3 * angle),
                "time": (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "hr": 140 + int(10 * math.sin(angle)),
                "cad": 86 + i % 3,
                "dist": 2.8 * i,
            }
        )
    return out


def make_gpx(seconds: int = 3600) -> bytes:
    """A one-track GPX with one point per second."""
    body = "".join(POINT.format(**p) for p in _points(seconds))
    return (HEAD + body + "</trkseg></trk></gpx>\n").encode()


def make_tcx(seconds: int = 3600) -> bytes:
    """A one-lap TCX with one trackpoint per second."""
    body = "".join(TCX_POINT.format(**p) for p in _points(seconds))
    head = TCX_HEAD.format(start="2024-05-01T07:00:00Z")
    tail = "</Track></Lap></Activity></Activities></TrainingCenterDatabase>\n"
    return (head + body + tail).encode()


def median_ms(func: Callable[[], object], rounds: int) -> float:
    """Median wall time of ``func`` in milliseconds."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bare_iterparse(data: bytes) -> None:
    """Walk every element with the stdlib C parser and do nothing else."""
    for _event, elem in ET.iterparse(io.BytesIO(data), events=("end",)):
        elem.tag  # noqa: B018 - touch the element like a reader would


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    gpx = make_gpx()
    tcx = make_tcx()
    text = gpx.decode()
    rows = [
        ("kneeload parse_gpx", median_ms(lambda: parse_gpx(gpx, "bench.gpx"), rounds)),
        ("gpxpy.parse", median_ms(lambda: gpxpy.parse(text), rounds)),
        ("bare stdlib iterparse (GPX)", median_ms(lambda: bare_iterparse(gpx), rounds)),
        ("kneeload parse_tcx", median_ms(lambda: parse_tcx(tcx, "bench.tcx"), rounds)),
    ]
    print(f"1 h at 1 Hz: GPX {len(gpx) / 1e6:.2f} MB, TCX {len(tcx) / 1e6:.2f} MB")
    print(f"median of {rounds} rounds")
    for label, ms in rows:
        print(f"{label:30s} {ms:8.1f} ms")
    print(f"gpxpy / kneeload: {rows[1][1] / rows[0][1]:.1f}x")


if __name__ == "__main__":
    main()
