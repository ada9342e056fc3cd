"""Report benchmark: `kneeload report` on the sample block and on 2,000 runs.

    python benchmarks/bench_report.py [--runs 2000] [--repeat 3]

1. The whole command as a cron job runs it, in a fresh process
   (``kneeload --home H report --as-of D --out O``) on the ingested sample block:
   wall time including Python, pandas and matplotlib imports.
2. In-process stages on the sample block: build_weekly_report, the charts,
   render_text + render_html, compose_message (median of --repeat).
3. The same stages on ~2,000 runs: the sample block's activities repeated back in
   time, 16 weeks per copy, so the history spans years (the report reads it all).
Numbers go to stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from kneeload.config import Settings
from kneeload.history import open_history
from kneeload.mail import compose_message
from kneeload.report.charts import report_charts
from kneeload.report.render import render_html, render_text
from kneeload.report.weekly import build_weekly_report

SAMPLE = Path(__file__).resolve().parents[1] / "sample_activities"
AS_OF = date(2026, 11, 15)  # the race week of the sample block


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _cli(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kneeload", *args], check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - t0


def _stages(activities: pd.DataFrame, label: str, repeat: int) -> None:
    settings = Settings()
    t_build, report = _median(
        lambda: build_weekly_report(activities, settings=settings, week_ending=AS_OF),
        repeat,
    )
    t_charts, charts = _median(lambda: report_charts(report), repeat)
    t_render, _ = _median(
        lambda: (render_text(report), render_html(report, charts)), repeat
    )
    t_mail, _ = _median(
        lambda: compose_message(report, charts, sender="k@x.org", to=["r@x.org"]),
        repeat,
    )
    total = t_build + t_charts + t_render + t_mail
    print(
        f"{label}: build {t_build:.2f} s, charts {t_charts:.2f} s "
        f"({len(charts)} PNGs), render {t_render:.3f} s, email {t_mail:.3f} s "
        f"-> {total:.2f} s in process"
    )


def _repeated(activities: pd.DataFrame, runs: int) -> pd.DataFrame:
    """The block's activities shifted back 16 weeks per copy until ``runs`` rows."""
    copies = []
    for k in range(-(-runs // len(activities))):
        shift = pd.Timedelta(weeks=16 * k)
        copy = activities.copy()
        copy["local_date"] = copy["local_date"] - shift
        copy["start_utc"] = copy["start_utc"] - shift
        copy["id"] = copy["id"].astype(str) + f"-{k}"
        copies.append(copy)
    return pd.concat(copies, ignore_index=True).iloc[:runs]


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="kneeload-bench-") as tmp:
        home = Path(tmp) / "home"
        _cli("--home", str(home), "ingest", str(SAMPLE))
        report = ("--home", str(home), "report", "--as-of", AS_OF.isoformat(),
                  "--out", str(Path(tmp) / "out"))  # fmt: skip
        walls = [_cli(*report) for _ in range(args.repeat)]
        print(
            f"`kneeload report` on the sample block, fresh process: "
            f"median {statistics.median(walls):.2f} s (min {min(walls):.2f} s)"
        )
        history = open_history(home)
        activities = history.activities
        history.close()
    _stages(activities, f"sample block ({len(activities)} runs)", args.repeat)
    _stages(_repeated(activities, args.runs), f"{args.runs} runs", args.repeat)


if __name__ == "__main__":
    main()
