"""Ingest: find files, skip the unchanged ones, parse the rest (in parallel), store.

The expensive part (decoding, summarising, compressing samples) runs in worker
processes that hand back compact results: one summary row and one compressed
samples blob per activity. The main process alone writes to the store, one
transaction per batch, so an interrupted run loses at most the batch in flight
and a re-run completes it.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import time
import traceback
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kneeload.errors import ActivityFileError, NotAnActivityError
from kneeload.io import parse_bytes
from kneeload.io.sources import Source, close_archives, escape_controls, iter_sources
from kneeload.schema import RawActivity
from kneeload.store import (
    FileRecord,
    FileResult,
    ParsedActivity,
    Store,
    encode_samples,
    finish_activity,
)
from kneeload.workers import die_with_parent

#: Below this many files to parse, a process pool costs more than it saves.
MIN_FILES_FOR_POOL = 24
#: A batch is committed after this many files or this many seconds.
BATCH_FILES = 50
BATCH_SECONDS = 1.0
WORKER_DIED = (
    "the reader process died while reading this file (out of memory, or a crash "
    "inside a parsing library)"
)


@dataclass
class ReadResult(FileResult):
    """A worker's ``FileResult`` plus the traceback of an unexpected failure."""

    traceback: str | None = None


@dataclass
class IngestReport:
    """What one ingest run did: counts and every file it could not fully use."""

    files_seen: int = 0
    ingested: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    partial: list[tuple[str, str]] = field(default_factory=list)
    #: activities kept but marked implausible (RULES §1.5): (key, reason)
    suspect: list[tuple[str, str]] = field(default_factory=list)
    #: key -> formatted traceback of a failure kneeload did not expect (for ``-v``)
    tracebacks: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``ingest --json`` document of INTERFACE.md."""
        return {
            "files_seen": self.files_seen,
            "ingested": self.ingested,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "errors": [{"path": p, "error": r} for p, r in self.errors],
            "partial": [{"path": p, "reason": r} for p, r in self.partial],
            "suspect": [{"path": p, "reason": r} for p, r in self.suspect],
        }


def read_source(
    source: Source, known_sha: str | None, default_tz: str | None
) -> ReadResult:
    """Read, parse and summarise one file; never raises for any file.

    A failure kneeload did not foresee (a reader bug, a library raising on odd
    bytes) becomes that file's error, naming the exception, with the traceback
    kept for ``-v``: one file can never stop the run.
    """
    try:
        return _read_source(source, known_sha, default_tz)
    except Exception as exc:  # the per-file firewall, see the docstring
        return ReadResult(
            key=source.key,
            size=source.size,
            mtime_ns=source.mtime_ns,
            sha256=None,
            status="error",
            reason=f"could not be read ({type(exc).__name__}: {exc})",
            traceback=traceback.format_exc(),
        )


def _read_source(
    source: Source, known_sha: str | None, default_tz: str | None
) -> ReadResult:
    from kneeload.summary import split_clock_jumps, summarise

    def result(status: str, sha: str | None, reason: str | None = None) -> ReadResult:
        return ReadResult(
            key=source.key,
            size=source.size,
            mtime_ns=source.mtime_ns,
            sha256=sha,
            status=status,
            reason=reason,
        )

    try:
        if source.parser is not None:
            if known_sha is not None and _sha256_of(source) == known_sha:
                return result("unchanged", known_sha)  # touched, same bytes
            sha, raws = _parse_with(source)
        else:
            data = source.read()
            sha = hashlib.sha256(data).hexdigest()
            if sha == known_sha:
                return result("unchanged", sha)
            raws = parse_bytes(data, source.key)
    except NotAnActivityError as exc:
        return result("skipped", None, exc.reason)
    except ActivityFileError as exc:
        return result("error", None, exc.reason)
    parsed, reasons = [], []
    for raw in (part for whole in raws for part in split_clock_jumps(whole)):
        for name, value in (source.meta or {}).items():
            if hasattr(raw, name):
                setattr(raw, name, value)
        try:
            activity, samples = summarise(raw, source.key, default_tz=default_tz)
        except NotAnActivityError as exc:
            reasons.append(exc.reason)
            continue
        finish_activity(activity, raw, samples, now_utc=time.time())  # store's hook
        activity.id = hashlib.sha256(f"{sha}:{raw.index}".encode()).hexdigest()[:16]
        parsed.append(ParsedActivity(activity, encode_samples(samples)))
    if not parsed:
        reason = "; ".join(dict.fromkeys(reasons)) or "no activity in the file"
        return result("skipped", sha, reason)
    partial = [p.activity.partial for p in parsed if p.activity.partial]
    out = result("partial" if partial else "ingested", sha)
    out.reason = "; ".join(dict.fromkeys(partial)) if partial else None
    out.activities = parsed
    return out


def _parse_with(source: Source) -> tuple[str, list[RawActivity]]:
    """(sha256, activities) of a source read by its own parser (export hook).

    The parser reads the one stream opened here, hashed as it is read: a
    zipped ``export.xml`` of several GB is inflated once, not once to hash and
    once to parse.
    """
    module, _, name = (source.parser or "").partition(":")
    parser = getattr(importlib.import_module(module), name)
    with source.open() as fh:
        stream = HashingReader(fh)
        raws = list(parser(source, stream))
        stream.drain()  # what the parser left unread still counts
    return stream.hexdigest(), raws


class HashingReader:
    """A binary stream that feeds every byte read through it to SHA-256."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        """Read like the underlying stream, hashing what is returned."""
        data = self._raw.read(size)
        self._digest.update(data)
        return data

    def drain(self) -> None:
        """Hash the rest of the stream (up to damage the parser already met)."""
        try:
            while self.read(2**20):
                pass
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            pass  # the parser said what the damage cost; the hash is of what was read

    def hexdigest(self) -> str:
        """SHA-256 of everything read so far."""
        return self._digest.hexdigest()


def _sha256_of(source: Source) -> str:
    """SHA-256 of a source's whole content, streamed."""
    with source.open() as fh:
        stream = HashingReader(fh)
        stream.drain()
    return stream.hexdigest()


