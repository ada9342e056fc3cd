"""R-TAPER: the pre-marathon taper check (RULES §7; grade A for performance).

Weeks are aligned to race day ``D``: week ``k`` (k = -1 … -7) covers
``D+7k … D+7k+6``, so week -1 is the 7 days before the race (race excluded).
The baseline is the mean weekly running km of weeks -7 … -4, dropping weeks under
half their median (illness). Weeks that have not ended on ``as_of`` are shown as
``in_progress`` or ``to_come`` with the km range that keeps the taper on track.
Pure functions: ``as_of`` is passed in, activities after it are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from kneeload.analysis.daily import daily_series, last_history_start, running_mask
from kneeload.analysis.dates import check_day, local_days, window_mask
from kneeload.analysis.evidence import Flag
from kneeload.analysis.load import load_rows
from kneeload.analysis.taper_flags import taper_flags
from kneeload.analysis.taper_weeks import TaperWeek, rounded
from kneeload.config import Settings, TaperSettings

MARATHON_M = 42195.0
TAPER_WEEKS: tuple[int, ...] = (-3, -2, -1)
BASELINE_WEEKS: tuple[int, ...] = (-7, -6, -5, -4)


@dataclass(frozen=True)
class TaperResult:
    """The taper check on ``as_of`` for the race on ``race_date``."""

    race_date: date
    as_of: date
    race_distance_m: float
    baseline_km_per_week: float | None
    baseline_runs_per_week: float | None
    baseline_weeks: list[TaperWeek]
    dropped_weeks: list[int]
    peak_week_km: float | None
    weeks: list[TaperWeek]
    verdict: str
    verdict_final: bool
    flags: list[Flag]
    history_days: int
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``taper --json`` document of INTERFACE.md (plus extra fields)."""
        return {
            "race_date": self.race_date.isoformat(),
            "as_of": self.as_of.isoformat(),
            "race_distance_m": self.race_distance_m,
            "baseline_km_per_week": rounded(self.baseline_km_per_week, 2),
            "baseline_runs_per_week": rounded(self.baseline_runs_per_week, 2),
            "baseline_weeks": [w.to_json() for w in self.baseline_weeks],
            "dropped_weeks": list(self.dropped_weeks),
            "peak_week_km": rounded(self.peak_week_km, 2),
            "weeks": [w.to_json() for w in self.weeks],
            "verdict": self.verdict,
            "verdict_final": self.verdict_final,
            "flags": [f.to_json() for f in self.flags],
            "history_days": self.history_days,
            "notes": list(self.notes),
        }


def week_bounds(race_date: date, week: int) -> tuple[date, date]:
    """First and last day of race-aligned week ``week`` (e.g. -1 = D-7 … D-1)."""
    start = race_date + timedelta(days=7 * week)
    return start, start + timedelta(days=6)


def expected_band(week: int, cfg: TaperSettings) -> tuple[float, float]:
    """The expected W/B band of a taper week (RULES §7, grade C)."""
    band = {-3: cfg.w3, -2: cfg.w2, -1: cfg.w1}[week]
    return float(band[0]), float(band[1])


def robust_baseline(km: list[float]) -> tuple[float | None, list[int]]:
    """Mean of the weeks at or above half their median; returns (mean, dropped idx)."""
    median = float(np.median(km))
    kept = [v for v in km if v >= 0.5 * median]
    dropped = [i for i, v in enumerate(km) if v < 0.5 * median]
    mean = float(np.mean(kept)) if kept else 0.0
    return (mean if mean > 0 else None), dropped


def _status(start: date, end: date, as_of: date) -> str:
    if as_of > end:
        return "done"
    return "in_progress" if as_of >= start else "to_come"


def _weekly(daily: pd.DataFrame, race_date: date, week: int, as_of: date) -> dict:
    """km, runs and high-intensity minutes of one week, up to ``as_of``."""
    start, end = week_bounds(race_date, week)
    part = daily.loc[pd.Timestamp(start) : pd.Timestamp(min(end, as_of))]
    return {
        "week": week,
        "start": start,
        "end": end,
        "km": float(part["run_km"].sum()),
        "runs": round(float(part["run_count"].sum())),
        "hi_min": float(part["hi_min"].sum()),
        "status": _status(start, end, as_of),
    }


def _target(
    band: tuple[float, float], baseline: float, prev: TaperWeek | None,
    cfg: TaperSettings,
) -> tuple[float, float]:  # fmt: skip
    """The week's km range inside its band, and not a relaxed taper when possible."""
    lo, hi = band[0] * baseline, band[1] * baseline
    if prev is not None and prev.status == "done":
        cap = cfg.relaxed_ratio * prev.km
        hi = max(lo, min(hi, cap))
    return lo, hi


