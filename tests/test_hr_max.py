"""The HR-max estimate (RULES §1.5): 30-s peaks, 2nd highest, no suspect runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from kneeload._testing.synth import simulate_run, write_fit, write_gpx
from kneeload.analysis.load import estimate_hr_max, heart_rate_profile
from kneeload.codec import hr_peak_30s
from kneeload.config import AthleteSettings
from kneeload.history import History
from kneeload.ingest import ingest
from kneeload.store import Store


def test_hr_peak_is_a_30s_median_not_a_sample() -> None:
    t = np.arange(0.0, 600.0)
    hr = np.full(t.size, 150.0)
    hr[300] = 999.0  # one glitch
    hr[100:110] = 200.0  # a 10-s burst: 10 of 30 values, the median stays 150
    assert hr_peak_30s({"time_s": t, "heart_rate_bpm": hr}) == 150.0
    hr[400:440] = 180.0  # 40 s sustained
    assert hr_peak_30s({"time_s": t, "heart_rate_bpm": hr}) == 180.0


def test_hr_peak_holds_sparse_samples_and_needs_30s() -> None:
    t = np.arange(0.0, 120.0, 5.0)  # smart recording: one point each 5 s
    hr = np.full(t.size, 160.0)
    assert hr_peak_30s({"time_s": t, "heart_rate_bpm": hr}) == 160.0
    short = {"time_s": np.arange(0.0, 20.0), "heart_rate_bpm": np.full(20, 170.0)}
    assert hr_peak_30s(short) is None
    assert hr_peak_30s({"time_s": t}) is None


def test_estimate_is_the_second_highest_capped() -> None:
    import pandas as pd

    days = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"])
    frame = pd.DataFrame(
        {"local_date": days, "hr_peak30": [170.0, 185.0, 181.0, np.nan]}
    )
    notes: list[str] = []
    assert estimate_hr_max(frame, notes) == (181.0, "estimated")
    assert notes[0].startswith(
        "HR max 181 bpm estimated as the 2nd highest of the 30-s HR peaks (the "
        "highest 30-s median of each) of 3 activities in the last 2 years;"
    )
    frame["hr_peak30"] = [230.0, 228.0, 120.0, 100.0]
    assert estimate_hr_max(frame)[0] == 220.0
    # older than 2 years before the latest activity: not evidence any more
    old = pd.DataFrame(
        {
            "local_date": pd.to_datetime(["2020-01-01", "2020-01-02", "2026-01-01"]),
            "hr_peak30": [200.0, 199.0, 170.0],
        }
    )
    assert estimate_hr_max(old) == (170.0, "estimated")


def _run(day: int, **kw: float) -> object:
    start = datetime(2026, 3, 1, 7, 0, tzinfo=UTC) + timedelta(days=day)
    return simulate_run(start, interval_s=1, seed=day, **kw)  # type: ignore[arg-type]


def _hr_max(home: Path, folder: Path) -> float:
    with Store.in_home(home) as store:
        ingest([folder], store, workers=1)
        frame = History(store).activities
    return heart_rate_profile(frame, athlete=AthleteSettings()).hr_max


def test_glitch_and_suspect_run_do_not_move_hr_max(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for day, hr in enumerate((150.0, 158.0, 146.0, 162.0)):
        run = _run(day, duration_s=1800, hr_mean=hr)
        (plain / f"r{day}.fit").write_bytes(write_fit(run))  # type: ignore[arg-type]
    before = _hr_max(tmp_path / "a", plain)
    assert 150 < before < 200
    glitch = _run(10, duration_s=1800, hr_mean=150.0)
    glitch.samples["heart_rate_bpm"][600] = 999.0  # type: ignore[attr-defined]
    (plain / "glitch.gpx").write_bytes(write_gpx(glitch))  # type: ignore[arg-type]
    future = _run(27_000, duration_s=1800, hr_mean=205.0)  # a run in 2100
    (plain / "future.fit").write_bytes(write_fit(future))  # type: ignore[arg-type]
    with Store.in_home(tmp_path / "b") as store:
        report = ingest([plain], store, workers=1)
    assert [p.endswith("future.fit") for p, _ in report.suspect] == [True]
    assert "starts in the future (2100-" in report.suspect[0][1]
    assert _hr_max(tmp_path / "b", plain) == pytest.approx(before)


def test_fast_max_rolling_median_equals_brute_force() -> None:
    from numpy.lib.stride_tricks import sliding_window_view

    from kneeload.codec import _max_rolling_median

    rng = np.random.default_rng(20261201)
    for case in range(200):
        n = int(rng.integers(30, 400))
        values = rng.integers(90, 200, n).astype(float)
        if case % 3 == 0:
            values[rng.integers(0, n, 4)] = np.nan  # gaps longer than the hold
        if case % 5 == 0:
            values[:] = 150.0
            values[rng.integers(0, n)] = 240.0
        windows = sliding_window_view(values, 30)
        full = np.isfinite(windows).all(axis=1)
        want = float(np.median(windows[full], axis=1).max()) if full.any() else None
        assert _max_rolling_median(values, 30) == want, case
