"""Worker processes never outlive the process that started them.

``die_with_parent`` is the initializer of ingest's process pool. On Linux it asks
the kernel for a signal when the parent dies (``PR_SET_PDEATHSIG``); everywhere
a daemon thread also watches the parent id once a second, so a ``kill -9`` of
``kneeload ingest`` never leaves parsers running on their own.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: How often the watchdog thread looks at the parent id, in seconds.
WATCH_S = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when ``parent_pid`` is gone."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(1)
    watcher = threading.Thread(
        target=_watch, args=(parent_pid,), name="kneeload-parent-watch", daemon=True
    )
    watcher.start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_S)
    os._exit(1)
