"""``kneeload note``, ``notes``, ``notes rm`` and ``knee`` (INTERFACE.md additions)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import strict_json

from kneeload.cli import cli

TODAY = date.today()
SAMPLES = Path(__file__).resolve().parents[1] / "sample_activities"


def _run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_note_kinds_list_and_rm(home: Path) -> None:
    d = (TODAY - timedelta(days=1)).isoformat()
    code, out, _ = _run(home, "note", "--knee-pain", "4", "--when", "during",
                        "--side", "left", "--aggravated-by", "stairs,downhill",
                        "--date", d)  # fmt: skip
    assert code == 0
    assert out == (
        f"noted knee pain during 4/10 (left; stairs, downhill) on {d} (id 1)\n"
    )
    code, out, _ = _run(home, "note", "--knee-pain", "2", "--date", d)  # same day
    assert (code, out) == (0, f"noted knee pain after 2/10 on {d} (id 2)\n")
    assert _run(home, "note", "--shoes", "Pegasus 41", "--date", d)[0] == 0
    assert _run(home, "note", "--strength", "--minutes", "25")[0] == 0
    assert _run(home, "note", "--text", "stairs fine today")[0] == 0
    code, out, _ = _run(home, "notes", "--json")
    doc = strict_json(out)
    assert code == 0 and isinstance(doc, list)
    assert [(n["id"], n["kind"]) for n in doc] == [
        (1, "knee_pain"), (2, "knee_pain"), (3, "shoes"), (4, "strength"),
        (5, "text"),
    ]  # fmt: skip
    assert doc[0]["aggravated_by"] == ["stairs", "downhill"]
    assert doc[3]["minutes"] == 25.0
    code, out, _ = _run(home, "notes", "--since", TODAY.isoformat())
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["4", "5"]
    code, out, _ = _run(home, "notes", "rm", "2")
    assert (code, out) == (0, f"deleted note 2: knee pain after 2/10 on {d}\n")
    code, _, err = _run(home, "notes", "rm", "2")
    assert (
        code == 1
        and err == "Error: no note with id 2; list them with: kneeload notes\n"
    )
    doc = strict_json(_run(home, "notes", "--json")[1])
    assert isinstance(doc, list) and [n["id"] for n in doc] == [1, 3, 4, 5]


def test_note_refuses_future_and_mixed_kinds(home: Path) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    code, _, err = _run(home, "note", "--knee-pain", "3", "--date", tomorrow)
    assert code == 2 and "is in the future" in err
    code, _, err = _run(home, "note", "--knee-pain", "3", "--shoes", "X")
    assert code == 2 and "one of --knee-pain, --shoes, --strength or --text" in err
    code, _, err = _run(home, "note", "--shoes", "X", "--when", "during")
    assert code == 2 and "go with --knee-pain" in err
    code, _, err = _run(home, "note", "--knee-pain", "3", "--aggravated-by", "cake")
    assert code == 2 and "cake" in err
    assert not (home / "notes.db").exists()  # nothing was written


def test_damaged_notes_store_is_one_line(home: Path) -> None:
    (home / "notes.db").write_bytes(b"not a database " * 200)
    for args in (("notes",), ("note", "--knee-pain", "2"), ("knee",),
                 ("notes", "rm", "1")):  # fmt: skip
        code, out, err = _run(home, *args)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and "notes.db" in err
        assert "rename it (e.g. to notes.db.damaged)" in err
    # check goes on without the notes and says so once on stderr
    code, _, err = _run(home, "check", "--json")
    assert code == 0 and "warning: notes ignored:" in err


def test_knee_json_shape(home: Path) -> None:
    _run(home, "note", "--knee-pain", "5", "--date", TODAY.isoformat())
    code, out, _ = _run(home, "knee", "--json")
    doc = strict_json(out)
    assert code == 0 and isinstance(doc, dict)
    assert {"as_of", "stage", "stage_reason", "next_step", "pain_log",
            "strength_per_week", "routine", "shoes", "changes",
            "evidence"} <= set(doc)  # fmt: skip
    assert doc["stage"] == 1
    assert doc["stage_reason"].startswith("no run in the last 7 days")
    assert set(doc["routine"]) == {"pre_run", "warm_up", "cool_down", "load",
                                   "strength"}  # fmt: skip
    assert "see a clinician first" in doc["clinician"]  # 5/10 (RULES §12)
    code, out, _ = _run(home, "knee")
    assert code == 0 and 'Stage 1 of 3 — "I have not been running' in out
    assert out.count("the plan belongs to you and your physio") == 1
    code, out, _ = _run(home, "check")
    assert code == 0 and "knee: stage 1 of 3; Stage 2 comes with a run" in out


def test_new_shoes_line_in_check_human_and_json(tmp_path: Path) -> None:
    if not (SAMPLES / "index.toml").exists():
        pytest.skip("sample_activities/ has not been generated yet")
    home = tmp_path / "h"
    assert _run(home, "ingest", str(SAMPLES))[0] == 0
    _run(home, "note", "--shoes", "Racer 2", "--date", "2026-08-25")
    line = "You also started running in Racer 2 on 2026-08-25."
    doc = strict_json(_run(home, "check", "--as-of", "2026-08-30", "--json")[1])
    assert isinstance(doc, dict)
    spike = [f for f in doc["flags"] if f["rule"] == "session_spike"]
    assert spike and all(f["context"] == [line] for f in spike)
    assert "knee" not in doc  # no knee pain noted
    code, out, _ = _run(home, "check", "--as-of", "2026-08-30")
    assert code == 0 and line in " ".join(out.split())
