"""A seeded mutator over real activity files, for the reader fuzz test and script.

Not runtime API. Every mutant is rebuilt from ``(seed, index)`` alone: the same
corpus folder, seed and index give the same bytes, so a failure names what to
rebuild (``scripts/fuzz_readers.py --seed S --index I --write mutant.bin``).

Kinds: ``fit``, ``fit.gz``, ``gpx``, ``tcx``, ``tcx.gz``. A ``.gz`` mutant is
either the gzip of a mutated file or a mutated gzip stream. Operators: bit
flips, truncation, inserted/deleted/duplicated runs, chained copies, edited FIT
definition messages, and odd XML (encodings, DOCTYPEs and entities, positions
off the globe, years pandas cannot hold, sensor sentinels, clocks going back,
control characters, broken tags).
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kneeload.errors import ActivityFileError, NotAnActivityError
from kneeload.io import parse_bytes
from kneeload.summary import split_clock_jumps, summarise

KINDS = ("fit", "fit.gz", "gpx", "tcx", "tcx.gz")


@dataclass(frozen=True)
class Base:
    """One real file of the corpus, inflated."""

    name: str
    kind: str  # "fit" | "gpx" | "tcx"
    data: bytes
    gzipped: bytes | None  # the real .gz bytes, when the file came gzipped


@dataclass(frozen=True)
class Mutant:
    """One mutated file and how it was made."""

    seed: int
    index: int
    kind: str
    base: str
    how: tuple[str, ...]
    data: bytes

    @property
    def name(self) -> str:
        """A file name with the kind's suffix (the readers sniff bytes anyway)."""
        return f"mutant-{self.seed}-{self.index}.{self.kind}"


#: Closing tags that make a cut-down GPX/TCX whole again.
_CLOSE = {
    "gpx": (b"</trkpt>", b"</trkseg></trk></gpx>"),
    "tcx": (
        b"</Trackpoint>",
        b"</Track></Lap></Activity></Activities></TrainingCenterDatabase>",
    ),
}


def load_corpus(
    folder: Path, max_bytes: dict[str, int] | None = None
) -> dict[str, list[Base]]:
    """The FIT, GPX and TCX files of ``folder`` (inflated), by kind, sorted by name.

    ``max_bytes`` (per kind) keeps the suite fast: a larger FIT file is left
    out, a larger GPX/TCX is cut after its last whole track point below the
    limit and closed again (still the real file's bytes, just fewer points).
    """
    out: dict[str, list[Base]] = {"fit": [], "gpx": [], "tcx": []}
    for path in sorted(folder.iterdir()):
        lower = path.name.lower()
        raw = path.read_bytes()
        gz = lower.endswith(".gz")
        data = gzip.decompress(raw) if gz else raw
        kind = lower.removesuffix(".gz").rsplit(".", 1)[-1]
        if kind not in out:
            continue
        limit = (max_bytes or {}).get(kind)
        if limit is not None and len(data) > limit:
            if kind == "fit":
                continue
            end, close = _CLOSE[kind]
            cut = data.rfind(end, 0, limit)
            if cut < 0:
                continue
            data, raw, gz = data[: cut + len(end)] + close, b"", False
        out[kind].append(Base(path.name, kind, data, raw if gz else None))
    return out


def make_mutant(corpus: dict[str, list[Base]], seed: int, index: int) -> Mutant:
    """Mutant number ``index`` of ``seed`` (deterministic)."""
    rng = random.Random(f"{seed}:{index}")
    kinds = [k for k in KINDS if corpus[k.removesuffix(".gz")]]
    kind = kinds[index % len(kinds)]
    plain = kind.removesuffix(".gz")
    base = rng.choice(corpus[plain])
    how: list[str] = []
    if kind.endswith(".gz") and rng.random() < 0.3:
        stream = base.gzipped or gzip.compress(base.data, compresslevel=1, mtime=0)
        data = _apply(rng, _BYTE_OPS, stream, how, rng.randint(1, 2))
        return Mutant(seed, index, kind, base.name, (*how, "on the gzip"), data)
    ops = _BYTE_OPS + (_FIT_OPS if plain == "fit" else _XML_OPS * 2)
    data = _apply(rng, ops, base.data, how, rng.randint(1, 3))
    if kind.endswith(".gz"):
        data = gzip.compress(data, compresslevel=1, mtime=0)
    return Mutant(seed, index, kind, base.name, tuple(how), data)


