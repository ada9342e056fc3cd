"""Per-session internal load from heart-rate histograms (RULES §2 L3, L6).

Each activity carries ``hr_hist``: seconds spent at each whole bpm 0..255. Banister
TRIMP and high-intensity minutes for any HR max/rest/sex come from it without
re-reading files, so a settings change takes effect at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kneeload.analysis.dates import local_days
from kneeload.config import AthleteSettings, Settings

#: Banister exponential TRIMP constants (a, b) by sex (Morton et al. 1990; RULES L3).
TRIMP_CONSTANTS: dict[str, tuple[float, float]] = {
    "male": (0.64, 1.92),
    "female": (0.86, 1.67),
}
#: Resting HR used when none is configured: a conservative adult value. A higher
#: rest shrinks the heart-rate reserve fraction, so TRIMP is not overstated.
DEFAULT_HR_REST = 60.0
#: HR max used when neither config nor data give one (no HR in any activity).
DEFAULT_HR_MAX = 190.0
HIST_BINS = 256
#: The HR-max estimate looks back this far and never goes above the cap (§1.5).
HR_MAX_LOOKBACK_DAYS = 730
HR_MAX_CAP = 220.0


@dataclass(frozen=True)
class HeartRateProfile:
    """HR max/rest and sex used for TRIMP, with where each value came from."""

    hr_max: float
    hr_rest: float
    sex: str
    hr_max_source: str  # "config" | "estimated" | "default"
    hr_rest_source: str  # "config" | "default"
    sex_source: str  # "config" | "default"
    notes: list[str] = field(default_factory=list)


def lthr(hr_rest: float, hr_max: float, fraction: float = 0.85) -> float:
    """LTHR = HR_rest + fraction·(HR_max - HR_rest), Elevate's default (RULES L6)."""
    return hr_rest + fraction * (hr_max - hr_rest)


def trimp_weights(*, hr_rest: float, hr_max: float, sex: str | None) -> np.ndarray:
    """TRIMP per minute at each whole bpm 0..255: x·a·e^(b·x), x = HRR fraction."""
    a, b = TRIMP_CONSTANTS.get(sex or "male", TRIMP_CONSTANTS["male"])
    bpm = np.arange(HIST_BINS, dtype=float)
    x = np.clip((bpm - hr_rest) / (hr_max - hr_rest), 0.0, 1.0)
    return x * a * np.exp(b * x)


def trimp_from_hist(
    hist: np.ndarray, *, hr_rest: float, hr_max: float, sex: str | None
) -> float:
    """Banister TRIMP of one session from its seconds-per-bpm histogram.

    Sex ``None`` uses the male constants (RULES L3); the caller labels that.
    """
    w = trimp_weights(hr_rest=hr_rest, hr_max=hr_max, sex=sex)
    return float(np.asarray(hist, dtype=float) @ w / 60.0)


def high_intensity_s(hist: np.ndarray, *, threshold_bpm: float) -> float:
    """Seconds at or above ``threshold_bpm`` (whole-bpm bins)."""
    start = max(0, math.ceil(threshold_bpm))
    return float(np.asarray(hist, dtype=float)[start:].sum())


