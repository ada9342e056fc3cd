"""The daily series: one row per local calendar day, rest days = 0 (RULES §0, §2)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from kneeload.analysis.dates import local_days
from kneeload.analysis.load import heart_rate_profile, load_rows, session_trimp_hi
from kneeload.config import Settings

#: Columns of :func:`daily_series`; units in the names.
DAILY_COLUMNS: tuple[str, ...] = (
    "run_km",  # running distance (RULES L1: the primary load)
    "run_count",
    "run_moving_min",
    "cross_min",  # moving minutes of every non-running sport, never added to km
    "moving_min",
    "trimp",  # Banister TRIMP, all sports
    "hi_min",  # running minutes at or above LTHR
    "hard_sessions",  # runs with >= hard_session_min high-intensity minutes
    "descent_m",  # running descent
    "downhill_min",  # running minutes at grade < -5 %
)


def running_mask(activities: pd.DataFrame) -> pd.Series:
    """True for running activities (treadmill and trail are running sub-sports)."""
    return activities["sport"].eq("running")


def per_activity_loads(activities: pd.DataFrame, *, settings: Settings) -> pd.DataFrame:
    """Per-activity load columns that feed the daily series (vectorised)."""
    thr = settings.thresholds.intensity_ramp
    profile = heart_rate_profile(activities, athlete=settings.athlete)
    hr = session_trimp_hi(activities, profile, lthr_fraction=thr.lthr_fraction)
    run = running_mask(activities).to_numpy()
    moving_min = activities["moving_s"].astype(float).fillna(0.0).to_numpy() / 60.0
    hi_min = np.where(run, hr["hi_s"].fillna(0.0).to_numpy() / 60.0, 0.0)
    return pd.DataFrame(
        {
            "day": local_days(activities),
            "run_km": np.where(run, _num(activities, "distance_m") / 1000.0, 0.0),
            "run_count": run.astype(float),
            "run_moving_min": np.where(run, moving_min, 0.0),
            "cross_min": np.where(run, 0.0, moving_min),
            "moving_min": moving_min,
            "trimp": hr["trimp"].fillna(0.0).to_numpy(),
            "hi_min": hi_min,
            "hard_sessions": (hi_min >= thr.hard_session_min).astype(float),
            "descent_m": np.where(run, _num(activities, "descent_m"), 0.0),
            "downhill_min": np.where(run, _num(activities, "downhill_s") / 60.0, 0.0),
        },
        index=activities.index,
    )


def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column with NaN/None as 0 (a missing value adds no load)."""
    if column not in frame:
        return np.zeros(len(frame))
    return pd.to_numeric(frame[column], errors="coerce").fillna(0.0).to_numpy(float)


def daily_series(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    start: date | pd.Timestamp | None = None,
    end: date | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Continuous local-day series from first to last activity (or start..end).

    Only in-load activities count (RULES §1.5, §1.6: no excluded or unconfirmed
    suspect one), whoever calls it.
    """
    loads = per_activity_loads(load_rows(activities), settings=settings)
    lo = pd.Timestamp(start) if start is not None else loads["day"].min()
    hi = pd.Timestamp(end) if end is not None else loads["day"].max()
    if pd.isna(lo) or pd.isna(hi):
        index = pd.DatetimeIndex([], name="date")
        return pd.DataFrame(0.0, index=index, columns=list(DAILY_COLUMNS))
    index = pd.date_range(lo.normalize(), hi.normalize(), freq="D", name="date")
    summed = loads.groupby("day")[list(DAILY_COLUMNS)].sum()
    return summed.reindex(index, fill_value=0.0).astype(float)


def history_blocks(load: pd.Series, *, gap_days: int) -> np.ndarray:
    """Block number of each day: 0 before the first day with load, then 1, 2, …

    A new block (a new history, RULES §1.6, §3) starts on the first day with load
    after at least ``gap_days`` days without any (by default the chronic window,
    28 days): nothing before such a break is in any window of the rules, and the
    EWMA is seeded again. The days of a break belong to the block before it.
    """
    loaded = np.flatnonzero(load.to_numpy(dtype=float) > 0)
    starts = np.zeros(len(load), dtype=int)
    if len(loaded):
        gaps = np.diff(loaded) - 1
        first = np.concatenate([[True], gaps >= gap_days])
        starts[loaded[first]] = 1
    return np.cumsum(starts)


def last_history_start(load: pd.Series, *, gap_days: int) -> pd.Timestamp | None:
    """First day of the last block of :func:`history_blocks` (None without load)."""
    blocks = history_blocks(load, gap_days=gap_days)
    if not len(blocks) or blocks[-1] == 0:
        return None
    return pd.Timestamp(load.index[int(np.argmax(blocks == blocks[-1]))])
