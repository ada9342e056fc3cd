"""The command line: JSON contracts of INTERFACE.md and exit statuses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import strict_json

from kneeload.cli import cli

ACTIVITY_FIELDS = {
    "id",
    "source",
    "format",
    "sport",
    "sub_sport",
    "start_utc",
    "local_date",
    "elapsed_s",
    "moving_s",
    "distance_m",
    "ascent_m",
    "descent_m",
    "avg_hr",
    "max_hr",
    "trimp",
    "cadence_spm",
    "cadence_source",
    "step_length_m",
    "device",
    "partial",
}


def _run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _inputs(real_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in (
        "sportslib__runs_6782987395.fit",
        "sportslib__runs_6782987395.gpx",
        "trackeR__2013-06-01-183220.TCX.gz",
        "fitparse__MonitoringFile.fit",
    ):
        shutil.copy2(real_dir / name, folder / name)
    (folder / "garbage.fit").write_bytes(b"\x00" * 100)
    return folder


def test_ingest_json_and_exit_status(
    real_dir: Path, tmp_path: Path, home: Path
) -> None:
    folder = _inputs(real_dir, tmp_path)
    code, out, err = _run(home, "ingest", str(folder), "--json")
    assert code == 0
    doc = strict_json(out)
    assert set(doc) >= {
        "files_seen",
        "ingested",
        "unchanged",
        "duplicates",
        "skipped",
        "errors",
        "partial",
    }
    assert (doc["files_seen"], doc["ingested"], doc["duplicates"]) == (5, 2, 1)
    assert [Path(e["path"]).name for e in doc["errors"]] == ["garbage.fit"]
    assert [Path(s["path"]).name for s in doc["skipped"]] == [
        "fitparse__MonitoringFile.fit"
    ]
    assert "garbage.fit" in err and err.count("\n") >= 2
    code, out, _ = _run(home, "ingest", str(folder), "--json", "--strict")
    assert code == 1
    assert strict_json(out)["unchanged"] == 4


def test_activities_json_table_csv(real_dir: Path, tmp_path: Path, home: Path) -> None:
    _run(home, "ingest", str(_inputs(real_dir, tmp_path)))
    code, out, _ = _run(home, "activities", "--json")
    assert code == 0
    rows = strict_json(out)
    assert [r["local_date"] for r in rows] == ["2013-06-01", "2019-06-15"]
    for row in rows:
        assert set(row) >= ACTIVITY_FIELDS
        assert row["sub_sport"] is None or isinstance(row["sub_sport"], str)
        assert row["start_utc"].endswith("Z")
        assert row["sport"] == "running"
    code, out, _ = _run(home, "activities", "--since", "2019-01-01")
    assert code == 0 and "2019-06-15" in out and "2013-06-01" not in out
    assert "14.00" in out  # 14,004.9 m from the FIT session summary
    code, out, _ = _run(home, "activities", "--format", "csv", "--sport", "cycling")
    assert code == 0 and out == ""
    code, _, err = _run(home, "activities", "--since", "June")
    assert code == 2 and "YYYY-MM-DD" in err


def test_miles_follow_the_config(real_dir: Path, tmp_path: Path, home: Path) -> None:
    _run(home, "ingest", str(_inputs(real_dir, tmp_path)))
    (home / "kneeload.toml").write_text('[athlete]\nunits = "mi"\n')
    code, out, _ = _run(home, "activities", "--since", "2019-01-01")
    assert code == 0
    assert f"{14004.9 / 1609.344:.2f}" in out  # 8.70 mi


def test_bad_config_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    (home / "kneeload.toml").write_text("[athlete]\nshoe_size = 44\n")
    code, _, err = _run(home, "activities")
    assert code == 2
    assert "shoe_size" in err and "kneeload.toml" in err


def test_missing_path_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    # INTERFACE.md, additions of 2026-12-01: a mistyped PATH must fail a cron job
    code, out, err = _run(home, "ingest", str(tmp_path / "nope"), "--json")
    assert code == 2 and out == ""
    assert "nope" in err and "does not exist" in err


def test_athlete_settings_change_trimp_without_rereading(
    real_dir: Path, tmp_path: Path, home: Path
) -> None:
    import math

    import numpy as np

    from kneeload.history import open_history

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy2(real_dir / "sportslib__runs_6782987395.fit", folder)
    _run(home, "ingest", str(folder))
    first = strict_json(_run(home, "activities", "--json")[1])[0]["trimp"]
    (home / "kneeload.toml").write_text(
        '[athlete]\nhr_max = 190\nhr_rest = 50\nsex = "female"\n'
    )
    (folder / "sportslib__runs_6782987395.fit").unlink()  # nothing left to re-read
    second = strict_json(_run(home, "activities", "--json")[1])[0]["trimp"]
    # by hand from the stored samples (RULES L3, women a=0.86 b=1.67): each
    # sample holds until the next, gaps capped at 10 s
    history = open_history(home)
    samples = history.samples(history.activities["id"].iloc[0])
    history.close()
    t = (samples.index - samples.index[0]).total_seconds().to_numpy()
    hold = np.append(np.clip(np.diff(t), 0, 10), 0.0)
    x = np.clip((samples["heart_rate_bpm"].to_numpy() - 50) / (190 - 50), 0, 1)
    terms = hold / 60 * x * 0.86 * np.exp(1.67 * x)
    expected = float(np.nansum(terms))
    assert second == pytest.approx(expected, rel=0.005)
    assert not math.isclose(first, second, rel_tol=0.01)
