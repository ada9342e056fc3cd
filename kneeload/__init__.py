"""kneeload: training-load monitor for runners' knees."""

from kneeload.errors import (
    ActivityFileError,
    ConfigError,
    CorruptFileError,
    KneeloadError,
    NotAnActivityError,
    StoreError,
    UnsafeFileError,
)
from kneeload.schema import Activity, RawActivity

__all__ = [
    "Activity",
    "ActivityFileError",
    "ConfigError",
    "CorruptFileError",
    "KneeloadError",
    "NotAnActivityError",
    "RawActivity",
    "StoreError",
    "UnsafeFileError",
]
__version__ = "0.1.0"
