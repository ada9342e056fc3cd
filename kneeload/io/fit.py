"""FIT reader: the only module that knows the FIT format.

``parse_fit`` decodes with the fast numpy decoder (``_fitdecode``) and falls back to
fitparse (``decode_reference``) for what the fast path does not handle, such as
the ``compressed_speed_distance`` record field. Both fill the same ``FitData``,
which ``build_activities`` turns into one ``RawActivity`` per FIT session.
"""

from __future__ import annotations

import math
import struct
import traceback
from collections.abc import Iterator
from functools import cache
from typing import Any

import numpy as np
from fitparse import FitFile, FitParseError, profile
from fitparse.records import DevField
from fitparse.utils import FitCRCError

from kneeload.errors import CorruptFileError, NotAnActivityError
from kneeload.io._fitdecode import (
    MESSAGE_KEYS,
    RECORD_KEYS,
    WANTED,
    FitData,
    UnsupportedFit,
    decode,
)
from kneeload.schema import RawActivity

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
RELATIVE_LIMIT = 0x10000000  # FIT times below this count seconds from power-on
MAX_OFFSET_S = 14 * 3600  # wider local-minus-UTC gaps are garbage, not a time zone
SEMICIRCLE_DEG = 180.0 / 2**31
ACTIVITY_FILE = 4
#: fitparse profile type name -> fit-tool enum class with the same values.
_FIT_TOOL_ENUMS = {
    "garmin_product": "GarminProduct",
    "manufacturer": "Manufacturer",
    "sport": "Sport",
    "sub_sport": "SubSport",
}


def parse_fit(data: bytes, name: str) -> list[RawActivity]:
    """Parse FIT bytes into one ``RawActivity`` per session (fitparse as fallback)."""
    try:
        decoded = decode(data, fit_crc)
    except ValueError as exc:
        raise CorruptFileError(name, str(exc)) from exc
    except UnsupportedFit:
        decoded = decode_reference(data, name)
    return build_activities(decoded, name)


#: What fitparse raises on bytes it cannot decode. fitparse 1.2 also raises
#: TypeError (a component field holding invalid bytes), KeyError (a developer
#: field with an unknown base type), IndexError/struct.error (a message cut
#: short) and UnicodeDecodeError (a string field). Only fitparse's own code runs
#: where these are caught (``_fitparse_messages``), so kneeload bugs still raise.
_FITPARSE_ERRORS = (
    FitParseError,
    TypeError,
    KeyError,
    IndexError,
    ValueError,
    struct.error,
    UnicodeDecodeError,
)


def decode_reference(data: bytes, name: str) -> FitData:
    """Decode with fitparse into the same ``FitData`` shape as the fast decoder."""
    out = FitData(messages={kind: [] for kind in MESSAGE_KEYS.values()})
    rows: list[dict[str, float | None]] = []
    messages = _fitparse_messages(data)
    while True:
        try:
            message = next(messages)
        except StopIteration:
            break
        except _FITPARSE_ERRORS as exc:
            if not out.messages["file_id"] and not rows:
                raise CorruptFileError(name, f"unreadable FIT file ({exc})") from exc
            if isinstance(exc, FitCRCError):
                out.problems.append("file CRC mismatch")
            else:
                out.partial = f"{_fitparse_reason(exc)}: kept {len(rows)} records"
            break
        row = _reference_row(message)
        if message.name == "record":
            rows.append(row)
        else:
            out.messages[message.name].append(row)
    out.records = {
        key: np.array([row.get(key) for row in rows], dtype=np.float64)
        for key in RECORD_KEYS
    }
    return out


def _fitparse_messages(data: bytes) -> Iterator[Any]:
    """fitparse's messages of the kinds kneeload reads (nothing of ours runs here)."""
    fit = FitFile(data, data_processor=_RawValues())
    yield from fit.get_messages(list(MESSAGE_KEYS.values()))


