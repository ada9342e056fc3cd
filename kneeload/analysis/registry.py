"""The rule registry: every rule kneeload evaluates, declared once (RULES §3-§7).

Each :class:`Rule` says what the rule is called (its id, from
:mod:`kneeload.analysis.rule_ids`, and the plain name the report shows), which
function evaluates it, how its value and threshold read, which
``[thresholds.<section>]`` of ``kneeload.toml`` configures it, and its tags:

``load``
    a rule on the running load: the report's weekly table and charts evaluate it
    for every charted week;
``increase``
    it fires when the load goes up, so the report offers lower-impact options;
``race_exempt``
    the race itself makes it fire by design: not flagged from race day to D+6;
``knee_sensitive``
    with knee pain noted, its INFO becomes CAUTION (RULES §5, §6.5).

``check()`` (:func:`assemble`), the weekly table, the race and knee adjustments and
the report's renderers all loop over :data:`RULES`; nothing else lists rule ids.

**Context hook.** A flag can carry extra sentences from outside its rule (e.g. the
knee page's "you also started running in NAME on DATE" on a ``session_spike``): pass
``context_hooks`` to :func:`assemble` (``check(..., context_hooks=...)``). A hook is
called with each flag and returns the lines to add (usually none); they land in
``Flag.context``, which every renderer prints after the message and JSON carries as
``"context"``. Never edit a flag's message for this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import pandas as pd

from kneeload.analysis.acwr import acwr_frame, in_taper_window
from kneeload.analysis.cadence import gait_flags
from kneeload.analysis.daily import last_history_start
from kneeload.analysis.dates import local_days
from kneeload.analysis.evidence import SEVERITIES, Flag
from kneeload.analysis.ramps import descent_ramp, session_spike, weekly_ramp
from kneeload.analysis.rule_ids import (
    ACWR_HIGH,
    ACWR_LOW,
    CADENCE_LOW,
    DESCENT_RAMP,
    INTENSITY_RAMP,
    MONOTONY_HIGH,
    SESSION_SPIKE,
    STEP_LENGTH_UP,
    TAPER_FREQUENCY,
    TAPER_INTENSITY,
    TAPER_RELAXED,
    TAPER_VOLUME,
    WEEKLY_RAMP,
)
from kneeload.analysis.rules import acwr_high, acwr_low, intensity_ramp, monotony_high
from kneeload.config import Settings

__all__ = [
    "ACWR_HIGH",
    "ACWR_LOW",
    "CADENCE_LOW",
    "DESCENT_RAMP",
    "INTENSITY_RAMP",
    "MONOTONY_HIGH",
    "RULES",
    "SESSION_SPIKE",
    "STEP_LENGTH_UP",
    "TAPER_FREQUENCY",
    "TAPER_INTENSITY",
    "TAPER_RELAXED",
    "TAPER_VOLUME",
    "WEEKLY_RAMP",
    "ContextHook",
    "Rule",
    "RuleContext",
    "add_context",
    "assemble",
    "rule",
    "with_knee_pain",
    "without_race",
]


class RuleContext:
    """What the rules of one evaluation day look at (``as_of`` included).

    ``daily`` is the continuous daily series up to ``as_of`` (RULES §0), ``runs``
    the running activities up to ``as_of`` in start order. The history of the
    running rules starts at the first run (RULES §1.6): days before it (a walk or
    a ride months earlier) are not a break to return from, nor empty weeks to ramp
    against. A break of at least the chronic window (28 days) starts a new history
    (RULES §3): ``daily`` is cut to start at the first run after the last such
    break, so every look-back (baselines, percentiles, minimum history) stays in
    the runner's current history. The ACWR frame is computed on the whole series
    since the first run, block by block (it knows a restart is a return from a
    break); it and the gait flags are computed once, on first use, and shared.
    """

    def __init__(
        self, daily: pd.DataFrame, runs: pd.DataFrame, *, settings: Settings,
        as_of: date,
    ) -> None:  # fmt: skip
        daily = daily.loc[: pd.Timestamp(as_of)]
        self.first_run: date | None = None
        if len(runs):
            first = local_days(runs).min()
            daily = daily.loc[first:]
            self.first_run = first.date()
        self._since_first_run = daily
        gap = settings.thresholds.acwr.chronic_days
        start = last_history_start(daily["run_km"], gap_days=gap)
        self.daily = daily.loc[start:] if start is not None else daily
        self.runs = runs
        self.settings = settings
        self.as_of = as_of

    @property
    def history_start(self) -> date:
        """The first day of ``daily``: the start of the runner's current history."""
        return self.daily.index[0].date()

    @cached_property
    def acwr(self) -> pd.DataFrame:
        """All ACWR variants and their gating status per day (RULES §3)."""
        return acwr_frame(self._since_first_run["run_km"], settings=self.settings)

    @property
    def acwr_last(self) -> tuple[float | None, str]:
        """(uncoupled ratio or None, gating status) on ``as_of``."""
        if self.acwr.empty:
            return None, "insufficient_history"
        row = self.acwr.iloc[-1]
        status = str(row["acwr_status"])
        return (float(row["uncoupled"]) if status == "ok" else None), status

    @cached_property
    def gait(self) -> list[Flag]:
        """cadence_low and step_length_up of the week (one gait model for both)."""
        return gait_flags(self.runs, settings=self.settings, as_of=self.as_of)


