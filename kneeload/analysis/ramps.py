"""Mileage and downhill ramps: session spike, weekly ramp, descent (RULES §4, §6.5)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from kneeload.analysis.dates import days_since, window_mask
from kneeload.analysis.evidence import (
    BUIST_2008,
    DAMSTED_2019,
    ESCULIER_2016,
    FRANDSEN_2025,
    NIELSEN_2014,
    SHIH_HO_2023,
    Flag,
)
from kneeload.analysis.rule_ids import DESCENT_RAMP, SESSION_SPIKE, WEEKLY_RAMP
from kneeload.config import Settings
from kneeload.units import climb_text, distance_text


def prior_window(
    values: pd.Series, when: pd.Series, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Max and count of ``values`` in the ``days`` before each row (row excluded)."""
    order = np.argsort(when.to_numpy(), kind="stable")
    s = pd.Series(
        values.to_numpy(float)[order], index=pd.DatetimeIndex(when.iloc[order])
    )
    roll = s.rolling(f"{days}D", closed="left")
    peak, count = np.empty(len(s)), np.empty(len(s))
    peak[order] = roll.max().to_numpy()
    count[order] = np.nan_to_num(roll.count().to_numpy(), nan=0.0)  # empty: NaN
    return peak, count


def _runs_in_week(runs: pd.DataFrame, as_of: date) -> np.ndarray:
    """Mask of runs whose local date is within the 7 days ending ``as_of``."""
    return window_mask(runs, start=as_of - timedelta(days=6), end=as_of)


def session_spike(
    runs: pd.DataFrame,
    *,
    settings: Settings,
    as_of: date,
    history_start: date,
    first_run: date | None = None,
) -> list[Flag]:
    """Runs of the week > 10 % longer than the longest run of the prior 30 days.

    Runs count from ``min_history_days`` after ``history_start`` (the current
    history, RULES §1.6, §9); a run with no run in the prior 30 days after the
    store's ``first_run`` day is the first run after a break (INFO), even early
    in a history that a break started.
    """
    cfg = settings.thresholds.session_spike
    km = pd.to_numeric(runs["distance_m"], errors="coerce").fillna(0.0) / 1000.0
    peak, count = prior_window(km, runs["start_utc"], cfg.window_days)
    days = days_since(runs, history_start)
    returning = np.zeros(len(runs), dtype=bool)
    if first_run is not None:
        returning = (count == 0) & (days_since(runs, first_run) > 0)
    eligible = _runs_in_week(runs, as_of) & ((days >= cfg.min_history_days) | returning)
    flags = []
    for i in np.flatnonzero(eligible & (km.to_numpy() > 0)):
        when = pd.Timestamp(runs["local_date"].iloc[i]).date()
        d = float(km.iloc[i])
        if count[i] == 0:
            flags.append(_first_after_break(when, d, settings.athlete.units))
        elif count[i] >= cfg.min_runs and d > cfg.caution_ratio * peak[i]:
            flags.append(_spike_flag(when, d, float(peak[i]), settings))
    return flags


def _spike_flag(when: date, d: float, peak: float, settings: Settings) -> Flag:
    cfg = settings.thresholds.session_spike
    u = settings.athlete.units
    r = d / peak
    warn = r > cfg.warning_ratio
    return Flag(
        rule=SESSION_SPIKE,
        severity="warning" if warn else "caution",
        date=when,
        value=r,
        threshold=cfg.warning_ratio if warn else cfg.caution_ratio,
        message=(
            f"This run ({distance_text(d, u)}) was {100 * (r - 1):.0f}% longer than "
            f"your longest run in the past month ({distance_text(peak, u)}). In a "
            "study of 5,200 runners, single runs more than 10% longer than the "
            "month's longest were associated with more overuse injuries. Within "
            f"{100 * (cfg.caution_ratio - 1):.0f}% of your longest recent run would "
            "be up to "
            f"{distance_text(cfg.caution_ratio * peak, u)}."
        ),
        evidence=[FRANDSEN_2025],
    )


def _first_after_break(when: date, d: float, units: str) -> Flag:
    return Flag(
        rule=SESSION_SPIKE,
        severity="info",
        date=when,
        value=d,
        threshold=None,
        message=(
            f"First run ({distance_text(d, units)}) after a break of more than a "
            "month: keep it "
            "well below your previous long run."
        ),
        evidence=[FRANDSEN_2025],
    )


