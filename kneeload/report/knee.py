"""The knee section of the weekly report and ``knee.png`` (RULES §12-14).

``build_knee_section`` returns None unless knee pain was noted in the last 28
days. The text and HTML renderers here are used by ``kneeload knee`` and by the
report; the HTML uses inline styles only (email-safe). ``plot_knee`` draws daily
pain (one marker shape per *when*) over daily running distance and descent for 8
weeks, sized for a phone: a 4.8 in figure at 150 dpi is 720 px, shown at
360-400 CSS px on a 2x screen, so 12 pt text stays above 11 CSS px.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol, cast

import pandas as pd

from kneeload.analysis import knee_text as txt
from kneeload.analysis.dates import local_days
from kneeload.analysis.evidence import Flag
from kneeload.analysis.knee import (
    KneePage,
    PainLogDay,
    build_knee_page,
    knee_pain_noted,
)
from kneeload.analysis.knee_changes import running
from kneeload.config import Settings
from kneeload.notes import Note
from kneeload.report.model import (
    Block,
    Bullet,
    Bullets,
    FlagBox,
    Image,
    Paragraph,
    Section,
)
from kneeload.units import per_unit_m

CHART_DAYS = 56  # 8 weeks
#: Marker and colour per *when* (Okabe-Ito; shape carries the meaning too).
WHEN_STYLE: dict[str, tuple[str, str]] = {
    "during": ("o", "#D55E00"),  # vermillion circle
    "after": ("D", "#CC79A7"),  # purple diamond
    "next-morning": ("^", "#0072B2"),  # blue triangle
    "rest": ("s", "#000000"),  # black square
}
KM_COLOUR = "#56B4E9"  # sky
DESCENT_COLOUR = "#009E73"  # green
CHART_TITLE = "Knee pain over your daily running: does it follow long or hilly days?"


@dataclass(frozen=True)
class KneeSection:
    """What the report shows about the knee for one week."""

    page: KneePage
    week_start: date
    daily: pd.DataFrame = field(repr=False)  # index day: run_km, descent_m
    pains: pd.DataFrame = field(repr=False)  # day, score, when

    @property
    def week_log(self) -> list[PainLogDay]:
        """The pain log of the report week."""
        return [p for p in self.page.pain_log if p.day >= self.week_start]


def build_knee_section(
    activities: pd.DataFrame, notes: Sequence[Note], *, settings: Settings,
    week_ending: date,
) -> KneeSection | None:  # fmt: skip
    """The knee section, or None when no knee pain was noted in the last 28 days."""
    if knee_pain_noted(notes, week_ending, settings) is None:
        return None
    page = build_knee_page(activities, notes, as_of=week_ending, settings=settings)
    start = week_ending - timedelta(days=CHART_DAYS - 1)
    return KneeSection(
        page=page,
        week_start=week_ending - timedelta(days=6),
        daily=chart_daily(activities, start=start, end=week_ending),
        pains=chart_pains(notes, start=start, end=week_ending),
    )


def chart_daily(activities: pd.DataFrame, *, start: date, end: date) -> pd.DataFrame:
    """Daily running km and descent (m), every day of ``start`` … ``end``."""
    index = pd.date_range(start, end, freq="D", name="day")
    runs = running(activities, start=start, end=end)
    if runs.empty:
        return pd.DataFrame(0.0, index=index, columns=["run_km", "descent_m"])
    frame = pd.DataFrame(
        {
            "day": local_days(runs).to_numpy(),
            "run_km": pd.to_numeric(runs["distance_m"], errors="coerce").fillna(0.0)
            .to_numpy() / 1000.0,
            "descent_m": pd.to_numeric(runs["descent_m"], errors="coerce")
            .fillna(0.0).to_numpy(),
        }
    )  # fmt: skip
    return frame.groupby("day").sum().reindex(index, fill_value=0.0).astype(float)


def chart_pains(notes: Sequence[Note], *, start: date, end: date) -> pd.DataFrame:
    """One row per knee-pain note of ``start`` … ``end``: day, score, when."""
    rows = [
        {"day": pd.Timestamp(n.day), "score": float(n.score or 0), "when": n.when}
        for n in notes
        if n.kind == "knee_pain" and start <= n.day <= end
    ]
    return pd.DataFrame(rows, columns=["day", "score", "when"])


def warm_up_due(flags: Sequence[Flag], *, in_taper: bool) -> bool:
    """True when any caution or warning fired or the taper window is on (§13)."""
    return in_taper or any(f.severity in ("caution", "warning") for f in flags)


def warm_up_for(
    flags: Sequence[Flag], *, settings: Settings, week_ending: date
) -> tuple[str, ...]:
    """The warm-up lines when a caution fired or inside the taper window (§13)."""
    from kneeload.analysis.acwr import in_taper_window

    if not warm_up_due(flags, in_taper=in_taper_window(settings, week_ending)):
        return ()
    return tuple(warm_up_lines(settings.athlete.sex))


class KneeReport(Protocol):
    """What the knee section needs of a weekly report (``report.weekly``).

    A protocol, not an import: ``weekly`` builds the knee section, so this
    module must not import ``weekly`` back, not even for types.
    """

    @property
    def knee(self) -> KneeSection | None:
        """The knee section, when knee pain was noted in the last 28 days."""

    @property
    def warm_up(self) -> tuple[str, ...]:
        """The warm-up lines alone (a caution fired, or the taper window)."""

    @property
    def units(self) -> str:
        """``km`` or ``mi``."""

    @property
    def chart_names(self) -> frozenset[str]:
        """The charts this report has (file stems of the PNGs)."""


def report_section(report: KneeReport) -> Section | None:
    """The knee (or warm-up) section of the weekly report (sections.EXTRA_SECTIONS)."""
    return knee_report_section(
        report.knee, report.warm_up, units=report.units, charts=report.chart_names
    )


def warm_up_lines(sex: str | None = None) -> list[str]:
    """The warm-up and cool-down content on its own (RULES §13)."""
    routine = txt.routine(None, sex=sex)
    return [
        "Before you run, physical therapists recommend "
        + routine["warm_up"][0]
        + ", then six dynamic warm-ups: "
        + ", ".join(txt.WARM_UPS)
        + ".",
        *(line[:1].upper() + line[1:] + "." for line in routine["warm_up"][7:]),
        routine["cool_down"][0][:1].upper() + routine["cool_down"][0][1:] + ".",
    ]


# --- text -------------------------------------------------------------------


def _run(day: PainLogDay, units: str) -> str:
    if not day.run_km:
        return "no run"
    dist = day.run_km * 1000.0 / per_unit_m(units)
    return f"{dist:.1f} {units}, {txt.minutes_text(day.run_min)}"


def pain_log_lines(log: Sequence[PainLogDay], units: str) -> list[str]:
    """One line per day: the day's running, then its notes."""
    by_day: dict[date, list[PainLogDay]] = {}
    for item in log:
        by_day.setdefault(item.day, []).append(item)
    return [
        f"{day:%a %d %b}: {_run(items[0], units)} — "
        + "; ".join(txt.pain_words(i.note) for i in items)
        for day, items in by_day.items()
    ]


