"""``kneeload taper``: the pre-race taper check (RULES §7, INTERFACE.md)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from kneeload.cli.context import (
    Context,
    echo_json,
    knee_notes,
    load_activities,
    parse_as_of,
    parse_day,
    pass_ctx,
    warn,
)
from kneeload.errors import KneeloadError

if TYPE_CHECKING:  # the analysis imports pandas: keep `kneeload --help` fast
    from kneeload.analysis.knee_text import KneeAdvice
    from kneeload.analysis.taper import TaperResult


@click.command()
@click.option("--race-date", metavar="DATE", help="Race day [config race_date].")
@click.option(
    "--race-distance",
    metavar="DIST",
    help="marathon, half, 10k, 5k or km [config race_distance, else marathon].",
)
@click.option("--as-of", metavar="DATE", help="Evaluation day [today].")
@click.option(
    "--knee-pain",
    type=click.IntRange(0, 10),
    metavar="0-10",
    help="Note knee pain on --as-of (after running); it stays in the diary.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def taper(
    obj: Context,
    race_date: str | None,
    race_distance: str | None,
    as_of: str | None,
    knee_pain: int | None,
    as_json: bool,
) -> None:
    """Check the taper before a race: weekly km against your usual weeks.

    Weeks are the 7-day blocks before race day (week -1 = the 7 days before the
    race). The baseline is your mean of weeks -7 to -4. Weeks still to come show
    the km range that keeps the taper on track.

    \b
    Example:
        kneeload taper --race-date 2026-11-15
        kneeload taper --knee-pain 3 --json
    """
    from kneeload.analysis.taper import taper_check
    from kneeload.analysis.taper_text import render_taper

    settings = obj.settings
    race = parse_day(race_date, "--race-date") or settings.athlete.race_date
    if race is None:
        raise click.UsageError(
            "no race date: pass --race-date YYYY-MM-DD or set [athlete] race_date"
        )
    distance = _distance(race_distance or settings.athlete.race_distance)
    day = parse_as_of(as_of) or date.today()
    result = taper_check(
        load_activities(obj),
        settings=settings,
        race_date=race,
        as_of=day,
        race_distance_m=distance,
    )
    advice = _knee_advice(obj, knee_pain, day, race)
    if as_json:
        echo_json(taper_json(result, advice))
        return
    click.echo(render_taper(result, settings.athlete.units, advice))


def _distance(text: str | None) -> float:
    from kneeload.analysis.taper import MARATHON_M, parse_race_distance

    if text is None:
        return MARATHON_M
    try:
        return parse_race_distance(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--race-distance") from exc


def _knee_advice(
    obj: Context, score: int | None, day: date, race: date
) -> KneeAdvice | None:
    """Record a new note if given, then the knee module's taper advice (§7, §13)."""
    from kneeload.analysis.knee import taper_knee_advice
    from kneeload.notes import add_note, knee_pain

    if score is not None:  # writing a note is this option's purpose: errors stop
        try:
            add_note(obj.home, knee_pain(day, score), today=date.today())
        except ValueError as exc:  # a future --as-of: a note cannot be dated there
            raise click.BadParameter(str(exc), param_hint="--as-of") from exc
        except (KneeloadError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc
        warn(f"noted knee pain {score}/10 on {day.isoformat()}")
    notes = knee_notes(obj, strict=score is not None)
    return taper_knee_advice(notes, as_of=day, race_date=race, settings=obj.settings)


def taper_json(result: TaperResult, advice: KneeAdvice | None) -> dict[str, Any]:
    """The ``taper --json`` document with the knee advice (null when none)."""
    document = result.to_json()
    document["knee_advice"] = advice.to_json() if advice else None
    return document
