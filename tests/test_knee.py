"""The knee journey (issue 11): a hand-worked runner, the stage boundaries, shoes.

The runner (day 0 = Monday 2 March 2026; 6 min/km throughout):
* weeks 0-7: 6 km easy on Tuesdays and Thursdays, a Sunday long run of
  10, 11, 12, 12, 13, 14, 14 and then 20 km (day 55); shoes "Clifton 9" from day 0,
  "Pegasus 41" from day 50 (5 days before the 20 km run); one trail run on day 17
  carries the export gear "Speedgoat 5";
* pain 5/10 after the 20 km run (day 55), 4/10 the next morning;
* 9 days without running (days 56-64);
* 18-min runs at 2/10 on days 65, 67, 69, each 2/10 the next morning;
* 35-min runs at 1/10 on days 72, 74, 76, 78 (1/10 next morning), then 35-min
  runs at 0/10 every other day from day 81 to day 109.

Hand-worked stages (RULES §12): none up to day 54; 1 from day 55 (pain noted, no
run of 15+ min at <= 3/10); 2 from day 66 (the 18-min run of day 65 is known not
worse only on the morning of day 66); 3 from day 73 (likewise the 35-min run of
day 72); none from day 107 (the last note of 1/10 or more is day 79's; 79 + 28).
"""

from __future__ import annotations

import dataclasses
import html
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kneeload import notes as diary
from kneeload.analysis.check import check, knee_pain_score
from kneeload.analysis.knee import (
    build_knee_page,
    pain_load_notes,
    stage_on,
    stage_timeline,
)
from kneeload.analysis.knee_changes import (
    change_hook,
    shoe_pairs,
    surface_changes,
    surface_weeks,
)
from kneeload.config import Settings
from kneeload.notes import Note
from kneeload.report.knee import (
    build_knee_section,
    knee_report_section,
    plot_knee,
    warm_up_lines,
)
from kneeload.report.model import Document
from kneeload.report.render import document_html, document_text

START = date(2026, 3, 2)
LONG_KM = (10, 11, 12, 12, 13, 14, 14, 20)


def day(n: int) -> date:
    return START + timedelta(days=n)


def run(n: int, km: float, minutes: float | None = None, **extra: Any) -> dict:
    """One row of the History.activities shape on day ``n``."""
    local = pd.Timestamp(day(n))
    seconds = (minutes if minutes is not None else km * 6.0) * 60.0
    row: dict[str, Any] = {
        "id": f"d{n}-{km}",
        "sport": "running",
        "sub_sport": None,
        "start_utc": (local + pd.Timedelta(hours=7)).tz_localize("UTC"),
        "local_date": local,
        "elapsed_s": seconds,
        "moving_s": seconds,
        "distance_m": km * 1000.0,
        "ascent_m": 20.0,
        "descent_m": 20.0,
        "avg_hr": None,
        "max_hr": None,
        "cadence_spm": None,
        "step_length_m": None,
        "downhill_s": 0.0,
        "hr_hist": None,
        "steady_segments": [],
        "partial": False,
        "gear": None,
        "in_load": True,
    }
    row.update(extra)
    return row


def runner_activities() -> pd.DataFrame:
    rows = []
    for week, long_km in enumerate(LONG_KM):
        base = 7 * week
        for n in (base + 1, base + 3):
            extra = {"gear": "Speedgoat 5", "sub_sport": "trail"} if n == 17 else {}
            rows.append(run(n, 6.0, **extra))
        descent = 350.0 if long_km == 20 else 200.0
        rows.append(run(base + 6, float(long_km), descent_m=descent))
    rows += [run(n, 3.0, 18.0) for n in (65, 67, 69)]
    rows += [run(n, 6.0, 35.0) for n in range(72, 79, 2)]
    rows += [run(n, 6.0, 35.0) for n in range(81, 110, 2)]
    return pd.DataFrame(rows)


