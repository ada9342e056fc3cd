"""Read activity files: sniff the format from the bytes, inflate gzip safely, dispatch.

Only ``fit.py``, ``gpx.py`` and ``tcx.py`` know file formats; this module decides
which one applies by magic bytes, never by extension (``.TCX.gz`` and ``.fit.gz``
exist in the wild with every capitalisation).
"""

from __future__ import annotations

import zlib
from pathlib import Path

from kneeload.errors import CorruptFileError, NotAnActivityError, UnsafeFileError
from kneeload.schema import RawActivity

#: The largest activity file kneeload reads, loose or after inflating gzip/zip.
#: Real ones are far smaller (24 h at 1 Hz is ~20 MB of GPX); parsing costs up to
#: ~4x the file in memory, so this keeps two workers well under 1 GiB, and it
#: cuts decompression bombs off early.
MAX_FILE_BYTES = 64 * 1024 * 1024

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def sniff(data: bytes) -> str:
    """Name the format of ``data``: fit, gpx, tcx, gzip, zip or unknown."""
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):
        if b"<gpx" in head:
            return "gpx"
        if b"<trainingcenterdatabase" in head or b"<activities" in head:
            return "tcx"  # a bare <Activities> root is a damaged TCX export
    return "unknown"


def gunzip_bounded(data: bytes, name: str, limit: int | None = None) -> bytes:
    """Inflate a gzip stream, refusing one that would grow past ``limit`` bytes."""
    limit = MAX_FILE_BYTES if limit is None else limit
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise CorruptFileError(name, f"not a valid gzip stream ({exc})") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise UnsafeFileError(name, f"gzip content inflates past {mib(limit)} MiB")
    if not inflater.eof:
        raise CorruptFileError(name, "gzip stream is truncated")
    return out


def mib(size: int) -> str:
    """``size`` in MiB as people read it: "64" when exact, else "64.3" (never a
    rounding that hides the difference from a whole number)."""
    if size % 2**20 == 0:
        return str(size // 2**20)
    for digits in range(1, 7):
        text = f"{size / 2**20:.{digits}f}"
        if float(text) != round(size / 2**20):
            return text
    return f"{size / 2**20:.7f}"


def too_big(size: int, limit: int | None = None) -> str:
    """The reason given for a file over the size limit, with exact numbers."""
    limit = MAX_FILE_BYTES if limit is None else limit
    return (
        f"{mib(size)} MiB is larger than the {mib(limit)} MiB limit "
        "for an activity file; refused"
    )


def parse_bytes(data: bytes, name: str) -> list[RawActivity]:
    """Parse one file's bytes (plain or gzip) into its activities."""
    if not data:
        raise CorruptFileError(name, "empty file")
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeFileError(name, too_big(len(data)))
    kind = sniff(data)
    if kind == "gzip":
        data = gunzip_bounded(data, name)
        kind = sniff(data)
        if kind in ("gzip", "zip"):
            raise CorruptFileError(name, f"nested {kind} inside gzip is not supported")
    if kind == "fit":
        from kneeload.io.fit import parse_fit

        return parse_fit(data, name)
    if kind == "gpx":
        from kneeload.io.gpx import parse_gpx

        return parse_gpx(data, name)
    if kind == "tcx":
        from kneeload.io.tcx import parse_tcx

        return parse_tcx(data, name)
    if kind == "zip":
        raise NotAnActivityError(name, "zip archive: pass it to ingest, not parse")
    raise CorruptFileError(name, "not a FIT, GPX or TCX file")


def read_path(path: str | Path) -> list[RawActivity]:
    """Read and parse one file from disk (never modified)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptFileError(str(path), f"cannot read: {exc.strerror}") from exc
    return parse_bytes(data, str(path))
