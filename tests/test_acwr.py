"""ACWR variants, gating and cross-checks against the independent ``acwr`` package."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import acwr as ref
import numpy as np
import pandas as pd
import pytest
from conftest import manifest_rows, real_dir_or_skip
from hypothesis import given, settings
from hypothesis import strategies as st

from kneeload.analysis.acwr import (
    acwr_frame,
    acwr_status,
    ewma_acwr,
    rolling_coupled,
    rolling_uncoupled,
)
from kneeload.analysis.rules import acwr_high, acwr_low
from kneeload.config import AthleteSettings, Settings
from kneeload.report.weekly import acwr_status_text


def series(loads: list[float], start: str = "2024-01-01") -> pd.Series:
    """Daily load with a complete calendar index."""
    idx = pd.date_range(start, periods=len(loads), freq="D")
    return pd.Series(np.asarray(loads, dtype=float), index=idx)


def ewma_by_hand(loads: list[float], acute: int, chronic: int) -> list[float]:
    """Williams 2017 recursion by hand; both seeded with mean(days 1-28)."""
    seed = sum(loads[:28]) / len(loads[:28])
    la, lc = 2 / (acute + 1), 2 / (chronic + 1)
    ea = ec = seed
    out = []
    for x in loads:
        ea = la * x + (1 - la) * ea
        ec = lc * x + (1 - lc) * ec
        out.append(ea / ec)
    return out


def test_steady_block_gives_exactly_one() -> None:
    load = series([6.0] * 60)
    for fn in (rolling_uncoupled, rolling_coupled, ewma_acwr):
        tail = fn(load).iloc[27:]
        assert tail.to_numpy() == pytest.approx(1.0)


def test_hand_worked_step_up() -> None:
    # 28 days at 5 km then 7 days at 10 km.
    load = series([5.0] * 28 + [10.0] * 7)
    # Uncoupled: mean of last 7 (10) over mean of the 21 before (5) = 2.0.
    assert rolling_uncoupled(load).iloc[-1] == pytest.approx(10 / 5)
    # Coupled: chronic = (21*5 + 7*10) / 28 = 6.25; ratio 10 / 6.25 = 1.6.
    assert rolling_coupled(load).iloc[-1] == pytest.approx(
        10 / ((21 * 5 + 7 * 10) / 28)
    )


def test_ewma_matches_recursion_by_hand() -> None:
    loads = [0, 8, 0, 5, 12, 0, 6] * 6 + [15, 0, 15, 0, 15, 15, 0]
    got = ewma_acwr(series([float(x) for x in loads])).to_numpy()
    want = ewma_by_hand([float(x) for x in loads], 7, 28)
    assert np.isnan(got[:27]).all()
    assert got[27:] == pytest.approx(want[27:])


def test_rolling_values_nan_before_window() -> None:
    load = series([5.0] * 27)
    assert rolling_uncoupled(load).isna().all()
    assert rolling_coupled(load).isna().all()


HAND_SERIES = {
    "steady": [5.0] * 50,
    "spike-after-rest": [5.0] * 30 + [0.0] * 10 + [20.0] + [5.0] * 10,
    "weekly-pattern": [10, 0, 6, 0, 8, 0, 16] * 8,
    "ramp": [float(i % 9) * (1 + i / 20) for i in range(70)],
}


@pytest.mark.parametrize("loads", HAND_SERIES.values(), ids=HAND_SERIES.keys())
@pytest.mark.parametrize(("acute", "chronic"), [(7, 28), (3, 14)])
def test_rolling_match_acwr_package(loads: list[float], acute: int, chronic: int):
    load = series([float(x) for x in loads])
    for mine, method in ((rolling_coupled, "rac"), (rolling_uncoupled, "rau")):
        theirs = ref.acwr(load, acute=acute, chronic=chronic, method=method)
        got = mine(load, acute=acute, chronic=chronic)
        theirs = theirs.where(np.isfinite(theirs))  # we report NaN for chronic 0
        pd.testing.assert_series_equal(got, theirs, check_names=False)


def _ewma_reference(load: pd.Series, acute: int, chronic: int) -> pd.Series:
    """The package's EWMA on the series with the RULES §3 seed prepended as day 0."""
    seed = float(load.iloc[:chronic].mean())
    day0 = load.index[0] - pd.Timedelta(days=1)
    padded = pd.concat([pd.Series([seed], index=[day0]), load])
    out = ref.acwr(padded, acute=acute, chronic=chronic, method="ewma", min_periods=1)
    return out.iloc[1:]


