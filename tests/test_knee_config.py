"""The knee journey reads its numbers from ``[thresholds.knee]`` and ``.shoes``.

Small hand-worked cases (day 0 = Monday 4 May 2026); each is checked with the
RULES §12-§14 defaults and again with a config that moves one threshold, so the
stage, the reason, the next-step text and the shoe context line must follow the
settings, not a constant.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import strict_json

from kneeload import notes as diary
from kneeload.analysis.evidence import Flag
from kneeload.analysis.knee import (
    build_knee_page,
    clinician_line,
    knee_summary,
    pain_load_notes,
    stage_on,
    taper_knee_advice,
)
from kneeload.analysis.knee_changes import change_hook, shoe_pairs, surface_changes
from kneeload.analysis.knee_text import strength_text
from kneeload.cli import cli
from kneeload.config import Settings, load_settings
from kneeload.errors import ConfigError
from kneeload.notes import Note

START = date(2026, 5, 4)


def day(n: int) -> date:
    return START + timedelta(days=n)


def run(n: int, minutes: float, *, descent_m: float = 20.0) -> dict[str, Any]:
    """A run on day ``n`` of ``minutes`` at 6 min/km (History.activities shape)."""
    local = pd.Timestamp(day(n))
    return {
        "id": f"r{n}-{minutes}-{descent_m}",
        "sport": "running",
        "sub_sport": None,
        "start_utc": (local + pd.Timedelta(hours=7)).tz_localize("UTC"),
        "local_date": local,
        "elapsed_s": minutes * 60.0,
        "moving_s": minutes * 60.0,
        "distance_m": minutes / 6.0 * 1000.0,
        "descent_m": descent_m,
        "gear": None,
        "in_load": True,
    }


def numbered(notes: list[Note]) -> list[Note]:
    return [dataclasses.replace(n, id=i) for i, n in enumerate(notes, start=1)]


def config(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "kneeload.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


@pytest.fixture
def twenty() -> tuple[pd.DataFrame, list[Note]]:
    """One 20-min run on day 0 at 2/10 after, 2/10 the next morning (not worse)."""
    notes = [
        diary.knee_pain(day(0), 2),
        diary.knee_pain(day(1), 2, when="next-morning"),
    ]
    return pd.DataFrame([run(0, 20.0)]), numbered(notes)


# --- the stage, its reason and the next step -----------------------------------


def test_twenty_minutes_is_stage2_by_default_and_stage3_at_20(
    twenty: tuple[pd.DataFrame, list[Note]], tmp_path: Path
) -> None:
    acts, notes = twenty
    # default: 20 >= 15 and 2 <= 3 -> stage 2; 20 < 30 -> not stage 3 (RULES §12)
    s = stage_on(acts, notes, day(1))
    assert s.stage == 2
    assert (
        s.reason == "in the last 7 days you ran 20 min at 2/10, not worse next morning"
    )
    assert s.next_step is not None and s.next_step.startswith(
        "Stage 3 comes with a run of 30 min or more at minimal pain (2/10 or less)"
    )
    settings = config(tmp_path, "[thresholds.knee]\nstage3_minutes = 20\n")
    s = stage_on(acts, notes, day(1), settings)
    assert s.stage == 3  # 20 >= 20 and 2 <= minimal 2
    assert s.next_step is not None and s.next_step.startswith(
        "Keep runs at minimal pain (2/10 or less)"
    )
    assert s.next_step.endswith("once no pain has been noted for 28 days.")
    assert knee_summary(acts, notes, day(1), settings) == {
        "stage": 3, "next_step": s.next_step,
    }  # fmt: skip


def test_stage2_minutes_and_manageable_pain_follow_the_config(
    twenty: tuple[pd.DataFrame, list[Note]], tmp_path: Path
) -> None:
    acts, notes = twenty
    longer = config(
        tmp_path, "[thresholds.knee]\nstage2_minutes = 25\nstage3_minutes = 40\n"
    )
    s = stage_on(acts, notes, day(1), longer)
    assert s.stage == 1  # 20 < 25
    assert s.reason == (
        "your longest run in the last 7 days was 20 min at 2/10, not worse next "
        "morning; stage 2 needs a run of 25 min or more"
    )
    assert s.next_step is not None and s.next_step.startswith(
        "Stage 2 comes with a run of 25 min or more at manageable pain (3/10 or less"
    )
    stricter = config(
        tmp_path, "[thresholds.knee]\nminimal_pain = 1\nmanageable_pain = 1\n"
    )
    s = stage_on(acts, notes, day(1), stricter)
    assert s.stage == 1  # 2 > manageable 1
    assert s.reason.endswith("stage 2 needs manageable pain, 1/10 or less")
    assert s.next_step is not None and "(1/10 or less, a common clinical" in s.next_step


def test_stage_and_pain_windows_follow_the_config(
    twenty: tuple[pd.DataFrame, list[Note]], tmp_path: Path
) -> None:
    acts, notes = twenty
    # as of day 7 the 7-day window is days 1-7: the day-0 run is outside it
    s = stage_on(acts, notes, day(7))
    assert s.stage == 1
    assert s.reason == "no run in the last 7 days; knee pain 2/10 noted on 2026-05-05"
    wide = config(tmp_path, "[thresholds.knee]\nstage_window_days = 8\n")
    s = stage_on(acts, notes, day(7), wide)
    assert s.stage == 2
    assert s.reason.startswith("in the last 8 days you ran 20 min at 2/10")
    # the last pain note is day 1's: the 28-day window ending day 28 starts day 1
    assert stage_on(acts, notes, day(28)).stage == 1
    assert stage_on(acts, notes, day(29)).stage is None
    short = config(tmp_path, "[thresholds.knee]\npain_window_days = 14\n")
    s = stage_on(acts, notes, day(15), short)  # window days 2-15: no pain note
    assert (s.stage, s.next_step) == (None, None)
    assert s.reason == "no knee pain of 1/10 or more noted in the last 14 days"
    assert stage_on(acts, notes, day(14), short).stage == 1  # days 1-14


def test_clinician_strength_and_taper_texts_follow_the_config(tmp_path: Path) -> None:
    notes = numbered([diary.knee_pain(day(0), 4)])
    assert clinician_line(notes, day(0)) is None  # 4 < 5
    settings = config(
        tmp_path,
        "[thresholds.knee]\nclinician_pain = 4\nstrength_min_per_week = 3\n"
        "strength_max_per_week = 4\nminimal_pain = 1\n",
    )
    line = clinician_line(notes, day(0), settings)
    assert line == (
        "You noted 4/10 on 2026-05-04. With pain of 4/10 or more, swelling, "
        "locking, giving way or night pain, see a clinician first."
    )
    assert strength_text(1).endswith("(Crossley 2016): 2-3 sessions a week.")
    page = build_knee_page(pd.DataFrame([run(0, 10.0)]), notes, as_of=day(0),
                           settings=settings)  # fmt: skip
    assert page.to_json()["strength_text"].endswith("2016): 3-4 sessions a week.")
    assert page.routine["strength"] == [
        "Combined hip and knee strengthening is the recommended treatment for "
        "kneecap pain (Crossley 2016): aim for 3-4 sessions a week."
    ]
    one = config(tmp_path, "[thresholds.knee]\nstrength_max_per_week = 2\n"
                 "strength_min_per_week = 2\n")  # fmt: skip
    page = build_knee_page(pd.DataFrame(), notes, as_of=day(0), settings=one)
    assert page.routine["strength"][0].endswith("aim for 2 sessions a week.")
    advice = taper_knee_advice(
        notes, as_of=day(0), race_date=day(20), settings=settings
    )
    assert advice is not None and "at or below 1/10 and not worse" in advice.message
    default = taper_knee_advice(notes, as_of=day(0), race_date=day(20))
    assert default is not None and "at or below 2/10 and not worse" in default.message


def test_descriptive_notes_follow_min_notes_and_descent_split(tmp_path: Path) -> None:
    # day 0: 350 m descent, 4/10 next morning; day 2: 100 m, 1/10 next morning
    acts = pd.DataFrame([run(0, 20.0, descent_m=350.0), run(2, 20.0, descent_m=100.0)])
    notes = numbered([
        diary.knee_pain(day(0), 3), diary.knee_pain(day(1), 4, when="next-morning"),
        diary.knee_pain(day(2), 1), diary.knee_pain(day(3), 1, when="next-morning"),
    ])  # fmt: skip
    assert pain_load_notes(acts, notes, day(3)) == []  # 4 notes < 8
    four = config(tmp_path, "[thresholds.knee]\ndescriptive_min_notes = 4\n")
    lines = pain_load_notes(acts, notes, day(3), four)
    assert lines[0] == (
        "pain the morning after runs with more than 300 m of descent averaged "
        "4.0/10 (1 note), after the other runs 1.0/10 (1 note)"
    )
    # both runs are 20 min: none is longer than the median, no second line
    assert len(lines) == 2  # the line and the caveat
    mid = config(
        tmp_path,
        "[thresholds.knee]\ndescriptive_min_notes = 4\ndescent_split_m = 200\n",
    )
    assert pain_load_notes(acts, notes, day(3), mid)[0].startswith(
        "pain the morning after runs with more than 200 m of descent averaged 4.0/10"
    )
    # split 50 m: both runs are above it, nothing to compare against
    low = config(
        tmp_path, "[thresholds.knee]\ndescriptive_min_notes = 4\ndescent_split_m = 50\n"
    )
    assert pain_load_notes(acts, notes, day(3), low) == []


# --- shoes and surface ----------------------------------------------------------


def _spike(n: int) -> Flag:
    return Flag("session_spike", "caution", day(n), 1.4, 1.1, "a longer run")


def test_shoe_context_line_follows_context_days(tmp_path: Path) -> None:
    acts = pd.DataFrame([run(n, 30.0) for n in (0, 2, 20)])
    notes = numbered(
        [diary.shoes(day(0), "Clifton 9"), diary.shoes(day(20), "Pegasus 41")]
    )
    assert [p.name for p in shoe_pairs(acts, notes, day(20))] == [
        "Clifton 9",
        "Pegasus 41",
    ]
    line = "You also started running in Pegasus 41 on 2026-05-24."
    # a spike 10 days after the pair's first use: inside 14 days, outside 7
    hook = change_hook(acts, notes, day(30))
    assert hook(_spike(30)) == [line]
    assert hook(_spike(35)) == []  # 15 days
    week = config(tmp_path, "[thresholds.shoes]\ncontext_days = 7\n")
    assert change_hook(acts, notes, day(30), week)(_spike(30)) == []
    month = config(tmp_path, "[thresholds.shoes]\ncontext_days = 15\n")
    assert change_hook(acts, notes, day(35), month)(_spike(35)) == [line]


def test_surface_change_follows_points_and_baseline(tmp_path: Path) -> None:
    ends = pd.to_datetime([day(7 * k) for k in range(5)])
    shares = pd.DataFrame(
        {"km": 10.0, "trail": [40.0, 40.0, 10.0, 10.0, 25.0], "track": 0.0,
         "treadmill": 0.0},
        index=ends,
    )  # fmt: skip
    # default: only block 4 has 4 before it: 25 % against their mean 25 %
    assert surface_changes(shares) == []
    # 2 blocks before: block 2 is 10 against 40 (30 pp, not above 30), block 3
    # 10 against 25, block 4 25 against 10 (15 pp each)
    two = config(tmp_path, "[thresholds.shoes]\nsurface_baseline_weeks = 2\n")
    assert surface_changes(shares, two) == []
    both = config(
        tmp_path,
        "[thresholds.shoes]\nsurface_baseline_weeks = 2\nsurface_change_pp = 20\n",
    )
    changes = surface_changes(shares, both)
    assert [(c.day, c.kind) for c in changes] == [(day(14), "surface")]
    assert changes[0].text == (
        "trail running was 10% of your running in the 7 days ending 2026-05-18, "
        "against 40% in the 2 weeks before"
    )


# --- the config ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("minimal_pain = 4", "minimal_pain",
         "must be at most thresholds.knee.manageable_pain (3)"),
        ("clinician_pain = 3", "clinician_pain",
         "must be above thresholds.knee.manageable_pain (3)"),
        ("clinician_pain = 11", "clinician_pain", "must be at most 10"),
        ("stage2_minutes = 30", "stage2_minutes",
         "must be below thresholds.knee.stage3_minutes (30)"),
        ("stage3_minutes = 15", "stage3_minutes",
         "must be above thresholds.knee.stage2_minutes (15)"),
        ("stage_window_days = 0", "stage_window_days", "must be at least 1"),
        ("pain_window_days = 0", "pain_window_days", "must be at least 1"),
        ("strength_min_per_week = 4", "strength_min_per_week",
         "must be at most thresholds.knee.strength_max_per_week (3)"),
        ("minimal_pain = 2.5", "minimal_pain", "must be an integer"),
    ],
)  # fmt: skip
def test_knee_settings_that_make_no_sense_name_the_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=rf"thresholds\.knee\.{key}") as info:
        config(tmp_path, f"[thresholds.knee]\n{text}\n")
    assert problem in str(info.value)


def test_shoe_settings_that_make_no_sense_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"thresholds\.shoes\.context_days"):
        config(tmp_path, "[thresholds.shoes]\ncontext_days = 0\n")
    with pytest.raises(ConfigError, match=r"thresholds\.shoes\.surface_change_pp"):
        config(tmp_path, "[thresholds.shoes]\nsurface_change_pp = 101\n")


def test_the_cli_reads_the_knee_config(tmp_path: Path) -> None:
    """``kneeload knee --json`` with ``stage3_minutes = 20`` in kneeload.toml."""
    home = tmp_path / "home"
    home.mkdir()
    today = date.today()
    d = (today - timedelta(days=1)).isoformat()

    def knee() -> dict[str, Any]:
        result = CliRunner().invoke(cli, ["--home", str(home), "knee", "--json"])
        assert result.exit_code == 0, result.output
        doc = strict_json(result.stdout)
        assert isinstance(doc, dict)
        return doc

    for args in (["--knee-pain", "2", "--date", d],
                 ["--knee-pain", "2", "--when", "next-morning"]):  # fmt: skip
        result = CliRunner().invoke(cli, ["--home", str(home), "note", *args])
        assert result.exit_code == 0, result.output
    assert knee()["stage"] == 1  # no run at all
    assert knee()["stage_reason"].startswith("no run in the last 7 days")
    (home / "kneeload.toml").write_text(
        "[thresholds.knee]\nstage_window_days = 3\nstage2_minutes = 10\n",
        encoding="utf-8",
    )
    doc = knee()
    assert doc["stage_reason"].startswith("no run in the last 3 days")
    assert doc["next_step"].startswith("Stage 2 comes with a run of 10 min or more")
