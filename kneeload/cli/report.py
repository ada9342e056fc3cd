"""``kneeload report``: ingest, build the weekly report, write it, email it."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kneeload.cli.context import (
    Context,
    knee_notes,
    load_activities,
    parse_as_of,
    pass_ctx,
    paths_argument,
    run_ingest,
    warn,
)
from kneeload.errors import KneeloadError

if TYPE_CHECKING:  # the report imports pandas and matplotlib: keep --help fast
    from kneeload.report.weekly import WeeklyReport

CHART_NAMES = ("acwr", "weekly_km", "cadence", "descent", "taper", "knee")


def last_complete_week_end(today: date) -> date:
    """The Sunday ending the last complete Monday-Sunday week before ``today``."""
    return today - timedelta(days=today.weekday() + 1)


def week_end_of(day: date) -> date:
    """The Sunday of the Monday-Sunday week that contains ``day``."""
    return day + timedelta(days=6 - day.weekday())


@click.command()
@paths_argument(required=False)
@click.option(
    "--out",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report.html, report.txt and the charts [HOME/report].",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Report the Monday-Sunday week containing DATE (YYYY-MM-DD) "
    "[the last complete week].",
)
@click.option(
    "--email",
    "emails",
    metavar="ADDR",
    multiple=True,
    help="Send the report to ADDR (repeatable) [[email] to].",
)
@click.option(
    "--eml",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the email message to FILE instead of sending it.",
)
@click.option(
    "--no-email", is_flag=True, help="Do not send, even if [email] to is set."
)
@click.option(
    "--print", "show", is_flag=True, help="Also print the text report on stdout."
)
@pass_ctx
def report(
    obj: Context,
    paths: tuple[Path, ...],
    out: Path | None,
    as_of: str | None,
    emails: tuple[str, ...],
    eml: Path | None,
    no_email: bool,
    show: bool,
) -> None:
    """Write the weekly report (HTML, text, charts) and email it.

    PATHs (files, folders, .zip exports) are ingested first. The week is the
    last complete Monday-Sunday week in local time, or with --as-of DATE the
    Monday-Sunday week that contains DATE. The report goes to --out (default:
    report/ under the home folder), whose path is printed at a terminal or
    with -v. It is emailed to
    --email ADDR or to [email] to; --eml FILE writes the message instead.
    Quiet on success unless -v, so it suits cron.

    \b
    Example:
        kneeload report ~/exports --as-of 2026-11-15
        kneeload report --email me@example.org
        # crontab: every Monday at 07:00
        0 7 * * 1  kneeload report ~/exports
    """
    day = parse_as_of(as_of)  # a bad date is refused before a long ingest
    addresses = _addresses(emails)
    if eml is not None and not (addresses or obj.settings.email.to):
        raise click.UsageError(
            "--eml needs a recipient for its To: line: add --email ADDR or set "
            "[email] to in kneeload.toml"
        )
    if paths:
        run_ingest(obj, list(paths), workers=None, quiet=not obj.verbose)
    week_ending = week_end_of(day) if day else last_complete_week_end(date.today())
    if week_ending > date.today():
        warn(f"note: the week ending {week_ending} has not finished yet")
    folder = out or obj.home / "report"
    built, charts = _build(obj, week_ending)
    _write_files(folder, built, charts)
    if built.numbers.runs == 0 and built.latest_run is not None:
        last = built.latest_run
        warn(
            f"note: no runs in the week ending {week_ending}; your latest run is "
            f"from {last:%-d %b %Y}: try --as-of {last.isoformat()}"
        )
    to = list(addresses or obj.settings.email.to)
    if eml is not None:
        _deliver(obj, built, charts, to, eml)
    elif to and not no_email:
        _deliver(obj, built, charts, to, None)
    if obj.verbose:
        warn(
            f"week {built.week_start} to {built.week_ending}: {built.flag_count} flags"
        )
    if show:
        click.echo((folder / "report.txt").read_text(encoding="utf-8"))
    if show or obj.verbose or sys.stdout.isatty():
        click.echo(str(folder))  # at a terminal; a cron job stays quiet


def _addresses(emails: tuple[str, ...]) -> list[str]:
    """The --email addresses, each checked (a usage error names the bad one)."""
    from kneeload.mail import AddressError, check_address

    try:
        return [check_address(a) for a in emails]
    except AddressError as exc:
        raise click.BadParameter(str(exc), param_hint="--email") from exc


def _build(obj: Context, week_ending: date) -> tuple[WeeklyReport, dict[str, bytes]]:
    from kneeload.history import open_history
    from kneeload.report.charts import report_charts
    from kneeload.report.weekly import build_weekly_report

    activities = load_activities(obj)
    if activities.empty:
        warn(
            "note: no activities in the store yet; add files with: kneeload ingest PATH"
        )
    try:
        history = open_history(obj.home)
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        # files whose runs would fall in the week (or read then): data may be missing
        problems = history.problem_files_dated()
    finally:
        history.close()
    built = build_weekly_report(
        activities,
        settings=obj.settings,
        week_ending=week_ending,
        problems=problems,
        knee_notes=knee_notes(obj, strict=False),
    )
    return built, report_charts(built)


def _write_files(folder: Path, built: WeeklyReport, charts: dict[str, bytes]) -> None:
    from kneeload.report.render import render_html, render_text

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in CHART_NAMES:  # idempotent: drop charts this week does not have
            (folder / f"{name}.png").unlink(missing_ok=True)
        for name, png in charts.items():
            (folder / f"{name}.png").write_bytes(png)
        (folder / "report.txt").write_text(render_text(built), encoding="utf-8")
        html = render_html(built, charts, embed=True)
        (folder / "report.html").write_text(html, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(
            f"cannot write the report to {folder}: {exc}"
        ) from exc


def _deliver(
    obj: Context,
    built: WeeklyReport,
    charts: dict[str, bytes],
    recipients: list[str],
    eml: Path | None,
) -> None:
    from kneeload.mail import (
        AddressError,
        MailError,
        compose_message,
        send_message,
        write_eml,
    )

    cfg = obj.settings.email
    login = cfg.username if cfg.username and "@" in cfg.username else None
    sender = cfg.sender or login or "kneeload@localhost"
    try:
        msg = compose_message(built, charts, sender=sender, to=recipients)
    except AddressError as exc:  # from [email] sender/to in the settings
        raise click.ClickException(f"[email] in kneeload.toml: {exc}") from exc
    try:
        if eml is not None:
            write_eml(msg, eml)
        else:
            send_message(msg, cfg)
    except MailError as exc:
        raise click.ClickException(str(exc)) from exc
    if obj.verbose:
        warn(f"wrote {eml}" if eml else f"sent to {', '.join(recipients)}")
