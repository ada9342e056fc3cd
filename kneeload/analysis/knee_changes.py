"""Shoes and surface around the runs: what a physio asks about (RULES §8, §14).

Shoes come from ``shoes`` notes (a pair in use from its date until the next)
and from the export's gear per activity, which wins for that activity; surface
is the weekly share of trail, track and treadmill running (``sub_sport``). A
pair first used, or a surface-share change, in the 14 days before a
``session_spike`` or ``weekly_ramp`` becomes a context line of that flag
through the registry's context hook (:func:`change_hook`). Context, never a flag.
The numbers are ``[thresholds.shoes]`` (RULES §14 defaults without settings).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from kneeload.analysis import rule_ids
from kneeload.analysis.dates import window_mask
from kneeload.analysis.evidence import Flag
from kneeload.analysis.load import load_rows
from kneeload.config import Settings, ShoesSettings
from kneeload.notes import Note

#: Rules that get the shoe line (RULES §14).
SHOE_RULES = frozenset({rule_ids.SESSION_SPIKE, rule_ids.WEEKLY_RAMP})
SURFACES: tuple[str, ...] = ("trail", "track", "treadmill")
#: Sub-sports that are one of the surfaces (FIT ``indoor_running`` is a treadmill).
SURFACE_ALIASES: dict[str, str] = {"indoor_running": "treadmill"}


def _shoes(settings: Settings | None) -> ShoesSettings:
    """``[thresholds.shoes]`` of ``settings``, the defaults when None."""
    return (settings or Settings()).thresholds.shoes


def running(activities: pd.DataFrame, *, start: date, end: date) -> pd.DataFrame:
    """Running activities in load dated ``start`` … ``end``, oldest first."""
    acts = load_rows(activities)
    if acts.empty:
        return acts
    keep = acts["sport"].eq("running").to_numpy()
    out = acts[keep & window_mask(acts, start=start, end=end)]
    return out.sort_values("start_utc", kind="stable") if "start_utc" in out else out


def num(value: Any) -> float:
    """A float, NaN where the value is missing or not a number."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return f


# --- shoes ------------------------------------------------------------------


@dataclass(frozen=True)
class ShoePair:
    """One pair of shoes: since when, how far and how many runs (RULES §14)."""

    name: str
    since: date
    distance_m: float
    runs: int

    def to_json(self) -> dict[str, Any]:
        """``{"name", "since", "distance_m", "runs"}``."""
        return {
            "name": self.name,
            "since": self.since.isoformat(),
            "distance_m": round(self.distance_m, 1),
            "runs": self.runs,
        }


def _gear(row: Any) -> str | None:
    value = row.get("gear") if hasattr(row, "get") else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def shoe_pairs(
    activities: pd.DataFrame, notes: Sequence[Note], as_of: date
) -> list[ShoePair]:
    """Each pair's first use, distance and runs up to ``as_of``.

    A run's pair is its export gear when it has one, else the pair of the latest
    ``shoes`` note on or before its day (in use until the next one).
    """
    marks = sorted(
        (n for n in notes if n.kind == "shoes" and n.name and n.day <= as_of),
        key=lambda n: (n.day, n.id),
    )
    since: dict[str, date] = {}
    for n in marks:
        since.setdefault(str(n.name), n.day)
    totals: dict[str, list[float]] = {}
    first = date(1900, 1, 1)  # every run (pandas 2.1 timestamps stop at 1677)
    for _, row in running(activities, start=first, end=as_of).iterrows():
        day = pd.Timestamp(row["local_date"]).date()
        name = _gear(row) or next(
            (str(n.name) for n in reversed(marks) if n.day <= day), None
        )
        if name is None:
            continue
        since[name] = min(since.get(name, day), day)
        dist = num(row.get("distance_m"))
        slot = totals.setdefault(name, [0.0, 0])
        slot[0] += dist if math.isfinite(dist) else 0.0
        slot[1] += 1
    pairs = [
        ShoePair(
            name, day, totals.get(name, [0.0, 0])[0], int(totals.get(name, [0.0, 0])[1])
        )
        for name, day in since.items()
    ]
    return sorted(pairs, key=lambda p: (p.since, p.name))


