"""The sample week's report.txt, word for word: tests/golden/report.txt.

Any change to what the weekly report says shows up here as a diff to review.
After a deliberate change, regenerate the file and review it in the diff:

    KNEELOAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_report_golden.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from click.testing import CliRunner

from kneeload.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_activities"
GOLDEN = ROOT / "tests" / "golden" / "report.txt"
AS_OF = "2026-08-30"  # the sample block's ramp week (index.toml story.weekly_ramp)


def test_sample_week_report_txt_matches_golden(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", str(home), "ingest", str(SAMPLE_DIR)])
    assert result.exit_code == 0, result.output
    args = ["--home", str(home), "report", "--as-of", AS_OF, "--out", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    text = (out / "report.txt").read_text(encoding="utf-8")
    if os.environ.get("KNEELOAD_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            "tests/golden/report.txt",
            "report.txt now",
        )
    )
    assert text == expected, (
        "report.txt changed; if on purpose, regenerate with "
        f"KNEELOAD_UPDATE_GOLDEN=1 and review the diff:\n{diff}"
    )