def runner_notes() -> list[Note]:
    out = [diary.shoes(day(0), "Clifton 9"), diary.shoes(day(50), "Pegasus 41")]
    out.append(diary.knee_pain(day(55), 5, side="left",
                               aggravated_by=["downhill", "stairs"]))  # fmt: skip
    out.append(diary.knee_pain(day(56), 4, when="next-morning"))
    for n, score in [(65, 2), (67, 2), (69, 2), (72, 1), (74, 1), (76, 1), (78, 1)]:
        out.append(diary.knee_pain(day(n), score))
        out.append(diary.knee_pain(day(n + 1), score, when="next-morning"))
    for n in range(81, 110, 2):
        out.append(diary.knee_pain(day(n), 0))
        out.append(diary.knee_pain(day(n + 1), 0, when="next-morning"))
    out += [diary.strength(day(n), 20) for n in (66, 68, 70)]
    out.append(diary.text(day(56), "stairs hurt going down"))
    return [dataclasses.replace(n, id=i) for i, n in enumerate(out, start=1)]


@pytest.fixture(scope="module")
def acts() -> pd.DataFrame:
    return runner_activities()


@pytest.fixture(scope="module")
def notes() -> list[Note]:
    return runner_notes()


# --- the hand-worked runner -------------------------------------------------


def test_stage_timeline(acts: pd.DataFrame, notes: list[Note]) -> None:
    timeline = stage_timeline(acts, notes, start=day(40), end=day(115))
    assert timeline == [
        (day(40), None),
        (day(55), 1),
        (day(66), 2),
        (day(73), 3),
        (day(107), None),
    ]
    assert day(107) == date(2026, 6, 17)


def test_stage_reasons_and_next_steps(acts: pd.DataFrame, notes: list[Note]) -> None:
    s = stage_on(acts, notes, day(56))
    assert s.stage == 1
    assert s.reason == (
        "your longest run in the last 7 days was 120 min at 5/10, not worse next "
        "morning; stage 2 needs manageable pain, 3/10 or less"
    )
    assert s.next_step is not None and s.next_step.startswith(
        "Stage 2 comes with a run of 15 min or more at manageable pain (3/10 or "
        "less, a common clinical heuristic) that is not worse the next morning."
    )
    assert "the plan belongs to you and your physio/PT" in s.next_step
    s = stage_on(acts, notes, day(63))  # days 57-63: the break
    assert s.reason == "no run in the last 7 days; knee pain 4/10 noted on 2026-04-27"
    s = stage_on(acts, notes, day(65))  # the run of today: its morning is to come
    assert s.stage == 1
    assert s.reason.endswith(
        "18 min at 2/10, no next-morning note yet; note how the knee feels the "
        "next morning (--when next-morning)"
    )
    s = stage_on(acts, notes, day(66))
    assert s.stage == 2
    assert s.reason == (
        "in the last 7 days you ran 18 min at 2/10, not worse next morning"
    )
    assert s.next_step is not None and s.next_step.startswith(
        "Stage 3 comes with a run of 30 min or more at minimal pain (2/10 or less)"
    )
    s = stage_on(acts, notes, day(73))
    assert (s.stage, s.reason) == (
        3,
        "in the last 7 days you ran 35 min at 1/10, not worse next morning",
    )
    s = stage_on(acts, notes, day(107))
    assert (s.stage, s.next_step) == (None, None)
    assert s.reason == "no knee pain of 1/10 or more noted in the last 28 days"


