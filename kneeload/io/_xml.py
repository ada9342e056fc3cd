"""Safe XML reading shared by the GPX and TCX readers.

Fast path: ElementTree ``iterparse`` fed "end" events, so the readers can clear
elements as they go. Entities can only be declared inside a ``<!DOCTYPE>``, so a
document in an ASCII-compatible encoding without that keyword goes through the
stdlib C parser (defusedxml's parser is the pure-Python ElementTree one, about
4x slower); any document that has a DOCTYPE, or whose encoding would hide one
from a byte search, goes through defusedxml's ``iterparse``, which refuses
entity declarations and external references. Only when that strict parser rejects the
bytes as malformed do we re-read them with lxml in recover mode (entities never
resolved, no network, no DTD loading, no huge trees) and walk the recovered tree
with the same handler.

Recovery policy: a recovered file always gets a note. It is marked *partial*
only when the parser reported an error that can lose data (truncation, a broken
tag); the two harmless defects seen in real exports -- an undeclared namespace
prefix on an attribute and whitespace before the XML declaration -- lose
nothing, so they only produce the note.
"""

from __future__ import annotations

import codecs
import functools
import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import defusedxml
import defusedxml.ElementTree
import numpy as np
import pandas as pd
from lxml import etree

from kneeload.errors import CorruptFileError, UnsafeFileError
from kneeload.geo import step_haversine_m

