"""The knee journey: pain windows, the return-to-running stage, the knee page.

One module owns the knee policy (RULES §12-14), so ``check``, ``taper``, the knee
page and the report all read it the same way:

* knee pain is *noted* when a ``knee_pain`` note of 1/10 or more falls in the
  28 days ending the evaluation day (``[thresholds.knee] pain_window_days``);
* the stage looks at the runs of the last 7 days (``stage_window_days``);
  a run's pain is the highest ``during``/``after`` note of its day, and it is
  "not worse next morning" when the ``next-morning`` note dated the following day
  is not higher. A run without those notes does not count: the runner is asked
  to note them rather than assumed fine.

Pure functions: notes and activities are passed in, ``as_of`` is always given.
Every number comes from ``settings.thresholds.knee`` (RULES §12 defaults when
``settings`` is not given).
The texts (routine, warm-ups, advice) live in :mod:`kneeload.analysis.knee_text`,
shoes and surface (RULES §14) in :mod:`kneeload.analysis.knee_changes`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from kneeload.analysis import knee_text as txt
from kneeload.analysis.evidence import Evidence
from kneeload.analysis.knee_changes import (
    Change,
    ShoePair,
    num,
    running,
    shoe_pairs,
    surface_changes,
    surface_weeks,
)
from kneeload.config import KneeSettings, Settings
from kneeload.notes import Note


def _knee(settings: Settings | None) -> KneeSettings:
    """``[thresholds.knee]`` of ``settings``, the defaults when None."""
    return (settings or Settings()).thresholds.knee


# --- pain notes and windows -------------------------------------------------


def knee_window(as_of: date, settings: Settings | None = None) -> tuple[date, date]:
    """First and last day of the knee window ending ``as_of`` (28 days, §12)."""
    return as_of - timedelta(days=_knee(settings).pain_window_days - 1), as_of


def pain_notes(notes: Iterable[Note], *, start: date, end: date) -> list[Note]:
    """The knee-pain notes dated ``start`` … ``end``, by date then id."""
    inside = [n for n in notes if n.kind == "knee_pain" and start <= n.day <= end]
    return sorted(inside, key=lambda n: (n.day, n.id))


def knee_pain_noted(
    notes: Iterable[Note], as_of: date, settings: Settings | None = None
) -> Note | None:
    """The latest note of 1/10 or more in the knee window, or None (RULES §12)."""
    start, end = knee_window(as_of, settings)
    painful = [n for n in pain_notes(notes, start=start, end=end) if n.score]
    return painful[-1] if painful else None


def run_pain(notes: Iterable[Note], day: date) -> int | None:
    """A run's pain: the highest ``during``/``after`` note of its day (RULES §12)."""
    scores = [
        n.score
        for n in pain_notes(notes, start=day, end=day)
        if n.when in ("during", "after") and n.score is not None
    ]
    return max(scores) if scores else None


def next_morning_pain(notes: Iterable[Note], day: date) -> int | None:
    """The highest ``next-morning`` note dated the day after ``day``."""
    after = day + timedelta(days=1)
    scores = [
        n.score
        for n in pain_notes(notes, start=after, end=after)
        if n.when == "next-morning" and n.score is not None
    ]
    return max(scores) if scores else None


# --- runs -------------------------------------------------------------------


@dataclass(frozen=True)
class RunPain:
    """One run with the pain noted around it."""

    day: date
    minutes: float
    distance_m: float
    descent_m: float
    pain: int | None  # highest during/after note of the day
    morning: int | None  # highest next-morning note of the next day (if known)

    @property
    def not_worse(self) -> bool:
        """True when the next-morning note is known and not higher."""
        return (
            self.pain is not None
            and self.morning is not None
            and self.morning <= self.pain
        )

    def meets(self, minutes: float, pain: int) -> bool:
        """True when the run is long enough, at or below ``pain``, not worse."""
        return (
            self.minutes >= minutes
            and self.pain is not None
            and self.pain <= pain
            and self.not_worse
        )

    def describe(self) -> str:
        """E.g. '18 min at 2/10, not worse next morning'."""
        text = txt.minutes_text(self.minutes)
        if self.pain is None:
            return text + " with no during/after pain note"
        text += f" at {self.pain}/10"
        if self.morning is None:
            return text + ", no next-morning note yet"
        if self.morning <= self.pain:
            return text + ", not worse next morning"
        return text + f", worse next morning ({self.morning}/10)"


