"""Milliseconds per FIT file: kneeload's fast decoder vs the fitparse reference path.

Run: ``python benchmarks/bench_fit_decode.py [--rounds N]``. Reads the shared real
FIT files when present (never copied into the repo) and a synthetic one-hour
1 Hz run written by kneeload._testing.synth.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_DIR = REPO.parent / "shared" / "real_activities"
sys.path.insert(0, str(REPO))

from kneeload._testing.synth import simulate_run, write_fit  # noqa: E402
from kneeload.errors import ActivityFileError  # noqa: E402
from kneeload.io import gunzip_bounded  # noqa: E402
from kneeload.io.fit import (  # noqa: E402
    build_activities,
    decode_reference,
    fit_crc,
    parse_fit,
)


def build_run(seconds: int) -> bytes:
    """A synthetic run of ``seconds`` 1 Hz records as FIT bytes."""
    from datetime import UTC, datetime

    start = datetime(2026, 5, 1, 6, tzinfo=UTC)
    return write_fit(simulate_run(start, duration_s=seconds, interval_s=1, seed=1))


def _timings_ms(func: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        with contextlib.suppress(ActivityFileError):
            func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def _inputs() -> list[tuple[str, bytes]]:
    files = [("synthetic 1 h 1 Hz run (3601 records)", build_run(3600))]
    for path in sorted(REAL_DIR.glob("*.fit*")):
        raw = path.read_bytes()
        files.append(
            (
                path.name,
                gunzip_bounded(raw, path.name) if raw[:2] == b"\x1f\x8b" else raw,
            )
        )
    return files


def main() -> None:
    """Print a table of median ms per file, fast path vs fitparse."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="fast-path repeats")
    parser.add_argument("--ref-rounds", type=int, default=1, help="fitparse repeats")
    args = parser.parse_args()
    synthetic = build_run(3600)
    crc_ms, _ = _timings_ms(lambda: fit_crc(synthetic), 50)
    print(f"CRC of {len(synthetic)} bytes: {crc_ms:.3f} ms (median)")
    print("medians (best of the fast path in brackets); x = fitparse / fast")
    print(f"{'file':52} {'KB':>5} {'fast ms':>15} {'fitparse ms':>12} {'x':>5}")
    for name, content in _inputs():
        fast, best = _timings_ms(lambda c=content, n=name: parse_fit(c, n), args.rounds)
        ref, _ = _timings_ms(
            lambda c=content, n=name: build_activities(decode_reference(c, n), n),
            args.ref_rounds,
        )
        ratio = ref / fast if fast else float("nan")
        size_kb = len(content) / 1024
        timing = f"{fast:.2f} ({best:.2f})"
        print(f"{name[:52]:52} {size_kb:5.0f} {timing:>15} {ref:12.1f} {ratio:5.0f}")


if __name__ == "__main__":
    main()