def test_shoe_distance_per_pair(acts: pd.DataFrame, notes: list[Note]) -> None:
    pairs = {p.name: p for p in shoe_pairs(acts, notes, day(79))}
    # Clifton 9: weeks 0-6, 2 x 6 km + long runs 10+11+12+12+13+14+14 = 84 + 86,
    # less the 6 km trail run of day 17 in the export gear Speedgoat 5
    assert pairs["Clifton 9"].distance_m == pytest.approx(164_000.0)
    assert pairs["Clifton 9"].runs == 20
    assert (pairs["Speedgoat 5"].since, pairs["Speedgoat 5"].runs) == (day(17), 1)
    assert pairs["Speedgoat 5"].distance_m == pytest.approx(6_000.0)
    # Pegasus 41: days 50, 52 (6 km), 55 (20), 65-69 (3 x 3), 72-78 (4 x 6)
    assert pairs["Pegasus 41"].since == day(50) == date(2026, 4, 21)
    assert pairs["Pegasus 41"].distance_m == pytest.approx(65_000.0)
    assert pairs["Pegasus 41"].runs == 10


def test_new_shoes_named_in_the_spike_flag(
    acts: pd.DataFrame, notes: list[Note]
) -> None:
    as_of = day(55)
    result = check(
        acts, settings=Settings(), as_of=as_of,
        knee_pain=knee_pain_score(notes, as_of),
        context_hooks=[change_hook(acts, notes, as_of)],
    )  # fmt: skip
    spike = [f for f in result.flags if f.rule == "session_spike"]
    # 20 km against the month's longest 14 km: r = 1.43 -> caution (RULES §4)
    assert len(spike) == 1 and spike[0].severity == "caution"
    assert spike[0].value == pytest.approx(20 / 14)
    line = "You also started running in Pegasus 41 on 2026-04-21."
    assert spike[0].context == (line,)
    assert "Pegasus" not in spike[0].message  # a context line, no string surgery
    assert spike[0].to_json()["context"] == [line]
    # 32 km against 26 km (+23 %): an info weekly ramp, with the same line
    ramp = [f for f in result.flags if f.rule == "weekly_ramp"]
    assert [f.context for f in ramp] == [(line,)]
    # 15 days after the pair's first run the line is gone
    later = check(acts, settings=Settings(), as_of=day(65),
                  context_hooks=[change_hook(acts, notes, day(65))])  # fmt: skip
    assert all(not f.context for f in later.flags)


def test_knee_page_json(acts: pd.DataFrame, notes: list[Note]) -> None:
    doc = build_knee_page(acts, notes, as_of=day(70)).to_json()
    assert doc["stage"] == 2 and doc["as_of"] == "2026-05-11"
    assert doc["strength_per_week"] == 3  # days 66, 68, 70
    assert doc["clinician"].startswith("You noted 5/10 on 2026-04-26.")
    assert "see a clinician first" in doc["clinician"]
    first = doc["pain_log"][0]
    assert first == {
        "date": "2026-04-26", "score": 5, "when": "after", "side": "left",
        "aggravated_by": ["downhill", "stairs"], "text": None, "run_km": 20.0,
        "run_min": 120.0,
    }  # fmt: skip
    assert {"pre_run", "warm_up", "cool_down", "load", "strength"} == set(
        doc["routine"]
    )
    assert doc["routine"]["warm_up"][1:] == [
        "knee hugs to calf raise", "figure-4 hip stretch", "lunge twist",
        "high knees", "glute kicks", "grapevine",
    ]  # fmt: skip
    assert {"date": "2026-04-21", "kind": "shoes",
            "text": "started running in Pegasus 41"} in doc["changes"]  # fmt: skip
    text = str(doc)
    assert "weak hips cause" not in text and "will cause" not in text


def test_pain_load_notes_need_eight_notes(
    acts: pd.DataFrame, notes: list[Note]
) -> None:
    # day 60: notes of day 55 and 56 only -> nothing descriptive (needs 8)
    assert pain_load_notes(acts, notes, day(60)) == []
    lines = pain_load_notes(acts, notes, day(79))
    # morning after the 350 m run: 4; after the others: 2,2,2,1,1,1,1 -> 10/7
    assert lines[0] == (
        "pain the morning after runs with more than 300 m of descent averaged "
        "4.0/10 (1 note), after the other runs 1.4/10 (7 notes)"
    )
    assert "do not show a cause" in lines[-1]
    assert not any("because" in x or "will" in x for x in lines)


