"""Find activity files under the paths a user names: folders, loose files, zip archives.

A ``Source`` is one readable file: a loose file on disk or one member of a zip
archive, possibly inside a zip inside that zip. Nothing is extracted to disk;
member names are only labels (``outer.zip!inner.zip!member``) and never become
paths. Folder walks follow symlinks but never the same directory twice, so a
symlink loop ends.

Archive trees (PROTOCOL contract 6):

* each archive is opened once per process and kept open while its members are
  read (``close_archives`` ends that); members are addressed by their position
  in the archive's directory, so every entry is read, duplicate names included
  (the second ``run.gpx`` is labelled ``run.gpx#2``);
* a member that is itself a zip is read in memory and its members are read in
  turn, at most ``MAX_ZIP_NESTING`` levels below the outermost archive, and all
  inflated bytes of one tree count against ``MAX_TREE_BYTES``;
* control characters in member names are escaped in every label
  (``escape_controls``), so a name cannot fake a line of output;
* export detectors (``register_export_detector``) see every file of a folder or
  archive tree and may add metadata to sources, add sources of their own, or
  silence files that are not activity data.
"""

from __future__ import annotations

import dataclasses
import io
import lzma
import os
import re
import struct
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kneeload.errors import ActivityFileError, CorruptFileError, UnsafeFileError
from kneeload.io import MAX_FILE_BYTES, ZIP_MAGIC, mib, too_big

#: File names we look at inside folders and archives (case-insensitive). Files
#: named on the command line are always sniffed, whatever their name.
ACTIVITY_SUFFIXES = (".fit", ".gpx", ".tcx", ".fit.gz", ".gpx.gz", ".tcx.gz")
ZIP_SEPARATOR = "!"
#: Zips inside zips: ``outer.zip!a.zip!member`` is one level, ``!a.zip!b.zip!`` two.
MAX_ZIP_NESTING = 2
#: A nested zip is held in memory while its members are read.
MAX_NESTED_ZIP_BYTES = 1024 * 2**20
#: All inflated bytes read from one archive tree (nested zips + activity members).
MAX_TREE_BYTES = 4096 * 2**20
#: Open archives kept per process (the one being read, and one more).
_CACHE_SIZE = 4
#: zip compression methods the standard library can inflate.
_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
#: What inflating a damaged member can raise (all from the zip/codec modules).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    struct.error,
    OSError,
    EOFError,
    KeyError,
    IndexError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def escape_controls(text: str) -> str:
    """``text`` with control and bidi-override characters written as ``\\xNN``."""
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


@dataclass(frozen=True)
class Source:
    """One file to read: a path on disk, or a member of a (nested) zip archive."""

    key: str  # absolute path, or "archive.zip!member/name" (escaped)
    size: int
    mtime_ns: int  # file mtime; for zip members the outermost archive's
    archive: str | None = None  # the outermost zip on disk, if any
    member: str | None = None  # the member's own name (innermost level)
    crc: int | None = None  # zip member CRC-32: identity without reading the bytes
    #: position of the member in each archive directory, outermost first; empty
    #: means "look ``member`` up by name" (one level, last entry of that name)
    chain: tuple[int, ...] = ()
    #: RawActivity fields an export supplies (name, gear, rpe, export_sport, ...)
    meta: dict[str, Any] | None = field(default=None, compare=False)
    #: "module:function" taking this Source and returning its RawActivity list,
    #: instead of reading the bytes and sniffing them (e.g. a streamed export.xml)
    parser: str | None = None

    def read(self) -> bytes:
        """Return the file's bytes (a zip member is inflated with a size bound)."""
        if self.archive is None:
            if self.size > MAX_FILE_BYTES:
                raise UnsafeFileError(self.key, too_big(self.size, MAX_FILE_BYTES))
            try:
                return Path(self.key).read_bytes()
            except OSError as exc:
                raise CorruptFileError(
                    self.key, f"cannot read: {exc.strerror}"
                ) from exc
        return read_zip_member(self)

    def open(self) -> IO[bytes]:
        """A binary stream of the whole file, for streaming readers (no size bound)."""
        if self.archive is None:
            try:
                return Path(self.key).open("rb")
            except OSError as exc:
                raise CorruptFileError(
                    self.key, f"cannot read: {exc.strerror}"
                ) from exc
        zf, info = _locate(self)
        try:
            return zf.open(info)
        except _ZIP_ERRORS as exc:
            raise CorruptFileError(self.key, f"cannot read zip member: {exc}") from exc


