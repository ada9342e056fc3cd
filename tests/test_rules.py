"""Hand-worked series for every load rule, TRIMP, the daily series and check()."""

from __future__ import annotations

import dataclasses
import math
import statistics
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kneeload.analysis.check import check, knee_pain_score
from kneeload.analysis.daily import daily_series
from kneeload.analysis.load import (
    add_trimp,
    heart_rate_profile,
    high_intensity_s,
    trimp_from_hist,
)
from kneeload.config import AthleteSettings, Settings
from kneeload.notes import knee_pain

START = date(2024, 1, 1)
ATHLETE = AthleteSettings(sex="male", hr_max=190.0, hr_rest=50.0)
SETTINGS = dataclasses.replace(Settings(), athlete=ATHLETE)


def run(day: int, km: float, **extra: Any) -> dict[str, Any]:
    """One activity row of the History.activities shape, ``day`` days after START."""
    local = pd.Timestamp(START) + pd.Timedelta(days=day)
    row = {
        "id": f"r{day}-{km}",
        "sport": "running",
        "sub_sport": None,
        "start_utc": (local + pd.Timedelta(hours=7)).tz_localize("UTC"),
        "local_date": local,
        "elapsed_s": km * 360.0,
        "moving_s": km * 360.0,
        "distance_m": km * 1000.0,
        "ascent_m": 0.0,
        "descent_m": 0.0,
        "avg_hr": None,
        "max_hr": None,
        "cadence_spm": None,
        "step_length_m": None,
        "downhill_s": 0.0,
        "hr_hist": None,
        "steady_segments": [],
        "partial": False,
    }
    row.update(extra)
    return row


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def rules_of(result: Any, rule: str) -> list[Any]:
    return [f for f in result.flags if f.rule == rule]


def as_of(day: int) -> date:
    return START + timedelta(days=day)


# ---- session_spike ----


def spike_history(last_km: float, last_day: int = 35) -> pd.DataFrame:
    """10 km every 3rd day (longest 10 km), then one run of ``last_km``."""
    rows = [run(d, 10.0 if d % 6 == 0 else 6.0) for d in range(0, last_day, 3)]
    return frame([*rows, run(last_day, last_km)])


def test_session_spike_16_after_10_is_1_6_caution() -> None:
    flags = rules_of(
        check(spike_history(16.0), settings=SETTINGS, as_of=as_of(35)), "session_spike"
    )
    assert len(flags) == 1
    assert flags[0].value == pytest.approx(16.0 / 10.0)
    assert flags[0].severity == "caution"
    assert flags[0].threshold == pytest.approx(1.10)
    assert "associated with" in flags[0].message
    assert flags[0].evidence[0].grade == "A"


def test_session_spike_above_double_is_warning() -> None:
    flags = rules_of(
        check(spike_history(21.0), settings=SETTINGS, as_of=as_of(35)), "session_spike"
    )
    assert [f.severity for f in flags] == ["warning"]
    assert flags[0].value == pytest.approx(2.1)


def test_session_spike_within_10_percent_is_silent() -> None:
    result = check(spike_history(10.9), settings=SETTINGS, as_of=as_of(35))
    assert rules_of(result, "session_spike") == []


def test_session_spike_needs_30_days_of_history() -> None:
    acts = frame([run(0, 5.0), run(3, 5.0), run(6, 5.0), run(20, 15.0)])
    assert (
        rules_of(check(acts, settings=SETTINGS, as_of=as_of(20)), "session_spike") == []
    )


def test_first_run_after_a_month_off_is_info() -> None:
    acts = frame([run(0, 10.0), run(3, 10.0), run(40, 8.0)])
    flags = rules_of(check(acts, settings=SETTINGS, as_of=as_of(40)), "session_spike")
    assert [f.severity for f in flags] == ["info"]


