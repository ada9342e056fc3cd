"""The pre-race taper check (issue 5; RULES §7): hand-worked runners and the CLI."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kneeload.analysis.knee import taper_knee_advice
from kneeload.analysis.taper import (
    parse_race_distance,
    robust_baseline,
    taper_chart_frame,
    taper_check,
    taper_report_due,
    week_bounds,
)
from kneeload.cli import cli
from kneeload.config import AthleteSettings, Settings
from kneeload.notes import knee_pain

RACE = date(2026, 11, 15)
SETTINGS = Settings(athlete=AthleteSettings(hr_max=190.0, hr_rest=50.0))
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_activities"
# LTHR = 50 + 0.85 * (190 - 50) = 169 bpm, so 175 bpm counts as high intensity.
HARD_BPM, EASY_BPM = 175, 140


def _hist(minutes: float, bpm: int) -> np.ndarray:
    hist = np.zeros(256)
    hist[bpm] = minutes * 60.0
    return hist


def runner(
    weeks_km: dict[int, float],
    *,
    run_days: tuple[int, ...] = (0, 2, 4, 6),
    runs_per_week: dict[int, int] | None = None,
    hard_weeks: tuple[int, ...] = (),
) -> pd.DataFrame:
    """Activities: each race-aligned week's km split evenly over its run days.

    In ``hard_weeks`` the first run of the week has 20 minutes at 175 bpm.
    """
    rows = []
    for week, km in weeks_km.items():
        days = run_days[: (runs_per_week or {}).get(week, len(run_days))]
        start, _ = week_bounds(RACE, week)
        for i, offset in enumerate(days):
            day = start + timedelta(days=offset)
            hard = week in hard_weeks and i == 0
            rows.append(
                {
                    "id": f"{day}-{i}",
                    "sport": "running",
                    "local_date": pd.Timestamp(day),
                    "start_utc": pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=7),
                    "distance_m": 1000.0 * km / len(days),
                    "moving_s": 360.0 * km / len(days),
                    "max_hr": 180.0,
                    "hr_hist": _hist(20, HARD_BPM) if hard else _hist(30, EASY_BPM),
                }
            )
    return pd.DataFrame(rows)


BASE = {-7: 40.0, -6: 44.0, -5: 36.0, -4: 40.0}  # mean 40, median 40: none dropped


def _check(weeks: dict[int, float], as_of: date = RACE, **kw) -> object:
    return taper_check(runner(weeks, **kw), settings=SETTINGS, race_date=RACE,
                       as_of=as_of)  # fmt: skip


def test_week_windows_follow_rules_section_7() -> None:
    assert week_bounds(RACE, -1) == (date(2026, 11, 8), date(2026, 11, 14))
    assert week_bounds(RACE, -3) == (date(2026, 10, 25), date(2026, 10, 31))
    assert week_bounds(RACE, -7)[0] == RACE - timedelta(days=49)


def test_textbook_taper_is_on_track() -> None:
    # B = (40+44+36+40)/4 = 40; 32/40 = 0.8, 24/40 = 0.6, 20/40 = 0.5.
    result = _check({**BASE, -3: 32.0, -2: 24.0, -1: 20.0})
    assert result.baseline_km_per_week == pytest.approx(40.0)
    assert [w.ratio for w in result.weeks] == pytest.approx([0.8, 0.6, 0.5])
    assert [w.expected for w in result.weeks] == [(0.7, 0.9), (0.55, 0.8), (0.4, 0.6)]
    assert result.verdict == "on_track" and result.verdict_final
    assert result.flags == []
    # Peak week is 44 km: 20/44 = 45.5 %.
    assert result.weeks[-1].pct_of_peak == pytest.approx(100 * 20 / 44)


def test_peak_week_looks_back_16_weeks_only() -> None:
    """RULES §1.6: a 70 km week 17 weeks out is not this race's peak; a 50 km week
    16 weeks out is. Peak = max(50, 30, 40, 44, 36, 40) = 50, so race week's 20 km
    is 40 % of peak (with the 70 km week it would be 28.6 %). Weeks -15 … -8 hold
    30 km each, so there is no break in between."""
    between = {k: 30.0 for k in range(-15, -7)}
    plan = {-17: 70.0, -16: 50.0, **between, **BASE, -3: 32.0, -2: 24.0, -1: 20.0}
    result = _check(plan)
    assert result.peak_week_km == pytest.approx(50.0)
    assert result.weeks[-1].pct_of_peak == pytest.approx(40.0)
    without_16 = {k: v for k, v in plan.items() if k != -16}
    assert _check(without_16).peak_week_km == pytest.approx(44.0)


def test_a_break_of_four_weeks_starts_the_race_history_again() -> None:
    """RULES §1.6, §3: weeks -15 … -8 empty (8 weeks without running) end the old
    history; the peak is max(40, 44, 36, 40) = 44, not the 50 km week -16, and the
    history is counted from week -7 (49 days before the race)."""
    plan = {-16: 50.0, **BASE, -3: 32.0, -2: 24.0, -1: 20.0}
    result = _check(plan)
    assert result.peak_week_km == pytest.approx(44.0)
    assert result.history_days == 49
    assert result.baseline_km_per_week == pytest.approx(40.0)


@pytest.mark.parametrize(("days_before", "advised"), [(27, True), (28, False)])
def test_taper_knee_advice_window_edge(days_before: int, advised: bool) -> None:
    """The taper's knee advice asks the knee window (28 days ending as_of): a note
    27 days before D-7 still counts, 28 days before does not."""
    as_of = RACE - timedelta(days=7)
    notes = [knee_pain(as_of - timedelta(days=days_before), 3)]
    advice = taper_knee_advice(notes, as_of=as_of, race_date=RACE)
    assert (advice is not None) is advised


def test_race_week_above_075_is_under_tapered() -> None:
    # 36/40 = 0.9, 34/40 = 0.85, 32/40 = 0.8 > 0.75.
    result = _check({**BASE, -3: 36.0, -2: 34.0, -1: 32.0})
    assert result.verdict == "under_tapered"
    (flag,) = [f for f in result.flags if f.rule == "taper_volume"]
    assert flag.value == pytest.approx(0.8) and flag.threshold == 0.75
    assert "less reduction than typical" in flag.message
    assert any("Bosquet" in e.citation for e in flag.evidence)
    assert flag.date == date(2026, 11, 14)


def test_race_week_below_030_is_over_tapered() -> None:
    # 10/40 = 0.25 < 0.30.
    result = _check({**BASE, -3: 30.0, -2: 20.0, -1: 10.0})
    assert result.verdict == "over_tapered"
    (flag,) = [f for f in result.flags if f.rule == "taper_volume"]
    assert flag.value == pytest.approx(0.25)
    assert "very deep cut" in flag.message
    assert "frequency" in flag.message and "intensity" in flag.message


@pytest.mark.parametrize(
    ("first_week_km", "first_day_offset", "expected"),
    [(40.0, 1, "insufficient_history"), (40.0, 0, "on_track")],
    ids=["48-days", "49-days"],
)
def test_fewer_than_49_days_is_insufficient(
    first_week_km: float, first_day_offset: int, expected: str
) -> None:
    weeks = {**BASE, -7: first_week_km, -3: 32.0, -2: 24.0, -1: 20.0}
    days = (*(d + first_day_offset for d in (0, 2, 4)), 6)
    result = _check(weeks, run_days=days)
    assert result.history_days == 49 - first_day_offset
    assert result.verdict == expected
    if expected == "insufficient_history":
        assert result.baseline_km_per_week is None and result.flags == []


def test_week_without_runs_in_baseline_is_dropped() -> None:
    # Weeks 50, 0, 46, 54: median (46+50)/2 = 48, half = 24 -> the 0 week drops;
    # B = (50+46+54)/3 = 50. Taper 40/30/25 -> 0.8/0.6/0.5.
    weeks = {-7: 50.0, -6: 0.0, -5: 46.0, -4: 54.0, -3: 40.0, -2: 30.0, -1: 25.0}
    result = _check(weeks)
    assert result.dropped_weeks == [-6]
    assert result.baseline_km_per_week == pytest.approx(50.0)
    assert [w.ratio for w in result.weeks] == pytest.approx([0.8, 0.6, 0.5])
    assert result.verdict == "on_track"


def test_robust_baseline_by_hand() -> None:
    # median of 10, 30, 32, 34 = 31, half = 15.5 -> drop 10; mean(30, 32, 34) = 32.
    assert robust_baseline([10.0, 30.0, 32.0, 34.0]) == (pytest.approx(32.0), [0])
    assert robust_baseline([0.0, 0.0, 0.0, 0.0]) == (None, [])


def test_ten_days_out_shows_race_week_to_come_with_target() -> None:
    # As of D-10: week -3 done (32 km = 0.8), week -2 (D-14..D-8) in progress with
    # its runs on D-14, D-12, D-10 (3 x 6 = 18 km), week -1 to come.
    # Targets: week -1 = [0.40, 0.60] x 40 = [16, 24] km;
    # week -2 = [0.55 x 40, min(0.80 x 40, 1.05 x 32)] = [22, 32], 18 done -> 4-14 left.
    as_of = RACE - timedelta(days=10)
    result = _check({**BASE, -3: 32.0, -2: 24.0, -1: 20.0}, as_of=as_of)
    w3, w2, w1 = result.weeks
    assert (w3.status, w2.status, w1.status) == ("done", "in_progress", "to_come")
    assert w1.target_km == pytest.approx((16.0, 24.0))
    assert w1.ratio is None
    assert w2.km == pytest.approx(18.0)
    assert w2.target_km == pytest.approx((22.0, 32.0))
    doc = result.to_json()
    assert doc["weeks"][1]["remaining_km"] == pytest.approx([4.0, 14.0])
    assert doc["weeks"][2]["status"] == "to_come"
    assert result.verdict == "on_track" and not result.verdict_final


def test_week_minus_3_above_its_band_is_provisionally_under_tapered() -> None:
    # As of D-10, week -3 done at 38/40 = 0.95 > 0.90.
    result = _check({**BASE, -3: 38.0, -2: 24.0}, as_of=RACE - timedelta(days=10))
    assert (result.verdict, result.verdict_final) == ("under_tapered", False)


def test_no_runs_at_all_is_insufficient_history() -> None:
    empty = pd.DataFrame(columns=["sport", "local_date", "distance_m", "hr_hist"])
    result = taper_check(empty, settings=SETTINGS, race_date=RACE, as_of=RACE)
    assert result.verdict == "insufficient_history"
    assert result.to_json()["baseline_km_per_week"] is None


def test_target_is_capped_to_avoid_a_relaxed_taper() -> None:
    # As of D-7 week -2 is done at 20 km: week -1 max = min(0.6 x 40, 1.05 x 20) = 21.
    result = _check({**BASE, -3: 32.0, -2: 20.0}, as_of=RACE - timedelta(days=7))
    assert result.weeks[-1].status == "in_progress"
    assert result.weeks[-1].target_km == pytest.approx((16.0, 21.0))


def test_relaxed_taper_is_flagged() -> None:
    # Week -2 34 km > 1.05 x 30 = 31.5 km.
    result = _check({**BASE, -3: 30.0, -2: 34.0, -1: 20.0})
    (flag,) = [f for f in result.flags if f.rule == "taper_relaxed"]
    assert flag.value == pytest.approx(34 / 30)
    assert "158,000" in flag.message
    assert any("Smyth" in e.citation for e in flag.evidence)


def test_frequency_cut_over_20_percent_is_flagged() -> None:
    # Baseline 4 runs/week; weeks -2 and -1 have 2 runs each: 2 < 0.8 x 4 = 3.2.
    result = _check(
        {**BASE, -3: 32.0, -2: 24.0, -1: 20.0}, runs_per_week={-2: 2, -1: 2}
    )
    (flag,) = [f for f in result.flags if f.rule == "taper_frequency"]
    assert flag.value == pytest.approx(0.5)
    assert result.verdict == "on_track"


def test_three_runs_a_week_is_not_a_frequency_cut() -> None:
    # 3.5 runs/week (4 then 3) >= 3.2.
    result = _check({**BASE, -3: 32.0, -2: 24.0, -1: 20.0}, runs_per_week={-1: 3})
    assert not [f for f in result.flags if f.rule == "taper_frequency"]


@pytest.mark.parametrize(
    ("hard_weeks", "flagged"),
    [((-7, -6, -5, -4), True), ((-7, -6, -5, -4, -2), False), ((), False)],
    ids=["intensity-dropped", "intensity-kept", "never-any"],
)
def test_taper_intensity(hard_weeks: tuple[int, ...], flagged: bool) -> None:
    result = _check({**BASE, -3: 32.0, -2: 24.0, -1: 20.0}, hard_weeks=hard_weeks)
    rules = [f.rule for f in result.flags]
    assert ("taper_intensity" in rules) is flagged


def test_json_matches_interface() -> None:
    doc = _check({**BASE, -3: 32.0, -2: 24.0, -1: 20.0}).to_json()
    assert doc["race_date"] == "2026-11-15"
    assert doc["baseline_km_per_week"] == 40.0
    assert [w["week"] for w in doc["weeks"]] == [-3, -2, -1]
    assert doc["weeks"][0]["expected"] == [0.7, 0.9]
    assert {"km", "ratio", "expected"} <= set(doc["weeks"][0])
    assert doc["verdict"] in {"on_track", "under_tapered", "over_tapered"}
    json.dumps(doc)


@pytest.mark.parametrize(
    ("text", "metres"),
    [("marathon", 42195.0), ("half", 21097.5), ("10k", 10000.0), ("50km", 50000.0)],
)
def test_parse_race_distance(text: str, metres: float) -> None:
    assert parse_race_distance(text) == pytest.approx(metres)


def test_parse_race_distance_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="unknown race distance"):
        parse_race_distance("ultra-ish")


def test_taper_knee_advice_asks_the_knee_window() -> None:
    # the knee module's one window (28 days, RULES §12); race week adds §13
    race = date(2026, 11, 15)
    notes = [knee_pain(date(2026, 10, 1), 6), knee_pain(date(2026, 11, 2), 3)]
    advice = taper_knee_advice(notes, as_of=date(2026, 11, 5), race_date=race)
    assert advice is not None and advice.note.score == 3 and not advice.race_week
    assert "40-60% of your normal mileage" not in advice.message
    week = taper_knee_advice(notes, as_of=date(2026, 11, 8), race_date=race)
    assert week is not None and week.race_week  # D-7: race week
    assert "40-60% of your normal mileage" in week.message
    assert "elliptical" in week.message and "water running" in week.message
    # 2 Nov + 27 days = 29 Nov is the last day it counts, but advice ends at D
    assert taper_knee_advice(notes, as_of=date(2026, 11, 16), race_date=race) is None
    only_old = notes[:1]  # 1 Oct is 36 days before 5 Nov: outside the window
    assert taper_knee_advice(only_old, as_of=date(2026, 11, 5), race_date=race) is None


# --- command line -----------------------------------------------------------


def test_cli_without_race_date_is_usage_error(home: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home), "taper"])
    assert result.exit_code == 2
    assert "race date" in result.output


def test_cli_bad_race_distance_is_usage_error(home: Path) -> None:
    args = ["--home", str(home), "taper", "--race-date", "2026-11-15"]
    result = CliRunner().invoke(cli, [*args, "--race-distance", "far"])
    assert result.exit_code == 2


def _ingested_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SAMPLE_DIR / "index.toml").exists():
        pytest.skip("sample_activities/ has not been generated yet")
    home = tmp_path_factory.mktemp("sample_home")
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(SAMPLE_DIR)])
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with sample_activities/ ingested once for this module."""
    return _ingested_sample(tmp_path_factory)