@pytest.mark.parametrize("loads", HAND_SERIES.values(), ids=HAND_SERIES.keys())
def test_ewma_matches_acwr_package(loads: list[float]) -> None:
    load = series([float(x) for x in loads])
    got = ewma_acwr(load, acute=7, chronic=28, seed_days=28)
    want = _ewma_reference(load, 7, 28)
    assert got.iloc[27:].to_numpy() == pytest.approx(want.iloc[27:].to_numpy())


# ---- the trackeR June-2013 athlete (real files, distances from MANIFEST.tsv) ----


def tracker_daily_km() -> pd.Series:
    """Daily running km of the trackeR June-2013 runner from MANIFEST rows."""
    real_dir_or_skip()
    rows = [r for r in manifest_rows() if r["name"].startswith("trackeR__2013")]
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime([r["start_time_utc"][:10] for r in rows]),
            "load": [float(r["distance_summary_m"]) / 1000 for r in rows],
        }
    )
    return ref.daily_load(frame)


def test_tracker_weekly_km_by_iso_week() -> None:
    km = tracker_daily_km()
    assert km.index[0] == pd.Timestamp("2013-06-01")
    assert km.index[-1] == pd.Timestamp("2013-06-23")
    weeks = km.groupby(km.index.isocalendar().week).sum().round(3)
    assert weeks.tolist() == [23.591, 77.606, 62.677, 59.496]


@pytest.mark.parametrize(("acute", "chronic"), [(3, 14), (7, 21), (7, 14)])
def test_tracker_acwr_matches_package(acute: int, chronic: int) -> None:
    # 23 days are fewer than the default 28-day chronic window, so the variants
    # are cross-checked with shorter windows that the series can fill.
    km = tracker_daily_km()
    for mine, method in ((rolling_coupled, "rac"), (rolling_uncoupled, "rau")):
        want = ref.acwr(km, acute=acute, chronic=chronic, method=method)
        got = mine(km, acute=acute, chronic=chronic)
        assert got.notna().sum() > 0
        pd.testing.assert_series_equal(got, want, check_names=False)
    got = ewma_acwr(km, acute=acute, chronic=chronic, seed_days=chronic)
    want = _ewma_reference(km, acute, chronic)
    assert got.iloc[chronic - 1 :].to_numpy() == pytest.approx(
        want.iloc[chronic - 1 :].to_numpy()
    )


def test_tracker_default_windows_are_gated() -> None:
    km = tracker_daily_km()
    frame = acwr_frame(km, settings=Settings())
    assert (frame["acwr_status"] == "insufficient_history").all()
    assert ref.acwr(km, method="rau").isna().all()  # the package agrees: no value
    assert frame["uncoupled"].isna().all()


# ---- gating ----


def test_insufficient_history_before_28_days() -> None:
    load = series([6.0] * 27)
    assert acwr_status(load, settings=Settings(), as_of=date(2024, 1, 27)) == (
        "insufficient_history"
    )
    load = series([6.0] * 28)
    assert acwr_status(load, settings=Settings(), as_of=date(2024, 1, 28)) == "ok"


def test_three_week_break_gives_after_break_for_four_weeks() -> None:
    loads = [6.0] * 40 + [0.0] * 21 + [6.0] * 40
    load = series(loads)
    restart = load.index[61].date()
    s = Settings()
    assert acwr_status(load, settings=s, as_of=restart) == "after_break"
    assert acwr_status(load, settings=s, as_of=restart + timedelta(27)) == "after_break"
    assert acwr_status(load, settings=s, as_of=restart + timedelta(28)) == "ok"


def test_thirteen_day_gap_is_not_a_break() -> None:
    load = series([6.0] * 40 + [0.0] * 13 + [6.0] * 5)
    assert acwr_status(load, settings=Settings(), as_of=load.index[-1].date()) == "ok"


def test_days_before_the_first_run_are_not_a_break_nor_history() -> None:
    """RULES §1.6: 20 empty days (e.g. a ride weeks before the first run), then
    6 km a day. History day 1 is the first run (index 20), so day 28 is index 47:
    ok there, insufficient the day before; never ``after_break``."""
    load = series([0.0] * 20 + [6.0] * 40)
    frame = acwr_frame(load, settings=Settings())
    status = frame["acwr_status"]
    assert set(status.iloc[:47]) == {"insufficient_history"}
    assert status.iloc[47] == "ok"
    assert frame["uncoupled"].iloc[47] == pytest.approx(1.0)  # 42 / (6 * 7)
    assert "after_break" not in set(status)


