"""Gait rules from steady segments: cadence, step length, suggestion (RULES §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kneeload.analysis.dates import last_days, local_days
from kneeload.analysis.evidence import (
    ANDERSON_2022,
    HEIDERSCHEIT_2011,
    VAN_OEVEREN_2017,
    WILLSON_2014,
    Flag,
)
from kneeload.analysis.rule_ids import CADENCE_LOW, STEP_LENGTH_UP
from kneeload.cadence_units import STEADY_MIN_S, weighted_median
from kneeload.config import CadenceLowSettings, Settings

_LOW_TAIL = (
    " Low cadence is a gait factor, not a diagnosis; its screening value is "
    "unestablished. A change can also follow fatigue, new shoes or pain."
)


def segment_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Flatten steady segments: one row each with run position, day, speed, spm."""
    rows = [
        (pos, seg.get("duration_s"), seg.get("speed_mps"), seg.get("cadence_spm"))
        for pos, segs in enumerate(runs["steady_segments"])
        for seg in (segs if isinstance(segs, list) else [])
    ]
    table = pd.DataFrame(rows, columns=["run", "duration_s", "speed_mps", "spm"])
    table = table.apply(pd.to_numeric, errors="coerce")
    good = (
        (table["duration_s"] >= STEADY_MIN_S)
        & (table["speed_mps"] > 0)
        & (table["spm"] > 0)
    )
    table = table[good].astype({"run": int})
    day = local_days(runs).to_numpy()
    table["day"] = day[table["run"].to_numpy()] if len(table) else day[:0]
    return table.reset_index(drop=True)


def run_gait(segments: pd.DataFrame) -> pd.DataFrame:
    """Per-run duration-weighted speed and cadence over its steady segments."""
    w = segments["duration_s"]
    tmp = segments.assign(wv=segments["speed_mps"] * w, wc=segments["spm"] * w)
    agg = tmp.groupby("run").agg(
        w=("duration_s", "sum"),
        wv=("wv", "sum"),
        wc=("wc", "sum"),
        day=("day", "first"),
    )
    return pd.DataFrame(
        {
            "speed_mps": agg["wv"] / agg["w"],
            "spm": agg["wc"] / agg["w"],
            "day": agg["day"],
        }
    )


def population_low_spm(
    speed_mps: np.ndarray | float, cfg: CadenceLowSettings
) -> np.ndarray:
    """Population heuristic low(v) = 160 + 3·(v_kmh - 10) spm; never a fixed 180."""
    kmh = np.asarray(speed_mps, dtype=float) * 3.6
    return cfg.base_spm + cfg.slope_spm_per_kmh * (kmh - cfg.base_kmh)


def cadence_model(
    gait: pd.DataFrame, cfg: CadenceLowSettings
) -> tuple[float, float] | None:
    """Fit spm = a + b·speed on baseline runs if RULES §9 minimums hold, else None."""
    if len(gait) < cfg.min_runs:
        return None
    weeks = pd.DatetimeIndex(gait["day"]).isocalendar()
    n_weeks = len(set(zip(weeks["year"], weeks["week"], strict=True)))
    bands = np.floor(gait["speed_mps"] * 3.6 / cfg.speed_band_kmh).nunique()
    if n_weeks < cfg.min_weeks or bands < cfg.min_speed_bands:
        return None
    b, a = np.polyfit(gait["speed_mps"].to_numpy(), gait["spm"].to_numpy(), 1)
    return float(a), float(b)


def _split(gait: pd.DataFrame, cfg: CadenceLowSettings, as_of: date):
    """(baseline runs of the model window before the week, runs of the week)."""
    end = pd.Timestamp(as_of)
    week_start = end - pd.Timedelta(days=6)
    base_start = week_start - pd.Timedelta(weeks=cfg.model_weeks)
    in_week = (gait["day"] >= week_start) & (gait["day"] <= end)
    in_base = (gait["day"] >= base_start) & (gait["day"] < week_start)
    return gait[in_base], gait[in_week]


def gait_flags(runs: pd.DataFrame, *, settings: Settings, as_of: date) -> list[Flag]:
    """cadence_low and step_length_up for the 7 days ending ``as_of``."""
    cfg = settings.thresholds.cadence_low
    gait = run_gait(segment_table(_recent(runs, as_of, cfg.model_weeks + 1)))
    base, week = _split(gait, cfg, as_of)
    if week.empty:
        return []
    model = cadence_model(base, cfg)
    if model is None:
        return _population_flag(week, cfg)
    return _individual_flags(week, model, settings)


def _recent(runs: pd.DataFrame, as_of: date, weeks: int) -> pd.DataFrame:
    return last_days(runs, as_of, 7 * weeks)


