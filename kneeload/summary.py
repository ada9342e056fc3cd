"""Turn one reader ``RawActivity`` into one canonical ``Activity`` (RULES §1, §2, §10).

Decisions (all grade C engineering defaults, configurable by keyword):

* **Time weighting.** Each sample holds until the next one, gaps capped at
  ``GAP_CAP_S`` = 10 s; the last sample holds 0 s. Smart recording (one point per
  4-7 s) therefore does not bias HR means, histograms or cadence medians.
* **Distance.** The file's summary (``total_distance_m`` > 0) → "summary"; else
  last - first cumulative ``distance_m`` summed per segment → "records"; else
  haversine per segment → "haversine"; else None / "none". Never across breaks.
* **Elapsed / moving.** ``elapsed_s`` = the file's total elapsed time, else last -
  first timestamp (if the summary says timer > elapsed it is inconsistent, and the
  largest of elapsed, timer and the record span is used). ``moving_s`` = the file's
  timer time, else time-weighted seconds at speed > 0.5 m/s (gaps capped), else
  time-weighted seconds.
* **Cadence.** Unit detection of ``kneeload.cadence_units`` for running/walking
  in every format, FIT included. ``cadence_spm`` = time-weighted *median* over
  the gait samples (speed > 1.5 m/s, cadence > 0); cycling/swimming/other keep no
  steps/min ("not steps (cycling)").
* **Elevation.** One method for every format so descent rules compare like with
  like: ≈30 s median smoothing, then hysteresis (``hysteresis_m`` = 4 m). The
  file's own ascent/descent are used only when samples have no altitude.
  ``downhill_s`` = moving seconds at grade < -5 %, grade taken over 50 m
  (RULES asks >= 10 m; ``geo.GRADE_WINDOW_M`` says why 50).
* **Time zone.** FIT ``utc_offset_s`` ("file"; ignored beyond +/-14 h); else the
  zone at the first position ("position"); else ``default_tz`` ("config"); else
  UTC with ``utc_offset_s`` None ("config"). ``local_date`` = start date in that zone.
* **Relative timestamps** (FIT seconds since power-on) cannot be placed on a
  calendar, so they raise ``NotAnActivityError`` rather than inventing 1989/1990.
* **Plausibility** (RULES §1.5). Before anything is computed, samples whose time
  is before 1990-01-01 or after now + 1 day, or earlier than a sample before them
  (a clock going back), are dropped whole; positions off the globe or at (0, 0),
  heart rates outside 25-240 bpm (0 and 255 are "no value"), altitudes outside
  -500..9,000 m, and, once the sport is known, running speeds above 12.5 m/s and
  cadences above 260 steps/min lose that one value. Each kind of drop is counted
  in ``RawActivity.notes``. When no timestamp at all is plausible the times are
  kept as they are (the activity-level check says why it is suspect). A clock
  that jumps forward by more than ``CLOCK_JUMP_S`` inside one activity splits it
  (``split_clock_jumps``, called by ingest before ``summarise``).
* **Sparse heart rate** (GPX/TCX). Each HR sample holds until the next HR sample,
  gaps capped at 10 s, not until the next point (RULES §10).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import time

import numpy as np

from kneeload import geo
from kneeload.cadence_units import (
    GAP_CAP_S,
    MOVING_SPEED_MPS,
    STEP_SPORTS,
    detect_cadence_factor,
    gait_mask,
    hold_weights,
    steady_segments,
    time_weighted_mean,
    weighted_median,
)
from kneeload.errors import NotAnActivityError
from kneeload.schema import (
    FUTURE_SLACK_S,
    SAMPLE_FIELDS,
    Activity,
    RawActivity,
    Samples,
    activity_suspect,
    iso_utc,
)
from kneeload.sport import activity_sport, file_sport, hint_sport

DESCENT_HYSTERESIS_M = 4.0
DOWNHILL_GRADE = -0.05
#: Real zones span UTC-12..UTC+14; a larger file offset is a broken local_timestamp.
MAX_UTC_OFFSET_S = 14 * 3600.0
FORMAT_BONUS = {"fit": 2, "tcx": 1, "gpx": 0}

# RULES §1.5 sample-level limits
EARLIEST_UTC = 631152000.0  # 1990-01-01T00:00:00Z
HR_MIN_BPM, HR_MAX_BPM = 25.0, 240.0
MAX_SPM = 260.0
#: One running sample faster than this is a glitch (the activity-level average
#: limit is ``schema.MAX_RUN_SPEED_MPS``, 7 m/s).
MAX_RUN_SAMPLE_SPEED_MPS = 12.5
ALTITUDE_RANGE_M = (-500.0, 9000.0)
#: A forward jump of the clock longer than this inside one activity splits it.
CLOCK_JUMP_S = 86_400.0
#: Formats whose HR is held to the next HR sample, not the next point.
SPARSE_HR_FORMATS = ("gpx", "tcx")

RELATIVE_TIME_REASON = (
    "timestamps are relative to device power-on: no calendar date to place the activity"
)


def normalise_sport(
    sport: str | None, sub_sport: str | None, hint: str | None
) -> tuple[str, str | None]:
    """Map a file's sport/sub-sport (and a file-name hint) to (sport, sub_sport)."""
    found, sub = file_sport(sport, sub_sport)
    return found or hint_sport(hint) or "other", sub


