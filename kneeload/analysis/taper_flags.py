"""R-TAPER flags and their citations (RULES §7, §11): all INFO, never injury rules.

``taper_volume`` (W-1/B above 0.75 or below 0.30), ``taper_relaxed`` (a taper week
more than 5 % above the week before), ``taper_frequency`` (runs/week in weeks -2 … -1
under 80 % of baseline) and ``taper_intensity`` (no high-intensity minutes in weeks
-2 … -1 when the baseline had some).
"""

from __future__ import annotations

import itertools

import numpy as np

from kneeload.analysis.evidence import Evidence, Flag
from kneeload.analysis.rule_ids import (
    TAPER_FREQUENCY,
    TAPER_INTENSITY,
    TAPER_RELAXED,
    TAPER_VOLUME,
)
from kneeload.analysis.taper_weeks import TaperWeek
from kneeload.config import TaperSettings
from kneeload.units import distance_text, weekly_text

BOSQUET_2007 = Evidence(
    "Bosquet, Montpetit, Arvisais, Mujika 2007, Effects of tapering on performance: "
    "a meta-analysis (27 studies), MSSE 39:1358-1365, "
    "doi:10.1249/mss.0b013e31806010e0",
    "A",
)
MUJIKA_PADILLA_2003 = Evidence(
    "Mujika & Padilla 2003, Scientific bases for precompetition tapering "
    "strategies, MSSE 35:1182-1187",
    "A",
)
SMYTH_LAWLOR_2021 = Evidence(
    "Smyth & Lawlor 2021, Longer disciplined tapers improve marathon performance "
    "(>158,000 recreational marathoners), Front Sports Act Living 3:735220, "
    "doi:10.3389/fspor.2021.735220",
    "A",
)
TAPER_EVIDENCE: tuple[Evidence, ...] = (
    BOSQUET_2007,
    MUJIKA_PADILLA_2003,
    SMYTH_LAWLOR_2021,
)


def taper_flags(
    weeks: list[TaperWeek],
    baseline: float,
    base_runs: float | None,
    base_hi: float | None,
    *,
    cfg: TaperSettings,
    units: str = "km",
) -> list[Flag]:
    """taper_volume, taper_relaxed, taper_frequency, taper_intensity (all INFO)."""
    by = {w.week: w for w in weeks}
    return (
        _volume_flag(by[-1], baseline, cfg, units)
        + _relaxed_flags(weeks, cfg, units)
        + _frequency_flag(by, base_runs, cfg)
        + _intensity_flag(by, base_hi)
    )


def _volume_flag(
    w1: TaperWeek, baseline: float, cfg: TaperSettings, units: str
) -> list[Flag]:
    """W-1/B > 0.75 (less reduction than typical) or < 0.30 (very deep cut)."""
    if w1.status == "to_come" or w1.ratio is None:
        return []
    pct, usual = 100 * w1.ratio, weekly_text(baseline, units)
    if w1.ratio > cfg.volume_over:
        text = (
            f"Race week was {pct:.0f}% of your usual {usual}: less "
            "reduction than typical. Tapers cutting volume by about 40-60% over the "
            "last 2-3 weeks, keeping intensity and frequency, have been associated "
            "with the best race performances."
        )
        threshold = cfg.volume_over
    elif w1.ratio < cfg.volume_under and w1.status == "done":
        text = (
            f"Race week was only {pct:.0f}% of your usual {usual}: a "
            "very deep cut. Studies of successful tapers kept running frequency and "
            "some intensity while cutting volume."
        )
        threshold = cfg.volume_under
    else:
        return []
    return [
        Flag(TAPER_VOLUME, "info", w1.end, w1.ratio, threshold, text,
             list(TAPER_EVIDENCE))
    ]  # fmt: skip


def _relaxed_flags(
    weeks: list[TaperWeek], cfg: TaperSettings, units: str
) -> list[Flag]:
    """A later taper week more than 5 % above the week before (relaxed taper)."""
    out: list[Flag] = []
    for prev, cur in itertools.pairwise(weeks):
        if prev.status != "done" or cur.status == "to_come" or prev.km <= 0:
            continue
        if cur.km > cfg.relaxed_ratio * prev.km:
            text = (
                f"Relaxed taper: week {cur.week} ({distance_text(cur.km, units)}) was "
                f"more than week {prev.week} ({distance_text(prev.km, units)}). In a "
                "study of over 158,000 "
                "recreational marathoners, strict, progressively decreasing tapers "
                "were associated with faster finishes than relaxed ones."
            )
            out.append(
                Flag(TAPER_RELAXED, "info", cur.end, cur.km / prev.km,
                     cfg.relaxed_ratio, text, [SMYTH_LAWLOR_2021, BOSQUET_2007])
            )  # fmt: skip
    return out


def _frequency_flag(
    by: dict[int, TaperWeek], base_runs: float | None, cfg: TaperSettings
) -> list[Flag]:
    """Runs/week in weeks -2 … -1 under 80 % of the baseline (frequency cut > 20 %)."""
    done = [by[k] for k in (-2, -1) if by[k].status == "done"]
    if not done or not base_runs:
        return []
    per_week = float(np.mean([w.runs for w in done]))
    if per_week >= cfg.frequency_ratio * base_runs:
        return []
    text = (
        f"You ran {per_week:.1f} times a week in the last taper weeks against a usual "
        f"{base_runs:.1f}: frequency cut by more than "
        f"{100 * (1 - cfg.frequency_ratio):.0f}%. Studies of tapering "
        "reduced volume mainly by shortening runs and kept most of the running "
        "frequency."
    )
    return [
        Flag(TAPER_FREQUENCY, "info", done[-1].end, per_week / base_runs,
             cfg.frequency_ratio, text, [MUJIKA_PADILLA_2003, BOSQUET_2007])
    ]  # fmt: skip


def _intensity_flag(by: dict[int, TaperWeek], base_hi: float | None) -> list[Flag]:
    """No high-intensity minutes in weeks -2 … -1 when the baseline had some."""
    if by[-1].status != "done" or not base_hi or base_hi <= 0:
        return []
    if by[-2].hi_min + by[-1].hi_min > 0:
        return []
    text = (
        "No high-intensity running in the last two weeks, although your usual weeks "
        f"had about {base_hi:.0f} minutes: keep some intensity. Tapers that "
        "maintained intensity while cutting volume were associated with better "
        "performance."
    )
    return [
        Flag(TAPER_INTENSITY, "info", by[-1].end, 0.0, 0.0, text,
             [BOSQUET_2007, MUJIKA_PADILLA_2003])
    ]  # fmt: skip