def read_zip_member(source: Source) -> bytes:
    """Inflate one zip member in memory, refusing one that grows past the limit."""
    zf, info = _locate(source)
    problem = member_problem(info)
    if problem:
        raise CorruptFileError(source.key, problem)
    try:
        with zf.open(info) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except _ZIP_ERRORS as exc:
        raise CorruptFileError(source.key, f"cannot read zip member: {exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeFileError(source.key, _too_big_member(info.file_size))
    return data


def member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member cannot be inflated (encrypted, unknown method), or None."""
    if info.flag_bits & 0x1:
        return "encrypted zip member: not read"
    if info.compress_type not in _METHODS:
        return f"zip member uses compression method {info.compress_type}: not read"
    return None


def _too_big_member(size: int) -> str:
    return (
        f"zip member inflates to {mib(size)} MiB, larger than the "
        f"{mib(MAX_FILE_BYTES)} MiB limit; refused"
    )


# ------------------------------------------------------------ open archives

_OPEN: OrderedDict[tuple[str, tuple[int, ...]], zipfile.ZipFile] = OrderedDict()
_OPEN_PID = os.getpid()
#: How many times an archive was opened in this process (tests assert on it).
open_count = 0


def _archive(path: str, chain: tuple[int, ...], label: str) -> zipfile.ZipFile:
    """The zip at ``path`` (or nested in it at ``chain``), opened once per process."""
    global _OPEN_PID, open_count
    if os.getpid() != _OPEN_PID:  # a forked worker: never share the parent's handles
        _OPEN.clear()
        _OPEN_PID = os.getpid()
    key = (path, chain)
    zf = _OPEN.get(key)
    if zf is not None:
        _OPEN.move_to_end(key)
        return zf
    try:
        if chain:
            parent = _archive(path, chain[:-1], label)
            info = parent.infolist()[chain[-1]]
            with parent.open(info) as fh:
                zf = zipfile.ZipFile(io.BytesIO(fh.read(MAX_NESTED_ZIP_BYTES + 1)))
        else:
            zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise CorruptFileError(label, f"not a readable zip archive: {exc}") from exc
    open_count += 1
    _OPEN[key] = zf
    while len(_OPEN) > _CACHE_SIZE:
        _OPEN.popitem(last=False)[1].close()
    return zf


def close_archives() -> None:
    """Close every archive this process keeps open."""
    while _OPEN:
        _OPEN.popitem()[1].close()


def _locate(source: Source) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    archive = source.archive or ""
    if not source.chain:
        zf = _archive(archive, (), source.key)
        try:
            return zf, zf.getinfo(source.member or "")
        except KeyError as exc:
            raise CorruptFileError(source.key, "no such zip member") from exc
    zf = _archive(archive, source.chain[:-1], source.key)
    try:
        return zf, zf.infolist()[source.chain[-1]]
    except IndexError as exc:
        raise CorruptFileError(source.key, "no such zip member") from exc


# ------------------------------------------------------------ trees and hooks


@dataclass(frozen=True)
class TreeEntry:
    """One file of a folder or archive tree, as an export detector sees it."""

    name: str  # path inside the tree, "/"-separated; nested: "a/in.zip!b/c.fit"
    source: Source  # readable with .read() (bounded) or .open() (streamed)

    @property
    def key(self) -> str:
        """The key (label) ingest uses for this file."""
        return self.source.key


@dataclass
class ArchiveTree:
    """Every file under one folder or inside one zip archive (nested zips expanded)."""

    root: str  # absolute folder path or archive key
    kind: str  # "folder" | "zip"
    entries: list[TreeEntry] = field(default_factory=list)


@dataclass
class Detection:
    """What an export detector found in a tree."""

    #: source key -> RawActivity fields to set (name, gear, rpe, export_sport, ...)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: extra sources to read (e.g. ``Source(..., parser="mod:func")``)
    sources: list[Source] = field(default_factory=list)
    #: source keys to leave out silently (not activity data)
    quiet: set[str] = field(default_factory=set)
    #: files to report (NotAnActivityError is listed as skipped, others as errors)
    problems: list[ActivityFileError] = field(default_factory=list)


ExportDetector = Callable[[ArchiveTree], Detection | None]
_DETECTORS: list[ExportDetector] = []
_DETECTORS_LOADED = False


def register_export_detector(detector: ExportDetector) -> ExportDetector:
    """Add a detector called with every folder and archive tree (or decorate)."""
    if detector not in _DETECTORS:
        _DETECTORS.append(detector)
    return detector


def _detectors() -> list[ExportDetector]:
    """Registered detectors; ``kneeload.io.exports`` registers its own on import."""
    global _DETECTORS_LOADED
    if not _DETECTORS_LOADED:
        _DETECTORS_LOADED = True
        import importlib.util

        if importlib.util.find_spec("kneeload.io.exports") is not None:
            importlib.import_module("kneeload.io.exports")
    return _DETECTORS


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
            tree = ArchiveTree(str(path.absolute()), "folder")
            _walk(path, seen_dirs, tree, problems)
        elif path.exists():
            tree = _file_tree(path, problems)
        else:
            problems.append(CorruptFileError(str(path), "no such file or folder"))
            continue
        yield from _resolve(tree, problems)


def _resolve(tree: ArchiveTree, problems: list[ActivityFileError]) -> list[Source]:
    """The tree's activity sources after the export detectors had their say."""
    sources = [
        e.source
        for e in tree.entries
        if tree.kind == "file" or is_activity_name(e.source.member or e.name)
    ]
    detectors = _detectors() if tree.entries else []
    for detector in detectors:
        found = detector(tree)
        if found is None:
            continue
        problems.extend(found.problems)
        sources = [s for s in sources if s.key not in found.quiet]
        sources += found.sources
        if found.meta:
            sources = [
                dataclasses.replace(s, meta={**(s.meta or {}), **found.meta[s.key]})
                if s.key in found.meta
                else s
                for s in sources
            ]
    return sources


def _walk(
    folder: Path,
    seen_dirs: set[tuple[int, int]],
    tree: ArchiveTree,
    problems: list[ActivityFileError],
) -> None:
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
        # the folder's spellings once; each file's by joining its name (a name
        # holds no separator): the same keys as Path(root, name).absolute()
        here = Path(root)
        rel_dir = here.relative_to(folder).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        key_dir = str(here.absolute())
        key_dir += "" if key_dir.endswith(os.sep) else os.sep
        for name in sorted(files):
            if name.startswith("."):
                continue
            rel = rel_dir + name
            if name.lower().endswith(".zip"):
                sub = _file_tree(here / name, problems, prefix=rel)
                tree.entries += sub.entries
            else:
                key = key_dir + name
                try:
                    st = os.stat(key)  # noqa: PTH116 - a str key, no Path per file
                except OSError as exc:
                    problems.append(
                        CorruptFileError(
                            str(here / name), f"cannot read: {exc.strerror}"
                        )
                    )
                    continue
                source = Source(key, st.st_size, st.st_mtime_ns)
                tree.entries.append(TreeEntry(rel, source))


def _file_tree(
    path: Path, problems: list[ActivityFileError], prefix: str | None = None
) -> ArchiveTree:
    """The tree of one file: itself, or the members of the zip it is."""
    key = str(path.absolute())
    try:
        st = path.stat()
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        problems.append(CorruptFileError(key, f"cannot read: {exc.strerror}"))
        return ArchiveTree(key, "file")
    if head != ZIP_MAGIC:
        source = Source(key=key, size=st.st_size, mtime_ns=st.st_mtime_ns)
        return ArchiveTree(key, "file", [TreeEntry(prefix or path.name, source)])
    tree = ArchiveTree(key, "zip")
    budget = [MAX_TREE_BYTES]
    try:
        walk = _ZipWalk(key, st.st_mtime_ns, tree, budget, problems)
        _zip_entries(walk, (), key, prefix or "")
    except CorruptFileError as exc:
        problems.append(exc)
    return tree


@dataclass
class _ZipWalk:
    """What stays the same while one archive tree is walked, nested zips included."""

    archive: str
    mtime_ns: int
    tree: ArchiveTree
    budget: list[int]
    problems: list[ActivityFileError]


def _zip_entries(
    walk: _ZipWalk, chain: tuple[int, ...], label: str, prefix: str
) -> None:
    """Add every member of the zip at ``chain`` to the tree, nested zips expanded."""
    zf = _archive(walk.archive, chain, label)
    taken: set[str] = set()
    for index, info in enumerate(zf.infolist()):
        if info.is_dir():
            continue
        name = _unique(info.filename, taken)
        key = f"{label}{ZIP_SEPARATOR}{escape_controls(name)}"
        inner = f"{prefix}{ZIP_SEPARATOR}{name}" if prefix else name
        problem = member_problem(info)
        wanted = is_activity_name(info.filename)
        if problem is not None:
            if wanted:
                walk.problems.append(CorruptFileError(key, problem))
        elif info.filename.lower().endswith(".zip"):
            _nested_zip(walk, info, (*chain, index), key, inner)
        elif wanted and info.file_size > MAX_FILE_BYTES:
            walk.problems.append(UnsafeFileError(key, _too_big_member(info.file_size)))
        elif not wanted or _spend(walk.budget, info.file_size, key, walk.problems):
            source = Source(
                key=key,
                size=info.file_size,
                mtime_ns=walk.mtime_ns,
                archive=walk.archive,
                member=info.filename,
                crc=info.CRC,
                chain=(*chain, index),
            )
            walk.tree.entries.append(TreeEntry(inner, source))


def _nested_zip(
    walk: _ZipWalk, info: zipfile.ZipInfo, chain: tuple[int, ...], key: str, inner: str
) -> None:
    """Walk the member zip ``info`` (at ``chain``) unless too deep, big or costly."""
    if len(chain) > MAX_ZIP_NESTING:
        walk.problems.append(
            CorruptFileError(
                key, f"zip nested more than {MAX_ZIP_NESTING} levels deep: not read"
            )
        )
    elif info.file_size > MAX_NESTED_ZIP_BYTES:
        walk.problems.append(
            UnsafeFileError(
                key,
                f"nested zip inflates to {mib(info.file_size)} MiB, larger "
                f"than the {mib(MAX_NESTED_ZIP_BYTES)} MiB limit; refused",
            )
        )
    elif _spend(walk.budget, info.file_size, key, walk.problems):
        try:
            _zip_entries(walk, chain, key, inner)
        except CorruptFileError as exc:
            walk.problems.append(exc)


def _spend(
    budget: list[int], size: int, key: str, problems: list[ActivityFileError]
) -> bool:
    """Take ``size`` bytes from the tree's budget; False (and a problem) when spent."""
    if budget[0] < 0:
        return False  # already reported once for this tree
    if size > budget[0]:
        problems.append(
            UnsafeFileError(
                key,
                f"the archive inflates past {mib(MAX_TREE_BYTES)} MiB in total; "
                "this member and the rest are not read",
            )
        )
        budget[0] = -1
        return False
    budget[0] -= size
    return True


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name#2``, ``name#3``... when an earlier entry had that name."""
    label, n = name, 1
    while label in taken:
        n += 1
        label = f"{name}#{n}"
    taken.add(label)
    return label