@dataclasses.dataclass
class _Track:
    """The cleaned samples of one activity and the series derived from them."""

    cols: dict[str, np.ndarray]
    t: np.ndarray  # epoch s
    w: np.ndarray  # hold weight of each sample (s)
    cum: np.ndarray  # cumulative distance (m)
    speed: np.ndarray  # m/s, running speeds above the limit dropped
    sport: str
    sub_sport: str | None
    sport_source: str
    spm: np.ndarray  # cadence, steps/min
    cadence: tuple[float | None, str | None, float | None]  # value, audit, step length


def summarise(
    raw: RawActivity,
    source: str,
    *,
    default_tz: str | None = None,
    hysteresis_m: float = DESCENT_HYSTERESIS_M,
    now_utc: float | None = None,
) -> tuple[Activity, Samples]:
    """Canonical ``Activity`` and samples (cadence in steps/min) of ``raw``.

    Sample-level drops (RULES §1.5) are counted in ``raw.notes``.
    """
    if raw.relative_time:
        raise NotAnActivityError(source, RELATIVE_TIME_REASON)
    now = time.time() if now_utc is None else now_utc
    cols, rows_dropped, drops = _clean_columns(raw, now)
    start = _start(raw, cols["time_s"], source, now)
    track = _track(raw, cols, source, drops)
    raw.notes += _drop_notes(drops)
    activity = _activity(
        raw,
        source,
        track,
        start,
        default_tz=default_tz,
        hysteresis_m=hysteresis_m,
        elapsed_from=start if rows_dropped else None,
    )
    activity.suspect = _suspect(activity, track.t, now)
    return activity, _canonical_samples(cols, track.cum, track.speed, track.spm)


def _clean_columns(
    raw: RawActivity, now: float
) -> tuple[dict[str, np.ndarray], bool, dict[str, int]]:
    """The sample columns with implausible rows and values dropped (RULES §1.5)."""
    drops: dict[str, int] = {}
    cols, rows_dropped = _plausible_rows(_columns(raw), now, drops)
    _plausible_values(cols, drops)
    if rows_dropped and raw.format == "gpx":
        # the reader's GPS distance and speed ran over the dropped points
        cols["distance_m"] = np.full(cols["time_s"].size, np.nan)
        cols["speed_mps"] = np.full(cols["time_s"].size, np.nan)
    return cols, rows_dropped, drops


def _track(
    raw: RawActivity, cols: dict[str, np.ndarray], source: str, drops: dict[str, int]
) -> _Track:
    """Weights, distance, speed, sport (RULES §1.4) and cadence of the samples."""
    t = cols["time_s"]
    w = hold_weights(t)
    cum = _cumulative_distance(cols)
    speed = _speed(cols["speed_mps"], cum, t)
    gait = {"time_s": t, "speed_mps": speed, "cadence_raw": cols["cadence_raw"]}
    sport, sub_sport, sport_source = activity_sport(raw, gait, name=_name(source))
    if sport == "running":
        speed = _drop(speed, speed > MAX_RUN_SAMPLE_SPEED_MPS, "running speed", drops)
    spm, value, audit, step_len = _cadence(raw.format, sport, cols, speed, w, drops)
    return _Track(
        cols=cols,
        t=t,
        w=w,
        cum=cum,
        speed=speed,
        sport=sport,
        sub_sport=sub_sport,
        sport_source=sport_source,
        spm=spm,
        cadence=(value, audit, step_len),
    )


