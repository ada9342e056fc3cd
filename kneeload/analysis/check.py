"""Assemble ``check`` and ``cadence`` results for one evaluation day (INTERFACE.md).

Pure functions over the activities DataFrame; ``as_of`` is always passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from kneeload.analysis.acwr import acwr_frame, in_taper_window
from kneeload.analysis.cadence import (
    easy_cadence,
    gait_flags,
    population_low_spm,
    round_to_even,
)
from kneeload.analysis.daily import daily_series, running_mask
from kneeload.analysis.evidence import (
    ANDERSON_2022,
    BRAMAH_2019,
    HEIDERSCHEIT_2011,
    LENHART_2014,
    SEVERITIES,
    Evidence,
    Flag,
)
from kneeload.analysis.load import heart_rate_profile
from kneeload.analysis.ramps import descent_ramp, session_spike, weekly_ramp
from kneeload.analysis.rules import acwr_flags, intensity_ramp, monotony_high
from kneeload.config import Settings
from kneeload.units import pace_text


@dataclass(frozen=True)
class CheckResult:
    """Flags for the 7 days ending ``as_of`` and the load summary on that day."""

    as_of: date
    flags: list[Flag]
    load: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``check --json`` document of INTERFACE.md (plus ``notes``)."""
        return {
            "as_of": self.as_of.isoformat(),
            "flags": [f.to_json() for f in self.flags],
            "load": self.load,
            "notes": list(self.notes),
        }