def _fitparse_reason(exc: Exception) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, KeyError) and frames[-1].name == "add_dev_field_description":
        return f"developer field with an unknown base type {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _RawValues:
    """fitparse data processor that keeps values as numbers (about 40 % faster)."""

    def run_type_processor(self, field_data: object) -> None:
        """Leave the value as decoded."""

    def run_field_processor(self, field_data: object) -> None:
        """Leave the value as decoded."""

    def run_unit_processor(self, field_data: object) -> None:
        """Leave the value as decoded."""

    def run_message_processor(self, data_message: object) -> None:
        """Leave the message as decoded."""


def _reference_row(message: object) -> dict[str, float | None]:
    """One fitparse message as {key: value}; enums and times stay raw integers."""
    number = message.mesg_num  # type: ignore[attr-defined]
    wanted = WANTED[number]
    row: dict[str, float | None] = dict.fromkeys(wanted.values())
    for field in message.fields:  # type: ignore[attr-defined]
        if field.field is None or isinstance(field.field, DevField):
            continue
        key = wanted.get(field.def_num)
        if key is None or row[key] is not None:
            continue
        numeric = key in ("timestamp", "start_time", "local_timestamp", "product")
        value = field.raw_value if numeric or field.field.type.values else field.value
        # arrays and strings where a number belongs are treated as missing
        row[key] = float(value) if isinstance(value, int | float) else None
    return row


def build_activities(decoded: FitData, name: str) -> list[RawActivity]:
    """Turn decoded FIT content into one ``RawActivity`` per session."""
    file_ids = decoded.messages.get("file_id", [])
    file_type = file_ids[0].get("type") if file_ids else None
    if file_type is not None and file_type != ACTIVITY_FILE:
        kind = _enum("file", file_type)
        raise NotAnActivityError(name, f"FIT file type {kind}, not an activity")
    records = decoded.records
    sessions = sorted(
        decoded.messages.get("session", []),
        key=lambda s: math.inf if s["start_time"] is None else s["start_time"],
    )
    n_records = len(records.get("timestamp", ()))
    if not sessions and n_records == 0 and decoded.partial:
        raise CorruptFileError(name, decoded.partial)
    if not sessions and n_records == 0:
        extra = "; ".join(decoded.problems)
        raise NotAnActivityError(
            name, "no activity data" + (f" ({extra})" if extra else "")
        )
    notes = [decoded.partial] if decoded.partial else []
    notes += [p for p in decoded.problems if p.startswith("file CRC")]
    if not sessions:
        notes.append("no session message")
        sessions = [_session_from_records(decoded)]
    stamps = records["timestamp"]
    start = sessions[0]["start_time"]
    first = start if start is not None else _first(stamps)
    relative = first is not None and first < RELATIVE_LIMIT
    shift = 0 if relative else FIT_EPOCH
    owner = _session_of_records(stamps, [s["start_time"] for s in sessions])
    common: dict[str, object] = {
        "device": _device(file_ids[0] if file_ids else {}),
        "utc_offset_s": _utc_offset(decoded.messages.get("activity", [])),
        "partial": "; ".join(notes) or None,
        "relative_time": relative,
    }
    columns = _sample_columns(records, shift)
    activities = []
    for i, session in enumerate(sessions):
        samples = {key: values[owner == i] for key, values in columns.items()}
        activities.append(_activity(session, samples, i, shift, common))
    for activity in activities:
        activity.notes = list(decoded.problems)
    return activities


def _activity(
    session: dict[str, float | None],
    samples: dict[str, np.ndarray],
    index: int,
    shift: int,
    common: dict[str, object],
) -> RawActivity:
    start = session["start_time"]
    if start is None and len(samples["time_s"]):
        start = _first(samples["time_s"] - shift)
    return RawActivity(
        format="fit",
        samples=samples,
        sport=_enum("sport", session["sport"]),
        sub_sport=_enum("sub_sport", session["sub_sport"]),
        start_utc=None if start is None else start + shift,
        total_distance_m=session["total_distance"],
        total_elapsed_s=session["total_elapsed_time"],
        total_timer_s=session["total_timer_time"],
        avg_hr=session["avg_heart_rate"],
        max_hr=session["max_heart_rate"],
        ascent_m=session["total_ascent"],
        descent_m=session["total_descent"],
        index=index,
        **common,  # type: ignore[arg-type]
    )


