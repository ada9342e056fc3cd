"""Which sport an activity is, when the file says, when the export says, or neither.

RULES §1.4 fixes the order of the sources, kept in ``sport_source``:

1. the file's own sport (FIT ``sport``/``sub_sport``, TCX ``Sport``, GPX ``<type>``
   words and numeric codes) -> ``"file"``;
2. the export's metadata (Strava *Activity Type*, Garmin *activityType*, Apple
   ``workoutActivityType``) -> ``"export"``;
3. inference from the content (grade C) -> ``"inferred: <evidence>"``;
4. the runner's correction, which the store applies afterwards (``"runner"``).

Content inference looks at the moving samples (speed > 0.5 m/s). Cadence is tried in
each unit a file may carry (per leg x 2, steps/min, doubled / 2, as in RULES §1.2):
a reading of 140-210 spm with a step length ``v / (spm / 60)`` of 0.7-1.9 m is
running, 90-135 spm with 0.4-0.9 m is walking, and a "cadence" whose step length
exceeds 2.2 m even read as stored is pedalling (at 1.9 m/s or more: slower, a
swimmer's strokes would pass for pedals). Cadence that fits no gait keeps an
activity out of running. Without cadence the median moving speed decides:
1.9-5.8 m/s running, below walking/hiking, above 6.5 m/s cycling, in between (or
with a long stretch above 8 m/s, a car or a train) ``other`` with the reason.
"""

from __future__ import annotations

import re

import numpy as np

from kneeload.cadence_units import (
    GAP_CAP_S,
    MOVING_SPEED_MPS,
    hold_weights,
    weighted_median,
)
from kneeload.schema import SPORTS, RawActivity, Samples

#: Sport words as files and exports spell them (lower-cased, spaces and dashes
#: as ``_``) -> canonical sport. FIT ``sport`` enum names, TCX ``Sport``
#: (``Running``, ``Biking``), GPX ``<type>`` words (Garmin Connect ``running``,
#: ``road_biking``, ``trail_running``, ``hiking``), Strava activity types (``Run``,
#: ``VirtualRun``, ``Ride``, ``EBikeRide``, ``Hike``), Garmin Connect activity type
#: keys and Apple Health ``HKWorkoutActivityType…`` names (prefix removed).
SPORT_WORDS: dict[str, str] = {
    # running
    "running": "running", "run": "running", "trail_running": "running",
    "trailrun": "running", "trail_run": "running", "virtualrun": "running",
    "virtual_run": "running", "treadmill_running": "running",
    "indoor_running": "running", "street_running": "running",
    "track_running": "running", "ultra_run": "running", "obstacle_run": "running",
    "treadmill": "running", "jogging": "running",
    # walking and hiking
    "walking": "walking", "walk": "walking", "hiking": "walking", "hike": "walking",
    "casual_walking": "walking", "speed_walking": "walking",
    "indoor_walking": "walking", "mountaineering": "walking",
    # cycling
    "cycling": "cycling", "biking": "cycling", "ride": "cycling", "bike": "cycling",
    "road_biking": "cycling", "mountain_biking": "cycling", "gravel_cycling": "cycling",
    "cyclocross": "cycling", "indoor_cycling": "cycling", "virtual_ride": "cycling",
    "virtualride": "cycling", "e_biking": "cycling", "e_bike_fitness": "cycling",
    "ebikeride": "cycling", "emountainbikeride": "cycling", "gravelride": "cycling",
    "mountainbikeride": "cycling", "track_cycling": "cycling",
    "recumbent_cycling": "cycling", "handcycle": "cycling", "velomobile": "cycling",
    # swimming
    "swimming": "swimming", "swim": "swimming", "lap_swimming": "swimming",
    "open_water_swimming": "swimming", "pool_swimming": "swimming",
}  # fmt: skip
#: Numeric GPX ``<type>`` codes of Strava exports (1 Ride, 9 Run, 10 Walk, 4 Hike).
STRAVA_CODES: dict[str, str] = {
    "1": "cycling",
    "4": "walking",
    "9": "running",
    "10": "walking",
}
#: Numeric ``<type>`` codes of Garmin Connect activity types (typeId).
GARMIN_CODES: dict[str, str] = {
    "1": "running", "2": "cycling", "3": "walking", "6": "running", "7": "running",
    "8": "running", "9": "walking", "10": "cycling", "15": "walking", "16": "walking",
    "18": "running", "19": "cycling", "20": "cycling", "21": "cycling",
    "22": "cycling", "25": "cycling", "26": "swimming", "27": "swimming",
    "28": "swimming",
}  # fmt: skip
#: Words that say "no sport given": the file leaves the choice to later sources.
NO_SPORT_WORDS = frozenset(
    {"", "generic", "other", "all", "unknown", "none", "uncategorized", "0"}
)
#: FIT/GPX sub-sports that imply running when the sport itself says nothing.
RUNNING_SUB_SPORTS = ("treadmill", "trail", "track", "indoor_running", "street")