def test_surface_share_change_marked_and_named_in_the_spike() -> None:
    rows = [run(n, 10.0) for n in range(0, 35, 2)]  # road for 5 weeks
    rows += [run(n, 10.0, sub_sport="trail") for n in (36, 38)]
    rows.append(run(39, 5.0, sub_sport="indoor_running"))  # a treadmill run
    rows.append(run(40, 16.0, sub_sport="trail"))  # 16 km vs 10: a spike
    frame = pd.DataFrame(rows)
    shares = surface_weeks(frame, day(41), weeks=6)
    # 36 of 41 km on trail, 5 km on the treadmill (indoor_running)
    assert shares["trail"].iloc[-1] == pytest.approx(100.0 * 36 / 41)
    assert shares["treadmill"].iloc[-1] == pytest.approx(100.0 * 5 / 41)
    changes = surface_changes(shares)
    assert [c.day for c in changes] == [day(41)]
    assert changes[0].text == (
        "trail running was 88% of your running in the 7 days ending 2026-04-12, "
        "against 0% in the 4 weeks before"
    )
    result = check(frame, settings=Settings(), as_of=day(41),
                   context_hooks=[change_hook(frame, [], day(41))])  # fmt: skip
    spike = [f for f in result.flags if f.rule == "session_spike"]
    assert [f.context for f in spike] == [("T" + changes[0].text[1:] + ".",)]


# --- the report section and knee.png -----------------------------------------


def test_report_knee_section(acts: pd.DataFrame, notes: list[Note]) -> None:
    settings = Settings()
    section = build_knee_section(acts, notes, settings=settings, week_ending=day(69))
    assert section is not None
    part = knee_report_section(section, charts=frozenset({"knee"}))
    assert part is not None and part.key == "knee"
    doc = Document("kneeload weekly report", "week", "pre", (part,), "footer")
    text = document_text(doc)
    flat = " ".join(text.split())
    assert "Caution: see a clinician" in flat  # 5/10 on 26 Apr, first (§12)
    assert flat.index("see a clinician first") < flat.index("Stage 2 of 3")
    assert 'Stage 2 of 3 — "I can run for 15-20 min with minimal or manageable ' in flat
    assert "Next step: Stage 3 comes with a run of 30 min or more" in flat
    for name in ("knee hugs to calf raise", "figure-4 hip stretch", "lunge twist",
                 "high knees", "glute kicks", "grapevine"):  # fmt: skip
        assert name in flat
    assert "foam rolling" in flat
    assert "Wed 06 May: 3.0 km, 18 min — after 2/10" in flat  # the week's log
    assert "Sun 26 Apr" not in flat  # not in this week
    assert flat.count("the plan belongs to you and your physio/PT") == 1
    assert "Chart: Knee pain by when it was noted" in flat
    page = document_html(doc, {"knee": "cid:knee"})
    assert 'src="cid:knee"' in page and "class=" not in page
    assert "knee hugs to calf raise" in html.unescape(page)
    warm = knee_report_section(None, warm_up_lines(), charts=frozenset())
    assert warm is not None and warm.key == "warm_up"
    warm_text = " ".join(document_text(Document("t", "s", "p", (warm,), "f")).split())
    assert "foam rolling" in warm_text and "grapevine" in warm_text
    assert knee_report_section(None, (), charts=frozenset()) is None
    before = build_knee_section(acts, notes, settings=settings, week_ending=day(54))
    assert before is None  # no pain noted yet


