"""Settings from ``kneeload.toml``: athlete, email and every RULES.md threshold.

The file is read with :mod:`tomllib` into frozen dataclasses that are passed
explicitly; there is no global settings object. Every key is optional; a missing
file means all defaults. An unknown key or a wrong type raises
:class:`~kneeload.errors.ConfigError` naming the key. Secrets are never read from
the file: ``[email] password_env`` names the environment variable that holds the
SMTP password.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kneeload.config_ranges import check_bounds, check_relations
from kneeload.errors import ConfigError

ENV_HOME = "KNEELOAD_HOME"


def resolve_home(home: str | Path | None = None) -> Path:
    """The home folder: the argument, else $KNEELOAD_HOME, else the user data dir."""
    if home:
        return Path(home).expanduser()
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("kneeload", appauthor=False))


def _t(default: Any, cite: str) -> Any:
    """A threshold field with its default and the RULES.md source."""
    return field(default=default, metadata={"cite": cite})


@dataclass(frozen=True)
class AthleteSettings:
    """Who the runner is; unset values are estimated from the data or defaulted."""

    sex: str | None = _t(None, "female/male; sets TRIMP constants (RULES L3, §8)")
    hr_max: float | None = _t(None, "bpm; unset = estimated from the data (RULES §1.5)")
    hr_rest: float | None = _t(None, "bpm; unset = 60 bpm, a conservative default")
    units: str = _t("km", "km or mi; human tables only, JSON is always SI")
    timezone: str | None = _t(None, "IANA name; only when a file has no offset/GPS")
    race_date: date | None = field(
        default=None,
        metadata={"cite": "YYYY-MM-DD; taper window D-21...D+7 (RULES §7)"},
    )
    race_distance: str | None = _t(None, "marathon, half, 10k, 5k or km (RULES §7)")


@dataclass(frozen=True)
class EmailSettings:
    """SMTP delivery of the weekly report; the password comes from the environment."""

    host: str | None = _t(None, "SMTP server")
    port: int = _t(587, "SMTP port")
    security: str = _t("starttls", "starttls, ssl or none")
    username: str | None = _t(None, "SMTP login")
    password_env: str = _t("KNEELOAD_SMTP_PASSWORD", "env variable with the password")
    sender: str | None = _t(None, "From: address")
    to: tuple[str, ...] = _t((), "default recipients")


_S3 = "RULES §3 (Hulin 2014; Lolli 2019; Williams 2017); grade C guards"


@dataclass(frozen=True)
class AcwrSettings:
    """Windows and gating shared by every ACWR variant (RULES §3, §9)."""

    acute_days: int = _t(7, _S3)
    chronic_days: int = _t(28, _S3)
    min_history_days: int = _t(28, "RULES §9: ACWR rolling 28 d")
    ewma_final_days: int = _t(42, "RULES §9: EWMA provisional 28 d, final 42 d")
    low_chronic_km_per_week: float = _t(10.0, "RULES §3: small denominators (C)")
    break_days: int = _t(14, "RULES §3: a break is >= 14 days without running")
    after_break_days: int = _t(28, "RULES §3: suppress 4 weeks after a break")


@dataclass(frozen=True)
class AcwrHighSettings:
    """R-ACWR high bands; never WARNING from ACWR alone."""

    info_above: float = _t(1.3, "RULES §3: Gabbett 2016 'sweet spot' upper bound")
    caution_above: float = _t(1.5, "RULES §3: Gabbett 2016 'danger zone' >= 1.5")


@dataclass(frozen=True)
class AcwrLowSettings:
    """R-ACWR low band (outside taper)."""

    info_below: float = _t(0.8, "RULES §3: Gabbett 2016 'sweet spot' lower bound")


@dataclass(frozen=True)
class SessionSpikeSettings:
    """R-SESSION-SPIKE: one run against the longest run of the prior 30 days."""

    caution_ratio: float = _t(1.10, "RULES §4: Frandsen 2025 (HRR 1.64 above 1.10)")
    warning_ratio: float = _t(2.00, "RULES §4: Frandsen 2025 (HRR 2.28 above 2.00)")
    window_days: int = _t(30, "RULES §4: prior 30 days")
    min_history_days: int = _t(30, "RULES §9: 30 d")
    min_runs: int = _t(2, "RULES §9: >= 2 runs in the window")


@dataclass(frozen=True)
class WeeklyRampSettings:
    """R-WEEKLY-RAMP: last 7 days against the 7 before; never flag 10-20 %."""

    info_pct: float = _t(20.0, "RULES §4: Damsted 2019 (+20-60 %)")
    caution_pct: float = _t(30.0, "RULES §4: Nielsen 2014 (> 30 %)")
    min_previous_km: float = _t(5.0, "RULES §4: noise guard (C)")
    min_increase_km: float = _t(5.0, "RULES §4: noise guard (C)")
    min_history_days: int = _t(14, "RULES §9: 14 d")


@dataclass(frozen=True)
class IntensityRampSettings:
    """R-INTENSITY: high-intensity minutes, hard sessions and share (all INFO)."""

    lthr_fraction: float = _t(0.85, "RULES L6: LTHR = rest + 0.85 HRR (Elevate)")
    hi_ratio: float = _t(1.5, "RULES §5: hi_min > 1.5 x 4-week mean (C)")
    hi_min_increase: float = _t(10.0, "RULES §5: and >= +10 min (C)")
    hard_session_min: float = _t(10.0, "RULES §5: hard = >= 10 high-intensity min")
    hard_sessions_above: int = _t(2, "RULES §5: hard sessions >= baseline + 2")
    hi_share: float = _t(0.25, "RULES §5: > 25 % two weeks running (coaching)")
    baseline_weeks: int = _t(4, "RULES §5: 4-week mean")


@dataclass(frozen=True)
class MonotonyHighSettings:
    """Foster monotony and strain over 7 days including rest days."""

    info_above: float = _t(2.0, "RULES L9: practitioner heuristic (Foster 1998 ~)")
    strain_percentile: float = _t(90.0, "RULES L9: own 90th percentile")
    strain_weeks: int = _t(12, "RULES L9: of the last 12 weeks")
    min_history_days: int = _t(7, "RULES §9: 7 complete days")


@dataclass(frozen=True)
class CadenceLowSettings:
    """R-CADENCE-LOW: individual speed model, else population heuristic."""

    base_spm: float = _t(160.0, "RULES §6.2: low(v) = 160 + 3 (v - 10) (C)")
    base_kmh: float = _t(10.0, "RULES §6.2: heuristic anchor speed")
    slope_spm_per_kmh: float = _t(3.0, "RULES §6.1: ~3 spm per km/h (C synthesis)")
    residual_pct: float = _t(-3.0, "RULES §6.2: residual < -3 % ...")
    consecutive_runs: int = _t(2, "RULES §6.2: ... on >= 2 consecutive runs")
    min_runs: int = _t(5, "RULES §9: individual model >= 5 runs")
    min_weeks: int = _t(3, "RULES §9: over >= 3 weeks")
    min_speed_bands: int = _t(2, "RULES §9: in >= 2 speed bands")
    speed_band_kmh: float = _t(1.0, "width of a speed band (C)")
    model_weeks: int = _t(12, "RULES §6.2: last 8-12 weeks")


@dataclass(frozen=True)
class CadenceSuggestSettings:
    """R-CADENCE-SUGGEST: +5-10 % at the same easy pace."""

    low_factor: float = _t(1.05, "RULES §6.3: Heiderscheit 2011 (+5 %)")
    high_factor: float = _t(1.10, "RULES §6.3: Lenhart 2014; Bramah 2019 (+10 %)")
    min_runs: int = _t(3, "runs with steady easy segments needed (C)")
    window_weeks: int = _t(4, "easy cadence from the last 4 weeks (C)")
    always: bool = _t(False, "RULES §6.3: opt in to the suggestion every week")


@dataclass(frozen=True)
class StepLengthUpSettings:
    """R-STEP-LENGTH: speed-matched step length above the own baseline."""

    info_pct: float = _t(5.0, "RULES §6.4: > 5 % above baseline (C); Willson 2014")


@dataclass(frozen=True)
class DescentRampSettings:
    """R-DESCENT: weekly and single-run downhill ramps (INFO)."""

    weekly_ratio: float = _t(1.5, "RULES §6.5: > 1.5 x 4-week mean (C)")
    min_increase_m: float = _t(300.0, "RULES §6.5: and >= +300 m (C)")
    baseline_weeks: int = _t(4, "RULES §6.5: 4-week mean")
    single_run_ratio: float = _t(2.0, "RULES §6.5: > 2 x largest of prior 30 d (C)")
    window_days: int = _t(30, "RULES §6.5: prior 30 days")


@dataclass(frozen=True)
class TaperSettings:
    """R-TAPER bands (RULES §7); the taper command reads these."""

    w3: tuple[float, ...] = _t((0.70, 0.90), "RULES §7: W-3/B band (C)")
    w2: tuple[float, ...] = _t((0.55, 0.80), "RULES §7: W-2/B band (C)")
    w1: tuple[float, ...] = _t((0.40, 0.60), "RULES §7: W-1/B band; Bosquet 2007")
    volume_over: float = _t(0.75, "RULES §7: W-1/B > 0.75 less reduction")
    volume_under: float = _t(0.30, "RULES §7: W-1/B < 0.30 very deep cut")
    relaxed_ratio: float = _t(1.05, "RULES §7: relaxed taper (Smyth 2021)")
    frequency_ratio: float = _t(0.8, "RULES §7: frequency cut > 20 % (Mujika 2003)")
    min_history_days: int = _t(49, "RULES §9: 49 d before race")
    window_before_days: int = _t(
        21, "RULES §7: taper window starts D-21 (mutes ACWR, monotony)"
    )
    window_after_days: int = _t(7, "RULES §7: taper window ends D+7")
    peak_weeks: int = _t(16, "RULES §1.6: peak week from the 16 weeks before")


@dataclass(frozen=True)
class KneeSettings:
    """The knee journey: pain words, the stage, its windows (RULES §12, §13)."""

    minimal_pain: int = _t(2, "RULES §12: 'minimal' pain, /10")
    manageable_pain: int = _t(3, "RULES §12: 'manageable' pain, /10 (heuristic)")
    clinician_pain: int = _t(5, "RULES §12: from this score 'see a clinician'")
    stage2_minutes: float = _t(15.0, "RULES §12: stage 2 needs a run of >= 15 min")
    stage3_minutes: float = _t(30.0, "RULES §12: stage 3 needs a run of >= 30 min")
    stage_window_days: int = _t(7, "RULES §12: the stage reads the last 7 days")
    pain_window_days: int = _t(28, "RULES §12, §13: knee pain noted in 28 days")
    strength_min_per_week: int = _t(2, "RULES §12: strength '2-3 a week' (low)")
    strength_max_per_week: int = _t(3, "RULES §12: strength '2-3 a week' (high)")
    descriptive_min_notes: int = _t(8, "RULES §12: pain-load notes need 8 notes")
    descent_split_m: float = _t(300.0, "RULES §12: descent split of pain-load notes")


@dataclass(frozen=True)
class ShoesSettings:
    """Shoes and surface as context of spikes and ramps (RULES §14)."""

    context_days: int = _t(14, "RULES §14: a pair first used 14 d before a flag")
    surface_change_pp: float = _t(30.0, "RULES §14: surface share change > 30 pp")
    surface_baseline_weeks: int = _t(4, "RULES §14: against the previous 4 weeks")


@dataclass(frozen=True)
class Thresholds:
    """Every threshold of RULES.md, grouped by rule id."""

    acwr: AcwrSettings = field(default_factory=AcwrSettings)
    acwr_high: AcwrHighSettings = field(default_factory=AcwrHighSettings)
    acwr_low: AcwrLowSettings = field(default_factory=AcwrLowSettings)
    session_spike: SessionSpikeSettings = field(default_factory=SessionSpikeSettings)
    weekly_ramp: WeeklyRampSettings = field(default_factory=WeeklyRampSettings)
    intensity_ramp: IntensityRampSettings = field(default_factory=IntensityRampSettings)
    monotony_high: MonotonyHighSettings = field(default_factory=MonotonyHighSettings)
    cadence_low: CadenceLowSettings = field(default_factory=CadenceLowSettings)
    cadence_suggest: CadenceSuggestSettings = field(
        default_factory=CadenceSuggestSettings
    )
    step_length_up: StepLengthUpSettings = field(default_factory=StepLengthUpSettings)
    descent_ramp: DescentRampSettings = field(default_factory=DescentRampSettings)
    taper: TaperSettings = field(default_factory=TaperSettings)
    knee: KneeSettings = field(default_factory=KneeSettings)
    shoes: ShoesSettings = field(default_factory=ShoesSettings)


@dataclass(frozen=True)
class Settings:
    """The effective configuration; ``file_keys`` lists dotted keys the file set."""

    athlete: AthleteSettings = field(default_factory=AthleteSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    path: Path | None = None
    file_keys: frozenset[str] = frozenset()


_CHOICES = {
    "athlete.sex": ("female", "male"),
    "athlete.units": ("km", "mi"),
    "email.security": ("starttls", "ssl", "none"),
}


def load_settings(path: Path) -> Settings:
    """Read ``kneeload.toml``; a missing file gives the defaults.

    Any problem is a :class:`ConfigError` naming the file and the key: not UTF-8,
    not TOML, an unknown key, a wrong type, a number out of its range
    (:data:`~kneeload.config_ranges.RANGES`, NaN never) or two settings that
    contradict each other (:data:`~kneeload.config_ranges.RELATIONS`, e.g.
    ``chronic_days`` not above ``acute_days``).
    """
    if not path.exists():
        return Settings(path=path)
    try:
        with path.open("rb") as fh:
            raw = fh.read()
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise ConfigError(str(path), "(file)", problem) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(file)", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(str(path), "(file)", f"cannot read: {exc}") from exc
    data = _moved_keys(data)
    keys: set[str] = set()
    built = _build(Settings, data, "", str(path), keys, skip={"path", "file_keys"})
    check_relations(built, keys, str(path))
    return dataclasses.replace(built, path=path, file_keys=frozenset(keys))


#: Keys that moved: old (table, key) -> new (table, key). The old spelling is
#: read until 0.2; when both are set the new one wins (CHANGELOG).
MOVED_KEYS: dict[tuple[str, str], tuple[str, str]] = {
    ("acwr", "taper_before_days"): ("taper", "window_before_days"),
    ("acwr", "taper_after_days"): ("taper", "window_after_days"),
}


def _moved_keys(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the old spellings of :data:`MOVED_KEYS` moved to the new."""
    thresholds = data.get("thresholds")
    if not isinstance(thresholds, dict):
        return data
    thresholds = {k: dict(v) if isinstance(v, dict) else v
                  for k, v in thresholds.items()}  # fmt: skip
    for (old_table, old_key), (new_table, new_key) in MOVED_KEYS.items():
        old = thresholds.get(old_table)
        if not isinstance(old, dict) or old_key not in old:
            continue
        value = old.pop(old_key)
        new = thresholds.setdefault(new_table, {})
        if isinstance(new, dict):
            new.setdefault(new_key, value)
    return {**data, "thresholds": thresholds}


