"""The README's Python example runs as printed, on a home holding the sample block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kneeload.ingest import ingest
from kneeload.store import Store
from tests.conftest import REPO, SAMPLE_DIR

HOME_LINE = re.compile(r'^home = Path\("[^"]+"\)\.expanduser\(\)$', re.M)


def _python_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README has one Python example"
    return blocks[0]


def test_the_readme_python_example_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.in_home(tmp_path) as store:
        ingest([SAMPLE_DIR], store, workers=1)
    code = _python_example()
    assert HOME_LINE.search(code), "the example names its home on one line"
    code = HOME_LINE.sub(f"home = Path({str(tmp_path)!r})", code)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    # the sample block's ramp week (sample_activities/index.toml): spike and ramp
    assert "'session_spike'" in printed and "'weekly_ramp'" in printed
    assert "'uncoupled'" in printed
