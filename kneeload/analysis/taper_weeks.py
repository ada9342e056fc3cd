"""One race-aligned taper week (RULES §7): the data the taper check and flags share.

Kept apart from :mod:`kneeload.analysis.taper` so that
:mod:`kneeload.analysis.taper_flags` can read weeks without importing the check
that imports it (no cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class TaperWeek:
    """One race-aligned week: its km, runs, ratio to baseline and expected band."""

    week: int
    start: date
    end: date
    km: float
    runs: int
    hi_min: float
    status: str  # "done" | "in_progress" | "to_come"
    ratio: float | None
    expected: tuple[float, float] | None
    target_km: tuple[float, float] | None = None
    pct_of_peak: float | None = None

    def to_json(self) -> dict[str, Any]:
        """One entry of ``weeks`` in ``taper --json``."""
        out: dict[str, Any] = {
            "week": self.week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "km": None if self.status == "to_come" else round(self.km, 2),
            "runs": None if self.status == "to_come" else self.runs,
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "expected": None if self.expected is None else list(self.expected),
            "status": self.status,
            "pct_of_peak": rounded(self.pct_of_peak, 1),
        }
        if self.target_km is not None:
            out["target_km"] = [round(v, 1) for v in self.target_km]
        if self.target_km is not None and self.status == "in_progress":
            left = [max(0.0, v - self.km) for v in self.target_km]
            out["remaining_km"] = [round(v, 1) for v in left]
        return out


def rounded(value: float | None, ndigits: int) -> float | None:
    """``round(value, ndigits)``, None kept."""
    return None if value is None else round(float(value), ndigits)
