"""``kneeload check`` and ``kneeload cadence`` (INTERFACE.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import click

from kneeload.cli.context import (
    Context,
    echo_json,
    knee_notes,
    load_activities,
    parse_as_of,
    pass_ctx,
    warn,
)
from kneeload.cli.render import render_cadence, render_check

if TYPE_CHECKING:
    import pandas as pd


def _as_of(value: str | None) -> date:
    return parse_as_of(value) or date.today()


def srpe_week(acts: pd.DataFrame, day: date, *, days: int = 7) -> float | None:
    """Session-RPE load of the ``days`` ending ``day`` (RULES §14), None if unrated."""
    if not len(acts) or "srpe" not in acts:
        return None
    dates = acts["local_date"].dt.date
    first = day - timedelta(days=days - 1)
    rows = acts[(dates >= first) & (dates <= day) & acts["in_load"].astype(bool)]
    rated = rows["srpe"].dropna()
    return round(float(rated.sum()), 1) if len(rated) else None


def latest_run_before(acts: pd.DataFrame, day: date) -> date | None:
    """The local day of the latest in-load run on or before ``day``, if any."""
    if not len(acts):
        return None
    dates = acts["local_date"].dt.date
    runs = dates[acts["sport"].eq("running") & acts["in_load"].astype(bool)]
    runs = runs[runs <= day]
    return None if runs.empty else runs.max()


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
    from kneeload.analysis.knee import knee_summary
    from kneeload.analysis.knee_changes import change_hook

    day = _as_of(as_of)
    acts, notes = load_activities(obj), knee_notes(obj, strict=False)
    result = run_check(
        acts, settings=obj.settings, as_of=day,
        knee_pain=knee_pain_score(notes, day, obj.settings),
        context_hooks=[change_hook(acts, notes, day, obj.settings)],
    )  # fmt: skip
    doc = result.to_json()
    acute = obj.settings.thresholds.acwr.acute_days
    srpe = srpe_week(acts, day, days=acute)
    if srpe is not None:  # INTERFACE: only when RPE is known
        doc["load"]["srpe_week"] = srpe
    knee = knee_summary(acts, notes, day, obj.settings)
    if knee is not None:  # INTERFACE: only when knee pain is noted
        doc["knee"] = knee
    if as_json:
        echo_json(doc)
        return
    last = latest_run_before(acts, day)
    if last is not None and last < day - timedelta(days=acute - 1):
        warn(
            f"note: no runs in the {acute} days ending {day.isoformat()}; your "
            f"latest run is from {last:%-d %b %Y}: try --as-of {last.isoformat()}"
        )
    chronic = obj.settings.thresholds.acwr.chronic_days
    click.echo(
        render_check(doc, units=obj.settings.athlete.units, chronic_days=chronic)
    )


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
