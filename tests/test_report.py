"""The weekly report: content on the sample block, charts by structure, the CLI."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from kneeload.analysis.check import cadence_advice, check
from kneeload.analysis.dates import in_window
from kneeload.analysis.evidence import Flag
from kneeload.analysis.load import load_rows
from kneeload.analysis.registry import RuleContext, assemble
from kneeload.cli import cli
from kneeload.cli.report import last_complete_week_end, week_end_of
from kneeload.config import Settings, load_settings
from kneeload.history import open_history
from kneeload.notes import Note
from kneeload.report.charts import (
    OKABE_ITO,
    figure_to_png,
    plot_acwr,
    plot_cadence_speed,
    plot_descent,
    plot_weekly_km,
    report_charts,
    report_figures,
)
from kneeload.report.model import Image, Paragraph
from kneeload.report.render import document_text, render_html, render_text
from kneeload.report.sections import build_document, flag_numbers
from kneeload.report.weekly import (
    FOOTER,
    ProblemFile,
    WeeklyReport,
    build_weekly_report,
    load_series,
    week_problems,
    weekly_table,
)

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_activities"
MILE_KM = 1.609344  # international mile


def _flat(text: str) -> str:
    """Whitespace-normalised text (the text report wraps at 78 columns)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sample_home(story: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home folder with the whole sample block ingested."""
    home = tmp_path_factory.mktemp("sample_home")
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(SAMPLE_DIR)])
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture(scope="module")
def activities(sample_home: Path) -> pd.DataFrame:
    history = open_history(sample_home)
    try:
        return history.activities
    finally:
        history.close()


def _ramp_week(story: dict) -> date:
    return date.fromisoformat(story["story"]["weekly_ramp"]["as_of"])


@pytest.fixture(scope="module")
def ramp_report(story: dict, activities: pd.DataFrame) -> WeeklyReport:
    """The report of the sample block's ramp week (index.toml story.weekly_ramp)."""
    return build_weekly_report(
        activities, settings=Settings(), week_ending=_ramp_week(story)
    )


def test_sample_ramp_week_report_mentions_ramp_spike_and_cadence(
    story: dict, activities: pd.DataFrame, ramp_report: WeeklyReport
) -> None:
    week_ending = _ramp_week(story)
    report = ramp_report
    text = _flat(render_text(report))
    spike = story["story"]["session_spike"]
    ramp = story["story"]["weekly_ramp"]
    # numbers from index.toml, not from our code
    assert f"Distance: {ramp['km']:.1f} km" in text
    assert f"Longest run: {spike['km']:.1f} km" in text
    assert "Weekly ramp (weekly_ramp)" in text
    assert f"{100 * ramp['increase']:.0f}% above the previous 7" in text
    assert "Long-run spike (session_spike)" in text
    assert f"{spike['km']:.1f} km) was {100 * (spike['ratio'] - 1):.0f}% longer" in text
    advice = cadence_advice(activities, settings=Settings(), as_of=week_ending)
    # RULES §6.3: no cadence rule fired, no knee pain, no opt-in: one line only
    assert not advice.low and not report.suggest_cadence
    assert (
        f"CADENCE Cadence at easy pace: {advice.easy_cadence_spm:.0f} spm — "
        "no change suggested." in text
    )
    assert "metronome" not in text
    assert "choose what is pain-free" in text
    assert text.endswith(_flat(FOOTER))
    assert "danger" not in text.lower() and "causes" not in text.lower()


def test_cadence_suggestion_when_opted_in(
    story: dict, activities: pd.DataFrame, tmp_path: Path
) -> None:
    week_ending = _ramp_week(story)
    toml = tmp_path / "kneeload.toml"
    toml.write_text("[thresholds.cadence_suggest]\nalways = true\n", encoding="utf-8")
    settings = load_settings(toml)
    report = build_weekly_report(activities, settings=settings, week_ending=week_ending)
    text = _flat(render_text(report))
    advice = cadence_advice(activities, settings=settings, as_of=week_ending)
    lo, hi = advice.target_spm
    # RULES §6.3: x1.05 .. x1.10 of the easy cadence, rounded to even
    assert lo == 2 * round(advice.easy_cadence_spm * 1.05 / 2)
    assert hi == 2 * round(advice.easy_cadence_spm * 1.10 / 2)
    assert report.suggest_cadence and "If you want to try a gait change" in text
    assert f"target {lo}-{hi} steps/min" in text and "metronome" in text
    assert "Start at +5%" in text and "re-measure after 2-4 weeks" in text
    assert "no change suggested" not in text


def test_cadence_suggestion_when_knee_pain_noted(
    story: dict, activities: pd.DataFrame
) -> None:
    week_ending = _ramp_week(story)
    note = Note(id=1, day=week_ending, kind="knee_pain", score=3)
    report = build_weekly_report(
        activities, settings=Settings(), week_ending=week_ending, knee_notes=[note]
    )
    assert report.suggest_cadence and report.cadence_why == "knee_pain"
    text = _flat(render_text(report))
    assert "With knee pain noted, you could try a small gait change" in text
    assert "steps/min at the same pace" in text


def test_sample_weekly_table_matches_index(
    story: dict, ramp_report: WeeklyReport
) -> None:
    report = ramp_report
    by_monday = {w["monday"]: w for w in story["weeks"]}
    for monday, row in report.weeks.iterrows():
        expected = by_monday[monday.date().isoformat()]
        assert row["km"] == pytest.approx(expected["km"], abs=0.05)
        assert row["longest_km"] == pytest.approx(expected["longest_km"], abs=0.05)
        assert row["runs"] == expected["runs"]
    last = report.weeks.iloc[-1]
    assert last["ramp"] == "caution" and last["spike"]
    assert not report.weeks.iloc[:-1]["spike"].any()


def test_flags_in_report_are_those_of_check(
    story: dict, activities: pd.DataFrame
) -> None:
    day = date.fromisoformat(story["story"]["downhill"]["to"])
    report = build_weekly_report(activities, settings=Settings(), week_ending=day)
    expected = check(activities, settings=Settings(), as_of=day).flags
    assert [f.to_json() for f in report.flags] == [f.to_json() for f in expected]
    assert report.show_descent_chart
    text, page = _flat(render_text(report)), render_html(report, {})
    for flag in expected:
        assert _flat(flag.message) in text
        assert flag.evidence[0].citation in text
        assert html.escape(flag.evidence[0].citation) in page


def test_problem_files_listed(ramp_report: WeeklyReport) -> None:
    frame = pd.DataFrame(
        [("exports/broken.fit", "error", "truncated record")],
        columns=["path", "status", "reason"],
    )
    problems = week_problems(frame, ramp_report.week_ending)
    report = dataclasses.replace(ramp_report, problems=problems)
    assert "exports/broken.fit — error: truncated record" in _flat(render_text(report))
    # the HTML shows the file name (the full path is in the text part)
    assert "broken.fit — error: truncated record" in render_html(report, {})


def test_empty_history_still_reports() -> None:
    history_cols = ["local_date", "sport", "distance_m", "moving_s", "elapsed_s",
                    "descent_m", "start_utc", "steady_segments", "hr_hist",
                    "max_hr", "downhill_s"]  # fmt: skip
    empty = pd.DataFrame(columns=history_cols)
    report = build_weekly_report(
        empty, settings=Settings(), week_ending=date(2026, 11, 22)
    )
    assert report.numbers.runs == 0 and report.flags == []
    assert "not shown yet" in report.acwr_status_text
    assert "No flags this week." in render_text(report)


# --- charts: structure, not pixels -------------------------------------------------


def _weeks_frame() -> pd.DataFrame:
    index = pd.DatetimeIndex(["2026-08-10", "2026-08-17", "2026-08-24"])
    return pd.DataFrame(
        {
            "km": [30.0, 33.0, 49.0],
            "longest_km": [12.0, 14.0, 19.0],
            "descent_m": [100.0, 150.0, 900.0],
            "runs": [4, 4, 5],
            "ramp": ["", "", "caution"],
            "spike": [False, False, True],
            "descent_flag": [False, False, True],
            "flag_days": [(), (), (date(2026, 8, 30),)],
        },
        index=index,
    )


@pytest.mark.parametrize(("units", "per"), [("km", 1.0), ("mi", MILE_KM)])
def test_weekly_km_bars_ramp_and_spike(units: str, per: float) -> None:
    ax = Figure().subplots()
    plot_weekly_km(ax, _weeks_frame(), units=units)
    bars = [p for p in ax.containers[0]]
    assert [b.get_height() for b in bars] == pytest.approx(
        [30 / per, 33 / per, 49 / per]
    )
    colours = [to_hex(b.get_facecolor()) for b in bars]
    assert colours == [OKABE_ITO["sky"].lower()] * 2 + [OKABE_ITO["orange"].lower()]
    spike = next(ln for ln in ax.lines if "spike" in ln.get_label())
    assert spike.get_ydata() == pytest.approx([19 / per])
    # the spike marker stands out on the orange ramp bar (not orange on orange)
    assert to_hex(spike.get_color()) == OKABE_ITO["black"].lower()
    assert ax.get_ylabel() == f"{units} per week"
    assert "jumps" in ax.get_title(loc="left")


def test_acwr_chart_bands_line_and_flag_marker() -> None:
    days = pd.date_range("2026-08-01", periods=30, freq="D", name="date")
    ratio = np.linspace(0.9, 1.6, 30)
    daily = pd.DataFrame(
        {"acute_km": np.full(30, 40.0), "usual_km": np.full(30, 30.0), "acwr": ratio},
        index=days,
    )
    fig = Figure()
    top, bottom = fig.subplots(2, 1)
    plot_acwr(top, daily, ratio_ax=bottom, flag_days=(date(2026, 8, 30),))
    bands = sorted(
        (round(p.get_y(), 3), round(p.get_y() + p.get_height(), 3))
        for p in bottom.patches
        if isinstance(p, Rectangle)
    )
    assert bands[0] == (0.8, 1.3) and bands[1][0] == 1.5
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert "ACWR 0.8-1.3 band" in legend and "ACWR >1.5 band" in legend
    assert not bottom.texts  # nothing written over the ratio line
    (line,) = [ln for ln in bottom.lines if "ACWR" in ln.get_label()]
    assert line.get_ydata() == pytest.approx(ratio)
    # the flagged day is marked on its date, along the bottom edge, not on the line
    (x, y) = bottom.collections[0].get_offsets()[0]
    assert x == pytest.approx(mdates.date2num(pd.Timestamp("2026-08-30")))
    assert y == pytest.approx(0.06)  # axes fraction
    assert top.get_ylabel() == "km per 7 days"
    assert {ln.get_label() for ln in top.lines} >= {"last 7 days"}


def test_cadence_chart_target_band_and_points() -> None:
    gait = pd.DataFrame(
        {
            "speed_mps": [2.5, 2.8, 3.0],
            "spm": [160.0, 164.0, 166.0],
            "this_week": [False, False, True],
        }
    )
    ax = Figure().subplots()
    plot_cadence_speed(ax, gait, model=(130.0, 12.0), target_spm=(168, 176),
                       easy_speed_mps=2.6)  # fmt: skip
    band = next(p for p in ax.patches if isinstance(p, Rectangle))
    assert (band.get_y(), band.get_y() + band.get_height()) == (168, 176)
    # drawn at easy pace: 2.6 m/s +- 0.75 km/h, as min/km (hand: 1000/(2.6+-0.2083)/60)
    assert band.get_x() == pytest.approx(1000 / (2.6 + 0.75 / 3.6) / 60)
    assert band.get_x() + band.get_width() == pytest.approx(
        1000 / (2.6 - 0.75 / 3.6) / 60
    )
    week = next(ln for ln in ax.lines if ln.get_label() == "this week")
    assert week.get_xdata() == pytest.approx([1000 / 3.0 / 60])  # 5.56 min/km
    fit = next(ln for ln in ax.lines if ln.get_label().startswith("your usual"))
    x, y = fit.get_xdata(), fit.get_ydata()
    assert y == pytest.approx(130.0 + 12.0 * 1000 / (x * 60))
    assert "min/km" in ax.get_xlabel() and "steps/min" in ax.get_ylabel()
    assert ax.xaxis_inverted()  # faster to the right
    assert ax.xaxis.get_major_formatter()(1000 / 3.0 / 60) == "5:33"


def test_cadence_chart_pace_in_min_per_mile() -> None:
    gait = pd.DataFrame({"speed_mps": [2.5, 3.0], "spm": [160.0, 166.0],
                         "this_week": [False, True]})  # fmt: skip
    ax = Figure().subplots()
    plot_cadence_speed(ax, gait, model=None, target_spm=None, easy_speed_mps=None,
                       units="mi")  # fmt: skip
    week = next(ln for ln in ax.lines if ln.get_label() == "this week")
    assert week.get_xdata() == pytest.approx([1609.344 / 3.0 / 60])  # 8:56/mi
    assert "min/mi" in ax.get_xlabel()
    assert not ax.patches  # no suggestion: no target band


def test_weekly_km_no_marker_for_empty_weeks() -> None:
    weeks = _weeks_frame()
    weeks.loc[weeks.index[1], ["km", "longest_km", "runs"]] = [0.0, 0.0, 0]
    ax = Figure().subplots()
    plot_weekly_km(ax, weeks)
    dots = next(ln for ln in ax.lines if ln.get_label() == "longest run")
    assert list(dots.get_ydata()) == [12.0]  # not a dot at 0 for the empty week


def test_chart_legends_state_the_configured_thresholds() -> None:
    base = Settings().thresholds
    thr = dataclasses.replace(
        base,
        weekly_ramp=dataclasses.replace(base.weekly_ramp, info_pct=25.0,
                                        caution_pct=40.0),
        session_spike=dataclasses.replace(base.session_spike, caution_ratio=1.15),
        acwr_high=dataclasses.replace(base.acwr_high, info_above=1.25,
                                      caution_above=1.6),
    )  # fmt: skip
    weeks = _weeks_frame()
    weeks["ramp"] = ["", "info", "caution"]
    ax = Figure().subplots()
    plot_weekly_km(ax, weeks, thresholds=thr)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "ramp, note (> +25%)" in legend and "ramp, caution (> +40%)" in legend
    assert "long-run spike (> +15%)" in legend
    days = pd.date_range("2026-08-01", periods=30, freq="D", name="date")
    daily = pd.DataFrame({"acute_km": 40.0, "usual_km": 30.0, "acwr": 1.1},
                         index=days)  # fmt: skip
    top, bottom = Figure().subplots(2, 1)
    plot_acwr(top, daily, ratio_ax=bottom, thresholds=thr)
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert "ACWR 0.8-1.25 band" in legend and "ACWR >1.6 band" in legend
    ax = Figure().subplots()
    plot_descent(ax, _weeks_frame(), thresholds=thr)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "flagged: > 1.5x the 4-week mean" in legend


def test_report_chart_text_is_at_least_11_css_px_on_a_phone(
    ramp_report: WeeklyReport, story: dict, activities: pd.DataFrame
) -> None:
    down = build_weekly_report(
        activities,
        settings=Settings(),
        week_ending=date.fromisoformat(story["story"]["downhill"]["to"]),
    )
    for report in (ramp_report, down):
        figures = report_figures(report)
        assert {"acwr", "weekly_km", "cadence"} <= set(figures)
        for name, fig in figures.items():
            # drawn for 360 CSS px at 2x: 720 px wide
            assert fig.get_figwidth() * fig.dpi == pytest.approx(720)
            texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
            assert texts, name
            for t in texts:
                # points -> CSS px at 200 dpi and 2x density (8 pt = 11.1 px)
                px = t.get_fontsize() * fig.dpi / 72 / 2
                assert px >= 11, (name, t.get_text(), px)
            # fewer ticks: at most 5 labelled ticks per axis
            fig.canvas.draw()  # ticks are placed at draw time
            for ax in fig.axes:
                lo, hi = sorted(ax.get_xlim())
                shown = [
                    lb.get_text()
                    for lb in ax.get_xticklabels()
                    if lb.get_text() and lo <= lb.get_position()[0] <= hi
                ]
                assert len(shown) <= 5, (name, shown)
                y_lo, y_hi = sorted(ax.get_ylim())
                yticks = [y for y in ax.get_yticks() if y_lo <= y <= y_hi]
                assert len(yticks) <= 6, (name, yticks)


def test_acwr_chart_has_no_caption_and_no_acute_line_before_7_days(
    story: dict, activities: pd.DataFrame
) -> None:
    first = pd.to_datetime(activities["local_date"]).min().normalize()
    end = first + pd.Timedelta(days=20)
    report = build_weekly_report(activities, settings=Settings(),
                                 week_ending=end.date())  # fmt: skip
    acute = report.daily["acute_km"]
    # the first 6 days of the history have no full week: no line climbing from 0
    assert acute.loc[: first + pd.Timedelta(days=5)].isna().all()
    assert acute.loc[first + pd.Timedelta(days=6)] > 0
    fig = report_figures(report)["acwr"]
    assert not fig.texts and fig._supxlabel is None  # the HTML prints the caveat


def test_descent_chart_highlights_flag_week() -> None:
    ax = Figure().subplots()
    plot_descent(ax, _weeks_frame())
    heights = [b.get_height() for b in ax.containers[0]]
    assert heights == [100.0, 150.0, 900.0]
    assert to_hex(ax.containers[0][2].get_facecolor()) == OKABE_ITO["orange"].lower()
    assert "m per week" in ax.get_ylabel()
    assert ax.get_xlabel() == "weeks, Monday to Sunday"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "descent per week"  # the bars have their own entry
    ax = Figure().subplots()
    plot_descent(ax, _weeks_frame(), units="mi")  # miles bring feet
    assert [b.get_height() for b in ax.containers[0]] == pytest.approx(
        [100 / 0.3048, 150 / 0.3048, 900 / 0.3048]
    )
    assert "ft per week" in ax.get_ylabel()


def test_figure_to_png_is_png() -> None:
    fig = Figure()
    fig.subplots().plot([0, 1], [0, 1])
    assert figure_to_png(fig).startswith(b"\x89PNG\r\n\x1a\n")


def test_sample_charts_saved_for_a_human(
    ramp_report: WeeklyReport, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("charts")
    for key, report in (("ramp_week", ramp_report),):
        charts = report_charts(report)
        assert {"acwr", "weekly_km", "cadence"} <= set(charts)
        assert ("descent" in charts) == report.show_descent_chart
        for name, png in charts.items():
            (out / f"{key}_{name}.png").write_bytes(png)
    print(f"sample charts written to {out}")


# --- the command -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "sunday"),
    [
        (date(2026, 11, 23), date(2026, 11, 22)),  # Monday -> the day before
        (date(2026, 11, 22), date(2026, 11, 15)),  # Sunday: its week is not over
        (date(2026, 11, 19), date(2026, 11, 15)),  # Thursday
    ],
    ids=["monday", "sunday", "thursday"],
)
def test_last_complete_week(today: date, sunday: date) -> None:
    assert last_complete_week_end(today) == sunday


def test_week_end_of() -> None:
    assert week_end_of(date(2026, 8, 26)) == date(2026, 8, 30)
    assert week_end_of(date(2026, 8, 30)) == date(2026, 8, 30)


def test_report_command_writes_files_quietly(story: dict, sample_home: Path,
                                             tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "rep"
    (out).mkdir()
    (out / "descent.png").write_bytes(b"stale")
    args = ["--home", str(sample_home), "report", "--as-of", "2026-08-26",
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""  # cron: quiet on success
    verbose = CliRunner().invoke(cli, [*args[:2], "-v", *args[2:]])
    assert verbose.stdout == f"{out}\n"
    names = {p.name for p in out.iterdir()}
    assert names == {"report.html", "report.txt", "acwr.png", "weekly_km.png",
                     "cadence.png"}  # fmt: skip
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "cid:" not in page
    text = (out / "report.txt").read_text(encoding="utf-8")
    assert "Week of 24 Aug 2026" in text
    assert all(len(line) <= 78 for line in text.splitlines())


# --- the files section, the empty week, units, one document -----------------------


def _local_epoch(day: date, hour: int = 8) -> float:
    return datetime(day.year, day.month, day.day, hour).timestamp()  # local time


def test_files_section_covers_the_report_week() -> None:
    end = date(2026, 11, 22)  # week Mon 16 - Sun 22 Nov
    e = _local_epoch
    rows = [
        # dated by the activity read from the file
        ("a/in-week.fit", "partial", "CRC", e(date(2024, 1, 1)), "2026-11-18"),
        ("a/other-year.fit", "partial", "CRC", e(end), "2024-05-12"),
        # nothing readable: dated by when it was read (the week or the 7 days after)
        ("b/read-monday-after.fit", "error", "cut", e(date(2026, 11, 23)), None),
        ("b/read-in-week.gpx", "error", "not XML", e(date(2026, 11, 16)), None),
        ("b/read-long-ago.fit", "error", "cut", e(date(2026, 6, 1)), None),
        ("b/read-too-late.fit", "error", "cut", e(date(2026, 11, 30)), None),
        ("b/never-read.fit", "skipped", "too big", None, None),
        ("a/in-week.fit", "partial", "CRC", None, "2026-11-18"),  # again
    ]
    frame = pd.DataFrame(
        rows, columns=["path", "status", "reason", "checked_utc", "last_day"]
    )
    kept = week_problems(frame, end)
    assert [p.path for p in kept] == [
        "a/in-week.fit",
        "b/read-monday-after.fit",
        "b/read-in-week.gpx",
    ]  # each once, in the store's order
    assert kept[0] == ProblemFile("a/in-week.fit", "partial", "CRC")


def test_files_section_from_the_store(tmp_path: Path) -> None:
    """History.problem_files_dated dates a partial file by its activity."""
    home = tmp_path / "home"
    good = SAMPLE_DIR / sorted(p.name for p in SAMPLE_DIR.glob("*.fit"))[0]
    broken = tmp_path / "in" / "broken.fit"
    broken.parent.mkdir()
    broken.write_bytes(good.read_bytes()[:-200])  # truncated: partial or error
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(broken)])
    assert result.exit_code in (0, 1), result.output
    history = open_history(home)
    try:
        frame = history.problem_files_dated()
        activities = history.activities
    finally:
        history.close()
    assert len(frame) == 1 and frame.loc[0, "path"].endswith("broken.fit")
    row = frame.iloc[0]
    if row["status"] == "partial":  # an activity was read: its day dates the file
        assert row["last_day"] == str(activities["local_date"].max())[:10]
    else:  # nothing read: the read time dates it
        assert row["last_day"] is None and row["checked_utc"] > 0


def test_empty_week_points_to_the_latest_run(sample_home: Path, tmp_path: Path) -> None:
    history = open_history(sample_home)
    try:
        activities = history.activities
    finally:
        history.close()
    latest = pd.to_datetime(activities["local_date"]).max().date()
    later = latest + timedelta(days=14)  # a Sunday two weeks on, no runs
    report = build_weekly_report(activities, settings=Settings(), week_ending=later)
    hint = f"Your latest run is from {latest:%-d %b %Y}: try --as-of {latest}."
    assert report.latest_run == latest
    assert hint in _flat(render_text(report))
    assert html.escape(hint) in render_html(report, {})
    out = tmp_path / "out"
    args = ["--home", str(sample_home), "report", "--as-of", str(later)]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"your latest run is from {latest:%-d %b %Y}: try --as-of {latest}" in (
        result.stderr
    )


def test_miles_bring_feet(ramp_report: WeeklyReport) -> None:
    report = dataclasses.replace(ramp_report, units="mi")
    text = _flat(render_text(report))
    feet = ramp_report.numbers.descent_m / 0.3048  # hand: metres / 0.3048
    assert f"Descent: {feet:.0f} ft" in text
    assert f"{ramp_report.numbers.descent_m:.0f} m" not in text.split("ACWR")[0]
    flag = Flag("descent_ramp", "info", report.week_ending, 900.0, 450.0, "m", [])
    assert flag_numbers(flag, "mi") == (
        f"{900 / 0.3048:.0f} ft of descent (flagged beyond {450 / 0.3048:.0f} ft)"
    )
    assert flag_numbers(flag, "km") == "900 m of descent (flagged beyond 450 m)"


def test_text_and_html_render_the_same_document(ramp_report: WeeklyReport) -> None:
    charts = report_charts(ramp_report)
    doc = build_document(ramp_report, frozenset(charts))
    text = _flat(document_text(doc))
    page = render_html(ramp_report, charts)
    order = [s.key for s in doc.sections]
    assert order[:3] == ["numbers", "flags", "charts"]  # phone first
    assert order.index("cadence") > order.index("charts")
    for section in doc.sections:
        assert _flat(section.heading.upper()) in text
        assert html.escape(section.heading) in page
        for block in section.blocks:
            if isinstance(block, Paragraph):
                assert _flat(block.text) in text
                assert html.escape(block.text) in page
            elif isinstance(block, Image):
                assert (
                    f"{block.name}.png" in text and html.escape(block.caption) in page
                )
    assert page.count("<img ") == len(charts)


def test_html_is_email_safe(ramp_report: WeeklyReport) -> None:
    page = render_html(ramp_report, report_charts(ramp_report), embed=False)
    assert "<style" not in page and "class=" not in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in (
        page
    )
    assert 'name="color-scheme"' in page
    assert "max-width:640px" in page and 'role="presentation"' in page
    # every element that shows text or an image carries its style inline
    for tag in ("p", "td", "h1", "h2", "li", "img", "table", "ul"):
        for m in re.finditer(rf"<{tag}\b[^>]*>", page):
            assert 'style="' in m.group(0), m.group(0)
    for m in re.finditer(r"<img\b[^>]*>", page):
        assert 'width="100%"' in m.group(0) and "height:auto" in m.group(0)
    # a preheader line: hidden, first in the body, says the week in brief
    pre = re.search(r'<body[^>]*>\s*<div style="display:none[^"]*">([^<]+)</div>', page)
    assert pre and pre.group(1).startswith(
        f"{ramp_report.numbers.distance_m / 1000:.1f} km"
    )
    # text colours are set explicitly (dark-mode clients invert them consistently)
    assert page.count("color:") >= page.count("<p ")


def test_descent_flag_messages_in_feet_with_miles(
    story: dict, activities: pd.DataFrame
) -> None:
    down = story["story"]["downhill"]
    base = Settings()
    miles = dataclasses.replace(
        base, athlete=dataclasses.replace(base.athlete, units="mi")
    )
    end = date.fromisoformat(down["to"])
    report = build_weekly_report(activities, settings=miles, week_ending=end)
    text = _flat(render_text(report))
    weekly = next(f for f in report.flags if f.rule == "descent_ramp" and f.date == end)
    feet = weekly.value / 0.3048  # hand: metres / 0.3048
    assert f"You ran much more downhill than usual: {feet:.0f} ft of descent" in text
    assert f"{weekly.value:.0f} m of descent" not in text


def test_report_lists_only_the_files_of_its_week(
    sample_home: Path, tmp_path: Path
) -> None:
    """A file that failed today belongs to the last complete week, not to August."""
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    broken = tmp_path / "in" / "export.zip"
    broken.parent.mkdir()
    broken.write_bytes(b"PK\x03\x04 not really a zip archive")
    CliRunner().invoke(cli, ["--home", str(home), "ingest", str(broken)])
    last_week = last_complete_week_end(date.today())
    texts = {}
    for day in (last_week, date(2026, 8, 30)):
        out = tmp_path / f"out-{day}"
        args = ["--home", str(home), "report", "--as-of", str(day), "--out", str(out)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        texts[day] = _flat((out / "report.txt").read_text(encoding="utf-8"))
    assert "FILES THAT COULD NOT BE READ" in texts[last_week]
    assert f"{broken} — error" in texts[last_week]  # full path in the text
    assert "FILES THAT COULD NOT BE READ" not in texts[date(2026, 8, 30)]


def test_weekly_table_flags_equal_a_fresh_rule_context_per_week(
    activities: pd.DataFrame,
) -> None:
    """The shared ACWR frame gives the flags a per-week ``check`` context gives.

    Also with a ride 40 days before the first run and a 60-day break mid-block.
    """
    d = load_rows(activities).copy()
    d["local_date"] = pd.to_datetime(d["local_date"])
    late = d["local_date"] > d["local_date"].min() + pd.Timedelta(days=50)
    for col in ("local_date", "start_utc"):
        d.loc[late, col] = d.loc[late, col] + pd.Timedelta(days=60)
    ride = d.iloc[[0]].copy()
    for col in ("local_date", "start_utc"):
        ride[col] = ride[col] - pd.Timedelta(days=40)
    ride["sport"], ride["id"] = "cycling", "ride-before"
    shifted = pd.concat([ride, d], ignore_index=True)
    settings = Settings()
    cases = [(load_rows(activities), date(2026, 11, 15)), (shifted, date(2027, 1, 10))]
    fired = 0
    for data, as_of in cases:
        series = load_series(data, settings=settings, week_ending=as_of)
        table = weekly_table(data, settings=settings, week_ending=as_of, series=series)
        for k in range(len(table)):
            end = as_of - timedelta(days=7 * k)
            ctx = RuleContext(series.daily, in_window(series.runs, end=end),
                              settings=settings, as_of=end)  # fmt: skip
            flags = assemble(ctx, where=lambda rule: rule.load)[0]
            assert table.iloc[-1 - k]["flag_days"] == tuple(
                sorted({f.date for f in flags})
            ), end
            fired += len(flags)
    assert fired >= 5  # the sample's ramp, spike, ACWR and downhill weeks
