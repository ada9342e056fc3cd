"""Regenerate sample_activities/: one runner's 16-week marathon block (deterministic).

Run ``python scripts/make_samples.py [FOLDER]``. Every run has a fixed seed, gzip and
zip members carry fixed timestamps, so the output is byte-for-byte reproducible.
The training story (ramp, long-run spike, low-cadence stretch, downhill week, peak,
taper, race) is written with its dates and numbers into ``index.toml``.
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kneeload._testing.synth import (
    LYON_HOME,
    SyntheticRun,
    run_totals,
    simulate_run,
    write_fit,
    write_gpx,
)

PARIS = ZoneInfo("Europe/Paris")
FIRST_MONDAY = date(2026, 7, 27)
RACE_DAY = date(2026, 11, 15)
HR_MAX, HR_REST = 188, 50
GARMIN, FR935 = 1, 2691
USUAL_SPM, LOW_SPM = 168.0, 154.0
ROLLING = ((0, 0), (1.5, 12), (3, 0), (4.5, 15), (6, 0))  # Lyon's small bumps, per 6 km
# Monday-week plans, "Day km kind[/storage]"; kinds are defined in run_params().
# Storage: default plain Garmin FIT; strava = GPX with spm cadence (StravaGPX);
# garmin = GPX, per-leg cadence (Garmin Connect); gz = .fit.gz; zip = GPX in the zip.
WEEKS = [
    "Tue 7 easy, Wed 6 easy, Thu 7 easy, Sun 12 long",  # 1 base
    "Tue 8 easy, Wed 6 easy/strava, Thu 7 tempo, Sun 13 long",
    "Tue 7 easy, Wed 7 easy, Thu 6 easy/gz, Sun 13 long",
    "Tue 8 easy, Wed 6 easy/strava, Thu 7 tempo, Sun 14 long",  # 4 base
    "Tue 8 easy, Wed 8 easy, Thu 8 tempo, Sat 6 easy, Sun 19 long",  # 5 ramp
    "Tue 8 lowcad, Wed 7 lowcad/strava, Thu 8 lowcad, Sun 18 lowcad_long",
    "Tue 8 lowcad, Wed 8 lowcad, Thu 8 lowcad, Sat 5 lowcad/garmin, Sun 20 lowcad_long",
    "Tue 8 lowcad, Wed 7 lowcad/zip, Thu 9 lowcad, Sun 18 lowcad_long",
    "Tue 10 hill_repeats, Wed 7 easy, Thu 8 stairs, Sun 21 trail",  # 9 downhill
    "Tue 8 easy, Wed 7 easy, Thu 8 tempo, Sun 23 long",
    "Tue 8 easy, Wed 8 easy/strava, Thu 9 tempo, Sat 5 easy, Sun 25 long",  # 11 peak
    "Tue 8 easy, Wed 6 easy/zip, Thu 9 tempo, Sat 5 easy, Sun 27 long",  # 12 peak
    "Tue 8 easy, Wed 8 easy, Thu 9 tempo, Sat 5 easy, Sun 20 long",
    "Tue 7 easy, Wed 6 easy/strava, Thu 8 tempo, Sun 15 long",  # 14 taper
    "Tue 6 easy, Wed 4 easy, Thu 6 tempo, Sun 12 long",  # 15 taper
    "Tue 5 sharpener, Wed 4 easy, Fri 3 easy, Sun 42.195 race",  # 16 race week
]
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ZIP_NAME = "export_strava_2026-10.zip"
FIT_COLUMNS = ["time_s", "distance_m", "speed_mps", "altitude_m", "heart_rate_bpm"]
FIT_COLUMNS += ["cadence_raw", "lat_deg", "lon_deg"]
GPX_COLUMNS = ["time_s", "altitude_m", "heart_rate_bpm", "cadence_raw", "lat_deg"]
GPX_COLUMNS += ["lon_deg", "segment"]


@dataclass
class Planned:
    """One run of the plan and how it is stored."""

    day: date
    km: float
    kind: str
    storage: str
    seed: int


def hills(km: float, climb_m: float, up_km: float, down_km: float) -> list:
    """An elevation profile of repeated climbs then descents over ``km``."""
    prof, pos = [(0.0, 0.0), (1.5, 0.0)], 1.5  # 1.5 km flat warm-up
    while pos + up_km + down_km <= km - 1:
        prof += [(pos + up_km, climb_m), (pos + up_km + down_km, 0.0)]
        pos += up_km + down_km
    return prof


def rolling(km: float) -> list:
    """Gentle rolling terrain repeated along the run."""
    return [(lap * 6 + k, m) for lap in range(int(km // 6) + 2) for k, m in ROLLING]


def run_params(kind: str, km: float) -> dict:
    """simulate_run keyword arguments for a kind of run."""
    p = {"pace_s_per_km": 360.0, "cadence_spm": USUAL_SPM, "hr_mean": 142.0}
    p["elevation_profile"] = rolling(km)
    if kind.startswith("lowcad"):
        p["cadence_spm"] = LOW_SPM
    if kind.endswith("long"):
        p.update(pace_s_per_km=375.0, hr_mean=140.0)
        p["cadence_spm"] -= 2  # slower pace, 9.6 km/h
    if kind in ("tempo", "sharpener"):
        p["efforts"] = [(2.0, km - 1.5 if kind == "tempo" else 4.0, 280.0)]
    if kind == "hill_repeats":  # Fourvière: 4 x 85 m up in 0.9 km, down in 0.7 km
        p["elevation_profile"] = hills(km, 85, 0.9, 0.7)
    if kind == "stairs":  # Croix-Rousse slopes
        p["elevation_profile"] = hills(km, 70, 0.8, 0.6)
    if kind == "trail":  # Monts d'Or loop
        p.update(elevation_profile=hills(km, 190, 2.8, 2.2), pace_s_per_km=420.0)
    if kind == "race":
        p.update(pace_s_per_km=335.0, hr_mean=156.0, cadence_spm=172.0)
        p["elevation_profile"] = rolling(km)[:8]
    return p


def start_time(day: date, kind: str, weekday: int) -> datetime:
    """A realistic local start: weekday mornings, Wednesday evenings, weekend 08:30."""
    hour, minute = (7, 5 + 7 * (day.toordinal() % 6))
    if weekday == 2:
        hour, minute = 18, 40
    if weekday >= 5:
        hour, minute = 8, 30 if kind != "race" else 0
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def plan() -> list[Planned]:
    """Every planned run in date order."""
    runs = []
    for w, week in enumerate(WEEKS):
        for item in week.split(", "):
            day_name, km, kind = item.split()
            kind, _, store = kind.partition("/")
            wd = DAYS.index(day_name)
            day = FIRST_MONDAY + timedelta(days=7 * w + wd)
            runs.append(
                Planned(day, float(km), kind, store or "fit", 1010 + 10 * w + wd)
            )
    return runs


def build(p: Planned) -> SyntheticRun:
    """Simulate one planned run at 5-second smart-recording intervals."""
    params = run_params(p.kind, p.km)
    start = start_time(p.day, p.kind, p.day.weekday())
    return simulate_run(start, distance_km=p.km, interval_s=5, seed=p.seed, **params)


def encode(p: Planned, run: SyntheticRun) -> tuple[str, bytes, str]:
    """File name, bytes and creator/device for a planned run."""
    local = datetime.fromtimestamp(run.start_s, PARIS)
    stem = f"{local:%Y-%m-%d_%H%M}_{p.kind}"
    if p.storage in ("strava", "zip"):
        data = write_gpx(run, creator="StravaGPX", type="running", cadence_unit="spm")
        return f"{stem}.gpx", data, "StravaGPX"
    if p.storage == "garmin":
        data = write_gpx(run, creator="Garmin Connect", cadence_unit="per_leg")
        return f"{stem}.gpx", data, "Garmin Connect"
    sub = "trail" if p.kind == "trail" else "generic"
    data = write_fit(run, sub_sport=sub, manufacturer=GARMIN, product=FR935)
    if p.storage == "gz":
        return f"{stem}.fit.gz", gzip.compress(data, mtime=0), "garmin/fr935"
    return f"{stem}.fit", data, "garmin/fr935"


def toml_value(v: object) -> str:
    """A TOML literal for the simple values index.toml uses."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 4))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)


