"""Exports as they arrive in a hostile but plausible state, through the real CLI.

A Strava CSV saved by a spreadsheet (BOM, CRLF, quoted commas and newlines in
names, empty Perceived Exertion, non-ASCII gear), a Garmin summary JSON cut short
or overwritten, an Apple export.xml whose download stopped inside a workout, a
nested zip that is itself damaged. None may print a traceback or lose the other
activities; each problem is one line naming the file.
"""

from __future__ import annotations

import csv
import io
import json
import random
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_builders import (
    apple_export,
    garmin_archive,
    strava_files,
    write_tree,
    zip_bytes,
)

from kneeload.cli import cli
from kneeload.errors import ActivityFileError
from kneeload.io.exports import apple, garmin, strava

SUMMARY = "DI_CONNECT/DI-Connect-Fitness/runner@example.com_0_summarizedActivities.json"
UPLOADED = "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"
EXPORT_XML = "apple_health_export/export.xml"


def _cli(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def _activities(home: Path) -> list[dict]:
    code, out, _ = _cli(home, "activities", "--json")
    assert code == 0
    return sorted(json.loads(out), key=lambda a: a["start_utc"])


def _problem_lines(err: str) -> list[str]:
    return [
        line
        for line in err.splitlines()
        if line.startswith(("error:", "skipped:", "partial:"))
    ]


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err and "Error:" not in err.replace("error:", "")


# ---- Strava ------------------------------------------------------------------

GEAR = "Saucony Endorphin Speed 3 \u2013 \u00d1and\u00fa \U0001f3c3"
NAME = 'Run, with "quotes"\nand a second line\x1b[31m'


def _spreadsheet_strava() -> dict[str, bytes]:
    """A Strava export whose activities.csv went through a spreadsheet."""
    files, _ = strava_files({4711: NAME, 4712: "Tempo", 4713: "Long"})
    rows = list(csv.reader(io.StringIO(files["activities.csv"].decode(), newline="")))
    gear, rpe = rows[0].index("Activity Gear"), rows[0].index("Perceived Exertion")
    rows[1][gear], rows[1][rpe] = GEAR, ""  # 4711: non-ASCII gear, no RPE
    rows[2][rpe] = " 7 "  # 4712: padded
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    files["activities.csv"] = "\ufeff".encode() + out.getvalue().encode("utf-8")
    assert b'"Run, with ""quotes""\nand' in files["activities.csv"]
    return files


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "folder"])
def test_strava_csv_from_a_spreadsheet(tmp_path, zipped):
    files = _spreadsheet_strava()
    if zipped:
        path = tmp_path / "export_1.zip"
        path.write_bytes(zip_bytes(files))
    else:
        path = write_tree(tmp_path / "export_1", files)
    code, _, err = _cli(tmp_path / "home", "ingest", str(path))
    assert code == 0
    _no_traceback(err)
    # only the row whose file is not in the export is said, once, on one line
    (line,) = _problem_lines(err)
    assert line.startswith("skipped: ") and "activities/999.gpx" in line
    acts = _activities(tmp_path / "home")
    assert [a["name"] for a in acts] == [
        'Run, with "quotes" and a second line\\x1b[31m',
        "Tempo",
        "Long",
    ]
    assert [a["gear"] for a in acts] == [GEAR, "Kinvara 14", "Kinvara 14"]
    assert [a["rpe"] for a in acts] == [None, 7.0, None]
    assert [(a["sport"], a["sport_source"]) for a in acts] == [
        ("running", "export")
    ] * 3
    # the table shows the name on one line, with nothing raw from the terminal
    code, out, _ = _cli(tmp_path / "home", "activities")
    assert "\x1b" not in out
    assert 'Run, with "quotes" and a second line\\x1b[31m' in out.splitlines()[1]
    assert out.splitlines()[-1] == "3 activities"


