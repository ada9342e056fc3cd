"""The load history as pandas: ``open_history(home)`` → ``History``.

``History.activities`` has one row per kept (deduplicated) activity; the per-record
samples of one activity come from ``History.samples(id)``. Nothing here reads
activity files: everything comes from the store.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from kneeload.config import resolve_home
from kneeload.schema import Activity
from kneeload.store import Store, decode_hr_hist


class History:
    """The activities of one store, as DataFrames."""

    def __init__(self, store: Store, *, include_duplicates: bool = False) -> None:
        self.store = store
        rows = store.activity_rows(include_duplicates=include_duplicates)
        self.activities = activities_frame(rows)

    def samples(self, activity_id: str) -> pd.DataFrame:
        """Per-record samples of one activity, indexed by UTC time."""
        cols = self.store.samples(activity_id)
        frame = pd.DataFrame({k: v for k, v in cols.items() if k != "time_s"})
        frame.index = pd.to_datetime(cols["time_s"], unit="s", utc=True)
        frame.index.name = "time"
        return frame

    def problem_files(self, *, since_utc: float | None = None) -> pd.DataFrame:
        """Files that were skipped, failed or only partly read (since a time)."""
        return pd.DataFrame(
            self.store.problem_files(since_utc=since_utc),
            columns=["path", "status", "reason"],
        )

    def close(self) -> None:
        """Close the underlying store."""
        self.store.close()


def open_history(home: str | Path | None = None) -> History:
    """Open the load history kept in ``home`` (see ``resolve_home``)."""
    return History(Store.in_home(resolve_home(home)))


_FLOAT_COLUMNS = (
    "utc_offset_s",
    "elapsed_s",
    "moving_s",
    "distance_m",
    "ascent_m",
    "descent_m",
    "avg_hr",
    "max_hr",
    "cadence_spm",
    "step_length_m",
    "downhill_s",
)
#: Numeric fields of ``activities --json`` (INTERFACE.md), in order.
JSON_NUMBERS = (
    "elapsed_s",
    "moving_s",
    "distance_m",
    "ascent_m",
    "descent_m",
    "avg_hr",
    "max_hr",
    "trimp",
    "cadence_spm",
    "step_length_m",
)


def activities_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Build the activities DataFrame from store rows (typed, one row each)."""
    columns = [c for c in Activity.__dataclass_fields__ if c != "steady_segments"]
    frame = pd.DataFrame(rows, columns=[*columns, "file_key", "steady_json"])
    frame["start_utc"] = pd.to_datetime(
        frame["start_utc"].astype(float), unit="s", utc=True
    )
    frame["local_date"] = pd.to_datetime(frame["local_date"])
    for name in _FLOAT_COLUMNS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame["partial_reason"] = frame["partial"]
    frame["partial"] = frame["partial"].notna()
    frame["hr_hist"] = [decode_hr_hist(b) for b in frame["hr_hist"]]
    frame["steady_segments"] = [json.loads(s or "[]") for s in frame["steady_json"]]
    return frame.drop(columns="steady_json")


def activity_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows of the activities frame as JSON-ready dicts (INTERFACE.md fields)."""
    out: list[dict[str, object]] = []
    for rec in frame.to_dict("records"):
        item: dict[str, object] = {
            "id": rec["id"],
            "source": rec["source"],
            "format": rec["format"],
            "sport": rec["sport"],
            "sub_sport": _text(rec["sub_sport"]),
            "start_utc": rec["start_utc"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "local_date": rec["local_date"].strftime("%Y-%m-%d"),
        }
        item.update({k: _num(rec.get(k)) for k in JSON_NUMBERS})
        item.update(
            {
                k: _text(rec.get(k))
                for k in (
                    "cadence_source",
                    "device",
                    "partial_reason",
                    "distance_source",
                    "tz_source",
                )
            }
        )
        item["partial"] = bool(rec["partial"])
        out.append(item)
    return out


def _text(value: object) -> str | None:
    """A string field, None where pandas holds a missing value (NaN/NA)."""
    return value if isinstance(value, str) else None


def _num(value: object) -> float | None:
    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return round(f, 3) if np.isfinite(f) else None