def test_knee_png_draws_pain_points_and_km_bars(
    acts: pd.DataFrame, notes: list[Note]
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure

    section = build_knee_section(acts, notes, settings=Settings(), week_ending=day(69))
    assert section is not None
    fig = Figure()
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    drawn = plot_knee(top, bottom, section)
    points = {a.get_label(): a for a in drawn if isinstance(a, PathCollection)}
    assert set(points) == {"after", "next morning"}
    after = points["after"].get_offsets()
    assert [float(y) for y in after[:, 1]] == [5.0, 2.0, 2.0, 2.0]
    morning = points["next morning"].get_offsets()
    assert [float(y) for y in morning[:, 1]] == [4.0, 2.0, 2.0]
    bars = next(a for a in drawn if isinstance(a, BarContainer))
    heights = [p.get_height() for p in bars.patches]
    assert len(heights) == 56  # 8 weeks, one bar a day
    # day 14 .. day 69: the 20 km run is day 55, the last three 3 km runs
    assert heights[55 - 14] == pytest.approx(20.0)
    assert heights[-5:] == pytest.approx([3.0, 0.0, 3.0, 0.0, 3.0])
    assert sum(heights) == pytest.approx(
        sum(r["distance_m"] for r in runner_activities().to_dict("records")
            if day(14) <= r["local_date"].date() <= day(69)) / 1000.0
    )  # fmt: skip


def test_knee_png_file(acts: pd.DataFrame, notes: list[Note], tmp_path: Path) -> None:
    from kneeload.report.knee import knee_png

    section = build_knee_section(acts, notes, settings=Settings(), week_ending=day(69))
    assert section is not None
    from matplotlib.text import Text

    from kneeload.report.charts import CSS_WIDTH_PX, DENSITY, MIN_FONT_PT
    from kneeload.report.knee import knee_figure

    fig = knee_figure(section)
    fig.canvas.draw()
    texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert texts and min(t.get_fontsize() for t in texts) >= MIN_FONT_PT
    title = fig.axes[0].get_title(loc="left")
    assert "long or hilly days?" in title  # says what to look at
    png = knee_png(section)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")  # IHDR
    assert width == CSS_WIDTH_PX * DENSITY  # 720 px: 360 CSS px at 2x
    (tmp_path / "knee.png").write_bytes(png)


# --- boundaries (RULES §12) -------------------------------------------------

AS_OF = date(2026, 6, 10)


def _one_run(minutes: float, pain: int, morning: int | None, *, ago: int = 1) -> tuple:
    """A run ``ago`` days before AS_OF with its after and next-morning notes."""
    d = AS_OF - timedelta(days=ago)
    acts = pd.DataFrame([run((d - START).days, minutes / 6.0, minutes)])
    notes = [diary.knee_pain(d, pain)]
    if morning is not None:
        notes.append(diary.knee_pain(d + timedelta(days=1), morning,
                                     when="next-morning"))  # fmt: skip
    return acts, [dataclasses.replace(n, id=i) for i, n in enumerate(notes, 1)]


@pytest.mark.parametrize(
    ("minutes", "pain", "morning", "stage"),
    [
        (14.0, 2, 2, 1), (15.0, 2, 2, 2),  # 14/15 min
        (29.0, 2, 2, 2), (30.0, 2, 2, 3),  # 29/30 min
        (30.0, 3, 3, 2), (30.0, 2, 2, 3),  # 2/3 pain: minimal
        (15.0, 3, 3, 2), (15.0, 4, 4, 1),  # 3/4 pain: manageable
        (15.0, 2, 3, 1), (15.0, 2, 2, 2),  # next morning worse vs equal
        (15.0, 3, 1, 2), (15.0, 2, None, 1),  # better; not noted yet
    ],
    ids=["14min", "15min", "29min", "30min", "pain3-at-30", "pain2-at-30",
         "pain3-at-15", "pain4-at-15", "morning-worse", "morning-equal",
         "morning-better", "morning-unknown"],
)  # fmt: skip
def test_stage_boundaries(
    minutes: float, pain: int, morning: int | None, stage: int
) -> None:
    acts, notes = _one_run(minutes, pain, morning)
    assert stage_on(acts, notes, AS_OF).stage == stage


def test_seven_day_window() -> None:
    acts, notes = _one_run(30.0, 1, 1, ago=6)  # AS_OF-6: inside the 7 days
    assert stage_on(acts, notes, AS_OF).stage == 3
    acts, notes = _one_run(30.0, 1, 1, ago=7)  # AS_OF-7: outside
    assert stage_on(acts, notes, AS_OF).stage == 1


def test_twenty_eight_day_window() -> None:
    empty = pd.DataFrame([run(0, 5.0)])
    inside = [diary.knee_pain(AS_OF - timedelta(days=27), 1)]
    outside = [diary.knee_pain(AS_OF - timedelta(days=28), 6)]
    assert stage_on(empty, inside, AS_OF).stage == 1
    assert stage_on(empty, outside, AS_OF).stage is None
    assert knee_pain_score(inside, AS_OF) == 1
    assert knee_pain_score(outside, AS_OF) is None
    zero = [diary.knee_pain(AS_OF, 0)]  # 0/10 alone is not knee pain
    assert stage_on(empty, zero, AS_OF).stage is None


def test_migrated_notes_feed_the_stage(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text(
        '{"knee_pain": [{"date": "2026-06-01", "score": 3}]}'
    )
    notes = diary.list_notes(tmp_path)
    assert [(n.when, n.score) for n in notes] == [("after", 3)]
    acts = pd.DataFrame([run((date(2026, 6, 1) - START).days, 3.0, 20.0)])
    s = stage_on(acts, notes, date(2026, 6, 3))
    # an old note is an 'after' note: the 20-min run counts as 3/10, but no
    # next-morning note was ever written, so the stage stays 1
    assert s.stage == 1 and "no next-morning note yet" in s.reason


def test_weekly_report_has_the_knee_section_and_chart(
    acts: pd.DataFrame, notes: list[Note]
) -> None:
    from kneeload.report.charts import report_charts
    from kneeload.report.render import render_html, render_text
    from kneeload.report.weekly import build_weekly_report

    report = build_weekly_report(
        acts, settings=Settings(), week_ending=day(69), knee_notes=notes
    )
    assert report.knee is not None and "knee" in report.chart_names
    flat = " ".join(render_text(report).split())
    assert "YOUR KNEE" in flat and 'Stage 2 of 3 — "I can run for 15-20 min' in flat
    assert "grapevine" in flat and "foam rolling" in flat
    assert "Chart: Knee pain by when it was noted" in flat
    assert "knee.png" in flat and "WARM-UP AND COOL-DOWN" not in flat
    charts = report_charts(report)
    assert charts["knee"][:8] == b"\x89PNG\r\n\x1a\n"
    page = html.unescape(render_html(report, charts))
    assert "Your knee" in page and "lunge twist" in page
    # the week of the spike without any pain note: the warm-up alone (§13)
    plain = build_weekly_report(acts, settings=Settings(), week_ending=day(55))
    assert plain.knee is None and "knee" not in plain.chart_names
    assert any(f.severity == "caution" for f in plain.flags)  # the 20 km spike
    text = " ".join(render_text(plain).split())
    assert "WARM-UP AND COOL-DOWN" in text and "knee hugs to calf raise" in text
    assert "YOUR KNEE" not in text
    spike_week = build_weekly_report(
        acts, settings=Settings(), week_ending=day(55), knee_notes=notes
    )
    text = " ".join(render_text(spike_week).split())
    assert "You also started running in Pegasus 41 on 2026-04-21." in text
    assert "Stage 1 of 3" in text  # 5/10 after the 20 km run that Sunday
    quiet = build_weekly_report(acts, settings=Settings(), week_ending=day(20))
    assert quiet.flags == [] and quiet.warm_up == ()  # no caution, no taper
