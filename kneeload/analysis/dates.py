"""Local-date windows over activity rows: the one place ``local_date`` is read.

Every analysis and report window is "the rows whose local calendar day falls in
``[start, end]``" (RULES §0: days are the runner's local days). The history frame
already holds ``local_date`` as datetimes; other frames (tests, notebooks) may
hold ``YYYY-MM-DD`` strings or dates, which :func:`local_days` converts once.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

Day = date | pd.Timestamp


def local_days(frame: pd.DataFrame) -> pd.Series:
    """The local day of each row as a normalised ``datetime64`` Series."""
    col = frame["local_date"]
    if not pd.api.types.is_datetime64_any_dtype(col):
        col = pd.to_datetime(col)
    return col.dt.normalize()


def window_mask(
    frame: pd.DataFrame, *, start: Day | None = None, end: Day | None = None
) -> np.ndarray:
    """True for rows whose local day is within ``start`` … ``end`` (both included)."""
    day = local_days(frame)
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= (day >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (day <= pd.Timestamp(end)).to_numpy()
    return keep


def in_window(
    frame: pd.DataFrame, *, start: Day | None = None, end: Day | None = None
) -> pd.DataFrame:
    """The rows whose local day is within ``start`` … ``end`` (both included)."""
    return frame[window_mask(frame, start=start, end=end)]


def last_days(frame: pd.DataFrame, end: Day, days: int) -> pd.DataFrame:
    """The rows of the ``days`` local days ending ``end`` (e.g. 7: the week)."""
    return in_window(frame, start=_day(end) - timedelta(days=days - 1), end=end)


def days_since(frame: pd.DataFrame, start: Day) -> np.ndarray:
    """Whole days from ``start`` to each row's local day."""
    return (local_days(frame) - pd.Timestamp(start)).dt.days.to_numpy()


def _day(value: Day) -> date:
    return value.date() if isinstance(value, pd.Timestamp) else value
