"""Exports built by the tests themselves: Strava, Garmin Connect, Apple Health.

Every file is written here from the synthetic runs of ``kneeload._testing.synth``
or as small hand-written CSV/JSON/XML, in the layout of the real downloads.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from kneeload._testing.apple import APPLE_DTD, PHONE, WATCH
from kneeload._testing.synth import (
    SyntheticRun,
    run_totals,
    simulate_run,
    write_fit,
    write_gpx,
)

#: The real column order of Strava's activities.csv (2024), repeated names included.
STRAVA_HEADER = [
    "Activity ID", "Activity Date", "Activity Name", "Activity Type",
    "Activity Description", "Elapsed Time", "Distance", "Max Heart Rate",
    "Relative Effort", "Commute", "Activity Private Note", "Activity Gear",
    "Filename", "Athlete Weight", "Bike Weight", "Elapsed Time", "Moving Time",
    "Distance", "Max Speed", "Average Speed", "Elevation Gain", "Elevation Loss",
    "Elevation Low", "Elevation High", "Max Grade", "Average Grade",
    "Average Positive Grade", "Average Negative Grade", "Max Cadence",
    "Average Cadence", "Max Heart Rate", "Average Heart Rate", "Max Watts",
    "Average Watts", "Calories", "Max Temperature", "Average Temperature",
    "Relative Effort", "Total Work", "Number of Runs", "Uphill Time",
    "Downhill Time", "Other Time", "Perceived Exertion", "Type", "Start Time",
    "Weighted Average Power", "Power Count", "Prefer Perceived Exertion",
    "Perceived Relative Effort", "Commute", "Total Weight Lifted", "From Upload",
    "Grade Adjusted Distance",
]  # fmt: skip


def run_at(
    day: int, *, km: float = 8.0, pace: float = 330.0, seed: int = 0
) -> SyntheticRun:
    """A synthetic run on 2026-11-``day`` at 07:00 UTC."""
    start = datetime(2026, 11, day, 7, 0, tzinfo=UTC)
    return simulate_run(
        start, distance_km=km, pace_s_per_km=pace, seed=seed, interval_s=2
    )


def strava_row(**values: str) -> list[str]:
    """One activities.csv row; ``values`` by column name, repeated names by position.

    ``Distance`` and ``Elapsed Time`` fill the first (display) column; ``Distance_si``
    and ``Elapsed Time_si`` the second (SI) one.
    """
    row = [""] * len(STRAVA_HEADER)
    seen: dict[str, int] = {}
    for i, name in enumerate(STRAVA_HEADER):
        n = seen.get(name, 0)
        seen[name] = n + 1
        key = name if n == 0 else f"{name}_si"
        row[i] = values.get(key, "")
    return row


def strava_csv(rows: list[list[str]]) -> bytes:
    """activities.csv bytes with the real header."""
    import csv

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(STRAVA_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def strava_files(
    names: dict[int, str],
) -> tuple[dict[str, bytes], dict[int, SyntheticRun]]:
    """A Strava export: id -> activity name; GPX without <type>, one gzipped FIT."""
    files: dict[str, bytes] = {}
    runs: dict[int, SyntheticRun] = {}
    rows = []
    for n, (activity_id, title) in enumerate(names.items()):
        run = run_at(2 + n, km=6.0 + n, seed=n)
        runs[activity_id] = run
        if n == 1:
            fname = f"activities/{activity_id}.fit.gz"
            files[fname] = gzip.compress(write_fit(run, sport="generic"), mtime=0)
        else:
            fname = f"activities/{activity_id}.gpx"
            files[fname] = write_gpx(run, type="", creator="StravaGPX iPhone")
        tot = run_totals(run)
        rows.append(
            strava_row(
                **{
                    "Activity ID": str(activity_id),
                    "Activity Date": "Nov 2, 2026, 7:00:00 AM",
                    "Activity Name": title,
                    "Activity Type": "Run",
                    "Elapsed Time": str(int(tot["elapsed_s"])),
                    "Distance": f"{tot['distance_m'] / 1000:.2f}",
                    "Distance_si": f"{tot['distance_m']:.1f}",
                    "Elapsed Time_si": f"{tot['elapsed_s']:.1f}",
                    "Activity Gear": "Pegasus 40" if n == 0 else "Kinvara 14",
                    "Filename": fname,
                    "Perceived Exertion": "6.0" if n == 0 else "",
                    "Commute": "false",
                    "Commute_si": "0.0",
                }
            )
        )
    rows.append(
        strava_row(
            **{
                "Activity ID": "999",
                "Activity Name": "Lost run",
                "Activity Type": "Run",
                "Filename": "activities/999.gpx",
            }
        )
    )
    rows.append(strava_row(**{"Activity ID": "1000", "Activity Name": "Manual"}))
    files["activities.csv"] = strava_csv(rows)
    files["profile.csv"] = b"Athlete ID,Email Address\n1,runner@example.com\n"
    files["routes/1.gpx"] = b'<?xml version="1.0"?><gpx version="1.1"><rte></rte></gpx>'
    return files, runs


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` (relative name -> bytes) under ``root``."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip archive holding ``files``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


# ------------------------------------------------------------------ Garmin


def garmin_archive() -> tuple[dict[str, bytes], dict[str, SyntheticRun]]:
    """A Garmin Connect archive: FIT files in a nested zip, summary JSON, wellness."""
    by_id = run_at(10, km=10.0, seed=11)  # joined by the id in its file name
    by_start = run_at(12, km=5.0, seed=12)  # joined by its start time
    uploaded = zip_bytes(
        {
            "runner@example.com_21000000001.fit": write_fit(by_id, sport="running"),
            "morning_upload.fit": write_fit(by_start, sport="generic"),
        }
    )
    summary = [
        {
            "summarizedActivitiesExport": [
                {
                    "activityId": 21000000001,
                    "name": "Lyon Long Run",
                    "activityType": "running",
                    "startTimeGmt": by_id.start_s * 1000.0,
                    "distance": 1_000_000.0,
                },
                {
                    "activityId": 21000000002,
                    "name": "Parc trail",
                    "activityType": {"typeKey": "trail_running"},
                    "startTimeGmt": (by_start.start_s + 3) * 1000.0,
                },
                {
                    "activityId": 21000000003,
                    "name": "Yoga",
                    "activityType": "yoga",
                    "startTimeGmt": (by_start.start_s + 86400) * 1000.0,
                },
            ]
        }
    ]
    files = {
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip": uploaded,
        "DI_CONNECT/DI-Connect-Fitness/runner@example.com_0_summarizedActivities.json":
            json.dumps(summary).encode(),
        "DI_CONNECT/DI-Connect-Wellness/2026-11-10_WELLNESS.fit": b"\x0e\x10not a fit",
        "DI_CONNECT/DI-Connect-Wellness/sleep.json": b"[]",
        "DI_CONNECT/DI-Connect-User/user_profile.json": b"{}",
        "DI_CONNECT/DI-Connect-Metrics/MetricsMaxMetData.json": b"[]",
    }  # fmt: skip
    return files, {"by_id": by_id, "by_start": by_start}


# ------------------------------------------------------------------ Apple

PARIS = timezone(timedelta(hours=1))


def apple_date(epoch_s: float) -> str:
    """Apple's date format in Paris winter time."""
    return datetime.fromtimestamp(epoch_s, PARIS).strftime("%Y-%m-%d %H:%M:%S %z")