def _activity(
    raw: RawActivity,
    source: str,
    track: _Track,
    start: float,
    *,
    default_tz: str | None,
    hysteresis_m: float,
    elapsed_from: float | None,
) -> Activity:
    """The activity row of ``track`` (``suspect`` is set by the caller)."""
    cols, t, w, speed = track.cols, track.t, track.w, track.speed
    distance, distance_source = _distance(raw, cols)
    moving = speed > MOVING_SPEED_MPS
    alt_s, ascent, descent = _elevation(raw, cols["altitude_m"], w, hysteresis_m)
    grade = _grade(track.cum, alt_s)
    offset, tz_source = _utc_offset(raw, cols, start, default_tz)
    hr = cols["heart_rate_bpm"]
    w_hr = hr_weights(t, hr) if raw.format in SPARSE_HR_FORMATS else w
    cad_value, cad_source, step_len = track.cadence
    return Activity(
        source=source,
        format=raw.format,
        sport=track.sport,
        sport_source=track.sport_source,
        name=raw.name,
        gear=raw.gear,
        rpe=raw.rpe,
        sub_sport=track.sub_sport,
        start_utc=start,
        local_date=geo.local_date(start, offset or 0.0),
        utc_offset_s=offset,
        tz_source=tz_source,
        elapsed_s=_elapsed(raw, t, elapsed_from),
        moving_s=_moving(raw, speed, w),
        distance_m=distance,
        distance_source=distance_source,
        ascent_m=ascent,
        descent_m=descent,
        avg_hr=_hr_mean(raw, hr, w_hr),
        max_hr=float(np.nanmax(hr)) if np.isfinite(hr).any() else _hr_ok(raw.max_hr),
        cadence_spm=cad_value,
        cadence_source=cad_source,
        step_length_m=step_len,
        device=raw.device,
        partial=raw.partial,
        n_samples=int(t.size),
        richness=_richness(raw, cols),
        hr_hist=_hr_hist(hr, w_hr),
        steady_segments=steady_segments(t, w, speed, track.spm, grade, start),
        downhill_s=float(w[moving & (grade < DOWNHILL_GRADE)].sum()),
    )


def _suspect(activity: Activity, t: np.ndarray, now: float) -> str | None:
    """RULES §1.5 activity level (``schema.activity_suspect``), plus a clock that
    was never set: no timestamp after 1990-01-01."""
    reasons = [activity_suspect(activity, now_utc=now)]
    if activity.start_utc < EARLIEST_UTC and not plausible_time(t, now).any():
        reasons.append(f"starts before 1990 ({iso_utc(activity.start_utc)})")
    return "; ".join(r for r in reasons if r) or None


def hr_weights(
    time_s: np.ndarray, hr: np.ndarray, cap_s: float = GAP_CAP_S
) -> np.ndarray:
    """Seconds each HR sample holds: until the next HR sample (the last one: until
    the last timestamp), capped at ``cap_s``; samples without HR hold 0."""
    w = np.zeros(time_s.size)
    ok = np.flatnonzero(np.isfinite(time_s) & np.isfinite(hr))
    if ok.size == 0:
        return w
    timed = time_s[np.isfinite(time_s)]
    until = np.append(time_s[ok[1:]], timed.max())
    w[ok] = np.clip(until - time_s[ok], 0.0, cap_s)
    return w


def plausible_time(time_s: np.ndarray, now_utc: float) -> np.ndarray:
    """True where a timestamp lies in 1990-01-01 … now + 1 day (RULES §1.5)."""
    with np.errstate(invalid="ignore"):
        return (time_s >= EARLIEST_UTC) & (time_s <= now_utc + FUTURE_SLACK_S)


def _plausible_rows(
    cols: dict[str, np.ndarray], now: float, drops: dict[str, int]
) -> tuple[dict[str, np.ndarray], bool]:
    """Drop samples at impossible times or going back in time (all columns)."""
    t = cols["time_s"]
    in_range = t.size and t[0] >= EARLIEST_UTC and t[-1] <= now + FUTURE_SLACK_S
    if in_range and bool((np.diff(t) >= 0).all()):
        return cols, False  # in range and never going back: the usual file
    timed = np.isfinite(t)
    good = plausible_time(t, now)
    if not good.any():
        return cols, False  # nothing to anchor on: the activity level says why
    bad_time = timed & ~good
    filled = np.where(good, t, -np.inf)
    before = np.concatenate(([-np.inf], np.maximum.accumulate(filled)[:-1]))
    back = good & (t < before)
    drop = bad_time | back
    if not drop.any():
        return cols, False
    if bad_time.any():
        drops["timestamp outside 1990 … now + 1 day"] = int(bad_time.sum())
    if back.any():
        drops["sample going back in time"] = int(back.sum())
    keep = ~drop
    return {k: v[keep] for k, v in cols.items()}, True


