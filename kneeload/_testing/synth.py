"""Synthetic runs for tests, samples and benchmarks: simulator, FIT and GPX writers.

The FIT encoder is our own (numpy structured dtype for the record messages) because
fit-tool takes seconds per file. Every simulated value is already quantised to the FIT
resolution (distance 0.01 m, speed 1 mm/s, altitude 0.2 m, cadence 1/128 stride/min,
positions in semicircles), so a decoder gets back exactly what ``samples`` holds.
Cadence is stored per leg (strides/min), as Garmin running watches do (RULES §1.1).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

import numpy as np

from kneeload.io.fit import fit_crc  # the reader's CRC: one implementation
from kneeload.schema import Samples

#: Home of the synthetic runner: Parc de la Tête d'Or, Lyon (lat, lon, altitude m).
LYON_HOME: tuple[float, float, float] = (45.7772, 4.8553, 170.0)
FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
SEMICIRCLE = 2.0**31 / 180.0
GPX_TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
SPORTS = {"generic": 0, "running": 1, "cycling": 2, "swimming": 5, "walking": 11}
SUB_SPORTS = {"generic": 0, "treadmill": 1, "street": 2, "trail": 3, "track": 4}
# kind -> (FIT base type, struct code)
_BASE = {
    "enum": (0x00, "B"),
    "uint8": (0x02, "B"),
    "uint16": (0x84, "H"),
    "sint32": (0x85, "i"),
    "uint32": (0x86, "I"),
    "uint32z": (0x8C, "I"),
}


@dataclass(frozen=True)
class SyntheticRun:
    """One simulated run: per-sample arrays (schema keys) plus its route totals."""

    samples: Samples
    ascent_m: float
    descent_m: float
    timezone: str = "Europe/Paris"

    @property
    def start_s(self) -> int:
        """Start as integer UTC epoch seconds."""
        return int(self.samples["time_s"][0])


def simulate_run(
    start_utc: datetime,
    *,
    distance_km: float | None = None,
    duration_s: float | None = None,
    pace_s_per_km: float = 360.0,
    cadence_spm: float = 168.0,
    hr_mean: float = 142.0,
    elevation_profile: Sequence[tuple[float, float]] = ((0.0, 0.0),),
    efforts: Sequence[tuple[float, float, float]] = (),
    interval_s: int = 5,
    seed: int = 0,
    loop_km: float = 6.0,
    home: tuple[float, float, float] = LYON_HOME,
) -> SyntheticRun:
    """Simulate a run of ``distance_km`` or ``duration_s``, sampled each ``interval_s``.

    ``cadence_spm`` and ``hr_mean`` are the steps/min and steady HR at the base pace on
    the flat; ``elevation_profile`` is (km, metres above home) breakpoints, linearly
    interpolated; ``efforts`` are (from_km, to_km, pace_s_per_km) faster/slower parts.
    """
    if (distance_km is None) == (duration_s is None):
        raise ValueError("give exactly one of distance_km and duration_s")
    rng = np.random.default_rng(seed)
    v_base = 1000.0 / pace_s_per_km
    if duration_s is not None:
        horizon = duration_s
    elif distance_km is not None:
        horizon = distance_km * 1300 / v_base  # long enough for any pace variation
    t = np.arange(0.0, horizon + interval_s, interval_s)
    prof_km = np.array([p[0] for p in elevation_profile], dtype=float) * 1000
    prof_m = np.array([p[1] for p in elevation_profile], dtype=float)
    dist, speed, grade, v_eff = _motion(t, v_base, efforts, prof_km, prof_m, rng)
    if distance_km is not None:
        end = int(np.searchsorted(dist, distance_km * 1000)) + 1
        t, dist, speed, grade, v_eff = (a[:end] for a in (t, dist, speed, grade, v_eff))
        dist[-1] = min(dist[-1], distance_km * 1000)
    clean_alt = np.interp(dist, prof_km, prof_m)
    inside = prof_km[(prof_km > 0) & (prof_km < dist[-1])]
    ascent, descent = _climb(np.interp(np.r_[0, inside, dist[-1]], prof_km, prof_m))
    alt = home[2] + clean_alt + 0.6 * _smooth_noise(rng, t, 40.0)
    v_kmh = (v_eff - v_base) * 3.6
    spm = cadence_spm + 3 * v_kmh + 25 * np.clip(grade, 0, None)
    spm = spm + 1.5 * _smooth_noise(rng, t, 30.0) + rng.normal(0, 0.8, t.size)
    lat, lon = _route(dist, t, home, loop_km, rng)
    samples: Samples = {
        "time_s": np.floor(start_utc.timestamp()) + t,
        "distance_m": np.round(dist, 2),
        "speed_mps": np.round(speed, 3),
        "altitude_m": np.round(alt * 5) / 5,
        "heart_rate_bpm": _heart_rate(t, hr_mean, v_kmh, grade, rng),
        "cadence_raw": np.round(spm / 2 * 128) / 128,
        "lat_deg": np.round(lat * SEMICIRCLE) / SEMICIRCLE,
        "lon_deg": np.round(lon * SEMICIRCLE) / SEMICIRCLE,
    }
    return SyntheticRun(samples, round(ascent), round(descent))


def _motion(
    t: np.ndarray,
    v_base: float,
    efforts: Sequence[tuple[float, float, float]],
    prof_km: np.ndarray,
    prof_m: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distance, speed, grade and effort speed; slower uphill, a bit faster downhill."""
    dt = float(t[1] - t[0])
    wobble = 1 + 0.02 * _smooth_noise(rng, t, 120.0)
    dist = v_base * t
    for _ in range(2):  # speed depends on where you are; two passes converge enough
        v_eff = _effort_speed(dist, v_base, efforts)
        grade = _grade(dist, prof_km, prof_m)
        speed = v_eff * np.where(grade > 0, 1 - 3 * grade, 1 - grade) * wobble
        speed = np.clip(speed + rng.normal(0, 0.04, t.size), 0.8, 7.0)
        dist = np.concatenate(([0.0], np.cumsum(speed[1:] * dt)))
    return dist, speed, grade, v_eff


