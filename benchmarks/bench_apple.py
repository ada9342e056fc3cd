"""Read a generated ~2 GB Apple Health ``export.xml``: throughput and peak memory.

Run: ``python benchmarks/bench_apple.py [--gb 2.0] [--zip] [--keep]``. Targets
(issue 10): >= 50 MB/s and peak RSS < 300 MB for a 2 GB export. ``--zip`` also
zips it and times ingest's read of ``export.zip`` (inflated once, hashed while
parsed) against hashing it first and parsing it after.

The file is written to a temporary folder (deleted afterwards unless ``--keep``)
in Apple's layout: the internal DTD, then every ``<Record>`` (heart rate every
5 minutes all day and every 5 s during the daily run, watch and phone step
counts, active/basal energy, walking distance, a sleep record with metadata),
then one ``<Workout>`` a day (iOS 16 style statistics), then activity summaries.
About 1 MB and 3,000 records a simulated day, so 2 GB is ~5.5 years. The read
runs in a child process so that its peak RSS is its own, not the generator's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kneeload._testing.apple import APPLE_DTD, PHONE, WATCH

DEVICE = (
    "&lt;&lt;HKDevice: 0x2829a1e00&gt;, name:Apple Watch, manufacturer:Apple Inc., "
    "model:Watch, hardware:Watch6,1, software:10.1&gt;"
)
DAY0 = "1999-01-01"  # placeholder date replaced per simulated day
RUN_START_S = 7 * 3600  # 07:00 local
RUN_S = 45 * 60


def _stamp(second_of_day: int) -> str:
    h, rest = divmod(second_of_day % 86400, 3600)
    m, s = divmod(rest, 60)
    return f"{DAY0} {h:02d}:{m:02d}:{s:02d} +0100"


def _record(kind: str, source: str, a: int, b: int, value: str, unit: str) -> str:
    device = f' device="{DEVICE}"' if source == WATCH else ""
    return (
        f' <Record type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" '
        f'sourceVersion="10.1"{device} unit="{unit}" creationDate="{_stamp(b)}" '
        f'startDate="{_stamp(a)}" endDate="{_stamp(b)}" value="{value}"/>\n'
    )


def day_records() -> bytes:
    """One simulated day of records, dated ``DAY0``."""
    out = []
    for t in range(0, 86400 - 1, 300):  # resting HR every 5 minutes
        out.append(_record("HeartRate", WATCH, t, t, str(58 + t % 17), "count/min"))
    for t in range(RUN_START_S, RUN_START_S + RUN_S, 5):  # the run
        out.append(_record("HeartRate", WATCH, t, t, str(140 + t % 23), "count/min"))
    for t in range(6 * 3600, 22 * 3600, 300):
        for source in (WATCH, PHONE):
            out.append(
                _record("StepCount", source, t, t + 300, str(40 + t % 50), "count")
            )
    for t in range(0, 86400 - 60, 90):
        out.append(_record("ActiveEnergyBurned", WATCH, t, t + 60, "0.412", "Cal"))
    for t in range(0, 86400 - 60, 180):
        out.append(_record("BasalEnergyBurned", WATCH, t, t + 60, "1.05", "Cal"))
    for t in range(6 * 3600, 22 * 3600, 150):
        out.append(_record("DistanceWalkingRunning", PHONE, t, t + 60, "0.0412", "km"))
    out.append(
        ' <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" '
        f'startDate="{_stamp(0)}" endDate="{_stamp(6 * 3600)}" '
        'value="HKCategoryValueSleepAnalysisAsleepCore">\n'
        '  <MetadataEntry key="HKTimeZone" value="Europe/Paris"/>\n </Record>\n'
    )
    return "".join(out).encode()


def day_workout() -> bytes:
    """The day's run, iOS 16 style."""
    a, b = _stamp(RUN_START_S), _stamp(RUN_START_S + RUN_S)
    span = f'startDate="{a}" endDate="{b}"'
    return (
        ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="45" '
        f'durationUnit="min" sourceName="{WATCH}" sourceVersion="10.1" '
        f'creationDate="{b}" {span}>\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" '
        f'{span} sum="8.2" unit="km"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" '
        f'{span} average="151" minimum="120" maximum="175" unit="count/min"/>\n'
        " </Workout>\n"
    ).encode()