def outcome(mutant: Mutant) -> str:
    """What the per-file reader makes of a mutant: activity, partial, suspect,
    skipped or error, each with its reason. Raises if the reader does anything
    else (an exception that is not a named ``ActivityFileError``)."""
    name = mutant.name
    try:
        raws = parse_bytes(mutant.data, name)
    except NotAnActivityError as exc:
        return _named("skipped", exc)
    except ActivityFileError as exc:
        return _named("error", exc)
    results = []
    for raw in (part for whole in raws for part in split_clock_jumps(whole)):
        try:
            activity, _ = summarise(raw, name)
        except NotAnActivityError as exc:
            results.append(_named("skipped", exc))
            continue
        if not np.isfinite(activity.start_utc):
            raise AssertionError(f"{name}: activity without a start time")
        if activity.suspect:
            results.append(f"suspect: {activity.suspect}")
        elif activity.partial:
            results.append(f"partial: {activity.partial}")
        else:
            results.append("activity")
    if not results:
        raise AssertionError(f"{name}: no activity and no reason")
    return results[0] if len(results) == 1 else f"{len(results)} activities"


def _named(status: str, exc: ActivityFileError) -> str:
    if not exc.reason:
        raise AssertionError(f"{exc.path}: {status} without a reason")
    return f"{status}: {exc.reason}"


Op = Callable[[random.Random, bytes], tuple[bytes, str]]


def _apply(
    rng: random.Random, ops: tuple[Op, ...], data: bytes, how: list[str], n: int
) -> bytes:
    for _ in range(n):
        data, what = rng.choice(ops)(rng, data)
        how.append(what)
    return data


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _bit_flips(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    if not data:
        return data, "bit flips (empty)"
    out = bytearray(data)
    n = rng.randint(1, 16)
    for _ in range(n):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out), f"{n} bit flips"


def _truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = _pos(rng, data)
    return data[:at], f"truncated at {at}"


