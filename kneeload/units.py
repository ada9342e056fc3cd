"""Distances, speeds and paces as a runner reads them, in km or miles.

Everything inside kneeload is SI; only text shown to a person goes through here.
"""

from __future__ import annotations

MILE_M = 1609.344  # international mile
FOOT_M = 0.3048  # international foot


def per_unit_m(units: str) -> float:
    """Metres in one display unit ("km" or "mi")."""
    return MILE_M if units == "mi" else 1000.0


def km_per_unit(units: str) -> float:
    """Kilometres in one display unit (1 for km, 1.609 for miles)."""
    return per_unit_m(units) / 1000.0


def distance_text(km: float, units: str = "km", digits: int = 1) -> str:
    """E.g. ``19.0 km`` or ``11.8 mi``."""
    return f"{km * 1000.0 / per_unit_m(units):.{digits}f} {units}"


def climb_text(metres: float, units: str = "km") -> str:
    """Ascent or descent: metres with km, feet with miles (``410 m``, ``1345 ft``)."""
    if units == "mi":
        return f"{metres / FOOT_M:.0f} ft"
    return f"{metres:.0f} m"


def weekly_text(km: float, units: str = "km") -> str:
    """A weekly volume, e.g. ``52 km/week``."""
    return f"{km * 1000.0 / per_unit_m(units):.0f} {units}/week"


def pace_text(speed_mps: float, units: str = "km") -> str:
    """Minutes:seconds per km or per mile, e.g. ``6:13/km``."""
    seconds = round(per_unit_m(units) / speed_mps)
    return f"{seconds // 60}:{seconds % 60:02d}/{units}"
