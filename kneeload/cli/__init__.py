"""The ``kneeload`` command line (INTERFACE.md). Thin: parsing, printing, exit codes.

The package is layered downward only: ``main`` defines the group and registers the
command modules (``ingest``, ``analysis``, ``notes``, ``config``, ``report``,
``taper``); those use the shared helpers in ``context`` and the text renderers in
``render``; no command module imports ``main``.

Exit status: 0 success; 1 the command ran but part of what it was asked failed
(``--strict`` with bad files, email not delivered) or an unexpected error; 2 usage
or config error; 130 interrupted (Ctrl-C).
"""

from kneeload.cli.main import cli

__all__ = ["cli"]