def toml_table(header: str, values: dict) -> str:
    """One [table] or [[array]] block."""
    lines = [header] + [f"{k} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def window_km(rows: list[dict], first: date, days: int) -> float:
    """Running km between ``first`` and ``first + days - 1`` (local dates)."""
    last = first + timedelta(days=days - 1)
    return sum(r["distance_m"] for r in rows if first <= r["day"] <= last) / 1000


def window_runs(rows: list[dict], first: date, days: int) -> int:
    """Number of runs in the window."""
    last = first + timedelta(days=days - 1)
    return sum(1 for r in rows if first <= r["day"] <= last)


def session_spikes(rows: list[dict]) -> list[dict]:
    """Runs > 10 % longer than the longest run of the prior 30 days (RULES §4)."""
    out = []
    for r in rows:
        prior = [x for x in rows if r["day"] - timedelta(30) <= x["day"] < r["day"]]
        if len(prior) >= 2 and r["day"] - rows[0]["day"] >= timedelta(30):
            longest = max(prior, key=lambda x: x["distance_m"])
            ratio = r["distance_m"] / longest["distance_m"]
            if ratio > 1.10:
                out.append({
                    "date": str(r["day"]), "km": r["distance_m"] / 1000,
                    "prior_max_km": longest["distance_m"] / 1000,
                    "prior_max_date": str(longest["day"]), "ratio": ratio,
                })  # fmt: skip
    return out


def weekly(rows: list[dict]) -> list[dict]:
    """Monday-to-Sunday totals of the 16 weeks."""
    out = []
    for w in range(len(WEEKS)):
        first = FIRST_MONDAY + timedelta(7 * w)
        week = [r for r in rows if first <= r["day"] < first + timedelta(7)]
        out.append({
            "week": w + 1, "monday": str(first), "km": window_km(rows, first, 7),
            "runs": len(week), "descent_m": sum(r["descent_m"] for r in week),
            "longest_km": max(r["distance_m"] for r in week) / 1000,
        })  # fmt: skip
    return out


def activity_row(p: Planned, run: SyntheticRun, name: str, device: str) -> dict:
    """The index.toml entry of one file."""
    tot = run_totals(run)
    local = datetime.fromtimestamp(run.start_s, PARIS)
    offset = local.utcoffset()
    container = {"zip": "zip", "gz": "gzip"}.get(p.storage, "plain")
    fmt = "gpx" if name.endswith(".gpx") else "fit"
    return {
        "file": ZIP_NAME if container == "zip" else name,
        "member": f"activities/{name}" if container == "zip" else "",
        "format": fmt, "container": container, "day": p.day,
        "local_date": str(p.day), "local_start": f"{local:%H:%M}",
        "start_utc": f"{datetime.fromtimestamp(run.start_s, UTC):%Y-%m-%dT%H:%M:%SZ}",
        "utc_offset_s": int(offset.total_seconds()) if offset else 0,
        "kind": p.kind, "sport": "running",
        "sub_sport": "trail" if p.kind == "trail" else "generic",
        "distance_m": tot["distance_m"], "elapsed_s": tot["elapsed_s"],
        "n_samples": int(run.samples["time_s"].size), "interval_s": 5,
        "avg_hr": tot["avg_hr"], "max_hr": tot["max_hr"],
        "avg_cadence_spm": 2 * tot["avg_cadence_per_leg"],
        "cadence_in_file": "spm" if device == "StravaGPX" else "per_leg",
        "ascent_m": run.ascent_m, "descent_m": run.descent_m, "device": device,
        "columns": FIT_COLUMNS if fmt == "fit" else GPX_COLUMNS,
    }  # fmt: skip


def story(rows: list[dict], weeks: list[dict]) -> dict[str, dict]:
    """The training story with the dates and numbers later analysis must find."""
    w = {x["week"]: x for x in weeks}
    return {**story_load(rows, w), **story_gait(rows, w), **story_race(rows)}


def story_load(rows: list[dict], w: dict[int, dict]) -> dict[str, dict]:
    """Base, the +40 % week, the long-run spike and the peak."""
    spike = next(s for s in session_spikes(rows) if s["date"] == "2026-08-30")
    return {
        "base": {
            "from": "2026-07-27", "to": "2026-08-23",
            "weekly_km": [w[i]["km"] for i in range(1, 5)],
            "longest_km": max(w[i]["longest_km"] for i in range(1, 5)),
            "text": "Weeks 1-4: base of ~32-35 km/week, longest run 12-14 km.",
        },
        "weekly_ramp": {
            "from": "2026-08-24", "to": "2026-08-30", "rule": "weekly_ramp",
            "km": w[5]["km"], "previous_km": w[4]["km"], "as_of": "2026-08-30",
            "increase": w[5]["km"] / w[4]["km"] - 1,
            "text": "Week 5 (Mon-Sun) is about +40 % over week 4.",
        },
        "session_spike": {
            **spike, "rule": "session_spike",
            "text": "A long run > 30 % longer than the longest of the prior 30 days.",
        },
        "peak": {
            "from": "2026-10-05", "to": "2026-10-18", "longest_date": "2026-10-18",
            "weekly_km": [w[11]["km"], w[12]["km"]], "longest_km": w[12]["longest_km"],
            "text": "Weeks 11-12 are the peak (~55 km); longest run 27 km.",
        },
    }  # fmt: skip


def story_gait(rows: list[dict], w: dict[int, dict]) -> dict[str, dict]:
    """The low-cadence stretch and the downhill week."""
    low = [r for r in rows if r["kind"].startswith("lowcad")]
    mean4 = sum(w[i]["descent_m"] for i in range(5, 9)) / 4
    hilly = ("hill_repeats", "stairs", "trail")
    return {
        "low_cadence": {
            "from": str(low[0]["day"]), "to": str(low[-1]["day"]), "runs": len(low),
            "rule": "cadence_low", "cadence_spm": LOW_SPM, "speed_kmh": 10.0,
            "usual_cadence_spm": USUAL_SPM, "population_low_spm_at_10kmh": 160.0,
            "text": "Weeks 6-8: easy runs at 10 km/h with 154 spm (usual 168); "
            "long runs at 9.6 km/h with 152 spm (usual 166).",
        },
        "downhill": {
            "from": "2026-09-21", "to": "2026-09-27", "rule": "descent_ramp",
            "weekly_descent_m": w[9]["descent_m"],
            "prior_4_week_mean_descent_m": mean4,
            "ratio": w[9]["descent_m"] / mean4,
            "increase_m": w[9]["descent_m"] - mean4,
            "dates": [str(r["day"]) for r in rows if r["kind"] in hilly],
            "text": "Week 9: hill repeats (Fourviere), Croix-Rousse slopes and a "
            "Monts d'Or trail run; descent from the route profile (before noise).",
        },
    }  # fmt: skip


def story_race(rows: list[dict]) -> dict[str, dict]:
    """The taper windows of RULES section 7, the race and the clock change."""
    d = RACE_DAY
    base_weeks = [window_km(rows, d - timedelta(49 - 7 * i), 7) for i in range(4)]
    base = sum(base_weeks) / 4
    taper: dict[str, object] = {
        "race_date": str(d), "baseline_from": str(d - timedelta(49)),
        "baseline_to": str(d - timedelta(22)), "baseline_weeks_km": base_weeks,
        "baseline_km_per_week": base,
        "baseline_runs_per_week": [
            window_runs(rows, d - timedelta(49 - 7 * i), 7) for i in range(4)
        ],
        "runs_w3_w2_w1": [
            window_runs(rows, d - timedelta(7 * k), 7) for k in (3, 2, 1)
        ],
    }  # fmt: skip
    for k in (3, 2, 1):
        km = window_km(rows, d - timedelta(7 * k), 7)
        taper |= {f"w{k}_from": str(d - timedelta(7 * k)), f"w{k}_km": km}
        taper[f"w{k}_ratio"] = km / base
    tempo = [str(r["day"]) for r in rows if r["kind"] in ("tempo", "sharpener")]
    taper |= {"faster_running_dates": tempo[-4:], "expected_verdict": "on_track"}
    taper["text"] = (
        "3-week strict taper (~0.8/0.6/0.45 of baseline) keeping frequency and a "
        "tempo session each week; windows per RULES 7."
    )
    return {
        "taper": taper,
        "race": {
            "date": str(d), "distance_m": 42195.0, "kind": "race",
            "text": "Marathon in Lyon, 08:00 local (UTC+1). It is itself a "
            "session spike against the 27 km of 2026-10-18.",
        },
        "dst": {
            "date": "2026-10-25", "offset_before_s": 7200, "offset_after_s": 3600,
            "text": "Europe/Paris leaves summer time; FIT local_timestamp follows.",
        },
    }  # fmt: skip


def main(folder: Path) -> None:
    """Write every sample file and index.toml into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.suffix in (".fit", ".gpx", ".gz", ".zip", ".toml"):
            old.unlink()
    rows, members = [], []
    for p in plan():
        run = build(p)
        name, data, device = encode(p, run)
        rows.append(activity_row(p, run, name, device))
        if p.storage == "zip":
            members.append((f"activities/{name}", data))
        else:
            (folder / name).write_bytes(data)
    with zipfile.ZipFile(folder / ZIP_NAME, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members:
            zf.writestr(
                zipfile.ZipInfo(member, (2026, 10, 20, 12, 0, 0)),
                data,
                zipfile.ZIP_DEFLATED,
            )
    write_index(folder / "index.toml", rows)


def write_index(path: Path, rows: list[dict]) -> None:
    """index.toml: header comment, athlete, story, spikes, weeks, one entry per file."""
    weeks = weekly(rows)
    parts = [HEADER, toml_table("[athlete]", ATHLETE)]
    parts += [toml_table(f"[story.{k}]", v) for k, v in story(rows, weeks).items()]
    parts += [toml_table("[[session_spikes]]", x) for x in session_spikes(rows)]
    parts += [toml_table("[[weeks]]", week) for week in weeks]
    for row in rows:
        entry = {k: v for k, v in row.items() if k != "day"}
        parts.append(toml_table("[[activity]]", entry))
    path.write_text("\n".join(parts), encoding="utf-8")


ATHLETE = {
    "sex": "female",
    "hr_max": HR_MAX,
    "hr_rest": HR_REST,
    "timezone": "Europe/Paris",
    "home_lat": LYON_HOME[0],
    "home_lon": LYON_HOME[1],
    "easy_speed_kmh": 10.0,
    "easy_cadence_spm": USUAL_SPM,
    "race_date": str(RACE_DAY),
    "race_distance_m": 42195.0,
}
HEADER = """\
# sample_activities/index.toml: what the synthetic sample block contains.
#
# ONE synthetic runner living in Lyon (Europe/Paris: UTC+2 until 2026-10-25, then
# UTC+1), 16 weeks from Monday 2026-07-27 to a marathon on Sunday 2026-11-15.
# Generated by scripts/make_samples.py (kneeload._testing.synth); deterministic:
# re-run it instead of editing files.
# Most files are Garmin-like FIT (manufacturer garmin,
# product fr935, 5-second smart recording, cadence per leg + fractional_cadence);
# some are GPX "exported from Strava" (creator StravaGPX, cadence in steps/min) or
# Garmin Connect (per-leg cadence), one is gzip'd (.fit.gz) and two GPX sit in a
# Strava-like export zip (member paths under activities/).
#
# [story.*]: the training story with dates and numbers; "rule" names the rule id
# (INTERFACE.md) expected to fire. Distances are the files' own summary distances,
# descents come from the noise-free route profile (an analysis that smooths and
# uses hysteresis finds slightly less). [[session_spikes]] lists every run > 10 %
# longer than the longest of the prior 30 days (>= 2 runs in that window).
# Weeks in [[weeks]] run Monday-Sunday; taper windows follow RULES.md section 7
# (they end the day before the race, so they run Sunday-Saturday).
"""


if __name__ == "__main__":
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        # an option is never a folder: "--help" once wrote the samples to ./--help/
        raise SystemExit(__doc__.split("\n\n")[1].replace("``", ""))
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1]
    main(out / "sample_activities" if len(sys.argv) == 1 else out)