def _stage_line(page: KneePage) -> str:
    s = page.stage.stage
    if s is None:
        days = page.knee.pain_window_days
        return f"Stage: none (no knee pain noted in the last {days} days)."
    return f'Stage {s} of 3 — "{txt.STAGE_WORDS[s]}".'


def knee_head(page: KneePage) -> list[str]:
    """Clinician line (first, when due), stage, why and the next step."""
    out = [page.clinician] if page.clinician else []
    out += [_stage_line(page), f"Why: {page.stage.reason}."]
    if page.stage.next_step:
        out.append(f"Next step: {page.stage.next_step}")
    return out


def knee_body(page: KneePage, *, units: str) -> list[str]:
    """Routine, warm-up, cool-down, load, strength, shoes, changes, pain-load."""
    r = page.routine
    out = ["Before you run: " + "; ".join(r["pre_run"]) + "."]
    out.append(
        f"Warm-up, as physical therapists recommend: {r['warm_up'][0]}; then the "
        "dynamic warm-ups " + ", ".join(r["warm_up"][1:7])
        + "." + "".join(f" {x[:1].upper()}{x[1:]}." for x in r["warm_up"][7:])
    )  # fmt: skip
    out.append("Cool-down: " + r["cool_down"][0] + ".")
    if r["load"]:
        out.append("Load: " + "; ".join(r["load"]) + ".")
    out.append(txt.strength_text(page.strength_per_week, page.knee))
    for pair in page.shoes:
        dist = pair.distance_m / per_unit_m(units)
        out.append(
            f"Shoes: {pair.name}, since {pair.since.isoformat()}: {dist:.1f} {units} "
            f"in {pair.runs} run{'s' if pair.runs != 1 else ''}."
        )
    out += [f"Change: {c.day.isoformat()}, {c.text}." for c in page.changes]
    out += [line[:1].upper() + line[1:] + "." for line in page.pain_load[:-1]]
    out += page.pain_load[-1:]
    return out