def test_first_run_of_the_history_is_not_a_return_after_a_break() -> None:
    """RULES §1.6: a ride 60 days before the first run starts the store, not the
    running history. The first runs (days 60 and 62) get no "after a break" flag
    and the ACWR is not yet shown for lack of history, not "after_break"."""
    ride = run(0, 0.0, sport="cycling", moving_s=3600.0, elapsed_s=3600.0)
    acts = frame([ride, run(60, 10.0), run(62, 12.0)])
    result = check(acts, settings=SETTINGS, as_of=as_of(62))
    assert rules_of(result, "session_spike") == []
    assert result.load["acwr_status"] == "insufficient_history"
    # a real return: 31 days without a run after the first ones -> the INFO flag
    later = frame([ride, run(60, 10.0), run(62, 12.0), run(93, 8.0)])
    flags = rules_of(check(later, settings=SETTINGS, as_of=as_of(93)), "session_spike")
    assert [(f.severity, f.value) for f in flags] == [("info", 8.0)]
    assert "after a break" in flags[0].message


# ---- weekly_ramp ----


def two_weeks(prev_km: float, cur_km: float) -> pd.DataFrame:
    """Four equal runs per week: days 0-6 total prev_km, days 7-13 total cur_km."""
    rows = [run(d, prev_km / 4) for d in (0, 2, 4, 6)]
    return frame(rows + [run(d, cur_km / 4) for d in (7, 9, 11, 13)])


def test_weekly_ramp_plus_40_percent_is_caution() -> None:
    flags = rules_of(
        check(two_weeks(20.0, 28.0), settings=SETTINGS, as_of=as_of(13)), "weekly_ramp"
    )
    assert len(flags) == 1
    assert flags[0].value == pytest.approx(100 * (28 / 20 - 1))  # 40 %
    assert flags[0].severity == "caution"


def test_weekly_ramp_plus_25_percent_is_info() -> None:
    flags = rules_of(
        check(two_weeks(20.0, 25.0), settings=SETTINGS, as_of=as_of(13)), "weekly_ramp"
    )
    assert [f.severity for f in flags] == ["info"]
    assert flags[0].value == pytest.approx(25.0)


@pytest.mark.parametrize("cur", [23.0, 21.0], ids=["plus15", "plus5"])
def test_weekly_ramp_never_flags_under_20_percent(cur: float) -> None:
    result = check(two_weeks(20.0, cur), settings=SETTINGS, as_of=as_of(13))
    assert rules_of(result, "weekly_ramp") == []


def test_no_ramp_against_the_empty_days_before_the_first_run() -> None:
    """A walk on day 0, first runs on days 24 and 26 (10 km), then 20 km on days
    27-33: +100 % on the 7 days before, but those hold only 3 days of running
    history (days 24-26), under the 14 days the rule needs (RULES §1.6, §9)."""
    walk = run(0, 3.0, sport="walking")
    rows = [walk, run(24, 5.0), run(26, 5.0)] + [run(d, 5.0) for d in (27, 29, 31, 33)]
    result = check(frame(rows), settings=SETTINGS, as_of=as_of(33))
    assert rules_of(result, "weekly_ramp") == []
    # 14 days after the first run the same jump is a ramp: days 24-30 hold 15 km
    # (24, 26, 28), days 31-37 hold 32 km (31, 33, 35, 37): +113 %, CAUTION
    rows = [walk, run(24, 5.0), run(26, 5.0), run(28, 5.0)] + [
        run(d, 8.0) for d in (31, 33, 35, 37)
    ]
    (flag,) = rules_of(check(frame(rows), settings=SETTINGS, as_of=as_of(37)),
                       "weekly_ramp")  # fmt: skip
    assert flag.severity == "caution"
    assert flag.value == pytest.approx(100 * (32 / 15 - 1))