def _taper_weeks(
    daily: pd.DataFrame, race_date: date, as_of: date, baseline: float | None,
    peak: float | None, cfg: TaperSettings,
) -> list[TaperWeek]:  # fmt: skip
    """Weeks -3, -2, -1 with ratios, bands and targets for weeks not yet done."""
    out: list[TaperWeek] = []
    for k in TAPER_WEEKS:
        w = _weekly(daily, race_date, k, as_of)
        band = expected_band(k, cfg)
        come = w["status"] == "to_come"
        ratio = w["km"] / baseline if baseline and not come else None
        target = None
        if baseline and w["status"] != "done":
            target = _target(band, baseline, out[-1] if out else None, cfg)
        pct = 100.0 * w["km"] / peak if peak and not come else None
        out.append(TaperWeek(**w, ratio=ratio, expected=band, target_km=target,
                             pct_of_peak=pct))  # fmt: skip
    return out


def _peak(
    daily: pd.DataFrame, race_date: date, first: date, weeks: int
) -> float | None:
    """The biggest race-aligned week of weeks -4 … -``weeks`` (RULES §1.6, §7).

    Only weeks that start on or after the first run count, and never more than
    the ``peak_weeks`` before the race: an old block years ago is not this
    race's peak.
    """
    best: float | None = None
    k = -4
    while k >= -weeks and week_bounds(race_date, k)[0] >= first:
        start, end = week_bounds(race_date, k)
        km = float(daily.loc[pd.Timestamp(start) : pd.Timestamp(end), "run_km"].sum())
        best = km if best is None else max(best, km)
        k -= 1
    return best


def taper_check(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    race_date: date,
    as_of: date,
    race_distance_m: float | None = None,
) -> TaperResult:
    """Check the pre-race taper against the runner's own baseline (RULES §7)."""
    check_day(race_date, "race_date")
    check_day(as_of, "as_of")
    cfg = settings.thresholds.taper
    distance = MARATHON_M if race_distance_m is None else float(race_distance_m)
    start49, _ = week_bounds(race_date, -7)
    runs = _running_upto(activities, as_of)
    first = _history_start(runs, settings, as_of)
    history_days = (race_date - first).days if first is not None else 0
    daily = _daily(runs, settings, start49, race_date, first)
    base_rows = [_weekly(daily, race_date, k, as_of) for k in BASELINE_WEEKS]
    baseline_over = as_of > week_bounds(race_date, BASELINE_WEEKS[-1])[1]
    enough = history_days >= cfg.min_history_days and baseline_over
    baseline, dropped, base_runs, base_hi = _baseline(base_rows, enough)
    peak = (
        _peak(daily, race_date, first, cfg.peak_weeks)
        if first is not None and baseline
        else None
    )
    weeks = _taper_weeks(daily, race_date, as_of, baseline, peak, cfg)
    base_weeks = [_as_week(r, baseline) for r in base_rows]
    verdict, final = _verdict(weeks, baseline, cfg)
    flags = (
        taper_flags(
            weeks, baseline, base_runs, base_hi, cfg=cfg, units=settings.athlete.units
        )
        if baseline
        else []
    )
    notes = _notes(history_days, baseline, enough, cfg, as_of, race_date)
    return TaperResult(
        race_date, as_of, distance, baseline, base_runs, base_weeks,
        [BASELINE_WEEKS[i] for i in dropped], peak, weeks, verdict, final, flags,
        history_days, notes,
    )  # fmt: skip


def _baseline(
    rows: list[dict], enough: bool
) -> tuple[float | None, list[int], float | None, float | None]:
    """(km/week, dropped week indexes, runs/week, high-intensity min/week) of the
    baseline weeks, or Nones when the history is too short."""
    baseline, dropped = robust_baseline([r["km"] for r in rows])
    if not enough or baseline is None:
        return None, [], None, None
    kept = [r for i, r in enumerate(rows) if i not in dropped]
    runs = float(np.mean([r["runs"] for r in kept]))
    hi = float(np.mean([r["hi_min"] for r in kept]))
    return baseline, dropped, runs, hi


