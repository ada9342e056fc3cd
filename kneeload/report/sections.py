"""Build the report's sections once: ``build_document(report)`` → ``Document``.

Phone-first order: the week in numbers, the flags, the charts, then the taper,
cadence and knee sections, then what to do if load must come down, the files
that could not be read and the notes. ``render_text`` and ``render_html`` in
:mod:`kneeload.report.render` render the same ``Document``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import PurePath

from kneeload.analysis.evidence import ACWR_TOOLTIP, Evidence, Flag
from kneeload.analysis.registry import rule
from kneeload.analysis.taper import TaperResult, TaperWeek
from kneeload.report.knee import report_section as knee_section
from kneeload.report.model import (
    Block,
    Bullet,
    Bullets,
    Document,
    FlagBox,
    Image,
    Paragraph,
    Section,
    Table,
)
from kneeload.report.weekly import ALTERNATIVES_TEXT, METRONOME_TIP, WeeklyReport
from kneeload.units import FOOT_M, climb_text, distance_text, km_per_unit

CHART_CAPTIONS = {
    "acwr": "Acute vs usual load, and the ACWR",
    "weekly_km": "Weekly distance and longest run",
    "cadence": "Cadence vs pace on steady stretches",
    "descent": "Descent per week",
    "taper": "Taper: weekly distance against the expected range",
}
SEVERITY_WORD = {"info": "Note", "caution": "Caution", "warning": "Warning"}
_VERDICT = {
    "on_track": "on track",
    "under_tapered": "under-tapered: less reduction than typical",
    "over_tapered": "over-tapered: a very deep cut",
    "insufficient_history": "not checked",
}
TAPER_WHY = (
    "Why: tapers that cut volume by about 40-60% over the last 2-3 weeks while "
    "keeping some intensity and most runs have been associated with the best race "
    "times (Bosquet 2007; Mujika & Padilla 2003; Smyth & Lawlor 2021)."
)
CADENCE_WHY = (
    "Why: Taking 5-10% more steps per minute at the same pace lowered modelled "
    "knee load in lab studies and helped symptoms in small studies of runners "
    "with kneecap pain. It may feel harder at first."
)
FILES_INTRO = "Runs in them are missing from this report."

#: Optional sections placed after the cadence section, in order. Each takes the
#: report and returns a Section or None (e.g. the knee section of
#: ``kneeload.report.knee``); register one by adding it here.
EXTRA_SECTIONS: tuple[Callable[[WeeklyReport], Section | None], ...] = (knee_section,)


def distance(metres: float, units: str) -> str:
    """A distance as the report prints it everywhere (body and subject): 77.7 km."""
    return distance_text(metres / 1000.0, units)


def climb(metres: float, units: str) -> str:
    """Ascent or descent: metres with km, feet with miles (e.g. 410 m, 1345 ft)."""
    return climb_text(metres, units)


def duration(seconds: float) -> str:
    """E.g. '4 h 05 min'."""
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def week_title(report: WeeklyReport) -> str:
    """E.g. 'Week of 16 Nov 2026 (Mon 16 Nov - Sun 22 Nov)'."""
    a, b = report.week_start, report.week_ending
    return f"Week of {a:%-d %b %Y} (Mon {a:%-d %b} - Sun {b:%-d %b})"


def number_lines(report: WeeklyReport) -> list[tuple[str, str]]:
    """(label, value) rows of the week in numbers."""
    n, u = report.numbers, report.units
    rows = [("Runs", str(n.runs) if n.runs else "none this week")]
    if n.runs:
        rows += [
            ("Distance", distance(n.distance_m, u)),
            ("Running time", duration(n.moving_s)),
            ("Longest run", distance(n.longest_m, u)),
            ("Descent", climb(n.descent_m, u)),
        ]
    rows.append(("ACWR (uncoupled)", report.acwr_status_text))
    if n.other_sessions:
        other = f"{n.other_sessions} ({duration(n.other_moving_s)})"
        rows.append(("Other sessions", other))
    return rows


def empty_week_pointer(report: WeeklyReport) -> str | None:
    """For a week without runs: where the latest run is, and how to report it."""
    last = report.latest_run
    if report.numbers.runs or last is None:
        return None
    return f"Your latest run is from {last:%-d %b %Y}: try --as-of {last.isoformat()}."


def flag_heading(flag: Flag) -> str:
    """E.g. 'Caution: Long-run spike (session_spike), Sun 30 Aug'."""
    declared = rule(flag.rule)
    name = declared.name if declared else flag.rule
    return (
        f"{SEVERITY_WORD.get(flag.severity, flag.severity)}: {name} "
        f"({flag.rule}), {flag.date:%a %-d %b}"
    )


_METRES = "{:.0f} m"


def _fmt(template: str, value: float, units: str) -> str:
    """Format a rule's value; a value in metres reads in feet with miles."""
    if units == "mi" and _METRES in template:
        return template.replace(_METRES, "{:.0f} ft").format(value / FOOT_M)
    return template.format(value)


