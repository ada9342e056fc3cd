"""Fuzzing the per-file reader (issue 9): mutants of real files never escape.

A seeded mutator (``kneeload._testing.fuzz``) makes at least 1,000 mutants per
run of the real device files across FIT, FIT.gz, GPX, TCX and TCX.gz; each one
must end as an activity or a named error, skip, partial or suspect. The seed
changes every day (``KNEELOAD_FUZZ_SEED`` overrides it); a failure prints the
seed and index, and ``scripts/fuzz_readers.py --seed S --index I --write F``
rebuilds the mutant. The FIT decoder also gets a Hypothesis property test on
arbitrary prefixes, suffixes and chained copies of a synthetic file.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import traceback
import warnings
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kneeload._testing.fuzz import KINDS, load_corpus, make_mutant, outcome
from kneeload._testing.synth import simulate_run, write_fit
from kneeload.errors import ActivityFileError
from kneeload.io.fit import parse_fit
from kneeload.summary import summarise
from tests.conftest import real_dir_or_skip

N_MUTANTS = 1000
#: Small files keep the run under 60 s on a shared 2-core machine; the script
#: in scripts/ mutates the whole corpus.
SUITE_LIMITS = {"fit": 30_000, "gpx": 60_000, "tcx": 60_000}


def _seed() -> int:
    return int(
        os.environ.get("KNEELOAD_FUZZ_SEED") or dt.date.today().strftime("%Y%m%d")
    )


def test_mutants_of_real_files_never_escape_the_reader() -> None:
    corpus = load_corpus(real_dir_or_skip(), SUITE_LIMITS)
    seed, started = _seed(), time.monotonic()
    kinds: Counter[str] = Counter()
    endings: Counter[str] = Counter()
    for index in range(N_MUTANTS):
        mutant = make_mutant(corpus, seed, index)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a reader warning is a finding too
                result = outcome(mutant)
        except Exception:  # reported with everything needed to rebuild it
            pytest.fail(
                f"mutant escaped the reader: seed {seed}, index {index}, "
                f"{mutant.kind} from {mutant.base} ({'; '.join(mutant.how)})\n"
                f"rebuild: python scripts/fuzz_readers.py --seed {seed} "
                f"--index {index} --write mutant.bin\n{traceback.format_exc()}"
            )
        kinds[mutant.kind] += 1
        ending = result.split(":")[0]
        endings["activity" if ending.endswith("activities") else ending] += 1
    assert sorted(kinds) == sorted(KINDS) and min(kinds.values()) >= 150
    # the mutator is not toothless: it produces every kind of ending
    assert {"activity", "error", "skipped", "partial", "suspect"} <= set(endings)
    assert time.monotonic() - started < 60, f"fuzzing took too long (seed {seed})"


def test_a_mutant_is_rebuilt_from_its_seed_and_index() -> None:
    corpus = load_corpus(real_dir_or_skip(), SUITE_LIMITS)
    assert make_mutant(corpus, 5, 17) == make_mutant(corpus, 5, 17)
    assert make_mutant(corpus, 5, 17).data != make_mutant(corpus, 6, 17).data


_RUN = write_fit(
    simulate_run(
        dt.datetime(2024, 5, 4, 7, tzinfo=dt.UTC), duration_s=120, interval_s=5
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.binary(max_size=40),
    suffix=st.binary(max_size=40),
    copies=st.integers(1, 3),
    cut=st.integers(0, len(_RUN)),
    skip=st.integers(0, 16),
)
def test_fit_decoder_on_prefixes_suffixes_and_chained_copies(
    prefix: bytes, suffix: bytes, copies: int, cut: int, skip: int
) -> None:
    data = prefix + _RUN[skip:] * (copies - 1) + _RUN[:cut] + suffix
    try:
        raws = parse_fit(data, "prop.fit")
    except ActivityFileError as exc:
        assert exc.reason
        return
    for raw in raws:
        try:
            activity, _ = summarise(raw, "prop.fit")
        except ActivityFileError as exc:
            assert exc.reason
            continue
        assert activity.elapsed_s >= 0
