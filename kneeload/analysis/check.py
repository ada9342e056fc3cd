"""Assemble ``check`` and ``cadence`` results for one evaluation day (INTERFACE.md).

Pure functions over the activities DataFrame; ``as_of`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from kneeload.analysis.cadence import (
    easy_cadence,
    gait_flags,
    population_low_spm,
    round_to_even,
)
from kneeload.analysis.daily import daily_series, running_mask
from kneeload.analysis.dates import check_day, in_window
from kneeload.analysis.evidence import (
    ANDERSON_2022,
    BRAMAH_2019,
    HEIDERSCHEIT_2011,
    LENHART_2014,
    Evidence,
    Flag,
)
from kneeload.analysis.knee import knee_pain_noted
from kneeload.analysis.load import heart_rate_profile, load_rows
from kneeload.analysis.registry import (
    CLINICIAN_TEXT,
    ContextHook,
    RuleContext,
    assemble,
    with_knee_pain,
    without_race,
)
from kneeload.analysis.rule_ids import CADENCE_LOW
from kneeload.config import Settings
from kneeload.units import pace_text

__all__ = [
    "CLINICIAN_TEXT",
    "CadenceResult",
    "CheckResult",
    "cadence_advice",
    "check",
    "knee_pain_score",
    "with_knee_pain",
    "without_race",
]


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
    """In-load activities on or before ``as_of`` (none later may leak into a week)."""
    return in_window(load_rows(activities), end=as_of)


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


def knee_pain_score(
    notes: Iterable[Any], as_of: date, settings: Settings | None = None
) -> int | None:
    """The knee-pain score (1-10) noted on ``as_of``: asks the knee module (§12)."""
    note = knee_pain_noted(list(notes), as_of, settings)
    return None if note is None else note.score


def check(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    as_of: date,
    knee_pain: int | None = None,
    context_hooks: Sequence[ContextHook] = (),
) -> CheckResult:
    """Evaluate every registered rule (``registry.RULES``) for the 7 days to ``as_of``.

    ``knee_pain`` is a pain score (1-10) the runner noted recently, if any: it
    raises the knee-sensitive rules to caution and adds clinician advice.
    ``context_hooks`` add context lines to flags (see :mod:`.registry`).
    """
    check_day(as_of, "as_of")
    acts = _upto(activities, as_of)
    profile = heart_rate_profile(acts, athlete=settings.athlete)
    if acts.empty:
        return CheckResult(as_of, [], _load_summary(pd.DataFrame()), profile.notes)
    daily = daily_series(acts, settings=settings, end=as_of)
    ctx = RuleContext(daily, _runs(acts), settings=settings, as_of=as_of)
    load = _load_summary(ctx.acwr)
    flags, race_notes = assemble(ctx, context_hooks=context_hooks)
    flags = with_knee_pain(flags, knee_pain)
    notes = list(profile.notes) + race_notes
    if knee_pain is not None:
        notes.append(
            f"knee pain {knee_pain}/10 noted in the last "
            f"{settings.thresholds.knee.pain_window_days} days: "
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
    check_day(as_of, "as_of")
    runs = _runs(_upto(activities, as_of))
    flags = [
        f
        for f in gait_flags(runs, settings=settings, as_of=as_of)
        if f.rule == CADENCE_LOW
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
