"""What the commands share: the context, option parsing, output and the store.

Heavy imports (pandas, the analysis) happen inside the functions, so that
``kneeload --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kneeload.errors import ConfigError, KneeloadError

if TYPE_CHECKING:
    import pandas as pd

    from kneeload.config import Settings
    from kneeload.ingest import IngestReport
    from kneeload.notes import KneePainNote


class Context:
    """What every command shares: the home folder and the settings."""

    def __init__(self, home: str | None, verbose: bool) -> None:
        from kneeload.config import resolve_home

        self.home: Path = resolve_home(home)
        self.verbose = verbose
        self._settings: Settings | None = None

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


def knee_notes(obj: Context, *, strict: bool) -> list[KneePainNote]:
    """The knee-pain notes of the home folder: the one policy for a damaged file.

    ``strict`` (commands whose purpose is the notes): one-line error, exit 1.
    Otherwise (check, report, taper advice): warn once on stderr and go on
    without notes.
    """
    from kneeload.notes import load_knee_pain

    try:
        return list(load_knee_pain(obj.home))
    except (KneeloadError, OSError) as exc:
        if strict:
            raise click.ClickException(str(exc)) from exc
        warn(f"warning: knee-pain notes ignored: {exc}")
        return []


def run_ingest(
    obj: Context, paths: list[Path], *, workers: int | None, quiet: bool = False
) -> IngestReport:
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
        if obj.verbose and path in report.tracebacks:
            warn(report.tracebacks[path].rstrip())
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
