"""Mutation run over the real device files: how many mutants escape the reader?

    python scripts/fuzz_readers.py --count 10000 --seed 42       # a mutation run
    python scripts/fuzz_readers.py --seed 42 --index 17 --write m.bin  # rebuild one

Uses the whole corpus (the test suite keeps to small files). Prints the endings
(activity / partial / suspect / skipped / error) and every escape with its
seed, index and how it was made. Exit status 1 when anything escaped.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

from kneeload._testing.fuzz import load_corpus, make_mutant, outcome

REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "real_activities"


def main() -> int:
    """Run the mutation run or rebuild one mutant (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, default=REAL_DIR)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--start", type=int, default=0, help="first mutant index")
    ap.add_argument("--index", type=int, help="rebuild this one mutant")
    ap.add_argument("--write", type=Path, help="with --index: write its bytes here")
    args = ap.parse_args()
    corpus = load_corpus(args.folder)
    if args.index is not None:
        mutant = make_mutant(corpus, args.seed, args.index)
        print(f"{mutant.kind} from {mutant.base}: {'; '.join(mutant.how)}")
        if args.write:
            args.write.write_bytes(mutant.data)
        print(outcome(mutant))
        return 0
    endings: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    escaped = 0
    started = time.monotonic()
    for index in range(args.start, args.start + args.count):
        mutant = make_mutant(corpus, args.seed, index)
        kinds[mutant.kind] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                ending = outcome(mutant).split(":")[0]
        except Exception:  # counted and shown: this is what the run looks for
            escaped += 1
            print(
                f"ESCAPED seed {args.seed} index {index}: {mutant.kind} from "
                f"{mutant.base} ({'; '.join(mutant.how)})"
            )
            print(traceback.format_exc())
            continue
        endings["activity" if ending.endswith("activities") else ending] += 1
    took = time.monotonic() - started
    print(
        f"seed {args.seed}: {args.count} mutants in {took:.0f} s; kinds {dict(kinds)}"
    )
    print(f"endings {dict(endings)}; escaped {escaped}")
    return 1 if escaped else 0


if __name__ == "__main__":
    sys.exit(main())
