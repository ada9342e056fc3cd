"""``kneeload note``, ``notes [rm ID]`` and ``knee`` (INTERFACE.md)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from kneeload.cli.context import (
    Context,
    echo_json,
    knee_notes,
    load_activities,
    parse_day,
    pass_ctx,
)
from kneeload.errors import KneeloadError

if TYPE_CHECKING:
    from kneeload.notes import Note

_WHENS = ("during", "after", "next-morning", "rest")
_AGGRAVATORS = ("stairs", "downhill", "sitting", "squatting", "running")


def _aggravators(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> list[str]:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    bad = [v for v in items if v not in _AGGRAVATORS]
    if bad:
        raise click.BadParameter(
            f"{', '.join(bad)}: choose from {', '.join(_AGGRAVATORS)}"
        )
    return items


@click.command()
@click.option("--knee-pain", type=click.IntRange(0, 10), metavar="0-10",
              help="Knee pain (0 none, 10 worst).")  # fmt: skip
@click.option("--when", "when_", type=click.Choice(_WHENS), default=None,
              help="When it hurt [after]; next-morning = after a run.")  # fmt: skip
@click.option("--side", type=click.Choice(("left", "right", "both")),
              help="Which knee.")  # fmt: skip
@click.option("--aggravated-by", callback=_aggravators, metavar="LIST",
              help="Any of: stairs,downhill,sitting,squatting,running.")  # fmt: skip
@click.option("--shoes", metavar="NAME", help="A pair in use from --date on.")
@click.option("--strength", is_flag=True,
              help="A hip and knee strengthening session.")  # fmt: skip
@click.option("--minutes", type=click.IntRange(1, 600), metavar="N",
              help="Length of the --strength session.")  # fmt: skip
@click.option("--text", metavar="TEXT", help="Free text, shown in the pain log.")
@click.option("--date", "day", metavar="DATE", help="The day it refers to [today].")
@pass_ctx
def note(
    obj: Context, knee_pain: int | None, when_: str | None, side: str | None,
    aggravated_by: list[str], shoes: str | None, strength: bool,
    minutes: int | None, text: str | None, day: str | None,
) -> None:  # fmt: skip
    """Add one note to the diary: knee pain, new shoes, strength or text.

    Several notes a day are fine (during a run, then the next morning). Knee pain
    of 1/10 or more in the last 28 days turns on the knee page (kneeload knee),
    raises intensity and downhill flags to caution and adds "see a clinician".

    \b
    Example:
        kneeload note --knee-pain 3 --when during --side left --aggravated-by stairs
        kneeload note --knee-pain 2 --when next-morning
        kneeload note --shoes "Pegasus 41" --date 2026-04-21
        kneeload note --strength --minutes 25
    """
    from kneeload import notes as diary

    given = {"--knee-pain": knee_pain is not None, "--shoes": shoes,
             "--strength": strength, "--text": text}  # fmt: skip
    kinds = [k for k, v in given.items() if v]
    if len(kinds) != 1:
        raise click.UsageError(
            "give one of --knee-pain, --shoes, --strength or --text per note"
        )
    if knee_pain is None and (when_ or side or aggravated_by):
        raise click.UsageError("--when, --side and --aggravated-by go with --knee-pain")
    if minutes is not None and not strength:
        raise click.UsageError("--minutes goes with --strength")
    today = date.today()
    when = parse_day(day, "--date", not_future=True) or today
    try:
        if knee_pain is not None:
            new = diary.knee_pain(when, knee_pain, when=when_ or "after", side=side,
                                  aggravated_by=aggravated_by)  # fmt: skip
        elif shoes is not None:
            new = diary.shoes(when, shoes)
        elif strength:
            new = diary.strength(when, minutes)
        else:
            new = diary.text(when, text or "")
        stored = diary.add_note(obj.home, new, today=today)
    except ValueError as exc:
        hint = "--date" if "future" in str(exc) else kinds[0]
        raise click.BadParameter(str(exc), param_hint=hint) from exc
    except (KneeloadError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"noted {describe(stored)} (id {stored.id})")


def describe(n: Note) -> str:
    """One line for a note, e.g. 'knee pain 3/10 after on 2026-05-09'."""
    from kneeload.analysis.knee_text import pain_words

    if n.kind == "knee_pain":
        what = f"knee pain {pain_words(n)}"
    elif n.kind == "shoes":
        what = f"shoes {n.name}"
    elif n.kind == "strength":
        what = "strength session" + (f", {n.minutes:.0f} min" if n.minutes else "")
    else:
        what = f"text {pain_words(n)}"
    return f"{what} on {n.day.isoformat()}"


@click.group(invoke_without_command=True)
@click.option("--since", metavar="DATE", help="Only notes from this day on.")
@click.option("--json", "as_json", is_flag=True, help="Print the notes as JSON.")
@click.pass_context
def notes(ctx: click.Context, since: str | None, as_json: bool) -> None:
    """List the diary's notes (with their ids); 'notes rm ID' deletes one.

    \b
    Example:
        kneeload notes --since 2026-05-01
        kneeload notes rm 12
    """
    if ctx.invoked_subcommand is not None:
        return
    from kneeload.notes import list_notes

    obj = ctx.find_object(Context)
    assert obj is not None  # set by the group
    start = parse_day(since, "--since")
    try:
        found = list_notes(obj.home, since=start)
    except (KneeloadError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json([n.to_json() for n in found])
        return
    if not found:
        click.echo("No notes yet. Add one with: kneeload note --knee-pain N")
    for n in found:
        click.echo(f"{n.id:>5}  {describe(n)}")


@notes.command("rm")
@click.argument("note_id", metavar="ID", type=int)
@pass_ctx
def notes_rm(obj: Context, note_id: int) -> None:
    """Delete the note with this id (see 'kneeload notes')."""
    from kneeload.notes import delete_note

    try:
        gone = delete_note(obj.home, note_id)
    except KeyError:
        raise click.ClickException(
            f"no note with id {note_id}; list them with: kneeload notes"
        ) from None
    except (KneeloadError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"deleted note {gone.id}: {describe(gone)}")


@click.command()
@click.option("--as-of", metavar="DATE", help="Evaluation day [today].")
@click.option("--json", "as_json", is_flag=True, help="Print the knee page as JSON.")
@pass_ctx
def knee(obj: Context, as_of: str | None, as_json: bool) -> None:
    """The knee page: return-to-running stage, next step, pain log and routine.

    The stage follows the physical therapists' 3 stages (RULES §12) from your
    notes and runs of the last 7 days; the plan belongs to you and your physio.

    \b
    Example:
        kneeload knee --as-of 2026-05-10
    """
    from kneeload.analysis.knee import build_knee_page
    from kneeload.report.knee import render_knee_page

    day = parse_day(as_of, "--as-of", not_future=True) or date.today()
    page = build_knee_page(
        load_activities(obj), knee_notes(obj, strict=True), as_of=day,
        settings=obj.settings,
    )  # fmt: skip
    if as_json:
        echo_json(page.to_json())
        return
    click.echo(render_knee_page(page, units=obj.settings.athlete.units))
