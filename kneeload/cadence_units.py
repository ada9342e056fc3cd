"""Decide what a file's cadence numbers mean and convert them to steps/min (RULES §1.2).

Files disagree: Garmin FIT and TCX store one leg (strides/min), Strava GPX has
carried steps/min, some writers double twice. We never trust the format; we look
at the median of *moving* samples (speed > 1.5 m/s, cadence > 0):

===============  ======================================  ==========
median ``c``     meaning                                 factor
===============  ======================================  ==========
60-110           strides per leg                         x 2
130-230          already steps/min                       x 1
> 260            doubled twice                           / 2
110-130          ambiguous: keep the one hypothesis      x 2 or x 1
                 whose implied step length
                 ``v / (spm / 60)`` is 0.6-1.8 m
230-260          ambiguous, same test                    x 1 or / 2
< 60             same test (extension of RULES §1.2:     x 2 or x 1
                 slow walks/shuffles store ~55 per leg)
===============  ======================================  ==========

When both or neither hypotheses fit, the unit is "unknown" and cadence is left out
of the rules (no per-creator table yet). Walking rarely reaches 1.5 m/s, so with
fewer than ``MIN_MOVING_SAMPLES`` such samples the test falls back to speed
> 0.5 m/s. Cycling cadence is crank rpm and swimming cadence is strokes: never
converted.

Also here: the time-weighted statistics and the steady-pace stretches (RULES §6.2)
that the cadence and step-length rules compare.
"""

from __future__ import annotations

import numpy as np

GAIT_SPEED_MPS = 1.5  # RULES §1.2 "moving samples" for the unit test
MOVING_SPEED_MPS = 0.5  # RULES §1.3 stop threshold
GAP_CAP_S = 10.0  # RULES §10: a sample holds until the next, at most 10 s
STEADY_MIN_S = 60.0
STEADY_SPEED_TOL = 0.05
STEADY_MAX_GRADE = 0.02
STEADY_AFTER_S = 300.0
SPEED_SMOOTH_S = 10.0
MIN_MOVING_SAMPLES = 10
STEP_LENGTH_RANGE_M = (0.6, 1.8)
STEP_SPORTS = ("running", "walking")
#: (lowest, highest median, factor to steps/min) of the unambiguous bands
_BANDS = ((60.0, 110.0, 2.0), (130.0, 230.0, 1.0), (260.0, np.inf, 0.5))


def hold_weights(time_s: np.ndarray, cap_s: float = GAP_CAP_S) -> np.ndarray:
    """Seconds each sample holds until the next (capped); NaN times and the last: 0."""
    w = np.zeros(time_s.size)
    ok = np.flatnonzero(np.isfinite(time_s))
    if ok.size >= 2:
        w[ok[:-1]] = np.clip(np.diff(time_s[ok]), 0.0, cap_s)
    return w


def gait_mask(cadence_raw: np.ndarray, speed_mps: np.ndarray) -> np.ndarray:
    """Samples used for cadence statistics: moving (speed > 1.5 m/s) with cadence > 0.

    Falls back to speed > 0.5 m/s (walks), then to cadence > 0 alone (no speed).
    """
    has_cad = cadence_raw > 0
    if not np.isfinite(speed_mps).any():
        return has_cad
    fast = has_cad & (speed_mps > GAIT_SPEED_MPS)
    if np.count_nonzero(fast) >= MIN_MOVING_SAMPLES:
        return fast
    return has_cad & (speed_mps > MOVING_SPEED_MPS)


def detect_cadence_factor(
    cadence_raw: np.ndarray, speed_mps: np.ndarray, mask: np.ndarray, fmt: str
) -> tuple[float | None, str]:
    """Return (factor to steps/min or None, audit string) for one activity."""
    if not mask.any():
        return None, f"unknown ({fmt}: no moving samples with cadence)"
    c = float(np.median(cadence_raw[mask]))
    tag = f"(median {c:.0f})"
    for lo, hi, factor in _BANDS:
        if lo <= c <= hi:
            return factor, f"{fmt} {_NAMES[factor]} {tag}"
    if c > 230:
        return _resolve_ambiguous(c, (1.0, 0.5), speed_mps, mask, fmt)
    return _resolve_ambiguous(c, (2.0, 1.0), speed_mps, mask, fmt)


def _resolve_ambiguous(
    c: float,
    factors: tuple[float, float],
    speed_mps: np.ndarray,
    mask: np.ndarray,
    fmt: str,
) -> tuple[float | None, str]:
    """Keep the one factor whose implied step length is plausible (0.6-1.8 m)."""
    speed = speed_mps[mask]
    if not np.isfinite(speed).any():
        return None, f"unknown ({fmt} median {c:.0f} ambiguous, no speed)"
    v = float(np.nanmedian(speed))
    lo, hi = STEP_LENGTH_RANGE_M
    fits = [f for f in factors if lo <= v / (c * f / 60) <= hi]
    if len(fits) != 1:
        return None, f"unknown ({fmt} median {c:.0f} ambiguous at {v:.2f} m/s)"
    factor = fits[0]
    step = v / (c * factor / 60)
    return (
        factor,
        f"{fmt} {_NAMES[factor]} by step length {step:.2f} m (median {c:.0f})",
    )


_NAMES = {2.0: "per-leg x2", 1.0: "steps/min", 0.5: "doubled /2"}


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float | None:
    """Weighted median: the smallest value whose cumulative weight reaches half.

    Each value counts its weight (e.g. seconds held). On an exact half split the
    lower of the two middle values is returned (``[1, 2]`` with equal weights
    gives 1). None when there is no value or no weight. The one definition used
    by the readers' summaries and the cadence analysis.
    """
    total = float(weights.sum())
    if values.size == 0 or total <= 0:
        return None
    # the result does not depend on the order of equal values: the default
    # (introsort) is twice as fast as a stable sort on a one-hour activity
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, total / 2)])


