"""Knee-pain notes kept in the home folder, and the knee-aware taper advice.

Notes live in ``notes.json`` next to the store: ``{"knee_pain": [{"date":
"YYYY-MM-DD", "score": 0-10}, ...]}``, one score per day (a new note for the same
day replaces the old one). ``kneeload taper --knee-pain N`` records one; the advice
follows RULES §7 (cut volume and downhill before all intensity) and §8 (lower-impact
options, "choose what is pain-free", a clinician if pain persists).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kneeload.analysis.evidence import Evidence
from kneeload.errors import ConfigError

NOTES_FILENAME = "notes.json"

ESCULIER_2018 = Evidence(
    "Esculier et al. 2018, Is combining gait retraining or an exercise programme "
    "with education better than education alone in treating runners with PFP? "
    "(RCT, 69 runners), BJSM 52:659-666, doi:10.1136/bjsports-2016-096988",
    "A",
)
COLLINS_2018 = Evidence(
    "Collins et al. 2018, 2018 consensus statement on exercise therapy and "
    "physical interventions for patellofemoral pain, BJSM 52:1170",
    "B",
)


@dataclass(frozen=True)
class KneePainNote:
    """A knee-pain score (0 none … 10 worst) on one local day."""

    day: date
    score: int

    def to_json(self) -> dict[str, Any]:
        """``{"date", "score"}``."""
        return {"date": self.day.isoformat(), "score": self.score}


def notes_path(home: Path) -> Path:
    """The notes file of a home folder."""
    return Path(home) / NOTES_FILENAME


def load_knee_pain(home: Path) -> list[KneePainNote]:
    """All knee-pain notes of ``home``, oldest first ([] when there is no file)."""
    path = notes_path(home)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        notes = [
            KneePainNote(date.fromisoformat(n["date"]), int(n["score"]))
            for n in data.get("knee_pain", [])
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(str(path), "knee_pain", f"unreadable notes: {exc}") from exc
    return sorted(notes, key=lambda n: n.day)


def add_knee_pain(home: Path, day: date, score: int) -> KneePainNote:
    """Record a knee-pain score for ``day`` (replacing that day's earlier note)."""
    if not 0 <= score <= 10:
        raise ValueError(f"knee pain score must be 0-10, got {score}")
    note = KneePainNote(day, score)
    kept = [n for n in load_knee_pain(home) if n.day != day] + [note]
    kept.sort(key=lambda n: n.day)
    path = notes_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"knee_pain": [n.to_json() for n in kept]}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return note


def latest_knee_pain(
    notes: list[KneePainNote], *, start: date, end: date
) -> KneePainNote | None:
    """The latest note between ``start`` and ``end`` if it reports pain.

    A later score of 0 means the pain has gone, so earlier pain no longer counts.
    """
    inside = [n for n in notes if start <= n.day <= end]
    if not inside:
        return None
    latest = max(inside, key=lambda n: n.day)
    return latest if latest.score >= 1 else None


@dataclass(frozen=True)
class KneeAdvice:
    """Knee-aware taper advice for a noted pain score."""

    note: KneePainNote
    message: str
    evidence: tuple[Evidence, ...] = (ESCULIER_2018, COLLINS_2018)

    def to_json(self) -> dict[str, Any]:
        """``{"pain", "date", "message", "evidence"}``."""
        return {
            "pain": self.note.score,
            "date": self.note.day.isoformat(),
            "message": self.message,
            "evidence": [e.to_json() for e in self.evidence],
        }


def knee_taper_advice(note: KneePainNote) -> KneeAdvice:
    """What to change in a taper when knee pain is noted (RULES §7, §8)."""
    message = (
        f"Knee pain noted ({note.score}/10 on {note.day.isoformat()}). During a "
        "taper, cut volume and downhill running first, before cutting all "
        "intensity: short, controlled faster efforts on flat ground can stay if "
        "they are pain-free. Lower-impact options such as swimming, deep-water "
        "running, the elliptical or cycling can replace some runs; choose what is "
        "pain-free. A common clinical heuristic (not a validated rule) keeps "
        "running pain at or below 2/10 and not worse the next day. If the pain "
        "persists, or with swelling, locking, giving way or night pain, see a "
        "clinician."
    )
    return KneeAdvice(note, message)
