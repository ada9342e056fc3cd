"""``kneeload config path|show|init`` (INTERFACE.md)."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import click

from kneeload.cli.context import Context, echo_json, pass_ctx


@click.group()
def config() -> None:
    """Show, create or locate the configuration file (kneeload.toml)."""


@config.command("path")
@pass_ctx
def config_path(obj: Context) -> None:
    """Print where the config file is (it may not exist yet)."""
    click.echo(str(obj.config_path))


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@pass_ctx
def config_show(obj: Context, as_json: bool) -> None:
    """Print every setting and threshold in effect, with its source and citation."""
    from kneeload.config import render_config_toml, settings_json

    if as_json:
        echo_json(settings_json(obj.settings))
    else:
        click.echo(render_config_toml(obj.settings, commented=False))


@config.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@pass_ctx
def config_init(obj: Context, force: bool) -> None:
    """Write a commented kneeload.toml with every default and its citation."""
    from kneeload.config import Settings, render_config_toml

    path = obj.config_path
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    text = render_config_toml(Settings(), commented=True)
    try:
        write_config(path, text)
    except OSError as exc:
        raise click.ClickException(write_error(path, exc)) from exc
    click.echo(str(path))


#: errno values that mean "this folder cannot be written to".
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def write_config(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temp file beside it, then rename).

    A failed write (read-only folder, full disk) leaves no half-written
    kneeload.toml behind: the old file, if any, is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_error(path: Path, exc: OSError) -> str:
    """One line for a config file that cannot be written: the file and why."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return (
            f"cannot write {path}: {path.parent} is not a folder; "
            "use --home with a folder"
        )
    if exc.errno in _READ_ONLY:
        return (
            f"cannot write {path}: the folder {path.parent} is read-only; "
            "use a writable --home or change its permissions"
        )
    why = exc.strerror or str(exc)
    return f"cannot write {path}: {why}; nothing was written"