def _smooth_noise(
    rng: np.random.Generator, t: np.ndarray, period_s: float
) -> np.ndarray:
    """Unit-ish amplitude noise made of a few slow sinusoids (GPS, baro, pacing)."""
    periods = period_s * rng.uniform(0.5, 2.0, 4)
    phases = rng.uniform(0, 2 * np.pi, 4)
    waves = np.sin(2 * np.pi * t[:, None] / periods + phases)
    return waves.sum(axis=1) / 2.0


def _effort_speed(
    dist: np.ndarray, v_base: float, efforts: Sequence[tuple[float, float, float]]
) -> np.ndarray:
    speed = np.full_like(dist, v_base)
    for start_km, end_km, pace in efforts:
        inside = (dist >= start_km * 1000) & (dist < end_km * 1000)
        speed[inside] = 1000.0 / pace
    return speed


def _grade(dist: np.ndarray, prof_km: np.ndarray, prof_m: np.ndarray) -> np.ndarray:
    if prof_km.size < 2:
        return np.zeros_like(dist)
    slopes = np.diff(prof_m) / np.maximum(np.diff(prof_km), 1.0)
    idx = np.clip(np.searchsorted(prof_km, dist, side="right") - 1, 0, slopes.size)
    return np.append(slopes, 0.0)[idx]


def _climb(alt: np.ndarray) -> tuple[float, float]:
    step = np.diff(alt)
    return float(step[step > 0].sum()), float(-step[step < 0].sum())


