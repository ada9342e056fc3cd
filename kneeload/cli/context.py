"""What the commands share: the context, option parsing, output and the store.

Heavy imports (pandas, the analysis) happen inside the functions, so that
``kneeload --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from kneeload.errors import ConfigError, KneeloadError

if TYPE_CHECKING:
    import pandas as pd

    from kneeload.config import Settings
    from kneeload.ingest import IngestReport
    from kneeload.notes import Note
    from kneeload.store import FileRecord, Store


class Context:
    """What every command shares: the home folder and the settings."""

    def __init__(self, home: str | None, verbose: bool) -> None:
        from kneeload.config import resolve_home

        self.home: Path = _folder(resolve_home(home))
        self.verbose = verbose
        self._settings: Settings | None = None

    def rehome(self, home: str) -> None:
        """Use another home folder (``--home`` given after the subcommand)."""
        from kneeload.config import resolve_home

        self.home = _folder(resolve_home(home))
        self._settings = None

    @property
    def config_path(self) -> Path:
        """The config file of this home folder."""
        return self.home / "kneeload.toml"

    @property
    def settings(self) -> Settings:
        """The effective settings (a bad config is a usage error, exit 2)."""
        if self._settings is None:
            from kneeload.config import load_settings

            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                raise click.UsageError(str(exc)) from exc
        return self._settings


def _folder(home: Path) -> Path:
    """The home must be a folder (or not exist yet): a file there is a usage error."""
    if home.exists() and not home.is_dir():
        raise click.BadParameter(
            f"{home} is a file, not a folder (the folder is made if missing)",
            param_hint="--home",
        )
    return home


pass_ctx = click.make_pass_decorator(Context)


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


#: ``schema.SPORTS``, spelled here so that ``--help`` never imports numpy
#: (tests/test_cli_history.py checks that the two agree); every ``--sport``.
SPORT_CHOICES = ("running", "walking", "cycling", "swimming", "other")
#: The first day a date option accepts: consumer GPS watches came after it, and
#: pandas' nanosecond timestamps (1677-2262) hold every day of the range safely.
DAY_MIN = date(1990, 1, 1)
#: Date options accept days up to the end of the year this many years ahead
#: (race dates and planned weeks lie ahead; nothing else does).
FUTURE_YEARS = 5

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day_range(today: date | None = None) -> tuple[date, date]:
    """The first and last day a date option accepts."""
    today = today or date.today()
    return DAY_MIN, date(today.year + FUTURE_YEARS, 12, 31)


def parse_day(value: str | None, name: str, *, not_future: bool = False) -> date | None:
    """Parse a YYYY-MM-DD option value within ``day_range`` (usage error otherwise).

    ``not_future`` refuses days after today (``--as-of``, ``note --date``).
    """
    if value is None:
        return None
    if not _ISO_DAY.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a YYYY-MM-DD date", param_hint=name)
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"no such day: {value}", param_hint=name) from exc
    today = date.today()
    first, last = day_range(today)
    if not first <= day <= last:
        raise click.BadParameter(
            f"{value} is outside the supported dates {first} to {last}",
            param_hint=name,
        )
    if not_future and day > today:
        raise click.BadParameter(
            f"{value} is in the future (today is {today})", param_hint=name
        )
    return day


def parse_as_of(value: str | None) -> date | None:
    """An ``--as-of`` value: a day within range and not after today."""
    return parse_day(value, "--as-of", not_future=True)


def parse_range(
    since: str | None, until: str | None
) -> tuple[date | None, date | None]:
    """``--since``/``--until`` as days; a reversed range is a usage error."""
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if first is not None and last is not None and first > last:
        raise click.UsageError(
            f"--since {first} is after --until {last}: swap them or fix one"
        )
    return first, last


def paths_argument(*, required: bool) -> Callable[[Callable[..., Any]], Any]:
    """The PATH... argument of ``ingest``/``report``: each must exist (exit 2)."""
    return click.argument(
        "paths",
        nargs=-1,
        required=required,
        type=click.Path(exists=True, path_type=Path),
    )


def load_activities(obj: Context) -> pd.DataFrame:
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


def knee_notes(obj: Context, *, strict: bool) -> list[Note]:
    """The notes of the home folder (notes.db): the one policy for a damaged file.

    ``strict`` (commands whose purpose is the notes): one-line error, exit 1.
    Otherwise (check, report, taper advice): warn once on stderr and go on
    without notes.
    """
    from kneeload.notes import list_notes

    try:
        return list_notes(obj.home)
    except (KneeloadError, OSError) as exc:
        if strict:
            raise click.ClickException(str(exc)) from exc
        warn(f"warning: notes ignored: {exc}")
        return []


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1 ("1 file", "2 files")."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def run_ingest(
    obj: Context, paths: list[Path], *, workers: int | None, quiet: bool = False
) -> IngestReport:
    """Ingest ``paths`` with a progress bar and per-file warnings on stderr."""
    from kneeload.ingest import ingest as do_ingest
    from kneeload.store import Store

    tz = obj.settings.athlete.timezone
    try:
        with Store.in_home(obj.home) as store, _progress() as progress:
            before = store.file_index()
            try:
                report = do_ingest(
                    paths, store, default_tz=tz, workers=workers, progress=progress
                )
            except KeyboardInterrupt:
                _interrupted(store, before)
    except KneeloadError as exc:
        raise click.ClickException(str(exc)) from exc
    for path, reason in report.errors:
        warn(f"error: {path}: {reason}")
        if obj.verbose and path in report.tracebacks:
            warn(report.tracebacks[path].rstrip())
    for path, reason in report.skipped:
        warn(f"skipped: {path}: {reason}")
    for path, reason in report.partial:
        warn(f"partial: {path}: {reason}")
    if not quiet:
        warn(
            f"{plural(report.files_seen, 'file')}: "
            f"{plural(report.ingested, 'activity', 'activities')} added, "
            f"{report.unchanged} unchanged, {plural(report.duplicates, 'duplicate')}, "
            f"{len(report.skipped)} skipped, {plural(len(report.errors), 'error')}, "
            f"{len(report.partial)} partial"
        )
    if report.files_seen == 0:
        from kneeload.io.sources import ACTIVITY_SUFFIXES, escape_controls

        names = ", ".join(escape_controls(str(p)) for p in paths)
        warn(
            f"no activity files found in {names}: kneeload reads "
            f"{' '.join(ACTIVITY_SUFFIXES)} files and .zip exports of them"
        )
    return report


def _interrupted(store: Store, before: dict[str, FileRecord]) -> NoReturn:
    """Ctrl-C while ingesting: say what was saved, then exit 130."""
    try:
        after = store.file_index()
    except Exception:  # the store is as the last committed batch left it
        warn("interrupted: the files read so far are saved; run it again to continue")
    else:
        saved = sum(1 for key, rec in after.items() if before.get(key) != rec)
        warn(
            f"interrupted: {plural(saved, 'file')} saved; "
            "run the same command again to continue where it stopped"
        )
    raise click.exceptions.Exit(130)


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