def _read_star(args: tuple[Source, str | None, str | None]) -> ReadResult:
    return read_source(*args)


_Todo = tuple[Source, str | None, str | None]  # (source, known SHA-256, default tz)


def ingest(
    paths: Iterable[str | Path],
    store: Store,
    *,
    default_tz: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Bring every activity file under ``paths`` into ``store``, incrementally."""
    report = IngestReport()
    problems: list[ActivityFileError] = []
    try:
        sources = list(iter_sources([Path(p) for p in paths], problems))
    except BaseException:
        close_archives()
        raise
    for problem in problems:
        _note_problem(report, problem)
    report.files_seen = len(sources) + len(problems)
    _store_export_meta(store, sources)
    todo = _changed(sources, store.file_index(), report, default_tz)
    # archives and folders that could not be opened are kept too, so the report's
    # files section can list them (a broken export must not vanish silently)
    batch: list[FileResult] = [
        _problem_result(p) for p in problems if not isinstance(p, NotAnActivityError)
    ]
    _read_and_commit(store, todo, batch, report, workers, progress)
    return report


def _changed(
    sources: list[Source],
    index: dict[str, FileRecord],
    report: IngestReport,
    default_tz: str | None,
) -> list[_Todo]:
    """The sources to read (new, changed or failed before); counts the unchanged."""
    todo: list[_Todo] = []
    for source in sources:
        known = index.get(source.key)
        if (
            known is not None
            and known.status != "error"
            and (known.size, known.mtime_ns) == (source.size, source.mtime_ns)
        ):
            report.unchanged += 1
        else:
            # a file that failed before is re-read even if unchanged: a newer
            # kneeload may read it now, and its error is reported again
            # a file whose size changed cannot have the same bytes: no hash to
            # compare, so an export parser reads (and hashes) it in one pass
            retry = known is None or known.status == "error"
            resized = known is not None and known.size != source.size
            known_sha = None if retry or resized or known is None else known.sha256
            todo.append((source, known_sha, default_tz))
    return todo


def _read_and_commit(
    store: Store,
    todo: list[_Todo],
    batch: list[FileResult],
    report: IngestReport,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Read ``todo`` and write the results in batches; archives closed at the end."""
    started = time.monotonic()
    results = _run(todo, workers)
    try:
        for done, result in enumerate(results, start=1):
            _note_result(report, result)
            batch.append(result)
            if len(batch) >= BATCH_FILES or time.monotonic() - started > BATCH_SECONDS:
                _commit(store, batch, report)
                batch, started = [], time.monotonic()
            if progress is not None:
                progress(done, len(todo))
        _commit(store, batch, report)
    finally:
        results.close()  # a failed write (disk full) cancels the files not started
        close_archives()


#: ``Source.meta`` keys kept per file in the store's export metadata (contract 2).
_EXPORT_META = {"name": "name", "gear": "gear", "rpe": "rpe", "sport": "export_sport"}


def _store_export_meta(store: Store, sources: list[Source]) -> None:
    """Keep each file's export metadata, also for unchanged files.

    A newer export that renames an activity (or changes its gear, RPE or type)
    updates the store without the file being read again.
    """
    rows = []
    for source in sources:
        meta = source.meta or {}
        row = {col: meta.get(key) for col, key in _EXPORT_META.items()}
        if any(v is not None for v in row.values()):
            rows.append({"key": source.key, **row})
    if rows:
        store.upsert_export_meta(rows)


def _run(
    todo: list[tuple[Source, str | None, str | None]], workers: int | None
) -> Generator[ReadResult, None, None]:
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(todo) < MIN_FILES_FOR_POOL:
        yield from map(_read_star, todo)
        return
    chunk = max(1, min(16, len(todo) // (workers * 8)))
    done = 0
    try:
        with _pool(workers) as pool:
            for result in pool.map(_read_star, todo, chunksize=chunk):
                done += 1
                yield result
    except BrokenProcessPool:
        # a worker died (out of memory, a crash inside a parsing library): the
        # files not reported yet are read one per process, so the one that
        # kills its reader is named and the rest still get in
        yield from _isolated(todo[done:])


def _pool(workers: int) -> ProcessPoolExecutor:
    # workers end with a killed parent (store's hook, kneeload.workers)
    return ProcessPoolExecutor(
        max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
    )


def _isolated(
    todo: list[tuple[Source, str | None, str | None]],
) -> Generator[ReadResult, None, None]:
    """Read each file in a one-worker pool; a file whose reader dies is its error."""
    pool = _pool(1)
    try:
        for item in todo:
            try:
                result = pool.submit(_read_star, item).result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                pool = _pool(1)
                source = item[0]
                result = ReadResult(
                    key=source.key,
                    size=source.size,
                    mtime_ns=source.mtime_ns,
                    sha256=None,
                    status="error",
                    reason=WORKER_DIED,
                )
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _commit(store: Store, batch: list[FileResult], report: IngestReport) -> None:
    if batch:
        outcome = store.write_batch(batch)
        report.ingested += outcome.ingested
        report.duplicates += outcome.duplicates


def _note_result(report: IngestReport, result: ReadResult) -> None:
    key, reason = escape_controls(result.key), escape_controls(result.reason or "")
    if result.status == "unchanged":
        report.unchanged += 1
    elif result.status == "skipped":
        report.skipped.append((key, reason))
    elif result.status == "error":
        report.errors.append((key, reason))
    elif result.status == "partial":
        report.partial.append((key, reason))
    if result.traceback:
        report.tracebacks[key] = result.traceback
    for parsed in result.activities:
        suspect = getattr(parsed.activity, "suspect", None)
        if suspect:
            report.suspect.append((key, escape_controls(suspect)))


def _problem_result(problem: ActivityFileError) -> FileResult:
    """An archive or folder that could not be opened, as an ``error`` file row."""
    try:
        st = Path(problem.path.split("!")[0]).stat()
        size, mtime_ns = st.st_size, st.st_mtime_ns
    except OSError:
        size, mtime_ns = 0, 0
    return FileResult(problem.path, size, mtime_ns, None, "error", problem.reason)


def _note_problem(report: IngestReport, problem: ActivityFileError) -> None:
    entry = (escape_controls(problem.path), escape_controls(problem.reason))
    if isinstance(problem, NotAnActivityError):
        report.skipped.append(entry)
    else:
        report.errors.append(entry)