def test_low_chronic_under_10_km_per_week() -> None:
    load = series([1.4] * 40)  # 9.8 km/week
    assert acwr_status(load, settings=Settings(), as_of=load.index[-1].date()) == (
        "low_chronic"
    )
    load = series([1.5] * 40)  # 10.5 km/week
    assert acwr_status(load, settings=Settings(), as_of=load.index[-1].date()) == "ok"


def test_low_chronic_looks_at_the_window_the_ratio_divides_by() -> None:
    # seven weeks of one 2 km run a week, then a 40 km week: the 28 days up to the
    # last day hold 46 km (11.5 km/week), but the uncoupled denominator (days
    # t-27..t-7) holds 3 runs = 6 km in 21 days = 2 km/week -> gated, no ratio
    week = [2.0, 0, 0, 0, 0, 0, 0]
    load = series(week * 7 + [6.0, 6.0, 6.0, 6.0, 6.0, 5.0, 5.0])
    frame = acwr_frame(load, settings=Settings())
    last = frame.iloc[-1]
    assert last["acwr_status"] == "low_chronic"
    assert last["chronic_km_per_week"] == pytest.approx(6.0 / 21 * 7)
    assert last["acute_km"] == pytest.approx(40.0)


def test_chronic_km_is_the_uncoupled_denominator() -> None:
    rng = np.random.default_rng(5)
    load = series(list(rng.uniform(0, 15, 90)))
    frame = acwr_frame(load, settings=Settings()).iloc[30:]
    np.testing.assert_allclose(
        frame["acute_km"] / frame["chronic_km_per_week"], frame["uncoupled"]
    )


def test_taper_window_d_minus_21_to_d_plus_7() -> None:
    load = series([6.0] * 120)
    race = date(2024, 3, 31)
    s = dataclasses.replace(Settings(), athlete=AthleteSettings(race_date=race))
    assert acwr_status(load, settings=s, as_of=race - timedelta(22)) == "ok"
    assert acwr_status(load, settings=s, as_of=race - timedelta(21)) == "taper"
    assert acwr_status(load, settings=s, as_of=race + timedelta(7)) == "taper"
    assert acwr_status(load, settings=s, as_of=race + timedelta(8)) == "ok"


def test_taper_window_lives_in_the_taper_settings() -> None:
    """[thresholds.taper] window_before_days / window_after_days move the gate."""
    load = series([6.0] * 120)
    race = date(2024, 3, 31)
    taper = dataclasses.replace(
        Settings().thresholds.taper, window_before_days=14, window_after_days=3
    )
    s = dataclasses.replace(
        Settings(),
        athlete=AthleteSettings(race_date=race),
        thresholds=dataclasses.replace(Settings().thresholds, taper=taper),
    )
    assert acwr_status(load, settings=s, as_of=race - timedelta(15)) == "ok"
    assert acwr_status(load, settings=s, as_of=race - timedelta(14)) == "taper"
    assert acwr_status(load, settings=s, as_of=race + timedelta(3)) == "taper"
    assert acwr_status(load, settings=s, as_of=race + timedelta(4)) == "ok"


def test_ewma_provisional_until_day_42() -> None:
    frame = acwr_frame(series([6.0] * 50), settings=Settings())
    assert frame["ewma_provisional"].iloc[40]
    assert not frame["ewma_provisional"].iloc[41]


# ---- properties ----

loads_strategy = st.lists(
    st.floats(min_value=0.0, max_value=50.0, allow_nan=False), min_size=35, max_size=80
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(loads_strategy, st.floats(min_value=0.01, max_value=1000.0))
def test_scaling_leaves_every_acwr_unchanged(loads: list[float], k: float) -> None:
    base, scaled = series(loads), series([x * k for x in loads])
    for fn in (rolling_coupled, rolling_uncoupled, ewma_acwr):
        a, b = fn(base).to_numpy(), fn(scaled).to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b))
        ok = ~np.isnan(a)
        assert b[ok] == pytest.approx(a[ok], rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.floats(min_value=0.1, max_value=100.0), st.integers(28, 90))
def test_constant_daily_load_gives_one(value: float, n: int) -> None:
    load = series([value] * n)
    for fn in (rolling_coupled, rolling_uncoupled, ewma_acwr):
        assert fn(load).iloc[27:].to_numpy() == pytest.approx(1.0, rel=1e-9)


# ---- the ACWR bands pinned at their edges (issue 8 mutation tests) ----