def time_weighted_mean(values: np.ndarray, weights: np.ndarray) -> float | None:
    """Weighted mean of the finite ``values`` (plain mean if weights sum to 0)."""
    ok = np.isfinite(values)
    if not ok.any():
        return None
    total = float(weights[ok].sum())
    if total <= 0:
        return float(values[ok].mean())
    return float(np.dot(values[ok], weights[ok]) / total)


def steady_segments(
    t: np.ndarray,
    w: np.ndarray,
    speed: np.ndarray,
    spm: np.ndarray,
    grade: np.ndarray,
    start: float,
) -> list[dict[str, float]]:
    """Steady stretches (RULES §6.2): >= 60 s, speed within +/-5 % of the median, flat.

    Eligible samples: after minute 5, cadence and speed present, |grade| < 2 %
    (grade not required when the file has no altitude), no gap to the next sample
    above 10 s. Speed is smoothed over about 10 s first (GPS speed jitters > 5 %).
    A stretch starts at a 60 s window whose smoothed speeds spread by at most 5 %
    (so each is within 5 % of the window median), extends while speed stays within
    5 % of that median, and is trimmed to stay within 5 % of its own median.
    """
    n = t.size
    if n < 3 or not np.isfinite(t).all() or not np.isfinite(spm).any():
        return []
    if np.any(np.diff(t) < 0):
        return []
    v = _smooth_speed(speed, t)
    flat = np.abs(grade) < STEADY_MAX_GRADE if np.isfinite(grade).any() else True
    dt_next = np.append(np.diff(t), np.inf)
    ok = (t - start >= STEADY_AFTER_S) & (spm > 0) & (v > MOVING_SPEED_MPS)
    ok &= flat & (dt_next <= GAP_CAP_S)
    if not ok.any():
        return []
    # first ineligible index at or after each sample (the last sample is never ok)
    next_bad = np.minimum.accumulate(np.where(ok, n, np.arange(n))[::-1])[::-1]
    first = np.searchsorted(t, t + STEADY_MIN_S, side="left")
    starts = np.flatnonzero(ok & (first < n) & (first <= next_bad))
    if starts.size == 0:
        return []
    pairs = np.column_stack((starts, first[starts])).ravel()
    ext = np.append(v, 0.0)
    vmax = np.maximum.reduceat(ext, pairs)[::2]
    vmin = np.minimum.reduceat(ext, pairs)[::2]
    starts = starts[vmax <= vmin * (1 + STEADY_SPEED_TOL)]
    out: list[dict[str, float]] = []
    k = 0
    while k < starts.size:
        a = int(starts[k])
        stop = _extend(a, int(first[a]), int(next_bad[a]), v)
        if t[stop] - t[a] >= STEADY_MIN_S:
            out.append(_segment(a, stop, t, w, v, spm, grade, start))
            k = int(np.searchsorted(starts, stop))
        else:
            k += 1
    return out


def _extend(a: int, first: int, limit: int, v: np.ndarray) -> int:
    """End (exclusive) of the stretch from ``a``: within 5 % of its median."""
    median = _median(v[a:first])
    outside = np.abs(v[a:limit] / median - 1) > STEADY_SPEED_TOL
    stop = a + int(np.argmax(outside)) if outside.any() else limit
    median = _median(v[a:stop])
    outside = np.abs(v[a:stop] / median - 1) > STEADY_SPEED_TOL
    return a + int(np.argmax(outside)) if outside.any() else stop


def _smooth_speed(speed: np.ndarray, t: np.ndarray) -> np.ndarray:
    dt = np.diff(t[:: max(1, t.size // 512)])  # a subsample is enough for the step
    dt = dt[dt > 0] / max(1, t.size // 512)
    step = float(np.median(dt)) if dt.size else 1.0
    half = round(SPEED_SMOOTH_S / step / 2)
    if half < 1:
        return speed
    filled = np.nan_to_num(speed, nan=0.0)
    csum = np.concatenate(([0.0], np.cumsum(filled)))
    cnt = np.concatenate(([0], np.cumsum(np.isfinite(speed))))
    idx = np.arange(t.size)
    lo = np.clip(idx - half, 0, t.size)
    hi = np.clip(idx + half + 1, 0, t.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = (csum[hi] - csum[lo]) / (cnt[hi] - cnt[lo])
    return np.where(np.isfinite(speed), smooth, np.nan)


def _segment(
    a: int,
    b: int,
    t: np.ndarray,
    w: np.ndarray,
    v: np.ndarray,
    spm: np.ndarray,
    grade: np.ndarray,
    start: float,
) -> dict[str, float]:
    # every sample here is eligible: cadence finite, gaps <= 10 s, >= 60 s in all;
    # grade is NaN throughout when the file has no altitude
    sel = slice(a, b)
    weight = w[sel]
    total = float(weight.sum())
    return {
        "start_s": float(t[a] - start),
        "duration_s": float(t[b] - t[a]),
        "speed_mps": _median(v[sel]),
        "cadence_spm": float(np.dot(spm[sel], weight)) / total,
        "grade": float(np.dot(grade[sel], weight)) / total,
    }


def _median(x: np.ndarray) -> float:
    """Upper median without ``np.median``'s overhead (x is short and finite)."""
    k = x.size // 2
    return float(np.partition(x, k)[k])
