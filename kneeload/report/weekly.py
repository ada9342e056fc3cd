"""The weekly report as data: ``build_weekly_report(...)`` → ``WeeklyReport``.

Pure: the week is passed in (``week_ending``, a local date), nothing here reads the
clock, the store or files. Flags and cadence advice come from
:mod:`kneeload.analysis.check`, so the report says exactly what ``check`` and
``cadence`` say for the same day. Chart data covers the 16 Monday-Sunday weeks
ending ``week_ending`` (RULES §3: uncoupled rolling ACWR is the charted variant).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from kneeload.analysis.acwr import acwr_frame
from kneeload.analysis.cadence import cadence_model, run_gait, segment_table
from kneeload.analysis.check import (
    CadenceResult,
    cadence_advice,
    check,
    knee_pain_score,
)
from kneeload.analysis.daily import daily_series, running_mask
from kneeload.analysis.dates import check_day, in_window, last_days, local_days
from kneeload.analysis.evidence import ACWR_TOOLTIP, Flag
from kneeload.analysis.knee import taper_knee_advice
from kneeload.analysis.knee_changes import change_hook
from kneeload.analysis.knee_text import KneeAdvice
from kneeload.analysis.load import load_rows
from kneeload.analysis.registry import (
    DESCENT_RAMP,
    SESSION_SPIKE,
    WEEKLY_RAMP,
    RuleContext,
    assemble,
    is_increase,
)
from kneeload.analysis.taper import (
    TaperResult,
    parse_race_distance,
    taper_check,
    taper_report_due,
)
from kneeload.config import Settings, Thresholds
from kneeload.notes import Note
from kneeload.report.knee import KneeSection, build_knee_section, warm_up_for
from kneeload.units import weekly_text

CHART_WEEKS = 16
#: RULES §8: lower-impact options, offered when load should come down.
ALTERNATIVES_TEXT = (
    "If you need to run less for a while, lower-impact options keep your fitness "
    "going: swimming, deep-water running, the elliptical trainer or cycling — "
    "choose what is pain-free. Cycling is not automatically easy on the knee; "
    "kneecap pain is common in cyclists too."
)
FOOTER = (
    "Not medical advice — see a clinician for pain that persists, swelling, "
    "locking or giving way."
)
METRONOME_TIP = (
    "Tip: most watches and free metronome apps can beep at a set rate; run a few "
    "minutes of each easy run to the beat, then without it."
)


@dataclass(frozen=True)
class WeekNumbers:
    """The week in numbers (SI units; rendering converts to km or miles)."""

    runs: int
    distance_m: float
    moving_s: float
    longest_m: float
    descent_m: float
    other_sessions: int
    other_moving_s: float


@dataclass(frozen=True)
class ProblemFile:
    """A file of the report's week that could not be read (fully)."""

    path: str
    status: str
    reason: str


@dataclass(frozen=True, eq=False)
class WeeklyReport:
    """Everything the text, HTML, charts and email show for one Monday-Sunday week."""

    week_start: date
    week_ending: date
    units: str
    numbers: WeekNumbers
    load: dict[str, Any]
    acwr_status_text: str
    flags: list[Flag]
    cadence: CadenceResult
    show_alternatives: bool
    problems: tuple[ProblemFile, ...]
    notes: tuple[str, ...]
    daily: pd.DataFrame = field(repr=False)
    weeks: pd.DataFrame = field(repr=False)
    gait: pd.DataFrame = field(repr=False)
    gait_model: tuple[float, float] | None = None
    taper: TaperResult | None = None
    knee_advice: KneeAdvice | None = None
    acwr_caveat: str = ACWR_TOOLTIP
    footer: str = FOOTER
    #: the thresholds in force, so charts and words follow the config
    thresholds: Thresholds = field(default_factory=Thresholds, repr=False)
    #: RULES §6.3: why the cadence suggestion is shown ("low", "knee_pain",
    #: "opt_in"), or "" when it is not (see ``cadence_suggested``).
    cadence_why: str = ""
    #: The latest run in the history (any week), for the empty-week pointer.
    latest_run: date | None = None
    #: RULES §12-14: the knee section (knee pain noted in the last 28 days) ...
    knee: KneeSection | None = None
    #: ... or the warm-up alone (a caution fired or the taper window, §13).
    warm_up: tuple[str, ...] = ()

    @property
    def flag_count(self) -> int:
        """Number of flags raised for the week."""
        return len(self.flags)

    @property
    def show_descent_chart(self) -> bool:
        """True when a descent flag fired in any charted week (RULES §6.5)."""
        return bool(self.weeks["descent_flag"].any())

    @property
    def suggest_cadence(self) -> bool:
        """True when the report suggests a cadence range (RULES §6.3)."""
        return bool(self.cadence_why)

    @property
    def chart_names(self) -> frozenset[str]:
        """The charts this report has (file stems of the PNGs)."""
        names = {"acwr", "weekly_km"}
        if len(self.gait):
            names.add("cadence")
        if self.show_descent_chart:
            names.add("descent")
        if self.taper is not None:
            names.add("taper")
        if self.knee is not None:
            names.add("knee")
        return frozenset(names)


