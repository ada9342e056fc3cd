"""The load history as pandas: ``open_history(home)`` → ``History``.

``History.activities`` has one row per kept (deduplicated) activity; the per-record
samples of one activity come from ``History.samples(id)``. Nothing here reads
activity files: everything comes from the store.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from kneeload.codec import decode_hr_hist
from kneeload.config import resolve_home
from kneeload.errors import StoreError
from kneeload.schema import activity_columns
from kneeload.store import Store, damaged_message


class History:
    """The activities of one store, as DataFrames."""

    def __init__(self, store: Store, *, include_duplicates: bool = False) -> None:
        self.store = store
        rows = store.activity_rows(include_duplicates=include_duplicates)
        try:
            self.activities = activities_frame(rows)
        except (ValueError, TypeError, zlib.error) as exc:
            store.close()
            raise StoreError(damaged_message(store.path, str(exc))) from exc

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

    def problem_files_dated(self) -> pd.DataFrame:
        """Problem files with ``checked_utc`` and ``last_day`` (the report's week)."""
        return pd.DataFrame(
            self.store.problem_files_dated(),
            columns=["path", "status", "reason", "checked_utc", "last_day"],
        )

    def close(self) -> None:
        """Close the underlying store."""
        self.store.close()


def open_history(home: str | Path | None = None) -> History:
    """Open the load history kept in ``home`` (see ``resolve_home``)."""
    return History(Store.in_home(resolve_home(home), readonly=True))


_ROW = activity_columns()
#: Numeric columns of the frame (typed float, NaN where missing).
_FLOAT_COLUMNS = tuple(
    c.name for c in _ROW if c.sql.startswith("REAL") and c.json != "utc"
)
#: Columns History adds to the stored row, with their JSON kind, placed after the
#: declared field named first (None: at the end).
_DERIVED_JSON: tuple[tuple[str, str, str | None], ...] = (
    ("trimp", "number", "max_hr"),  # from the settings (analysis.load.add_trimp)
    ("srpe", "number", "rpe"),  # session RPE load, Foster 2001 (RULES §14)
    ("confirmed", "bool", "suspect"),  # the runner confirmed a suspect one
    ("excluded", "bool", None),
    ("partial", "bool", None),
    ("partial_reason", "text", None),
)


def _json_fields() -> tuple[tuple[str, str], ...]:
    after: dict[str | None, list[tuple[str, str]]] = {}
    for name, kind, anchor in _DERIVED_JSON:
        after.setdefault(anchor, []).append((name, kind))
    out: list[tuple[str, str]] = []
    for c in _ROW:
        if c.json is not None:
            out.append((c.name, c.json))
            out.extend(after.get(c.name, []))
    return (*out, *after.get(None, []))


#: The ``activities --json`` fields (INTERFACE.md) and their kinds, in order.
JSON_FIELDS: tuple[tuple[str, str], ...] = _json_fields()
#: Numeric fields of ``activities --json``, in order.
JSON_NUMBERS = tuple(name for name, kind in JSON_FIELDS if kind == "number")


def activities_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Build the activities DataFrame from store rows (typed, one row each).

    Beside the declared activity row it has ``file_key``, ``confirmed`` and
    ``excluded`` (the runner's word), ``srpe`` (RPE * moving minutes, RULES §14)
    and ``in_load``: not excluded, and not suspect unless confirmed (RULES §1.5).
    """
    stored = [c.name for c in _ROW if c.name != "steady_segments"]
    extra = ["file_key", "steady_json", "confirmed", "excluded"]
    frame = pd.DataFrame(rows, columns=[*stored, *extra])
    frame["start_utc"] = pd.to_datetime(
        frame["start_utc"].astype(float), unit="s", utc=True
    )
    frame["local_date"] = pd.to_datetime(frame["local_date"])
    for name in _FLOAT_COLUMNS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame["partial_reason"] = frame["partial"]
    frame["partial"] = frame["partial"].notna()
    frame["hr_hist"] = pd.Series(
        [decode_hr_hist(b) for b in frame["hr_hist"]], index=frame.index, dtype=object
    )
    frame["steady_segments"] = [json.loads(s or "[]") for s in frame["steady_json"]]
    frame["sport_source"] = frame["sport_source"].fillna("file")
    frame["confirmed"] = frame["confirmed"].fillna(False).astype(bool)
    frame["excluded"] = frame["excluded"].fillna(False).astype(bool)
    frame["srpe"] = frame["rpe"] * frame["moving_s"] / 60.0
    frame["in_load"] = ~frame["excluded"] & (
        frame["suspect"].isna() | frame["confirmed"]
    )
    return frame.drop(columns="steady_json")


def activity_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows of the activities frame as JSON-ready dicts (INTERFACE.md fields)."""
    out: list[dict[str, object]] = []
    for rec in frame.to_dict("records"):
        out.append(
            {name: _json_value(kind, rec.get(name)) for name, kind in JSON_FIELDS}
        )
    return out


def _json_value(kind: str, value: object) -> object:
    if kind == "number":
        return _num(value)
    if kind == "bool":
        return bool(value) if value is not None and value is not pd.NA else False
    if kind == "utc":
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[attr-defined]
    if kind == "date":
        return value.strftime("%Y-%m-%d")  # type: ignore[attr-defined]
    return _text(value)


def _text(value: object) -> str | None:
    """A string field, None where pandas holds a missing value (NaN/NA)."""
    return value if isinstance(value, str) else None


def _num(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    f = float(value)  # type: ignore[arg-type]
    return round(f, 3) if np.isfinite(f) else None
