"""``kneeload note``: the runner's knee-pain notes (INTERFACE.md)."""

from __future__ import annotations

from datetime import date

import click

from kneeload.cli.context import Context, parse_day, pass_ctx
from kneeload.errors import KneeloadError


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

    when = parse_day(day, "--date", not_future=True) or date.today()
    try:
        add_knee_pain(obj.home, when, knee_pain)
    except (KneeloadError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"noted knee pain {knee_pain}/10 on {when.isoformat()}")