def flag_numbers(flag: Flag, units: str = "km") -> str:
    """The numbers behind a flag, e.g. "1.36x the month's longest run (limit 1.10x)"."""
    declared = rule(flag.rule)
    value_fmt = declared.value_format if declared else "{:.2f}"
    limit_fmt = declared.threshold_format if declared else "{:.2f}"
    if not value_fmt:
        return ""
    parts = []
    if flag.value is not None:
        parts.append(_fmt(value_fmt, flag.value, units))
    if flag.threshold is not None:
        parts.append(f"(flagged beyond {_fmt(limit_fmt, flag.threshold, units)})")
    return " ".join(parts)


def flag_message(f: Flag) -> str:
    """A flag's message and context lines, without the ACWR caveat (stated once)."""
    return " ".join([*f.message.replace(ACWR_TOOLTIP, " ").split(), *f.context])


def _sources(evidence: tuple[Evidence, ...] | list[Evidence]) -> tuple[str, ...]:
    return tuple(f"Source: {e.citation} [grade {e.grade}]" for e in evidence)


def flag_box(f: Flag, units: str, *, numbers: bool = True) -> FlagBox:
    """One flag as a box: heading, 'The numbers', the message, its sources."""
    lines = []
    text = flag_numbers(f, units) if numbers else ""
    if text:
        lines.append(f"The numbers: {text}")
    lines.append(flag_message(f))
    return FlagBox(f.severity, flag_heading(f), tuple(lines), _sources(f.evidence))


def cadence_lines(report: WeeklyReport) -> list[str]:
    """The cadence suggestion as sentences, or why there is none (RULES §6.3)."""
    c = report.cadence
    if c.target_spm is None or c.easy_cadence_spm is None:
        return [f"No cadence suggestion yet: {c.reason}."]
    if not report.suggest_cadence:
        return [
            f"Cadence at easy pace: {c.easy_cadence_spm:.0f} spm — no change suggested."
        ]
    lead = {
        "low": "Your cadence was lower than usual this week. ",
        "knee_pain": "With knee pain noted, you could try a small gait change: ",
    }.get(report.cadence_why, "If you want to try a gait change: ")
    return [
        f"{lead}Easy-pace cadence {c.easy_cadence_spm:.0f} steps/min → target "
        f"{c.target_spm[0]}-{c.target_spm[1]} steps/min at the same pace.",
        *([c.progression] if c.progression else []),
        METRONOME_TIP,
        CADENCE_WHY,
        "Sources: " + "; ".join(f"{e.citation} [{e.grade}]" for e in c.evidence),
    ]


def _span(a: object, b: object) -> str:
    return f"{a:%a %-d %b} - {b:%a %-d %b}"


