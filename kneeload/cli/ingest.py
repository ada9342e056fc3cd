"""``kneeload ingest`` and ``kneeload activities`` (INTERFACE.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kneeload.cli.context import (
    SPORT_CHOICES,
    Context,
    echo_json,
    load_activities,
    parse_range,
    pass_ctx,
    paths_argument,
    run_ingest,
)
from kneeload.cli.render import render_activity_table, render_csv


@click.command()
@paths_argument(required=True)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Parallel parsers [all cores]."
)
@click.option("--strict", is_flag=True, help="Exit 1 when any file could not be used.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_ctx
def ingest(
    obj: Context,
    paths: tuple[Path, ...],
    workers: int | None,
    strict: bool,
    as_json: bool,
) -> None:
    """Read activity files, folders and .zip exports into the store.

    FIT, GPX and TCX files (also .gz), and whole-account exports as they are
    downloaded, zipped or unzipped: Garmin Connect's archive, Strava's bulk
    export (names, gear and perceived exertion from activities.csv), Apple
    Health's export.zip. A re-run reads only new or changed files.

    \b
    Example:
        kneeload ingest ~/Downloads/strava_export.zip ~/garmin/
    """
    report = run_ingest(obj, list(paths), workers=workers, quiet=as_json)
    if as_json:
        echo_json(report.to_json())
    if strict and (report.errors or report.skipped or report.partial):
        sys.exit(1)


@click.group(invoke_without_command=True)
@click.option("--since", metavar="DATE", help="First local date (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Last local date (YYYY-MM-DD).")
@click.option(
    "--sport",
    type=click.Choice(SPORT_CHOICES),
    help="Only this sport.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
def activities(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    sport: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """List the activities in the store (duplicates folded into the richest copy)."""
    if ctx.invoked_subcommand is not None:
        return
    from kneeload.history import activity_records

    obj = ctx.find_object(Context)
    if obj is None:  # only when called outside the kneeload group
        raise click.UsageError("activities runs under the kneeload group")
    first, last = parse_range(since, until)
    frame = whole = load_activities(obj)
    if first is not None:
        frame = frame[frame["local_date"].dt.date >= first]
    if last is not None:
        frame = frame[frame["local_date"].dt.date <= last]
    if sport is not None:
        frame = frame[frame["sport"] == sport]
    records = activity_records(frame)
    fmt = "json" if as_json else fmt
    if fmt == "json":
        echo_json(records)
    elif fmt == "csv":
        click.echo(render_csv(records), nl=False)
    elif not records and len(whole):  # the filters left nothing of a full store
        first_day, last_day = date_span(whole)
        click.echo(
            f"No activities match these filters ({len(whole)} in the store, "
            f"from {first_day} to {last_day})."
        )
    else:
        click.echo(render_activity_table(records, obj.settings.athlete.units))


def date_span(frame: Any) -> tuple[str, str]:
    """(first, last) local date of the activities, as YYYY-MM-DD."""
    dates = frame["local_date"].dt.date
    return dates.min().isoformat(), dates.max().isoformat()