@pytest.mark.parametrize(
    ("ratio", "words", "flag"),
    [
        (0.79, "below your usual load", ("acwr_low", "info")),
        (0.80, "within your usual range", None),
        (1.30, "within your usual range", None),
        (1.31, "above your usual load", ("acwr_high", "info")),
        (1.50, "above your usual load", ("acwr_high", "info")),
        (1.51, "well above your usual load", ("acwr_high", "caution")),
        (4.00, "well above your usual load", ("acwr_high", "caution")),
    ],
)  # fmt: skip
def test_acwr_words_and_flags_at_the_band_edges(
    ratio: float, words: str, flag: tuple[str, str] | None
) -> None:
    """RULES §3: < 0.8 INFO low; 0.8-1.3 usual; > 1.3 INFO; > 1.5 CAUTION, never
    WARNING. The report's words and the flags share the same edges."""
    assert acwr_status_text(ratio, "ok") == f"{ratio:.2f} — {words}"
    day = date(2024, 3, 1)
    fired = acwr_high(ratio, "ok", settings=Settings(), as_of=day) + acwr_low(
        ratio, "ok", settings=Settings(), as_of=day
    )
    assert [(f.rule, f.severity) for f in fired] == ([flag] if flag else [])
    gated = acwr_high(ratio, "taper", settings=Settings(), as_of=day)
    assert gated == [] and acwr_status_text(ratio, "taper").startswith("not shown")


def test_history_blocks_by_hand() -> None:
    """RULES §1.6, §3: a block starts at the first load and after >= 28 empty days.

    Days 0-1 empty (block 0), load on day 2 (block 1); 27 empty days then load on
    day 30: the same block; 28 empty days then load on day 59: block 2."""
    from kneeload.analysis.daily import history_blocks, last_history_start

    loads = [0.0, 0.0, 5.0] + [0.0] * 27 + [3.0] + [0.0] * 28 + [4.0]
    blocks = history_blocks(series(loads), gap_days=28)
    assert list(blocks[:2]) == [0, 0]
    assert set(blocks[2:59]) == {1} and blocks[59] == 2
    assert last_history_start(series(loads), gap_days=28) == pd.Timestamp(
        "2024-01-01"
    ) + pd.Timedelta(days=59)
    assert last_history_start(series([0.0, 0.0]), gap_days=28) is None


def _block(days: int) -> list[float]:
    """A block with a weekly pattern (8, 0, 6, 0, 10, 0, 14 km) and a 19 km day."""
    week = [8.0, 0.0, 6.0, 0.0, 10.0, 0.0, 14.0]
    loads = (week * (days // 7 + 1))[:days]
    loads[-1] = 19.0
    return loads


def test_a_break_of_the_chronic_window_starts_a_new_ewma_seed() -> None:
    """RULES §3 (grade C): after >= 28 days without load the EWMA is seeded again
    with the mean of the new block's days 1-28, as if the block were the whole
    history; every ACWR number of the block from its day 28 on is the same with or
    without 100 days of old load before a 40-day break."""
    new = _block(60)
    old = [12.0 if i % 2 else 0.0 for i in range(100)] + [0.0] * 40
    s = Settings()
    alone = acwr_frame(series(new, "2024-06-01"), settings=s)
    start = pd.Timestamp("2024-06-01") - pd.Timedelta(days=len(old))
    both = acwr_frame(series(old + new, str(start.date())), settings=s)
    tail = both.loc[alone.index]
    np.testing.assert_allclose(alone["ewma"].iloc[27:], tail["ewma"].iloc[27:])
    assert np.allclose(
        alone["ewma"].iloc[27:], ewma_by_hand(new, 7, 28)[27:], equal_nan=True
    )
    for col in ("uncoupled", "coupled", "acute_km", "chronic_km_per_week"):
        np.testing.assert_allclose(alone[col].iloc[27:], tail[col].iloc[27:])
    assert list(alone["ewma_provisional"]) == list(tail["ewma_provisional"])
    # the same days are gated; after a break they say so
    assert set(alone["acwr_status"].iloc[:27]) == {"insufficient_history"}
    assert set(tail["acwr_status"].iloc[:27]) == {"after_break"}
    assert list(alone["acwr_status"].iloc[27:]) == list(tail["acwr_status"].iloc[27:])


def test_a_shorter_break_keeps_the_ewma_going() -> None:
    """A 20-day break (14-27 days) is a break inside one history: after_break for
    4 weeks, and the EWMA runs on through it (one seed, RULES §3)."""
    loads = _block(42) + [0.0] * 20 + _block(42)
    frame = acwr_frame(series(loads), settings=Settings())
    expected = ewma_by_hand(loads, 7, 28)
    np.testing.assert_allclose(frame["ewma"].iloc[27:], expected[27:])
    restart = 62
    status = frame["acwr_status"]
    assert set(status.iloc[restart : restart + 28]) == {"after_break"}
    assert status.iloc[restart + 28] == "ok"
    assert not frame["ewma_provisional"].iloc[restart]
