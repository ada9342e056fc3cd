"""``kneeload config path|show|init`` (INTERFACE.md)."""

from __future__ import annotations

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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_config_toml(Settings(), commented=True), encoding="utf-8")
    click.echo(str(path))