def generate(path: Path, gigabytes: float) -> int:
    """Write the export and return its number of days."""
    records, workout = day_records(), day_workout()
    days = max(1, int(gigabytes * 1e9 / (len(records) + len(workout))))
    first = datetime(2020, 1, 1, tzinfo=UTC)
    dates = [
        (first + timedelta(days=i)).strftime("%Y-%m-%d").encode() for i in range(days)
    ]
    placeholder = DAY0.encode()
    with path.open("wb") as fh:
        fh.write(APPLE_DTD.encode())
        for day in dates:
            fh.write(records.replace(placeholder, day))
        for day in dates:
            fh.write(workout.replace(placeholder, day))
        for day in dates:
            fh.write(
                b' <ActivitySummary dateComponents="%s" activeEnergyBurned="600"/>\n'
                % day
            )
        fh.write(b"</HealthData>\n")
    return days


def measure(path: Path) -> dict[str, float]:
    """Read the export as ingest does (one source, its own parser); child process."""
    from kneeload.io.exports import parse_export
    from kneeload.io.sources import Source

    st = path.stat()
    source = Source(str(path), st.st_size, st.st_mtime_ns, meta={"apple_routes": {}})
    started = time.perf_counter()
    activities = parse_export(source)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "bytes": st.st_size,
        "seconds": seconds,
        "mb_per_s": st.st_size / 1e6 / seconds,
        "peak_rss_mb": peak_kib / 1024,
        "workouts": len(activities),
        "hr_in_first": float(activities[0].avg_hr or 0),
    }


def measure_zip(path: Path) -> dict[str, float]:
    """CPU seconds of ingest's one pass over export.zip against hash-then-parse."""
    import hashlib

    from kneeload.ingest import _parse_with
    from kneeload.io.exports import parse_export
    from kneeload.io.sources import iter_sources

    (source,) = [s for s in iter_sources([path], []) if s.parser]
    started = time.process_time()
    digest = hashlib.sha256()
    with source.open() as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            digest.update(block)
    parse_export(source)
    two_passes = time.process_time() - started
    started = time.process_time()
    sha, activities = _parse_with(source)
    one_pass = time.process_time() - started
    assert sha == digest.hexdigest()
    return {
        "zip_bytes": path.stat().st_size,
        "xml_bytes": source.size,
        "two_passes_cpu_s": two_passes,
        "one_pass_cpu_s": one_pass,
        "workouts": len(activities),
    }


def main() -> None:
    """Generate, read in a child process, report, delete."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--zip", action="store_true", help="also time ingest's read of export.zip"
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure-zip", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.measure_zip:
        print(json.dumps(measure_zip(args.measure_zip)))
        return
    with tempfile.TemporaryDirectory(prefix="bench_apple_", dir="/tmp") as tmp:
        path = Path(tmp) / "export.xml"
        started = time.perf_counter()
        days = generate(path, args.gb)
        print(
            f"generated {path.stat().st_size / 1e9:.2f} GB ({days} days) "
            f"in {time.perf_counter() - started:.0f} s"
        )
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout)
        print(
            f"read {result['bytes'] / 1e9:.2f} GB in {result['seconds']:.1f} s: "
            f"{result['mb_per_s']:.0f} MB/s, peak RSS {result['peak_rss_mb']:.0f} MB, "
            f"{result['workouts']} workouts (target >= 50 MB/s, < 300 MB)"
        )
        if args.zip:
            _time_zip(path)
        if args.keep:
            kept = Path("/tmp") / "bench_apple_export.xml"
            path.rename(kept)
            print(f"kept {kept}")


def _time_zip(xml: Path) -> None:
    """Zip the export as the Health app does and time ingest's read of it."""
    import zipfile

    archive = xml.with_name("export.zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(xml, "apple_health_export/export.xml")
    child = subprocess.run(
        [sys.executable, __file__, "--measure-zip", str(archive)],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(child.stdout)
    print(
        f"export.zip ({r['zip_bytes'] / 1e6:.0f} MB, export.xml "
        f"{r['xml_bytes'] / 1e6:.0f} MB): one pass {r['one_pass_cpu_s']:.2f} s CPU, "
        f"hash then parse {r['two_passes_cpu_s']:.2f} s CPU"
    )


if __name__ == "__main__":
    main()
