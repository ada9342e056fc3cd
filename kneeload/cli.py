"""The ``kneeload`` command line (INTERFACE.md). Thin: parsing, printing, exit codes.

Exit status: 0 success; 1 the command ran but part of what it was asked failed
(``--strict`` with bad files, email not delivered); 2 usage or config error.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from kneeload.errors import ConfigError, KneeloadError
from kneeload.units import per_unit_m


class Context:
    """What every command shares: the home folder and the settings."""

    def __init__(self, home: str | None, verbose: bool) -> None:
        from kneeload.config import resolve_home

        self.home = resolve_home(home)
        self.verbose = verbose
        self._settings: Any = None

    @property
    def config_path(self) -> Path:
        """The config file of this home folder."""
        return self.home / "kneeload.toml"

    @property
    def settings(self) -> Any:
        """The effective settings (a bad config is a usage error, exit 2)."""
        if self._settings is None:
            from kneeload.config import load_settings

            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                raise click.UsageError(str(exc)) from exc
        return self._settings


pass_ctx = click.make_pass_decorator(Context)


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


def echo_json(document: Any) -> None:
    """Print exactly one strict JSON document on stdout (NaN/inf become null)."""
    click.echo(
        json.dumps(_finite(document), indent=2, ensure_ascii=False, allow_nan=False)
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def warn(message: str) -> None:
    """One line on stderr."""
    click.echo(message, err=True)


def parse_day(value: str | None, name: str) -> date | None:
    """Parse a YYYY-MM-DD option value (usage error otherwise)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a YYYY-MM-DD date", param_hint=name
        ) from exc


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
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

    \b
    Example:
        kneeload ingest ~/Downloads/strava_export.zip ~/garmin/
    """
    report = run_ingest(obj, list(paths), workers=workers, quiet=as_json)
    if as_json:
        echo_json(report.to_json())
    if strict and (report.errors or report.skipped or report.partial):
        sys.exit(1)


def run_ingest(
    obj: Context, paths: list[Path], *, workers: int | None, quiet: bool = False
) -> Any:
    """Ingest ``paths`` with a progress bar and per-file warnings on stderr."""
    from kneeload.ingest import ingest as do_ingest
    from kneeload.store import Store

    tz = obj.settings.athlete.timezone
    try:
        with Store.in_home(obj.home) as store, _progress() as progress:
            report = do_ingest(
                paths, store, default_tz=tz, workers=workers, progress=progress
            )
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc
    for path, reason in report.errors:
        warn(f"error: {path}: {reason}")
    for path, reason in report.skipped:
        warn(f"skipped: {path}: {reason}")
    for path, reason in report.partial:
        warn(f"partial: {path}: {reason}")
    if not quiet:
        warn(
            f"{report.files_seen} files: {report.ingested} activities added, "
            f"{report.unchanged} unchanged, {report.duplicates} duplicates, "
            f"{len(report.skipped)} skipped, {len(report.errors)} errors, "
            f"{len(report.partial)} partial"
        )
    return report


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long ingests, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bars and total >= 20:
            bars.append(
                click.progressbar(length=total, label="reading", file=sys.stderr)
            )
            bars[0].__enter__()
        if bars:
            bars[0].update(done - bars[0].pos)

    try:
        yield update
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


@cli.command()
@click.option("--since", metavar="DATE", help="First local date (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Last local date (YYYY-MM-DD).")
@click.option(
    "--sport",
    type=click.Choice(["running", "walking", "cycling", "swimming", "other"]),
    help="Only this sport.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@pass_ctx
def activities(
    obj: Context,
    since: str | None,
    until: str | None,
    sport: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """List the activities in the store (duplicates folded into the richest copy)."""
    from kneeload.history import activity_records

    frame = load_activities(obj)
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
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
        click.echo(_csv(records), nl=False)
    else:
        click.echo(render_activity_table(records, obj.settings.athlete.units))


def load_activities(obj: Context) -> Any:
    """The activities frame of the home folder, with TRIMP from the settings."""
    from kneeload.analysis.load import add_trimp
    from kneeload.history import open_history

    try:
        history = open_history(obj.home)
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        return add_trimp(history.activities, settings=obj.settings)
    finally:
        history.close()


def _csv(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if records:
        writer = csv.DictWriter(buf, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return buf.getvalue()


def render_activity_table(records: list[dict[str, Any]], units: str) -> str:
    """A fixed-width table of activities in km or miles."""
    if not records:
        return "No activities match. Add files with: kneeload ingest PATH..."
    per = per_unit_m(units)
    head = (
        f"{'date':<10}  {'sport':<8}  {units:>6}  {'time':>7}  {'pace':>6}  "
        f"{'HR':>4}  {'spm':>4}  source"
    )
    lines = [head]
    for r in records:
        dist = (r["distance_m"] or 0.0) / per
        moving = r["moving_s"] or r["elapsed_s"] or 0.0
        pace = _mmss(moving / dist) if dist > 0.05 else "-"
        lines.append(
            f"{r['local_date']:<10}  {r['sport']:<8}  {dist:6.2f}  "
            f"{_hmm(moving):>7}  {pace:>6}  {_int(r['avg_hr']):>4}  "
            f"{_int(r['cadence_spm']):>4}  {Path(r['source']).name}"
            + ("  (partial)" if r["partial"] else "")
        )
    lines.append(f"{len(records)} activities")
    return "\n".join(lines)


def _hmm(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m // 60}:{m % 60:02d}"


def _mmss(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def _int(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


# The commands live in kneeload/commands/; they import pandas only when run.
from kneeload.commands.analysis import cadence, check, config, note  # noqa: E402
from kneeload.commands.report import report  # noqa: E402
from kneeload.commands.taper import taper  # noqa: E402

for _command in (check, cadence, taper, report, note, config):
    cli.add_command(_command)
