"""Exceptions raised by kneeload.

KneeloadError
├── ActivityFileError        one input file could not be used (.path, .reason)
│   ├── CorruptFileError     the bytes are not a readable FIT/GPX/TCX file
│   ├── UnsafeFileError      refused for safety (entity bomb, inflation limit, ...)
│   └── NotAnActivityError   holds no activity (monitoring FIT, empty GPX)
├── ConfigError              kneeload.toml is wrong (.path, .key)
├── StoreError               the store cannot be opened or is too new
├── NotesError               the notes diary (notes.db) is damaged or unusable (.path)
├── MailError                the report could not be delivered by email
└── DateRangeError           a day outside the dates the library supports (ValueError)
"""

from __future__ import annotations


class KneeloadError(Exception):
    """Base class of every error kneeload raises on purpose."""


class ActivityFileError(KneeloadError):
    """One input file could not be used; the rest of the run goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class CorruptFileError(ActivityFileError):
    """The file is not a readable activity file."""


class UnsafeFileError(ActivityFileError):
    """The file was refused for safety reasons."""


class NotAnActivityError(ActivityFileError):
    """The file is readable but holds no activity; it is skipped, not an error."""


class ConfigError(KneeloadError):
    """The configuration file has an unknown key, a wrong type or a bad value."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path = str(path)
        self.key = key
        self.problem = problem


class StoreError(KneeloadError):
    """The store cannot be opened or was written by a newer kneeload."""


class NotesError(KneeloadError):
    """The notes diary cannot be read or written; the message says what to do."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class MailError(KneeloadError):
    """The report could not be delivered (connection, TLS, login or refusal)."""


class DateRangeError(KneeloadError, ValueError):
    """A day (``as_of``, ``race_date``, ...) outside the supported range."""
