"""Fast FIT decoder: a Python walk over message headers, numpy for the data.

The walk visits each run of same-definition messages once: FIT data messages
have a fixed size per local definition, so when the header byte repeats at that
stride the run's offsets are arithmetic and one numpy comparison finds its
length. Data messages of one definition are then gathered into a structured
array and decoded column-wise. Only the messages kneeload needs are decoded;
everything else (developer fields included) is skipped by size.

The result is a ``FitData``: raw FIT values with the profile's scale and offset
applied, enums and timestamps as raw integers, invalid values as NaN/None.
``kneeload.io.fit`` turns it into ``RawActivity`` objects; its fitparse reference
reader fills the same ``FitData`` shape. Anything unusual raises
``UnsupportedFit`` so the caller can fall back to the reference reader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from fitparse import profile

#: Fields kneeload reads, by fitparse profile name, per global message number.
WANTED_NAMES: dict[int, list[str]] = {
    0: ["type", "manufacturer", "product"],
    12: ["sport", "sub_sport"],
    18: [
        "timestamp",
        "start_time",
        "sport",
        "sub_sport",
        "total_elapsed_time",
        "total_timer_time",
        "total_distance",
        "avg_heart_rate",
        "max_heart_rate",
        "total_ascent",
        "total_descent",
    ],
    20: [
        "timestamp",
        "position_lat",
        "position_long",
        "altitude",
        "heart_rate",
        "cadence",
        "distance",
        "speed",
        "fractional_cadence",
        "enhanced_speed",
        "enhanced_altitude",
    ],
    34: ["timestamp", "local_timestamp"],
}
#: The same, as global number -> {field number: name}, from fitparse's profile.
WANTED: dict[int, dict[int, str]] = {
    number: {
        f.def_num: f.name
        for f in profile.MESSAGE_TYPES[number].fields.values()
        if f.name in names
    }
    for number, names in WANTED_NAMES.items()
}
MESSAGE_KEYS = {0: "file_id", 12: "sport", 18: "session", 20: "record", 34: "activity"}
RECORD_KEYS: tuple[str, ...] = tuple(WANTED[20].values())
TIMESTAMP_FIELD = 253
#: record field 8 packs speed and an accumulated distance; left to the reference reader.
COMPRESSED_SPEED_DISTANCE = 8

#: FIT base type byte -> (numpy code, invalid raw value or None); others fall back.
BASE_TYPES: dict[int, tuple[str, int | None]] = {
    0x00: ("u1", 0xFF),
    0x01: ("i1", 0x7F),
    0x02: ("u1", 0xFF),
    0x83: ("i2", 0x7FFF),
    0x84: ("u2", 0xFFFF),
    0x85: ("i4", 0x7FFFFFFF),
    0x86: ("u4", 0xFFFFFFFF),
    0x88: ("f4", None),
    0x89: ("f8", None),
    0x0A: ("u1", 0),
    0x8B: ("u2", 0),
    0x8C: ("u4", 0),
    0x8E: ("i8", 0x7FFFFFFFFFFFFFFF),
    0x8F: ("u8", 0xFFFFFFFFFFFFFFFF),
    0x90: ("u8", 0),
}


class UnsupportedFit(Exception):  # noqa: N818 - internal signal, never leaves kneeload.io
    """The fast path cannot decode this file; use the reference reader."""


@dataclass
class FitData:
    """Decoded FIT content kneeload needs, in the order the file stores it."""

    messages: dict[str, list[dict[str, float | None]]] = field(default_factory=dict)
    records: dict[str, np.ndarray] = field(default_factory=dict)
    partial: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class _Definition:
    global_num: int
    endian: str
    fields: list[tuple[int, int, int]]  # (field number, size, base type)
    size: int  # whole message, header byte included
    starts: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- walking


class _Walk:
    """State of one pass over the message headers of a whole (chained) file."""

    def __init__(self, data: bytes, crc: Callable[[bytes | np.ndarray], int]) -> None:
        self.data, self.crc = data, crc
        self.u8 = np.frombuffer(data, dtype=np.uint8)
        self.definitions: list[_Definition] = []
        self.compressed = False
        self.problems: list[str] = []
        self.stop: str | None = None  # why the walk ended early
        self.segment_starts: list[int] = []

    def segment(self, start: int) -> int:
        """Walk one FIT header + data + CRC; return where the next one would start."""
        data = self.data
        header_size = data[start]
        if header_size < 12 or data[start + 8 : start + 12] != b".FIT":
            raise ValueError(f"no FIT header at byte {start}")
        if header_size >= 14 and len(data) >= start + 14:
            stored = int.from_bytes(data[start + 12 : start + 14], "little")
            if stored and self.crc(data[start : start + 12]) != stored:
                raise ValueError(f"FIT header CRC mismatch at byte {start}")
        data_size = int.from_bytes(data[start + 4 : start + 8], "little")
        begin, end = start + header_size, start + header_size + data_size
        self.segment_starts.append(start)
        pos = self._messages(begin, min(end, len(data)))
        if self.stop is None and pos < end:
            self.stop = f"truncated at byte {pos} of {len(data)}"
        if self.stop is not None:
            return len(data)
        if end + 2 > len(data):
            self.stop = "truncated: file CRC missing"
        elif self.crc(self.u8[start : end + 2]) != 0:
            self.problems.append("file CRC mismatch")
        return end + 2

    def _messages(self, pos: int, end: int) -> int:
        data = self.data
        local: dict[int, _Definition] = {}
        while pos < end:
            head = data[pos]
            if head & 0x80:
                definition, mask = local.get((head >> 5) & 3), 0xE0
                self.compressed = True
            elif head & 0x40:
                size = self._definition(pos, end, local)
                if size == 0:
                    return pos
                pos += size
                continue
            else:
                definition, mask = local.get(head & 0x0F), 0xFF
            if definition is None:
                self.stop = (
                    f"corrupt at byte {pos}: local message {head & 0x0F} not defined"
                )
                return pos
            size = definition.size
            if pos + size > end:
                return pos
            count = 1
            if pos + 2 * size <= end and data[pos + size] & mask == head & mask:
                count = self._run(pos, size, head & mask, mask, end)
            definition.starts.append(pos)
            definition.counts.append(count)
            pos += count * size
        return pos

    def _run(self, pos: int, size: int, value: int, mask: int, end: int) -> int:
        """How many messages from ``pos`` on share this header (seen at the stride)."""
        most, done, window = (end - pos) // size, 1, 64
        while done < most:
            upto = min(most, done + window)
            heads: np.ndarray = self.u8[pos + done * size : pos + upto * size : size]
            if mask != 0xFF:
                heads = heads & mask
            miss = np.flatnonzero(heads != value)
            if miss.size:
                return done + int(miss[0])
            done, window = upto, window * 4
        return most

    def _definition(self, pos: int, end: int, local: dict[int, _Definition]) -> int:
        data = self.data
        if pos + 6 > end:
            return 0
        arch, n_fields = data[pos + 2], data[pos + 5]
        # as fitparse: any non-zero architecture byte means big-endian
        order: Literal["little", "big"] = "big" if arch else "little"
        global_num = int.from_bytes(data[pos + 3 : pos + 5], order)
        cursor = pos + 6 + 3 * n_fields
        if cursor > end:
            return 0
        raw = data[pos + 6 : cursor]
        fields = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
        dev_size = 0
        if data[pos] & 0x20:
            if cursor >= end:
                return 0
            n_dev = data[cursor]
            dev_size = sum(data[cursor + 2 : cursor + 1 + 3 * n_dev : 3])
            cursor += 1 + 3 * n_dev
        if cursor > end:
            return 0
        size = 1 + sum(f[1] for f in fields) + dev_size
        definition = _Definition(global_num, ">" if arch else "<", fields, size)
        local[data[pos] & 0x0F] = definition
        self.definitions.append(definition)
        return cursor - pos


# ---------------------------------------------------------------- decoding


def decode(data: bytes, crc: Callable[[bytes | np.ndarray], int]) -> FitData:
    """Decode the messages kneeload needs from a whole (possibly chained) FIT file.

    ``crc`` computes the FIT CRC-16 of some bytes (``kneeload.io.fit.fit_crc``).

    Raises ValueError when the first FIT header is unreadable and UnsupportedFit
    when the file needs the reference reader.
    """
    if len(data) < 12:
        raise ValueError(f"{len(data)} bytes is too short for a FIT header")
    walk = _Walk(data, crc)
    pos = walk.segment(0)
    while pos < len(data) and walk.stop is None:
        if data[pos + 8 : pos + 12] != b".FIT" or len(data) - pos < 12:
            walk.problems.append(f"{len(data) - pos} bytes after the FIT data ignored")
            break
        try:
            pos = walk.segment(pos)
        except ValueError as exc:
            walk.stop = str(exc)
    out = FitData(problems=walk.problems)
    times = _compressed_times(walk) if walk.compressed else None
    for global_num, kind in MESSAGE_KEYS.items():
        offsets, columns = _table(walk, global_num, times)
        if global_num == 20:
            out.records = columns
            out.partial = walk.stop and f"{walk.stop}: kept {len(offsets)} records"
        else:
            out.messages[kind] = _rows(columns, len(offsets))
    return out


def _rows(columns: dict[str, np.ndarray], n: int) -> list[dict[str, float | None]]:
    lists = {key: values.tolist() for key, values in columns.items()}
    return [
        {key: (None if v != v else v) for key, v in ((k, lists[k][i]) for k in lists)}
        for i in range(n)
    ]


def _offsets(definition: _Definition) -> np.ndarray:
    size = definition.size
    if len(definition.starts) == 1:
        return definition.starts[0] + size * np.arange(definition.counts[0])
    starts = np.array(definition.starts)
    counts = np.array(definition.counts)
    before = np.cumsum(counts) - counts
    return np.repeat(starts - size * before, counts) + size * np.arange(counts.sum())


def _table(
    walk: _Walk, global_num: int, times: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All messages of one global number, columns by key, in file order."""
    keys = list(WANTED[global_num].values())
    parts = [
        _columns(walk, d, global_num, times)
        for d in _merged(walk.definitions, global_num)
    ]
    if not parts:
        return np.zeros(0, dtype=np.intp), {k: np.zeros(0) for k in keys}
    offsets = np.concatenate([p[0] for p in parts])
    columns = {}
    for key in keys:
        columns[key] = np.concatenate(
            [p[1].get(key, np.full(len(p[0]), np.nan)) for p in parts]
        )
    if len(parts) > 1:
        order = np.argsort(offsets, kind="stable")
        offsets = offsets[order]
        columns = {k: v[order] for k, v in columns.items()}
    return offsets, columns