def hist_matrix(hists: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Stack an object column of histograms into (n, 256); rows without one are 0."""
    has = np.array(
        [isinstance(h, (np.ndarray, list)) and len(h) == HIST_BINS for h in hists],
        dtype=np.bool_,
    )
    mat = np.zeros((len(hists), HIST_BINS), dtype=float)
    if has.any():
        mat[has] = np.stack(
            [np.asarray(h, dtype=float) for h, k in zip(hists, has, strict=True) if k]
        )
    return mat, has


def load_rows(activities: pd.DataFrame) -> pd.DataFrame:
    """The activities that count for load and rules: ``in_load`` rows only.

    Excluded activities and unconfirmed suspect ones stay out of every analysis
    (RULES §1.5, §1.6); a frame without the column (hand-built) counts whole.
    """
    if "in_load" not in activities or activities["in_load"].all():
        return activities
    return activities[activities["in_load"].to_numpy(dtype=bool)]


def heart_rate_profile(
    activities: pd.DataFrame, *, athlete: AthleteSettings
) -> HeartRateProfile:
    """Resolve HR max/rest/sex from config, else estimate from the data and say so."""
    notes: list[str] = []
    activities = load_rows(activities)  # no suspect or excluded run (RULES §1.5)
    if athlete.hr_max is not None:
        hr_max, max_src = float(athlete.hr_max), "config"
    else:
        hr_max, max_src = estimate_hr_max(activities, notes)
    hr_rest, rest_src = _resting(athlete, notes)
    if hr_max <= hr_rest + 20:
        notes.append("HR max barely above HR rest; TRIMP is unreliable")
        hr_max = hr_rest + 20
    sex, sex_src = (athlete.sex, "config") if athlete.sex else ("male", "default")
    if sex_src == "default":
        notes.append("sex not set; TRIMP uses the male constants (RULES L3)")
    return HeartRateProfile(hr_max, hr_rest, sex, max_src, rest_src, sex_src, notes)


def estimate_hr_max(
    activities: pd.DataFrame, notes: list[str] | None = None
) -> tuple[float, str]:
    """HR max from the data, never from one sample (RULES §1.5).

    Per activity the highest 30-s rolling median of HR (``hr_peak30``, kept by the
    store); then the 2nd highest of those over the in-load activities of the
    last 2 years (before the latest one), capped at 220 bpm. A frame without
    ``hr_peak30`` (built by hand) uses the activity maxima the same way.
    Returns (bpm, "estimated") or the default with "default".
    """
    notes = [] if notes is None else notes
    acts = load_rows(activities)
    column = "hr_peak30" if "hr_peak30" in acts else "max_hr"
    if column not in acts or acts.empty:
        notes.append(f"HR max unknown; using {DEFAULT_HR_MAX:.0f} bpm")
        return DEFAULT_HR_MAX, "default"
    peaks = pd.to_numeric(acts[column], errors="coerce")
    if "local_date" in acts:
        day = local_days(acts)
        peaks = peaks[(day > day.max() - pd.Timedelta(days=HR_MAX_LOOKBACK_DAYS))]
    peaks = peaks[(peaks > 0) & np.isfinite(peaks)].sort_values(ascending=False)
    if peaks.empty:
        notes.append(f"HR max unknown; using {DEFAULT_HR_MAX:.0f} bpm")
        return DEFAULT_HR_MAX, "default"
    rank = 1 if len(peaks) >= 2 else 0
    hr_max = min(float(peaks.iloc[rank]), HR_MAX_CAP)
    what = (
        "30-s HR peaks (the highest 30-s median of each)"
        if column == "hr_peak30"
        else "maximum heart rates"
    )
    which = "2nd highest" if rank else "only one"
    capped = f", capped at {HR_MAX_CAP:.0f}" if hr_max == HR_MAX_CAP else ""
    notes.append(
        f"HR max {hr_max:.0f} bpm estimated as the {which} of the {what} of "
        f"{len(peaks)} activities in the last 2 years{capped}; suspect activities "
        "left out (RULES §1.5). Set [athlete] hr_max for accurate TRIMP"
    )
    return hr_max, "estimated"


def _resting(athlete: AthleteSettings, notes: list[str]) -> tuple[float, str]:
    if athlete.hr_rest is not None:
        return float(athlete.hr_rest), "config"
    notes.append(f"HR rest not set; using a conservative {DEFAULT_HR_REST:.0f} bpm")
    return DEFAULT_HR_REST, "default"


def session_trimp_hi(
    activities: pd.DataFrame, profile: HeartRateProfile, *, lthr_fraction: float = 0.85
) -> pd.DataFrame:
    """Per-activity TRIMP and high-intensity seconds (NaN where no HR histogram)."""
    mat, has = hist_matrix(list(activities["hr_hist"]))
    w = trimp_weights(hr_rest=profile.hr_rest, hr_max=profile.hr_max, sex=profile.sex)
    trimp = mat @ w / 60.0
    start = max(0, math.ceil(lthr(profile.hr_rest, profile.hr_max, lthr_fraction)))
    hi = mat[:, start:].sum(axis=1)
    return pd.DataFrame(
        {"trimp": np.where(has, trimp, np.nan), "hi_s": np.where(has, hi, np.nan)},
        index=activities.index,
    )


def add_trimp(activities: pd.DataFrame, *, settings: Settings) -> pd.DataFrame:
    """A copy of ``activities`` with a ``trimp`` column (NaN where no HR histogram)."""
    profile = heart_rate_profile(activities, athlete=settings.athlete)
    fraction = settings.thresholds.intensity_ramp.lthr_fraction
    loads = session_trimp_hi(activities, profile, lthr_fraction=fraction)
    return activities.assign(trimp=loads["trimp"])
