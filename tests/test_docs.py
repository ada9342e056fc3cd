"""The specs in docs/ stay true to the code.

- Every ``RULES §N`` / ``RULES §N.M`` / ``RULES Ln`` cited in the package, the
  README, CHANGELOG.md or docs/INTERFACE.md is a heading of docs/RULES.md.
- Every ``thresholds.*`` key of the config is in a docs/RULES.md table with its
  default; every ``athlete.*`` / ``email.*`` key is in a docs/INTERFACE.md table
  with its default; no table names a key the config does not have.
- Every command and long option of the click tree is named in docs/INTERFACE.md.
- Relative links in README.md and docs/*.md point at files that exist.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from kneeload.cli import cli
from kneeload.config import Settings, settings_json

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "RULES.md"
INTERFACE = ROOT / "docs" / "INTERFACE.md"

#: A RULES heading: "## 3. R-ACWR …", "### 1.4 Sport …", "### L3 Banister …".
_HEADING = re.compile(r"^#{2,4}\s+(?:§\s*)?(\d+(?:\.\d+)?|L\d+)\b", re.MULTILINE)
_REF = r"(?:§\s*\d+(?:\.\d+)?|L\d+)"
#: "RULES §3", "RULES §6.2", "RULES L3, §8", "RULES §2-§5", "RULES.md §7 / §9".
_CITATION = re.compile(
    rf"RULES(?:\.md)?\s+({_REF}(?:\s*(?:,|-|\u2013|/|and|&)\s*{_REF})*)"
)
_ONE_REF = re.compile(r"§\s*(\d+(?:\.\d+)?)|(L\d+)")
#: A table row whose first cell is a backticked dotted config key.
_KEY_ROW = re.compile(r"^\|\s*`([a-z_]+(?:\.[a-z0-9_]+)+)`\s*\|\s*([^|]*?)\s*\|", re.M)


def rules_sections(text: str) -> set[str]:
    """Section ids of RULES.md headings: '3', '1.4', 'L3'."""
    return {m.group(1) for m in _HEADING.finditer(text)}


def cited_sections(text: str) -> set[str]:
    """Section ids cited as ``RULES §N(.M)`` or ``RULES Ln`` (chains included)."""
    found = set()
    for match in _CITATION.finditer(text):
        for ref in _ONE_REF.finditer(match.group(1)):
            found.add(ref.group(1) or ref.group(2))
    return found


def _cited_files() -> Iterator[Path]:
    yield from sorted((ROOT / "kneeload").rglob("*.py"))
    for name in ("README.md", "CHANGELOG.md", "docs/INTERFACE.md"):
        if (ROOT / name).exists():
            yield ROOT / name


def test_citation_parser_reads_every_form() -> None:
    """The parser finds single, dotted, chained and metric citations."""
    text = (
        "(RULES §3, §9) RULES §6.2/§6.3; RULES §2-§5. RULES L3, §8 "
        "RULES.md §1.4 and RULES §12."
    )
    assert cited_sections(text) == {
        "3", "9", "6.2", "6.3", "2", "5", "L3", "8", "1.4", "12",
    }  # fmt: skip
    assert cited_sections("no rules here § 4") == set()


def test_heading_parser() -> None:
    """Numbered, dotted and L headings count; body text does not."""
    text = "## 3. R-ACWR\n### 1.4 Sport\n### L3 Banister\n## 11. References\n§7 text"
    assert rules_sections(text) == {"3", "1.4", "L3", "11"}


def test_rules_has_every_section_of_the_reference() -> None:
    """§0-§14, the §1 and §6 subsections and L1-L9 all exist."""
    sections = rules_sections(RULES.read_text(encoding="utf-8"))
    expected = {str(n) for n in range(15)}
    expected |= {f"1.{n}" for n in range(1, 7)} | {f"6.{n}" for n in range(1, 6)}
    expected |= {f"L{n}" for n in range(1, 10)}
    assert expected <= sections, sorted(expected - sections)


def test_every_cited_section_exists() -> None:
    """Each RULES citation in code, README, CHANGELOG and INTERFACE resolves."""
    sections = rules_sections(RULES.read_text(encoding="utf-8"))
    missing = []
    for path in _cited_files():
        cited = cited_sections(path.read_text(encoding="utf-8"))
        missing += [f"{path.relative_to(ROOT)}: §{s}" for s in cited - sections]
    assert not missing, "cited but not a heading of docs/RULES.md: " + str(missing)


def test_the_code_cites_rules() -> None:
    """The citation scan really reads the package (guards against an empty scan)."""
    cited = set().union(
        *(cited_sections(p.read_text(encoding="utf-8")) for p in _cited_files())
    )
    assert {"3", "4", "7", "L3"} <= cited


def _parse_cell(cell: str) -> Any:
    """A documented default: 'unset', a number, "text", or a [list]."""
    cell = cell.strip()
    if cell == "unset":
        return None
    if cell in ("true", "false"):
        return cell == "true"
    if cell.startswith(("[", '"')):
        return json.loads(cell)
    try:
        return float(cell)
    except ValueError:
        return cell


def _same(documented: Any, default: Any) -> bool:
    if isinstance(default, (list, tuple)):
        return (
            isinstance(documented, list)
            and len(documented) == len(default)
            and all(_same(d, v) for d, v in zip(documented, default, strict=True))
        )
    if isinstance(default, bool) or default is None:
        return documented is default
    if isinstance(default, (int, float)):
        return isinstance(documented, float) and math.isclose(documented, default)
    return documented == default


def documented_defaults(text: str) -> dict[str, list[str]]:
    """Every ``| `key` | default |`` row of a markdown file, by key."""
    rows: dict[str, list[str]] = {}
    for match in _KEY_ROW.finditer(text):
        rows.setdefault(match.group(1), []).append(match.group(2))
    return rows


def _config_defaults() -> dict[str, Any]:
    doc = settings_json(Settings())
    return {k: v["default"] for k, v in doc.items() if k != "path"}


def test_default_parser() -> None:
    """Rows are found and cells compare by value, so a drift is caught."""
    text = "| `thresholds.a.b` | 1.10 | x |\n| `thresholds.a.c` | [0.70, 0.90] | y |\n"
    rows = documented_defaults(text)
    assert rows == {"thresholds.a.b": ["1.10"], "thresholds.a.c": ["[0.70, 0.90]"]}
    assert _same(_parse_cell("1.10"), 1.1)
    assert not _same(_parse_cell("1.10"), 1.2)
    assert _same(_parse_cell("[0.70, 0.90]"), [0.7, 0.9])
    assert not _same(_parse_cell("[0.70, 0.90]"), [0.7, 0.95])
    assert _same(_parse_cell("unset"), None) and _same(_parse_cell('"km"'), "km")
    assert _same(_parse_cell("[]"), [])
    assert _same(_parse_cell("false"), False) and not _same(_parse_cell("0"), False)


@pytest.mark.parametrize(
    ("doc", "prefixes"),
    [(RULES, ("thresholds.",)), (INTERFACE, ("athlete.", "email."))],
    ids=["RULES-thresholds", "INTERFACE-athlete-email"],
)
def test_every_config_key_is_documented_with_its_default(
    doc: Path, prefixes: tuple[str, ...]
) -> None:
    """A key added, renamed or re-defaulted in config.py must be updated here."""
    defaults = {k: v for k, v in _config_defaults().items() if k.startswith(prefixes)}
    rows = documented_defaults(doc.read_text(encoding="utf-8"))
    problems = []
    for key, default in defaults.items():
        if key not in rows:
            problems.append(f"{key}: no row '| `{key}` | {default} | ... |'")
            continue
        problems += [
            f"{key}: documented {cell!r}, config default {default!r}"
            for cell in rows[key]
            if not _same(_parse_cell(cell), default)
        ]
    assert not problems, f"{doc.relative_to(ROOT)} out of date: {problems}"


def test_no_documented_key_is_stale() -> None:
    """Every key in a docs table exists in the config (renames are caught)."""
    defaults = _config_defaults()
    stale = [
        f"{doc.name}: {key}"
        for doc in (RULES, INTERFACE)
        for key in documented_defaults(doc.read_text(encoding="utf-8"))
        if key.startswith(("thresholds.", "athlete.", "email.")) and key not in defaults
    ]
    assert not stale, f"documented keys the config does not have: {stale}"


def _commands(group: click.Command, prefix: str) -> Iterator[tuple[str, click.Command]]:
    yield prefix, group
    if isinstance(group, click.Group):
        for name, sub in sorted(group.commands.items()):
            if not sub.hidden:
                yield from _commands(sub, f"{prefix} {name}")


def test_command_walk_finds_the_tree() -> None:
    """The walk sees nested groups (config show) and plain commands."""
    names = {name for name, _ in _commands(cli, "kneeload")}
    assert {"kneeload check", "kneeload config show", "kneeload ingest"} <= names


def test_every_command_and_option_is_in_interface() -> None:
    """Each `kneeload …` command path and each of its long options is documented."""
    text = INTERFACE.read_text(encoding="utf-8")
    missing = []
    for name, command in _commands(cli, "kneeload"):
        if f"`{name}" not in text:
            missing.append(name)
        for param in command.params:
            for opt in getattr(param, "opts", []):
                skip = not opt.startswith("--") or opt in ("--help", "--version")
                if not skip and f"`{opt}" not in text:
                    missing.append(f"{name} {opt}")
    assert not missing, f"not in docs/INTERFACE.md: {missing}"


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize(
    "doc", ["README.md", "docs/RULES.md", "docs/INTERFACE.md", "CHANGELOG.md"]
)
def test_relative_links_resolve(doc: str) -> None:
    """A markdown link to a file in the repo points at a file that exists."""
    path = ROOT / doc
    if not path.exists():
        pytest.skip(f"{doc} not written yet")
    broken = [
        target
        for target in _LINK.findall(path.read_text(encoding="utf-8"))
        if "://" not in target and not (path.parent / target).exists()
    ]
    assert not broken, f"{doc}: broken links {broken}"


#: A row of the RULES.md rule index: | `id` | name | §N | `[thresholds.x]` | tags |
_INDEX_ROW = re.compile(
    r"^\|\s*`([a-z_]+)`\s*\|([^|]*)\|([^|]*)\|\s*`\[([a-z_.]+)\]`\s*\|([^|]*)\|",
    re.MULTILINE,
)


def test_rule_index_is_the_registry() -> None:
    """docs/RULES.md lists every registered rule with its name, section and tags."""
    from kneeload.analysis.registry import describe

    rows = {
        m.group(1): (
            m.group(2).strip(),
            m.group(3).strip(),
            m.group(4),
            {t.strip() for t in m.group(5).split(",") if t.strip()},
        )
        for m in _INDEX_ROW.finditer(RULES.read_text(encoding="utf-8"))
    }
    registered = describe()
    assert len(registered) >= 13
    problems = []
    for r in registered:
        want = (
            r["name"],
            r["cite"].removeprefix("RULES "),
            r["section"],
            set(r["tags"]),
        )
        if rows.get(r["id"]) != want:
            problems.append(
                f"{r['id']}: documented {rows.get(r['id'])}, registry {want}"
            )
    stale = sorted(set(rows) - {r["id"] for r in registered})
    assert not problems and not stale, (problems, stale)


def test_json_fields_are_in_interface() -> None:
    """The activities and ingest JSON fields the code writes are all documented."""
    from kneeload.history import JSON_FIELDS
    from kneeload.ingest import IngestReport

    text = INTERFACE.read_text(encoding="utf-8")
    fields = [name for name, _ in JSON_FIELDS] + list(IngestReport().to_json())
    missing = [f for f in fields if f'"{f}"' not in text]
    assert not missing, f"JSON fields not in docs/INTERFACE.md: {missing}"


def test_rule_ids_are_in_interface() -> None:
    """The flag section of INTERFACE names every registered rule id."""
    from kneeload.analysis.registry import RULES as REGISTERED

    text = INTERFACE.read_text(encoding="utf-8")
    missing = [r.id for r in REGISTERED if f"`{r.id}`" not in text]
    assert not missing, f"rule ids not in docs/INTERFACE.md: {missing}"


def test_every_documented_command_exists() -> None:
    """Each '### `kneeload …`' heading of INTERFACE names a real command."""
    known = {name for name, _ in _commands(cli, "kneeload")}
    headings = re.findall(
        r"^### `(kneeload[^`]*)`", INTERFACE.read_text(encoding="utf-8"), re.M
    )
    assert len(headings) >= 10
    stale = []
    for heading in headings:
        words = [w for w in heading.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
        if " ".join(words) not in known:
            stale.append(heading)
    assert not stale, f"documented commands that do not exist: {stale}"