def build_weekly_report(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    week_ending: date,
    problems: pd.DataFrame | Iterable[tuple[str, str, str]] = (),
    knee_notes: Sequence[Note] = (),
) -> WeeklyReport:
    """Assemble the report for the 7 days ending ``week_ending`` (usually a Sunday).

    With a race date set and ``week_ending`` within D-28 ... D+7, the report also
    carries the taper check and, given knee-pain notes, knee-aware taper advice.
    ``problems`` with ``last_day``/``checked_utc`` columns (``History.
    problem_files_dated``) are kept only when they belong to the week
    (:func:`week_problems`); plain (path, status, reason) rows are all kept.
    """
    check_day(week_ending, "week_ending")
    activities = load_rows(activities)  # in-load rows only (RULES §1.5, §1.6)
    pain = knee_pain_score(knee_notes, week_ending, settings)
    result = check(
        activities,
        settings=settings,
        as_of=week_ending,
        knee_pain=pain,
        context_hooks=[change_hook(activities, knee_notes, week_ending, settings)],
    )
    cadence = cadence_advice(activities, settings=settings, as_of=week_ending)
    series = load_series(activities, settings=settings, week_ending=week_ending)
    weeks = weekly_table(
        activities, settings=settings, week_ending=week_ending, series=series
    )
    gait, model = gait_points(activities, settings=settings, week_ending=week_ending)
    status = str(result.load["acwr_status"])
    taper, advice, taper_notes = taper_part(
        activities, settings=settings, week_ending=week_ending, knee_notes=knee_notes
    )
    return WeeklyReport(
        week_start=week_ending - timedelta(days=6),
        week_ending=week_ending,
        units=settings.athlete.units,
        numbers=week_numbers(activities, week_ending),
        load=result.load,
        acwr_status_text=acwr_status_text(
            result.load["acwr"]["uncoupled"], status, settings=settings
        ),
        flags=list(result.flags),
        cadence=cadence,
        show_alternatives=needs_alternatives(result.flags),
        problems=week_problems(problems, week_ending),
        notes=(*result.notes, *taper_notes),
        daily=chart_daily(
            activities, settings=settings, week_ending=week_ending, series=series
        ),
        weeks=weeks,
        gait=gait,
        gait_model=model,
        taper=taper,
        knee_advice=advice,
        cadence_why=cadence_suggested(cadence, settings, knee_pain=pain),
        latest_run=latest_run(activities),
        thresholds=settings.thresholds,
        knee=build_knee_section(
            activities, knee_notes, settings=settings, week_ending=week_ending
        ),
        warm_up=warm_up_for(result.flags, settings=settings, week_ending=week_ending),
    )


def cadence_suggested(
    cadence: CadenceResult, settings: Settings, *, knee_pain: int | None
) -> str:
    """Why RULES §6.3 suggests more steps/min: ``low`` (the cadence rule fired),
    ``knee_pain`` (noted), ``opt_in`` (``[thresholds.cadence_suggest] always``),
    or "" (no suggestion)."""
    if cadence.low:
        return "low"
    if knee_pain:
        return "knee_pain"
    if settings.thresholds.cadence_suggest.always:
        return "opt_in"
    return ""