def _insert_run(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at, n = _pos(rng, data), rng.randint(1, 256)
    run = rng.randbytes(n) if rng.random() < 0.5 else bytes([rng.randrange(256)]) * n
    return data[:at] + run + data[at:], f"inserted {n} bytes at {at}"


def _delete_run(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at, n = _pos(rng, data), rng.randint(1, 256)
    return data[:at] + data[at + n :], f"deleted {n} bytes at {at}"


def _duplicate_run(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    src, dst, n = _pos(rng, data), _pos(rng, data), rng.randint(1, 2048)
    return data[:dst] + data[src : src + n] + data[dst:], f"copied {n} bytes"


def _chain(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    cut = _pos(rng, data)
    if rng.random() < 0.5:
        return data + data[:cut], f"chained a {cut}-byte prefix"
    return data[cut:] + data, f"prefixed a {len(data) - cut}-byte suffix"


_BYTE_OPS: tuple[Op, ...] = (
    _bit_flips,
    _truncate,
    _insert_run,
    _delete_run,
    _duplicate_run,
    _chain,
)


def _definitions(data: bytes) -> list[int]:
    """Likely FIT definition message offsets: header 0x4n, reserved 0, arch 0/1."""
    return [
        m.start()
        for m in re.finditer(rb"[\x40-\x4f\x60-\x6f]\x00[\x00\x01]", data[: 1 << 16])
    ]


def _edit_definition(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    spots = _definitions(data)
    if not spots:
        return _bit_flips(rng, data)
    at = rng.choice(spots)
    out = bytearray(data)
    n_fields = out[at + 5] if at + 5 < len(out) else 0
    choice = rng.randrange(5)
    if choice == 0 and at + 4 < len(out):  # global message number
        out[at + 3 + rng.randrange(2)] = rng.randrange(256)
        what = "global number"
    elif choice == 1 and at + 5 < len(out):  # number of fields
        out[at + 5] = rng.randrange(256)
        what = "field count"
    elif choice == 2 and n_fields and at + 6 + 3 * n_fields <= len(out):
        field = at + 6 + 3 * rng.randrange(n_fields)
        out[field + 1] = rng.choice([0, 1, 3, 7, 255, rng.randrange(256)])  # size
        what = "field size"
    elif choice == 3 and n_fields and at + 6 + 3 * n_fields <= len(out):
        field = at + 6 + 3 * rng.randrange(n_fields)
        out[field + 2] = rng.randrange(256)  # base type
        what = "base type"
    else:  # developer-data flag on the header
        out[at] |= 0x20
        what = "developer flag"
    return bytes(out), f"definition at {at}: {what}"


_FIT_OPS: tuple[Op, ...] = (_edit_definition, _edit_definition)

_ENCODINGS = (
    "no-such-codec",
    "Shift_JIS",
    "UTF-32",
    "UTF-16",
    "EUC-JP",
    "cp1252",
    "x" * 60,
    "",
)


def _encoding(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    enc = rng.choice(_ENCODINGS)
    decl = f'<?xml version="1.0" encoding="{enc}"?>'.encode()
    body = re.sub(rb"^\s*(\xef\xbb\xbf)?<\?xml[^>]*\?>", b"", data, count=1)
    return decl + body, f"encoding {enc!r}"


def _doctype(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kinds = [
        b"<!DOCTYPE gpx>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]>',
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        b"<!DOCTYPE x [<!ELEMENT a ANY><!ATTLIST a b CDATA #IMPLIED>]>",
    ]
    doc = rng.choice(kinds)
    m = re.search(rb"\?>", data[:512])
    at = m.end() if m else 0
    return data[:at] + doc + data[at:], f"doctype {doc[:24]!r}"


def _replace_numbers(
    rng: random.Random, data: bytes, pattern: bytes, values: list[bytes], what: str
) -> tuple[bytes, str]:
    hits = list(re.finditer(pattern, data))
    if not hits:
        return _bit_flips(rng, data)
    chosen = rng.sample(hits, min(len(hits), rng.choice([1, 1, 3, len(hits)])))
    out = bytearray(data)
    for m in sorted(chosen, key=lambda m: -m.start(1)):
        out[m.start(1) : m.end(1)] = rng.choice(values)
    return bytes(out), f"{what} x{len(chosen)}"


def _positions(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    pattern = rng.choice(
        [rb'lat="([^"]*)"', rb'lon="([^"]*)"', rb"<LatitudeDegrees>([^<]*)<"]
    )
    values = [b"91", b"-90.5", b"181", b"-200", b"0", b"1e308", b"nan", b"inf", b""]
    return _replace_numbers(rng, data, pattern, values, "positions")


def _years(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    values = [b"0001", b"1500", b"1677", b"1970", b"2262", b"3000", b"9999", b"99999"]
    pattern = rb"(?:<[Tt]ime>|StartTime=\"|<Id>)(\d{4})-"
    return _replace_numbers(rng, data, pattern, values, "years")


def _sentinels(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    pattern = rng.choice(
        [rb"<Value>(\d+)<", rb"hr>(\d+)<", rb"<Cadence>(\d+)<", rb"<ele>([^<]+)<"]
    )
    values = [b"0", b"255", b"999", b"-1", b"65535", b"1e400", b"9000000"]
    return _replace_numbers(rng, data, pattern, values, "sensor values")


def _clock_back(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    times = list(re.finditer(rb"<[Tt]ime>([^<]{10,40})<", data))
    if len(times) < 4:
        return _bit_flips(rng, data)
    a, b = sorted(rng.sample(range(len(times)), 2))
    out = bytearray(data)
    late, early = times[b], times[a]
    out[late.start(1) : late.end(1)] = early.group(1)
    return bytes(out), "clock back"


def _controls(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = _pos(rng, data)
    junk = rng.choice([b"\x00", b"\x1b[2J", b"\r\n", b"\x07", b"\xff\xfe", b"\xc3("])
    return data[:at] + junk + data[at:], f"control bytes {junk!r}"


def _broken_tag(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    hits = [m.start() for m in re.finditer(rb"[<>]", data)]
    if not hits:
        return _bit_flips(rng, data)
    at = rng.choice(hits)
    return data[:at] + data[at + 1 :], f"removed {data[at : at + 1]!r} at {at}"


_XML_OPS: tuple[Op, ...] = (
    _encoding,
    _doctype,
    _positions,
    _years,
    _sentinels,
    _clock_back,
    _controls,
    _broken_tag,
)