def apple_record(
    kind: str, source: str, start: float, end: float, value: float, unit: str
) -> str:
    """One <Record> line in Apple's attribute order."""
    device = (
        ' device="&lt;&lt;HKDevice: 0x2829a1e00&gt;, name:Apple Watch, model:Watch&gt;"'
        if source == WATCH
        else ""
    )
    a, b = apple_date(start), apple_date(end)
    return (
        f' <Record type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" '
        f'sourceVersion="10.1"{device} unit="{unit}" creationDate="{b}" '
        f'startDate="{a}" endDate="{b}" value="{value:g}"/>\n'
    )


def apple_route_gpx(run: SyntheticRun) -> bytes:
    """A route GPX as the Health app writes it: positions, no HR or cadence."""
    s = run.samples
    pts = "".join(
        f'<trkpt lon="{lon:.6f}" lat="{lat:.6f}"><ele>{ele:.2f}</ele>'
        f"<time>{datetime.fromtimestamp(t, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"
        "<extensions><speed>3.0</speed><course>90.0</course><hAcc>2.0</hAcc>"
        "<vAcc>1.5</vAcc></extensions></trkpt>\n"
        for lat, lon, ele, t in zip(
            s["lat_deg"], s["lon_deg"], s["altitude_m"], s["time_s"], strict=True
        )
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="Apple Health Export" '
        'xmlns="http://www.topografix.com/GPX/1/1">\n'
        "<metadata><time>2026-11-20T08:00:00Z</time></metadata>\n"
        f"<trk><name>Route 2026-11-16 8:00am</name><trkseg>\n{pts}</trkseg></trk>\n"
        "</gpx>\n"
    ).encode()