def _minutes(row: Any) -> float:
    moving = num(row.get("moving_s"))
    seconds = moving if math.isfinite(moving) else num(row.get("elapsed_s"))
    return seconds / 60.0 if math.isfinite(seconds) else 0.0


def run_pains(
    activities: pd.DataFrame, notes: Sequence[Note], *, start: date, end: date
) -> list[RunPain]:
    """Every run dated ``start`` … ``end`` with its pain and next-morning pain.

    Notes after ``end`` are not seen: a next-morning note dated ``end + 1`` is
    still in the future on ``end``.
    """
    seen = [n for n in notes if n.day <= end]
    out = []
    for _, row in running(activities, start=start, end=end).iterrows():
        day = pd.Timestamp(row["local_date"]).date()
        distance = num(row.get("distance_m"))
        descent = num(row.get("descent_m"))
        out.append(RunPain(
            day, _minutes(row),
            distance if math.isfinite(distance) else 0.0,
            descent if math.isfinite(descent) else 0.0,
            run_pain(seen, day), next_morning_pain(seen, day),
        ))  # fmt: skip
    return out


# --- the stage --------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """The return-to-running stage on one day (RULES §12)."""

    as_of: date
    stage: int | None  # 1 | 2 | 3 | None
    reason: str
    next_step: str | None
    run: RunPain | None = None  # the run the stage rests on, if any
    pain: Note | None = None  # the latest pain note of the knee window


def stage_on(
    activities: pd.DataFrame, notes: Sequence[Note], as_of: date,
    settings: Settings | None = None,
) -> Stage:  # fmt: skip
    """The stage on ``as_of``: RULES §12 read over the last 7 and 28 days."""
    k = _knee(settings)
    pain = knee_pain_noted(notes, as_of, settings)
    if pain is None:
        return Stage(as_of, None, txt.no_pain_reason(k), None)
    days = k.stage_window_days
    start = as_of - timedelta(days=days - 1)
    runs = run_pains(activities, notes, start=start, end=as_of)
    three = [r for r in runs if r.meets(k.stage3_minutes, k.minimal_pain)]
    two = [r for r in runs if r.meets(k.stage2_minutes, k.manageable_pain)]
    if three:
        best = max(three, key=lambda r: r.minutes)
        return Stage(as_of, 3, _ran(best, k), txt.next_step(3, k), best, pain)
    if two:
        best = max(two, key=lambda r: r.minutes)
        return Stage(as_of, 2, _ran(best, k), txt.next_step(2, k), best, pain)
    if not runs:
        reason = (
            f"no run in the last {days} days; knee pain "
            f"{pain.score}/10 noted on {pain.day.isoformat()}"
        )
        return Stage(as_of, 1, reason, txt.next_step(1, k), None, pain)
    longest = max(runs, key=lambda r: r.minutes)
    reason = (
        f"your longest run in the last {days} days was "
        f"{longest.describe()}; {_missing(longest, k)}"
    )
    return Stage(as_of, 1, reason, txt.next_step(1, k), longest, pain)


def _ran(run: RunPain, k: KneeSettings) -> str:
    return f"in the last {k.stage_window_days} days you ran {run.describe()}"


def _missing(run: RunPain, k: KneeSettings) -> str:
    """What kept a run from counting for stage 2."""
    if run.minutes < k.stage2_minutes:
        limit = txt.minutes_limit(k.stage2_minutes)
        return f"stage 2 needs a run of {limit} min or more"
    if run.pain is None:
        return "note its pain (--when during or after) so that it can count"
    if run.pain > k.manageable_pain:
        return f"stage 2 needs manageable pain, {k.manageable_pain}/10 or less"
    if run.morning is None:
        return "note how the knee feels the next morning (--when next-morning)"
    return "stage 2 needs it not worse the next morning"


def stage_timeline(
    activities: pd.DataFrame, notes: Sequence[Note], *, start: date, end: date,
    settings: Settings | None = None,
) -> list[tuple[date, int | None]]:  # fmt: skip
    """(first day, stage) each time the stage changes between ``start`` and ``end``."""
    out: list[tuple[date, int | None]] = []
    day = start
    while day <= end:
        stage = stage_on(activities, notes, day, settings).stage
        if not out or out[-1][1] != stage:
            out.append((day, stage))
        day += timedelta(days=1)
    return out