def _heart_rate(
    t: np.ndarray,
    hr_mean: float,
    v_kmh: np.ndarray,
    grade: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """HR following effort with a 30 s lag, a warm-up and a slow cardiac drift."""
    target = hr_mean + 9.0 * v_kmh + 120 * np.clip(grade, 0, None) + 0.04 * t / 60
    target = target - 30 * np.exp(-t / 240)
    dt = float(t[1] - t[0]) if t.size > 1 else 1.0
    kernel = np.exp(-np.arange(0, 150, dt) / 30.0)
    padded = np.concatenate((np.full(kernel.size - 1, target[0]), target))
    lagged = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    noisy = lagged + 1.5 * _smooth_noise(rng, t, 20.0)
    return np.clip(np.round(noisy), 60, 220)


def _route(
    dist: np.ndarray,
    t: np.ndarray,
    home: tuple[float, float, float],
    loop_km: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions on a loop through home, turned a random way, with GPS error."""
    radius = loop_km * 1000 / (2 * np.pi)
    theta = dist / radius
    turn = rng.uniform(0, 2 * np.pi)
    x, y = radius * np.sin(theta), radius * (1 - np.cos(theta))
    east = x * np.cos(turn) - y * np.sin(turn) + 2.0 * _smooth_noise(rng, t, 90.0)
    north = x * np.sin(turn) + y * np.cos(turn) + 2.0 * _smooth_noise(rng, t, 90.0)
    lat = home[0] + north / 111_195.0
    lon = home[1] + east / (111_195.0 * np.cos(np.radians(home[0])))
    return lat, lon


def run_totals(run: SyntheticRun) -> dict[str, float]:
    """The summary values the writers put in the file (session, lap, metadata)."""
    s = run.samples
    per_leg = float(np.mean(s["cadence_raw"]))
    return {
        "start_s": float(s["time_s"][0]),
        "elapsed_s": float(s["time_s"][-1] - s["time_s"][0]),
        "distance_m": float(s["distance_m"][-1]),
        "avg_hr": float(round(float(np.mean(s["heart_rate_bpm"])))),
        "max_hr": float(np.max(s["heart_rate_bpm"])),
        "avg_cadence_per_leg": float(np.floor(per_leg))
        + min(127, round(per_leg % 1 * 128)) / 128,
        "ascent_m": run.ascent_m,
        "descent_m": run.descent_m,
    }


def _definition(local: int, global_num: int, specs: Sequence[tuple[int, str]]) -> bytes:
    """A little-endian definition message for (field num, kind) pairs."""
    head = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(specs))
    return head + b"".join(
        struct.pack("<BBB", num, struct.calcsize(_BASE[kind][1]), _BASE[kind][0])
        for num, kind in specs
    )


def _fit_message(
    local: int, global_num: int, fields: Sequence[tuple[int, str, int]]
) -> bytes:
    """A definition message and one data message for ``fields`` (num, kind, value)."""
    fmt = "<B" + "".join(_BASE[kind][1] for _, kind, _ in fields)
    data = struct.pack(fmt, local, *(v for _, _, v in fields))
    return _definition(local, global_num, [f[:2] for f in fields]) + data


_RECORD_FIELDS = (  # (field num, kind, sample key, scale, offset)
    (253, "uint32", "time_s", 1, -FIT_EPOCH_S),
    (0, "sint32", "lat_deg", SEMICIRCLE, 0),
    (1, "sint32", "lon_deg", SEMICIRCLE, 0),
    (5, "uint32", "distance_m", 100, 0),
    (73, "uint32", "speed_mps", 1000, 0),
    (78, "uint32", "altitude_m", 5, 500),
    (3, "uint8", "heart_rate_bpm", 1, 0),
)
_INVALID = {"uint8": 0xFF, "sint32": 0x7FFFFFFF, "uint32": 0xFFFFFFFF}


def _fit_records(samples: Samples, local: int) -> bytes:
    """Definition + every record data message, encoded in bulk (structured dtype)."""
    fields = [f for f in _RECORD_FIELDS if f[2] in samples]
    code = {"uint8": "u1", "sint32": "<i4", "uint32": "<u4"}
    dtype = [("h", "u1")] + [(f[2], code[f[1]]) for f in fields]
    specs = [(num, kind) for num, kind, *_ in fields]
    if "cadence_raw" in samples:  # per leg: whole strides/min + 1/128 fraction
        dtype += [("cad", "u1"), ("frac", "u1")]
        specs += [(4, "uint8"), (53, "uint8")]
    recs = np.zeros(samples["time_s"].size, dtype=dtype)
    recs["h"] = local
    for _num, kind, key, scale, offset in fields:
        raw = np.round((samples[key] + offset) * scale)
        recs[key] = np.where(np.isfinite(raw), raw, _INVALID[kind])
    if "cadence_raw" in samples:
        whole = np.floor(samples["cadence_raw"])
        frac = np.minimum(np.round((samples["cadence_raw"] - whole) * 128), 127)
        recs["cad"] = np.where(np.isfinite(whole), whole, 0xFF)
        recs["frac"] = np.where(np.isfinite(frac), frac, 0xFF)
    return _definition(local, 20, specs) + recs.tobytes()


def _local_offset_s(run: SyntheticRun, epoch_s: float) -> int:
    delta = datetime.fromtimestamp(epoch_s, UTC).astimezone(ZoneInfo(run.timezone))
    offset = delta.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def write_fit(
    run: SyntheticRun,
    *,
    sport: str = "running",
    sub_sport: str = "generic",
    utc_offset_s: int | None = None,
    manufacturer: int = 255,
    product: int = 1,
) -> bytes:
    """Encode ``run`` as a FIT activity file; local time follows ``run.timezone``."""
    tot = run_totals(run)
    t0 = run.start_s - FIT_EPOCH_S
    t1 = t0 + int(tot["elapsed_s"])
    if utc_offset_s is None:
        utc_offset_s = _local_offset_s(run, t1 + FIT_EPOCH_S)
    ms, cad = int(tot["elapsed_s"] * 1000), tot["avg_cadence_per_leg"]
    u8, u16, u32, en = "uint8", "uint16", "uint32", "enum"
    common = [(253, u32, t1), (2, u32, t0), (7, u32, ms), (8, u32, ms)]
    common += [(9, u32, round(tot["distance_m"] * 100)), (254, u16, 0), (1, en, 1)]
    hr_cad = [int(tot["avg_hr"]), int(tot["max_hr"]), int(cad), round(cad % 1 * 128)]
    up, down = int(run.ascent_m), int(run.descent_m)
    lap = [*common, (0, en, 9), *zip((15, 16, 17, 80), [u8] * 4, hr_cad, strict=True)]
    lap += [(21, u16, up), (22, u16, down)]
    lap += [(25, en, SPORTS[sport]), (39, en, SUB_SPORTS[sub_sport])]
    ses = [*common, (0, en, 8), *zip((16, 17, 18, 92), [u8] * 4, hr_cad, strict=True)]
    ses += [(22, u16, up), (23, u16, down), (25, u16, 0), (26, u16, 1)]
    ses += [(5, en, SPORTS[sport]), (6, en, SUB_SPORTS[sub_sport])]
    file_id = [(0, en, 4), (1, u16, manufacturer), (2, u16, product)]
    file_id += [(3, "uint32z", 3_900_000_000 + product), (4, u32, t0)]
    activity = [(253, u32, t1), (0, u32, ms), (1, u16, 1), (2, en, 0), (3, en, 26)]
    activity += [(4, en, 1), (5, u32, t1 + utc_offset_s)]  # local_timestamp
    body = b"".join(
        (
            _fit_message(0, 0, file_id),
            _fit_message(1, 21, [(253, u32, t0), (0, en, 0), (1, en, 0)]),  # start
            _fit_records(run.samples, 2),
            _fit_message(1, 21, [(253, u32, t1), (0, en, 0), (1, en, 4)]),  # stop_all
            _fit_message(3, 19, lap),
            _fit_message(4, 18, ses),
            _fit_message(5, 34, activity),
        )
    )
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    return header + body + struct.pack("<H", fit_crc(header + body))


def write_gpx(
    run: SyntheticRun,
    *,
    creator: str = "kneeload synth",
    type: str = "running",
    cadence_unit: str = "per_leg",
    name: str | None = None,
) -> bytes:
    """Encode ``run`` as GPX 1.1 with Garmin TrackPointExtension hr and cad.

    ``cadence_unit`` is "per_leg" (Garmin Connect exports) or "spm" (as Strava has
    written it); GPX cad is an integer either way. Built from a string template:
    gpxpy's ``to_xml`` takes ~0.5 s per one-hour 1 Hz track, too slow for a corpus.
    """
    if cadence_unit not in ("per_leg", "spm"):
        raise ValueError(f"cadence_unit must be per_leg or spm, not {cadence_unit!r}")
    s = run.samples
    factor = 2.0 if cadence_unit == "spm" else 1.0
    stamps = np.datetime_as_string(s["time_s"].astype("datetime64[s]"), unit="s")
    rows = zip(
        np.round(s["lat_deg"], 7).tolist(),
        np.round(s["lon_deg"], 7).tolist(),
        np.round(s["altitude_m"], 1).tolist(),
        stamps.tolist(),
        s["heart_rate_bpm"].astype(int).tolist(),
        np.round(s["cadence_raw"] * factor).astype(int).tolist(),
        strict=True,
    )
    points = "".join(_GPX_POINT % row for row in rows)
    title = name or f"Run {stamps[0][:10]}"
    head = _GPX_HEAD.format(
        creator=quoteattr(creator),
        time=stamps[0],
        name=escape(title),
        type=escape(type),
    )
    return (head + points + "</trkseg></trk></gpx>\n").encode("utf-8")


_GPX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator={creator} xmlns="http://www.topografix.com/GPX/1/1"'
    f' xmlns:gpxtpx="{GPX_TPX_NS}">\n'
    "<metadata><time>{time}Z</time></metadata>\n"
    "<trk><name>{name}</name><type>{type}</type><trkseg>\n"
)
_GPX_POINT = (
    '<trkpt lat="%.7f" lon="%.7f"><ele>%.1f</ele><time>%sZ</time><extensions>'
    "<gpxtpx:TrackPointExtension><gpxtpx:hr>%d</gpxtpx:hr><gpxtpx:cad>%d</gpxtpx:cad>"
    "</gpxtpx:TrackPointExtension></extensions></trkpt>\n"
)


def make_corpus(
    folder: Path,
    n_runs: int,
    *,
    fmt: str = "fit",
    duration_s: float = 3600,
    interval_s: int = 1,
    seed: int = 0,
) -> list[Path]:
    """Write ``n_runs`` varied runs of ``duration_s`` (one a day from 2021-01-01)."""
    if fmt not in ("fit", "gpx"):
        raise ValueError(f"fmt must be fit or gpx, not {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    first = datetime(2021, 1, 1, 6, 30, tzinfo=UTC).timestamp()
    paths = []
    for i in range(n_runs):
        hill = float(rng.uniform(0, 60))
        run = simulate_run(
            datetime.fromtimestamp(first + i * 86400 + rng.integers(0, 12 * 3600), UTC),
            duration_s=duration_s,
            pace_s_per_km=float(rng.uniform(300, 390)),
            cadence_spm=float(rng.uniform(158, 178)),
            hr_mean=float(rng.uniform(130, 155)),
            elevation_profile=((0, 0), (2, hill), (4, 0), (7, hill), (9, 0)),
            interval_s=interval_s,
            seed=seed * 1_000_003 + i,
        )
        path = folder / f"run_{i:05d}.{fmt}"
        path.write_bytes(write_fit(run) if fmt == "fit" else write_gpx(run))
        paths.append(path)
    return paths
