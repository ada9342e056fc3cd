"""Shared fixtures: the real-device files folder, a fresh home, the CLI runner."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
REAL_DIR = REPO.parent / "shared" / "real_activities"
SAMPLE_DIR = REPO / "sample_activities"


def real_dir_or_skip() -> Path:
    """The shared real-activity folder, or skip the test when it is absent."""
    if not (REAL_DIR / "MANIFEST.tsv").exists():
        pytest.skip(f"real device files not found at {REAL_DIR} (shared/ absent)")
    return REAL_DIR


def manifest_rows() -> list[dict[str, str]]:
    """Rows of MANIFEST.tsv, or [] when the folder is absent."""
    path = REAL_DIR / "MANIFEST.tsv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture
def real_dir() -> Path:
    """The shared real-activity folder (skips when absent)."""
    return real_dir_or_skip()


@pytest.fixture(scope="session")
def story() -> dict:
    """sample_activities/index.toml: the training story with its dates."""
    import tomllib

    index = SAMPLE_DIR / "index.toml"
    if not index.exists():
        pytest.skip(f"sample block not generated yet ({index} missing)")
    with index.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty kneeload home folder."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def strict_json(text: str) -> object:
    """Parse JSON as strict parsers do: NaN and Infinity are errors."""
    import json

    def refuse(constant: str) -> object:
        raise ValueError(f"invalid JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)
