"""The rule registry: ids once, tags drive adjustments, numbers follow the config."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from kneeload.analysis import registry
from kneeload.analysis.check import check
from kneeload.analysis.evidence import Flag
from kneeload.config import AthleteSettings, Settings, Thresholds, load_settings
from kneeload.report.charts import plot_acwr, plot_weekly_km
from kneeload.report.render import render_text
from kneeload.report.weekly import acwr_status_text, build_weekly_report

REPO = Path(__file__).resolve().parents[1]
START = date(2024, 1, 1)
ATHLETE = AthleteSettings(sex="male", hr_max=190.0, hr_rest=50.0)


def run(day: int, km: float) -> dict[str, Any]:
    """One running row of the History.activities shape, ``day`` days after START."""
    local = pd.Timestamp(START) + pd.Timedelta(days=day)
    return {
        "id": f"r{day}", "sport": "running", "sub_sport": None,
        "start_utc": (local + pd.Timedelta(hours=7)).tz_localize("UTC"),
        "local_date": local, "elapsed_s": km * 360.0, "moving_s": km * 360.0,
        "distance_m": km * 1000.0, "ascent_m": 0.0, "descent_m": 0.0,
        "avg_hr": None, "max_hr": None, "cadence_spm": None, "step_length_m": None,
        "downhill_s": 0.0, "hr_hist": None, "steady_segments": [], "partial": False,
    }  # fmt: skip


def two_weeks(prev_km: float, cur_km: float) -> pd.DataFrame:
    """Four equal runs a week: days 0-6 hold prev_km, days 7-13 cur_km."""
    rows = [run(d, prev_km / 4) for d in (0, 2, 4, 6)]
    return pd.DataFrame(rows + [run(d, cur_km / 4) for d in (7, 9, 11, 13)])


def settings_from(tmp_path: Path, toml: str) -> Settings:
    """Settings read from a kneeload.toml with ``toml`` (the athlete fixed)."""
    path = tmp_path / "kneeload.toml"
    path.write_text(toml, encoding="utf-8")
    return dataclasses.replace(load_settings(path), athlete=ATHLETE)


# ---- the declarations ----


def test_every_rule_id_of_the_interface_is_declared_once() -> None:
    ids = [r.id for r in registry.RULES]
    assert len(ids) == len(set(ids)) == 13
    interface = [
        "session_spike", "weekly_ramp", "acwr_high", "acwr_low", "intensity_ramp",
        "monotony_high", "cadence_low", "step_length_up", "descent_ramp",
        "taper_volume", "taper_relaxed", "taper_frequency", "taper_intensity",
    ]  # fmt: skip
    assert ids == interface
    sections = {f.name for f in dataclasses.fields(Thresholds)}
    assert all(r.config_section in sections for r in registry.RULES)
    assert all(r.name and r.cite.startswith("RULES §") for r in registry.RULES)


def test_rule_id_literals_live_only_in_rule_ids() -> None:
    """No module but rule_ids.py spells a rule id as a string literal."""
    ids = "|".join(r.id for r in registry.RULES)
    pattern = re.compile(rf"""["']({ids})["']""")
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "kneeload").rglob("*.py")
        if p.name != "rule_ids.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == [], (
        "spell rule ids with the constants of kneeload.analysis.registry "
        "(declared in rule_ids.py), not as string literals"
    )


def test_tags_match_rules_sections() -> None:
    """RULES §7 race exemption, §5/§6.5 knee raising, §3/§4 load rules."""
    tagged = {t: {r.id for r in registry.RULES if getattr(r, t)} for t in
              ("load", "increase", "race_exempt", "knee_sensitive")}  # fmt: skip
    assert tagged["knee_sensitive"] == {"intensity_ramp", "descent_ramp"}
    assert tagged["race_exempt"] == {
        "session_spike", "weekly_ramp", "intensity_ramp", "acwr_high", "descent_ramp"
    }  # fmt: skip
    assert tagged["increase"] == {
        "session_spike", "weekly_ramp", "acwr_high", "descent_ramp"
    }  # fmt: skip
    assert tagged["load"] == tagged["increase"] | {"acwr_low"}


