"""History hygiene (RULES §1.6): activities set, forget, suspect runs, doctor."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import strict_json

from kneeload._testing.synth import simulate_run, write_fit
from kneeload.cli import cli

SAMPLES = Path(__file__).resolve().parents[1] / "sample_activities"
WEEK_END = "2026-08-30"  # the sample block's ramp week ends here (index.toml)


def run(home: Path, *args: str) -> tuple[int, str, str]:
    """Invoke kneeload with ``--home home``: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.stderr


def ingest_samples(home: Path) -> None:
    if not SAMPLES.is_dir():
        pytest.skip("sample_activities/ not generated")
    code, _, err = run(home, "ingest", str(SAMPLES))
    assert code == 0, err


def activities(home: Path) -> list[dict]:
    code, out, err = run(home, "activities", "--json")
    assert code == 0, err
    doc = strict_json(out)
    assert isinstance(doc, list)
    return doc


def check(home: Path) -> dict:
    code, out, err = run(home, "check", "--as-of", WEEK_END, "--json")
    assert code == 0, err
    doc = strict_json(out)
    assert isinstance(doc, dict)
    return doc


def _fit(
    folder: Path, name: str, day: datetime, *, km: float, scale: float = 1.0
) -> None:
    sim = simulate_run(day, distance_km=km, interval_s=5, seed=3)
    sim.samples["distance_m"] = sim.samples["distance_m"] * scale
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(write_fit(sim))


def test_impossible_runs_stay_out_of_the_week_plausible_ones_count(
    home: Path, tmp_path: Path
) -> None:
    """RULES §1.5: the week of 24 Aug loads the same plus only the plausible run."""
    ingest_samples(home)
    before = check(home)["load"]["acute_km"]
    extra = tmp_path / "extra"
    _fit(extra, "huge.fit", datetime(2026, 8, 26, 6, tzinfo=UTC), km=6, scale=900)
    _fit(extra, "fine.fit", datetime(2026, 8, 27, 6, tzinfo=UTC), km=5)
    code, out, err = run(home, "ingest", str(extra), "--json")
    assert code == 0, err
    report = strict_json(out)
    assert isinstance(report, dict)
    assert [Path(s["path"]).name for s in report["suspect"]] == ["huge.fit"]
    assert "a run of 5,400 km (limit 300 km)" in report["suspect"][0]["reason"]
    after = check(home)["load"]["acute_km"]
    assert after == pytest.approx(before + 5.0)
    rows = {Path(r["source"]).name: r for r in activities(home)}
    assert rows["huge.fit"]["suspect"] and not rows["huge.fit"]["excluded"]
    assert rows["fine.fit"]["suspect"] is None
    # the runner confirms it: it counts (as odd as it is)
    code, out, _ = run(home, "activities", "set", rows["huge.fit"]["id"][:8], "--ok")
    assert code == 0 and "confirmed" in out
    assert check(home)["load"]["acute_km"] == pytest.approx(before + 5.0 + 5400.0)


def test_set_exclude_include_and_sport(home: Path) -> None:
    ingest_samples(home)
    rules = {f["rule"] for f in check(home)["flags"]}
    assert "session_spike" in rules  # the 19 km long run on 30 Aug
    (long_run,) = [r for r in activities(home) if r["local_date"] == WEEK_END]
    code, _, _ = run(home, "activities", "set", long_run["id"], "--exclude")
    assert code == 0
    doc = check(home)
    assert "session_spike" not in {f["rule"] for f in doc["flags"]}
    assert doc["load"]["acute_km"] == pytest.approx(49.0 - 19.0)
    listed = {r["id"]: r for r in activities(home)}
    assert listed[long_run["id"]]["excluded"] is True  # shown, not counted
    run(home, "activities", "set", long_run["id"], "--include")
    assert check(home)["load"]["acute_km"] == pytest.approx(49.0)
    code, out, _ = run(home, "activities", "set", long_run["id"], "--sport", "walking")
    assert code == 0 and "walking (runner)" in out
    assert check(home)["load"]["acute_km"] == pytest.approx(30.0)  # not a run now
    # a re-ingest does not undo the runner's word
    run(home, "ingest", str(SAMPLES))
    assert {r["id"]: r for r in activities(home)}[long_run["id"]]["sport"] == "walking"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["zzzz", "--ok"], "no activity with id 'zzzz'"),
        (["abc"], "say what to set"),
        (["abc", "--exclude", "--include"], "contradict"),
    ],
    ids=["unknown-id", "nothing-to-set", "contradiction"],
)
def test_set_usage_errors(home: Path, args: list[str], needle: str) -> None:
    code, _, err = run(home, "activities", "set", *args)
    assert code == 2
    assert needle in err


def test_forget_the_sample_block_leaves_files_and_own_runs(
    home: Path, tmp_path: Path
) -> None:
    ingest_samples(home)
    own = tmp_path / "own"
    _fit(own, "2013.fit", datetime(2013, 6, 2, 7, tzinfo=UTC), km=8)
    run(home, "ingest", str(own))
    files_before = sorted(p.name for p in SAMPLES.iterdir())
    code, out, err = run(home, "forget", str(SAMPLES) + "/", "--json")
    assert code == 0, err
    doc = strict_json(out)
    assert doc == {"files": 69, "activities": 69, "not_in_store": []}
    assert [Path(r["source"]).name for r in activities(home)] == ["2013.fit"]
    assert sorted(p.name for p in SAMPLES.iterdir()) == files_before
    code, _, err = run(home, "forget", str(SAMPLES))
    assert code == 1 and "not in the store" in err
    run(home, "ingest", str(SAMPLES))  # ingesting again brings them back
    assert len(activities(home)) == 70
    code, out, _ = run(home, "forget", str(own / "2013.fit"))
    assert code == 0 and out.startswith("forgot 1 activity from 1 file ")