def taper_week_line(w: TaperWeek, units: str) -> str:
    """One race week: km, ratio vs its expected band, status and the target range."""
    per = km_per_unit(units)
    head = f"Week {w.week} ({_span(w.start, w.end)}): "
    band = f"expected {w.expected[0]:.2f}-{w.expected[1]:.2f}" if w.expected else ""
    if w.status == "to_come":
        text = head + f"to come ({band} of baseline)"
    else:
        text = head + f"{w.km / per:.1f} {units}"
        if w.status == "in_progress":
            text += f" so far ({band} of baseline)"
        elif w.ratio is not None and w.expected is not None:
            lo, hi = w.expected
            where = "below" if w.ratio < lo else "above" if w.ratio > hi else "within"
            text += f" = {w.ratio:.2f} of baseline ({band}: {where})"
    if w.target_km is not None:
        lo_u, hi_u = (v / per for v in w.target_km)
        text += f"; aim for {lo_u:.0f}-{hi_u:.0f} {units} in the week to stay on track"
        if w.status == "in_progress":
            left = (max(0.0, lo_u - w.km / per), max(0.0, hi_u - w.km / per))
            text += f" ({left[0]:.0f}-{left[1]:.0f} {units} to go)"
    return text + "."


def taper_week_label(t: TaperResult) -> str:
    """Race weeks count back from race day, unlike the report's Monday-Sunday weeks."""
    race = t.race_date
    first, last = race.strftime("%A"), (race - timedelta(days=1)).strftime("%A")
    return (
        f"Race weeks count back from race day ({race:%a %-d %b}): week -1 is the "
        f"7 days before it, so they run {first} to {last}, not Monday to Sunday "
        "like the rest of this report."
    )


def taper_lines(report: WeeklyReport) -> list[str]:
    """The taper section as sentences (race, baseline, weeks, verdict, why)."""
    t: TaperResult | None = report.taper
    if t is None:
        return []
    u = report.units
    per = km_per_unit(u)
    out = [
        f"Race on {t.race_date:%a %-d %b %Y} "
        f"({distance(t.race_distance_m, u)}); checked on {t.as_of:%a %-d %b}."
    ]
    if t.baseline_km_per_week is None:
        verdict = _VERDICT.get(t.verdict, t.verdict)
        notes = [n[:1].upper() + n[1:].rstrip(".") + "." for n in t.notes]
        return [*out, f"Verdict: {verdict}.", *notes]
    out.append(taper_week_label(t))
    base = f"Baseline (weeks -7 to -4): {t.baseline_km_per_week / per:.1f} {u}/week"
    if t.baseline_runs_per_week is not None:
        base += f", {t.baseline_runs_per_week:.1f} runs/week"
    if t.dropped_weeks:
        dropped = ", ".join(str(w) for w in t.dropped_weeks)
        base += f" (week {dropped} left out: under half the median)"
    out += [base + ".", *(taper_week_line(w, u) for w in t.weeks)]
    verdict = _VERDICT.get(t.verdict, t.verdict)
    if not t.verdict_final:
        verdict += " so far (race week still to come)"
    return [*out, f"Verdict: {verdict}.", TAPER_WHY]


def _image(name: str, charts: frozenset[str]) -> tuple[Block, ...]:
    return (Image(name, CHART_CAPTIONS[name]),) if name in charts else ()


def numbers_section(report: WeeklyReport) -> Section:
    """The week in numbers, the empty-week pointer and the ACWR caveat."""
    blocks: list[Block] = [Table(tuple(number_lines(report)))]
    pointer = empty_week_pointer(report)
    if pointer:
        blocks.append(Paragraph(pointer))
    blocks.append(Paragraph(f"About ACWR: {report.acwr_caveat}", small=True))
    return Section("numbers", "The week in numbers", tuple(blocks))