def test_strava_csv_with_a_quote_that_never_closes(tmp_path):
    """An open quote swallows the rest of the file into one huge field."""
    files, _ = strava_files({4711: "Easy", 4712: "Tempo", 4713: "Long"})
    rows = list(csv.reader(io.StringIO(files["activities.csv"].decode(), newline="")))
    desc = rows[0].index("Activity Description")
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows[:2])  # the header and 4711, intact
    broken = [*rows[2]]
    broken[desc] = "x" * 10
    line = io.StringIO(newline="")
    csv.writer(line).writerow(broken)
    # 4712's description opens a quote that never closes, then 200 KB of text
    text = line.getvalue().replace(",xxxxxxxxxx,", ',"xxxxxxxxxx,', 1)
    files["activities.csv"] = (out.getvalue() + text + "y" * 200_000).encode()
    path = tmp_path / "export.zip"
    path.write_bytes(zip_bytes(files))
    code, _, err = _cli(tmp_path / "home", "ingest", str(path))
    assert code == 0
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line.startswith(f"error: {path}!activities.csv: damaged CSV at line ")
    assert line.endswith(
        "names, gear and types kept for the first row; the other files are read "
        "without them"
    )
    acts = _activities(tmp_path / "home")
    assert [a["name"] for a in acts] == ["Easy", None, None]  # all three read


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_strava_csv_saved_by_a_spreadsheet_in_another_encoding(tmp_path, encoding):
    files, _ = strava_files({4711: "Caf\u00e9 run", 4712: "Tempo", 4713: "Long"})
    files["activities.csv"] = files["activities.csv"].decode().encode(encoding)
    path = tmp_path / "export.zip"
    path.write_bytes(zip_bytes(files))
    _cli(tmp_path / "home", "ingest", str(path))
    names = [a["name"] for a in _activities(tmp_path / "home")]
    assert names == ["Caf\u00e9 run", "Tempo", "Long"]


def test_strava_csv_in_another_language_is_said(tmp_path):
    """A German account's CSV: no 'Filename' column to join by; files read alone."""
    files, _ = strava_files({4711: "Morgenlauf", 4712: "Tempo", 4713: "Lang"})
    text = files["activities.csv"].decode()
    header, rest = text.split("\r\n", 1) if "\r\n" in text else text.split("\n", 1)
    header = header.replace("Filename", "Dateiname").replace(
        "Activity Name", "Name der Aktivit\u00e4t"
    )
    files["activities.csv"] = f"{header}\n{rest}".encode()
    path = tmp_path / "export_de.zip"
    path.write_bytes(zip_bytes(files))
    code, _, err = _cli(tmp_path / "home", "ingest", str(path))
    assert code == 0
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line == (
        f"skipped: {path}!activities.csv: no 'Filename' column (headers in another "
        "language?): the activity files are read without Strava's names, gear, "
        "effort and types"
    )
    acts = _activities(tmp_path / "home")
    assert len(acts) == 3 and {a["name"] for a in acts} == {None}


# ---- Garmin ------------------------------------------------------------------


def test_garmin_record_with_begin_timestamp_only(tmp_path):
    files, _ = garmin_archive()
    doc = json.loads(files[SUMMARY])
    for rec in doc[0]["summarizedActivitiesExport"]:
        rec["beginTimestamp"] = int(rec.pop("startTimeGmt"))
    path = _garmin_zip(tmp_path, **{SUMMARY: json.dumps(doc).encode()})
    _cli(tmp_path / "home", "ingest", str(path))
    names = [a["name"] for a in _activities(tmp_path / "home")]
    assert names == ["Lyon Long Run", "Parc trail"]  # the second joined by start


def _garmin_zip(tmp_path: Path, **changes: bytes) -> Path:
    files, _ = garmin_archive()
    files.update(changes)
    path = tmp_path / "garmin.zip"
    path.write_bytes(zip_bytes(files))
    return path


def test_garmin_summary_cut_short_keeps_the_records_before_the_cut(tmp_path):
    files, _ = garmin_archive()
    whole = files[SUMMARY]
    cut = whole[: whole.index(b'"Parc trail"')]  # inside the second record
    code, _, err = _cli(
        tmp_path / "home", "ingest", str(_garmin_zip(tmp_path, **{SUMMARY: cut}))
    )
    assert code == 0
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line.startswith(f"error: {tmp_path / 'garmin.zip'}!{SUMMARY}: ")
    assert "the file is cut short" in line
    assert "kept for the first activity" in line
    by_id, by_start = _activities(tmp_path / "home")
    # the complete first record still names its FIT file
    assert (by_id["name"], by_id["sport"]) == ("Lyon Long Run", "running")
    # the second FIT file is read all the same, without Garmin's name
    assert by_start["name"] is None and by_start["sport"] == "running"
    assert by_start["sport_source"].startswith("inferred")
    assert "1 error," in err.splitlines()[-1]


