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

from kneeload.errors import DateRangeError

Day = date | pd.Timestamp

#: The days the analyses accept: every window (49 days, 2 years back, a week
#: ahead) stays within the calendar pandas and ``datetime`` can represent.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)


def check_day(day: Day, name: str) -> None:
    """Raise ``DateRangeError`` naming ``name`` and the range when out of range."""
    value = _day(day)
    if not FIRST_DAY <= value <= LAST_DAY:
        raise DateRangeError(
            f"{name} {value.isoformat()} is outside the supported dates "
            f"{FIRST_DAY} to {LAST_DAY}"
        )


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
