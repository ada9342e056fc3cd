"""kneeload: training load and gait risk factors for runners' knees.

The analysis names load on first use (PEP 562), so ``import kneeload`` and the
command line stay fast: pandas and matplotlib are imported only when needed.

    >>> import kneeload
    >>> history = kneeload.open_history("~/.local/share/kneeload")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kneeload.errors import (
    ActivityFileError,
    ConfigError,
    CorruptFileError,
    KneeloadError,
    NotAnActivityError,
    NotesError,
    StoreError,
    UnsafeFileError,
)

if TYPE_CHECKING:  # numpy-backed: imported on first use, off the --help path
    from kneeload.schema import Activity as Activity
    from kneeload.schema import RawActivity as RawActivity

__version__ = "0.1.0"

#: Public names that live in heavier modules, imported on first access.
_LAZY = {
    "Activity": "kneeload.schema",
    "RawActivity": "kneeload.schema",
    "History": "kneeload.history",
    "open_history": "kneeload.history",
    "Settings": "kneeload.config",
    "load_settings": "kneeload.config",
    "Store": "kneeload.store",
    "read_path": "kneeload.io",
    "parse_bytes": "kneeload.io",
    "summarise": "kneeload.summary",
    "add_trimp": "kneeload.analysis.load",
    "daily_series": "kneeload.analysis.daily",
    "acwr_frame": "kneeload.analysis.acwr",
    "check": "kneeload.analysis.check",
    "cadence_advice": "kneeload.analysis.check",
    "taper_check": "kneeload.analysis.taper",
    "build_weekly_report": "kneeload.report.weekly",
    "list_notes": "kneeload.notes",
    "build_knee_page": "kneeload.analysis.knee",
}

__all__ = [
    "ActivityFileError",
    "ConfigError",
    "CorruptFileError",
    "KneeloadError",
    "NotAnActivityError",
    "NotesError",
    "StoreError",
    "UnsafeFileError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kneeload' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Every public name, the lazy ones included."""
    return sorted({*globals(), *_LAZY})