def clinician_line(
    notes: Sequence[Note], as_of: date, settings: Settings | None = None
) -> str | None:
    """'See a clinician' first, on pain >= 5/10 or a red flag in the window (§12)."""
    k = _knee(settings)
    start, end = knee_window(as_of, settings)
    high = [
        n
        for n in pain_notes(notes, start=start, end=end)
        if (n.score or 0) >= k.clinician_pain
    ]
    words = [
        w
        for n in notes
        if n.kind == "text" and start <= n.day <= end and n.text
        for w in txt.RED_FLAG_WORDS
        if w in n.text.lower()
    ]
    if not high and not words:
        return None
    seen = []
    if high:
        worst = max(high, key=lambda n: (n.score or 0, n.day))
        seen.append(f"{worst.score}/10 on {worst.day.isoformat()}")
    if words:
        seen.append(f"'{words[0]}' in your notes")
    return f"You noted {' and '.join(seen)}. {txt.clinician_text(k)}"


# --- the knee page ----------------------------------------------------------


@dataclass(frozen=True)
class PainLogDay:
    """One note of the pain log with the running of its day."""

    day: date
    note: Note
    run_km: float
    run_min: float

    def to_json(self) -> dict[str, Any]:
        """One ``pain_log`` entry of ``knee --json`` (``run_km`` in km: its name)."""
        return {
            "date": self.day.isoformat(),
            "score": self.note.score,
            "when": self.note.when,
            "side": self.note.side,
            "aggravated_by": list(self.note.aggravated_by),
            "text": self.note.text,
            "run_km": round(self.run_km, 2),
            "run_min": round(self.run_min, 1),
        }


def pain_log(
    activities: pd.DataFrame, notes: Sequence[Note], *, start: date, end: date
) -> list[PainLogDay]:
    """Pain and text notes of ``start`` … ``end`` beside each day's running."""
    runs = run_pains(activities, notes, start=start, end=end)
    out = []
    for n in sorted(notes, key=lambda n: (n.day, n.id)):
        if n.kind in ("knee_pain", "text") and start <= n.day <= end:
            today = [r for r in runs if r.day == n.day]
            out.append(PainLogDay(
                n.day, n, sum(r.distance_m for r in today) / 1000.0,
                sum(r.minutes for r in today),
            ))  # fmt: skip
    return out


def strength_weeks(notes: Sequence[Note], as_of: date, weeks: int = 4) -> list[int]:
    """Strength sessions in each 7-day block ending ``as_of``, oldest first."""
    out = []
    for k in range(weeks - 1, -1, -1):
        end = as_of - timedelta(days=7 * k)
        start = end - timedelta(days=6)
        out.append(
            sum(1 for n in notes if n.kind == "strength" and start <= n.day <= end)
        )
    return out


@dataclass(frozen=True)
class KneePage:
    """Everything ``kneeload knee`` and the report's knee section show."""

    stage: Stage
    clinician: str | None
    pain_log: list[PainLogDay]
    strength_weeks: list[int]
    routine: dict[str, list[str]]
    shoes: list[ShoePair]
    changes: list[Change]
    pain_load: list[str]
    evidence: tuple[Evidence, ...] = txt.KNEE_EVIDENCE
    knee: KneeSettings = field(default_factory=KneeSettings)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> date:
        """The evaluation day."""
        return self.stage.as_of

    @property
    def strength_per_week(self) -> int:
        """Strength sessions in the 7 days ending ``as_of``."""
        return self.strength_weeks[-1] if self.strength_weeks else 0

    def to_json(self) -> dict[str, Any]:
        """The ``knee --json`` document of INTERFACE.md (plus a few fields)."""
        return {
            "as_of": self.as_of.isoformat(),
            "stage": self.stage.stage,
            "stage_reason": self.stage.reason,
            "next_step": self.stage.next_step,
            "clinician": self.clinician,
            "pain_log": [p.to_json() for p in self.pain_log],
            "strength_per_week": self.strength_per_week,
            "strength_weeks": list(self.strength_weeks),
            "strength_text": txt.strength_text(self.strength_per_week, self.knee),
            "routine": {k: list(v) for k, v in self.routine.items()},
            "shoes": [p.to_json() for p in self.shoes],
            "changes": [c.to_json() for c in self.changes],
            "pain_load": list(self.pain_load),
            "evidence": [e.to_json() for e in self.evidence],
        }


