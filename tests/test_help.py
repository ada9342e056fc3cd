"""Every command's ``--help``, and every ``kneeload`` command the README shows.

The README's code blocks are parsed; each ``kneeload ...`` command runs against
one temporary home (the sample block ingested first), with ``~/`` paths replaced
by the sample block (a ``.zip`` path by a zip of three sample files). Commands
that need the network (``--email``) are skipped with that reason.
"""

from __future__ import annotations

import shlex
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from kneeload.cli import cli
from kneeload.cli.main import walk_commands

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SAMPLES = REPO / "sample_activities"
NETWORK_OPTIONS = ("--email",)


@dataclass(frozen=True)
class Shown:
    """One command shown in the README, with the first output line shown under it."""

    line: int
    argv: tuple[str, ...]
    first_output: str | None


def readme_commands(text: str) -> list[Shown]:
    """The ``kneeload`` commands in the README's fenced code blocks.

    In a block with ``$ `` prompts only the prompted lines are commands (the rest
    is their output); in a ``bash``/``sh`` block every line is; in another block a
    line is a command when its second word is a kneeload command.
    """
    found: list[Shown] = []
    lines = text.splitlines()
    blocks: list[tuple[str, list[int]]] = []  # (language, line numbers)
    for number, raw in enumerate(lines, start=1):
        if raw.lstrip().startswith("```"):
            if blocks and blocks[-1][0] != "":
                blocks.append(("", []))  # closing fence
                continue
            blocks.append((raw.strip().removeprefix("```") or "text", []))
        elif blocks and blocks[-1][0]:
            blocks[-1][1].append(number)
    for lang, numbers in blocks:
        prompted = any(lines[n - 1].startswith("$ ") for n in numbers)
        for n in numbers:
            raw = lines[n - 1]
            if prompted and not raw.startswith("$ "):
                continue
            for segment in raw.removeprefix("$ ").split("&&"):
                if not segment.strip().startswith("kneeload "):
                    continue
                words = shlex.split(segment, comments=True)
                if words[:1] != ["kneeload"] or len(words) < 2:
                    continue
                if not (prompted or lang in ("bash", "sh", "shell")) and (
                    words[1] not in cli.commands
                ):
                    continue  # text that starts with the word kneeload
                first = None
                following = lines[n] if n < len(lines) else ""
                if prompted and following.strip() and not following.startswith("$"):
                    first = None if following.startswith("```") else following.strip()
                found.append(Shown(n, tuple(words[1:]), first))
    return found


SHOWN = readme_commands(README.read_text(encoding="utf-8"))


def test_the_readme_shows_commands() -> None:
    names = {_without_home(shown.argv)[0] for shown in SHOWN}
    assert {"report", "check", "taper", "ingest", "activities"} <= names


@pytest.mark.parametrize(
    "name", [name for name, _ in walk_commands(cli)] + [""], ids=lambda n: n or "."
)
def test_help(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    assert "--home" in result.stdout  # global options work after the name too
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def readme_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the sample block ingested, as after the README's first line."""
    home = tmp_path_factory.mktemp("readme_home")
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(SAMPLES)])
    assert result.exit_code == 0, result.output
    return home


def _local(arg: str, tmp: Path) -> str:
    if arg.startswith("~/"):
        if not arg.endswith(".zip"):
            return str(SAMPLES)
        archive = tmp / Path(arg).name
        with zipfile.ZipFile(archive, "w") as zf:
            for path in sorted(SAMPLES.glob("*.fit"))[:3]:
                zf.write(path, f"activities/{path.name}")
        return str(archive)
    if not arg.startswith("-") and (REPO / arg).exists():
        return str(REPO / arg)
    return arg


def _without_home(argv: tuple[str, ...]) -> list[str]:
    """The README's ``--home demo`` is the test's own home (set by the test)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--home":
            skip = True
        elif not arg.startswith("--home="):
            out.append(arg)
    return out


@pytest.mark.parametrize(
    "shown", SHOWN, ids=lambda s: f"L{s.line}:{' '.join(s.argv)[:40]}"
)
def test_readme_command(shown: Shown, readme_home: Path, tmp_path: Path) -> None:
    if any(arg.startswith(NETWORK_OPTIONS) for arg in shown.argv):
        pytest.skip("sends email: needs an SMTP server and the network")
    argv = [_local(arg, tmp_path) for arg in _without_home(shown.argv)]
    if argv[0] == "report" and "--out" not in argv:
        argv += ["--out", str(tmp_path / "report")]  # the home's report stays apart
    result = CliRunner().invoke(cli, ["--home", str(readme_home), *argv])
    assert result.exit_code == 0, (shown, result.output)
    assert "Traceback" not in result.output
    if shown.first_output is not None:  # the README's excerpt is real output
        out = [line.strip() for line in result.stdout.splitlines()]
        assert shown.first_output in out, (shown, result.stdout)


def test_the_group_help_states_the_date_range() -> None:
    from kneeload.cli.context import DAY_MIN, FUTURE_YEARS, day_range

    text = " ".join(CliRunner().invoke(cli, ["--help"]).stdout.split())
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 10: "ten"}
    assert f"from {DAY_MIN.isoformat()} to the end of the year" in text
    assert f"{words[FUTURE_YEARS]} years ahead" in text
    assert day_range()[1].month == 12 and day_range()[1].day == 31
    assert "130 interrupted" in text


def test_ingest_help_names_the_exports_it_reads() -> None:
    result = CliRunner().invoke(cli, ["ingest", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for export in ("Garmin Connect's archive", "Strava's bulk export", "export.zip"):
        assert export in text
