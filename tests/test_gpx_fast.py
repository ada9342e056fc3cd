"""The vectorised GPX path must give exactly what the streaming reader gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import REAL_DIR, SAMPLE_DIR

import kneeload.io.gpx as gpx
from kneeload._testing.synth import simulate_run, write_gpx
from kneeload.io import gunzip_bounded
from kneeload.io._gpxfast import fast_tracks

GPX_FILES = sorted(
    [*REAL_DIR.glob("*.gpx"), *REAL_DIR.glob("*.gpx.gz"), *SAMPLE_DIR.glob("*.gpx")]
)


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    fast = gpx.parse_gpx(data, "x.gpx")
    with monkeypatch.context() as m:
        m.setattr(gpx, "fast_tracks", lambda _data: None)
        slow = gpx.parse_gpx(data, "x.gpx")
    return fast, slow


def _assert_same(fast: list, slow: list) -> None:
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert set(a.samples) == set(b.samples)
        for key in a.samples:
            np.testing.assert_array_equal(a.samples[key], b.samples[key], err_msg=key)
        a_meta = {k: v for k, v in vars(a).items() if k != "samples"}
        b_meta = {k: v for k, v in vars(b).items() if k != "samples"}
        assert a_meta == b_meta


@pytest.mark.parametrize("path", GPX_FILES, ids=lambda p: p.name)
def test_fast_path_equals_streaming(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gunzip_bounded(data, path.name)
    try:
        fast, slow = _both(data, monkeypatch)
    except gpx.NotAnActivityError:
        pytest.skip("no track points")
    _assert_same(fast, slow)


def _synthetic(**kwargs: object) -> bytes:
    from datetime import UTC, datetime

    run = simulate_run(datetime(2026, 5, 1, 6, tzinfo=UTC), distance_km=2.0, seed=3)
    return write_gpx(run, creator="test", **kwargs)  # type: ignore[arg-type]


def test_regular_file_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _synthetic()
    assert fast_tracks(data) is not None
    _assert_same(*_both(data, monkeypatch))


def test_unexpected_child_sends_the_file_to_the_streaming_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _synthetic().replace(b"</ele>", b"</ele><speed>3.1</speed>", 1)
    assert fast_tracks(data) is None  # one point with a child we do not extract
    data = _synthetic().replace(
        b"<gpxtpx:hr>", b"<heartrate>99</heartrate><gpxtpx:hr>", 1
    )
    assert fast_tracks(data) is None  # a second heart-rate tag: streaming decides
    fast, slow = _both(data, monkeypatch)
    _assert_same(fast, slow)


def test_missing_heart_rate_on_one_point_is_not_misaligned() -> None:
    data = _synthetic()
    start = data.index(b"<gpxtpx:hr>")
    end = data.index(b"</gpxtpx:hr>", start) + len(b"</gpxtpx:hr>")
    assert fast_tracks(data[:start] + data[end:]) is None