@pytest.mark.parametrize(
    ("cur", "severity"),
    [(47.8, None), (48.2, "info"), (51.8, "info"), (52.2, "caution")],
    ids=["+19.5%", "+20.5%", "+29.5%", "+30.5%"],
)
def test_weekly_ramp_pinned_at_20_and_30_percent(cur: float, severity: str) -> None:
    """40 km then ``cur`` km: +19.5 % is nothing, +20.5 % INFO (kills 20 -> 25),
    +29.5 % still INFO, +30.5 % CAUTION (RULES §4; increases >= 5 km)."""
    result = check(two_weeks(40.0, cur), settings=SETTINGS, as_of=as_of(13))
    flags = rules_of(result, "weekly_ramp")
    assert [f.severity for f in flags] == ([severity] if severity else [])
    for f in flags:
        assert f.value == pytest.approx(100 * (cur / 40 - 1))


def downhill_block() -> pd.DataFrame:
    """5 km a day for 35 days; 30 m of descent a day, then 100 m a day in days
    28-34: 700 m against a 4-week mean of 210 m (> 1.5x and >= +300 m)."""
    return frame([run(d, 5.0, descent_m=30.0 if d < 28 else 100.0) for d in range(35)])


@pytest.mark.parametrize(
    ("days_before", "raised"), [(0, True), (27, True), (28, False)]
)
def test_knee_pain_raises_downhill_flags_inside_the_knee_window_only(
    days_before: int, raised: bool
) -> None:
    """check asks the knee module's window (28 days ending as_of, RULES §12): a
    note 27 days back raises the descent INFO to CAUTION, 28 days back does not."""
    end = as_of(34)
    notes = [knee_pain(end - timedelta(days=days_before), 4)]
    score = knee_pain_score(notes, end)
    result = check(downhill_block(), settings=SETTINGS, as_of=end, knee_pain=score)
    descent = rules_of(result, "descent_ramp")
    assert descent, "the block must raise descent flags"
    want = "caution" if raised else "info"
    assert {f.severity for f in descent} == {want}
    assert (score == 4) is raised


def test_weekly_ramp_noise_guard_small_weeks() -> None:
    # 4 -> 8 km is +100 % but the previous week is under 5 km.
    result = check(two_weeks(4.0, 8.0), settings=SETTINGS, as_of=as_of(13))
    assert rules_of(result, "weekly_ramp") == []


# ---- acwr_high / acwr_low ----


def daily_runs(km_per_day: list[float]) -> pd.DataFrame:
    return frame([run(d, km) for d, km in enumerate(km_per_day) if km > 0])


@pytest.mark.parametrize(
    ("last_week", "severity"),
    [(7.0, "info"), (8.0, "caution"), (20.0, "caution")],
    ids=["1.4-info", "1.6-caution", "4.0-still-caution"],
)
def test_acwr_high_bands_and_never_warning(last_week: float, severity: str) -> None:
    acts = daily_runs([5.0] * 28 + [last_week] * 7)
    result = check(acts, settings=SETTINGS, as_of=as_of(34))
    flags = rules_of(result, "acwr_high")
    assert [f.severity for f in flags] == [severity]
    assert flags[0].value == pytest.approx(last_week / 5.0)  # uncoupled by hand
    assert "disputed" in flags[0].message


def test_acwr_low_is_info_and_suppressed_in_taper() -> None:
    acts = daily_runs([5.0] * 28 + [3.0] * 7)
    flags = rules_of(check(acts, settings=SETTINGS, as_of=as_of(34)), "acwr_low")
    assert [f.severity for f in flags] == ["info"]
    assert flags[0].value == pytest.approx(3.0 / 5.0)
    tapering = dataclasses.replace(
        SETTINGS, athlete=dataclasses.replace(ATHLETE, race_date=as_of(40))
    )
    result = check(acts, settings=tapering, as_of=as_of(34))
    assert rules_of(result, "acwr_low") == []
    assert result.load["acwr_status"] == "taper"
    assert result.load["acwr"] == {"uncoupled": None, "coupled": None, "ewma": None}


# ---- intensity_ramp ----


def hist_at(bpm: int, minutes: float, easy_minutes: float = 30.0) -> np.ndarray:
    h = np.zeros(256)
    h[130] = easy_minutes * 60
    h[bpm] = minutes * 60
    return h