#: RULES §1.4 bands (grade C).
RUN_SPM = (140.0, 210.0)
RUN_STEP_M = (0.7, 1.9)
WALK_SPM = (90.0, 135.0)
WALK_STEP_M = (0.4, 0.9)
PEDAL_STEP_M = 2.2
RUN_SPEED_MPS = (1.9, 5.8)
CYCLE_SPEED_MPS = 6.5
VEHICLE_SPEED_MPS = 8.0
#: A continuous stretch above ``VEHICLE_SPEED_MPS`` this long is not human-powered
#: at running or walking speeds (a car, a train).
VEHICLE_STRETCH_S = 120.0
#: Fewer moving seconds than this: nothing to infer from.
MIN_MOVING_S = 60.0
#: Cadence is used when at least this share of the moving time carries it.
MIN_CADENCE_SHARE = 0.3
#: The units a stored cadence may be in (RULES §1.2): factor to steps/min.
CADENCE_FACTORS = (2.0, 1.0, 0.5)


def _key(word: str) -> str:
    return word.strip().lower().replace(" ", "_").replace("-", "_")


def sport_word(word: str | None, *, creator: str | None = None) -> str | None:
    """Canonical sport of one sport word or code; None when it names no sport.

    A word we do not know that still names something (FIT ``training``, Strava
    ``Yoga``) is ``other``: the source did say, and it is not one we track.
    Numeric codes are Strava's unless ``creator`` names Garmin.
    """
    if word is None:
        return None
    key = _key(word)
    if key.startswith("hkworkoutactivitytype"):
        key = key[len("hkworkoutactivitytype") :]
    if key in NO_SPORT_WORDS:
        return None
    if key.isdigit():
        codes = (
            GARMIN_CODES if creator and "garmin" in creator.lower() else STRAVA_CODES
        )
        return codes.get(key, "other")
    if key in SPORT_WORDS:
        return SPORT_WORDS[key]
    squashed = key.replace("_", "")
    for known, sport in SPORT_WORDS.items():
        if known.replace("_", "") == squashed:
            return sport
    return "other"


def file_sport(
    sport: str | None, sub_sport: str | None, *, creator: str | None = None
) -> tuple[str | None, str | None]:
    """(canonical sport or None when the file names none, normalised sub-sport)."""
    sub = _key(sub_sport) if sub_sport else None
    if sub in ("generic", "", "all"):
        sub = None
    found = sport_word(sport, creator=creator)
    if found is None and sub in RUNNING_SUB_SPORTS:
        return "running", sub
    return found, sub


#: File-name words (e.g. "…-Run.gpx.gz"): the last clue, used only when the file,
#: the export and the content leave the sport open.
HINT_WORDS: dict[str, str] = {
    "run": "running", "running": "running", "jog": "running", "treadmill": "running",
    "walk": "walking", "walking": "walking", "hike": "walking", "hiking": "walking",
    "ride": "cycling", "bike": "cycling", "biking": "cycling", "cycling": "cycling",
    "swim": "swimming", "swimming": "swimming",
}  # fmt: skip


def hint_sport(name: str | None) -> str | None:
    """The sport a file name spells out (``…-Run.gpx.gz`` -> running), if any."""
    for word in re.split(r"[^a-z]+", (name or "").lower()):
        if word in HINT_WORDS:
            return HINT_WORDS[word]
    return None


def activity_sport(
    raw: RawActivity, samples: Samples, *, name: str | None = None
) -> tuple[str, str | None, str]:
    """(sport, sub_sport, sport_source) of one read activity (RULES §1.4).

    ``samples`` as for ``infer_sport``; ``name`` is the file name, whose sport
    word is used only when the content is inconclusive.
    """
    found, sub = file_sport(raw.sport, raw.sub_sport, creator=raw.device)
    if raw.export_sport and sport_word(raw.sport, creator=raw.device) is None:
        found = None  # a sub-sport alone (e.g. Apple's indoor run) defers to the export
    sport, source = infer_sport(
        samples, file_sport=found, export_sport=raw.export_sport
    )
    hinted = hint_sport(name) if sport == "other" and source != "file" else None
    if hinted:
        return hinted, sub, f"{source}; the file name says {hinted}"
    return sport, sub, source


