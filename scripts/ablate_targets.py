#!/usr/bin/env python
"""Target filter ablation: each filter row of find_targets off in turn, scored on the sets.

    python scripts/ablate_targets.py [--rows ID,...] [dev-a dev-b long-dev seed]

For each filter row (pipeline/data/targets.yaml `filters`), the whole rules pipeline runs
with that row off (find_targets(ablate=…)) and the targets (and tasks) are scored per set;
the table gives the change in targets tp / fp against the baseline, so a filter that
removes gold items, or stops false positives in one document only, shows up
Scores only: it prints no errors, so it may run on dev-b.
Never on the frozen split.
"""
from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.extract import tables, targets
from speechledger.lexicon import Lexicon

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (refuses the frozen split)


def _score(sets):
    out = {}
    for name in sets:
        texts, gold, dates = _set_paths(name)
        r = ev.evaluate_folder(str(texts), str(gold), extractors="rules", dates=dates)
        out[name] = (r["targets"]["tp"], r["targets"]["fp"], r["tasks"]["f1"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["dev-a", "dev-b", "long-dev", "seed"])
    ap.add_argument("--rows", default="", help="only these filter ids")
    args = ap.parse_args(argv)
    rows = [r["id"] for r in Lexicon.load().data("targets.yaml")["filters"]]
    rows += ["target.filter.describe_after", "target.filter.cn_bare_magnitude", "target.filter.rank_no_verb",
             "target.filter.rank_unit_no_rank"]
    if args.rows:
        rows = [r for r in rows if r in set(args.rows.split(","))]
    original = targets.find_targets
    base = _score(args.sets)
    print(f"{'filter off':42s} " + " ".join(f"{n:>18s}" for n in args.sets))
    print(f"{'(baseline tp/fp)':42s} " + " ".join(f"{f'{tp}/{fp}':>18s}" for tp, fp, _ in base.values()))
    for row in rows:
        fn = partial(original, ablate=frozenset([row]))
        targets.find_targets = tables.find_targets = fn
        try:
            got = _score(args.sets)
        finally:
            targets.find_targets = tables.find_targets = original
        cells = []
        for n in args.sets:
            (tp0, fp0, _), (tp, fp, _) = base[n], got[n]
            cells.append(f"{f'tp{tp - tp0:+d} fp{fp - fp0:+d}':>18s}")
        print(f"{row:42s} " + " ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
