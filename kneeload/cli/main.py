"""The ``kneeload`` group: global options, then one line per command module."""

from __future__ import annotations

import click

from kneeload.cli.analysis import cadence, check
from kneeload.cli.config import config
from kneeload.cli.context import Context
from kneeload.cli.ingest import activities, ingest
from kneeload.cli.notes import note
from kneeload.cli.report import report
from kneeload.cli.taper import taper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    metavar="DIR",
    envvar="KNEELOAD_HOME",
    help="Folder with the store, config and reports [env: KNEELOAD_HOME].",
)
@click.option("-v", "--verbose", is_flag=True, help="Say more on stderr.")
@click.version_option(package_name="kneeload")
@click.pass_context
def cli(ctx: click.Context, home: str | None, verbose: bool) -> None:
    """kneeload: training load and gait risk factors for runners' knees."""
    ctx.obj = Context(home, verbose)


cli.add_command(ingest)
cli.add_command(activities)
cli.add_command(check)
cli.add_command(cadence)
cli.add_command(taper)
cli.add_command(report)
cli.add_command(note)
cli.add_command(config)
