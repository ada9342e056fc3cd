"""The CLI's text renderers: activity tables, CSV, ``check`` and ``cadence``.

Each takes plain records or JSON documents (no pandas), so it is cheap to import.
The taper text is shared with the weekly report and lives beside the taper
analysis (``kneeload.analysis.taper_text.render_taper``).
"""

from __future__ import annotations

import csv
import io
import textwrap
from pathlib import Path
from typing import Any

from kneeload.units import km_per_unit, per_unit_m

SEVERITY_MARK = {"info": "i", "caution": "!", "warning": "!!"}


def render_csv(records: list[dict[str, Any]]) -> str:
    """The records as CSV with a header row ("" when there are none).

    Text cells (file paths, names) have their control characters escaped, as
    in every message: a file name cannot move the cursor or fake a line.
    """
    from kneeload.io.sources import escape_controls  # not at --help time (numpy)

    buf = io.StringIO()
    if records:
        writer = csv.DictWriter(buf, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(
            {k: escape_controls(v) if isinstance(v, str) else v for k, v in r.items()}
            for r in records
        )
    return buf.getvalue()


def render_activity_table(records: list[dict[str, Any]], units: str) -> str:
    """A fixed-width table of activities in km or miles."""
    if not records:
        return "No activities match. Add files with: kneeload ingest PATH..."
    per = per_unit_m(units)
    head = (
        f"{'id':<8}  {'date':<10}  {'sport':<8}  {units:>6}  {'time':>7}  "
        f"{'pace':>6}  {'HR':>4}  {'spm':>4}  name or file"
    )
    lines = [head]
    for r in records:
        dist = (r["distance_m"] or 0.0) / per
        moving = r["moving_s"] or r["elapsed_s"] or 0.0
        pace = _mmss(moving / dist) if dist > 0.05 else "-"
        lines.append(
            f"{r['id'][:8]:<8}  {r['local_date']:<10}  {r['sport']:<8}  "
            f"{dist:6.2f}  {_hmm(moving):>7}  {pace:>6}  {_int(r['avg_hr']):>4}  "
            f"{_int(r['cadence_spm']):>4}  {activity_label(r)}"
            + ("  (partial)" if r["partial"] else "")
            + (f"  (suspect: {r['suspect']})" if _unconfirmed(r) else "")
            + ("  (excluded)" if r.get("excluded") else "")
        )
    lines.append(f"{len(records)} {'activity' if len(records) == 1 else 'activities'}")
    return "\n".join(lines)


def activity_label(record: dict[str, Any]) -> str:
    """The activity's name (from the file or the export), else its file's name.

    A zip member is named by its own file name (after the last ``!``); a name is
    shown on one line, control characters escaped.
    """
    from kneeload.io.sources import escape_controls  # not at --help time (numpy)

    name = " ".join(str(record.get("name") or "").split())
    if not name:
        name = Path(str(record["source"]).rsplit("!", 1)[-1]).name
    return escape_controls(name)


def _unconfirmed(record: dict[str, Any]) -> bool:
    return bool(record.get("suspect")) and not record.get("confirmed")


def render_check(
    doc: dict[str, Any], *, units: str = "km", chronic_days: int = 28
) -> str:
    """The human output of ``check``: this week's load, ACWR, then each flag.

    ``chronic_days`` is ``[thresholds.acwr] chronic_days`` (the label follows it).
    """
    per = km_per_unit(units)
    load = doc["load"]
    acwr = load.get("acwr") or {}
    lines = [f"kneeload check — 7 days ending {doc['as_of']}", ""]
    lines.append(f"  running this week   {_num(load.get('acute_km'), per)} {units}")
    lines.append(
        f"  {f'usual week ({chronic_days} d)':<19} "
        f"{_num(load.get('chronic_km_per_week'), per)} {units}"
    )
    if load.get("srpe_week") is not None:  # only when the export carries RPE
        lines.append(f"  {'session RPE':<19} {load['srpe_week']:.0f} AU (RPE x min)")
    status = load.get("acwr_status")
    if status == "ok":
        lines.append(
            "  ACWR                "
            f"{_ratio(acwr.get('uncoupled'))} uncoupled · "
            f"{_ratio(acwr.get('coupled'))} coupled · {_ratio(acwr.get('ewma'))} EWMA"
        )
    else:
        lines.append(
            f"  ACWR                not shown ({str(status).replace('_', ' ')})"
        )
    lines.append("")
    flags = doc["flags"]
    if not flags:
        lines.append("No flags this week.")
    for flag in flags:
        mark = SEVERITY_MARK.get(flag["severity"], "")
        lines.append(
            f"[{mark}] {flag['severity'].upper()} {flag['rule']} ({flag['date']})"
        )
        lines += _wrap(flag["message"])
        lines += [x for line in flag.get("context", []) for x in _wrap(line)]
        for ev in flag["evidence"]:
            lines += _wrap(f"evidence ({ev['grade']}): {ev['citation']}", indent=6)
        lines.append("")
    for note in doc.get("notes", []):
        lines += _wrap(f"note: {note}", indent=0)
    if doc.get("knee"):  # knee pain noted: the stage (kneeload knee has the rest)
        knee = doc["knee"]
        lines += _wrap(f"knee: stage {knee['stage']} of 3; {knee['next_step']} "
                       "See: kneeload knee", indent=0)  # fmt: skip
    return "\n".join(lines).rstrip()


def render_cadence(doc: dict[str, Any]) -> str:
    """The human output of ``cadence``."""
    lines = [f"kneeload cadence — runs up to {doc['as_of']}", ""]
    if doc["target_spm"] is None:
        lines += _wrap(f"No suggestion yet: {doc.get('reason') or 'too little data'}")
        return "\n".join(lines)
    speed = doc["easy_speed_mps"]
    lines.append(
        f"  easy-pace cadence   {doc['easy_cadence_spm']:.0f} steps/min "
        f"at {speed * 3.6:.1f} km/h ({doc['runs_used']} runs)"
    )
    lo, hi = doc["target_spm"]
    lines.append(f"  suggested range     {lo}-{hi} steps/min at the same pace")
    lines.append("")
    for flag in doc["flags"]:
        lines += _wrap(f"[{flag['severity']}] {flag['message']}")
    if doc.get("progression"):
        lines += _wrap(doc["progression"])
    if doc.get("message"):
        lines += _wrap(doc["message"])
    for ev in doc.get("evidence", []):
        lines += _wrap(f"evidence ({ev['grade']}): {ev['citation']}", indent=6)
    return "\n".join(lines)


def _wrap(text: str, indent: int = 4) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(text, width=88, initial_indent=pad, subsequent_indent=pad)


def _num(value: float | None, per: float) -> str:
    return "-" if value is None else f"{value / per:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _hmm(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m // 60}:{m % 60:02d}"


def _mmss(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def _int(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