def knee_lines(page: KneePage, *, units: str, log: Sequence[PainLogDay]) -> list[str]:
    """The knee page as paragraphs of plain text (stage, log, routine, shoes)."""
    lines = ["  " + line for line in pain_log_lines(log, units)] or ["  no notes"]
    return [*knee_head(page), "Pain log:", *lines, *knee_body(page, units=units)]


def render_knee_page(page: KneePage, *, units: str = "km") -> str:
    """The human output of ``kneeload knee``."""
    lines = [f"kneeload knee — as of {page.as_of.isoformat()}", ""]
    for para in knee_lines(page, units=units, log=page.pain_log):
        indent = "    " if para.startswith("  ") else ""
        lines += textwrap.wrap(para, 88, subsequent_indent=indent + "  ") or [""]
    lines.append("")
    for e in page.evidence:
        entry = f"- {e.citation} (grade {e.grade})"
        lines += textwrap.wrap(entry, 88, initial_indent="  ", subsequent_indent="    ")
    return "\n".join(lines)


# --- the report section (kneeload.report.model blocks) ------------------------

KNEE_CAPTION = "Knee pain by when it was noted, over daily running distance and descent"


def knee_report_section(
    section: KneeSection | None, warm_up: Sequence[str] = (), *, units: str = "km",
    charts: frozenset[str] = frozenset(),
) -> Section | None:  # fmt: skip
    """The report's knee section, or the warm-up alone when only that is due (§13).

    Blocks of :mod:`kneeload.report.model`, so the report's own renderers give
    the text and the email-safe HTML.
    """
    if section is None:
        if not warm_up:
            return None
        paras = tuple(Paragraph(line) for line in warm_up)
        return Section("warm_up", "Warm-up and cool-down", paras)
    page = section.page
    blocks: list[Block] = []
    head = knee_head(page)
    if page.clinician:
        blocks.append(FlagBox("caution", "Caution: see a clinician", (head.pop(0),)))
    blocks += [Paragraph(line) for line in head]
    log = pain_log_lines(section.week_log, units)
    blocks.append(Paragraph("This week's pain log:"))
    blocks.append(Bullets(tuple(Bullet(line) for line in log or ["no notes"])))
    if "knee" in charts:
        blocks.append(Image("knee", KNEE_CAPTION))
    blocks += [Paragraph(line) for line in knee_body(page, units=units)]
    sources = "Sources: " + "; ".join(
        f"{e.citation} [{e.grade}]" for e in page.evidence
    )
    blocks.append(Paragraph(sources, small=True))
    return Section("knee", "Your knee", tuple(blocks))


# --- knee.png ---------------------------------------------------------------