def test_intensity_ramp_hi_minutes_over_1_5x_baseline() -> None:
    # LTHR = 50 + 0.85 * (190 - 50) = 169 bpm; 175 bpm counts as high intensity.
    rows = [run(d, 8.0, hr_hist=hist_at(175, 8.0)) for d in (0, 7, 14, 21, 28)]
    rows += [run(d, 6.0, hr_hist=hist_at(130, 0.0)) for d in range(2, 35, 7)]
    rows.append(run(33, 8.0, hr_hist=hist_at(175, 22.0)))
    result = check(frame(rows), settings=SETTINGS, as_of=as_of(34))
    flags = rules_of(result, "intensity_ramp")
    # this week 8 + 22 = 30 min; baseline 8 min/week -> threshold 1.5 * 8 = 12.
    assert len(flags) == 1
    assert flags[0].value == pytest.approx(30.0)
    assert flags[0].threshold == pytest.approx(12.0)
    assert flags[0].severity == "info"


# ---- monotony_high ----


def test_monotony_high_on_near_identical_days() -> None:
    week = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 12.0]
    flags = rules_of(
        check(daily_runs(week), settings=SETTINGS, as_of=as_of(6)), "monotony_high"
    )
    expected = statistics.mean(week) / statistics.stdev(week)  # Foster, sample SD
    assert len(flags) == 1
    assert flags[0].value == pytest.approx(expected)


def test_monotony_varied_week_silent_and_constant_week_undefined() -> None:
    varied = [0.0, 10.0, 5.0, 0.1, 12.0, 0.1, 8.0]
    assert statistics.mean(varied) / statistics.stdev(varied) < 2.0
    result = check(daily_runs(varied), settings=SETTINGS, as_of=as_of(6))
    assert rules_of(result, "monotony_high") == []
    constant = check(daily_runs([8.0] * 7), settings=SETTINGS, as_of=as_of(6))
    assert rules_of(constant, "monotony_high") == []  # SD = 0: undefined


# ---- descent_ramp ----


def test_descent_weekly_ramp() -> None:
    rows = [run(d, 8.0, descent_m=50.0) for d in range(0, 28, 3)]  # 4-5 runs/week
    # 95 m per run stays under 2 x 50 m, so the single-run rule stays silent.
    rows += [run(d, 8.0, descent_m=95.0) for d in (28, 29, 31, 33, 34)]
    result = check(frame(rows), settings=SETTINGS, as_of=as_of(34))
    weekly = rules_of(result, "descent_ramp")
    baseline = 50.0 * len(range(0, 28, 3)) / 4  # days 0..27, mean per week = 125 m
    assert 5 * 95.0 - baseline >= 300  # the +300 m guard holds
    assert len(weekly) == 1
    assert weekly[0].value == pytest.approx(5 * 95.0)
    # the limit is whichever of the two conditions is stricter: 125 + 300 m here
    assert weekly[0].threshold == pytest.approx(max(1.5 * baseline, baseline + 300))
    assert "No prospective study" in weekly[0].message


def test_descent_single_run_over_twice_prior_max() -> None:
    rows = [run(d, 8.0, descent_m=40.0 + d) for d in range(0, 33, 4)]
    rows.append(run(34, 8.0, descent_m=200.0))
    flags = rules_of(
        check(frame(rows), settings=SETTINGS, as_of=as_of(34)), "descent_ramp"
    )
    prior_max = max(40.0 + d for d in range(0, 33, 4) if d >= 34 - 30)
    assert [f.value for f in flags] == [200.0]
    assert flags[0].threshold == pytest.approx(2 * prior_max)


# ---- TRIMP and HR profile (RULES L3 worked example) ----


