"""The rule ids, declared once (RULES §3-§7; INTERFACE.md "Rule ids").

A leaf module: the rule functions name their own flags with these constants
without importing :mod:`kneeload.analysis.registry`, which imports them. Everything
else about a rule (its name, function, formats, tags) is in the registry.
"""

from __future__ import annotations

SESSION_SPIKE = "session_spike"
WEEKLY_RAMP = "weekly_ramp"
ACWR_HIGH = "acwr_high"
ACWR_LOW = "acwr_low"
INTENSITY_RAMP = "intensity_ramp"
MONOTONY_HIGH = "monotony_high"
CADENCE_LOW = "cadence_low"
STEP_LENGTH_UP = "step_length_up"
DESCENT_RAMP = "descent_ramp"
TAPER_VOLUME = "taper_volume"
TAPER_RELAXED = "taper_relaxed"
TAPER_FREQUENCY = "taper_frequency"
TAPER_INTENSITY = "taper_intensity"
