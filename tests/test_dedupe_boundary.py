"""The dedupe thresholds pinned at their boundaries (issue 8 item 5 mutation tests).

Two recordings are one run when they start within DEDUPE_START_S (120 s) and their
spans overlap by >= DEDUPE_OVERLAP (90 %) of the longer one. Each case below is
computed by hand; moving either threshold (e.g. 0.90 -> 0.50 or -> 0.95, 120 s ->
60 s) changes one of the outcomes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_store import _activity, _result

from kneeload.store import Store, overlap_share

T0 = 1.0e9


def _second_is_duplicate(tmp_path: Path, start: float, elapsed: float) -> bool:
    """Store a 3600 s run at T0, then another; True when the second is its twin."""
    with Store(tmp_path / "kneeload.db") as store:
        store.write_batch([_result("a", _activity("a", T0, 3600.0, 5))])
        out = store.write_batch([_result("b", _activity("b", start, elapsed, 3))])
        return out.duplicates == 1


@pytest.mark.parametrize(
    ("start", "elapsed", "share", "twin"),
    [
        # same start, 4000 s: 3600 / 4000 = 0.900 exactly -> one run
        (T0, 4000.0, 0.90, True),
        # same start, 4001 s: 3600 / 4001 = 0.8998 -> two runs (kills 0.90 -> 0.50)
        (T0, 4001.0, 3600.0 / 4001.0, False),
        # same start, 3800 s: 3600 / 3800 = 0.947 -> one run (kills 0.90 -> 0.95)
        (T0, 3800.0, 3600.0 / 3800.0, True),
        # 120 s late, 3600 s: 3480 / 3600 = 0.967, start on the limit -> one run
        (T0 + 120.0, 3600.0, 3480.0 / 3600.0, True),
        # 121 s late: overlap 0.966 is enough, the start is not -> two runs
        (T0 + 121.0, 3600.0, 3479.0 / 3600.0, False),
        # 100 s early, 2000 s: overlap 1900 / 3600 = 0.528 -> two runs (kills 0.50)
        (T0 - 100.0, 2000.0, 1900.0 / 3600.0, False),
    ],
    ids=["share-0.900", "share-0.8998", "share-0.947", "start+120", "start+121",
         "share-0.528"],
)  # fmt: skip
def test_dedupe_boundaries(
    tmp_path: Path, start: float, elapsed: float, share: float, twin: bool
) -> None:
    assert overlap_share(T0, 3600.0, start, elapsed) == pytest.approx(share)
    assert _second_is_duplicate(tmp_path, start, elapsed) is twin