Evaluator = Callable[[RuleContext], list[Flag]]
_TAPER = "taper"  # the four taper rules share [thresholds.taper]
#: A context hook: given a flag, the extra lines to add to its ``context``.
ContextHook = Callable[[Flag], Sequence[str]]


@dataclass(frozen=True)
class Rule:
    """One rule: id, plain name, evaluator, formats, config section and tags.

    ``value_format``/``threshold_format`` are ``str.format`` patterns for the
    report's "The numbers" line; empty where the value changes meaning by case
    (the message gives the numbers). ``evaluate`` is None for the taper rules,
    which :func:`kneeload.analysis.taper.taper_check` evaluates on race weeks.
    """

    id: str
    name: str
    evaluate: Evaluator | None
    cite: str
    value_format: str = ""
    threshold_format: str = ""
    load: bool = False
    increase: bool = False
    race_exempt: bool = False
    knee_sensitive: bool = False
    #: ``[thresholds.<section>]`` of kneeload.toml; empty = the rule id
    section: str = ""

    @property
    def config_section(self) -> str:
        """The ``Thresholds`` field (and TOML table) holding this rule's settings."""
        return self.section or self.id


def _session_spike(ctx: RuleContext) -> list[Flag]:
    return session_spike(
        ctx.runs, settings=ctx.settings, as_of=ctx.as_of,
        history_start=ctx.history_start, first_run=ctx.first_run,
    )  # fmt: skip


def _weekly_ramp(ctx: RuleContext) -> list[Flag]:
    return weekly_ramp(ctx.daily, settings=ctx.settings, as_of=ctx.as_of)


def _acwr_high(ctx: RuleContext) -> list[Flag]:
    return acwr_high(*ctx.acwr_last, settings=ctx.settings, as_of=ctx.as_of)


def _acwr_low(ctx: RuleContext) -> list[Flag]:
    return acwr_low(*ctx.acwr_last, settings=ctx.settings, as_of=ctx.as_of)


def _intensity_ramp(ctx: RuleContext) -> list[Flag]:
    return intensity_ramp(ctx.daily, settings=ctx.settings, as_of=ctx.as_of)


def _monotony_high(ctx: RuleContext) -> list[Flag]:
    taper = in_taper_window(ctx.settings, ctx.as_of)
    return monotony_high(
        ctx.daily, settings=ctx.settings, as_of=ctx.as_of, in_taper=taper
    )


def _cadence_low(ctx: RuleContext) -> list[Flag]:
    return [f for f in ctx.gait if f.rule == CADENCE_LOW]


def _step_length_up(ctx: RuleContext) -> list[Flag]:
    return [f for f in ctx.gait if f.rule == STEP_LENGTH_UP]


def _descent_ramp(ctx: RuleContext) -> list[Flag]:
    return descent_ramp(
        ctx.daily, ctx.runs, settings=ctx.settings, as_of=ctx.as_of,
        history_start=ctx.history_start,
    )  # fmt: skip