def plot_knee(
    top: Any, bottom: Any, section: KneeSection, *, units: str = "km"
) -> list[Any]:
    """Daily pain by *when* on ``top``; daily distance and descent on ``bottom``.

    Changes (new shoes, a surface change) are dashed vertical lines on both.
    """
    drawn: list[Any] = []
    pains = section.pains
    for when, (marker, colour) in WHEN_STYLE.items():
        part = pains[pains["when"] == when]
        if len(part):
            drawn.append(top.scatter(part["day"], part["score"], marker=marker,
                                     s=36, color=colour, zorder=3,
                                     label=txt.WHEN_WORDS[when]))  # fmt: skip
    top.set_ylim(-0.5, 10.5)
    minimal = section.page.knee.minimal_pain
    top.set_yticks(sorted({0, minimal, section.page.knee.clinician_pain, 10}))
    drawn.append(top.axhline(minimal, color="#777777", lw=1.2, ls=":",
                             label=f"{minimal}/10: minimal"))  # fmt: skip
    top.set_ylabel("pain /10")
    daily = section.daily
    first = daily.index[0].date()
    for change in section.page.changes:
        if change.day >= first:
            for ax in (top, bottom):
                ax.axvline(pd.Timestamp(change.day), color="#555555", lw=1.2,
                           ls="--", zorder=1)  # fmt: skip
            drawn.append(top.plot([], [], color="#555555", ls="--",
                                  label="new shoes/surface")[0])  # fmt: skip
    handles, labels = top.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    top.legend(unique.values(), unique.keys(), loc="upper left", ncol=2,
               handletextpad=0.3, borderaxespad=0.2)  # fmt: skip
    f = per_unit_m(units) / 1000.0
    drawn.append(bottom.bar(daily.index, daily["run_km"] / f, width=0.8,
                            color=KM_COLOUR, label=f"{units} run"))  # fmt: skip
    bottom.set_ylabel(f"{units} per day (bars)")
    twin = bottom.twinx()
    descent = daily["descent_m"].where(daily["descent_m"] > 0)
    drawn += twin.plot(daily.index, descent, color=DESCENT_COLOUR, lw=0,
                       marker="_", ms=8, mew=2.5, label="descent (m)")  # fmt: skip
    twin.set_ylabel("descent m (dashes)", color=DESCENT_COLOUR)
    twin.spines["top"].set_visible(False)
    twin.spines["right"].set_visible(True)
    twin.set_ylim(0, max(100.0, float(daily["descent_m"].max()) * 1.2))
    bottom.set_ylim(0, max(5.0, float((daily["run_km"] / f).max()) * 1.25))
    return drawn


def knee_figure(section: KneeSection, *, units: str = "km") -> Any:
    """The drawn ``knee.png`` figure: pain against load, 8 weeks, phone width.

    Drawn with the report's figure and style (``charts.new_figure``: 360 CSS px
    at 2x, text of at least ``charts.MIN_FONT_PT``) like every other chart.
    """
    import matplotlib
    import matplotlib.dates as mdates

    from kneeload.report.charts import _STYLE, new_figure

    with matplotlib.rc_context(cast(Any, _STYLE)):
        fig, (top, bottom) = new_figure(4.6, 2, sharex=True, height_ratios=[3, 2])
        plot_knee(top, bottom, section, units=units)
        top.set_title(textwrap.fill(CHART_TITLE, 34), loc="left")
        bottom.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO,
                                                             interval=2))  # fmt: skip
        bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    return fig


def knee_png(section: KneeSection, *, units: str = "km") -> bytes:
    """``knee.png`` as PNG bytes."""
    from kneeload.report.charts import figure_to_png

    return figure_to_png(knee_figure(section, units=units))


def report_chart(report: KneeReport) -> tuple[str, Any] | None:
    """``("knee", figure)`` for charts.EXTRA_CHARTS, when there is a knee section."""
    if report.knee is None:
        return None
    return "knee", knee_figure(report.knee, units=report.units)