#: lxml error types that drop no data: an undeclared prefix on an attribute name,
#: and an XML declaration preceded by whitespace.
HARMLESS_ERRORS = frozenset({"NS_ERR_UNDEFINED_NAMESPACE", "ERR_RESERVED_XML_NAME"})

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENCODING_DECL = re.compile(rb"""^[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
_DECL_ENCODING = re.compile(r"""(^\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""")
_ASCII_SUPERSETS = frozenset(
    {b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1", b"latin1"}
)
#: ISO 8601 texts whose year pandas can hold (1678-2261; the edge years are
#: only partly representable, so they are left out)
_SAFE_YEAR = re.compile(
    r"\s*(?:1(?:6(?:79|[89]\d)|[7-9]\d\d)|2(?:[01]\d\d|2[0-5]\d|260))-"
)
_WIDE_BOMS = (b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")


class Handler(Protocol):
    """Receives every element once it is complete (an iterparse "end" event)."""

    def end(self, elem: Any) -> None:
        """Consume one finished element."""


H = TypeVar("H", bound=Handler)


@dataclass
class Recovery:
    """What the recovering parser had to do; ``lost`` means data may be missing."""

    messages: list[str] = field(default_factory=list)
    lost: bool = False
    recovered: bool = True  # False: only re-encoded (an encoding expat cannot use)

    def note(self) -> str:
        """One line for RawActivity.notes."""
        first = self.messages[0] if self.messages else "unknown error"
        if not self.recovered:
            return first
        return f"malformed XML read in recover mode ({first})"

    def partial(self) -> str | None:
        """The RawActivity.partial reason, or None when nothing was lost."""
        if not self.lost:
            return None
        first = self.messages[0]
        return f"XML damaged or truncated; data after the damage is lost ({first})"


@functools.lru_cache(maxsize=512)
def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name`` (namespace prefixes are never trusted)."""
    return tag[tag.rfind("}") + 1 :]


def read_xml(
    data: bytes, name: str, make_handler: type[H], *, transcode: bool = True
) -> tuple[H, Recovery | None]:
    """Feed every element of ``data`` to a fresh handler; recover when malformed.

    ``transcode=False`` is the second pass of a document already re-encoded as
    UTF-8 (see ``_read_transcoded``): it never transcodes again.
    """
    handler = make_handler()
    iterparse = (
        ET.iterparse if plainly_without_dtd(data) else defusedxml.ElementTree.iterparse
    )
    events = iterparse(io.BytesIO(data), events=("end",))
    while True:
        # only the parser runs inside the try: a handler bug is never taken for
        # a property of the file
        try:
            _event, elem = next(events)
        except StopIteration:
            break
        except defusedxml.EntitiesForbidden as exc:
            raise UnsafeFileError(
                name,
                "XML entity declarations are refused (possible entity-expansion bomb)",
            ) from exc
        except defusedxml.ExternalReferenceForbidden as exc:
            raise UnsafeFileError(
                name, "XML external entity references are refused"
            ) from exc
        except defusedxml.DefusedXmlException as exc:
            raise UnsafeFileError(
                name, f"unsafe XML construct refused ({exc})"
            ) from exc
        except ET.ParseError:
            return _read_recovering(data, name, make_handler)
        except (LookupError, ValueError) as exc:
            # expat knows only single-byte encodings besides UTF-8/16: an unknown
            # or multi-byte declaration (Shift_JIS, UTF-32...) is decoded here
            if not transcode:
                raise CorruptFileError(name, f"not readable XML ({exc})") from exc
            return _read_transcoded(data, name, make_handler)
        handler.end(elem)
    return handler, None


def _read_transcoded(
    data: bytes, name: str, make_handler: type[H]
) -> tuple[H, Recovery | None]:
    """Read a document whose declared encoding expat cannot use, as UTF-8."""
    declared = _ENCODING_DECL.search(data[:256])
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    if data.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        encoding = "utf-32"
    try:
        codecs.lookup(encoding)
        text, how = data.decode(encoding, errors="replace"), f"decoded as {encoding}"
    except LookupError:
        text = data.decode("utf-8", errors="replace")
        how = f"unknown encoding {encoding!r}, read as UTF-8"
    text = _DECL_ENCODING.sub(r"\1utf-8\2", text.lstrip("\ufeff"), count=1)
    handler, recovery = read_xml(
        text.encode("utf-8"), name, make_handler, transcode=False
    )
    recovery = recovery or Recovery(recovered=False)
    recovery.messages.insert(0, f"declared encoding: {how}")
    return handler, recovery


def plainly_without_dtd(data: bytes) -> bool:
    """True when a byte search proves the document declares no DTD (so no entities)."""
    head = data[:256]
    if head.startswith(_WIDE_BOMS) or b"\x00" in head:
        return False  # UTF-16/32: the keyword would not show up as ASCII bytes
    declared = _ENCODING_DECL.search(head)
    if declared and declared.group(1).lower() not in _ASCII_SUPERSETS:
        return False
    return b"<!DOCTYPE" not in data


def _read_recovering(
    data: bytes, name: str, make_handler: type[H]
) -> tuple[H, Recovery | None]:
    """Re-read malformed XML with lxml's recovering parser, never resolving entities."""
    if _ENTITY_DECL.search(data):
        raise UnsafeFileError(
            name, "XML entity declarations are refused (possible entity-expansion bomb)"
        )
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptFileError(name, f"not readable XML ({exc})") from exc
    if root is None:
        raise CorruptFileError(name, "not readable XML (nothing recoverable)")
    recovery = Recovery()
    for err in parser.error_log:
        recovery.messages.append(f"line {err.line}: {err.message.strip()}")
        recovery.lost |= err.type_name not in HARMLESS_ERRORS
    handler = make_handler()
    for _event, elem in etree.iterwalk(root, events=("end",)):
        if isinstance(elem.tag, str):  # skip comments and processing instructions
            handler.end(elem)
    return handler, recovery


def child_text(elem: Any, local: str) -> str | None:
    """Text of the first direct child whose local name is ``local``."""
    for child in elem:
        tag = child.tag
        if isinstance(tag, str) and local_name(tag) == local:
            return child.text
    return None


def value_text(elem: Any | None) -> str | None:
    """Text of the ``<Value>`` child of a TCX heart-rate element."""
    return None if elem is None else child_text(elem, "Value")


def to_float(text: str | None) -> float:
    """Parse a number from XML text; NaN when absent or not a number."""
    if text is None:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def floats(values: Iterable[str | None] | np.ndarray) -> np.ndarray:
    """Vector of float64 from XML texts (None or junk -> NaN)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    return np.fromiter((to_float(v) for v in values), dtype=np.float64)


def epoch_seconds(values: list[str | None]) -> np.ndarray:
    """ISO 8601 texts (``Z`` or offsets) -> UTC epoch seconds; unparsable -> NaN.

    Years pandas cannot hold (before 1677 or after 2262) are NaN too: they are
    no moment a runner ran (RULES §1.5 drops them later anyway).
    """
    if not values:
        return np.empty(0, dtype=np.float64)
    try:
        return _epoch(values)
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
        pass
    kept = [v if v is not None and _SAFE_YEAR.match(v) else None for v in values]
    try:
        return _epoch(kept)
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
        return np.array([_epoch_one(v) for v in kept], dtype=np.float64)


def _epoch(values: list[str | None]) -> np.ndarray:
    stamps = pd.to_datetime(
        pd.Series(values, dtype=object), utc=True, format="ISO8601", errors="coerce"
    )
    # pandas keeps the unit it parsed (s, ms, us or ns); microseconds hold
    # every year pandas accepts without overflowing
    us = stamps.dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    out = us.view(np.int64).astype(np.float64) / 1e6
    out[np.isnat(us)] = math.nan
    return out


def _epoch_one(value: str | None) -> float:
    if value is None:
        return math.nan
    try:
        return float(_epoch([value])[0])
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
        return math.nan


def first_last(values: np.ndarray) -> tuple[float, float] | None:
    """First and last finite value in file order, or None when there is none."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite[0]), float(finite[-1])


def add_column(samples: dict[str, np.ndarray], key: str, values: np.ndarray) -> None:
    """Store a sample column unless the file never had a value for it."""
    if values.size and np.isfinite(values).any():
        samples[key] = values


def cumulative_distance(
    lat: np.ndarray, lon: np.ndarray, segment: np.ndarray
) -> np.ndarray:
    """Cumulative haversine distance, never adding a step across a segment break.

    Points without a position keep the distance reached so far (NaN before the
    first positioned point). The steps come from :func:`kneeload.geo.step_haversine_m`.
    """
    out = np.full(lat.shape, math.nan)
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if ok.size == 0:
        return out
    steps = step_haversine_m(lat[ok], lon[ok], segment[ok])
    out[ok] = np.concatenate(([0.0], np.cumsum(steps[:-1])))
    # carry the last known distance over points without a position
    idx = np.where(np.isfinite(out), np.arange(out.size), -1)
    np.maximum.accumulate(idx, out=idx)
    return np.where(idx >= 0, out[np.maximum(idx, 0)], math.nan)


def speed_from_distance(
    dist: np.ndarray, time_s: np.ndarray, segment: np.ndarray
) -> np.ndarray:
    """Backward-difference speed (m/s); NaN at segment starts and where time is
    unknown or not increasing."""
    out = np.full(dist.shape, math.nan)
    if dist.size < 2:
        return out
    dt = np.diff(time_s)
    dd = np.diff(dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(dt > 0, dd / dt, math.nan)
    v[segment[1:] != segment[:-1]] = math.nan
    out[1:] = v
    return out