def _upto(activities: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Activities on or before ``as_of`` (later ones must not leak into a past week)."""
    day = pd.to_datetime(activities["local_date"])
    return activities[(day <= pd.Timestamp(as_of)).to_numpy()]


def _runs(acts: pd.DataFrame) -> pd.DataFrame:
    return acts[running_mask(acts).to_numpy()].sort_values("start_utc", kind="stable")


def _rounded(value: Any, ndigits: int) -> float | None:
    v = float(value)
    return round(v, ndigits) if np.isfinite(v) else None


def _load_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """The ``load`` object: the last row of the ACWR frame, null ratios when gated."""
    if frame.empty:
        return {
            "acute_km": 0.0,
            "chronic_km_per_week": 0.0,
            "acwr": {"uncoupled": None, "coupled": None, "ewma": None},
            "acwr_status": "insufficient_history",
            "ewma_provisional": True,
        }
    row = frame.iloc[-1]
    ok = row["acwr_status"] == "ok"
    ratios = {
        k: _rounded(row[k], 3) if ok else None for k in ("uncoupled", "coupled", "ewma")
    }
    return {
        "acute_km": round(float(row["acute_km"]), 3),
        "chronic_km_per_week": round(float(row["chronic_km_per_week"]), 3),
        "acwr": ratios,
        "acwr_status": str(row["acwr_status"]),
        "ewma_provisional": bool(row["ewma_provisional"]),
    }


#: Rules whose INFO becomes CAUTION when knee pain is noted (RULES §5, §6.5).
KNEE_PAIN_RAISES = frozenset({"intensity_ramp", "descent_ramp"})
#: How far back a knee-pain note counts for ``check``.
KNEE_PAIN_DAYS = 14
CLINICIAN_TEXT = (
    "You noted knee pain: if it persists, or comes with swelling, locking or "
    "giving way, see a clinician."
)


def knee_pain_score(notes: Iterable[Any], as_of: date) -> int | None:
    """The knee-pain score (1-10) in force on ``as_of``: the latest note of 14 days."""
    from kneeload.notes import latest_knee_pain

    start = as_of - timedelta(days=KNEE_PAIN_DAYS - 1)
    note = latest_knee_pain(list(notes), start=start, end=as_of)
    return None if note is None else note.score


#: Rules a race makes fire by design: the race run itself and its week's totals.
RACE_RULES = frozenset(
    {"session_spike", "weekly_ramp", "intensity_ramp", "acwr_high", "descent_ramp"}
)


def without_race(
    flags: list[Flag], settings: Settings, as_of: date
) -> tuple[list[Flag], list[str]]:
    """Drop the flags the race itself raises in the 7 days from race day on.

    A marathon is a planned spike: flagging it as "56 % longer than your longest
    run" tells the runner nothing. Runs before race day are still checked.
    """
    race = settings.athlete.race_date
    if race is None or not race <= as_of <= race + timedelta(days=6):
        return flags, []
    kept = [f for f in flags if f.rule not in RACE_RULES or f.date < race]
    if len(kept) == len(flags):
        return flags, []
    note = (
        f"race on {race.isoformat()}: the race and its week are not flagged as a "
        "load spike or ramp"
    )
    return kept, [note]


def with_knee_pain(flags: list[Flag], score: int | None) -> list[Flag]:
    """Raise the knee-sensitive rules to caution and add the clinician line."""
    if score is None:
        return flags
    out = []
    for flag in flags:
        severity = flag.severity
        if flag.rule in KNEE_PAIN_RAISES and severity == "info":
            severity = "caution"
        message = f"{flag.message} {CLINICIAN_TEXT}"
        out.append(dataclasses.replace(flag, severity=severity, message=message))
    return out


def check(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    as_of: date,
    knee_pain: int | None = None,
) -> CheckResult:
    """Evaluate every load and gait rule for the 7 days ending ``as_of``.

    ``knee_pain`` is a pain score (1-10) the runner noted recently, if any: it
    raises intensity and downhill flags to caution and adds clinician advice.
    """
    acts = _upto(activities, as_of)
    profile = heart_rate_profile(acts, athlete=settings.athlete)
    if acts.empty:
        return CheckResult(as_of, [], _load_summary(pd.DataFrame()), profile.notes)
    daily = daily_series(acts, settings=settings, end=as_of)
    frame = acwr_frame(daily["run_km"], settings=settings)
    load = _load_summary(frame)
    history_start = daily.index[0].date()
    runs = _runs(acts)
    ratio = load["acwr"]["uncoupled"]
    flags = (
        session_spike(runs, settings=settings, as_of=as_of, history_start=history_start)
        + weekly_ramp(daily, settings=settings, as_of=as_of)
        + acwr_flags(ratio, load["acwr_status"], settings=settings, as_of=as_of)
        + intensity_ramp(daily, settings=settings, as_of=as_of)
        + monotony_high(
            daily,
            settings=settings,
            as_of=as_of,
            in_taper=in_taper_window(settings, as_of),
        )
        + gait_flags(runs, settings=settings, as_of=as_of)
        + descent_ramp(
            daily, runs, settings=settings, as_of=as_of, history_start=history_start
        )
    )
    flags, race_notes = without_race(flags, settings, as_of)
    flags = with_knee_pain(flags, knee_pain)
    flags.sort(key=lambda f: (f.date, -SEVERITIES.index(f.severity), f.rule))
    notes = list(profile.notes) + race_notes
    if knee_pain is not None:
        notes.append(
            f"knee pain {knee_pain}/10 noted in the last {KNEE_PAIN_DAYS} days: "
            "intensity and downhill flags are raised to caution (RULES §5, §6.5)"
        )
    return CheckResult(as_of, flags, load, notes)


CADENCE_TEXT = (
    "Taking 5-10% more steps per minute at the same pace lowered modelled knee load "
    "in lab studies and helped symptoms in small studies of runners with kneecap "
    "pain. It may feel harder at first."
)
CADENCE_EVIDENCE: tuple[Evidence, ...] = (
    HEIDERSCHEIT_2011,
    LENHART_2014,
    BRAMAH_2019,
    ANDERSON_2022,
)


@dataclass(frozen=True)
class CadenceResult:
    """Easy-pace cadence, the +5-10 % target range and how to progress."""

    as_of: date
    easy_cadence_spm: float | None
    easy_speed_mps: float | None
    runs_used: int
    low: bool
    target_spm: tuple[int, int] | None
    flags: list[Flag]
    progression: str | None
    reason: str | None
    evidence: tuple[Evidence, ...] = CADENCE_EVIDENCE

    def to_json(self) -> dict[str, Any]:
        """The ``cadence --json`` document of INTERFACE.md (plus text and evidence)."""
        return {
            "as_of": self.as_of.isoformat(),
            "easy_cadence_spm": _maybe(self.easy_cadence_spm, 1),
            "easy_speed_mps": _maybe(self.easy_speed_mps, 3),
            "runs_used": self.runs_used,
            "low": self.low,
            "target_spm": list(self.target_spm) if self.target_spm else None,
            "flags": [f.to_json() for f in self.flags],
            "progression": self.progression,
            "reason": self.reason,
            "message": CADENCE_TEXT,
            "evidence": [e.to_json() for e in self.evidence],
        }


def _maybe(value: float | None, ndigits: int) -> float | None:
    return None if value is None else round(value, ndigits)


def cadence_advice(
    activities: pd.DataFrame, *, settings: Settings, as_of: date
) -> CadenceResult:
    """Easy cadence and the metronome range x1.05-x1.10 at the same pace (§6.3)."""
    runs = _runs(_upto(activities, as_of))
    flags = [
        f
        for f in gait_flags(runs, settings=settings, as_of=as_of)
        if f.rule == "cadence_low"
    ]
    easy = easy_cadence(runs, settings=settings, as_of=as_of)
    if easy.spm is None or easy.speed_mps is None:
        return CadenceResult(
            as_of, None, None, easy.runs_used, bool(flags), None, flags, None,
            easy.reason,
        )  # fmt: skip
    cfg = settings.thresholds.cadence_suggest
    target = (
        round_to_even(easy.spm * cfg.low_factor),
        round_to_even(easy.spm * cfg.high_factor),
    )
    floor = float(population_low_spm(easy.speed_mps, settings.thresholds.cadence_low))
    pace = pace_text(easy.speed_mps, settings.athlete.units)
    progression = (
        f"On easy runs at your usual easy pace ({pace}), aim for "
        f"{target[0]}-{target[1]} steps/min, e.g. with a metronome. "
        f"Start at +5% ({target[0]}), re-measure "
        "after 2-4 weeks, then move towards +10% if it feels manageable. Not for "
        "strides or sprints."
    )
    low = bool(flags) or easy.spm < floor
    return CadenceResult(
        as_of, easy.spm, easy.speed_mps, easy.runs_used, low, target, flags,
        progression, None,
    )  # fmt: skip
