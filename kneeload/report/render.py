"""Render a ``WeeklyReport`` as plain text or HTML; both say the same things.

HTML images are either embedded as ``data:`` URIs (the report file) or referenced
as ``cid:`` (the email, whose image parts carry the matching Content-ID).
"""

from __future__ import annotations

import base64
import html
import textwrap
from collections.abc import Mapping

from kneeload.analysis.evidence import ACWR_TOOLTIP, Flag
from kneeload.analysis.registry import rule
from kneeload.analysis.taper import TaperResult, TaperWeek
from kneeload.report.weekly import ALTERNATIVES_TEXT, METRONOME_TIP, WeeklyReport
from kneeload.units import distance_text, km_per_unit

CHART_CAPTIONS = {
    "acwr": "Acute vs usual load, and the ACWR",
    "weekly_km": "Weekly distance and longest run",
    "cadence": "Cadence vs speed on steady stretches",
    "descent": "Descent per week",
    "taper": "Taper: weekly distance against the expected range",
}
_SEVERITY_WORD = {"info": "Note", "caution": "Caution", "warning": "Warning"}
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


def _distance(metres: float, units: str) -> str:
    return distance_text(metres / 1000.0, units)


def _duration(seconds: float) -> str:
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
            ("Distance", _distance(n.distance_m, u)),
            ("Running time", _duration(n.moving_s)),
            ("Longest run", _distance(n.longest_m, u)),
            ("Descent", f"{n.descent_m:.0f} m"),
        ]
    rows.append(("ACWR (uncoupled)", report.acwr_status_text))
    if n.other_sessions:
        other = f"{n.other_sessions} ({_duration(n.other_moving_s)})"
        rows.append(("Other sessions", other))
    return rows


def flag_heading(flag: Flag) -> str:
    """E.g. 'Caution: Long-run spike (session_spike), Sun 30 Aug'."""
    declared = rule(flag.rule)
    name = declared.name if declared else flag.rule
    return (
        f"{_SEVERITY_WORD.get(flag.severity, flag.severity)}: {name} "
        f"({flag.rule}), {flag.date:%a %-d %b}"
    )


def flag_numbers(flag: Flag) -> str:
    """The numbers behind a flag, e.g. "1.36x the month's longest run (limit 1.10x)"."""
    declared = rule(flag.rule)
    value_fmt = declared.value_format if declared else "{:.2f}"
    limit_fmt = declared.threshold_format if declared else "{:.2f}"
    if not value_fmt:
        return ""
    parts = []
    if flag.value is not None:
        parts.append(value_fmt.format(flag.value))
    if flag.threshold is not None:
        parts.append(f"(flagged beyond {limit_fmt.format(flag.threshold)})")
    return " ".join(parts)


def cadence_lines(report: WeeklyReport) -> list[str]:
    """The cadence suggestion as sentences, or why there is none."""
    c = report.cadence
    if c.target_spm is None or c.easy_cadence_spm is None:
        return [f"No cadence suggestion yet: {c.reason}."]
    lead = (
        "Your cadence was lower than usual this week. "
        if c.low
        else "If you want to try a gait change: "
    )
    return [
        f"{lead}Easy-pace cadence {c.easy_cadence_spm:.0f} steps/min → target "
        f"{c.target_spm[0]}-{c.target_spm[1]} steps/min at the same pace.",
        c.progression or "",
        METRONOME_TIP,
        "Why: Taking 5-10% more steps per minute at the same pace lowered modelled "
        "knee load in lab studies and helped symptoms in small studies of runners "
        "with kneecap pain. It may feel harder at first.",
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


def taper_lines(report: WeeklyReport) -> list[str]:
    """The taper section as sentences (race, baseline, weeks, verdict, why)."""
    t: TaperResult | None = report.taper
    if t is None:
        return []
    u = report.units
    per = km_per_unit(u)
    out = [
        f"Race on {t.race_date:%a %-d %b %Y} "
        f"({_distance(t.race_distance_m, u)}); checked on {t.as_of:%a %-d %b}."
    ]
    if t.baseline_km_per_week is None:
        verdict = _VERDICT.get(t.verdict, t.verdict)
        notes = [n[:1].upper() + n[1:].rstrip(".") + "." for n in t.notes]
        return [*out, f"Verdict: {verdict}.", *notes]
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


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, 78, initial_indent=indent, subsequent_indent=indent) or [
        indent
    ]


def _taper_text(report: WeeklyReport) -> list[str]:
    if report.taper is None:
        return []
    out = ["TAPER"]
    for line in taper_lines(report):
        out += _wrap(line)
    for f in report.taper.flags:
        out += ["", f"- {flag_heading(f)}", *_wrap(f.message)]
        for e in f.evidence:
            out += _wrap(f"Source: {e.citation} [grade {e.grade}]", "    ")
    if report.knee_advice is not None:
        out += ["", *_wrap(report.knee_advice.message)]
        for e in report.knee_advice.evidence:
            out += _wrap(f"Source: {e.citation} [grade {e.grade}]", "    ")
    return [*out, ""]