def test_trimp_worked_example_60_min_hr155() -> None:
    hist = np.zeros(256)
    hist[155] = 3600.0
    x = (155 - 55) / (190 - 55)
    male = 60 * x * 0.64 * math.exp(1.92 * x)
    female = 60 * x * 0.86 * math.exp(1.67 * x)
    assert trimp_from_hist(hist, hr_rest=55, hr_max=190, sex="male") == pytest.approx(
        male
    )
    assert trimp_from_hist(hist, hr_rest=55, hr_max=190, sex="female") == pytest.approx(
        female
    )
    assert round(male) == 118 and round(female) == 132  # RULES L3 text
    assert trimp_from_hist(hist, hr_rest=55, hr_max=190, sex=None) == pytest.approx(
        male
    )


def test_high_intensity_seconds_from_threshold_bin() -> None:
    hist = np.zeros(256)
    hist[[160, 168, 169, 175]] = [10.0, 20.0, 30.0, 40.0]
    assert high_intensity_s(hist, threshold_bpm=169.0) == 70.0
    assert high_intensity_s(hist, threshold_bpm=168.5) == 70.0


def test_add_trimp_uses_configured_profile() -> None:
    hist = np.zeros(256)
    hist[155] = 3600.0
    acts = frame([run(0, 10.0, hr_hist=hist), run(1, 5.0)])
    out = add_trimp(acts, settings=SETTINGS)  # rest 50, max 190, male
    x = (155 - 50) / (190 - 50)
    assert out["trimp"].iloc[0] == pytest.approx(60 * x * 0.64 * math.exp(1.92 * x))
    assert np.isnan(out["trimp"].iloc[1])
    assert "trimp" not in acts


def test_hr_profile_estimated_and_labelled() -> None:
    acts = frame([run(d, 5.0, max_hr=150 + d / 2) for d in range(101)])
    profile = heart_rate_profile(acts, athlete=AthleteSettings())
    # RULES §1.5: the 2nd highest of 150, 150.5, ..., 200 (no hr_peak30 column)
    assert profile.hr_max == pytest.approx(199.5)
    assert profile.hr_max_source == "estimated"
    assert profile.sex == "male" and profile.sex_source == "default"
    assert any("estimated" in n for n in profile.notes)
    assert any("male constants" in n for n in profile.notes)


# ---- daily series and check() shape ----


def test_daily_series_has_rest_days_and_keeps_cross_training_apart() -> None:
    acts = frame(
        [run(0, 10.0), run(3, 5.0), run(3, 20.0, sport="cycling", moving_s=3600.0)]
    )
    daily = daily_series(acts, settings=SETTINGS)
    assert list(daily.index) == list(pd.date_range("2024-01-01", periods=4))
    assert daily["run_km"].tolist() == [10.0, 0.0, 0.0, 5.0]
    assert daily["cross_min"].tolist() == [0.0, 0.0, 0.0, 60.0]
    assert daily["run_count"].tolist() == [1.0, 0.0, 0.0, 1.0]


def test_check_json_shape_and_future_runs_ignored() -> None:
    acts = frame([run(d, 5.0) for d in range(40)] + [run(45, 40.0)])
    doc = check(acts, settings=SETTINGS, as_of=as_of(39)).to_json()
    assert set(doc) >= {"as_of", "flags", "load"}
    assert set(doc["load"]) >= {
        "acute_km",
        "chronic_km_per_week",
        "acwr",
        "acwr_status",
    }
    assert set(doc["load"]["acwr"]) == {"uncoupled", "coupled", "ewma"}
    assert doc["load"]["acute_km"] == pytest.approx(35.0)
    assert doc["load"]["acwr"]["uncoupled"] == pytest.approx(1.0)
    assert doc["flags"] == []


def test_flag_json_matches_interface_and_wording() -> None:
    acts = spike_history(21.0)
    for f in check(acts, settings=SETTINGS, as_of=as_of(35)).to_json()["flags"]:
        assert set(f) == {
            "rule",
            "severity",
            "date",
            "value",
            "threshold",
            "message",
            "evidence",
            "context",  # added: lines from context hooks (registry), [] here
        }
        assert f["context"] == []
        assert f["severity"] in {"info", "caution", "warning"}
        assert all(set(e) == {"citation", "grade"} for e in f["evidence"])
        text = f["message"].lower()
        assert "causes" not in text and "danger" not in text and "risk is" not in text