def infer_sport(
    samples: Samples, *, file_sport: str | None, export_sport: str | None
) -> tuple[str, str]:
    """(sport, sport_source) per RULES §1.4: file, then export, then the content.

    ``samples`` needs ``time_s`` and ``speed_mps`` (NaN where unknown) and may hold
    ``cadence_raw`` (any unit) or ``cadence_spm``.
    """
    if file_sport in SPORTS:
        return str(file_sport), "file"
    if export_sport in SPORTS:
        return str(export_sport), "export"
    sport, evidence = infer_from_content(samples)
    return sport, f"inferred: {evidence}"


def infer_from_content(samples: Samples) -> tuple[str, str]:
    """(sport, evidence) from speed and cadence alone (RULES §1.4, grade C)."""
    t = _column(samples, "time_s")
    v = _column(samples, "speed_mps", t.size)
    if t.size < 2:
        return "other", "too few samples"
    w = hold_weights(t)
    moving = np.isfinite(v) & (v > MOVING_SPEED_MPS) & (w > 0)
    moving_s = float(w[moving].sum())
    if moving_s < MIN_MOVING_S:
        return "other", f"only {moving_s:.0f} s moving"
    v_med = weighted_median(v[moving], w[moving]) or 0.0
    if "cadence_spm" in samples:
        cad = _column(samples, "cadence_spm", t.size)
        factors: tuple[float, ...] = (1.0,)
    else:
        cad, factors = _column(samples, "cadence_raw", t.size), CADENCE_FACTORS
    with_cad = moving & np.isfinite(cad) & (cad > 0)
    if float(w[with_cad].sum()) >= MIN_CADENCE_SHARE * moving_s:
        return _by_cadence(cad, v, w, with_cad, factors)
    return _by_speed(t, v, w, moving, v_med)


def _by_cadence(
    cad: np.ndarray,
    v: np.ndarray,
    w: np.ndarray,
    sel: np.ndarray,
    factors: tuple[float, ...],
) -> tuple[str, str]:
    c = weighted_median(cad[sel], w[sel]) or 0.0
    speed = weighted_median(v[sel], w[sel]) or 0.0
    for sport, (lo, hi), (step_lo, step_hi) in (
        ("running", RUN_SPM, RUN_STEP_M),
        ("walking", WALK_SPM, WALK_STEP_M),
    ):
        for factor in factors:
            spm = c * factor
            step = speed / (spm / 60.0)
            if lo <= spm <= hi and step_lo <= step <= step_hi:
                return (
                    sport,
                    f"median {speed:.1f} m/s, {spm:.0f} spm, step {step:.2f} m",
                )
    as_stored = speed / (c / 60.0)
    if as_stored > PEDAL_STEP_M and speed >= RUN_SPEED_MPS[0]:
        how = f"a {as_stored:.1f} m step"
        return "cycling", f"median {speed:.1f} m/s, cadence {c:.0f} is {how}: pedalling"
    return "other", f"median {speed:.1f} m/s, cadence {c:.0f} fits no gait"


def _by_speed(
    t: np.ndarray, v: np.ndarray, w: np.ndarray, moving: np.ndarray, v_med: float
) -> tuple[str, str]:
    head = f"median {v_med:.1f} m/s, no cadence"
    fast_s = _longest_stretch(t, v > VEHICLE_SPEED_MPS)
    if v_med <= CYCLE_SPEED_MPS and fast_s >= VEHICLE_STRETCH_S:
        return (
            "other",
            f"{head}, {fast_s:.0f} s above {VEHICLE_SPEED_MPS:g} m/s (a vehicle?)",
        )
    if v_med < RUN_SPEED_MPS[0]:
        return "walking", head
    if v_med <= RUN_SPEED_MPS[1]:
        return "running", head
    if v_med > CYCLE_SPEED_MPS:
        return "cycling", head
    return "other", f"{head}: between running and cycling speeds"


def _longest_stretch(t: np.ndarray, flag: np.ndarray) -> float:
    """Longest time span of consecutive flagged samples (gaps > 10 s break it)."""
    flag = flag & np.isfinite(t)
    if not flag.any():
        return 0.0
    gap = np.concatenate(([True], np.diff(t) > GAP_CAP_S))
    starts = flag & (gap | ~np.concatenate(([False], flag[:-1])))
    run_id = np.cumsum(starts)
    idx = np.flatnonzero(flag)
    ids = run_id[idx]
    first = np.full(ids.max() + 1, np.inf)
    last = np.full(ids.max() + 1, -np.inf)
    np.minimum.at(first, ids, t[idx])
    np.maximum.at(last, ids, t[idx])
    spans = last[1:] - first[1:]
    return float(spans[np.isfinite(spans)].max(initial=0.0))


def _column(samples: Samples, name: str, n: int | None = None) -> np.ndarray:
    if name in samples:
        return np.asarray(samples[name], dtype=np.float64)
    return np.full(n or 0, np.nan)