def _session_from_records(decoded: FitData) -> dict[str, float | None]:
    """A stand-in session for files that have records but no session message."""
    session: dict[str, float | None] = dict.fromkeys(WANTED[18].values())
    sports = decoded.messages.get("sport", [])
    if sports:
        session["sport"], session["sub_sport"] = (
            sports[0]["sport"],
            sports[0]["sub_sport"],
        )
    session["start_time"] = _first(decoded.records["timestamp"])
    return session


def _sample_columns(
    records: dict[str, np.ndarray], shift: int
) -> dict[str, np.ndarray]:
    """Sample columns for all records; columns the file never fills are left out."""
    r = records
    cadence = r["cadence"] + np.nan_to_num(r["fractional_cadence"], nan=0.0)
    columns = {
        "time_s": r["timestamp"] + shift,
        "distance_m": r["distance"],
        "speed_mps": np.where(
            np.isnan(r["enhanced_speed"]), r["speed"], r["enhanced_speed"]
        ),
        "altitude_m": np.where(
            np.isnan(r["enhanced_altitude"]), r["altitude"], r["enhanced_altitude"]
        ),
        # 0 bpm is what watches store with no sensor contact (Edge 1030: 451 of 2760)
        "heart_rate_bpm": np.where(r["heart_rate"] == 0, np.nan, r["heart_rate"]),
        "cadence_raw": cadence,
        "lat_deg": r["position_lat"] * SEMICIRCLE_DEG,
        "lon_deg": r["position_long"] * SEMICIRCLE_DEG,
    }
    present = {
        key: values
        for key, values in columns.items()
        if key == "time_s" or not np.isnan(values).all()
    }
    present["segment"] = np.zeros(len(columns["time_s"]))
    return present


def _session_of_records(stamps: np.ndarray, starts: list[float | None]) -> np.ndarray:
    """Index of the session each record belongs to: the last one started by then."""
    if len(starts) == 1:
        return np.zeros(len(stamps), dtype=np.intp)
    known = np.where(np.isnan(stamps), -np.inf, stamps)
    filled = np.maximum.accumulate(known)  # a record without a time joins its neighbour
    begins = np.array([math.inf if s is None else s for s in starts])
    return np.clip(np.searchsorted(begins, filled, side="right") - 1, 0, None)


def _first(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[0]) if len(finite) else None


def _enum(type_name: str, value: float | None) -> str | None:
    """An enum value's profile name: fitparse's, else fit-tool's, else the number."""
    if value is None:
        return None
    number = int(value)
    known = profile.FIELD_TYPES[type_name].values.get(number)
    return str(known) if known is not None else _newer_enum(type_name, number)


@cache
def _newer_enum(type_name: str, number: int) -> str:
    """Look a value up in fit-tool's newer FIT profile (fitparse's dates from 2019).

    fit-tool is optional and slow to import (~0.25 s), so it is only imported
    for values fitparse does not know, e.g. Garmin products newer than 2019.
    """
    try:
        from fit_tool.profile import profile_type
    except ImportError:
        return str(number)
    enum_class = getattr(profile_type, _FIT_TOOL_ENUMS.get(type_name, ""), None)
    member = None if enum_class is None else enum_class._value2member_map_.get(number)
    return str(number) if member is None else member.name.lower()