def _build(
    cls: type, data: Any, prefix: str, path: str, keys: set[str], skip: set[str]
) -> Any:
    """Build dataclass ``cls`` from a TOML table, checking keys and types."""
    if not isinstance(data, dict):
        raise ConfigError(path, prefix.rstrip(".") or "(file)", "must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)} - skip
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = prefix + key
        if key not in names:
            raise ConfigError(path, dotted, "unknown key")
        hint = hints[key]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value, dotted + ".", path, keys, set())
        else:
            kwargs[key] = _coerce(value, hint, path, dotted)
            _check_range(kwargs[key], defaults.get(key), path, dotted)
            check_bounds(kwargs[key], path, dotted)
            keys.add(dotted)
    return cls(**kwargs)


def _check_range(value: Any, default: Any, path: str, key: str) -> None:
    """A list setting keeps the length of its default; a pair is [low, high]."""
    if not isinstance(default, tuple) or not default:
        return  # not a list, or a free-length one (email recipients)
    if len(value) != len(default):
        raise ConfigError(path, key, f"must be a list of {len(default)} numbers")
    if len(value) == 2 and value[0] > value[1]:
        raise ConfigError(path, key, "must be [low, high] with low <= high")


def _coerce(value: Any, hint: Any, path: str, key: str) -> Any:
    """Check one scalar against its annotated type; return the stored value."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType):  # X | None: TOML has no null
        hint = next(a for a in args if a is not type(None))
    out = _scalar(value, hint, path, key)
    if key in _CHOICES and out not in _CHOICES[key]:
        raise ConfigError(path, key, f"must be one of {', '.join(_CHOICES[key])}")
    if key == "athlete.timezone":
        try:
            ZoneInfo(out)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(path, key, f"unknown time zone {out!r}") from exc
    return out


def _scalar(value: Any, hint: Any, path: str, key: str) -> Any:
    """Coerce one TOML value to ``hint`` or raise ConfigError."""
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ConfigError(path, key, "must be a list")
        return tuple(_scalar(v, item, path, key) for v in value)
    if hint is bool and isinstance(value, bool):
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    if hint is date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(path, key, "must be a date YYYY-MM-DD")
    raise ConfigError(path, key, f"must be {_type_name(hint)}, got {value!r}")


def _type_name(hint: Any) -> str:
    return {
        float: "a number",
        int: "an integer",
        str: "a string",
        bool: "true or false",
    }.get(hint, str(hint))


def render_config_toml(settings: Settings, *, commented: bool) -> str:
    """TOML text: a commented template (``config init``) or effective values."""
    lines = [
        "# kneeload configuration. Every threshold is a configurable default from",
        "# RULES.md, not a clinical cut-off. Secrets never go here.",
    ]
    for section in ("athlete", "email"):
        lines += ["", f"[{section}]"]
        lines += _render_table(getattr(settings, section), section, settings, commented)
    for f in dataclasses.fields(Thresholds):
        prefix = f"thresholds.{f.name}"
        table = getattr(settings.thresholds, f.name)
        lines += ["", f"[{prefix}]", f"# {type(table).__doc__}"]
        lines += _render_table(table, prefix, settings, commented)
    return "\n".join(lines) + "\n"


def settings_json(settings: Settings) -> dict[str, Any]:
    """Every setting by dotted key: value, default, source and citation."""
    tables: list[tuple[str, Any]] = [
        ("athlete", settings.athlete),
        ("email", settings.email),
    ]
    tables += [
        (f"thresholds.{f.name}", getattr(settings.thresholds, f.name))
        for f in dataclasses.fields(Thresholds)
    ]
    out: dict[str, Any] = {"path": str(settings.path) if settings.path else None}
    for prefix, table in tables:
        defaults = type(table)()
        for f in dataclasses.fields(table):
            key = f"{prefix}.{f.name}"
            out[key] = {
                "value": _json_value(getattr(table, f.name)),
                "default": _json_value(getattr(defaults, f.name)),
                "source": "file" if key in settings.file_keys else "default",
                "citation": f.metadata.get("cite", ""),
            }
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _render_table(obj: Any, prefix: str, settings: Settings, commented: bool) -> list:
    """One TOML table, each key with its default, source and citation."""
    out = []
    defaults = type(obj)()
    for f in dataclasses.fields(obj):
        cite = f.metadata.get("cite", "")
        value = getattr(obj, f.name)
        default = _toml_value(getattr(defaults, f.name))
        if commented:
            out.append(f"# {f.name} = {default}    # {cite}")
            continue
        source = "file" if f"{prefix}.{f.name}" in settings.file_keys else "default"
        text = f"{f.name} = {_toml_value(value)}"
        if value is None:
            text = f"# {f.name} = (unset)"
        out.append(f"{text}    # {source}; {cite}")
    return out


def _toml_value(value: Any) -> str:
    """Format a Python value as a TOML literal."""
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)