def _population_flag(week: pd.DataFrame, cfg: CadenceLowSettings) -> list[Flag]:
    low = population_low_spm(week["speed_mps"].to_numpy(), cfg)
    below = np.flatnonzero(week["spm"].to_numpy() < low)
    if not len(below):
        return []
    i = below[-1]
    spm, kmh = float(week["spm"].iloc[i]), float(week["speed_mps"].iloc[i]) * 3.6
    message = (
        f"On steady stretches at {kmh:.1f} km/h your cadence was {spm:.0f} steps/min, "
        f"below the {low[i]:.0f} steps/min that studies of recreational runners "
        "suggest is usual at that speed (a rough heuristic: 160 at 10 km/h plus about "
        "3 per km/h; 180 is not a target)." + _LOW_TAIL
    )
    day = pd.Timestamp(week["day"].iloc[i]).date()
    ev = [VAN_OEVEREN_2017, HEIDERSCHEIT_2011]
    return [Flag(CADENCE_LOW, "info", day, spm, float(low[i]), message, ev)]


def _individual_flags(
    week: pd.DataFrame, model: tuple[float, float], settings: Settings
) -> list[Flag]:
    cfg = settings.thresholds.cadence_low
    a, b = model
    v = week["speed_mps"].to_numpy()
    predicted = a + b * v
    residual = 100.0 * (week["spm"].to_numpy() / predicted - 1.0)
    flags: list[Flag] = []
    low = residual < cfg.residual_pct
    streak = pd.Series(low).rolling(cfg.consecutive_runs).sum().to_numpy()
    hits = np.flatnonzero(streak >= cfg.consecutive_runs)
    if len(hits):
        i = hits[-1]
        message = (
            f"On your last {cfg.consecutive_runs} runs your cadence was "
            f"{-residual[i]:.0f}% below your own usual cadence at the same speed "
            f"({week['spm'].iloc[i]:.0f} vs {predicted[i]:.0f} steps/min)." + _LOW_TAIL
        )
        day = pd.Timestamp(week["day"].iloc[i]).date()
        ev = [HEIDERSCHEIT_2011, ANDERSON_2022]
        flags.append(
            Flag(
                CADENCE_LOW,
                "info",
                day,
                float(residual[i]),
                cfg.residual_pct,
                message,
                ev,
            )
        )
    return flags + _step_length_flag(week, predicted, settings)


def _step_length_flag(
    week: pd.DataFrame, predicted_spm: np.ndarray, settings: Settings
) -> list[Flag]:
    """Speed-matched step length v/(spm/60) against the own-model prediction."""
    pct_limit = settings.thresholds.step_length_up.info_pct
    v = week["speed_mps"].to_numpy()
    step = v * 60.0 / week["spm"].to_numpy()
    expected = v * 60.0 / predicted_spm
    pct = 100.0 * (float(np.mean(step / expected)) - 1.0)
    if pct <= pct_limit:
        return []
    message = (
        f"This week your steps were {pct:.0f}% longer than your own usual at the same "
        "speed. In lab studies, 10% longer steps raised modelled kneecap-joint stress "
        "per step by about 31%; a watch cannot see foot placement, so treat this as a "
        "proxy for overstriding."
    )
    day = pd.Timestamp(week["day"].iloc[-1]).date()
    return [Flag(STEP_LENGTH_UP, "info", day, pct, pct_limit, message, [WILLSON_2014])]


def round_to_even(x: float) -> int:
    """Round to the nearest even whole number (steps/min come in pairs)."""
    return int(2 * round(x / 2.0))


@dataclass(frozen=True)
class EasyCadence:
    """Easy-pace cadence from steady easy segments, or why there is none."""

    spm: float | None
    speed_mps: float | None
    runs_used: int
    reason: str | None


def easy_cadence(runs: pd.DataFrame, *, settings: Settings, as_of: date) -> EasyCadence:
    """Median over runs of the cadence on steady segments at or below median speed.

    Segments faster than the runner's (duration-weighted) median steady speed are
    not easy, so strides and sprints never set the reference cadence; each run
    contributes its duration-weighted easy cadence once.
    """
    weeks = settings.thresholds.cadence_suggest.window_weeks
    need = settings.thresholds.cadence_suggest.min_runs
    seg = segment_table(_recent(runs, as_of, weeks))
    if seg.empty:
        return EasyCadence(None, None, 0, _missing(0, need, weeks))
    w = seg["duration_s"].to_numpy(float)
    median_speed = weighted_median(seg["speed_mps"].to_numpy(float), w)
    if median_speed is None:  # segments are >= 60 s, so never in practice
        return EasyCadence(None, None, 0, _missing(0, need, weeks))
    easy = seg[seg["speed_mps"] <= median_speed + 1e-9]
    used = int(easy["run"].nunique())
    if used < need:
        return EasyCadence(None, None, used, _missing(used, need, weeks))
    per_run = run_gait(easy)  # each run counts once, however long it was
    spm, speed = float(per_run["spm"].median()), float(per_run["speed_mps"].median())
    return EasyCadence(spm, speed, used, None)


def _missing(used: int, need: int, weeks: int) -> str:
    return (
        f"needs steady easy stretches (at least {STEADY_MIN_S:.0f} s at an even pace "
        "on flat ground, "
        f"after the first 5 minutes, with cadence) from {need} runs in the last "
        f"{weeks} weeks; found {used}"
    )