def latest_run(activities: pd.DataFrame) -> date | None:
    """The local day of the latest run in ``activities`` (None without runs)."""
    runs = activities[running_mask(activities).to_numpy()]
    if runs.empty:
        return None
    last = local_days(runs).max()
    return None if pd.isna(last) else last.date()


#: Undated failed files belong to the week they were read in, or the 7 days after
#: it (a report run on Monday reads last week's files then).
UNDATED_GRACE_DAYS = 7


def week_problems(
    problems: pd.DataFrame | Iterable[tuple[str, str, str]], week_ending: date
) -> tuple[ProblemFile, ...]:
    """Problem files of the week ending ``week_ending``, each once.

    A file is dated by the latest activity read from it; a file nothing could be
    read from is dated by when it was read (local time), which may be up to
    ``UNDATED_GRACE_DAYS`` after the week.
    """
    if not isinstance(problems, pd.DataFrame):
        problems = pd.DataFrame(list(problems), columns=["path", "status", "reason"])
    start = week_ending - timedelta(days=6)
    out: dict[str, ProblemFile] = {}
    records: list[dict[str, Any]] = problems.to_dict("records")  # type: ignore[assignment]
    for row in records:
        if not _in_problem_week(row, start, week_ending):
            continue
        path = str(row["path"])
        out.setdefault(path, ProblemFile(path, str(row["status"]), str(row["reason"])))
    return tuple(out.values())


def _in_problem_week(row: dict[str, Any], start: date, end: date) -> bool:
    last = row.get("last_day")
    if isinstance(last, str) and last:
        return start <= date.fromisoformat(last[:10]) <= end
    checked = row.get("checked_utc")
    if checked is None or pd.isna(checked):
        return "checked_utc" not in row  # plain rows: kept; never-read rows: not
    read_day = datetime.fromtimestamp(float(checked)).date()  # local time
    return start <= read_day <= end + timedelta(days=UNDATED_GRACE_DAYS)


def taper_part(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    week_ending: date,
    knee_notes: Sequence[Note] = (),
) -> tuple[TaperResult | None, KneeAdvice | None, list[str]]:
    """The taper check, knee advice and notes when the taper is due (RULES §7)."""
    race = settings.athlete.race_date
    if race is None or not taper_report_due(settings, week_ending):
        return None, None, []
    notes: list[str] = []
    distance = None
    if settings.athlete.race_distance:
        try:
            distance = parse_race_distance(settings.athlete.race_distance)
        except ValueError as exc:
            notes.append(f"race_distance in the settings: {exc}; assumed a marathon")
    result = taper_check(
        activities,
        settings=settings,
        race_date=race,
        as_of=week_ending,
        race_distance_m=distance,
    )
    advice = taper_knee_advice(
        knee_notes, as_of=week_ending, race_date=race, settings=settings
    )
    return result, advice, notes


def _in_week(activities: pd.DataFrame, week_ending: date) -> pd.DataFrame:
    return last_days(activities, week_ending, 7)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(frame[name], errors="coerce").fillna(0.0)


def week_numbers(activities: pd.DataFrame, week_ending: date) -> WeekNumbers:
    """Runs, distance, moving time, longest run and descent of the 7-day week."""
    week = _in_week(activities, week_ending)
    run = running_mask(week).to_numpy()
    runs, other = week[run], week[~run]
    moving = _col(runs, "moving_s").where(
        _col(runs, "moving_s") > 0, _col(runs, "elapsed_s")
    )
    distance = _col(runs, "distance_m")
    return WeekNumbers(
        runs=len(runs),
        distance_m=float(distance.sum()),
        moving_s=float(moving.sum()),
        longest_m=float(distance.max()) if len(runs) else 0.0,
        descent_m=float(_col(runs, "descent_m").sum()),
        other_sessions=len(other),
        other_moving_s=float(_col(other, "moving_s").sum()),
    )


