"""Ingest benchmark: the speed targets of the ingest issue, measured on this machine.

    python benchmarks/bench_ingest.py [--runs 2000] [--gpx-runs 2000] [--out DIR]

Writes synthetic one-hour 1 Hz runs (kneeload._testing.synth) into DIR (default
benchmarks/out/, reused across runs), then measures:
  1. a plain fitparse loop over 100 files vs a cold kneeload ingest of the same 100;
  2. a cold ingest of all FIT runs, then a re-ingest of the unchanged folder;
  3. a cold ingest of the GPX runs.
Each cold ingest goes into a fresh home folder. Numbers go to stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from kneeload._testing.synth import make_corpus
from kneeload.ingest import ingest
from kneeload.store import Store


def _corpus(folder: Path, n: int, fmt: str) -> list[Path]:
    existing = sorted(folder.glob(f"*.{fmt}"))
    if len(existing) >= n:
        return existing[:n]
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    paths = make_corpus(folder, n, fmt=fmt, duration_s=3600, interval_s=1, seed=1)
    print(f"wrote {n} {fmt} files in {time.perf_counter() - t0:.1f} s")
    return sorted(paths)


def _cold_ingest(paths: list[Path], workers: int | None) -> tuple[float, int, Path]:
    home = Path(tempfile.mkdtemp(prefix="kneeload-bench-"))
    with Store.in_home(home) as store:
        t0 = time.perf_counter()
        report = ingest(paths, store, workers=workers)
        elapsed = time.perf_counter() - t0
    return elapsed, report.ingested, home


def _fitparse_loop(paths: list[Path]) -> float:
    import fitparse

    t0 = time.perf_counter()
    for path in paths:
        fit = fitparse.FitFile(str(path))
        for _ in fit.get_messages("record"):
            pass
    return time.perf_counter() - t0


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--gpx-runs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")

    fit_paths = _corpus(args.out / "fit", args.runs, "fit")
    sample = fit_paths[:100]
    t_fitparse = _fitparse_loop(sample)
    t_ours, n, home = _cold_ingest(sample, args.workers)
    shutil.rmtree(home)
    print(
        f"100 FIT runs: fitparse loop {t_fitparse:.2f} s, kneeload cold ingest "
        f"{t_ours:.2f} s ({n} activities) -> {t_fitparse / t_ours:.0f}x faster"
    )

    t_cold, n, home = _cold_ingest(fit_paths, args.workers)
    print(f"{len(fit_paths)} FIT runs cold ingest: {t_cold:.2f} s ({n} activities)")
    with Store.in_home(home) as store:
        t0 = time.perf_counter()
        again = ingest(fit_paths, store, workers=args.workers)
        t_warm = time.perf_counter() - t0
    size_mb = (home / "kneeload.db").stat().st_size / 1e6
    print(
        f"re-ingest unchanged: {t_warm:.3f} s ({again.unchanged} unchanged); "
        f"store {size_mb:.0f} MB"
    )
    shutil.rmtree(home)

    if args.gpx_runs:
        gpx_paths = _corpus(args.out / "gpx", args.gpx_runs, "gpx")
        t_gpx, n, home = _cold_ingest(gpx_paths, args.workers)
        shutil.rmtree(home)
        print(f"{len(gpx_paths)} GPX runs cold ingest: {t_gpx:.2f} s ({n} activities)")


if __name__ == "__main__":
    main()
