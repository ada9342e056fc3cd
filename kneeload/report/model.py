"""The report as a small tree of sections, built once and rendered twice.

``kneeload.report.sections.build_document`` turns a ``WeeklyReport`` into a
``Document``; ``kneeload.report.render`` renders that same tree as plain text and
as email-safe HTML, so the two say the same things by construction. The only
difference allowed is a ``Bullet.short`` form (e.g. a file name instead of its
full path) that the HTML shows where a long line would not fit a phone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paragraph:
    """A sentence or a few; ``small`` for caveats, sources and side notes."""

    text: str
    small: bool = False


@dataclass(frozen=True)
class Table:
    """Label / value rows (the week in numbers)."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FlagBox:
    """One flag: severity (info, caution, warning), heading, lines and sources."""

    severity: str
    heading: str
    lines: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bullet:
    """A list item; ``short`` replaces ``text`` in the HTML when given."""

    text: str
    short: str | None = None


@dataclass(frozen=True)
class Bullets:
    """A list of items (files, notes)."""

    items: tuple[Bullet, ...]
    small: bool = False


@dataclass(frozen=True)
class Image:
    """A chart: ``name`` is its file stem (``weekly_km`` → ``weekly_km.png``)."""

    name: str
    caption: str


Block = Paragraph | Table | FlagBox | Bullets | Image


@dataclass(frozen=True)
class Section:
    """A heading and its blocks; ``key`` names the section for tests and hooks."""

    key: str
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """The whole report: title, week line, preheader, sections, footer."""

    title: str
    subtitle: str
    preheader: str
    sections: tuple[Section, ...]
    footer: str

    def section(self, key: str) -> Section | None:
        """The section called ``key``, or None."""
        return next((s for s in self.sections if s.key == key), None)

    @property
    def images(self) -> tuple[Image, ...]:
        """Every chart in document order."""
        return tuple(b for s in self.sections for b in s.blocks if isinstance(b, Image))
