"""Render the report's ``Document`` as plain text or as email-safe HTML.

Both renderers walk the same tree (:func:`kneeload.report.sections.build_document`),
so the text and the HTML say the same things by construction.

The HTML is built the way mail templates that survive Gmail, Outlook and Apple
Mail are: nested ``role="presentation"`` tables, one column at most 640 px wide,
every style inline on its element (no ``<style>`` block, no classes), images
``width="100%"`` with an inline ``max-width`` and ``height:auto``, severity shown
by colour, a word and an icon, explicit text and background colours on every
block (so a client's dark mode inverts them consistently), a viewport meta tag
and a hidden preheader. HTML images are either embedded as ``data:`` URIs (the
report file) or referenced as ``cid:`` (the email, whose image parts carry the
matching Content-ID).
"""

from __future__ import annotations

import base64
import html
import textwrap
from collections.abc import Mapping

from kneeload.report.model import (
    Block,
    Bullets,
    Document,
    FlagBox,
    Image,
    Paragraph,
    Section,
    Table,
)
from kneeload.report.sections import (
    CHART_CAPTIONS,
    build_document,
    flag_heading,
    flag_numbers,
    week_title,
)
from kneeload.report.weekly import WeeklyReport

__all__ = [
    "CHART_CAPTIONS",
    "SEVERITY_STYLE",
    "document_html",
    "document_text",
    "flag_heading",
    "flag_numbers",
    "render_html",
    "render_text",
    "week_title",
]

WIDTH = 78
MAX_WIDTH_PX = 640
FONT = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
TEXT = "#1f2328"
MUTED = "#4a5058"
PAGE_BG = "#ffffff"
#: Per severity: word, icon, bar colour, text colour, background tint. The word and
#: the icon carry the meaning; the colours (Okabe-Ito hues) only repeat it.
SEVERITY_STYLE: dict[str, tuple[str, str, str, str, str]] = {
    "warning": ("Warning", "\u2716", "#D55E00", "#8f3a00", "#fbe9df"),
    "caution": ("Caution", "\u26a0", "#E69F00", "#6e4a00", "#fdf3dc"),
    "info": ("Note", "\u2139", "#0072B2", "#00507d", "#e6f1f8"),
}


# ----------------------------------------------------------------------- text


def _wrap(text: str, indent: str = "  ", rest: str | None = None) -> list[str]:
    lines = textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent if rest is None else rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return lines or [indent]


def _block_text(block: Block) -> list[str]:
    if isinstance(block, Table):
        return [f"  {label + ':':<18} {value}" for label, value in block.rows]
    if isinstance(block, Paragraph):
        return _wrap(block.text)
    if isinstance(block, FlagBox):
        out = [f"- {block.heading}"]
        for line in block.lines:
            out += _wrap(line)
        for src in block.sources:
            out += _wrap(src, "    ")
        return out
    if isinstance(block, Image):
        return _wrap(f"Chart: {block.caption} ({block.name}.png)")
    out = []
    for item in block.items:
        out += _wrap(item.text, "  - ", "    ")
    return out


def _gap_before(block: Block, previous: Block | None) -> bool:
    if previous is None:
        return False
    if isinstance(block, FlagBox):
        return True
    if isinstance(block, Paragraph) and block.small:
        return True
    return type(block) is not type(previous)


def _section_text(section: Section) -> list[str]:
    out = [section.heading.upper()]
    previous: Block | None = None
    for block in section.blocks:
        if _gap_before(block, previous) or (
            previous is None and isinstance(block, FlagBox)
        ):
            out.append("")
        out += _block_text(block)
        previous = block
    return out


def document_text(doc: Document) -> str:
    """The document as plain text, 78 columns."""
    out = [f"{doc.title} — {doc.subtitle}", ""]
    for section in doc.sections:
        out += [*_section_text(section), ""]
    out += [*_wrap(doc.footer, ""), ""]
    return "\n".join(out)


def render_text(report: WeeklyReport) -> str:
    """The report as plain text (the email's text part and report.txt), 78 columns."""
    return document_text(build_document(report))


# ----------------------------------------------------------------------- HTML

_E = html.escape
_P = f"margin:0 0 10px 0;font-family:{FONT};font-size:16px;line-height:1.45;"
_SMALL = f"margin:0 0 10px 0;font-family:{FONT};font-size:14px;line-height:1.4;"
_WRAP = "overflow-wrap:anywhere;word-wrap:break-word;word-break:break-word;"
_TABLE = 'role="presentation" cellpadding="0" cellspacing="0" border="0"'


def _style(*parts: str) -> str:
    return "".join(parts)


def _para(
    text: str, *, small: bool = False, colour: str = TEXT, gap: str = "10px"
) -> str:
    css = _style(_SMALL if small else _P, f"color:{colour};margin-bottom:{gap};", _WRAP)
    return f'<p style="{css}">{_E(text)}</p>'


def _table_html(block: Table) -> str:
    cell = f"padding:3px 0;font-family:{FONT};font-size:16px;line-height:1.35;"
    rows = "".join(
        f'<tr><td valign="top" style="{cell}color:{MUTED};width:42%;'
        f'padding-right:10px;">{_E(k)}</td>'
        f'<td valign="top" style="{cell}color:{TEXT};font-weight:bold;{_WRAP}">'
        f"{_E(v)}</td></tr>"
        for k, v in block.rows
    )
    return (
        f'<table {_TABLE} width="100%" style="width:100%;border-collapse:collapse;'
        f'margin:0 0 10px 0;">{rows}</table>'
    )


