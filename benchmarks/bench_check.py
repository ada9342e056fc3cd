"""Time ``check()`` and ``cadence_advice()`` over 10 years of synthetic history.

Run: ``python benchmarks/bench_check.py``. Target (issue 3): check < 1 s for
~2,500 runs once the activities frame is loaded.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from kneeload.analysis.check import cadence_advice, check
from kneeload.config import Settings


def synthetic_history(years: int = 10, seed: int = 1) -> pd.DataFrame:
    """About 250 runs a year plus some cycling, with HR histograms and segments."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2016-01-01", periods=365 * years, freq="D")
    runs = days[rng.random(len(days)) < 0.69]
    rides = days[rng.random(len(days)) < 0.08]
    rows = [_activity(i, d, "running", rng) for i, d in enumerate(runs)]
    rows += [_activity(10**6 + i, d, "cycling", rng) for i, d in enumerate(rides)]
    return pd.DataFrame(rows).sort_values("start_utc", ignore_index=True)


def _activity(i: int, day: pd.Timestamp, sport: str, rng: np.random.Generator) -> dict:
    km = float(rng.gamma(4.0, 2.5))
    speed = float(rng.normal(3.0, 0.3))
    moving = km * 1000 / speed
    hist = np.zeros(256)
    hist[rng.integers(120, 185, size=40)] += moving / 40
    spm = 160 + 3 * (speed * 3.6 - 10) + rng.normal(0, 3)
    segment = {
        "start_s": 400.0,
        "duration_s": 600.0,
        "speed_mps": speed,
        "cadence_spm": spm,
        "grade": 0.0,
    }
    return {
        "id": f"a{i}",
        "sport": sport,
        "sub_sport": None,
        "start_utc": (day + pd.Timedelta(hours=7)).tz_localize("UTC"),
        "local_date": day,
        "elapsed_s": moving * 1.05,
        "moving_s": moving,
        "distance_m": km * 1000,
        "ascent_m": km * 8,
        "descent_m": km * 8,
        "avg_hr": 150.0,
        "max_hr": float(rng.normal(178, 4)),
        "cadence_spm": spm,
        "step_length_m": speed * 60 / spm,
        "downhill_s": moving * 0.05,
        "hr_hist": hist,
        "steady_segments": [segment] * 3 if sport == "running" else [],
        "partial": False,
    }


def timed(fn, repeat: int = 7) -> float:
    """Median wall time of ``fn()`` in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Build the history, then time check() and cadence_advice()."""
    acts = synthetic_history()
    n_runs = int(acts["sport"].eq("running").sum())
    settings, as_of = Settings(), date(2025, 12, 28)
    t_check = timed(lambda: check(acts, settings=settings, as_of=as_of))
    t_cad = timed(lambda: cadence_advice(acts, settings=settings, as_of=as_of))
    print(f"{len(acts)} activities ({n_runs} runs) over 10 years")
    print(f"check():          {t_check * 1000:.0f} ms (median of 7; target < 1000 ms)")
    print(f"cadence_advice(): {t_cad * 1000:.0f} ms (median of 7)")


if __name__ == "__main__":
    main()