def _window_km(frame: pd.DataFrame, first: date, last: date) -> float:
    """Running km between two local dates, summed by hand from the activity rows."""
    total = 0.0
    for row in frame.itertuples():
        if row.sport == "running" and first <= row.local_date.date() <= last:
            total += row.distance_m / 1000.0
    return total


def test_sample_block_taper_is_on_track(sample_home: Path) -> None:
    """The sample plan cuts to ~0.79/0.60/0.46 of weeks -7..-4 (make_samples.py)."""
    from kneeload.history import open_history

    history = open_history(sample_home)
    try:
        frame = history.activities
    finally:
        history.close()
    weekly = [
        _window_km(frame, RACE + timedelta(days=7 * k), RACE + timedelta(7 * k + 6))
        for k in range(-7, 0)
    ]
    base = sum(weekly[:4]) / 4  # no week under half the median in this plan
    assert min(weekly[:4]) >= 0.5 * float(np.median(weekly[:4]))
    ratios = [w / base for w in weekly[4:]]
    assert 0.30 <= ratios[-1] <= 0.75  # by hand from the plan: 24 / 51.75 = 0.46
    result = taper_check(frame, settings=Settings(), race_date=RACE, as_of=RACE)
    assert result.baseline_km_per_week == pytest.approx(base)
    assert [w.ratio for w in result.weeks] == pytest.approx(ratios)
    # The generator's own record of the design (index.toml [story.taper]).
    story = tomllib.loads((SAMPLE_DIR / "index.toml").read_text())["story"]["taper"]
    assert result.baseline_km_per_week == pytest.approx(
        story["baseline_km_per_week"], rel=0.01
    )
    expected = [story["w3_ratio"], story["w2_ratio"], story["w1_ratio"]]
    assert [w.ratio for w in result.weeks] == pytest.approx(expected, rel=0.01)
    assert result.verdict == story["expected_verdict"] == "on_track"
    # Frequency kept (4.75 -> 4 runs/week >= 0.8 x 4.75) and a tempo each week.
    assert result.flags == []