def test_empty_history() -> None:
    result = check(frame([run(0, 5.0)]).iloc[:0], settings=SETTINGS, as_of=START)
    assert result.load["acwr_status"] == "insufficient_history"
    assert result.flags == []


# ---- properties ----

run_rows = st.lists(
    st.tuples(st.integers(0, 60), st.floats(0.0, 42.0, allow_nan=False)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(run_rows)
def test_daily_series_keeps_total_distance(rows: list[tuple[int, float]]) -> None:
    acts = frame([run(d, km) for d, km in rows])
    daily = daily_series(acts, settings=SETTINGS)
    assert daily["run_km"].sum() == pytest.approx(sum(km for _, km in rows))
    assert len(daily) == max(d for d, _ in rows) - min(d for d, _ in rows) + 1


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.floats(0.5, 42.0, allow_nan=False)),
        min_size=1,
        max_size=20,
    )
)
def test_no_flag_before_minimum_history(rows: list[tuple[int, float]]) -> None:
    # Under 14 days: no weekly ramp (14 d), spike (30 d), ACWR (28 d), intensity or
    # descent ramps (35 d).
    acts = frame([run(d, km, descent_m=km * 30) for d, km in rows])
    first = min(d for d, _ in rows)
    result = check(acts, settings=SETTINGS, as_of=as_of(first + 12))
    ruled = {f.rule for f in result.flags}
    assert ruled <= {"monotony_high"}
    assert result.load["acwr_status"] == "insufficient_history"


#: Days of history each rule needs (RULES §9; 4-week baselines need 5 weeks).
MIN_HISTORY_DAYS = {
    "weekly_ramp": 14,
    "acwr_high": 28,
    "acwr_low": 28,
    "session_spike": 30,
    "descent_ramp": 30,
    "intensity_ramp": 35,
}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.integers(0, 44), st.floats(0.5, 42.0, allow_nan=False)),
        min_size=2,
        max_size=40,
    ),
    st.integers(0, 44),
)
def test_each_rule_waits_for_its_own_minimum_history(
    rows: list[tuple[int, float]], offset: int
) -> None:
    acts = frame([run(d, km, descent_m=km * 30) for d, km in rows])
    first = min(d for d, _ in rows)
    result = check(acts, settings=SETTINGS, as_of=as_of(first + offset))
    for flag in result.flags:
        need = MIN_HISTORY_DAYS.get(flag.rule)
        if need is not None:
            history_days = (flag.date - as_of(first)).days + 1
            assert history_days >= need, (flag.rule, history_days)
    if offset + 1 < 28:
        assert result.load["acwr_status"] == "insufficient_history"


# ---- the generated sample block: each story in index.toml fires its rule ----


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, Settings, dict[str, Any]]:
    """The sample block ingested into a fresh home, its settings and its story."""
    import tempfile
    import tomllib

    from conftest import SAMPLE_DIR

    from kneeload.history import open_history
    from kneeload.ingest import ingest
    from kneeload.store import Store

    if not (SAMPLE_DIR / "index.toml").exists():
        pytest.skip("sample_activities/ not generated")
    index = tomllib.loads((SAMPLE_DIR / "index.toml").read_text(encoding="utf-8"))
    a = index["athlete"]
    athlete = AthleteSettings(
        sex=a["sex"], hr_max=float(a["hr_max"]), hr_rest=float(a["hr_rest"])
    )
    with tempfile.TemporaryDirectory() as home:
        with Store.in_home(Path(home)) as store:
            ingest([SAMPLE_DIR], store, workers=1)
        history = open_history(home)
        acts = history.activities
        history.close()
    return acts, dataclasses.replace(Settings(), athlete=athlete), index