def test_garmin_summary_overwritten_with_garbage(tmp_path):
    code, _, err = _cli(
        tmp_path / "home",
        "ingest",
        str(_garmin_zip(tmp_path, **{SUMMARY: b"\x00\xff\x89PNG garbage"})),
    )
    assert code == 0
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line.endswith(
        "not valid JSON (Expecting value at line 1, column 1); "
        "the FIT files are read without Garmin's names and types"
    )
    assert len(_activities(tmp_path / "home")) == 2


def test_garmin_nested_zip_that_is_damaged(tmp_path):
    files, _ = garmin_archive()
    good = files[UPLOADED]
    damaged = {
        UPLOADED.replace("0-_Part1", "1-_Part2"): good[: len(good) // 2],
        UPLOADED.replace("0-_Part1", "2-_Part3"): b"PK\x03\x04" + bytes(100),
    }
    code, _, err = _cli(
        tmp_path / "home", "ingest", str(_garmin_zip(tmp_path, **damaged))
    )
    assert code == 0
    _no_traceback(err)
    lines = _problem_lines(err)
    assert len(lines) == 2
    for line, part in zip(lines, ("1-_Part2", "2-_Part3"), strict=True):
        assert line.startswith("error: ") and f"UploadedFiles_{part}.zip: " in line
        assert "not a readable zip archive" in line
    names = [a["name"] for a in _activities(tmp_path / "home")]
    assert names == ["Lyon Long Run", "Parc trail"]


# ---- Apple -------------------------------------------------------------------


def _apple_zip(tmp_path: Path, xml: bytes) -> Path:
    files, _ = apple_export()
    files[EXPORT_XML] = xml
    path = tmp_path / "export.zip"
    path.write_bytes(zip_bytes(files))
    return path


def _apple_xml() -> bytes:
    files, _ = apple_export()
    return files[EXPORT_XML]


def test_apple_workouts_are_named_as_the_fitness_app_does(tmp_path):
    _cli(tmp_path / "home", "ingest", str(_apple_zip(tmp_path, _apple_xml())))
    names = [a["name"] for a in _activities(tmp_path / "home")]
    assert names == ["Outdoor Run", "Indoor Run", "Outdoor Cycle"]


def test_apple_effort_rating_is_the_rpe(tmp_path):
    """iOS 18: the runner's WorkoutEffortScore over a workout's span is its RPE."""
    xml = _apple_xml()
    run = _workout_span(xml, 0)
    treadmill = _workout_span(xml, 1)
    efforts = (
        _effort("WorkoutEffortScore", run, "7")  # the runner's own rating
        + _effort("EstimatedWorkoutEffortScore", treadmill, "5")  # Apple's guess
        + _effort("WorkoutEffortScore", treadmill, "11")  # not on the 1-10 scale
    )
    at = xml.index(b"<Workout ")
    xml = xml[:at] + efforts.encode() + xml[at:]
    _cli(tmp_path / "home", "ingest", str(_apple_zip(tmp_path, xml)))
    acts = _activities(tmp_path / "home")
    assert [a["rpe"] for a in acts] == [7.0, None, None]
    # sRPE = RPE x moving minutes (RULES §14)
    assert acts[0]["srpe"] == pytest.approx(7.0 * acts[0]["moving_s"] / 60, abs=0.1)


def _workout_span(xml: bytes, n: int) -> tuple[str, str]:
    """startDate and endDate of the n-th <Workout> of an export.xml."""
    at = -1
    for _ in range(n + 1):
        at = xml.index(b"<Workout ", at + 1)
    head = xml[at : xml.index(b">", at)].decode()
    return head.split('startDate="')[1][:25], head.split('endDate="')[1][:25]


def _effort(kind: str, span: tuple[str, str], value: str) -> str:
    return (
        f' <Record type="HKQuantityTypeIdentifier{kind}" sourceName="Watch" '
        f'unit="appleEffortScore" creationDate="{span[1]}" startDate="{span[0]}" '
        f'endDate="{span[1]}" value="{value}"/>\n'
    )


def test_apple_damaged_record_values_lose_only_those_records(tmp_path):
    """A flipped byte in one HR value, one step count and one date."""
    files, expected = apple_export()
    xml = files[EXPORT_XML]

    def spoil(data: bytes, kind: bytes, attr: bytes, new: bytes) -> bytes:
        at = data.index(attr, data.index(b"HKQuantityTypeIdentifier" + kind))
        end = data.index(b'"', at + len(attr))
        return data[:at] + attr + new + data[end:]

    xml = spoil(xml, b"HeartRate", b'value="', b"1x0")
    xml = spoil(xml, b"StepCount", b'value="', b"")
    xml = spoil(xml, b"StepCount", b'startDate="', b"2026-1!-16 07:59:30 +0100")
    code, _, err = _cli(tmp_path / "home", "ingest", str(_apple_zip(tmp_path, xml)))
    assert code == 0 and _problem_lines(err) == []
    run, treadmill, _ = _activities(tmp_path / "home")
    # one HR record of ~540 fewer: within the hand value's tolerance (RULES §10)
    assert run["avg_hr"] == pytest.approx(expected["run"]["hr"], abs=2)
    # the first watch step record (170 steps over 07:59:30-08:00:30, half of it
    # inside the run) is the one spoilt twice: 85 steps fewer over the run
    minutes = expected["run"]["elapsed"] / 60.0
    steps = expected["run"]["cadence"] * minutes - 85.0
    assert run["cadence_spm"] == pytest.approx(steps / minutes, abs=0.5)
    assert treadmill["avg_hr"] == pytest.approx(expected["treadmill"]["hr"], abs=2)


def test_apple_export_cut_inside_the_last_workout(tmp_path):
    xml = _apple_xml()
    last = xml.rindex(b"<Workout ")  # the ride, after the yoga
    cut = xml[: xml.index(b"<WorkoutStatistics", last)]  # past its startDate
    code, _, err = _cli(tmp_path / "home", "ingest", str(_apple_zip(tmp_path, cut)))
    assert code == 0
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line == (
        f"partial: {tmp_path / 'export.zip'}!{EXPORT_XML}: export.xml is cut short "
        "(the export is incomplete): the cycling workout of 2026-11-19 is cut off "
        "and not read; export it again from the Health app"
    )
    acts = _activities(tmp_path / "home")
    assert [a["name"] for a in acts] == ["Outdoor Run", "Indoor Run"]
    # a re-run does not read it again, and says nothing new
    code, _, err = _cli(tmp_path / "home", "ingest", str(tmp_path / "export.zip"))
    assert _problem_lines(err) == [] and "1 unchanged" in err


def test_apple_export_cut_after_the_workouts(tmp_path):
    xml = _apple_xml()
    cut = xml[: xml.rindex(b"</Workout>") + len(b"</Workout>\n")]
    _, _, err = _cli(tmp_path / "home", "ingest", str(_apple_zip(tmp_path, cut)))
    (line,) = _problem_lines(err)
    assert line.endswith(
        "export.xml is cut short (the export is incomplete): workouts after "
        "2026-11-19, if any, are missing; export it again from the Health app"
    )
    assert len(_activities(tmp_path / "home")) == 3


def test_apple_export_cut_before_any_workout(tmp_path):
    xml = _apple_xml()
    cut = xml[: xml.index(b"<Workout ") - 40]  # inside a heart-rate record
    code, _, err = _cli(tmp_path / "home", "ingest", str(_apple_zip(tmp_path, cut)))
    assert code == 0
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line.startswith("error: ") and line.endswith(
        "export.xml is cut short (the export is incomplete): no workout could be "
        "read; export it again from the Health app"
    )


def test_apple_unreadable_workout_is_said(tmp_path):
    xml = _apple_xml()
    treadmill = xml.index(b'totalDistanceUnit="mi"')
    broken = xml[:treadmill] + b'totalDistanceUnit="mi" <<' + xml[treadmill + 22 :]
    _, _, err = _cli(tmp_path / "home", "ingest", str(_apple_zip(tmp_path, broken)))
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line.startswith("partial: ") and ": workout 2 not read (unreadable" in line
    acts = _activities(tmp_path / "home")
    assert [a["name"] for a in acts] == ["Outdoor Run", "Outdoor Cycle"]


def test_apple_bytes_that_are_not_utf8_in_a_date_or_a_type():
    """Each found by mutating export.xml: one odd byte ended the whole export."""
    xml = _apple_xml()
    date_at = xml.index(b'startDate="', xml.index(b"HKQuantityTypeIdentifierHeartRate"))
    xml = xml[: date_at + 20] + b"\xa6" + xml[date_at + 21 :]
    kind_at = xml.index(b"HKWorkoutActivityTypeYoga")
    xml = xml[:kind_at] + b"HKWorkout\xe2\x28ActivityTypeYoga" + xml[kind_at + 25 :]
    scan = apple.scan_export(io.BytesIO(xml), "export.xml")
    assert [w.sport for w in scan.workouts] == ["running", "running", "cycling"]


def test_export_readers_never_raise_on_mutants():
    """Seeded mutants of each export's own files: a named error or a result."""
    seed = 20261201
    rng = random.Random(seed)
    files, _ = apple_export()
    xml = files[EXPORT_XML]
    summary = garmin_archive()[0][SUMMARY]
    table = strava_files({1: "a", 2: "b", 3: "c"})[0]["activities.csv"]
    for n in range(150):
        for kind, data in (("apple", xml), ("garmin", summary), ("strava", table)):
            mutant = _mutate(rng, data)
            try:
                if kind == "apple":
                    scan = apple.scan_export(io.BytesIO(mutant), "export.xml")
                    for workout in scan.workouts:
                        apple.to_activity(scan, workout, lambda _path: None)
                elif kind == "garmin":
                    garmin.read_summaries(mutant)
                else:
                    strava.read_activities_csv(mutant, [])
            except ActivityFileError:
                continue
            except Exception as exc:  # the test's point: say which mutant
                raise AssertionError(
                    f"{kind} mutant {n} of seed {seed}: {exc!r}"
                ) from exc


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """Byte flips, a truncation, an insertion or a deletion."""
    out = bytearray(data)
    how = rng.randrange(4)
    at = rng.randrange(len(out))
    if how == 0:
        for _ in range(rng.randrange(1, 20)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif how == 1:
        del out[at:]
    elif how == 2:
        out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 50)))
    else:
        del out[at : at + rng.randrange(1, 500)]
    return bytes(out)