def flags_section(report: WeeklyReport) -> Section:
    """Every flag of the week, in the order ``check`` gives them."""
    boxes: tuple[Block, ...] = tuple(flag_box(f, report.units) for f in report.flags)
    return Section(
        "flags",
        f"Flags ({report.flag_count})",
        boxes or (Paragraph("No flags this week."),),
    )


def charts_section(report: WeeklyReport, charts: frozenset[str]) -> Section | None:
    """The load charts (ACWR, weekly distance, descent)."""
    blocks = tuple(
        b for name in ("acwr", "weekly_km", "descent") for b in _image(name, charts)
    )
    return Section("charts", "Charts", blocks) if blocks else None


def taper_section(report: WeeklyReport, charts: frozenset[str]) -> Section | None:
    """The taper check, its chart, its flags and knee-aware advice (RULES §7)."""
    if report.taper is None:
        return None
    blocks: list[Block] = [Paragraph(line) for line in taper_lines(report)]
    blocks += _image("taper", charts)
    blocks += [flag_box(f, report.units, numbers=False) for f in report.taper.flags]
    if report.knee_advice is not None:
        a = report.knee_advice
        head = "Note: Knee pain and your taper"
        blocks.append(FlagBox("info", head, (a.message,), _sources(a.evidence)))
    return Section("taper", "Taper", tuple(blocks))


def cadence_section(report: WeeklyReport, charts: frozenset[str]) -> Section:
    """Cadence: the suggestion when RULES §6.3 calls for it, else one line."""
    blocks: list[Block] = [Paragraph(line) for line in cadence_lines(report)]
    blocks += _image("cadence", charts)
    return Section("cadence", "Cadence", tuple(blocks))


def files_section(report: WeeklyReport) -> Section | None:
    """Files of the week that could not be read: full path in text, name in HTML."""
    if not report.problems:
        return None
    items = tuple(
        Bullet(
            f"{p.path} — {p.status}: {p.reason}",
            f"{_file_name(p.path)} — {p.status}: {p.reason}",
        )
        for p in report.problems
    )
    return Section(
        "files",
        "Files that could not be read",
        (Paragraph(FILES_INTRO), Bullets(items)),
    )


def _file_name(path: str) -> str:
    """The last part of a path; archive members (a.zip!b.fit) keep the member."""
    return PurePath(path.replace("\\", "/")).name or path


def build_document(
    report: WeeklyReport, charts: frozenset[str] | None = None
) -> Document:
    """The report as sections (see the module docstring for the order)."""
    names = report.chart_names if charts is None else charts
    parts: list[Section | None] = [
        numbers_section(report),
        flags_section(report),
        charts_section(report, names),
        taper_section(report, names),
        cadence_section(report, names),
    ]
    parts += [extra(report) for extra in EXTRA_SECTIONS]
    if report.show_alternatives:
        parts.append(
            Section("less", "If you need to run less", (Paragraph(ALTERNATIVES_TEXT),))
        )
    parts.append(files_section(report))
    if report.notes:
        notes = Bullets(tuple(Bullet(n) for n in report.notes), small=True)
        parts.append(Section("notes", "Notes", (notes,)))
    return Document(
        title="kneeload weekly report",
        subtitle=week_title(report),
        preheader=preheader(report),
        sections=tuple(p for p in parts if p is not None),
        footer=report.footer,
    )


def preheader(report: WeeklyReport) -> str:
    """The inbox preview line: distance, runs and the flags by severity."""
    n = report.numbers
    head = (
        f"{distance(n.distance_m, report.units)} in {n.runs} run"
        f"{'' if n.runs == 1 else 's'}"
        if n.runs
        else "No runs this week"
    )
    counts = [
        f"{sum(f.severity == s for f in report.flags)} {SEVERITY_WORD[s].lower()}"
        for s in ("warning", "caution", "info")
        if any(f.severity == s for f in report.flags)
    ]
    return head + (" · flags: " + ", ".join(counts) if counts else " · no flags")