def render_text(report: WeeklyReport) -> str:
    """The report as plain text (the email's text part and report.txt), 78 columns."""
    out = [f"kneeload weekly report — {week_title(report)}", ""]
    out += ["THE WEEK IN NUMBERS"]
    out += [f"  {label + ':':<18} {value}" for label, value in number_lines(report)]
    out += ["", *_wrap(f"About ACWR: {report.acwr_caveat}"), ""]
    out += _taper_text(report)
    out += [f"FLAGS ({report.flag_count})"]
    if not report.flags:
        out.append("  No flags this week.")
    for f in report.flags:
        numbers = flag_numbers(f)
        out += ["", f"- {flag_heading(f)}"]
        out += _wrap(f"The numbers: {numbers}") if numbers else []
        out += _wrap(flag_message(f))
        for e in f.evidence:
            out += _wrap(f"Source: {e.citation} [grade {e.grade}]", "    ")
    out += ["", "CADENCE"]
    for line in cadence_lines(report):
        out += _wrap(line)
    if report.show_alternatives:
        out += ["", "IF YOU NEED TO RUN LESS", *_wrap(ALTERNATIVES_TEXT)]
    if report.problems:
        out += ["", "FILES THAT COULD NOT BE READ (ingests of the last 7 days)"]
        out += _wrap("Runs in them are missing from this report.")
        for p, s, r in report.problems:
            out += _wrap(f"{p} — {s}: {r}")
    if report.notes:
        out += ["", "NOTES"]
        for n in report.notes:
            out += _wrap(n)
    out += ["", *_wrap(report.footer, ""), ""]
    return "\n".join(out)


_CSS = (
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;"
    "max-width:680px;margin:auto;padding:12px;color:#222;line-height:1.45}"
    "h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.4em}"
    "table{border-collapse:collapse}td{padding:2px 10px 2px 0}"
    "img{max-width:100%;height:auto}.flag{border-left:4px solid #E69F00;"
    "padding:4px 10px;margin:10px 0}.flag.info{border-color:#56B4E9}"
    ".src{font-size:.85em;color:#555}.foot{font-size:.85em;color:#555;"
    "border-top:1px solid #ccc;margin-top:2em;padding-top:6px}"
)


def _img(name: str, data: bytes, *, embed: bool) -> str:
    src = (
        "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        if embed
        else f"cid:{name}"
    )
    alt = html.escape(CHART_CAPTIONS.get(name.split("@")[0], name))
    return f'<p><img src="{src}" alt="{alt}" width="640"></p>'


def flag_message(f: Flag) -> str:
    """A flag's message and context lines, without the ACWR caveat (stated once)."""
    return " ".join([*f.message.replace(ACWR_TOOLTIP, " ").split(), *f.context])


def _flag_html(f: Flag, *, numbers: bool = True) -> str:
    e = html.escape
    sources = "".join(
        f'<div class="src">Source: {e(x.citation)} [grade {e(x.grade)}]</div>'
        for x in f.evidence
    )
    return (
        f'<div class="flag {e(f.severity)}"><b>{e(flag_heading(f))}</b><br>'
        + (
            f"The numbers: {e(flag_numbers(f))}<br>"
            if numbers and flag_numbers(f)
            else ""
        )
        + f"{e(flag_message(f))}{sources}</div>"
    )


def _taper_html(report: WeeklyReport, chart: str) -> str:
    if report.taper is None:
        return ""
    e = html.escape
    paras = "".join(f"<p>{e(line)}</p>" for line in taper_lines(report))
    flags = "".join(_flag_html(f, numbers=False) for f in report.taper.flags)
    knee = ""
    if report.knee_advice is not None:
        sources = "".join(
            f'<div class="src">Source: {e(x.citation)} [grade {e(x.grade)}]</div>'
            for x in report.knee_advice.evidence
        )
        knee = f'<div class="flag">{e(report.knee_advice.message)}{sources}</div>'
    return f"<h2>Taper</h2>{paras}{chart}{flags}{knee}"


def render_html(
    report: WeeklyReport, images: Mapping[str, bytes], *, embed: bool = True
) -> str:
    """The report as one HTML page; ``embed=False`` refers to images by ``cid:``."""
    e = html.escape
    charts = {k.split("@")[0]: _img(k, v, embed=embed) for k, v in images.items()}
    rows = "".join(
        f"<tr><td>{e(k)}</td><td><b>{e(v)}</b></td></tr>"
        for k, v in number_lines(report)
    )
    parts = [
        f"<h1>kneeload weekly report</h1><p>{e(week_title(report))}</p>",
        f"<h2>The week in numbers</h2><table>{rows}</table>",
        f'<p class="src">About ACWR: {e(report.acwr_caveat)}</p>',
        charts.get("acwr", ""),
        charts.get("weekly_km", ""),
        _taper_html(report, charts.get("taper", "")),
        f"<h2>Flags ({report.flag_count})</h2>",
        "".join(_flag_html(f) for f in report.flags) or "<p>No flags this week.</p>",
        charts.get("descent", ""),
        "<h2>Cadence</h2>",
        "".join(f"<p>{e(line)}</p>" for line in cadence_lines(report) if line),
        charts.get("cadence", ""),
    ]
    if report.show_alternatives:
        parts.append(f"<h2>If you need to run less</h2><p>{e(ALTERNATIVES_TEXT)}</p>")
    if report.problems:
        items = "".join(
            f"<li>{e(p)} — {e(s)}: {e(r)}</li>" for p, s, r in report.problems
        )
        parts.append(
            "<h2>Files that could not be read (ingests of the last 7 days)</h2>"
            f"<p>Runs in them are missing from this report.</p><ul>{items}</ul>"
        )
    if report.notes:
        notes = "".join(f"<li>{e(n)}</li>" for n in report.notes)
        parts.append(f'<h2>Notes</h2><ul class="src">{notes}</ul>')
    parts.append(f'<p class="foot">{e(report.footer)}</p>')
    body = "\n".join(p for p in parts if p)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>kneeload — {e(week_title(report))}</title><style>{_CSS}</style>"
        f"</head><body>\n{body}\n</body></html>\n"
    )
