#!/usr/bin/env python
"""Turn off each deadline filter in turn and score every development set (rules extractor).

    python scripts/ablate_deadlines.py [real-dev long-dev train seed]

For each filter id (find_deadlines_with_rules' `skip`), the deadline tp/fp/fn summed over
the sets, against all filters on, and the documents whose deadline errors change: a filter
that removes gold (tp rises without it) or stops false positives in only one or two documents
is one to narrow. Never run on the frozen test sets.
"""
from __future__ import annotations

import argparse
import functools
import sys
from collections import Counter
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.extract import deadlines, tables

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (the same sets, the same refusal of the frozen split)


def filter_ids() -> list[str]:
    """Every filter id find_deadlines_with_rules can report, in the order it applies them: the
    fixed filters, and a not_after / not_before filter for each row of deadlines.yaml that has one."""
    from speechledger.lexicon import Lexicon
    rows = Lexicon().data("deadlines.yaml")["rules"]
    per_row = [f"deadline.filter.{r['id']}.{k}" for r in rows for k in ("not_after", "not_before") if r.get(k)]
    return ["deadline.filter.title", "deadline.filter.blocker_before", "deadline.filter.as_of",
            "deadline.filter.blocker_after", "deadline.filter.year_topic", *per_row,
            "deadline.filter.n_years_past", "deadline.filter.past"]


ORIGINAL = deadlines.find_deadlines_with_rules


def run(sets: list[str], skip: frozenset[str]) -> tuple[dict, Counter]:
    fn = functools.partial(ORIGINAL, skip=skip)
    deadlines.find_deadlines_with_rules = tables.find_deadlines_with_rules = fn
    try:
        tot, errs = {"tp": 0, "fp": 0, "fn": 0}, Counter()
        for name in sets:
            texts, gold, dates = _set_paths(name)
            r = ev.evaluate_folder(str(texts), str(gold), "rules", dates)
            for k in tot:
                tot[k] += r["deadlines"][k]
            for kind in ("deadlines_fp", "deadlines_fn"):
                errs.update((name, kind, *map(str, e)) for e in r["_errors"].get(kind, []))
        return tot, errs
    finally:
        deadlines.find_deadlines_with_rules = tables.find_deadlines_with_rules = ORIGINAL


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["real-dev", "long-dev", "train", "seed"])
    args = ap.parse_args(argv)
    base, base_errs = run(args.sets, frozenset())
    print(f"{'all filters on':40s} tp {base['tp']:3d} fp {base['fp']:3d} fn {base['fn']:3d}")
    for f in filter_ids():
        t, errs = run(args.sets, frozenset({f}))
        docs = {(e[0], e[2]) for e in (errs - base_errs) + (base_errs - errs)}
        print(f"{'without ' + f:40s} tp {t['tp']:3d} fp {t['fp']:3d} fn {t['fn']:3d}"
              f"   gold removed by it {t['tp'] - base['tp']:+d}, fp stopped {t['fp'] - base['fp']:+d}, "
              f"documents {len(docs)} {sorted(d for _, d in docs)[:8]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