def shoe_context(
    flag: Flag, pairs: Sequence[ShoePair], settings: Settings | None = None
) -> str | None:
    """'You also started running in NAME on DATE' for a spike or ramp (§14)."""
    if flag.rule not in SHOE_RULES:
        return None
    lo = flag.date - timedelta(days=_shoes(settings).context_days)
    fresh = [p for p in pairs if lo <= p.since <= flag.date]
    if not fresh:
        return None
    named = " and ".join(f"{p.name} on {p.since.isoformat()}" for p in fresh)
    return f"You also started running in {named}."


def change_hook(
    activities: pd.DataFrame, notes: Sequence[Note], as_of: date,
    settings: Settings | None = None,
) -> Callable[[Flag], list[str]]:  # fmt: skip
    """A registry context hook: new shoes and surface changes for spikes and ramps.

    Pass it to ``check(..., context_hooks=[...])``; the lines go to
    ``Flag.context`` (RULES §14): a pair first used, or a surface-share change
    in a 7-day block, within the 14 days before the flag.
    """
    pairs = shoe_pairs(activities, notes, as_of)
    cfg = _shoes(settings)
    weeks = 4 + cfg.surface_baseline_weeks  # 4 blocks to mark, after the baseline
    surface = surface_changes(surface_weeks(activities, as_of, weeks), settings)
    days = cfg.context_days

    def hook(flag: Flag) -> list[str]:
        line = shoe_context(flag, pairs, settings)
        lines = [line] if line else []
        if flag.rule in SHOE_RULES:
            lo = flag.date - timedelta(days=days)
            lines += [
                c.text[:1].upper() + c.text[1:] + "."
                for c in surface
                if c.day - timedelta(days=6) <= flag.date and c.day >= lo
            ]
        return lines

    return hook


# --- surface ----------------------------------------------------------------


def surface_weeks(
    activities: pd.DataFrame, as_of: date, weeks: int = 8
) -> pd.DataFrame:
    """Share of running km per surface for 7-day blocks ending ``as_of`` (§14).

    Index: the last day of each block, oldest first; columns ``km`` and one share
    (0-100 %) per surface of :data:`SURFACES`; the rest is road or unknown.
    """
    rows = []
    for k in range(weeks - 1, -1, -1):
        end = as_of - timedelta(days=7 * k)
        runs = running(activities, start=end - timedelta(days=6), end=end)
        metres = runs["distance_m"] if "distance_m" in runs else pd.Series(0.0)
        km = pd.to_numeric(metres, errors="coerce").fillna(0.0) / 1000
        total = float(km.sum())
        sub = runs["sub_sport"] if "sub_sport" in runs else pd.Series(dtype=object)
        sub = sub.replace(SURFACE_ALIASES)
        row: dict[str, Any] = {"end": pd.Timestamp(end), "km": total}
        for surface in SURFACES:
            part = float(km[(sub == surface).to_numpy()].sum()) if total else 0.0
            row[surface] = 100.0 * part / total if total else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("end")


@dataclass(frozen=True)
class Change:
    """A change a physio asks about: new shoes, a new surface (RULES §8, §14)."""

    day: date
    kind: str  # "shoes" | "surface"
    text: str

    def to_json(self) -> dict[str, str]:
        """``{"date", "kind", "text"}``."""
        return {"date": self.day.isoformat(), "kind": self.kind, "text": self.text}


def surface_changes(
    shares: pd.DataFrame, settings: Settings | None = None
) -> list[Change]:
    """Weeks whose surface share moved > 30 pp against the 4 weeks before (§14)."""
    cfg = _shoes(settings)
    n = cfg.surface_baseline_weeks
    out = []
    for i in range(n, len(shares)):
        now = shares.iloc[i]
        before = shares.iloc[i - n : i]
        if not now["km"]:
            continue
        for surface in SURFACES:
            usual = float(np.nanmean(before[surface])) if before["km"].any() else 0.0
            if abs(now[surface] - usual) > cfg.surface_change_pp:
                end = shares.index[i].date()
                out.append(Change(end, "surface", (
                    f"{surface} running was {now[surface]:.0f}% of your running "
                    f"in the 7 days ending {end.isoformat()}, against {usual:.0f}% "
                    f"in the {n} weeks before"
                )))  # fmt: skip
    return out
