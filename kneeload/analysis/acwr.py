"""R-ACWR: acute:chronic workload ratio, three variants side by side (RULES §3).

Contested metric: all three are computed, the rolling uncoupled one is shown by
default, and the ratio is suppressed (value null, ``acwr_status`` says why) when
history is short, chronic load tiny, after a break or inside a taper window.
Input is a continuous daily load series (rest days = 0), e.g. running km.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from kneeload.analysis.daily import history_blocks
from kneeload.config import Settings

STATUSES: tuple[str, ...] = (
    "ok",
    "insufficient_history",
    "taper",
    "after_break",
    "low_chronic",
)


def _ratio(acute: pd.Series, chronic: pd.Series) -> pd.Series:
    """acute/chronic; NaN where the chronic load is zero (no usual load to compare)."""
    out = acute / chronic.where(chronic > 0)
    return out.rename("acwr")


def rolling_coupled(load: pd.Series, *, acute: int = 7, chronic: int = 28) -> pd.Series:
    """Rolling coupled ACWR: mean(L[t-6..t]) / mean(L[t-27..t]) (Hulin 2014)."""
    a = load.rolling(acute, min_periods=acute).mean()
    c = load.rolling(chronic, min_periods=chronic).mean()
    return _ratio(a, c)


def rolling_uncoupled(
    load: pd.Series, *, acute: int = 7, chronic: int = 28
) -> pd.Series:
    """Rolling uncoupled ACWR: mean(L[t-6..t]) / mean(L[t-27..t-7]) (Lolli 2019)."""
    a = load.rolling(acute, min_periods=acute).mean()
    window = chronic - acute
    c = load.shift(acute).rolling(window, min_periods=window).mean()
    return _ratio(a, c)


def ewma_acwr(
    load: pd.Series, *, acute: int = 7, chronic: int = 28, seed_days: int = 28
) -> pd.Series:
    """EWMA ACWR, λ = 2/(N+1) (Williams 2017); both averages seeded before day 1.

    The seed is the mean daily load of days 1..``seed_days`` (RULES §3), which
    removes the initial-load problem of seeding with day 1; values before day
    ``chronic`` are NaN (provisional until day 42, see ``acwr_frame``).
    """
    if load.empty:
        return load.astype(float).rename("acwr")
    seed = float(load.iloc[:seed_days].mean())
    padded = np.concatenate([[seed], load.to_numpy(dtype=float)])
    series = pd.Series(padded)
    e_a = series.ewm(alpha=2.0 / (acute + 1), adjust=False).mean().to_numpy()[1:]
    e_c = series.ewm(alpha=2.0 / (chronic + 1), adjust=False).mean().to_numpy()[1:]
    ratio = _ratio(pd.Series(e_a, index=load.index), pd.Series(e_c, index=load.index))
    ratio.iloc[: chronic - 1] = np.nan
    return ratio


def chronic_km_per_week(load: pd.Series, *, acute: int, chronic: int) -> pd.Series:
    """Usual weekly km: the uncoupled denominator, days t-27 … t-7, per 7 days.

    The same window as the default (uncoupled) ratio, so the number shown beside
    it divides the acute km into the ratio, and the low-chronic gate (RULES §3)
    looks at the load the ratio is actually divided by.
    """
    before = load.shift(acute).rolling(chronic - acute, min_periods=1).mean()
    return (before * 7.0).fillna(0.0)


def acwr_frame(load: pd.Series, *, settings: Settings) -> pd.DataFrame:
    """All three ACWR variants, acute/chronic km and the gating status, per day.

    Each history block (:func:`~kneeload.analysis.daily.history_blocks`: a break
    of at least the chronic window starts a new one) is computed on its own, as
    if it were the whole history: the EWMA is seeded again with the mean of its
    days 1-28, and nothing before the break reaches any window (RULES §1.6, §3).
    """
    return _by_block(load, settings, _block_frame)


def acwr_status_series(load: pd.Series, *, settings: Settings) -> pd.Series:
    """Per-day gating status (first match wins, in the order of ``STATUSES``)."""
    frame = _by_block(
        load, settings, lambda part, s, restarted: _block_status(part, s, restarted)
    )
    return frame["acwr_status"]


def _by_block(
    load: pd.Series,
    settings: Settings,
    fn: Callable[[pd.Series, Settings, bool], pd.DataFrame],
) -> pd.DataFrame:
    """``fn(block, settings, restarted)`` per history block, concatenated in order."""
    blocks = history_blocks(load, gap_days=settings.thresholds.acwr.chronic_days)
    if len(load) == 0 or blocks[-1] == blocks[0]:
        return fn(load, settings, bool(blocks[0] > 1) if len(load) else False)
    parts = [fn(load[blocks == b], settings, bool(b > 1)) for b in np.unique(blocks)]
    return pd.concat(parts)


def _block_frame(load: pd.Series, settings: Settings, restarted: bool) -> pd.DataFrame:
    """The ACWR frame of one history block (see :func:`acwr_frame`)."""
    cfg = settings.thresholds.acwr
    acute, chronic = cfg.acute_days, cfg.chronic_days
    frame = pd.DataFrame(
        {
            "acute_km": load.rolling(acute, min_periods=1).sum(),
            "chronic_km_per_week": chronic_km_per_week(
                load, acute=acute, chronic=chronic
            ),
            "uncoupled": rolling_uncoupled(load, acute=acute, chronic=chronic),
            "coupled": rolling_coupled(load, acute=acute, chronic=chronic),
            "ewma": ewma_acwr(load, acute=acute, chronic=chronic, seed_days=chronic),
        },
        index=load.index,
    )
    frame["acwr_status"] = _block_status(load, settings, restarted)["acwr_status"]
    frame["ewma_provisional"] = _history_day(load) < cfg.ewma_final_days
    return frame


def _block_status(load: pd.Series, settings: Settings, restarted: bool) -> pd.DataFrame:
    """Gating status of one block; a restarted block's first days are a break.

    The first ``min_history_days`` of a block are gated as the start of a history
    (the same days, so a block reads the same with or without what came before);
    after a break (``restarted``) they read ``after_break`` (for at most
    ``after_break_days``, then ``insufficient_history``).
    """
    cfg = settings.thresholds.acwr
    day = _history_day(load)
    short = day < cfg.min_history_days
    returned = restarted & short & (day <= cfg.after_break_days)
    chronic_week = chronic_km_per_week(
        load, acute=cfg.acute_days, chronic=cfg.chronic_days
    ).to_numpy()
    conditions = [
        short & (not restarted),
        _in_taper(load.index, settings),
        _after_break(load, cfg.break_days, cfg.after_break_days) | returned,
        short,
        chronic_week < cfg.low_chronic_km_per_week,
    ]
    choices = [*STATUSES[1:4], "insufficient_history", STATUSES[4]]
    status = np.select(conditions, choices, default="ok")
    return pd.DataFrame({"acwr_status": status}, index=load.index)


def _history_day(load: pd.Series) -> np.ndarray:
    """Day number from the first day with load (1 there, 0 before; RULES §1.6)."""
    started = np.cumsum(load.to_numpy() > 0) > 0
    first = int(np.argmax(started)) if started.any() else len(load)
    return np.where(started, np.arange(len(load)) - first + 1, 0)


def _in_taper(index: pd.Index, settings: Settings) -> np.ndarray:
    """True inside the configured race window D-21 … D+7 (RULES §7)."""
    race = settings.athlete.race_date
    if race is None:
        return np.zeros(len(index), dtype=bool)
    cfg = settings.thresholds.taper
    days = (pd.DatetimeIndex(index) - pd.Timestamp(race)).days.to_numpy()
    return (days >= -cfg.window_before_days) & (days <= cfg.window_after_days)


def _after_break(load: pd.Series, break_days: int, after_days: int) -> np.ndarray:
    """True on the first ``after_days`` days after a ≥ ``break_days`` zero streak.

    The zeros before the first day with load are not a break (RULES §1.6).
    """
    zero = load.to_numpy() <= 0
    group = np.cumsum(~zero)  # a zero streak shares the id of the day before it
    streak = pd.Series(zero.astype(int)).groupby(group).transform("sum").to_numpy()
    prev_streak = np.concatenate([[0], streak[:-1]])
    prev_zero = np.concatenate([[False], zero[:-1]])
    had_load = np.concatenate([[0], group[:-1]]) > 0
    restart = (~zero) & prev_zero & had_load & (prev_streak >= break_days)
    positions = np.where(restart, np.arange(len(zero)), np.nan)
    last = pd.Series(positions).ffill().to_numpy()
    since = np.arange(len(zero)) - last
    return np.nan_to_num(since, nan=np.inf) < after_days


def acwr_status(load: pd.Series, *, settings: Settings, as_of: date) -> str:
    """The gating status on ``as_of`` ('ok' or why the ratio is suppressed)."""
    upto = load.loc[: pd.Timestamp(as_of)]
    if upto.empty:
        return "insufficient_history"
    return str(acwr_status_series(upto, settings=settings).iloc[-1])


def in_taper_window(settings: Settings, day: date) -> bool:
    """True inside D-21 … D+7 of the configured race (ACWR-low/monotony muted)."""
    return bool(_in_taper(pd.DatetimeIndex([pd.Timestamp(day)]), settings)[0])
