"""``kneeload check``, ``kneeload cadence`` and ``kneeload config`` (INTERFACE.md).

Heavy imports (pandas, the analysis) happen inside the commands, so that
``kneeload --help`` stays fast.
"""

from __future__ import annotations

import textwrap
from datetime import date
from typing import Any

import click

from kneeload.cli import Context, echo_json, load_activities, parse_day, pass_ctx
from kneeload.errors import KneeloadError
from kneeload.units import km_per_unit

SEVERITY_MARK = {"info": "i", "caution": "!", "warning": "!!"}


def _as_of(value: str | None) -> date:
    return parse_day(value, "--as-of") or date.today()


@click.command()
@click.option("--as-of", metavar="DATE", help="Last day of the 7 days checked [today].")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def check(obj: Context, as_of: str | None, as_json: bool) -> None:
    """Risk flags for the 7 days ending --as-of, with the evidence behind each.

    \b
    Example:
        kneeload check --as-of 2026-08-30
    """
    from kneeload.analysis.check import check as run_check
    from kneeload.analysis.check import knee_pain_score

    day = _as_of(as_of)
    result = run_check(
        load_activities(obj),
        settings=obj.settings,
        as_of=day,
        knee_pain=knee_pain_score(_knee_notes(obj), day),
    )
    doc = result.to_json()
    if as_json:
        echo_json(doc)
        return
    click.echo(render_check(doc, units=obj.settings.athlete.units))


@click.command()
@click.option(
    "--as-of", metavar="DATE", help="Evaluate the runs up to this day [today]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def cadence(obj: Context, as_of: str | None, as_json: bool) -> None:
    """Easy-pace cadence and the +5-10 % step-rate suggestion at the same pace."""
    from kneeload.analysis.check import cadence_advice

    day = _as_of(as_of)
    result = cadence_advice(load_activities(obj), settings=obj.settings, as_of=day)
    doc = result.to_json()
    if as_json:
        echo_json(doc)
        return
    click.echo(render_cadence(doc))


@click.command()
@click.option(
    "--knee-pain",
    type=click.IntRange(0, 10),
    required=True,
    metavar="0-10",
    help="Knee pain today (0 none, 10 worst), e.g. during or after running.",
)
@click.option("--date", "day", metavar="DATE", help="The day it refers to [today].")
@pass_ctx
def note(obj: Context, knee_pain: int, day: str | None) -> None:
    """Note knee pain; check, report and taper then add knee-aware advice.

    A score of 1 or more in the last 14 days raises intensity and downhill flags
    to caution (RULES §5, §6.5) and adds "see a clinician" advice.
    """
    from kneeload.notes import add_knee_pain

    when = parse_day(day, "--date") or date.today()
    if when > date.today():
        raise click.BadParameter(f"{when} is in the future", param_hint="--date")
    try:
        add_knee_pain(obj.home, when, knee_pain)
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"noted knee pain {knee_pain}/10 on {when.isoformat()}")


def _knee_notes(obj: Context) -> list[Any]:
    from kneeload.notes import load_knee_pain

    try:
        return list(load_knee_pain(obj.home))
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def config() -> None:
    """Show, create or locate the configuration file (kneeload.toml)."""


@config.command("path")
@pass_ctx
def config_path(obj: Context) -> None:
    """Print where the config file is (it may not exist yet)."""
    click.echo(str(obj.config_path))


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@pass_ctx
def config_show(obj: Context, as_json: bool) -> None:
    """Print every setting and threshold in effect, with its source and citation."""
    from kneeload.config import render_config_toml, settings_json

    if as_json:
        echo_json(settings_json(obj.settings))
    else:
        click.echo(render_config_toml(obj.settings, commented=False))


@config.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@pass_ctx
def config_init(obj: Context, force: bool) -> None:
    """Write a commented kneeload.toml with every default and its citation."""
    from kneeload.config import Settings, render_config_toml

    path = obj.config_path
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_config_toml(Settings(), commented=True), encoding="utf-8")
    click.echo(str(path))


def render_check(doc: dict[str, Any], *, units: str = "km") -> str:
    """The human output of ``check``: this week's load, ACWR, then each flag."""
    per = km_per_unit(units)
    load = doc["load"]
    acwr = load.get("acwr") or {}
    lines = [f"kneeload check — 7 days ending {doc['as_of']}", ""]
    lines.append(f"  running this week   {_num(load.get('acute_km'), per)} {units}")
    lines.append(
        f"  usual week (28 d)   {_num(load.get('chronic_km_per_week'), per)} {units}"
    )
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
        for ev in flag["evidence"]:
            lines += _wrap(f"evidence ({ev['grade']}): {ev['citation']}", indent=6)
        lines.append("")
    for note in doc.get("notes", []):
        lines += _wrap(f"note: {note}", indent=0)
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