def _status_text(status: str, settings: Settings) -> str:
    """Why the ratio is not shown, in the configured numbers (RULES §3)."""
    cfg, units = settings.thresholds.acwr, settings.athlete.units
    texts = {
        "insufficient_history": "not shown yet: it needs "
        f"{cfg.min_history_days} days of history",
        "low_chronic": "not shown: your usual load is under "
        f"{weekly_text(cfg.low_chronic_km_per_week, units).replace('/week', '')} "
        "a week, too small for a ratio",
        "after_break": f"not shown: within {_days_text(cfg.after_break_days)} after "
        f"a break of {_days_text(cfg.break_days)} or more",
        "taper": "not shown: you are inside your race taper window",
    }
    return texts.get(status, f"not shown ({status})")


def _days_text(days: int) -> str:
    """E.g. '4 weeks' for 28, '10 days' for 10."""
    return f"{days // 7} weeks" if days % 7 == 0 and days >= 14 else f"{days} days"


def acwr_status_text(
    ratio: float | None, status: str, *, settings: Settings | None = None
) -> str:
    """Plain words for the uncoupled ACWR and its gating status (RULES §3 bands)."""
    settings = settings or Settings()
    if status != "ok" or ratio is None:
        return _status_text(status, settings)
    low = settings.thresholds.acwr_low.info_below
    high = settings.thresholds.acwr_high
    if ratio < low:
        where = "below your usual load"
    elif ratio <= high.info_above:
        where = "within your usual range"
    elif ratio <= high.caution_above:
        where = "above your usual load"
    else:
        where = "well above your usual load"
    return f"{ratio:.2f} — {where}"


def needs_alternatives(flags: Iterable[Flag]) -> bool:
    """True when load should come down: a CAUTION/WARNING or a load-increase flag."""
    return any(f.severity != "info" or is_increase(f) for f in flags)