def _merged(definitions: list[_Definition], global_num: int) -> list[_Definition]:
    """Join definitions of one message with the same layout (devices redefine often)."""
    groups: dict[tuple[object, ...], _Definition] = {}
    for d in definitions:
        if d.global_num != global_num or not d.starts:
            continue
        key = (d.endian, tuple(d.fields), d.size)
        if key not in groups:
            groups[key] = _Definition(global_num, d.endian, d.fields, d.size)
        groups[key].starts += d.starts
        groups[key].counts += d.counts
    for d in groups.values():
        if any(a > b for a, b in zip(d.starts, d.starts[1:], strict=False)):
            pairs = sorted(zip(d.starts, d.counts, strict=True))
            d.starts, d.counts = [p[0] for p in pairs], [p[1] for p in pairs]
    return list(groups.values())


def _structured(
    definition: _Definition, wanted: dict[int, str]
) -> tuple[np.dtype, list[tuple[str, int, int | None]]]:
    names, formats, positions, fields = [], [], [], []
    position = 1
    for number, size, base in definition.fields:
        if number in wanted and wanted[number] not in names:  # first one wins
            code, invalid = BASE_TYPES.get(base, ("", None))
            if not code or np.dtype(code).itemsize != size:
                raise UnsupportedFit(
                    f"field {number} of message {definition.global_num}"
                )
            names.append(wanted[number])
            formats.append(definition.endian + code)
            positions.append(position)
            fields.append((wanted[number], number, invalid))
        position += size
    dtype = np.dtype(
        {
            "names": names,
            "formats": formats,
            "offsets": positions,
            "itemsize": definition.size,
        }
    )
    return dtype, fields


