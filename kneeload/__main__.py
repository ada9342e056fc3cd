"""``python -m kneeload`` runs the command-line tool."""

from kneeload.cli import cli

cli()
