"""The CLI's generic rough edges (issue 12 item 4): options, paths, dates, errors."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kneeload.cli import cli
from kneeload.cli.context import DAY_MIN, day_range, parse_day
from kneeload.cli.main import walk_commands

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_activities"
#: Five sample runs on five different days (no duplicates among them).
FIVE_RUNS = (
    "2026-07-28_0712_easy.fit",
    "2026-07-29_1840_easy.fit",
    "2026-07-30_0726_easy.fit",
    "2026-08-02_0830_long.fit",
    "2026-08-04_0719_easy.fit",
)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _five_runs(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    for name in FIVE_RUNS:
        shutil.copy2(SAMPLES / name, folder / name)
    return folder


# --- global options before or after the subcommand -------------------------


def test_every_command_takes_home_and_verbose_after_its_name() -> None:
    names = []
    for name, command in walk_commands(cli):
        opts = {opt for p in command.params for opt in p.opts}
        assert {"--home", "-v", "--verbose"} <= opts, name
        names.append(name)
    assert {"ingest", "activities", "check", "report", "config path"} <= set(names)


def test_a_command_registered_late_gets_them_too(tmp_path: Path) -> None:
    from kneeload.cli.context import Context, pass_ctx

    @click.command("late-command")
    @pass_ctx
    def late(obj: Context) -> None:
        click.echo(f"{obj.home} {obj.verbose}")

    cli.add_command(late)
    try:
        code, out, _ = _invoke("late-command", "--home", str(tmp_path), "-v")
    finally:
        cli.commands.pop("late-command")
    assert code == 0 and out.strip() == f"{tmp_path} True"


def test_home_after_the_subcommand_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    code, out, _ = _invoke("config", "path", "--home", str(second))
    assert code == 0 and out.strip() == str(second / "kneeload.toml")
    code, out, _ = _invoke(
        "--home", str(first), "config", "path", "--home", str(second)
    )
    assert code == 0 and out.strip() == str(second / "kneeload.toml")
    code, out, _ = _invoke("--home", str(first), "config", "path")
    assert code == 0 and out.strip() == str(first / "kneeload.toml")


def test_report_home_after_the_subcommand(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, _, err = _invoke(
        "report",
        str(_five_runs(tmp_path)),
        "--home",
        str(home),
        "--as-of",
        "2026-08-02",
    )
    assert code == 0, err
    assert (home / "report" / "report.txt").exists()
    assert (home / "kneeload.db").exists()
    code, out, _ = _invoke("activities", "--json", "--home", str(home))
    assert code == 0 and out.count('"local_date"') == 5


# --- paths --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ingest", "report"])
def test_a_missing_path_is_a_usage_error(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    code, out, err = _invoke("--home", str(tmp_path / "h"), command, str(missing))
    assert code == 2
    assert out == ""
    naming = [line for line in err.splitlines() if str(missing) in line]
    assert len(naming) == 1 and "does not exist" in naming[0]
    assert "Traceback" not in err
    assert not (tmp_path / "h" / "kneeload.db").exists()  # refused before any work


def test_an_empty_folder_gets_a_hint(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "readme.txt").write_text("not an activity")
    code, _, err = _invoke("--home", str(tmp_path / "h"), "ingest", str(empty))
    assert code == 0
    hint = [line for line in err.splitlines() if "no activity files" in line]
    assert len(hint) == 1
    assert str(empty) in hint[0] and ".fit" in hint[0] and ".zip" in hint[0]


def test_a_folder_with_runs_gets_no_hint(tmp_path: Path) -> None:
    _, _, err = _invoke(
        "--home", str(tmp_path / "h"), "ingest", str(_five_runs(tmp_path))
    )
    assert "no activity files" not in err
    assert "5 activities added" in err


# --- dates --------------------------------------------------------------------

DATE_FLAGS = ("--as-of", "--since", "--until", "--race-date", "--date")
#: What a command needs besides the date to get as far as reading it.
NEEDS = {"taper": ["--race-date", "2026-11-15"], "note": ["--knee-pain", "2"]}
#: Every date option of every command (new commands are covered as they land).
DATE_OPTIONS = sorted(
    {
        (name, opt)
        for name, command in walk_commands(cli)
        for param in command.params
        for opt in param.opts
        if opt in DATE_FLAGS
    }
)


def _date_args(command: str, option: str, value: str) -> list[str]:
    extra = [a for a in NEEDS.get(command, []) if option not in NEEDS[command]]
    return [*command.split(), option, value, *extra]


def test_the_date_options_are_found() -> None:
    assert {("check", "--as-of"), ("taper", "--race-date"), ("note", "--date")} <= (
        set(DATE_OPTIONS)
    )


@pytest.mark.parametrize(("command", "option"), DATE_OPTIONS)
def test_no_such_day(command: str, option: str, tmp_path: Path) -> None:
    code, _, err = _invoke(
        "--home", str(tmp_path), *_date_args(command, option, "2013-06-31")
    )
    assert code == 2
    assert "no such day: 2013-06-31" in err and option in err
    assert "YYYY-MM-DD" not in err


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1989-12-31"])
@pytest.mark.parametrize(("command", "option"), DATE_OPTIONS)
def test_days_outside_the_range(
    command: str, option: str, value: str, tmp_path: Path
) -> None:
    args = _date_args(command, option, value)
    code, _, err = _invoke("--home", str(tmp_path), *args)
    first, last = day_range()
    assert code == 2
    assert f"outside the supported dates {first} to {last}" in err
    assert "Traceback" not in err


def test_the_range_ends() -> None:
    today = date(2026, 12, 1)
    assert day_range(today) == (date(1990, 1, 1), date(2031, 12, 31))
    assert parse_day(DAY_MIN.isoformat(), "--since") == DAY_MIN
    last = day_range()[1]
    assert parse_day(last.isoformat(), "--race-date") == last
    for outside in (DAY_MIN - timedelta(days=1), last + timedelta(days=1)):
        with pytest.raises(click.BadParameter, match="outside the supported dates"):
            parse_day(outside.isoformat(), "--race-date")
    with pytest.raises(click.BadParameter, match="not a YYYY-MM-DD date"):
        parse_day("20260601", "--since")  # fromisoformat alone would take it


@pytest.mark.parametrize(
    ("command", "option"),
    [(c, o) for c, o in DATE_OPTIONS if o in ("--as-of", "--date")],
)
def test_a_future_as_of_is_refused(command: str, option: str, tmp_path: Path) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    args = _date_args(command, option, tomorrow)
    code, _, err = _invoke("--home", str(tmp_path), *args)
    assert code == 2
    assert f"{tomorrow} is in the future" in err


def test_a_future_race_date_is_fine(tmp_path: Path) -> None:
    race = (date.today() + timedelta(days=40)).isoformat()
    code, _, err = _invoke("--home", str(tmp_path), "taper", "--race-date", race)
    assert code == 0, err


def test_a_reversed_range_is_refused(tmp_path: Path) -> None:
    code, out, err = _invoke(
        "--home",
        str(tmp_path),
        "activities",
        "--since",
        "2026-05-01",
        "--until",
        "2026-04-01",
    )
    assert code == 2 and out == ""
    assert "--since 2026-05-01 is after --until 2026-04-01" in err
    assert "No activities match" not in err
    code, _, _ = _invoke(
        "--home",
        str(tmp_path),
        "activities",
        "--since",
        "2026-05-01",
        "--until",
        "2026-05-01",
    )
    assert code == 0  # one day is a range


# --- Ctrl-C -----------------------------------------------------------------


def _interrupt_after(files: int) -> Callable[[], object]:
    @contextmanager
    def progress() -> Iterator[Callable[[int, int], None]]:
        def update(done: int, total: int) -> None:
            if done == files:
                raise KeyboardInterrupt

        yield update

    return progress


@pytest.mark.parametrize("command", ["ingest", "report"])
def test_ctrl_c_while_ingesting_says_what_was_saved(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.cli.context
    import kneeload.ingest

    folder, home = _five_runs(tmp_path), tmp_path / "h"
    code, _, _ = _invoke("--home", str(home), "ingest", str(folder / FIVE_RUNS[0]))
    assert code == 0  # one known file: 4 to read, stopped after 2 of them
    monkeypatch.setattr(kneeload.ingest, "BATCH_FILES", 1)  # commit every file
    # the progress callback runs after each file's commit: stop after the 2nd
    monkeypatch.setattr(kneeload.cli.context, "_progress", _interrupt_after(2))
    args = ["--home", str(home), command, str(folder)]
    if command == "report":
        args += ["--as-of", "2026-08-02"]
    code, _, err = _invoke(*args)
    assert code == 130
    assert err.strip().splitlines() == [
        "interrupted: 2 files saved; "
        "run the same command again to continue where it stopped"
    ]
    assert "Aborted" not in err and "Traceback" not in err
    assert not (home / "report").exists()
    monkeypatch.undo()
    code, _, err = _invoke("--home", str(home), "ingest", str(folder))
    assert code == 0
    assert "5 files: 2 activities added, 3 unchanged" in err


def test_ctrl_c_outside_ingest_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.report.weekly

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(kneeload.report.weekly, "build_weekly_report", interrupted)
    code, _, err = _invoke("--home", str(tmp_path), "report", "--as-of", "2026-08-02")
    assert code == 130
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("note: no activities")
    assert lines[1].startswith("interrupted:") and "run the command again" in lines[1]


# --- unexpected errors --------------------------------------------------------


def _broken_check(*_args: object, **_kwargs: object) -> None:
    raise ZeroDivisionError("float division by zero\nsecond line")


def test_an_unexpected_error_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.analysis.check

    monkeypatch.setattr(kneeload.analysis.check, "check", _broken_check)
    code, out, err = _invoke("--home", str(tmp_path), "check", "--as-of", "2026-08-02")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "error: ZeroDivisionError: float division by zero "
        "(run with -v for the traceback)"
    ]


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_shows_the_traceback(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kneeload.analysis.check

    monkeypatch.setattr(kneeload.analysis.check, "check", _broken_check)
    args = ["--home", str(tmp_path), "check", "--as-of", "2026-08-02"]
    args.insert(0 if where == "before" else len(args), "-v")
    code, _, err = _invoke(*args)
    assert code == 1
    assert "Traceback (most recent call last)" in err and "_broken_check" in err
    assert err.strip().splitlines()[-1] == (
        "error: ZeroDivisionError: float division by zero"
    )


def test_a_store_fault_is_one_line_in_a_real_process(tmp_path: Path) -> None:
    # the store path is a folder: sqlite cannot open it
    (tmp_path / "kneeload.db").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "kneeload", "--home", str(tmp_path), "activities"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode in (1, 2)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


# --- one knee-notes policy ------------------------------------------------------


def test_damaged_notes_warn_in_check_and_stop_note(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{not json")
    code, _, err = _invoke("--home", str(tmp_path), "check", "--as-of", "2026-08-02")
    assert code == 0
    warned = [line for line in err.splitlines() if "notes ignored" in line]
    assert len(warned) == 1 and "notes" in warned[0]
    code, out, err = _invoke("--home", str(tmp_path), "note", "--knee-pain", "3")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "notes" in err
    code, _, err = _invoke(
        "--home",
        str(tmp_path),
        "taper",
        "--race-date",
        "2026-11-15",
        "--as-of",
        "2026-11-01",
        "--knee-pain",
        "3",
    )
    assert code == 1 and "Traceback" not in err


# --- the house: arrows only downward, no numpy for --help ------------------------


def test_no_command_module_imports_main() -> None:
    package = REPO / "kneeload" / "cli"
    for path in package.glob("*.py"):
        if path.name in ("__init__.py", "main.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {
                    f"{node.module}.{a.name}" for a in node.names
                }
                assert not {"kneeload.cli", "kneeload.cli.main"} & names, path.name


def test_help_imports_no_numpy_or_pandas() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kneeload", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 0 and "Usage:" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    assert "kneeload.cli.main" in imported  # the measurement sees the CLI
    heavy = {m for m in imported if m.split(".")[0] in ("numpy", "pandas")}
    assert heavy == set()


CTRL_C_SCRIPT = """
import os, signal, sys
from contextlib import contextmanager
import kneeload.cli.context, kneeload.ingest
from kneeload.cli import cli