def test_cli_json_on_sample(sample_home: Path) -> None:
    args = ["--home", str(sample_home), "taper", "--race-date", "2026-11-15"]
    result = CliRunner().invoke(cli, [*args, "--as-of", "2026-11-15", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "on_track"
    assert [w["week"] for w in doc["weeks"]] == [-3, -2, -1]
    assert doc["knee_advice"] is None


def test_cli_human_output_ten_days_out_with_knee_pain(sample_home: Path) -> None:
    args = ["--home", str(sample_home), "taper", "--race-date", "2026-11-15"]
    try:
        result = CliRunner().invoke(
            cli, [*args, "--as-of", "2026-11-05", "--knee-pain", "3"]
        )
        assert (sample_home / "notes.db").exists()
    finally:
        (sample_home / "notes.db").unlink(missing_ok=True)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Baseline (weeks -7 to -4)" in out
    assert "to come: aim for" in out and "in progress: aim for" in out
    assert "so far" in out
    assert "choose what is pain-free" in out and "see a clinician" in out
    assert "knee-safe" not in out and "danger" not in out.lower()


def test_cli_race_date_from_config(sample_home: Path) -> None:
    config = sample_home / "kneeload.toml"
    config.write_text('[athlete]\nrace_date = 2026-11-15\nrace_distance = "marathon"\n')
    try:
        result = CliRunner().invoke(
            cli,
            ["--home", str(sample_home), "taper", "--as-of", "2026-11-15", "--json"],
        )
    finally:
        config.unlink()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["race_distance_m"] == 42195.0


def test_settings_bands_are_configurable() -> None:
    # Same runner as the on-track case; a stricter W-1 cut-off of 0.45 flags 0.5.
    taper = replace(SETTINGS.thresholds.taper, volume_over=0.45)
    settings = replace(SETTINGS, thresholds=replace(SETTINGS.thresholds, taper=taper))
    acts = runner({**BASE, -3: 32.0, -2: 24.0, -1: 20.0})
    result = taper_check(acts, settings=settings, race_date=RACE, as_of=RACE)
    assert result.verdict == "under_tapered"


def test_chart_frame_has_bands_for_taper_weeks() -> None:
    frame = taper_chart_frame(_check({**BASE, -3: 32.0, -2: 24.0, -1: 20.0}))
    assert list(frame.index) == [-7, -6, -5, -4, -3, -2, -1]
    # Bands x B = 40: week -3 28-36 km, week -1 16-24 km; none for the baseline.
    assert frame.loc[-3, ["lo_km", "hi_km"]].tolist() == pytest.approx([28.0, 36.0])
    assert frame.loc[-1, ["lo_km", "hi_km"]].tolist() == pytest.approx([16.0, 24.0])
    assert np.isnan(frame.loc[-7, "lo_km"])
    assert frame.loc[-6, "km"] == pytest.approx(44.0)


@pytest.mark.parametrize(
    ("days_to_race", "due"),
    [(29, False), (28, True), (0, True), (-7, True), (-8, False)],
)
def test_taper_report_due(days_to_race: int, due: bool) -> None:
    settings = replace(SETTINGS, athlete=replace(SETTINGS.athlete, race_date=RACE))
    day = RACE - timedelta(days=days_to_race)
    assert taper_report_due(settings, day) is due
    assert taper_report_due(SETTINGS, day) is False  # no race date set
