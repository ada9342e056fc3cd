"""check, cadence and config on the command line, against the sample block."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import strict_json

from kneeload.cli import cli

SAMPLES = Path(__file__).resolve().parents[1] / "sample_activities"


def _run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    code, _, _ = _run(home, "ingest", str(SAMPLES))
    assert code == 0
    return home


def test_check_json_contract_on_the_spike_week(sample_home: Path) -> None:
    code, out, _ = _run(sample_home, "check", "--as-of", "2026-08-30", "--json")
    assert code == 0
    doc = strict_json(out)
    assert doc["as_of"] == "2026-08-30"
    assert set(doc["load"]) >= {
        "acute_km",
        "chronic_km_per_week",
        "acwr",
        "acwr_status",
    }
    assert set(doc["load"]["acwr"]) == {"uncoupled", "coupled", "ewma"}
    rules = {f["rule"]: f for f in doc["flags"]}
    # the sample's ramp week: 49 km after 35 km (index.toml) -> +40 %, in percent
    assert rules["weekly_ramp"]["value"] == pytest.approx(100 * (49 / 35 - 1), abs=1)
    # its long run: 19 km after a 14 km longest run -> 1.357
    assert rules["session_spike"]["value"] == pytest.approx(19 / 14, abs=0.01)
    for flag in doc["flags"]:
        assert set(flag) == {
            "rule",
            "severity",
            "date",
            "value",
            "threshold",
            "message",
            "evidence",
            "context",
        }
        assert flag["severity"] in ("info", "caution", "warning")
        assert flag["evidence"] and all(e["citation"] for e in flag["evidence"])
        assert "cause" not in flag["message"].lower()


def test_check_before_28_days_has_no_ratio(sample_home: Path) -> None:
    _, out, _ = _run(sample_home, "check", "--as-of", "2026-08-10", "--json")
    doc = strict_json(out)
    assert doc["load"]["acwr_status"] == "insufficient_history"
    assert set(doc["load"]["acwr"].values()) == {None}


def test_check_human_output_names_flags_and_evidence(sample_home: Path) -> None:
    code, out, _ = _run(sample_home, "check", "--as-of", "2026-08-30")
    assert code == 0
    assert "session_spike" in out and "Frandsen" in out
    assert "weekly_ramp" in out


def test_cadence_suggestion_in_the_low_cadence_stretch(sample_home: Path) -> None:
    code, out, _ = _run(sample_home, "cadence", "--as-of", "2026-09-20", "--json")
    assert code == 0
    doc = strict_json(out)
    easy = doc["easy_cadence_spm"]
    assert 150 <= easy <= 158  # the sample runs these weeks at ~154 steps/min
    lo, hi = doc["target_spm"]
    assert lo == 2 * round(easy * 1.05 / 2) and hi == 2 * round(easy * 1.10 / 2)
    assert doc["low"] is True


def test_config_init_show_path(home: Path) -> None:
    code, out, _ = _run(home, "config", "path")
    assert out.strip() == str(home / "kneeload.toml")
    code, out, _ = _run(home, "config", "init")
    assert code == 0 and (home / "kneeload.toml").exists()
    code, _, err = _run(home, "config", "init")
    assert code == 1 and "--force" in err
    code, out, _ = _run(home, "config", "show")
    assert code == 0
    assert "session_spike" in out and "Frandsen" in out
    (home / "kneeload.toml").write_text("[thresholds.session_spike]\nratio = 'x'\n")
    code, _, err = _run(home, "config", "show")
    assert code == 2 and "session_spike" in err


def test_config_show_json(home: Path) -> None:
    (home / "kneeload.toml").write_text("[athlete]\nhr_max = 190\n")
    code, out, _ = _run(home, "config", "show", "--json")
    assert code == 0
    doc = strict_json(out)
    assert doc["athlete.hr_max"] == {
        "value": 190.0,
        "default": None,
        "source": "file",
        "citation": doc["athlete.hr_max"]["citation"],
    }
    spike = doc["thresholds.session_spike.caution_ratio"]
    assert spike["source"] == "default" and "Frandsen" in spike["citation"]


def test_knee_pain_note_raises_downhill_flags_and_adds_clinician(
    tmp_path: Path,
) -> None:
    home = tmp_path / "knee"
    _run(home, "ingest", str(SAMPLES))
    _, out, _ = _run(home, "check", "--as-of", "2026-09-27", "--json")
    before = [f for f in strict_json(out)["flags"] if f["rule"] == "descent_ramp"]
    assert before and {f["severity"] for f in before} == {"info"}  # RULES §6.5
    assert not any("clinician" in f["message"] for f in before)
    code, out, _ = _run(home, "note", "--knee-pain", "4", "--date", "2026-09-26")
    assert code == 0 and "4/10" in out
    _, out, _ = _run(home, "check", "--as-of", "2026-09-27", "--json")
    after = strict_json(out)
    descent = [f for f in after["flags"] if f["rule"] == "descent_ramp"]
    assert {f["severity"] for f in descent} == {"caution"}
    assert all("see a clinician" in f["message"] for f in after["flags"])
    assert strict_json(out)["knee"]["stage"] in (1, 2, 3)
    # the knee window is 28 days (RULES §12): 26 Sep counts up to 23 Oct only;
    # a later 0/10 does not undo the pain noted inside the window
    _run(home, "note", "--knee-pain", "0", "--date", "2026-09-27")
    _, out, _ = _run(home, "check", "--as-of", "2026-10-23", "--json")
    assert all("see a clinician" in f["message"] for f in strict_json(out)["flags"])
    _, out, _ = _run(home, "check", "--as-of", "2026-10-24", "--json")
    doc = strict_json(out)
    assert not any("clinician" in f["message"] for f in doc["flags"])
    assert "knee" not in doc


def test_the_race_itself_is_not_flagged_as_a_spike(tmp_path: Path) -> None:
    home = tmp_path / "race"
    _run(home, "ingest", str(SAMPLES))
    _, out, _ = _run(home, "check", "--as-of", "2026-11-15", "--json")
    rules = {f["rule"] for f in strict_json(out)["flags"]}
    assert {"session_spike", "weekly_ramp"} <= rules  # no race date: a 42 km spike
    (home / "kneeload.toml").write_text("[athlete]\nrace_date = 2026-11-15\n")
    _, out, _ = _run(home, "check", "--as-of", "2026-11-15", "--json")
    doc = strict_json(out)
    assert not {"session_spike", "weekly_ramp", "intensity_ramp"} & {
        f["rule"] for f in doc["flags"]
    }
    assert any("race on 2026-11-15" in n for n in doc["notes"])


def test_knee_advice_follows_the_latest_note_and_ends_with_the_race(
    sample_home: Path,
) -> None:
    def advice(as_of: str) -> object:
        args = ("taper", "--race-date", "2026-11-15", "--as-of", as_of, "--json")
        return strict_json(_run(sample_home, *args)[1])["knee_advice"]

    _run(sample_home, "note", "--knee-pain", "3", "--date", "2026-11-10")
    first = advice("2026-11-11")
    assert isinstance(first, dict) and first["race_week"]  # D-4: race week
    assert "40-60% of your normal mileage" in first["message"]  # RULES §13
    assert advice("2026-11-20") is None  # after the race: no taper advice
    (sample_home / "notes.db").unlink()


def test_taper_weeks_to_come_have_no_km_yet(sample_home: Path) -> None:
    args = ("taper", "--race-date", "2026-11-15", "--as-of", "2026-11-05", "--json")
    weeks = {w["week"]: w for w in strict_json(_run(sample_home, *args)[1])["weeks"]}
    assert weeks[-1]["status"] == "to_come"
    assert weeks[-1]["km"] is None and weeks[-1]["ratio"] is None
    baseline = 51.75  # index.toml: mean of 44, 53, 53 and 57 km
    lo, hi = weeks[-1]["target_km"]
    assert lo == pytest.approx(0.40 * baseline, abs=0.1)
    assert hi == pytest.approx(0.60 * baseline, abs=0.1)
    assert weeks[-3]["km"] == 41.0


def test_messages_follow_the_units_setting(tmp_path: Path) -> None:
    home = tmp_path / "miles"
    _run(home, "ingest", str(SAMPLES))
    (home / "kneeload.toml").write_text('[athlete]\nunits = "mi"\n')
    _, out, _ = _run(home, "check", "--as-of", "2026-08-30", "--json")
    flags = {f["rule"]: f for f in strict_json(out)["flags"]}
    spike = flags["session_spike"]["message"]
    assert f"{19 / 1.609344:.1f} mi" in spike and f"{14 / 1.609344:.1f} mi" in spike
    assert " km" not in spike
    assert f"{49 / 1.609344:.1f} mi" in flags["weekly_ramp"]["message"]
    _, out, _ = _run(home, "cadence", "--as-of", "2026-09-20", "--json")
    assert "/mi)" in strict_json(out)["progression"]


def test_check_json_has_the_session_rpe_of_the_week(tmp_path: Path) -> None:
    """INTERFACE: load.srpe_week when RPE is known (RPE x moving minutes, RULES §14)."""
    from export_builders import strava_files, zip_bytes

    files, _ = strava_files({4711: "Easy", 4712: "Tempo", 4713: "Long"})
    export = tmp_path / "export.zip"  # 4711 (2 Nov) has RPE 6, the others none
    export.write_bytes(zip_bytes(files))
    home = tmp_path / "home"
    assert _run(home, "ingest", str(export))[0] == 0
    rows = strict_json(_run(home, "activities", "--json")[1])
    rated = [r for r in rows if r["rpe"] is not None]
    assert [r["local_date"] for r in rated] == ["2026-11-02"]
    expected = 6.0 * rated[0]["moving_s"] / 60.0
    code, out, _ = _run(home, "check", "--as-of", "2026-11-08", "--json")
    assert code == 0
    assert strict_json(out)["load"]["srpe_week"] == pytest.approx(expected, abs=0.1)
    _, text, _ = _run(home, "check", "--as-of", "2026-11-08")
    assert f"session RPE         {expected:.0f} AU" in text
    # a week whose sessions carry no RPE has no srpe_week at all
    _, out, _ = _run(home, "check", "--as-of", "2026-11-09", "--json")
    assert "srpe_week" not in strict_json(out)["load"]
    # the runner's exclusion takes the session out of the load, sRPE too
    assert _run(home, "activities", "set", rated[0]["id"], "--exclude")[0] == 0
    _, out, _ = _run(home, "check", "--as-of", "2026-11-08", "--json")
    assert "srpe_week" not in strict_json(out)["load"]


def test_check_of_an_empty_week_points_to_the_latest_run(sample_home: Path) -> None:
    # the sample block ends with the race on Sunday 15 Nov 2026
    code, out, err = _run(sample_home, "check", "--as-of", "2026-11-30")
    assert code == 0 and "running this week   0.0 km" in out
    assert err.strip() == (
        "note: no runs in the 7 days ending 2026-11-30; your latest run is from "
        "15 Nov 2026: try --as-of 2026-11-15"
    )
    _, _, err = _run(sample_home, "check", "--as-of", "2026-11-21")  # race in window
    assert "latest run" not in err
    _, out, err = _run(sample_home, "check", "--as-of", "2026-11-30", "--json")
    assert "latest run" not in err and strict_json(out)["as_of"] == "2026-11-30"