#: Every rule, in the order ``check`` evaluates them.
RULES: tuple[Rule, ...] = (
    Rule(SESSION_SPIKE, "Long-run spike", _session_spike, "RULES §4",
         "{:.2f}x the month's longest run", "{:.2f}x",
         load=True, increase=True, race_exempt=True),
    Rule(WEEKLY_RAMP, "Weekly ramp", _weekly_ramp, "RULES §4",
         "{:+.0f}% on the previous 7 days", "{:+.0f}%",
         load=True, increase=True, race_exempt=True),
    Rule(ACWR_HIGH, "Load above usual (ACWR)", _acwr_high, "RULES §3",
         "ACWR {:.2f}", "{:.2f}", load=True, increase=True, race_exempt=True),
    Rule(ACWR_LOW, "Load below usual (ACWR)", _acwr_low, "RULES §3",
         "ACWR {:.2f}", "{:.2f}", load=True),
    Rule(INTENSITY_RAMP, "More fast running", _intensity_ramp, "RULES §5",
         race_exempt=True, knee_sensitive=True),
    Rule(MONOTONY_HIGH, "Very similar days", _monotony_high, "RULES §2 (L9)"),
    Rule(CADENCE_LOW, "Cadence lower than usual", _cadence_low, "RULES §6.2"),
    Rule(STEP_LENGTH_UP, "Longer steps than usual", _step_length_up, "RULES §6.4",
         "{:+.0f}%", "{:+.0f}%"),
    Rule(DESCENT_RAMP, "More downhill", _descent_ramp, "RULES §6.5",
         "{:.0f} m of descent", "{:.0f} m", load=True, increase=True,
         race_exempt=True, knee_sensitive=True),
    Rule(TAPER_VOLUME, "Race-week volume", None, "RULES §7", "{:.2f}", "{:.2f}",
         section=_TAPER),
    Rule(TAPER_RELAXED, "Relaxed taper", None, "RULES §7", "{:.2f}", "{:.2f}",
         section=_TAPER),
    Rule(TAPER_FREQUENCY, "Fewer runs in the taper", None, "RULES §7",
         "{:.2f}", "{:.2f}", section=_TAPER),
    Rule(TAPER_INTENSITY, "No fast running in the taper", None, "RULES §7",
         "{:.0f}", "{:.0f}", section=_TAPER),
)  # fmt: skip
_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def rule(rule_id: str) -> Rule | None:
    """The declaration of ``rule_id``, or None for an id kneeload does not know."""
    return _BY_ID.get(rule_id)


def _tagged(flag: Flag, tag: str) -> bool:
    declared = _BY_ID.get(flag.rule)
    return bool(declared is not None and getattr(declared, tag))


def is_increase(flag: Flag) -> bool:
    """True for a flag of a rule that fires when the load goes up."""
    return _tagged(flag, "increase")


def without_race(
    flags: list[Flag], settings: Settings, as_of: date
) -> tuple[list[Flag], list[str]]:
    """Drop the flags the race itself raises in the 7 days from race day on.

    A marathon is a planned spike: flagging it as "56 % longer than your longest
    run" tells the runner nothing. Runs before race day are still checked; only
    ``race_exempt`` rules are dropped.
    """
    race = settings.athlete.race_date
    if race is None or not race <= as_of <= race + timedelta(days=6):
        return flags, []
    kept = [f for f in flags if not _tagged(f, "race_exempt") or f.date < race]
    if len(kept) == len(flags):
        return flags, []
    note = (
        f"race on {race.isoformat()}: the race and its week are not flagged as a "
        "load spike or ramp"
    )
    return kept, [note]


CLINICIAN_TEXT = (
    "You noted knee pain: if it persists, or comes with swelling, locking or "
    "giving way, see a clinician."
)


def with_knee_pain(flags: list[Flag], score: int | None) -> list[Flag]:
    """Raise ``knee_sensitive`` rules from INFO to CAUTION; add the clinician line."""
    if score is None:
        return flags
    out = []
    for flag in flags:
        severity = flag.severity
        if _tagged(flag, "knee_sensitive") and severity == "info":
            severity = "caution"
        message = f"{flag.message} {CLINICIAN_TEXT}"
        out.append(dataclasses.replace(flag, severity=severity, message=message))
    return out


def add_context(flags: Iterable[Flag], hooks: Sequence[ContextHook]) -> list[Flag]:
    """Each flag with the lines its context hooks return appended to ``context``."""
    out = []
    for flag in flags:
        lines = tuple(line for hook in hooks for line in hook(flag))
        out.append(
            dataclasses.replace(flag, context=flag.context + lines) if lines else flag
        )
    return out


def assemble(
    ctx: RuleContext,
    *,
    where: Callable[[Rule], bool] | None = None,
    context_hooks: Sequence[ContextHook] = (),
) -> tuple[list[Flag], list[str]]:
    """Evaluate the registered rules (``where`` picks some) → (flags, notes).

    The one place flags are put together: every rule's flags, the race
    exemption, the context hooks, then sorted by day, severity (worst first) and
    rule id. Knee-pain raising is left to the caller (``check``), which knows the
    notes.
    """
    flags: list[Flag] = []
    for r in RULES:
        if r.evaluate is not None and (where is None or where(r)):
            flags += r.evaluate(ctx)
    flags, notes = without_race(flags, ctx.settings, ctx.as_of)
    flags = add_context(flags, context_hooks)
    flags.sort(key=lambda f: (f.date, -SEVERITIES.index(f.severity), f.rule))
    return flags, notes


def describe() -> list[dict[str, Any]]:
    """The registry as data: one dict per rule (for docs and ``config`` help)."""
    return [
        {
            "id": r.id,
            "name": r.name,
            "section": f"thresholds.{r.config_section}",
            "cite": r.cite,
            "tags": [
                t
                for t in ("load", "increase", "race_exempt", "knee_sensitive")
                if getattr(r, t)
            ],
        }
        for r in RULES
    ]