def weekly_ramp(daily: pd.DataFrame, *, settings: Settings, as_of: date) -> list[Flag]:
    """Last 7 days' running km against the 7 before; never flags 10-20 %."""
    cfg = settings.thresholds.weekly_ramp
    km = daily["run_km"].loc[: pd.Timestamp(as_of)]
    if len(km) < cfg.min_history_days:
        return []
    current, previous = float(km.iloc[-7:].sum()), float(km.iloc[-14:-7].sum())
    if previous < cfg.min_previous_km or current - previous < cfg.min_increase_km:
        return []
    pct = 100.0 * (current / previous - 1.0)
    if pct > cfg.caution_pct:
        severity, threshold = "caution", cfg.caution_pct
    elif pct >= cfg.info_pct:
        severity, threshold = "info", cfg.info_pct
    else:
        return []
    message = (
        f"Your last 7 days ({distance_text(current, settings.athlete.units)}) were "
        f"{pct:.0f}% above the previous 7 "
        f"({distance_text(previous, settings.athlete.units)}). Some studies of "
        "novice runners linked jumps above "
        "20-30% with more knee and shin overuse problems; evidence is mixed, and the "
        "'10% rule' was not protective in a trial."
    )
    evidence = [NIELSEN_2014, DAMSTED_2019, BUIST_2008]
    return [Flag(WEEKLY_RAMP, severity, as_of, pct, threshold, message, evidence)]


def descent_ramp(
    daily: pd.DataFrame,
    runs: pd.DataFrame,
    *,
    settings: Settings,
    as_of: date,
    history_start: date,
) -> list[Flag]:
    """Weekly descent > 1.5x the 4-week mean (and ≥ +300 m); single-run descent > 2x."""
    return _weekly_descent(daily, settings, as_of) + _single_descent(
        runs, settings, as_of, history_start
    )


_DESCENT_TEXT = (
    "downhill running shifts more braking work to the front of the knee. No "
    "prospective study gives a downhill dose threshold for knee pain."
)


def _weekly_descent(daily: pd.DataFrame, settings: Settings, as_of: date) -> list[Flag]:
    cfg, u = settings.thresholds.descent_ramp, settings.athlete.units
    desc = daily["descent_m"].loc[: pd.Timestamp(as_of)]
    n = 7 * (cfg.baseline_weeks + 1)
    if len(desc) < n:
        return []
    current = float(desc.iloc[-7:].sum())
    baseline = float(desc.iloc[-n:-7].sum()) / cfg.baseline_weeks
    if current <= cfg.weekly_ratio * baseline or current - baseline < (
        cfg.min_increase_m
    ):
        return []
    # both conditions must hold, so the limit shown is the larger of the two
    threshold = max(cfg.weekly_ratio * baseline, baseline + cfg.min_increase_m)
    message = (
        f"You ran much more downhill than usual: {climb_text(current, u)} of descent "
        f"in 7 days against a {cfg.baseline_weeks}-week mean of "
        f"{climb_text(baseline, u)}; " + _DESCENT_TEXT
    )
    evidence = [SHIH_HO_2023, ESCULIER_2016]
    return [Flag(DESCENT_RAMP, "info", as_of, current, threshold, message, evidence)]


def _single_descent(
    runs: pd.DataFrame, settings: Settings, as_of: date, history_start: date
) -> list[Flag]:
    cfg, u = settings.thresholds.descent_ramp, settings.athlete.units
    desc = pd.to_numeric(runs["descent_m"], errors="coerce").fillna(0.0)
    peak, _ = prior_window(desc, runs["start_utc"], cfg.window_days)
    days = days_since(runs, history_start)
    ok = _runs_in_week(runs, as_of) & (days >= cfg.window_days)
    hit = ok & (peak > 0) & (desc.to_numpy() > cfg.single_run_ratio * peak)
    flags = []
    for i in np.flatnonzero(hit):
        value, base = float(desc.iloc[i]), float(peak[i])
        message = (
            f"This run had {climb_text(value, u)} of descent, more than "
            f"{cfg.single_run_ratio:g} times your largest "
            f"in the past month ({climb_text(base, u)}); " + _DESCENT_TEXT
        )
        flags.append(
            Flag(
                DESCENT_RAMP,
                "info",
                pd.Timestamp(runs["local_date"].iloc[i]).date(),
                value,
                cfg.single_run_ratio * base,
                message,
                [SHIH_HO_2023, ESCULIER_2016],
            )
        )
    return flags