def _columns(
    walk: _Walk,
    definition: _Definition,
    global_num: int,
    times: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if global_num == 20 and any(
        f[0] == COMPRESSED_SPEED_DISTANCE for f in definition.fields
    ):
        raise UnsupportedFit("compressed_speed_distance")
    dtype, fields = _structured(definition, WANTED[global_num])
    offsets = _offsets(definition)
    if len(definition.starts) == 1:
        array = np.frombuffer(walk.data, dtype, len(offsets), definition.starts[0])
    else:
        rows = walk.u8[offsets[:, None] + np.arange(definition.size)]
        array = rows.view(dtype).ravel()
    profile_fields = profile.MESSAGE_TYPES[global_num].fields
    columns = {}
    for key, number, invalid in fields:
        raw = array[key]
        values = raw.astype(np.float64)
        if invalid is not None:
            values[raw == invalid] = np.nan
        spec = profile_fields.get(number)
        if spec is not None and spec.scale:
            values /= spec.scale
        if spec is not None and spec.offset:
            values -= spec.offset
        columns[key] = values
    if times is not None and "timestamp" not in columns:
        columns["timestamp"] = _lookup_times(times, offsets)
    return offsets, columns


def _lookup_times(
    times: tuple[np.ndarray, np.ndarray], offsets: np.ndarray
) -> np.ndarray:
    where, values = times
    index = np.searchsorted(where, offsets)
    index = np.minimum(index, max(len(where) - 1, 0))
    found = where[index] == offsets if len(where) else np.zeros(len(offsets), bool)
    return np.where(found, values[index] if len(where) else np.nan, np.nan)


def _compressed_times(walk: _Walk) -> tuple[np.ndarray, np.ndarray]:
    """Times of compressed-header messages: 5-bit offsets on the last full time."""
    starts = np.array(walk.segment_starts)  # each FIT header resets the time to 0
    events = [(starts, np.zeros(len(starts)), np.ones(len(starts), bool))]
    for d in walk.definitions:
        offsets = _offsets(d) if d.starts else np.zeros(0, dtype=np.intp)
        compressed = walk.u8[offsets] >= 0x80
        if any(f[0] == TIMESTAMP_FIELD for f in d.fields):
            if compressed.any():
                raise UnsupportedFit("compressed header and a timestamp field")
            dtype, _ = _structured(d, {TIMESTAMP_FIELD: "timestamp"})
            raw = walk.u8[offsets[:, None] + np.arange(d.size)].view(dtype).ravel()
            keep = raw["timestamp"] != 0xFFFFFFFF
            stamps = raw["timestamp"][keep].astype(np.float64)
            events.append((offsets[keep], stamps, np.ones(len(stamps), bool)))
        elif compressed.any():
            heads = (walk.u8[offsets[compressed]] & 0x1F).astype(np.float64)
            events.append((offsets[compressed], heads, np.zeros(len(heads), bool)))
    positions = np.concatenate([e[0] for e in events])
    order = np.argsort(positions, kind="stable")
    values = np.concatenate([e[1] for e in events])[order]
    is_full = np.concatenate([e[2] for e in events])[order]
    low = values.astype(np.int64) & 0x1F
    steps = np.cumsum(np.where(is_full, 0, (low - np.roll(low, 1)) & 0x1F))
    anchor = np.flatnonzero(is_full)[np.cumsum(is_full) - 1]
    stamps = values[anchor] + steps - steps[anchor]
    return positions[order][~is_full], stamps[~is_full]