def _element(
    tag: str, attrs: dict[str, str], children: tuple[str, ...] | list[str] = ()
) -> str:
    """One XML element on its own lines, as Apple writes them."""
    text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    if not children:
        return f" <{tag} {text}/>\n"
    return f" <{tag} {text}>\n" + "".join(children) + f" </{tag}>\n"


def _stat(kind: str, span: dict[str, str], **attrs: str) -> str:
    return _element(
        "WorkoutStatistics",
        {"type": f"HKQuantityTypeIdentifier{kind}", **span, **attrs},
    )


def hand_hr(times: list[float], bpm: list[float], end: float) -> float:
    """Time-weighted mean HR by hand: each record held until the next, at most 10 s."""
    total = weighted = 0.0
    for i, (t, v) in enumerate(zip(times, bpm, strict=True)):
        nxt = times[i + 1] if i + 1 < len(times) else end
        hold = min(nxt - t, 10.0)
        total += hold
        weighted += hold * v
    return weighted / total


def apple_export() -> tuple[dict[str, bytes], dict[str, dict[str, float]]]:
    """An Apple Health export.zip's files and the hand-computed values per workout."""
    lines: list[str] = []
    expected: dict[str, dict[str, float]] = {}
    # 1. outdoor run, iOS 16 style (WorkoutStatistics), with its route
    run = simulate_run(
        datetime(2026, 11, 16, 7, 0, tzinfo=UTC),
        distance_km=8.0,
        pace_s_per_km=330.0,
        elevation_profile=((0, 0), (2, 40), (4, 0), (6, 30), (8, 0)),
        interval_s=2,
        seed=5,
    )
    s0 = float(run.samples["time_s"][0])
    e0 = float(run.samples["time_s"][-1])
    hr_t = [t for t in np.arange(s0, e0, 5.0) if not (s0 + 900 <= t < s0 + 930)]
    hr_v = [120.0 + (i * 7) % 41 for i in range(len(hr_t))]
    for t, v in zip(hr_t, hr_v, strict=True):
        lines.append(apple_record("HeartRate", WATCH, t, t, v, "count/min"))
    for t in (s0 - 600, s0 - 300, e0 + 120):  # before and after: not in the workout
        lines.append(apple_record("HeartRate", WATCH, t, t, 60, "count/min"))
    watch_steps = 0.0
    for a in np.arange(s0 - 30, e0, 60.0):
        b = a + 60.0
        lines.append(apple_record("StepCount", WATCH, a, b, 170, "count"))
        lines.append(apple_record("StepCount", PHONE, a, b, 168, "count"))  # same steps
        watch_steps += 170 * max(0.0, min(b, e0) - max(a, s0)) / 60.0
    dur_min = (e0 - s0) / 60.0
    expected["run"] = {
        "start": s0,
        "elapsed": e0 - s0,
        "distance": 8000.0,
        "hr": hand_hr(hr_t, hr_v, e0),
        "cadence": watch_steps / dur_min,
        "descent": float(run.descent_m),
    }
    route = "/workout-routes/route_2026-11-16_8.00am.gpx"
    span = {"startDate": apple_date(s0), "endDate": apple_date(e0)}
    lines.append(
        _element(
            "Workout",
            {
                "workoutActivityType": "HKWorkoutActivityTypeRunning",
                "duration": f"{dur_min:.4f}",
                "durationUnit": "min",
                "sourceName": WATCH,
                "sourceVersion": "10.1",
                "creationDate": apple_date(e0),
                **span,
            },
            [
                _element("MetadataEntry", {"key": "HKIndoorWorkout", "value": "0"}),
                _element(
                    "MetadataEntry", {"key": "HKTimeZone", "value": "Europe/Paris"}
                ),
                _element("WorkoutEvent", {"type": "HKWorkoutEventTypeSegment", **span}),
                _stat("ActiveEnergyBurned", span, sum="512", unit="Cal"),
                _stat("DistanceWalkingRunning", span, sum="8.000", unit="km"),
                _stat("HeartRate", span, average="99", maximum="190", unit="count/min"),
                _element(
                    "WorkoutRoute",
                    {"sourceName": WATCH, **span},
                    [_element("FileReference", {"path": route})],
                ),
            ],
        )
    )
    # 2. treadmill run, older style (totalDistance attribute in miles), no route
    s1 = datetime(2026, 11, 18, 18, 0, tzinfo=UTC).timestamp()
    e1 = s1 + 2400.0
    hr1_t = list(np.arange(s1 + 2, e1, 4.0))
    hr1_v = [150.0 + (i % 5) for i in range(len(hr1_t))]
    for t, v in zip(hr1_t, hr1_v, strict=True):
        lines.append(apple_record("HeartRate", WATCH, t, t, v, "count/min"))
    for a in np.arange(s1, e1, 60.0):
        lines.append(apple_record("StepCount", WATCH, a, a + 60.0, 180, "count"))
    expected["treadmill"] = {
        "start": s1,
        "elapsed": 2400.0,
        "distance": 4.97097 * 1609.344,
        "hr": hand_hr(hr1_t, hr1_v, e1),
        "cadence": 180.0,
    }
    lines.append(
        _element(
            "Workout",
            {
                "workoutActivityType": "HKWorkoutActivityTypeRunning",
                "duration": "40",
                "durationUnit": "min",
                "totalDistance": "4.97097",
                "totalDistanceUnit": "mi",
                "totalEnergyBurned": "450",
                "totalEnergyBurnedUnit": "Cal",
                "sourceName": WATCH,
                "startDate": apple_date(s1),
                "endDate": apple_date(e1),
            },
            [_element("MetadataEntry", {"key": "HKIndoorWorkout", "value": "1"})],
        )
    )
    # 3. yoga: not an activity kneeload tracks; 4. a ride
    s2 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC).timestamp()
    lines.append(
        _element(
            "Workout",
            {
                "workoutActivityType": "HKWorkoutActivityTypeYoga",
                "duration": "30",
                "durationUnit": "min",
                "sourceName": WATCH,
                "startDate": apple_date(s2),
                "endDate": apple_date(s2 + 1800),
            },
        )
    )
    s3 = s2 + 7200
    expected["ride"] = {"start": s3, "elapsed": 3600.0, "distance": 20000.0}
    ride = {"startDate": apple_date(s3), "endDate": apple_date(s3 + 3600)}
    lines.append(
        _element(
            "Workout",
            {
                "workoutActivityType": "HKWorkoutActivityTypeCycling",
                "duration": "60",
                "durationUnit": "min",
                "sourceName": WATCH,
                **ride,
            },
            [_stat("DistanceCycling", ride, sum="20", unit="km")],
        )
    )
    night = {"startDate": "2026-11-01 23:00:00 +0100"}
    night["endDate"] = "2026-11-02 07:00:00 +0100"
    other = (
        apple_record("BodyMass", "Health", s0 - 86400, s0 - 86400, 61, "kg")
        + _element(
            "Record",
            {
                "type": "HKCategoryTypeIdentifierSleepAnalysis",
                "sourceName": WATCH,
                **night,
                "value": "HKCategoryValueSleepAnalysisAsleepCore",
            },
            [_element("MetadataEntry", {"key": "HKTimeZone", "value": "Europe/Paris"})],
        )
        + _element(
            "ActivitySummary", {"dateComponents": "2026-11-16", "appleMoveTime": "0"}
        )
    )
    xml = APPLE_DTD + other + "".join(lines) + "</HealthData>\n"
    files = {
        "apple_health_export/export.xml": xml.encode("utf-8"),
        "apple_health_export/export_cda.xml": b'<?xml version="1.0"?><ClinicalDocument/>',  # noqa: E501
        "apple_health_export" + route: apple_route_gpx(run),
        "apple_health_export/electrocardiograms/ecg_2026-11-01.csv": b"Name,C\n",
        "apple_health_export/clinical-records/Observation.json": b"{}",
    }
    return files, expected