def _device(file_id: dict[str, float | None]) -> str | None:
    """'manufacturer/product' with profile names, e.g. 'garmin/fr945', 'stryd/None'."""
    maker, product = file_id.get("manufacturer"), file_id.get("product")
    if maker is None and product is None:
        return None
    product_field = profile.MESSAGE_TYPES[0].fields[2]
    product_name: str | None = None if product is None else str(int(product))
    for sub in product_field.subfields or ():
        if product is not None and any(r.raw_value == maker for r in sub.ref_fields):
            product_name = _enum(sub.type.name, product)
    return f"{_enum('manufacturer', maker)}/{product_name}"


def _utc_offset(activities: list[dict[str, float | None]]) -> float | None:
    """Local minus UTC time from the activity message, rounded to 15 minutes."""
    for activity in activities:
        utc, local = activity.get("timestamp"), activity.get("local_timestamp")
        if utc is not None and local is not None and abs(local - utc) <= MAX_OFFSET_S:
            return round((local - utc) / 900.0) * 900.0
    return None


# FIT CRC-16 (CRC-16/ARC). A byte-wise loop costs ~10 ms per 100 KB in Python;
# the CRC is linear, so blocks are summed with per-position tables and joined
# with "advance over n zero bytes" tables instead.

_BLOCK = 256


@cache
def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint16)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table[byte] = crc
    return table


@cache
def _position_table() -> np.ndarray:
    """Contribution of byte value b at position j of a block: shape (_BLOCK*256,)."""
    table = _crc_table()
    rows = np.empty((_BLOCK, 256), dtype=np.uint16)
    row = table.copy()  # the last byte of a block
    for j in range(_BLOCK - 1, -1, -1):
        rows[j] = row
        row = (row >> 8) ^ table[row & 0xFF]  # one more zero byte after it
    return rows.ravel()


@cache
def _shift_tables(level: int) -> tuple[np.ndarray, np.ndarray]:
    """Tables that advance a CRC over _BLOCK * 2**level zero bytes (it is linear)."""
    table = [int(v) for v in _crc_table()]
    images = [1 << i for i in range(16)]
    for _ in range(_BLOCK):
        images = [(c >> 8) ^ table[c & 0xFF] for c in images]
    for _ in range(level):
        images = [_apply(images, c) for c in images]
    values = np.arange(256)
    bits = (values[:, None] >> np.arange(8)) & 1
    img = np.array(images, dtype=np.uint16)
    low = np.bitwise_xor.reduce(np.where(bits == 1, img[:8], 0), axis=1)
    high = np.bitwise_xor.reduce(np.where(bits == 1, img[8:], 0), axis=1)
    return low.astype(np.uint16), high.astype(np.uint16)


def _apply(images: list[int], value: int) -> int:
    out = 0
    for i in range(16):
        if value >> i & 1:
            out ^= images[i]
    return out


def _crc_small(data: bytes) -> int:
    table = _crc_table()
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ int(table[(crc ^ byte) & 0xFF])
    return crc


def fit_crc(data: bytes | np.ndarray) -> int:
    """FIT CRC-16 (CRC-16/ARC) of ``data``, vectorised over 256-byte blocks."""
    if len(data) < _BLOCK:
        return _crc_small(bytes(data))
    u8 = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    pad = (-len(u8)) % _BLOCK  # leading zero bytes leave a zero-initialised CRC alone
    if pad:
        u8 = np.concatenate([np.zeros(pad, dtype=np.uint8), u8])
    blocks = u8.reshape(-1, _BLOCK).astype(np.intp)
    blocks += np.arange(0, _BLOCK * 256, 256)
    crcs = np.bitwise_xor.reduce(_position_table()[blocks], axis=1)
    level = 0
    while len(crcs) > 1:
        if len(crcs) % 2:
            crcs = np.concatenate([np.zeros(1, dtype=np.uint16), crcs])
        low, high = _shift_tables(level)
        left, right = crcs[0::2], crcs[1::2]
        crcs = low[left & 0xFF] ^ high[left >> 8] ^ right
        level += 1
    return int(crcs[0]) if len(crcs) else 0
