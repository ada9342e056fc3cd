"""The ``kneeload`` group: global options, then one line per command module.

``--home`` and ``-v`` are accepted before or after the subcommand: after every
command is registered, ``_add_global_options`` gives each one both options. An
unexpected exception in any command is one ``error:`` line and exit 1 (the
traceback only with ``-v``); Ctrl-C is one line and exit 130.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any

import click

from kneeload.cli.analysis import cadence, check
from kneeload.cli.config import config
from kneeload.cli.context import Context, warn
from kneeload.cli.history import activity_set, doctor, forget
from kneeload.cli.ingest import activities, ingest
from kneeload.cli.notes import knee, note, notes
from kneeload.cli.report import report
from kneeload.cli.taper import taper

EXIT_INTERRUPTED = 130

HOME_HELP = "Folder with the store, config and reports [env: KNEELOAD_HOME]."
VERBOSE_HELP = "Say more on stderr (and show tracebacks)."


class KneeloadGroup(click.Group):
    """The top-level group: one policy for errors that escape a command."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, with ``--home``/``-v`` even if it was registered late."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _add_global_options(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; unexpected errors and Ctrl-C become one line."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            warn("interrupted: what was saved is kept; run the command again to finish")
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if getattr(ctx.obj, "verbose", False):
                traceback.print_exc()
                hint = ""
            else:
                hint = " (run with -v for the traceback)"
            text = str(exc).splitlines()[0] if str(exc) else ""
            warn(f"error: {type(exc).__name__}: {text}{hint}")
            ctx.exit(1)


@click.group(
    cls=KneeloadGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option("--home", metavar="DIR", envvar="KNEELOAD_HOME", help=HOME_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
@click.version_option(package_name="kneeload")
@click.pass_context
def cli(ctx: click.Context, home: str | None, verbose: bool) -> None:
    """kneeload: training load and gait risk factors for runners' knees.

    --home and -v also work after the command. Dates are YYYY-MM-DD from
    1990-01-01 to the end of the year five years ahead; --as-of and note --date
    cannot be in the future. Exit status: 0 done, 1 part of it failed, 2 usage
    or config error, 130 interrupted (a re-run continues).
    """
    ctx.obj = Context(home, verbose)


cli.add_command(ingest)
cli.add_command(activities)
cli.add_command(check)
cli.add_command(cadence)
cli.add_command(taper)
cli.add_command(report)
cli.add_command(note)
cli.add_command(notes)
cli.add_command(knee)
cli.add_command(config)
cli.add_command(forget)
cli.add_command(doctor)
activities.add_command(activity_set)


def _set_home(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    obj = ctx.find_object(Context)
    if value is not None and obj is not None:
        obj.rehome(value)


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    obj = ctx.find_object(Context)
    if value and obj is not None:
        obj.verbose = True


def walk_commands(group: click.Group) -> Iterator[tuple[str, click.Command]]:
    """Every command and subcommand under ``group`` with its full name."""
    for name, command in sorted(group.commands.items()):
        yield name, command
        if isinstance(command, click.Group):
            for sub, inner in walk_commands(command):
                yield f"{name} {sub}", inner


def _add_global_options(command: click.Command) -> None:
    """Give ``command`` and its subcommands ``--home`` and ``-v`` (later wins)."""
    trees = [("", command)]
    if isinstance(command, click.Group):
        trees += list(walk_commands(command))
    for _name, each in trees:
        taken = {opt for p in each.params for opt in p.opts}
        if "--home" not in taken:
            each.params.append(
                click.Option(
                    ["--home"],
                    metavar="DIR",
                    expose_value=False,
                    callback=_set_home,
                    help=HOME_HELP.split(" [")[0] + " (also before the command).",
                )
            )
        if "--verbose" not in taken and "-v" not in taken:
            each.params.append(
                click.Option(
                    ["-v", "--verbose"],
                    is_flag=True,
                    expose_value=False,
                    callback=_set_verbose,
                    help=VERBOSE_HELP,
                )
            )


# Every command registered above gets them now (for --help listings and tests);
# one registered later gets them when it is looked up (get_command).
for _name, _command in list(cli.commands.items()):
    _add_global_options(_command)