def test_knee_pain_raises_only_knee_sensitive_rules() -> None:
    day = date(2024, 2, 1)
    flags = [
        Flag(registry.INTENSITY_RAMP, "info", day, 1.0, 1.0, "m"),
        Flag(registry.WEEKLY_RAMP, "info", day, 25.0, 20.0, "m"),
    ]
    raised = registry.with_knee_pain(flags, 3)
    assert [f.severity for f in raised] == ["caution", "info"]
    assert all(registry.CLINICIAN_TEXT in f.message for f in raised)
    assert registry.with_knee_pain(flags, None) == flags


def test_context_hook_adds_lines_renders_and_reaches_json() -> None:
    acts = two_weeks(20.0, 28.0)  # +40 %: weekly_ramp caution on day 13

    def shoes(flag: Flag) -> list[str]:
        if flag.rule == registry.WEEKLY_RAMP:
            return ["You also started running in Pegasus 41 on 2024-01-10."]
        return []

    result = check(
        acts,
        settings=dataclasses.replace(Settings(), athlete=ATHLETE),
        as_of=START + timedelta(days=13),
        context_hooks=[shoes],
    )
    (ramp,) = [f for f in result.flags if f.rule == registry.WEEKLY_RAMP]
    assert ramp.context == ("You also started running in Pegasus 41 on 2024-01-10.",)
    assert "Pegasus 41" not in ramp.message  # a context line, not string surgery
    doc = result.to_json()["flags"]
    assert [f["context"] for f in doc if f["rule"] == "weekly_ramp"] == [
        ["You also started running in Pegasus 41 on 2024-01-10."]
    ]


# ---- every number a runner reads follows the config ----


def test_weekly_ramp_thresholds_follow_the_config(tmp_path: Path) -> None:
    """+25 % (20 -> 25 km): INFO by default; the config moves the severity, the
    limit in the report text and the chart legend with it."""
    acts = two_weeks(20.0, 25.0)
    end = START + timedelta(days=13)
    default = dataclasses.replace(Settings(), athlete=ATHLETE)
    (flag,) = [f for f in check(acts, settings=default, as_of=end).flags]
    assert (flag.rule, flag.severity, flag.threshold) == ("weekly_ramp", "info", 20.0)

    tuned = settings_from(
        tmp_path, "[thresholds.weekly_ramp]\ninfo_pct = 12.0\ncaution_pct = 24.0\n"
    )
    (flag,) = check(acts, settings=tuned, as_of=end).flags
    assert (flag.severity, flag.threshold) == ("caution", 24.0)
    text = " ".join(render_text(build_weekly_report(
        acts, settings=tuned, week_ending=end)).split())  # fmt: skip
    assert "+25% on the previous 7 days (flagged beyond +24%)" in text

    weeks = pd.DataFrame(
        {"km": [20.0, 25.0], "longest_km": [5.0, 6.25], "descent_m": [0.0, 0.0],
         "runs": [4, 4], "ramp": ["", "caution"], "spike": [False, False],
         "descent_flag": [False, False], "flag_days": [(), (end,)]},
        index=pd.DatetimeIndex(["2024-01-01", "2024-01-08"]),
    )  # fmt: skip
    ax = Figure().subplots()
    plot_weekly_km(ax, weeks, thresholds=tuned.thresholds)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "ramp, caution (> +24%)" in labels

    quiet = settings_from(tmp_path, "[thresholds.weekly_ramp]\ninfo_pct = 26.0\n")
    assert check(acts, settings=quiet, as_of=end).flags == []


def test_session_spike_planning_aid_and_legend_follow_the_config(
    tmp_path: Path,
) -> None:
    """A 13 km run after a 10 km longest: 1.3x. With caution_ratio 1.2 the message
    says "Within 20%" and gives 1.2 x 10 = 12.0 km."""
    rows = [run(d, 10.0 if d % 6 == 0 else 6.0) for d in range(0, 35, 3)]
    acts = pd.DataFrame([*rows, run(35, 13.0)])
    tuned = settings_from(tmp_path, "[thresholds.session_spike]\ncaution_ratio = 1.2\n")
    (flag,) = [
        f
        for f in check(acts, settings=tuned, as_of=START + timedelta(days=35)).flags
        if f.rule == "session_spike"
    ]
    assert flag.threshold == pytest.approx(1.2)
    assert "Within 20% of your longest recent run would be up to 12.0 km" in (
        flag.message
    )
    weeks = pd.DataFrame(
        {"km": [30.0], "longest_km": [13.0], "descent_m": [0.0], "runs": [4],
         "ramp": [""], "spike": [True], "descent_flag": [False], "flag_days": [()]},
        index=pd.DatetimeIndex(["2024-02-05"]),
    )  # fmt: skip
    ax = Figure().subplots()
    plot_weekly_km(ax, weeks, thresholds=tuned.thresholds)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "long-run spike (> +20%)" in labels