def _plausible_values(cols: dict[str, np.ndarray], drops: dict[str, int]) -> None:
    """Blank single values no sensor can mean (positions, HR, altitude)."""
    lat, lon = cols["lat_deg"], cols["lon_deg"]
    with np.errstate(invalid="ignore"):
        off = (np.abs(lat) > 90.0) | (np.abs(lon) > 180.0) | ((lat == 0) & (lon == 0))
        off |= np.isfinite(lat) != np.isfinite(lon)
        hr = cols["heart_rate_bpm"]
        out_hr = (hr < HR_MIN_BPM) | (hr > HR_MAX_BPM)  # 0 and 255 among them
        alt = cols["altitude_m"]
        bad_alt = (alt < ALTITUDE_RANGE_M[0]) | (alt > ALTITUDE_RANGE_M[1])
    if off.any():
        has = np.isfinite(lat) | np.isfinite(lon)
        if (off & has).any():
            drops["position off the globe or at (0, 0)"] = int((off & has).sum())
        cols["lat_deg"] = np.where(off, np.nan, lat)
        cols["lon_deg"] = np.where(off, np.nan, lon)
    if out_hr.any():
        no_value = (hr == 0) | (hr == 255)  # "no value", not a bad reading
        bad_hr = out_hr & ~no_value
        hr = _drop(hr, no_value, "", {})
        what = "heart rate outside 25-240 bpm"
        cols["heart_rate_bpm"] = _drop(hr, bad_hr, what, drops)
    cols["altitude_m"] = _drop(alt, bad_alt, "altitude outside -500…9,000 m", drops)


def _drop(
    values: np.ndarray, bad: np.ndarray, what: str, drops: dict[str, int]
) -> np.ndarray:
    """``values`` with the ``bad`` ones set to NaN; the count goes to ``drops``."""
    if not bad.any():
        return values
    if what:
        drops[what] = drops.get(what, 0) + int(bad.sum())
    return np.where(bad, np.nan, values)


def _drop_notes(drops: dict[str, int]) -> list[str]:
    return [f"{what}: {n} dropped (RULES §1.5)" for what, n in drops.items()]


def split_clock_jumps(
    raw: RawActivity, now_utc: float | None = None
) -> list[RawActivity]:
    """``raw``, or its parts when the clock jumps forward by days inside it.

    The parts lose the file's whole-activity summary (distance, times, HR,
    climb): ``summarise`` computes them from each part's samples. Part ``k``
    (from 0) keeps ``index = raw.index`` for the first and ``raw.index + k * 10000``
    after, so content ids stay stable.
    """
    t = np.asarray(raw.samples.get("time_s", np.empty(0)), dtype=np.float64)
    if t.size < 2 or np.diff(t).max() <= CLOCK_JUMP_S:  # NaN: the full look below
        return [raw]  # no step of a day: nor between plausible samples either
    now = time.time() if now_utc is None else now_utc
    good = np.flatnonzero(plausible_time(t, now))
    if good.size < 2:
        return [raw]
    steps = np.diff(t[good])
    at = np.flatnonzero(steps > CLOCK_JUMP_S)
    if at.size == 0:
        return [raw]
    bounds = [0, *good[at + 1].tolist(), t.size]
    gaps = [None, *steps[at].tolist()]
    parts = []
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        part = dataclasses.replace(
            raw,
            samples={key: np.asarray(v)[lo:hi] for key, v in raw.samples.items()},
            start_utc=None,
            total_distance_m=None,
            total_elapsed_s=None,
            total_timer_s=None,
            avg_hr=None,
            max_hr=None,
            ascent_m=None,
            descent_m=None,
            index=raw.index + k * 10_000,
            notes=[*raw.notes],
        )
        gap = gaps[k]
        part.notes.append(
            f"part {k + 1} of {len(bounds) - 1} of one recording whose clock jumps "
            "forward by days"
            + (f" ({gap / 86400:.1f} days before this part)" if gap else "")
        )
        parts.append(part)
    return parts


def _name(source: str) -> str:
    return re.split(r"[\\/]", source)[-1]


