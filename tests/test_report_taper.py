"""The taper section and chart of the weekly report (issue 5 item 3, RULES §7)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
from datetime import date
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from kneeload.analysis.taper import taper_chart_frame
from kneeload.analysis.taper_flags import taper_flags
from kneeload.cli import cli
from kneeload.cli.report import CHART_NAMES
from kneeload.config import Settings, load_settings
from kneeload.history import open_history
from kneeload.mail import compose_message
from kneeload.notes import add_note, knee_pain
from kneeload.report.charts import plot_taper, report_charts
from kneeload.report.render import render_html, render_text
from kneeload.report.weekly import WeeklyReport, build_weekly_report

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_activities"
RACE = date(2026, 11, 15)
RACE_WEEK = RACE  # the Monday-Sunday report week ending on race day
FAR_WEEK = date(2026, 8, 30)
MILE_KM = 1.609344
#: RULES §7 expected W/B bands of weeks -3, -2, -1.
BANDS = {-3: (0.70, 0.90), -2: (0.55, 0.80), -1: (0.40, 0.60)}
MUTED = {"acwr_low", "monotony_high"}  # RULES §3, §7: muted inside the taper window
KNEE_ADVICE = "cut volume and downhill running first"


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def race_home(story: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the race date in kneeload.toml and the sample block ingested."""
    home = tmp_path_factory.mktemp("race_home")
    assert story["story"]["taper"]["race_date"] == RACE.isoformat()
    (home / "kneeload.toml").write_text(
        "[athlete]\nrace_date = 2026-11-15\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(SAMPLE_DIR)])
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture(scope="module")
def settings(race_home: Path) -> Settings:
    return load_settings(race_home / "kneeload.toml")


@pytest.fixture(scope="module")
def activities(race_home: Path) -> pd.DataFrame:
    history = open_history(race_home)
    try:
        return history.activities
    finally:
        history.close()


@pytest.fixture(scope="module")
def race_report(activities: pd.DataFrame, settings: Settings) -> WeeklyReport:
    return build_weekly_report(activities, settings=settings, week_ending=RACE_WEEK)


def test_config_date_parsed(settings: Settings) -> None:
    assert settings.athlete.race_date == RACE


def test_race_week_report_has_taper_and_no_muted_flags(
    story: dict, race_report: WeeklyReport
) -> None:
    taper = race_report.taper
    assert taper is not None and taper.verdict == "on_track" and taper.verdict_final
    assert not MUTED & {f.rule for f in race_report.flags}
    t = story["story"]["taper"]
    base = t["baseline_km_per_week"]
    assert base == pytest.approx(sum(t["baseline_weeks_km"]) / 4)  # 207 / 4
    text = _flat(render_text(race_report))
    assert "TAPER" in text and "Verdict: on track." in text
    assert f"Baseline (weeks -7 to -4): {base:.1f} km/week" in text
    for week, key in ((-3, "w3_km"), (-2, "w2_km"), (-1, "w1_km")):
        km, (lo, hi) = t[key], BANDS[week]
        ratio = km / base  # hand check: 41/51.75 = 0.79, 31/51.75 = 0.60, ...
        assert lo <= ratio <= hi
        assert (
            f"Week {week} " in text
            and f"{km:.1f} km = {ratio:.2f} of baseline "
            f"(expected {lo:.2f}-{hi:.2f}: within)"
            in text
        )
    assert "Bosquet 2007" in text
    assert all(len(line) <= 78 for line in render_text(race_report).splitlines())
    page = render_html(race_report, {})
    assert 'data-section="taper"' in page and "Verdict: on track." in page
    lowered = text.lower()
    assert "danger" not in lowered and "causes" not in lowered


def test_acwr_low_muted_only_with_race_date(
    activities: pd.DataFrame, settings: Settings
) -> None:
    week = date(2026, 11, 8)  # race week -1: load is low by design
    plain = build_weekly_report(activities, settings=Settings(), week_ending=week)
    assert "acwr_low" in {f.rule for f in plain.flags}  # so the next line can fail
    assert plain.taper is None
    taper = build_weekly_report(activities, settings=settings, week_ending=week)
    assert not MUTED & {f.rule for f in taper.flags}
    assert taper.taper is not None


def test_race_week_taper_chart_exists_and_decodes(race_report: WeeklyReport) -> None:
    charts = report_charts(race_report)
    assert "taper" in charts and "taper" in CHART_NAMES
    image = mpimg.imread(io.BytesIO(charts["taper"]), format="png")
    assert image.shape[1] == 720  # drawn for 360 CSS px at 2x density
    assert image.shape[0] > 400
    page = render_html(race_report, charts)
    assert 'alt="Taper: weekly distance' in page


def test_far_week_has_no_taper(activities: pd.DataFrame, settings: Settings) -> None:
    report = build_weekly_report(activities, settings=settings, week_ending=FAR_WEEK)
    assert report.taper is None and report.knee_advice is None
    assert "taper" not in report_charts(report)
    assert "TAPER" not in render_text(report)
    assert 'data-section="taper"' not in render_html(report, {})


@pytest.mark.parametrize(("units", "per"), [("km", 1.0), ("mi", MILE_KM)])
def test_taper_chart_draws_weekly_km_and_bands(
    story: dict, race_report: WeeklyReport, units: str, per: float
) -> None:
    result = race_report.taper
    assert result is not None
    ax = Figure().subplots()
    plot_taper(ax, taper_chart_frame(result), units=units,
               baseline_km=result.baseline_km_per_week)  # fmt: skip
    by = {c.get_label(): c for c in ax.containers}
    t = story["story"]["taper"]
    base_heights = [b.get_height() for b in by["weeks -7 to -4"]]
    assert base_heights == pytest.approx([w.km / per for w in result.baseline_weeks])
    assert base_heights == pytest.approx(
        [v / per for v in t["baseline_weeks_km"]], abs=0.05
    )
    taper_heights = [b.get_height() for b in by["taper weeks"]]
    assert taper_heights == pytest.approx([w.km / per for w in result.weeks])
    assert taper_heights == pytest.approx(
        [t[k] / per for k in ("w3_km", "w2_km", "w1_km")], abs=0.05
    )
    base = t["baseline_km_per_week"]
    limits = [
        (p.get_y() * per, (p.get_y() + p.get_height()) * per)
        for p in by["expected range"]
    ]
    expected = [(lo * base, hi * base) for lo, hi in BANDS.values()]
    assert limits == [pytest.approx(e, abs=0.05) for e in expected]
    assert "week to come: aim here" not in by  # every week is done on race day
    assert ax.get_ylabel() == f"{units} per week"
    assert "green" in ax.get_title(loc="left")


def test_taper_chart_weeks_to_come(
    activities: pd.DataFrame, settings: Settings
) -> None:
    week = date(2026, 10, 25)  # Sunday = day 1 of race week -3
    report = build_weekly_report(activities, settings=settings, week_ending=week)
    result = report.taper
    assert result is not None
    assert [w.status for w in result.weeks] == ["in_progress", "to_come", "to_come"]
    ax = Figure().subplots()
    plot_taper(ax, taper_chart_frame(result), baseline_km=result.baseline_km_per_week)
    by = {c.get_label(): c for c in ax.containers}
    assert "taper weeks" not in by  # no taper week is over yet
    (now,) = by["this week so far"]
    assert now.get_height() == pytest.approx(result.weeks[0].km)
    assert now.get_hatch() == "//"
    outlines = by["week to come: aim here"]
    base = result.baseline_km_per_week
    assert [p.get_x() + p.get_width() / 2 for p in outlines] == pytest.approx([-2, -1])
    assert [(p.get_y(), p.get_y() + p.get_height()) for p in outlines] == [
        pytest.approx((lo * base, hi * base)) for lo, hi in (BANDS[-2], BANDS[-1])
    ]
    assert [t.get_text() for t in ax.texts] == ["to come", "to come"]
    text = _flat(render_text(report))
    # hand check: 0.40 x 51.75 = 20.7 and 0.60 x 51.75 = 31.05 km (index.toml)
    assert (
        "Week -1 (Sun 8 Nov - Sat 14 Nov): to come (expected 0.40-0.60 of "
        "baseline); aim for 21-31 km in the week to stay on track." in text
    )
    assert "Verdict: on track so far (race week still to come)." in text


def test_knee_note_gives_advice(activities: pd.DataFrame, settings: Settings) -> None:
    notes = [knee_pain(date(2026, 9, 1), 5), knee_pain(date(2026, 11, 10), 3)]
    report = build_weekly_report(
        activities, settings=settings, week_ending=RACE_WEEK, knee_notes=notes
    )
    assert report.knee_advice is not None
    assert report.knee_advice.note.day == date(2026, 11, 10)
    assert KNEE_ADVICE in _flat(render_text(report))
    assert KNEE_ADVICE in _flat(html.unescape(render_html(report, {})))
    old = build_weekly_report(
        activities, settings=settings, week_ending=RACE_WEEK, knee_notes=notes[:1]
    )
    assert old.knee_advice is None  # September pain is outside the taper window
    assert KNEE_ADVICE not in _flat(render_text(old))


def test_taper_flags_rendered_with_citations(race_report: WeeklyReport) -> None:
    result = race_report.taper
    assert result is not None and result.baseline_km_per_week is not None
    base = result.baseline_km_per_week
    w1 = dataclasses.replace(result.weeks[-1], km=0.9 * base, ratio=0.9)
    flags = taper_flags([*result.weeks[:2], w1], base, None, None,
                        cfg=Settings().thresholds.taper)  # fmt: skip
    assert [f.rule for f in flags] == ["taper_volume", "taper_relaxed"]
    report = dataclasses.replace(
        race_report, taper=dataclasses.replace(result, flags=flags)
    )
    text, page = _flat(render_text(report)), render_html(report, {})
    assert "Race-week volume (taper_volume)" in text
    for flag in flags:
        assert _flat(flag.message) in text and html.escape(flag.message) in page
        assert flag.evidence[0].citation in text
        assert html.escape(flag.evidence[0].citation) in page


def test_report_command_writes_and_cleans_taper_chart(
    race_home: Path, tmp_path: Path
) -> None:
    add_note(race_home, knee_pain(date(2026, 11, 12), 4), today=date(2026, 11, 12))
    out = tmp_path / "rep"
    args = ["--home", str(race_home), "report", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--as-of", "2026-11-15"])
    assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "taper.png" in pngs
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(pngs)
    text = (out / "report.txt").read_text(encoding="utf-8")
    assert KNEE_ADVICE in _flat(text)
    eml = tmp_path / "week.eml"
    result = CliRunner().invoke(
        cli, [*args, "--as-of", "2026-11-15", "--eml", str(eml), "--email", "a@b.c"]
    )
    assert result.exit_code == 0, result.output
    assert 'filename="taper.png"' in eml.read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, [*args, "--as-of", "2026-08-26"])
    assert result.exit_code == 0, result.output
    assert not (out / "taper.png").exists()  # idempotent: stale taper chart removed


def test_email_carries_taper_chart(race_report: WeeklyReport) -> None:
    charts = report_charts(race_report)
    msg = compose_message(race_report, charts, sender="k@x.org", to=["a@b.c"])
    names = {
        p.get_filename() for p in msg.walk() if p.get_content_type() == "image/png"
    }
    assert names == {f"{n}.png" for n in charts} and "taper.png" in names


def test_taper_weeks_are_labelled_against_the_report_weeks(
    race_report: WeeklyReport,
) -> None:
    """Race weeks end the day before the race; report weeks run Monday-Sunday."""
    taper = race_report.taper
    assert taper is not None
    last = taper.weeks[-1]
    assert last.end == taper.race_date - dt.timedelta(days=1)
    first_day, last_day = f"{last.start:%A}", f"{last.end:%A}"
    text = " ".join(render_text(race_report).split())
    assert (
        f"week -1 is the 7 days before it, so they run {first_day} to {last_day}, "
        "not Monday to Sunday like the rest of this report." in text
    )
    assert "(Mon " in text.split("TAPER")[0]  # the report's own week title