def test_acwr_bands_words_and_chart_follow_the_config(tmp_path: Path) -> None:
    tuned = settings_from(
        tmp_path,
        "[thresholds.acwr_low]\ninfo_below = 0.7\n"
        "[thresholds.acwr_high]\ninfo_above = 1.1\ncaution_above = 1.4\n",
    )
    # default bands: 1.2 is inside 0.8-1.3; tuned: above 1.1
    assert acwr_status_text(1.2, "ok") == "1.20 — within your usual range"
    assert acwr_status_text(1.2, "ok", settings=tuned) == "1.20 — above your usual load"
    assert acwr_status_text(1.45, "ok", settings=tuned).endswith(
        "well above your usual load"
    )
    assert acwr_status_text(0.75, "ok", settings=tuned).endswith(
        "within your usual range"
    )

    # severity: 5 km a day for 28 days, then 6.5 a day -> uncoupled 1.3
    acts = pd.DataFrame([run(d, 5.0) for d in range(28)] + [
        run(d, 6.5) for d in range(28, 35)])  # fmt: skip
    end = START + timedelta(days=34)
    default = dataclasses.replace(Settings(), athlete=ATHLETE)
    acwr = {"acwr_high", "acwr_low"}  # (the week is also a +30 % weekly ramp)
    assert [f for f in check(acts, settings=default, as_of=end).flags
            if f.rule in acwr] == []  # fmt: skip
    (flag,) = [f for f in check(acts, settings=tuned, as_of=end).flags
               if f.rule in acwr]  # fmt: skip
    assert (flag.severity, flag.threshold) == ("info", 1.1)
    assert flag.value == pytest.approx(6.5 / 5.0)

    days = pd.date_range("2024-01-01", periods=10, freq="D", name="date")
    daily = pd.DataFrame({"acute_km": 40.0, "usual_km": 30.0, "acwr": 1.2}, index=days)
    fig = Figure()
    top, bottom = fig.subplots(2, 1)
    plot_acwr(top, daily, ratio_ax=bottom, thresholds=tuned.thresholds)
    bands = sorted(
        (round(p.get_y(), 3), round(p.get_y() + p.get_height(), 3))
        for p in bottom.patches
        if isinstance(p, Rectangle)
    )
    assert bands[0] == (0.7, 1.1) and bands[1][0] == 1.4
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert {"ACWR 0.7-1.1 band", "ACWR >1.4 band"} <= set(labels)


def test_gating_words_follow_the_config(tmp_path: Path) -> None:
    tuned = settings_from(
        tmp_path,
        "[thresholds.acwr]\nmin_history_days = 35\nlow_chronic_km_per_week = 15.0\n"
        "break_days = 10\nafter_break_days = 21\n",
    )
    assert acwr_status_text(None, "insufficient_history", settings=tuned) == (
        "not shown yet: it needs 35 days of history"
    )
    assert "under 15 km a week" in acwr_status_text(None, "low_chronic", settings=tuned)
    assert acwr_status_text(None, "after_break", settings=tuned) == (
        "not shown: within 3 weeks after a break of 10 days or more"
    )
    assert acwr_status_text(None, "after_break") == (
        "not shown: within 4 weeks after a break of 2 weeks or more"
    )


def test_check_text_names_the_configured_chronic_window(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kneeload.cli import cli

    (tmp_path / "kneeload.toml").write_text(
        "[thresholds.acwr]\nchronic_days = 35\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "check", "--as-of", "2026-08-02"]
    )
    assert result.exit_code == 0, result.output
    assert "usual week (35 d)" in result.output