def _chart_start(activities: pd.DataFrame, week_ending: date) -> pd.Timestamp:
    """First charted day: 16 weeks back, or the Monday of the first activity."""
    start = pd.Timestamp(week_ending) - pd.Timedelta(days=7 * CHART_WEEKS - 1)
    days = local_days(activities)
    first = days[days <= pd.Timestamp(week_ending)].min()
    if pd.isna(first) or first <= start:
        return start
    return start + pd.Timedelta(weeks=(first - start).days // 7)


@dataclass(frozen=True, eq=False)
class LoadSeries:
    """What the charts and the weekly table share, computed once per report.

    ``acts`` are the activities up to the week's end, ``runs`` their runs in start
    order, ``daily`` the daily series (None without activities) and ``frame`` its
    ACWR frame (causal: the row of any day equals a frame computed up to that day).
    """

    acts: pd.DataFrame
    runs: pd.DataFrame
    daily: pd.DataFrame | None
    frame: pd.DataFrame | None


def load_series(
    activities: pd.DataFrame, *, settings: Settings, week_ending: date
) -> LoadSeries:
    """The daily series and its ACWR frame up to ``week_ending``, built once."""
    acts = in_window(activities, end=week_ending)
    runs = acts[running_mask(acts).to_numpy()].sort_values("start_utc", kind="stable")
    if acts.empty:
        return LoadSeries(acts, runs, None, None)
    daily = daily_series(acts, settings=settings, end=week_ending)
    # the ACWR frame since the first run, as the rules' context computes it
    since = daily.loc[local_days(runs).min() :] if len(runs) else daily
    return LoadSeries(acts, runs, daily, acwr_frame(since["run_km"], settings=settings))


def chart_daily(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    week_ending: date,
    series: LoadSeries | None = None,
) -> pd.DataFrame:
    """Per day of the charted weeks: acute km, usual week km, uncoupled ACWR.

    The usual week is 7 x the mean daily km of days t-27..t-7, so that
    acute / usual equals the uncoupled ratio drawn beneath it (Lolli 2019).
    """
    start = _chart_start(activities, week_ending)
    index = pd.date_range(start, week_ending, freq="D", name="date")
    s = series or load_series(activities, settings=settings, week_ending=week_ending)
    if s.daily is None or s.frame is None:
        empty = {"run_km": 0.0, "acute_km": 0.0, "usual_km": np.nan, "acwr": np.nan}
        return pd.DataFrame(empty, index=index)
    km = s.daily["run_km"]
    cfg = settings.thresholds.acwr
    window = cfg.chronic_days - cfg.acute_days
    frame = s.frame
    usual = km.shift(cfg.acute_days).rolling(window, min_periods=window).mean() * 7.0
    ok = frame["acwr_status"] == "ok"
    out = pd.DataFrame(
        {
            "run_km": km,
            "acute_km": frame["acute_km"],
            "usual_km": usual,
            "acwr": frame["uncoupled"].where(ok),
        }
    )
    # the first days of a history have no full 7 days yet: no acute line there
    # (it would climb from 0 and read as a spike)
    first = frame.index[0] + pd.Timedelta(days=cfg.acute_days - 1)  # first run
    out.loc[out.index < first, "acute_km"] = np.nan
    return out.reindex(index).fillna({"run_km": 0.0})


def weekly_table(
    activities: pd.DataFrame,
    *,
    settings: Settings,
    week_ending: date,
    series: LoadSeries | None = None,
) -> pd.DataFrame:
    """One row per charted week: km, longest run, descent and which load flags fired.

    Calls the same rule functions as ``check`` (load rules only; gait rules do not
    change the load charts), on one daily series and one ACWR frame for all weeks.
    """
    first = _chart_start(activities, week_ending).date()
    s = series or load_series(activities, settings=settings, week_ending=week_ending)
    # the weeks' numbers only sum their own days: slice the charted weeks once
    # (the rules get every run: their history starts at the first run, RULES §1.6)
    charted = in_window(s.acts, start=first)
    rows = []
    for k in range((week_ending - first).days // 7, -1, -1):
        end = week_ending - timedelta(days=7 * k)
        flags = _load_flags(s, settings, end)
        rows.append(_week_row(end, week_numbers(charted, end), flags))
    return pd.DataFrame(rows).set_index("week_start")


def _load_flags(s: LoadSeries, settings: Settings, end: date) -> list[Flag]:
    """The registry's ``load`` rules for the week ending ``end`` (as ``check``).

    The ACWR frame (since the first run, as the rule context computes it) is
    causal, so its rows up to ``end`` are what the context would compute for that
    day: it is handed over instead of recomputed per week.
    """
    if s.daily is None or s.frame is None or s.daily.loc[: pd.Timestamp(end)].empty:
        return []
    week_runs = in_window(s.runs, end=end)
    ctx = RuleContext(s.daily, week_runs, settings=settings, as_of=end)
    ctx.__dict__["acwr"] = s.frame.loc[: pd.Timestamp(end)]  # the cached_property
    return assemble(ctx, where=lambda rule: rule.load)[0]


def _week_row(end: date, nums: WeekNumbers, flags: list[Flag]) -> dict[str, Any]:
    rules = {f.rule for f in flags}
    ramp = [f.severity for f in flags if f.rule == WEEKLY_RAMP]
    return {
        "week_start": pd.Timestamp(end - timedelta(days=6)),
        "km": nums.distance_m / 1000.0,
        "longest_km": nums.longest_m / 1000.0,
        "descent_m": nums.descent_m,
        "runs": nums.runs,
        "ramp": ramp[0] if ramp else "",
        "spike": SESSION_SPIKE in rules,
        "descent_flag": DESCENT_RAMP in rules,
        "flag_days": tuple(sorted({f.date for f in flags})),
    }


def gait_points(
    activities: pd.DataFrame, *, settings: Settings, week_ending: date
) -> tuple[pd.DataFrame, tuple[float, float] | None]:
    """Per-run steady-state speed and cadence of recent runs, and the own-speed fit."""
    cfg = settings.thresholds.cadence_low
    runs = activities[running_mask(activities).to_numpy()]
    end = pd.Timestamp(week_ending)
    recent = last_days(runs, week_ending, 7 * cfg.model_weeks)
    recent = recent.sort_values("start_utc", kind="stable")
    if recent.empty:
        return pd.DataFrame(columns=["speed_mps", "spm", "day", "this_week"]), None
    gait = run_gait(segment_table(recent))
    gait["this_week"] = gait["day"] > end - pd.Timedelta(days=7)
    model = cadence_model(gait[~gait["this_week"]], cfg)
    return gait.reset_index(drop=True), model