def _history_start(runs: pd.DataFrame, settings: Settings, as_of: date) -> Any:
    """The first run of the current history (after the last break of at least the
    chronic window, RULES §1.6, §3), or None without runs."""
    if runs.empty:
        return None
    first = local_days(runs).min()
    km = daily_series(runs, settings=settings, start=first, end=as_of)["run_km"]
    start = last_history_start(km, gap_days=settings.thresholds.acwr.chronic_days)
    return (first if start is None else start).date()


def _running_upto(activities: pd.DataFrame, as_of: date) -> pd.DataFrame:
    activities = load_rows(activities)  # in-load rows only (RULES §1.5)
    keep = window_mask(activities, end=as_of) & running_mask(activities).to_numpy()
    return activities[keep]


def _daily(
    runs: pd.DataFrame, settings: Settings, start49: date, race: date, first: Any
) -> pd.DataFrame:
    """The daily series over D-49 … D-1 (and back to the first run for the peak)."""
    lo = min(start49, first) if first is not None else start49
    end = race - timedelta(days=1)
    if runs.empty:
        index = pd.date_range(lo, end, freq="D", name="date")
        return pd.DataFrame(0.0, index=index, columns=["run_km", "run_count", "hi_min"])
    return daily_series(runs, settings=settings, start=lo, end=max(end, lo))


def _as_week(row: dict, baseline: float | None) -> TaperWeek:
    ratio = row["km"] / baseline if baseline else None
    return TaperWeek(**row, ratio=ratio, expected=None)


def _notes(
    history_days: int, baseline: float | None, enough: bool, cfg: TaperSettings,
    as_of: date, race: date,
) -> list[str]:  # fmt: skip
    if as_of <= week_bounds(race, BASELINE_WEEKS[-1])[1]:
        return ["the baseline weeks -7 ... -4 have not ended yet"]
    if history_days < cfg.min_history_days:
        return [
            f"{history_days} days of running history before the race; the taper "
            f"check needs {cfg.min_history_days} (weeks -7 ... -1)"
        ]
    if enough and baseline is None:
        return ["no running in the baseline weeks -7 ... -4"]
    return []


def _verdict(
    weeks: list[TaperWeek], baseline: float | None, cfg: TaperSettings
) -> tuple[str, bool]:
    """(verdict, final): race week decides; before that, the latest settled week."""
    if not baseline:
        return "insufficient_history", True
    last = weeks[-1]
    if last.status == "done" and last.ratio is not None:
        if last.ratio > cfg.volume_over:
            return "under_tapered", True
        if last.ratio < cfg.volume_under:
            return "over_tapered", True
        return "on_track", True
    for w in reversed(weeks):
        if w.ratio is None or w.expected is None or w.status == "to_come":
            continue
        top = cfg.volume_over if w.week == -1 else w.expected[1]
        if w.ratio > top:
            return "under_tapered", False  # km already above what keeps it on track
        if w.status == "done":
            return ("over_tapered" if w.ratio < w.expected[0] else "on_track"), False
    return "on_track", False


RACE_DISTANCES_M: dict[str, float] = {
    "marathon": MARATHON_M,
    "half": MARATHON_M / 2,
    "half-marathon": MARATHON_M / 2,
    "10k": 10000.0,
    "5k": 5000.0,
}


def parse_race_distance(text: str) -> float:
    """Metres from 'marathon', 'half', '10k', '5k' or a number in km ('30', '50km')."""
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    if key in RACE_DISTANCES_M:
        return RACE_DISTANCES_M[key]
    number = key.removesuffix("km")
    try:
        km = float(number)
    except ValueError:
        raise ValueError(f"unknown race distance {text!r}") from None
    if km <= 0:
        raise ValueError(f"race distance must be positive, got {text!r}")
    return km * 1000.0


def taper_report_due(settings: Settings, day: date, *, days_before: int = 28) -> bool:
    """True when a race is set and ``day`` is within 4 weeks before it (or D+7)."""
    race = settings.athlete.race_date
    if race is None:
        return False
    after = settings.thresholds.taper.window_after_days
    return -days_before <= (day - race).days <= after


def taper_chart_frame(result: TaperResult) -> pd.DataFrame:
    """Weeks -7 … -1: km, status and the expected km band of weeks -3 … -1."""
    base = result.baseline_km_per_week
    rows = [
        {
            "week": w.week,
            "km": w.km if w.status != "to_come" else float("nan"),
            "lo_km": w.expected[0] * base if w.expected and base else float("nan"),
            "hi_km": w.expected[1] * base if w.expected and base else float("nan"),
            "status": w.status,
        }
        for w in [*result.baseline_weeks, *result.weeks]
    ]
    return pd.DataFrame(rows).set_index("week")