def _columns(raw: RawActivity) -> dict[str, np.ndarray]:
    n = len(raw.samples["time_s"]) if "time_s" in raw.samples else 0
    if n == 0 and raw.samples:
        n = len(next(iter(raw.samples.values())))
    cols: dict[str, np.ndarray] = {}
    for name in SAMPLE_FIELDS:
        if name in raw.samples:
            cols[name] = np.asarray(raw.samples[name], dtype=np.float64)
        else:
            cols[name] = np.zeros(n) if name == "segment" else np.full(n, np.nan)
    return cols


def _start(raw: RawActivity, t: np.ndarray, source: str, now: float) -> float:
    stated = raw.start_utc
    if stated is not None and np.isfinite(stated):
        plausible = bool(plausible_time(np.array([stated]), now)[0])
        if plausible or not plausible_time(t, now).any():
            return float(stated)
    finite = t[np.isfinite(t)]
    if finite.size == 0:
        raise NotAnActivityError(source, "no timestamps: cannot place the activity")
    return float(finite[0])


def _cumulative_distance(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Non-decreasing distance along the activity, never bridging segment breaks."""
    d = cols["distance_m"]
    seg = cols["segment"]
    ok = np.isfinite(d)
    if ok.sum() >= 2:
        idx = np.maximum.accumulate(np.where(ok, np.arange(d.size), 0))
        filled = d[idx]
        step = np.clip(np.diff(filled), 0.0, None)
        step[np.diff(seg) != 0] = 0.0
        return np.concatenate(([0.0], np.cumsum(step)))
    return geo.cumulative_haversine_m(cols["lat_deg"], cols["lon_deg"], seg)


def _speed(speed_mps: np.ndarray, cum: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The file's speed, gaps filled with distance / time to the next sample."""
    if np.isfinite(speed_mps).all() or cum.size < 2:
        return speed_mps
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = np.append(np.diff(cum) / np.diff(t), np.nan)
    derived[~np.isfinite(derived)] = np.nan
    return np.where(np.isfinite(speed_mps), speed_mps, derived)


def _distance(
    raw: RawActivity, cols: dict[str, np.ndarray]
) -> tuple[float | None, str]:
    if raw.total_distance_m is not None and raw.total_distance_m > 0:
        return float(raw.total_distance_m), "summary"
    records = geo.records_total_m(cols["distance_m"], cols["segment"])
    if records > 0:
        return records, "records"
    gps = geo.haversine_total_m(cols["lat_deg"], cols["lon_deg"], cols["segment"])
    if gps > 0:
        return gps, "haversine"
    return None, "none"


def _elapsed(raw: RawActivity, t: np.ndarray, start: float | None = None) -> float:
    """The file's elapsed time; the sample span when samples were dropped (a
    reader's span over the dropped samples means nothing) or the file has none."""
    finite = t[np.isfinite(t)]
    span = float(finite[-1] - finite[0]) if finite.size >= 2 else 0.0
    if start is not None and raw.format != "fit" and finite.size:
        span = float(finite[-1] - min(start, finite[0]))
        return span
    elapsed = raw.total_elapsed_s if raw.total_elapsed_s else span
    timer = raw.total_timer_s or 0.0
    if timer > elapsed + 1.0:  # inconsistent summary (timer cannot exceed elapsed)
        return float(max(elapsed, timer, span))
    return float(elapsed)


def _moving(raw: RawActivity, speed: np.ndarray, w: np.ndarray) -> float:
    if raw.total_timer_s:
        return float(raw.total_timer_s)
    if np.isfinite(speed).any():
        return float(w[speed > MOVING_SPEED_MPS].sum())
    return float(w.sum())


def _hr_mean(raw: RawActivity, hr: np.ndarray, w: np.ndarray) -> float | None:
    mean = time_weighted_mean(hr, w)
    return _hr_ok(raw.avg_hr) if mean is None else mean


def _hr_ok(bpm: float | None) -> float | None:
    """A file's own HR summary value, None when no heart can mean it."""
    if bpm is None or not HR_MIN_BPM <= bpm <= HR_MAX_BPM:
        return None
    return float(bpm)


def _hr_hist(hr: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    ok = np.isfinite(hr)
    if not ok.any():
        return None
    bpm = np.clip(np.rint(hr[ok]), 0, 255).astype(np.intp)
    return np.bincount(bpm, weights=w[ok], minlength=256).astype(np.float64)


def _cadence(
    fmt: str,
    sport: str,
    cols: dict[str, np.ndarray],
    speed: np.ndarray,
    w: np.ndarray,
    drops: dict[str, int],
) -> tuple[np.ndarray, float | None, str | None, float | None]:
    """(cadence_spm column, activity cadence, audit string, step length)."""
    cad = cols["cadence_raw"]
    none = np.full(cad.size, np.nan)
    if not (cad > 0).any():
        return none, None, None, None
    if sport not in STEP_SPORTS:
        return none, None, f"not steps ({sport})", None
    mask = gait_mask(cad, speed)
    factor, audit = detect_cadence_factor(cad, speed, mask, fmt)
    if factor is None:
        return none, None, audit, None
    spm = cad * factor
    with np.errstate(invalid="ignore"):
        spm = _drop(spm, spm > MAX_SPM, "cadence above 260 steps/min", drops)
    mask = mask & np.isfinite(spm)
    if not mask.any():
        return np.full(cad.size, np.nan), None, audit, None
    value = weighted_median(spm[mask], w[mask])
    if value is None:
        value = float(np.median(spm[mask]))
    sel = mask & np.isfinite(speed)
    steps = float(np.dot(spm[sel] / 60.0, w[sel]))
    step_len = float(np.dot(speed[sel], w[sel]) / steps) if steps > 0 else None
    return spm, value, audit, step_len


def _elevation(
    raw: RawActivity, altitude_m: np.ndarray, w: np.ndarray, hysteresis_m: float
) -> tuple[np.ndarray, float | None, float | None]:
    """(smoothed altitude per sample or NaN, ascent, descent)."""
    ok = np.isfinite(altitude_m)
    if ok.sum() < 2:
        return np.full(altitude_m.size, np.nan), raw.ascent_m, raw.descent_m
    active = np.concatenate(([0.0], np.cumsum(w[:-1])))
    smooth = geo.smooth_altitude(active[ok], altitude_m[ok])
    ascent, descent = geo.climb_with_hysteresis(smooth, hysteresis_m)
    return np.interp(active, active[ok], smooth), ascent, descent


def _grade(cum: np.ndarray, alt_s: np.ndarray) -> np.ndarray:
    if cum.size < 2 or not np.isfinite(alt_s).any() or cum[-1] <= 0:
        return np.full(cum.size, np.nan)
    return geo.grade(cum, alt_s)


def _utc_offset(
    raw: RawActivity, cols: dict[str, np.ndarray], start: float, default_tz: str | None
) -> tuple[float | None, str]:
    if raw.utc_offset_s is not None and abs(raw.utc_offset_s) <= MAX_UTC_OFFSET_S:
        return float(raw.utc_offset_s), "file"
    lat, lon = cols["lat_deg"], cols["lon_deg"]
    fix = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if fix.size:
        zone = geo.timezone_at(float(lat[fix[0]]), float(lon[fix[0]]))
        offset = geo.utc_offset_in(zone, start) if zone else None
        if offset is not None:
            return offset, "position"
    if default_tz:
        return geo.utc_offset_in(default_tz, start), "config"
    return None, "config"  # UTC assumed: no offset, no position, no configured zone


def _richness(raw: RawActivity, cols: dict[str, np.ndarray]) -> int:
    has = [
        np.isfinite(cols["time_s"]).sum() >= 2,
        np.isfinite(cols["distance_m"]).any() or np.isfinite(cols["lat_deg"]).any(),
        np.isfinite(cols["altitude_m"]).any(),
        (cols["heart_rate_bpm"] > 0).any(),
        (cols["cadence_raw"] > 0).any(),
        bool(raw.total_distance_m),
    ]
    return sum(bool(h) for h in has) + FORMAT_BONUS.get(raw.format, 0)


def _canonical_samples(
    cols: dict[str, np.ndarray], cum: np.ndarray, speed: np.ndarray, spm: np.ndarray
) -> Samples:
    distance = cols["distance_m"]
    if not np.isfinite(distance).any() and np.isfinite(cols["lat_deg"]).any():
        distance = cum
    return {
        "time_s": cols["time_s"],
        "distance_m": distance,
        "speed_mps": speed,
        "altitude_m": cols["altitude_m"],
        "heart_rate_bpm": cols["heart_rate_bpm"],
        "cadence_spm": spm,
        "lat_deg": cols["lat_deg"],
        "lon_deg": cols["lon_deg"],
    }
