"""kneeload.toml: defaults, validation, secrets, and the init/show renderings."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date
from pathlib import Path

import pytest

from kneeload.config import Settings, Thresholds, load_settings, render_config_toml
from kneeload.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kneeload.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "absent.toml")
    assert s.thresholds == Thresholds()
    assert s.athlete.sex is None and s.file_keys == frozenset()
    # RULES defaults spot-checked against the text of RULES.md
    t = s.thresholds
    assert (
        t.session_spike.caution_ratio == 1.10 and t.session_spike.warning_ratio == 2.0
    )
    assert (t.weekly_ramp.info_pct, t.weekly_ramp.caution_pct) == (20.0, 30.0)
    assert (t.acwr_high.info_above, t.acwr_high.caution_above) == (1.3, 1.5)
    assert t.acwr.low_chronic_km_per_week == 10.0 and t.acwr.break_days == 14
    assert t.cadence_low.base_spm == 160.0 and t.cadence_low.slope_spm_per_kmh == 3.0


def test_values_from_file_and_sources(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[athlete]\nsex = "female"\nhr_max = 188\nrace_date = 2026-10-04\n'
        '[email]\nto = ["a@example.org"]\n'
        "[thresholds.session_spike]\ncaution_ratio = 1.2\n",
    )
    s = load_settings(path)
    assert s.athlete.sex == "female"
    assert s.athlete.hr_max == 188.0 and isinstance(s.athlete.hr_max, float)
    assert s.athlete.race_date == date(2026, 10, 4)
    assert s.email.to == ("a@example.org",)
    assert s.thresholds.session_spike.caution_ratio == 1.2
    assert s.thresholds.session_spike.warning_ratio == 2.0
    assert "thresholds.session_spike.caution_ratio" in s.file_keys
    shown = render_config_toml(s, commented=False)
    assert "caution_ratio = 1.2    # file;" in shown
    assert "warning_ratio = 2.0    # default;" in shown


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[thresholds.session_spike]\nbogus = 1\n", "thresholds.session_spike.bogus"),
        ("[thresholds.nosuchrule]\nx = 1\n", "thresholds.nosuchrule"),
        ("[athlete]\nhr_max = 'high'\n", "athlete.hr_max"),
        ("[athlete]\nsex = 'x'\n", "athlete.sex"),
        ("[athlete]\ntimezone = 'Mars/Olympus'\n", "athlete.timezone"),
        ("[email]\nport = 5.5\n", "email.port"),
        ("[email]\npassword = 'hunter2'\n", "email.password"),
        ("[weekly]\n", "weekly"),
        ("athlete = 3\n", "athlete"),
        (
            "[thresholds.weekly_ramp]\ncaution_pct = true\n",
            "thresholds.weekly_ramp.caution_pct",
        ),
        ("[thresholds.taper]\nw1 = [0.4]\n", "thresholds.taper.w1"),
        ("[thresholds.taper]\nw2 = [0.8, 0.55]\n", "thresholds.taper.w2"),
    ],
    ids=[
        "unknown-threshold",
        "unknown-rule",
        "wrong-type",
        "bad-choice",
        "bad-tz",
        "float-port",
        "password-in-file",
        "unknown-section",
        "not-a-table",
        "bool-not-number",
        "band-one-number",
        "band-reversed",
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.key == key
    assert info.value.path == str(path)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings(write(tmp_path, "[athlete\n"))


def test_init_template_lists_every_key_and_loads_to_defaults(tmp_path: Path) -> None:
    text = render_config_toml(Settings(), commented=True)
    for table in dataclasses.fields(Thresholds):
        assert f"[thresholds.{table.name}]" in text
        for f in dataclasses.fields(getattr(Thresholds(), table.name)):
            assert f"# {f.name} = " in text
    assert "RULES §4" in text and "Frandsen 2025" in text
    tomllib.loads(text)  # valid TOML
    s = load_settings(write(tmp_path, text))
    assert s.thresholds == Thresholds() and s.file_keys == frozenset()


def test_show_output_round_trips(tmp_path: Path) -> None:
    path = write(tmp_path, "[thresholds.acwr_high]\ncaution_above = 1.6\n")
    shown = render_config_toml(load_settings(path), commented=False)
    again = load_settings(write(tmp_path, shown))
    assert again.thresholds.acwr_high.caution_above == 1.6
    assert again.thresholds == load_settings(path).thresholds


def test_taper_window_old_keys_are_read_and_the_new_ones_win(tmp_path: Path) -> None:
    """The taper window moved from [thresholds.acwr] to [thresholds.taper]; the
    old spelling is still read until 0.2 (CHANGELOG), the new one wins."""
    old = load_settings(write(tmp_path, "[thresholds.acwr]\ntaper_before_days = 14\n"))
    assert old.thresholds.taper.window_before_days == 14
    assert "thresholds.taper.window_before_days" in old.file_keys
    assert not hasattr(old.thresholds.acwr, "taper_before_days")
    both = load_settings(
        write(
            tmp_path,
            "[thresholds.acwr]\ntaper_after_days = 3\ntaper_before_days = 14\n"
            "[thresholds.taper]\nwindow_after_days = 5\n",
        )
    )
    assert both.thresholds.taper.window_after_days == 5
    assert both.thresholds.taper.window_before_days == 14
    default = Settings().thresholds.taper
    assert (default.window_before_days, default.window_after_days) == (21, 7)
    assert default.peak_weeks == 16


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[thresholds.acwr]\nacute_days = 0\n", "thresholds.acwr.acute_days",
         "at least 1, got 0"),
        ("[thresholds.weekly_ramp]\ninfo_pct = -5.0\n",
         "thresholds.weekly_ramp.info_pct", "at least 0, got -5"),
        ("[thresholds.acwr_high]\ninfo_above = nan\n",
         "thresholds.acwr_high.info_above", "finite number, got nan"),
        ("[thresholds.session_spike]\nwarning_ratio = inf\n",
         "thresholds.session_spike.warning_ratio", "finite number, got inf"),
        ("[thresholds.taper]\nw1 = [-0.1, 0.5]\n", "thresholds.taper.w1",
         "at least 0, got -0.1"),
        ("[thresholds.acwr]\nchronic_days = 5\n", "thresholds.acwr.chronic_days",
         "must be above thresholds.acwr.acute_days (7)"),
        ("[thresholds.acwr]\nacute_days = 21\nchronic_days = 14\n",
         "thresholds.acwr.chronic_days", "above thresholds.acwr.acute_days (21)"),
        ("[thresholds.acwr]\nacute_days = 28\n", "thresholds.acwr.acute_days",
         "must be below thresholds.acwr.chronic_days (28)"),
        ("[athlete]\nhr_max = 110\nhr_rest = 115\n", "athlete.hr_max",
         "above athlete.hr_rest (115)"),
        ("[athlete]\nhr_max = 999\n", "athlete.hr_max", "at most 240, got 999"),
        ("[email]\nport = 99999\n", "email.port", "at most 65535, got 99999"),
        ("[email]\nport = 0\n", "email.port", "at least 1, got 0"),
        ("[thresholds.acwr_high]\ninfo_above = 1.6\n",
         "thresholds.acwr_high.info_above",
         "at most thresholds.acwr_high.caution_above (1.5)"),
        ("[thresholds.weekly_ramp]\ncaution_pct = 15.0\n",
         "thresholds.weekly_ramp.caution_pct",
         "at least thresholds.weekly_ramp.info_pct (20)"),
        ("[athlete]\ntimezone = 'Europe/Atlantis'\n", "athlete.timezone",
         "unknown time zone 'Europe/Atlantis'"),
    ],
    ids=["acute-0", "negative", "nan", "inf", "negative-in-band", "chronic-lt-acute",
         "both-set", "acute-eq-chronic", "hrmax-lt-hrrest", "hrmax-999", "port-99999",
         "port-0", "acwr-bands-crossed", "ramp-bands-crossed", "unknown-tz"],
)  # fmt: skip
def test_values_that_make_no_sense_name_the_key(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert (info.value.key, info.value.path) == (key, str(path))
    assert words in str(info.value)
    assert str(info.value).startswith(f"{path}: {key}: ")


def test_boundaries_that_do_make_sense_are_accepted(tmp_path: Path) -> None:
    text = (
        "[athlete]\nhr_max = 240\nhr_rest = 25\n[email]\nport = 65535\n"
        "[thresholds.acwr]\nacute_days = 1\nchronic_days = 2\n"
        "[thresholds.weekly_ramp]\ninfo_pct = 0.0\ncaution_pct = 0.0\n"
        "[thresholds.cadence_low]\nresidual_pct = -100.0\n"
    )
    s = load_settings(write(tmp_path, text))
    assert (s.thresholds.acwr.acute_days, s.thresholds.acwr.chronic_days) == (1, 2)
    assert s.email.port == 65535


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "kneeload.toml"
    path.write_bytes(b'[athlete]\nsex = "f\xe9male"\n')  # Latin-1, not UTF-8
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.key == "(file)" and info.value.path == str(path)
    assert "not UTF-8 text (byte 0xe9 at offset 18)" in str(info.value)


def test_cli_bad_value_is_exit_2_naming_key_and_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kneeload.cli import cli

    path = write(tmp_path, "[thresholds.acwr]\nacute_days = 0\n")
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "check"])
    assert result.exit_code == 2
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert str(path) in line and "thresholds.acwr.acute_days" in line
    assert "Traceback" not in result.output


# --- config init on a home that cannot be written (issue 9 item 4) ---------------


def _init(home: Path, *args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from kneeload.cli import cli

    result = CliRunner().invoke(cli, ["--home", str(home), "config", "init", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _refuse_writes(monkeypatch: pytest.MonkeyPatch, folder: Path, err: int) -> None:
    """Opening a file of ``folder`` for writing raises OSError(err), as the OS does."""
    import errno as errno_mod
    import os

    real_open = Path.open

    def fake_open(self: Path, mode: str = "r", *args: object, **kw: object):
        if self.parent == folder and any(c in mode for c in "wax+"):
            raise OSError(err, os.strerror(err), str(self))
        return real_open(self, mode, *args, **kw)  # type: ignore[call-overload]

    assert err in errno_mod.errorcode
    monkeypatch.setattr(Path, "open", fake_open)


@pytest.mark.parametrize("err", ["EROFS", "EACCES"])
def test_config_init_in_a_read_only_home_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: str
) -> None:
    import errno

    home = tmp_path / "home"
    home.mkdir()
    _refuse_writes(monkeypatch, home, getattr(errno, err))
    code, out = _init(home)
    target = home / "kneeload.toml"
    assert code == 1
    lines = out.strip().splitlines()
    assert lines == [
        f"Error: cannot write {target}: the folder {home} is read-only; use a "
        "writable --home or change its permissions"
    ]
    assert not target.exists() and list(home.iterdir()) == []


def test_config_init_on_a_full_disk_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed --force rewrite leaves the old kneeload.toml as it was (atomic)."""
    import errno

    home = tmp_path / "home"
    home.mkdir()
    target = home / "kneeload.toml"
    target.write_text("[athlete]\nhr_max = 181\n", encoding="utf-8")
    _refuse_writes(monkeypatch, home, errno.ENOSPC)
    code, out = _init(home, "--force")
    assert code == 1
    assert out.strip().splitlines() == [
        f"Error: cannot write {target}: No space left on device; nothing was written"
    ]
    assert target.read_text(encoding="utf-8") == "[athlete]\nhr_max = 181\n"
    assert [p.name for p in home.iterdir()] == ["kneeload.toml"]


def test_config_init_in_a_chmod_read_only_home(tmp_path: Path) -> None:
    """The real thing, where permissions apply (root ignores them: skipped)."""
    import os

    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 555 does not stop root writing")
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)
    try:
        code, out = _init(home)
    finally:
        home.chmod(0o755)
    assert code == 1
    assert "is read-only" in out and str(home / "kneeload.toml") in out
    assert len(out.strip().splitlines()) == 1


def test_config_init_writes_the_commented_defaults(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, out = _init(home)
    target = home / "kneeload.toml"
    assert code == 0 and out.strip() == str(target)
    loaded = load_settings(target)
    assert (loaded.athlete, loaded.thresholds) == (Settings().athlete, Thresholds())
    assert [p.name for p in home.iterdir()] == ["kneeload.toml"]
