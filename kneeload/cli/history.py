"""History hygiene (RULES §1.6): ``kneeload activities set`` and ``kneeload forget``.

The runner's word on one activity (sport, "this suspect one is fine", "leave it
out") is kept in the store apart from what the files say, so a re-ingest never
undoes it. ``forget`` takes files, folders or archives back out of the history
(e.g. the bundled sample block); the files themselves are untouched.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from kneeload.cli.context import (
    SPORT_CHOICES,
    Context,
    echo_json,
    pass_ctx,
    plural,
    warn,
)
from kneeload.errors import KneeloadError, StoreError


@click.command("set")
@click.argument("activity_id", metavar="ID")
@click.option("--sport", type=click.Choice(SPORT_CHOICES), help="The real sport.")
@click.option("--ok", is_flag=True, help="Confirm a suspect activity: it counts.")
@click.option("--exclude", is_flag=True, help="Keep it out of the load and rules.")
@click.option("--include", is_flag=True, help="Count it again (undo --exclude).")
@click.option("--json", "as_json", is_flag=True, help="Print the activity as JSON.")
@pass_ctx
def activity_set(
    obj: Context,
    activity_id: str,
    sport: str | None,
    ok: bool,
    exclude: bool,
    include: bool,
    as_json: bool,
) -> None:
    """Correct one activity: its sport, confirm it, or keep it out of the load.

    ID is the ``id`` of ``kneeload activities`` (a unique prefix is enough). The
    runner's word beats the file, the export and the inference.

    \b
    Example:
        kneeload activities set 3f9a2c1b --sport walking
    """
    from kneeload.history import History, activity_records
    from kneeload.store import Store

    if exclude and include:
        raise click.UsageError("--exclude and --include contradict each other")
    if sport is None and not (ok or exclude or include):
        raise click.UsageError("say what to set: --sport, --ok, --exclude or --include")
    excluded = True if exclude else False if include else None
    try:
        with Store.in_home(obj.home) as store:
            full = store.set_correction(
                activity_id, sport=sport, ok=ok or None, excluded=excluded
            )
            frame = History(store).activities
    except StoreError as exc:
        if "no activity with id" in str(exc) or "ambiguous" in str(exc):
            raise click.BadParameter(str(exc), param_hint="ID") from exc
        raise click.ClickException(str(exc)) from exc
    (record,) = activity_records(frame[frame["id"] == full])
    if as_json:
        echo_json(record)
        return
    state = ["excluded" if record["excluded"] else "counts in the load"]
    if record["suspect"]:
        state.append(
            "confirmed" if record["confirmed"] else f"suspect: {record['suspect']}"
        )
    click.echo(
        f"{full}  {record['local_date']}  {record['sport']} "
        f"({record['sport_source']}), {', '.join(state)}"
    )


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_ctx
def forget(obj: Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Remove the activities read from these files, folders or archives.

    Their file-index rows go too, so ingesting them again brings them back.
    The files themselves are untouched. Exit 1 when none of the paths was
    ever read into the store.

    \b
    Example:
        kneeload forget sample_activities/
    """
    from kneeload.io.sources import escape_controls
    from kneeload.store import Store

    keys = [key for path in paths for key in _store_keys(path)]
    try:
        with Store.in_home(obj.home) as store:
            outcome = store.forget(keys)
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc
    unknown = [str(p) for p in paths if not set(_store_keys(p)) - set(outcome.unknown)]
    if as_json:
        echo_json(
            {
                "files": outcome.files,
                "activities": outcome.activities,
                "not_in_store": unknown,
            }
        )
    else:
        for path in unknown:
            warn(f"not in the store: {escape_controls(path)}")
        click.echo(
            f"forgot {plural(outcome.activities, 'activity', 'activities')} from "
            f"{plural(outcome.files, 'file')} "
            "(the files themselves are untouched)"
        )
    if outcome.files == 0:
        raise click.exceptions.Exit(1)


def _store_keys(path: Path) -> list[str]:
    """The spellings the store may know ``path`` by (ingest keys are absolute)."""
    absolute = str(path.absolute())
    spellings = [absolute, os.path.normpath(absolute)]
    with contextlib.suppress(OSError):  # a loop of links: the others still match
        spellings.append(str(path.resolve()))
    return list(dict.fromkeys(spellings))


@click.command()
@click.option(
    "--rebuild",
    is_flag=True,
    help="Move the store aside and re-read the original files it indexes.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_ctx
def doctor(obj: Context, rebuild: bool, as_json: bool) -> None:
    """Check the store end to end; with --rebuild, rebuild it from the files.

    The check reads every page and every stored value, changing nothing. The
    rebuild never deletes: the old database is renamed ``kneeload.db.damaged-*``,
    corrections and export metadata that can still be read are kept, and files
    that are gone are listed (exit 1 then). Exit 1 when the store is damaged.
    """
    if obj.home.exists() and not obj.home.is_dir():
        raise click.ClickException(f"{obj.home}: --home is a file, not a folder")
    if rebuild:
        _doctor_rebuild(obj, as_json)
    else:
        _doctor_check(obj, as_json)


def _doctor_check(obj: Context, as_json: bool) -> None:
    """``doctor`` without --rebuild: diagnose the store; exit 1 when damaged."""
    from kneeload import doctor as doc
    from kneeload.io.sources import escape_controls

    found = doc.diagnose(obj.home)
    if as_json:
        echo_json(found.to_json())
    elif not found.exists:
        click.echo(f"{found.path}: no store yet (nothing to check)")
    elif found.ok:
        click.echo(
            f"{found.path}: ok "
            f"({plural(found.activities, 'activity', 'activities')}, "
            f"{plural(found.files, 'file')})"
        )
    else:
        for problem in found.problems:
            warn(f"problem: {escape_controls(problem)}")
        warn(
            f"{found.path}: the store is damaged; run: kneeload doctor --rebuild "
            "(it keeps the old file and re-reads the original files)"
        )
    if not found.ok:
        raise click.exceptions.Exit(1)


def _doctor_rebuild(obj: Context, as_json: bool) -> None:
    """``doctor --rebuild``: rebuild the store; exit 1 when files are gone."""
    from kneeload import doctor as doc
    from kneeload.io.sources import escape_controls

    try:
        out = doc.rebuild(obj.home, default_tz=obj.settings.athlete.timezone)
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json(out.to_json())
    else:
        if out.moved_to is not None:
            click.echo(f"old store kept as {out.moved_to}")
        if out.index_lost:
            warn(
                "the old file index could not be read: ingest your files again "
                "with: kneeload ingest PATH..."
            )
        for path in out.gone:
            warn(f"gone: {escape_controls(path)} (its activities cannot be read again)")
        click.echo(
            f"rebuilt from {len(out.roots)} files and folders: "
            f"{plural(out.report.ingested, 'activity', 'activities')}, "
            f"{plural(len(out.report.errors), 'error')}, "
            f"{plural(out.corrections, 'correction')} kept"
        )
    if out.gone or out.index_lost:
        raise click.exceptions.Exit(1)