def _day(text: str) -> date:
    return date.fromisoformat(text)


def test_sample_weekly_ramp_and_spike_in_week_5(sample) -> None:
    acts, s, index = sample
    story = index["story"]["weekly_ramp"]
    flags = check(acts, settings=s, as_of=_day(story["as_of"])).flags
    ramp = [f for f in flags if f.rule == "weekly_ramp"]
    assert len(ramp) == 1
    assert ramp[0].value == pytest.approx(100 * story["increase"], abs=0.5)
    spike = index["story"]["session_spike"]
    spikes = [f for f in flags if f.rule == "session_spike"]
    assert [f.date for f in spikes] == [_day(spike["date"])]
    assert spikes[0].value == pytest.approx(spike["ratio"], abs=0.01)


def test_sample_quiet_base_weeks(sample) -> None:
    acts, s, index = sample
    base_end = _day(index["story"]["base"]["to"])
    flags = check(acts, settings=s, as_of=base_end).flags
    assert {f.rule for f in flags} <= {"intensity_ramp"}


def test_sample_low_cadence_stretch_and_downhill_week(sample) -> None:
    acts, s, index = sample
    low = index["story"]["low_cadence"]
    end = _day(low["to"])
    flags = check(acts, settings=s, as_of=end).flags
    assert any(f.rule == "cadence_low" for f in flags)
    downhill = index["story"]["downhill"]
    flags = check(acts, settings=s, as_of=_day(downhill["to"])).flags
    weekly = [
        f for f in flags if f.rule == "descent_ramp" and f.date == _day(downhill["to"])
    ]
    assert len(weekly) == 1
    # weekly descent from the files, within 10 % of the noise-free route profile
    assert weekly[0].value == pytest.approx(downhill["weekly_descent_m"], rel=0.1)


# --- an old history in the same store (RULES §1.6, §3) ---------------------------

SAMPLES = Path(__file__).resolve().parents[1] / "sample_activities"
SAMPLE_WEEK = [date(2026, 8, 24) + timedelta(days=i) for i in range(7)]


