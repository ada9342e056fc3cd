"""Find activity files under the paths a user names: folders, loose files, zip archives.

A ``Source`` is one readable activity file: a loose file on disk or one member of
a zip archive. Nothing is extracted to disk; zip member names are only labels and
never become paths. Folder walks follow symlinks but never the same directory
twice, so a symlink loop ends.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kneeload.errors import ActivityFileError, CorruptFileError, UnsafeFileError
from kneeload.io import MAX_FILE_BYTES, ZIP_MAGIC, too_big

#: File names we look at inside folders and archives (case-insensitive). Files
#: named on the command line are always sniffed, whatever their name.
ACTIVITY_SUFFIXES = (".fit", ".gpx", ".tcx", ".fit.gz", ".gpx.gz", ".tcx.gz")
ZIP_SEPARATOR = "!"
_TOO_BIG = "zip member inflates past {} MiB; refused"


@dataclass(frozen=True)
class Source:
    """One activity file to read: a path on disk, or a member of a zip archive."""

    key: str  # absolute path, or "archive.zip!member/name"
    size: int
    mtime_ns: int  # file mtime; for zip members the archive's
    archive: str | None = None  # the zip holding the member, if any
    member: str | None = None
    crc: int | None = None  # zip member CRC-32: identity without reading the bytes

    def read(self) -> bytes:
        """Return the file's bytes (a zip member is inflated with a size bound)."""
        if self.archive is None:
            if self.size > MAX_FILE_BYTES:
                raise UnsafeFileError(self.key, too_big(self.size))
            try:
                return Path(self.key).read_bytes()
            except OSError as exc:
                raise CorruptFileError(
                    self.key, f"cannot read: {exc.strerror}"
                ) from exc
        return read_zip_member(Path(self.archive), self.member or "", self.key)


def read_zip_member(archive: Path, member: str, label: str) -> bytes:
    """Inflate one zip member in memory, refusing one that grows past the limit."""
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, KeyError, EOFError) as exc:
        raise CorruptFileError(label, f"cannot read zip member: {exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeFileError(
            label,
            _TOO_BIG.format(MAX_FILE_BYTES // 2**20),
        )
    return data


def is_activity_name(name: str) -> bool:
    """True when a file name looks like an activity file or a zip archive."""
    lower = name.lower()
    return lower.endswith(ACTIVITY_SUFFIXES) or lower.endswith(".zip")


def iter_sources(
    paths: list[Path], problems: list[ActivityFileError]
) -> Iterator[Source]:
    """Yield every activity file under ``paths``; unusable ones go to ``problems``."""
    seen_dirs: set[tuple[int, int]] = set()
    for path in paths:
        if path.is_dir():
            yield from _walk(path, seen_dirs, problems)
        elif path.exists():
            yield from _file_sources(path, problems)
        else:
            problems.append(CorruptFileError(str(path), "no such file or folder"))


def _walk(
    folder: Path, seen_dirs: set[tuple[int, int]], problems: list[ActivityFileError]
) -> Iterator[Source]:
    for root, dirs, files in os.walk(folder, followlinks=True, onerror=None):
        try:
            st = Path(root).stat()
        except OSError:
            dirs[:] = []
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen_dirs:  # a symlink loop or a folder reached twice
            dirs[:] = []
            continue
        seen_dirs.add(ident)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and is_activity_name(name):
                yield from _file_sources(Path(root) / name, problems)


def _file_sources(path: Path, problems: list[ActivityFileError]) -> Iterator[Source]:
    try:
        st = path.stat()
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        problems.append(CorruptFileError(str(path), f"cannot read: {exc.strerror}"))
        return
    key = str(path.absolute())
    if head == ZIP_MAGIC:
        yield from _zip_sources(path, key, st, problems)
    else:
        yield Source(key=key, size=st.st_size, mtime_ns=st.st_mtime_ns)


def _zip_sources(
    path: Path, key: str, st: os.stat_result, problems: list[ActivityFileError]
) -> Iterator[Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(CorruptFileError(key, f"not a readable zip archive: {exc}"))
        return
    for info in infos:
        if info.is_dir() or not is_activity_name(info.filename):
            continue
        label = f"{key}{ZIP_SEPARATOR}{info.filename}"
        if info.filename.lower().endswith(".zip"):
            problems.append(CorruptFileError(label, "zip inside a zip is not read"))
        elif info.file_size > MAX_FILE_BYTES:
            problems.append(
                UnsafeFileError(
                    label,
                    _TOO_BIG.format(MAX_FILE_BYTES // 2**20),
                )
            )
        else:
            yield Source(
                key=label,
                size=info.file_size,
                mtime_ns=st.st_mtime_ns,
                archive=key,
                member=info.filename,
                crc=info.CRC,
            )
