"""Allowed ranges of the settings and the relations between them (issue 9).

Read by :func:`kneeload.config.load_settings`: a number outside its range, NaN or
an infinity, or two settings that contradict each other is a
:class:`~kneeload.errors.ConfigError` naming the file and the key. Every number
under ``[thresholds]`` not listed in :data:`RANGES` must be >= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kneeload.errors import ConfigError


@dataclass(frozen=True)
class Range:
    """Allowed values of one number: ``lo`` … ``hi`` (``lo`` excluded if open)."""

    lo: float | None = 0.0
    hi: float | None = None
    lo_open: bool = False

    def problem(self, value: float) -> str | None:
        """Why ``value`` is out of range, or None."""
        if self.lo is not None and (
            value <= self.lo if self.lo_open else value < self.lo
        ):
            return f"must be {'more than' if self.lo_open else 'at least'} {self.lo:g}"
        if self.hi is not None and value > self.hi:
            return f"must be at most {self.hi:g}"
        return None


_DAYS = Range(1)  # a window of whole days (or weeks, runs): at least 1
_POSITIVE = Range(0.0, lo_open=True)
_FRACTION = Range(0.0, 1.0)
#: Ranges by dotted key. Every other number under [thresholds] must be >= 0;
#: athlete and email numbers are listed here. NaN and infinities never pass.
RANGES: dict[str, Range] = {
    "athlete.hr_max": Range(100, 240),  # RULES §1.5: HR outside 25-240 is no value
    "athlete.hr_rest": Range(25, 120),
    "email.port": Range(1, 65535),
    "thresholds.acwr.acute_days": _DAYS,
    "thresholds.acwr.chronic_days": Range(2),
    "thresholds.acwr.ewma_final_days": _DAYS,
    "thresholds.acwr.break_days": _DAYS,
    "thresholds.acwr_high.info_above": _POSITIVE,
    "thresholds.acwr_high.caution_above": _POSITIVE,
    "thresholds.session_spike.caution_ratio": Range(1.0),
    "thresholds.session_spike.warning_ratio": Range(1.0),
    "thresholds.session_spike.window_days": _DAYS,
    "thresholds.session_spike.min_runs": _DAYS,
    "thresholds.intensity_ramp.lthr_fraction": Range(0.0, 1.0, lo_open=True),
    "thresholds.intensity_ramp.hi_share": _FRACTION,
    "thresholds.intensity_ramp.baseline_weeks": _DAYS,
    "thresholds.monotony_high.strain_percentile": Range(0.0, 100.0),
    "thresholds.monotony_high.strain_weeks": _DAYS,
    "thresholds.cadence_low.base_spm": Range(0.0, 260.0, lo_open=True),
    "thresholds.cadence_low.residual_pct": Range(-100.0, 0.0),
    "thresholds.cadence_low.consecutive_runs": _DAYS,
    "thresholds.cadence_low.min_runs": Range(2),  # a line needs two points
    "thresholds.cadence_low.min_weeks": _DAYS,
    "thresholds.cadence_low.min_speed_bands": _DAYS,
    "thresholds.cadence_low.speed_band_kmh": _POSITIVE,
    "thresholds.cadence_low.model_weeks": _DAYS,
    "thresholds.cadence_suggest.low_factor": _POSITIVE,
    "thresholds.cadence_suggest.high_factor": _POSITIVE,
    "thresholds.cadence_suggest.min_runs": _DAYS,
    "thresholds.cadence_suggest.window_weeks": _DAYS,
    "thresholds.descent_ramp.baseline_weeks": _DAYS,
    "thresholds.descent_ramp.window_days": _DAYS,
    "thresholds.taper.frequency_ratio": _FRACTION,
    "thresholds.taper.peak_weeks": Range(4),  # the peak is week -4 or earlier
    "thresholds.knee.minimal_pain": Range(0, 10),
    "thresholds.knee.manageable_pain": Range(0, 10),
    "thresholds.knee.clinician_pain": Range(1, 10),
    "thresholds.knee.stage2_minutes": _POSITIVE,
    "thresholds.knee.stage3_minutes": _POSITIVE,
    "thresholds.knee.stage_window_days": _DAYS,
    "thresholds.knee.pain_window_days": _DAYS,
    "thresholds.knee.strength_min_per_week": Range(0, 14),
    "thresholds.knee.strength_max_per_week": Range(1, 14),
    "thresholds.knee.descriptive_min_notes": _DAYS,
    "thresholds.shoes.context_days": _DAYS,
    "thresholds.shoes.surface_change_pp": Range(0.0, 100.0),
    "thresholds.shoes.surface_baseline_weeks": _DAYS,
}
#: (smaller key, larger key, strict): relations between two settings.
RELATIONS: tuple[tuple[str, str, bool], ...] = (
    ("athlete.hr_rest", "athlete.hr_max", True),
    ("thresholds.acwr.acute_days", "thresholds.acwr.chronic_days", True),
    ("thresholds.acwr_low.info_below", "thresholds.acwr_high.info_above", False),
    ("thresholds.acwr_high.info_above", "thresholds.acwr_high.caution_above", False),
    ("thresholds.session_spike.caution_ratio",
     "thresholds.session_spike.warning_ratio", False),
    ("thresholds.weekly_ramp.info_pct", "thresholds.weekly_ramp.caution_pct", False),
    ("thresholds.taper.volume_under", "thresholds.taper.volume_over", True),
    ("thresholds.cadence_suggest.low_factor",
     "thresholds.cadence_suggest.high_factor", False),
    ("thresholds.knee.minimal_pain", "thresholds.knee.manageable_pain", False),
    ("thresholds.knee.manageable_pain", "thresholds.knee.clinician_pain", True),
    ("thresholds.knee.stage2_minutes", "thresholds.knee.stage3_minutes", True),
    ("thresholds.knee.strength_min_per_week",
     "thresholds.knee.strength_max_per_week", False),
)  # fmt: skip


def _lookup(settings: Any, dotted: str) -> Any:
    obj: Any = settings
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def check_relations(settings: Any, keys: set[str], path: str) -> None:
    """Each relation of :data:`RELATIONS` that a key of the file takes part in."""
    for small, large, strict in RELATIONS:
        if small not in keys and large not in keys:
            continue
        lo, hi = _lookup(settings, small), _lookup(settings, large)
        if lo is None or hi is None or (lo < hi if strict else lo <= hi):
            continue
        named, other = (large, small) if large in keys else (small, large)
        word = "above" if named == large else "below"
        if not strict:
            word = "at least" if named == large else "at most"
        raise ConfigError(
            path, named, f"must be {word} {other} ({_lookup(settings, other):g})"
        )


def check_bounds(value: Any, path: str, key: str) -> None:
    """Numbers: finite, and inside :data:`RANGES` (thresholds: >= 0 by default)."""
    numbers = value if isinstance(value, tuple) else (value,)
    for v in numbers:
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        if not math.isfinite(v):
            raise ConfigError(path, key, f"must be a finite number, got {v!r}")
        default = Range() if key.startswith("thresholds.") else None
        bounds = RANGES.get(key, default)
        problem = bounds.problem(float(v)) if bounds else None
        if problem:
            raise ConfigError(path, key, f"{problem}, got {v:g}")