def _kneeload(home: Path, *args: str) -> str:
    from click.testing import CliRunner

    from kneeload.cli import cli

    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _old_runs(folder: Path) -> Path:
    """Six weeks of hard 2013 runs (4 a week, 185 bpm), written as FIT files."""
    from datetime import UTC, datetime

    from kneeload._testing.synth import simulate_run, write_fit

    folder.mkdir()
    for i in range(24):
        day = datetime(2013, 5, 6, 7, tzinfo=UTC) + timedelta(days=7 * (i // 4) + i % 4)
        sim = simulate_run(day, distance_km=8 + i % 5, hr_mean=185.0, seed=i)
        (folder / f"old-{i:02d}.fit").write_bytes(write_fit(sim))
    return folder


@pytest.fixture(scope="module")
def two_homes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the sample block alone, the sample block beside a 2013 history)."""
    if not (SAMPLES / "index.toml").exists():
        pytest.skip(f"sample block not generated ({SAMPLES} missing)")
    base = tmp_path_factory.mktemp("old-history")
    alone, both = base / "alone", base / "both"
    _kneeload(alone, "ingest", str(SAMPLES))
    _kneeload(both, "ingest", str(_old_runs(base / "old")), str(SAMPLES))
    return alone, both


def _history(home: Path) -> pd.DataFrame:
    from kneeload.history import open_history

    history = open_history(home)
    try:
        return add_trimp(history.activities, settings=Settings())
    finally:
        history.close()


def test_an_old_history_leaves_the_sample_week_as_it_is(
    two_homes: tuple[Path, Path],
) -> None:
    """Issue 9 item 3: with 2013 runs in the store, the week of 24-30 Aug 2026 had
    intensity_ramp and monotony_high and an EWMA ACWR of 1.542 instead of 1.434
    (the baselines, the strain percentile and the EWMA seed reached back to 2013).
    A break of >= 28 days starts a new history: every flag, ACWR variant (to 3
    decimals, as JSON gives them) and the monotony are the same on every day."""
    from kneeload.analysis.registry import RuleContext
    from kneeload.analysis.rules import monotony

    alone, both = two_homes
    doc_alone = strict_json_doc(_kneeload(alone, "check", "--as-of", "2026-08-30",
                                          "--json"))  # fmt: skip
    doc_both = strict_json_doc(_kneeload(both, "check", "--as-of", "2026-08-30",
                                         "--json"))  # fmt: skip
    assert doc_both == doc_alone
    assert doc_alone["load"]["acwr"]["ewma"] is not None
    rules = {f["rule"] for f in doc_alone["flags"]}
    assert not rules & {"intensity_ramp", "monotony_high"}
    acts_alone, acts_both = _history(alone), _history(both)
    assert local_min_year(acts_both) == 2013
    for day in SAMPLE_WEEK:
        a = check(acts_alone, settings=Settings(), as_of=day).to_json()
        b = check(acts_both, settings=Settings(), as_of=day).to_json()
        assert b["flags"] == a["flags"], day
        assert b["load"] == a["load"], day
        ctx = []
        for acts in (acts_alone, acts_both):
            upto = acts[pd.to_datetime(acts["local_date"]) <= pd.Timestamp(day)]
            runs = upto[upto["sport"].eq("running")].sort_values("start_utc")
            daily = daily_series(upto, settings=Settings(), end=day)
            ctx.append(RuleContext(daily, runs, settings=Settings(), as_of=day))
        assert ctx[1].history_start == ctx[0].history_start == date(2026, 7, 28)
        mono = [float(monotony(c.daily["run_km"]).iloc[-1]) for c in ctx]
        assert mono[1] == pytest.approx(mono[0], abs=1e-12), day


def strict_json_doc(text: str) -> dict[str, Any]:
    """The JSON document of a command (an object)."""
    import json

    doc = json.loads(text)
    assert isinstance(doc, dict)
    return doc


def local_min_year(acts: pd.DataFrame) -> int:
    """The year of the first activity in the store."""
    return int(pd.to_datetime(acts["local_date"]).min().year)


def test_the_first_run_after_the_old_history_is_a_return_from_a_break(
    two_homes: tuple[Path, Path],
) -> None:
    """RULES §1.6: alone, 28 Jul 2026 is the start of the history (no flag,
    insufficient_history); after the 2013 runs it is a return from a break: the
    session spike's INFO and ``after_break`` (the same days gated)."""
    alone, both = two_homes
    day = date(2026, 7, 28)
    a = check(_history(alone), settings=Settings(), as_of=day)
    b = check(_history(both), settings=Settings(), as_of=day)
    assert a.flags == [] and a.load["acwr_status"] == "insufficient_history"
    assert [(f.rule, f.severity) for f in b.flags] == [("session_spike", "info")]
    assert "after a break" in b.flags[0].message
    assert b.load["acwr_status"] == "after_break"


def test_the_real_files_beside_the_samples_leave_the_sample_week(
    two_homes: tuple[Path, Path], real_dir: Path, tmp_path: Path
) -> None:
    """The store engineer's finding, with the real device files (2011-2013 runs):
    before, the week gained intensity_ramp and monotony_high and the EWMA read
    1.542 instead of 1.434. Now the check document is the same."""
    alone = two_homes[0]
    both = tmp_path / "real-and-samples"
    _kneeload(both, "ingest", str(real_dir), str(SAMPLES))
    args = ("check", "--as-of", "2026-08-30", "--json")
    doc_both = strict_json_doc(_kneeload(both, *args))
    doc_alone = strict_json_doc(_kneeload(alone, *args))
    assert doc_both["flags"] == doc_alone["flags"]
    assert doc_both["load"] == doc_alone["load"]
    assert doc_alone["load"]["acwr"]["ewma"] is not None