@contextmanager
def progress():
    def update(done, total):
        if done == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, after 2 commits
    yield update

kneeload.ingest.BATCH_FILES = 1
kneeload.cli.context._progress = progress
cli(sys.argv[1:], prog_name="kneeload")
"""


def test_a_real_sigint_while_ingesting(tmp_path: Path) -> None:
    folder = _five_runs(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CTRL_C_SCRIPT,
            "--home",
            str(tmp_path / "h"),
            "ingest",
            str(folder),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 130
    assert proc.stderr.strip().splitlines() == [
        "interrupted: 2 files saved; "
        "run the same command again to continue where it stopped"
    ]


def test_filters_that_match_nothing_say_what_the_store_holds(tmp_path: Path) -> None:
    home = str(tmp_path / "h")
    assert _invoke("--home", home, "ingest", str(_five_runs(tmp_path)))[0] == 0
    code, out, _ = _invoke("--home", home, "activities", "--sport", "swimming")
    assert code == 0
    # not "add files with kneeload ingest": the five runs are there
    assert out.strip() == (
        "No activities match these filters (5 in the store, "
        "from 2026-07-28 to 2026-08-04)."
    )
    code, out, _ = _invoke("--home", home, "activities")
    assert out.splitlines()[-1] == "5 activities"
