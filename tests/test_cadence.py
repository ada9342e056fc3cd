"""Cadence and step-length rules and the +5-10 % suggestion (RULES §6)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kneeload.analysis.cadence import population_low_spm, round_to_even
from kneeload.analysis.check import cadence_advice, check
from kneeload.cadence_units import weighted_median
from kneeload.config import Settings

START = date(2024, 3, 4)  # a Monday
SETTINGS = Settings()
CFG = SETTINGS.thresholds.cadence_low


def seg(speed_kmh: float, spm: float, duration_s: float = 600.0) -> dict[str, float]:
    return {
        "start_s": 400.0,
        "duration_s": duration_s,
        "speed_mps": speed_kmh / 3.6,
        "cadence_spm": spm,
        "grade": 0.0,
    }


def run(day: int, segments: list[dict[str, float]], km: float = 8.0) -> dict[str, Any]:
    local = pd.Timestamp(START) + pd.Timedelta(days=day)
    return {
        "id": f"r{day}",
        "sport": "running",
        "sub_sport": None,
        "start_utc": (local + pd.Timedelta(hours=7)).tz_localize("UTC"),
        "local_date": local,
        "elapsed_s": 2880.0,
        "moving_s": 2880.0,
        "distance_m": km * 1000,
        "ascent_m": 0.0,
        "descent_m": 0.0,
        "avg_hr": None,
        "max_hr": None,
        "cadence_spm": None,
        "step_length_m": None,
        "downhill_s": 0.0,
        "hr_hist": None,
        "steady_segments": segments,
        "partial": False,
    }


def easy_block(spm: float, extra: list[dict[str, float]] | None = None) -> pd.DataFrame:
    """Six easy runs at 10 km/h over three weeks, each with the given cadence."""
    return pd.DataFrame(
        [run(d, [seg(10.0, spm), *(extra or [])]) for d in range(0, 18, 3)]
    )


AS_OF = START + timedelta(days=15)


def test_population_heuristic_matches_rules_examples() -> None:
    # RULES §6.2: 160 at 10 km/h, 166 at 12, 175 at 15.
    speeds = np.array([10.0, 12.0, 15.0]) / 3.6
    assert population_low_spm(speeds, CFG) == pytest.approx([160.0, 166.0, 175.0])


def test_154_spm_at_10_kmh_is_low_with_162_170_target() -> None:
    acts = easy_block(154.0)
    flags = [
        f
        for f in check(acts, settings=SETTINGS, as_of=AS_OF).flags
        if f.rule == "cadence_low"
    ]
    assert len(flags) == 1
    assert flags[0].severity == "info"
    assert flags[0].value == pytest.approx(154.0)
    assert flags[0].threshold == pytest.approx(160.0)
    advice = cadence_advice(acts, settings=SETTINGS, as_of=AS_OF)
    # 154 x 1.05 = 161.7 -> 162; 154 x 1.10 = 169.4 -> 170 (nearest even).
    assert advice.target_spm == (162, 170)
    assert advice.low is True
    doc = advice.to_json()
    assert doc["target_spm"] == [162, 170]
    assert doc["easy_cadence_spm"] == 154.0
    assert doc["easy_speed_mps"] == pytest.approx(10 / 3.6, abs=1e-3)
    assert doc["runs_used"] == 6  # days 0, 3, ..., 15
    assert "+5%" in doc["progression"] and "2-4 weeks" in doc["progression"]
    assert {e["grade"] for e in doc["evidence"]} == {"B"}


def test_176_spm_at_same_speed_is_not_flagged() -> None:
    acts = easy_block(176.0)
    result = check(acts, settings=SETTINGS, as_of=AS_OF)
    assert [f for f in result.flags if f.rule == "cadence_low"] == []
    advice = cadence_advice(acts, settings=SETTINGS, as_of=AS_OF)
    assert advice.low is False
    assert advice.target_spm == (round_to_even(176 * 1.05), round_to_even(176 * 1.10))


def test_170_at_10_kmh_is_fine_180_is_never_the_bar() -> None:
    acts = easy_block(170.0)
    result = check(acts, settings=SETTINGS, as_of=AS_OF)
    assert [f for f in result.flags if f.rule == "cadence_low"] == []


def test_strides_do_not_set_the_easy_cadence() -> None:
    acts = easy_block(154.0, extra=[seg(20.0, 195.0, duration_s=60.0)])
    advice = cadence_advice(acts, settings=SETTINGS, as_of=AS_OF)
    assert advice.easy_cadence_spm == pytest.approx(154.0)


def test_too_little_data_gives_null_target_and_reason() -> None:
    acts = pd.DataFrame([run(0, [seg(10.0, 154.0)]), run(3, [])])
    advice = cadence_advice(acts, settings=SETTINGS, as_of=START + timedelta(days=3))
    assert advice.target_spm is None
    doc = advice.to_json()
    assert doc["target_spm"] is None and "found 1" in doc["reason"]


def test_round_to_even() -> None:
    assert [round_to_even(x) for x in (161.7, 169.4, 163.0, 164.9)] == [
        162,
        170,
        164,
        164,
    ]


def model_block(drop_pct: float) -> tuple[pd.DataFrame, date]:
    """Baseline spm = 100 + 6·v_kmh at 9 and 12 km/h over 4 weeks; 2 runs at 10."""
    rows = [
        run(d, [seg(9.0 if d % 2 else 12.0, 100 + 6 * (9.0 if d % 2 else 12.0))])
        for d in range(0, 25, 3)  # last baseline run: day 24, before the week
    ]
    usual = 100 + 6 * 10.0
    rows += [run(d, [seg(10.0, usual * (1 - drop_pct / 100))]) for d in (30, 32)]
    return pd.DataFrame(rows), START + timedelta(days=32)


def test_individual_model_flags_two_consecutive_low_runs() -> None:
    acts, as_of = model_block(6.0)
    result = check(acts, settings=SETTINGS, as_of=as_of)
    low = [f for f in result.flags if f.rule == "cadence_low"]
    assert len(low) == 1
    assert low[0].value == pytest.approx(-6.0)  # residual vs own model, percent
    assert low[0].threshold == pytest.approx(-3.0)
    # same speed, 6 % fewer steps -> steps 1/0.94 - 1 = 6.4 % longer than usual.
    step = [f for f in result.flags if f.rule == "step_length_up"]
    assert len(step) == 1
    assert step[0].value == pytest.approx(100 * (1 / 0.94 - 1))


def test_individual_model_small_drop_is_silent() -> None:
    # 160 spm at 10 km/h is at the population bar but on this runner's own line
    # minus 2 %: the individual model applies and stays silent.
    acts, as_of = model_block(2.0)
    rules = {f.rule for f in check(acts, settings=SETTINGS, as_of=as_of).flags}
    assert "cadence_low" not in rules and "step_length_up" not in rules


def test_one_speed_band_falls_back_to_population() -> None:
    acts = pd.DataFrame([run(d, [seg(10.0, 150.0)]) for d in range(0, 33, 3)])
    settings = dataclasses.replace(SETTINGS)
    flags = [
        f
        for f in check(acts, settings=settings, as_of=START + timedelta(days=30)).flags
        if f.rule == "cadence_low"
    ]
    assert [f.threshold for f in flags] == [pytest.approx(160.0)]


def test_sample_cadence_suggestion_after_low_stretch() -> None:
    """The sample's weeks 6-8: 154 spm at 10 km/h -> low, 162-170 suggested."""
    import tempfile
    import tomllib

    from conftest import SAMPLE_DIR

    from kneeload.history import open_history
    from kneeload.ingest import ingest
    from kneeload.store import Store

    if not (SAMPLE_DIR / "index.toml").exists():
        pytest.skip("sample_activities/ not generated")
    story = tomllib.loads((SAMPLE_DIR / "index.toml").read_text(encoding="utf-8"))
    low = story["story"]["low_cadence"]
    with tempfile.TemporaryDirectory() as home:
        with Store.in_home(Path(home)) as store:
            files = sorted(p for p in SAMPLE_DIR.glob("2026-0[89]-*"))
            ingest(files, store, workers=1)
        history = open_history(home)
        acts = history.activities
        history.close()
    advice = cadence_advice(
        acts, settings=SETTINGS, as_of=date.fromisoformat(low["to"])
    )
    spm = low["cadence_spm"]
    assert advice.low is True
    assert advice.easy_cadence_spm == pytest.approx(spm, abs=1.0)
    assert advice.target_spm == (round_to_even(spm * 1.05), round_to_even(spm * 1.10))


@pytest.mark.parametrize(
    ("values", "weights", "expected"),
    [
        ([3.0, 1.0, 2.0], [1.0, 1.0, 1.0], 2.0),  # plain median, order-free
        ([1.0, 2.0], [1.0, 1.0], 1.0),  # exact half split: the lower middle value
        ([1.0, 2.0, 3.0], [1.0, 1.0, 2.0], 2.0),  # cum 1, 2, 4: 2 reaches half
        ([1.0, 2.0, 3.0], [1.0, 1.0, 2.1], 3.0),  # cum 1, 2, 4.1: half is 2.05
        ([150.0, 170.0], [10.0, 590.0], 170.0),  # 10 s at 150, 590 s at 170 spm
        ([5.0, 9.0], [0.0, 1.0], 9.0),  # a zero weight never wins
    ],
)
def test_weighted_median_by_hand(values, weights, expected) -> None:
    got = weighted_median(np.array(values), np.array(weights))
    assert got == pytest.approx(expected)


def test_weighted_median_without_values_or_weight_is_none() -> None:
    assert weighted_median(np.array([]), np.array([])) is None
    assert weighted_median(np.array([1.0, 2.0]), np.array([0.0, 0.0])) is None