def test_activity_table_shows_id_and_marks(home: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    _fit(extra, "huge.fit", datetime(2026, 8, 26, 6, tzinfo=UTC), km=6, scale=900)
    run(home, "ingest", str(extra))
    code, out, _ = run(home, "activities")
    assert code == 0
    (row,) = [line for line in out.splitlines() if "huge.fit" in line]
    assert row.split()[0] == activities(home)[0]["id"][:8]
    assert "(suspect: a run of 5,400 km" in row


def _damage(db: Path, seed: int = 1) -> None:
    """Random bytes over every 4th page after the first (the header stays)."""
    rng = np.random.default_rng(seed)
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(page, len(data), 4 * page):
        data[start + 100 : start + 600] = rng.bytes(500)
    db.write_bytes(bytes(data))


def test_damaged_store_is_one_line_and_doctor_rebuilds(
    home: Path, tmp_path: Path
) -> None:
    if not SAMPLES.is_dir():
        pytest.skip("sample_activities/ not generated")
    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES, samples)
    run(home, "ingest", str(samples))
    (long_run,) = [r["id"] for r in activities(home) if r["local_date"] == WEEK_END]
    run(home, "activities", "set", long_run, "--exclude")
    gone = samples / "2026-07-28_0712_easy.fit"
    assert gone.exists()
    _damage(home / "kneeload.db")
    for args in (
        ["activities"],
        ["check", "--as-of", WEEK_END],
        ["ingest", str(samples)],
    ):
        code, out, err = run(home, *args)
        assert code == 1, (args, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "kneeload doctor" in lines[0], (args, err)
        assert "kneeload.db" in lines[0]
    code, _, err = run(home, "doctor")
    assert code == 1 and "doctor --rebuild" in err
    gone.unlink()
    code, out, err = run(home, "doctor", "--rebuild")
    assert code == 1  # one file is gone: said, not hidden
    assert f"gone: {gone}" in err
    assert "68 activities, 0 errors, 1 correction kept" in out
    assert list(home.glob("kneeload.db.damaged-*"))  # kept, never deleted
    rows = activities(home)
    assert len(rows) == 68
    assert {r["id"]: r["excluded"] for r in rows}[long_run] is True
    code, out, _ = run(home, "doctor")
    assert code == 0 and "ok (68 activities" in out


def test_sport_choices_are_the_schema_sports() -> None:
    from kneeload.cli.history import SPORT_CHOICES
    from kneeload.schema import SPORTS

    assert SPORT_CHOICES == SPORTS


def test_old_own_runs_beside_the_samples_do_not_move_the_sample_week(
    home: Path, tmp_path: Path
) -> None:
    """Issue 9: a 2013 export in the same store moved HR max 172 -> 201. The
    HR-max estimate looks back 2 years (RULES §1.5); the load rules use their own
    windows (RULES §1.6)."""
    ingest_samples(home)
    alone = check(home)
    own = tmp_path / "own"
    for day in range(1, 20, 3):
        start = datetime(2013, 6, day, 7, tzinfo=UTC)
        sim = simulate_run(start, distance_km=12, hr_mean=185.0, interval_s=5, seed=day)
        own.mkdir(exist_ok=True)
        (own / f"2013-06-{day:02d}.fit").write_bytes(write_fit(sim))
    run(home, "ingest", str(own))
    both = check(home)
    load_rules = {"session_spike", "weekly_ramp", "acwr_high", "acwr_low"}
    assert [f for f in both["flags"] if f["rule"] in load_rules] == [
        f for f in alone["flags"] if f["rule"] in load_rules
    ]
    assert both["load"] == alone["load"]  # the EWMA too: a long break re-seeds it
    hr_note = [n for n in both["notes"] if n.startswith("HR max")]
    assert hr_note == [n for n in alone["notes"] if n.startswith("HR max")]


def test_stored_paths_with_control_characters_are_escaped(
    home: Path, tmp_path: Path
) -> None:
    """A file name with ESC and BEL reaches no output raw (CSV, forget, table)."""
    folder = tmp_path / "runs"
    _fit(folder, "a\x1b[31mred\x07.fit", datetime(2024, 5, 1, 7, tzinfo=UTC), km=8)
    code, _, err = run(home, "ingest", str(folder))
    assert code == 0, err
    for args in (("activities", "--format", "csv"), ("activities",)):
        code, out, err = run(home, *args)
        assert code == 0, err
        assert "\x1b" not in out and "\x07" not in out
        assert "a\\x1b[31mred\\x07.fit" in out
    code, _, err = run(home, "forget", str(tmp_path / "gone\x1b[2J"))
    assert code == 1
    assert "\x1b" not in err and "not in the store:" in err
    assert "gone\\x1b[2J" in err