def _flip_crc(archive: bytes, member: str) -> bytes:
    """The archive with ``member``'s stored CRC-32 wrong (a damaged download)."""
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(member)
    good, bad = struct.pack("<I", info.CRC), struct.pack("<I", info.CRC ^ 0xFFFF)
    assert archive.count(good) == 2  # the local header and the central directory
    return archive.replace(good, bad)


def test_apple_export_zip_with_a_bad_crc(tmp_path):
    files, _ = apple_export()
    path = tmp_path / "export.zip"
    path.write_bytes(_flip_crc(zip_bytes(files), EXPORT_XML))
    code, _, err = _cli(tmp_path / "home", "ingest", str(path))
    assert code == 0
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line == (
        f"error: {path}!{EXPORT_XML}: export.xml is damaged inside its zip "
        f"(Bad CRC-32 for file '{EXPORT_XML}'); export it again from the Health app"
    )


def test_apple_bad_crc_found_late_keeps_the_workouts_read(tmp_path):
    """The CRC is checked at the end: the blocks read before it are kept."""
    files, _ = apple_export()
    xml = files[EXPORT_XML]
    summary = b' <ActivitySummary dateComponents="2026-11-16" appleMoveTime="0"/>\n'
    padding = summary * (apple.BLOCK_BYTES // len(summary) + 1000)
    end = xml.rindex(b"</HealthData>")
    files[EXPORT_XML] = xml[:end] + padding + xml[end:]
    path = tmp_path / "export.zip"
    path.write_bytes(_flip_crc(zip_bytes(files), EXPORT_XML))
    _, _, err = _cli(tmp_path / "home", "ingest", str(path))
    _no_traceback(err)
    (line,) = _problem_lines(err)
    assert line == (
        f"partial: {path}!{EXPORT_XML}: export.xml is damaged inside its zip "
        f"(Bad CRC-32 for file '{EXPORT_XML}'): workouts after 2026-11-19, if any, "
        "are missing; export it again from the Health app"
    )
    names = [a["name"] for a in _activities(tmp_path / "home")]
    assert names == ["Outdoor Run", "Indoor Run", "Outdoor Cycle"]
