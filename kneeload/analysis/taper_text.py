"""Plain-text rendering of a taper check (``kneeload taper``, weekly report).

Kept apart from the CLI module so the report can import it without the click group.
"""

from __future__ import annotations

from kneeload.analysis.knee_text import KneeAdvice
from kneeload.analysis.taper import TaperResult, TaperWeek
from kneeload.units import per_unit_m

_VERDICT_TEXT = {
    "on_track": "on track",
    "under_tapered": "under-tapered (less reduction than typical)",
    "over_tapered": "over-tapered (a very deep cut)",
    "insufficient_history": "insufficient history",
}


def render_taper(
    result: TaperResult, units: str = "km", advice: KneeAdvice | None = None
) -> str:
    """The human taper summary: baseline, the three weeks, verdict, flags, advice."""
    per = per_unit_m(units)
    lines = [
        f"Taper check for the race on {result.race_date.isoformat()} "
        f"({result.race_distance_m / per:.1f} {units}), as of "
        f"{result.as_of.isoformat()}"
    ]
    if result.baseline_km_per_week is None:
        lines += [f"Verdict: {_VERDICT_TEXT[result.verdict]}", *result.notes]
        return "\n".join(lines)
    lines.append(_baseline_line(result, units, per))
    lines.append(
        f"{'week':>4}  {'dates':<23}  {units:>6}  {'ratio':>5}  {'expected':<9}  "
        f"{'%peak':>5}  status"
    )
    lines += [_week_line(w, per, units) for w in result.weeks]
    verdict = _VERDICT_TEXT[result.verdict]
    if not result.verdict_final:
        verdict += " so far (race week still to come)"
    lines.append(f"Verdict: {verdict}")
    lines += _flag_lines(result)
    if advice is not None:
        lines += ["", advice.message]
    return "\n".join(lines)


def _baseline_line(result: TaperResult, units: str, per: float) -> str:
    base = (result.baseline_km_per_week or 0.0) * 1000.0 / per
    text = f"Baseline (weeks -7 to -4): {base:.1f} {units}/week"
    if result.baseline_runs_per_week is not None:
        text += f", {result.baseline_runs_per_week:.1f} runs/week"
    if result.peak_week_km:
        text += f"; peak week {result.peak_week_km * 1000.0 / per:.1f} {units}"
    if result.dropped_weeks:
        dropped = ", ".join(str(w) for w in result.dropped_weeks)
        text += f" (week {dropped} left out: under half the median)"
    return text


def _week_line(w: TaperWeek, per: float, units: str) -> str:
    dates = f"{w.start.isoformat()} to {w.end.strftime('%m-%d')}"
    band = f"{w.expected[0]:.2f}-{w.expected[1]:.2f}" if w.expected else "-"
    ratio = f"{w.ratio:.2f}" if w.ratio is not None else "-"
    pct = f"{w.pct_of_peak:.0f}%" if w.pct_of_peak is not None else "-"
    km = f"{w.km * 1000.0 / per:6.1f}" if w.status != "to_come" else f"{'-':>6}"
    status = w.status.replace("_", " ")
    if w.target_km is not None:
        lo, hi = (v * 1000.0 / per for v in w.target_km)
        status += f": aim for {lo:.0f}-{hi:.0f} {units} in the week"
        if w.status == "in_progress":
            done = w.km * 1000.0 / per
            status += f" ({max(0.0, lo - done):.0f}-{max(0.0, hi - done):.0f} to go)"
    return f"{w.week:>4}  {dates:<23}  {km}  {ratio:>5}  {band:<9}  {pct:>5}  {status}"


def _flag_lines(result: TaperResult) -> list[str]:
    lines: list[str] = []
    for flag in result.flags:
        lines += ["", f"[{flag.severity}] {flag.rule}: {flag.message}"]
        lines += list(flag.context)
        lines += [f"  - {e.citation} (grade {e.grade})" for e in flag.evidence]
    return lines
