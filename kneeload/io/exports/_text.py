"""Text from an export's own fields (names, gear), made safe to show on one line."""

from __future__ import annotations

from kneeload.io.sources import escape_controls


def one_line(text: str | None) -> str | None:
    """``text`` on one line (whitespace runs as one space, controls escaped) or None."""
    if text is None:
        return None
    joined = " ".join(text.split())
    return escape_controls(joined) or None
