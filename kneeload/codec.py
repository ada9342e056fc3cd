"""How the store packs what it keeps of an activity, and what it derives at ingest.

Samples are one blob per activity (a small JSON header, then the columns
compressed: time float64, the rest float32); the HR histogram is 256 float32
seconds compressed. Both decoders turn any damage into an error naming it,
never a zlib or JSON traceback. ``finish_activity`` adds, once per activity at
ingest, the values kept beside the summary: the export's name/gear/RPE, the
30-s HR peak behind the HR-max estimate and the plausibility reason (RULES §1.5).
"""

from __future__ import annotations

import json
import zlib

import numpy as np

from kneeload.errors import StoreError
from kneeload.schema import (
    STORED_SAMPLE_FIELDS,
    Activity,
    RawActivity,
    Samples,
    activity_suspect,
)


def encode_hr_hist(hist: np.ndarray | None) -> bytes | None:
    """Pack an HR histogram (seconds per whole bpm 0..255) for the store."""
    if hist is None:
        return None
    return zlib.compress(np.asarray(hist, dtype="<f4").tobytes(), 1)


def decode_hr_hist(blob: bytes | None) -> np.ndarray | None:
    """Decode a stored HR histogram (seconds per whole bpm 0..255)."""
    if blob is None:
        return None
    try:
        return np.frombuffer(zlib.decompress(blob), dtype="<f4").astype(np.float64)
    except (zlib.error, ValueError, TypeError) as exc:
        raise ValueError(f"HR histogram is damaged ({exc})") from exc


#: Window of the rolling median behind the HR-max evidence (RULES §1.5).
HR_PEAK_WINDOW_S = 30
#: A sample's HR holds until the next one, at most this long (as in summary).
_HR_HOLD_S = 10.0


def hr_peak_30s(samples: Samples) -> float | None:
    """Highest 30-s rolling median of HR (RULES §1.5): one glitch cannot set it.

    HR is put on a 1-s grid (each sample holds until the next, at most 10 s) and
    only windows with HR in every second count; None when there is no such
    window.
    """
    t, hr = samples.get("time_s"), samples.get("heart_rate_bpm")
    if t is None or hr is None:
        return None
    t, hr = np.asarray(t), np.asarray(hr)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(t) & np.isfinite(hr) & (hr > 0)
    if not ok.all():
        t, hr = t[ok], hr[ok]
    if t.size < 2:
        return None
    step = np.diff(t)
    if not (step >= 0).all():  # sort only a clock that goes back
        order = np.argsort(t, kind="stable")
        t, hr = t[order], hr[order]
        step = np.diff(t)
    if t[-1] - t[0] < HR_PEAK_WINDOW_S:
        return None
    if step.min() == step.max() == 1.0:
        held = hr  # already one value a second: no grid to build
    else:
        grid = np.arange(t[0], t[-1] + 1.0, 1.0)
        idx = np.searchsorted(t, grid, side="right") - 1
        held = np.where(grid - t[idx] <= _HR_HOLD_S, hr[idx], np.nan)
    if held.size < HR_PEAK_WINDOW_S:
        return None
    return _max_rolling_median(held, HR_PEAK_WINDOW_S)


def _max_rolling_median(values: np.ndarray, width: int) -> float | None:
    """Highest median of ``width`` consecutive values (windows with a NaN skipped).

    Exact, and cheap: the medians of every 16th window give a floor; only windows
    with at least ``width // 2`` values above that floor can beat it, and only
    those are computed.
    """
    windows = np.lib.stride_tricks.sliding_window_view(values, width)
    finite = np.isfinite(values)
    if finite.all():
        full = np.arange(windows.shape[0])
    else:
        gaps = np.concatenate(([0], np.cumsum(~finite)))
        full = np.flatnonzero(gaps[width:] == gaps[:-width])
    if full.size == 0:
        return None
    mid = [(width - 1) // 2, width // 2]

    def medians(rows: np.ndarray) -> np.ndarray:
        part = np.partition(windows[rows], mid, axis=1)
        return (part[:, mid[0]] + part[:, mid[1]]) / 2.0

    floor = float(medians(full[::16]).max())
    with np.errstate(invalid="ignore"):
        above = np.concatenate(([0], np.cumsum(values > floor)))  # NaN: False
    count = above[full + width] - above[full]
    contenders = full[count >= width - mid[1]]
    if contenders.size == 0:
        return floor
    return max(floor, float(medians(contenders).max()))


def finish_activity(
    activity: Activity, raw: RawActivity, samples: Samples, *, now_utc: float
) -> Activity:
    """Fill what the store keeps beside the summary: export fields, HR peak, suspect.

    Called once per activity at ingest (after ``summary.summarise``): the name,
    gear and RPE the reader or export found, the 30-s HR peak (RULES §1.5) and the
    activity-level plausibility reason (``schema.activity_suspect``).
    """
    for name in ("name", "gear", "rpe"):
        if getattr(activity, name) is None:
            setattr(activity, name, getattr(raw, name, None))
    if activity.rpe is not None and not 1 <= activity.rpe <= 10:
        activity.rpe = None  # not CR-10
    if activity.hr_peak30 is None:
        activity.hr_peak30 = hr_peak_30s(samples)
    if activity.suspect is None:
        activity.suspect = activity_suspect(activity, now_utc=now_utc)
    return activity


_MAGIC = b"KLS1"


def encode_samples(samples: Samples) -> bytes:
    """Pack the stored sample columns into a blob (time float64, others float32)."""
    names = [k for k in STORED_SAMPLE_FIELDS if samples.get(k) is not None]
    n = len(samples[names[0]]) if names else 0
    parts, cols = [], []
    for name in names:
        dtype = "<f8" if name == "time_s" else "<f4"
        parts.append(np.asarray(samples[name], dtype=dtype).tobytes())
        cols.append([name, dtype])
    header = json.dumps({"n": n, "cols": cols}).encode()
    body = zlib.compress(b"".join(parts), 1)
    return _MAGIC + len(header).to_bytes(4, "little") + header + body


def decode_samples(blob: bytes) -> Samples:
    """Unpack a blob made by ``encode_samples`` into float64 columns.

    A damaged blob raises ``StoreError`` (never a zlib or JSON error).
    """
    if not isinstance(blob, bytes) or blob[:4] != _MAGIC:
        raise StoreError("samples blob has an unknown format")
    try:
        hlen = int.from_bytes(blob[4:8], "little")
        header = json.loads(blob[8 : 8 + hlen])
        body = zlib.decompress(blob[8 + hlen :])
        out: Samples = {}
        offset, n = 0, int(header["n"])
        for name, dtype in header["cols"]:
            width = np.dtype(dtype).itemsize * n
            out[str(name)] = np.frombuffer(
                body, dtype=dtype, count=n, offset=offset
            ).astype(np.float64)
            offset += width
    except (ValueError, KeyError, TypeError, IndexError, zlib.error) as exc:
        raise StoreError(f"samples blob is damaged ({type(exc).__name__})") from exc
    return out
