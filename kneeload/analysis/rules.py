"""Load-pattern rules on the daily series: ACWR, intensity, monotony (RULES §2-§5)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from kneeload.analysis.evidence import (
    ACWR_TOOLTIP,
    ESCULIER_2016,
    FOSTER_1998,
    FREDETTE_2022,
    GABBETT_2016,
    IMPELLIZZERI_2020,
    NAKAOKA_2021,
    RAMSKOV_2018,
    Flag,
)
from kneeload.analysis.rule_ids import (
    ACWR_HIGH,
    ACWR_LOW,
    INTENSITY_RAMP,
    MONOTONY_HIGH,
)
from kneeload.config import Settings

_ACWR_EVIDENCE = [GABBETT_2016, IMPELLIZZERI_2020, NAKAOKA_2021]


def _acwr_value(uncoupled: float | None, status: str) -> float | None:
    """The uncoupled ratio when it may be shown (status ``ok``), else None."""
    if status != "ok" or uncoupled is None or not np.isfinite(uncoupled):
        return None
    return float(uncoupled)


def acwr_high(
    uncoupled: float | None, status: str, *, settings: Settings, as_of: date
) -> list[Flag]:
    """acwr_high: INFO above 1.3, CAUTION above 1.5; never WARNING (RULES §3)."""
    v = _acwr_value(uncoupled, status)
    high = settings.thresholds.acwr_high
    if v is None or v <= high.info_above:
        return []
    caution = v > high.caution_above
    threshold = high.caution_above if caution else high.info_above
    message = (
        f"Your last 7 days were {v:.2f} times your usual daily running load "
        f"(uncoupled ACWR). {ACWR_TOOLTIP}"
    )
    severity = "caution" if caution else "info"
    return [Flag(ACWR_HIGH, severity, as_of, v, threshold, message, _ACWR_EVIDENCE)]


def acwr_low(
    uncoupled: float | None, status: str, *, settings: Settings, as_of: date
) -> list[Flag]:
    """acwr_low: INFO below 0.8 (outside the taper, which gates the ratio)."""
    v = _acwr_value(uncoupled, status)
    low = settings.thresholds.acwr_low
    if v is None or v >= low.info_below:
        return []
    message = (
        f"Your load dropped (uncoupled ACWR {v:.2f}); rebuild gradually. {ACWR_TOOLTIP}"
    )
    return [Flag(ACWR_LOW, "info", as_of, v, low.info_below, message, _ACWR_EVIDENCE)]


def _weeks(values: pd.Series, weeks: int) -> tuple[float, float, float] | None:
    """(this week, last week, mean of the ``weeks`` weeks before this one) or None."""
    n = 7 * (weeks + 1)
    if len(values) < n:
        return None
    current = float(values.iloc[-7:].sum())
    previous = float(values.iloc[-14:-7].sum())
    baseline = float(values.iloc[-n:-7].sum()) / weeks
    return current, previous, baseline


def intensity_ramp(
    daily: pd.DataFrame, *, settings: Settings, as_of: date
) -> list[Flag]:
    """More fast running than usual: high-intensity minutes, hard sessions, share."""
    cfg = settings.thresholds.intensity_ramp
    upto = daily.loc[: pd.Timestamp(as_of)]
    hi = _weeks(upto["hi_min"], cfg.baseline_weeks)
    hard = _weeks(upto["hard_sessions"], cfg.baseline_weeks)
    run = _weeks(upto["run_moving_min"], cfg.baseline_weeks)
    if hi is None or hard is None or run is None:
        return []
    reasons: list[tuple[str, float, float]] = []
    if hi[0] > cfg.hi_ratio * hi[2] and hi[0] - hi[2] >= cfg.hi_min_increase:
        text = f"{hi[0]:.0f} high-intensity minutes against a usual {hi[2]:.0f}"
        reasons.append((text, hi[0], cfg.hi_ratio * hi[2]))
    if hard[0] >= hard[2] + cfg.hard_sessions_above:
        text = f"{hard[0]:.0f} hard sessions against a usual {hard[2]:.1f}"
        reasons.append((text, hard[0], hard[2] + cfg.hard_sessions_above))
    shares = [h / r if r > 0 else 0.0 for h, r in ((hi[0], run[0]), (hi[1], run[1]))]
    if min(shares) > cfg.hi_share:
        text = f"{100 * shares[0]:.0f}% of running time was high-intensity"
        reasons.append((text + " two weeks running", shares[0], cfg.hi_share))
    if not reasons:
        return []
    message = (
        "You added more fast running than usual ("
        + "; ".join(r[0] for r in reasons)
        + "). Sudden jumps in speedwork are a commonly reported pattern before knee "
        "pain, though studies are inconsistent."
    )
    evidence = [RAMSKOV_2018, FREDETTE_2022, ESCULIER_2016]
    value, threshold = reasons[0][1], reasons[0][2]
    return [Flag(INTENSITY_RAMP, "info", as_of, value, threshold, message, evidence)]


def monotony(load: pd.Series, window: int = 7) -> pd.Series:
    """Foster monotony: rolling mean/SD (ddof=1) incl. rest days; NaN when SD = 0."""
    roll = load.rolling(window, min_periods=window)
    sd = roll.std(ddof=1)
    return (roll.mean() / sd.where(sd > 1e-12)).rename("monotony")


def monotony_high(
    daily: pd.DataFrame, *, settings: Settings, as_of: date, in_taper: bool = False
) -> list[Flag]:
    """INFO when monotony > 2.0 or strain > own 90th percentile of the last 12 weeks."""
    cfg = settings.thresholds.monotony_high
    km = daily["run_km"].loc[: pd.Timestamp(as_of)]
    if in_taper or len(km) < max(cfg.min_history_days, 7):
        return []
    mono = monotony(km)
    strain = km.rolling(7, min_periods=7).sum() * mono
    m, s = float(mono.iloc[-1]), float(strain.iloc[-1])
    if not np.isfinite(m):
        return []
    history = strain.iloc[-(7 * cfg.strain_weeks + 1) : -1].dropna()
    full = len(km) > 7 * cfg.strain_weeks
    p = float(np.percentile(history, cfg.strain_percentile)) if len(history) else np.inf
    if m > cfg.info_above:
        value, threshold, what = m, cfg.info_above, f"monotony {m:.1f}"
    elif full and s > p:
        value, threshold, what = s, p, f"strain {s:.0f}, above your usual range"
    else:
        return []
    message = (
        f"Your days were very similar in load ({what}); mixing easy and rest days is "
        "a common way to manage fatigue."
    )
    return [
        Flag(MONOTONY_HIGH, "info", as_of, value, threshold, message, [FOSTER_1998])
    ]