def _flag_html(block: FlagBox) -> str:
    word, icon, bar, ink, tint = SEVERITY_STYLE.get(
        block.severity, SEVERITY_STYLE["info"]
    )
    head_css = (
        f"margin:0 0 6px 0;font-family:{FONT};font-size:16px;line-height:1.35;"
        f"font-weight:bold;color:{ink};{_WRAP}"
    )
    del word  # the heading starts with it (sections.flag_heading)
    heading = _E(block.heading)
    lines = "".join(_para(line) for line in block.lines)
    sources = "".join(
        _para(s, small=True, colour=MUTED, gap="4px") for s in block.sources
    )
    return (
        f'<table {_TABLE} width="100%" style="width:100%;border-collapse:collapse;'
        f'margin:0 0 12px 0;"><tr><td data-severity="{_E(block.severity)}" '
        f'bgcolor="{tint}" style="background-color:{tint};'
        f"border-left:6px solid {bar};padding:10px 12px;color:{TEXT};"
        f'"><p style="{head_css}"><span aria-hidden="true">{icon}</span> '
        f"{heading}</p>{lines}{sources}</td></tr></table>"
    )


def _image_html(block: Image, images: Mapping[str, str]) -> str:
    src = images.get(block.name)
    if src is None:
        return ""
    return (
        f'<p style="margin:0 0 14px 0;"><img src="{_E(src)}" alt="{_E(block.caption)}"'
        f' width="100%" style="display:block;width:100%;max-width:100%;'
        f'height:auto;border:0;outline:none;text-decoration:none;"></p>'
    )


def _bullets_html(block: Bullets) -> str:
    css = _style(
        _SMALL if block.small else _P,
        f"color:{MUTED if block.small else TEXT};margin:0 0 6px 0;",
        _WRAP,
    )
    items = "".join(
        f'<li style="{css}">{_E(b.short or b.text)}</li>' for b in block.items
    )
    return f'<ul style="margin:0 0 10px 0;padding:0 0 0 20px;">{items}</ul>'


def _block_html(block: Block, images: Mapping[str, str]) -> str:
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, Paragraph):
        colour = MUTED if block.small else TEXT
        return _para(block.text, small=block.small, colour=colour)
    if isinstance(block, FlagBox):
        return _flag_html(block)
    if isinstance(block, Image):
        return _image_html(block, images)
    return _bullets_html(block)


def _row(inner: str, *, padding: str = "0 16px") -> str:
    return (
        f'<tr><td bgcolor="{PAGE_BG}" style="background-color:{PAGE_BG};'
        f'padding:{padding};color:{TEXT};">{inner}</td></tr>'
    )


def _section_html(section: Section, images: Mapping[str, str]) -> str:
    h2 = (
        f"margin:18px 0 8px 0;font-family:{FONT};font-size:19px;line-height:1.3;"
        f"font-weight:bold;color:{TEXT};"
    )
    body = "".join(_block_html(b, images) for b in section.blocks)
    return _row(
        f'<h2 data-section="{_E(section.key)}" style="{h2}">{_E(section.heading)}</h2>'
        + body
    )


def document_html(doc: Document, images: Mapping[str, str]) -> str:
    """The document as one email-safe HTML page; ``images`` maps chart name → src."""
    h1 = (
        f"margin:16px 0 4px 0;font-family:{FONT};font-size:22px;line-height:1.25;"
        f"font-weight:bold;color:{TEXT};"
    )
    pre = (
        "display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;"
        f"opacity:0;overflow:hidden;mso-hide:all;color:{PAGE_BG};"
    )
    rows = [
        _row(
            f'<h1 style="{h1}">{_E(doc.title)}</h1>' + _para(doc.subtitle, colour=MUTED)
        ),
        *(_section_html(s, images) for s in doc.sections),
        _row(
            f'<p style="{_SMALL}color:{MUTED};border-top:1px solid #c9ccd1;'
            f'padding-top:8px;margin-top:18px;">{_E(doc.footer)}</p>',
            padding="0 16px 16px 16px",
        ),
    ]
    inner = (
        f'<table {_TABLE} width="100%" style="width:100%;max-width:{MAX_WIDTH_PX}px;'
        f'border-collapse:collapse;background-color:{PAGE_BG};" bgcolor="{PAGE_BG}">'
        + "\n".join(rows)
        + "</table>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        '<meta name="supported-color-schemes" content="light">'
        f"<title>{_E(doc.title)} — {_E(doc.subtitle)}</title></head>"
        f'<body style="margin:0;padding:0;width:100%;background-color:{PAGE_BG};'
        f'color:{TEXT};">\n'
        f'<div style="{pre}">{_E(doc.preheader)}</div>\n'
        f'<table {_TABLE} width="100%" style="width:100%;border-collapse:collapse;'
        f'background-color:{PAGE_BG};" bgcolor="{PAGE_BG}"><tr><td align="center" '
        f'style="padding:0;">\n{inner}\n</td></tr></table>\n</body></html>\n'
    )


def render_html(
    report: WeeklyReport, images: Mapping[str, bytes], *, embed: bool = True
) -> str:
    """The report as one HTML page; ``embed=False`` refers to images by ``cid:``.

    ``images`` maps a chart name (``weekly_km``, or a Content-ID such as
    ``weekly_km@kneeload``) to its PNG bytes; only charts given are shown.
    """
    srcs: dict[str, str] = {}
    for key, png in images.items():
        name = key.split("@")[0]
        srcs[name] = (
            "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            if embed
            else f"cid:{key}"
        )
    doc = build_document(report, frozenset(srcs))
    return document_html(doc, srcs)