def build_knee_page(
    activities: pd.DataFrame, notes: Sequence[Note], *, as_of: date,
    sex: str | None = None, settings: Settings | None = None,
) -> KneePage:  # fmt: skip
    """The knee page on ``as_of`` (RULES §12-14); ``sex`` defaults to the settings'."""
    k = _knee(settings)
    if sex is None and settings is not None:
        sex = settings.athlete.sex
    stage = stage_on(activities, notes, as_of, settings)
    start, _ = knee_window(as_of, settings)
    pairs = shoe_pairs(activities, notes, as_of)
    changes = [
        Change(p.since, "shoes", f"started running in {p.name}")
        for p in pairs
        if start <= p.since <= as_of
    ]
    weeks = 4 + (settings or Settings()).thresholds.shoes.surface_baseline_weeks
    changes += surface_changes(surface_weeks(activities, as_of, weeks), settings)
    changes.sort(key=lambda c: (c.day, c.kind))
    return KneePage(
        stage=stage,
        clinician=clinician_line(notes, as_of, settings),
        pain_log=pain_log(activities, notes, start=start, end=as_of),
        strength_weeks=strength_weeks(notes, as_of),
        routine=txt.routine(stage.stage, sex=sex, knee=k),
        shoes=pairs,
        changes=[c for c in changes if start <= c.day <= as_of],
        pain_load=pain_load_notes(activities, notes, as_of, settings),
        knee=k,
    )


def pain_load_notes(
    activities: pd.DataFrame, notes: Sequence[Note], as_of: date,
    settings: Settings | None = None,
) -> list[str]:  # fmt: skip
    """Descriptive pain-against-load comparisons over 8 weeks (>= 8 pain notes).

    Averages with counts only: no cause, no prediction (RULES §0 wording).
    """
    k = _knee(settings)
    start = as_of - timedelta(days=55)
    if len(pain_notes(notes, start=start, end=as_of)) < k.descriptive_min_notes:
        return []
    runs = run_pains(activities, notes, start=start, end=as_of)
    out = []
    split = k.descent_split_m
    hilly = [r.morning for r in runs if r.descent_m > split]
    flat = [r.morning for r in runs if r.descent_m <= split]
    line = _compare(
        f"pain the morning after runs with more than {split:.0f} m of "
        "descent", hilly, "after the other runs", flat,
    )  # fmt: skip
    if line:
        out.append(line)
    if runs:
        median = float(np.median([r.minutes for r in runs]))
        long = [r.pain for r in runs if r.minutes > median]
        short = [r.pain for r in runs if r.minutes <= median]
        line = _compare(
            f"pain during or after runs longer than {median:.0f} min", long,
            "during or after the shorter ones", short,
        )  # fmt: skip
        if line:
            out.append(line)
    return out + ([txt.DESCRIPTIVE_CAVEAT] if out else [])


def _compare(
    label_a: str, a: list[int | None], label_b: str, b: list[int | None]
) -> str | None:
    xs = [v for v in a if v is not None]
    ys = [v for v in b if v is not None]
    if not xs or not ys:
        return None
    return (
        f"{label_a} averaged {np.mean(xs):.1f}/10 ({_count(xs)}), {label_b} "
        f"{np.mean(ys):.1f}/10 ({_count(ys)})"
    )


def _count(values: list[int]) -> str:
    return f"{len(values)} note" + ("" if len(values) == 1 else "s")


# --- taper ------------------------------------------------------------------


def taper_knee_advice(
    notes: Sequence[Note], *, as_of: date, race_date: date,
    settings: Settings | None = None,
) -> txt.KneeAdvice | None:  # fmt: skip
    """Knee-aware taper advice while pain is noted, up to race day (RULES §7, §13).

    Race week (D-7 … D) adds the seed's race-week advice (40-60 % of normal
    mileage, foam rolling and warm-ups, the knee-friendlier options).
    """
    if as_of > race_date:
        return None  # taper advice ends with the race
    note = knee_pain_noted(notes, as_of, settings)
    if note is None:
        return None
    race_week = (race_date - as_of).days <= 7
    message = txt.taper_advice_text(note, race_week=race_week, knee=_knee(settings))
    return txt.KneeAdvice(note, message, race_week=race_week)


def knee_summary(
    activities: pd.DataFrame, notes: Sequence[Note], as_of: date,
    settings: Settings | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """``{"stage", "next_step"}`` for ``check --json`` when knee pain is noted."""
    stage = stage_on(activities, notes, as_of, settings)
    if stage.stage is None:
        return None
    return {"stage": stage.stage, "next_step": stage.next_step}
