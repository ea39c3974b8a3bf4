#!/usr/bin/env python
"""Every gold target, and every target candidate, followed through the rules pipeline.

    python scripts/audit_targets.py [--list] [dev-a long-dev seed]

Part 1: for each gold target, how the rules pipeline sees it: is its segment covered by
a predicted task, did find_targets propose a candidate overlapping it, and which row kept
or dropped that candidate (a filter id, or the keeping row; "fields" when kept with a
wrong value/unit/comparator). Part 2, the reverse: every candidate find_targets proposes
in ANY segment (task or not), by where it stands (task / not task) and the row that
decided it, counted gold / not and in distinct documents. Never run on the frozen split
(and read errors of dev-b nowhere: use this on dev-a, long-dev, seed).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.api import Pipeline
from speechledger.extract.targets import find_targets
from speechledger.referee import referee
from speechledger.segment import split_segments

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (refuses the frozen split)


def _candidates(doc, sp, seg, lex):
    """(start, end, row id, fields) of every raw candidate of a segment."""
    sec = sp.section_at(seg.start) if sp.sections else None
    trace: list = []
    kept = find_targets(doc.norm, seg.start, seg.end, lex, trace, goals=sec is not None and sec.kind == "goals")
    return [(f["start"], f["end"], f["rules"][0], f) for f in kept] + [(a, b, why, None) for a, b, why in trace]


def audit(name, pipe, gold_tab, cand_tab, listing):
    ref = referee()
    texts, gold_path, dates = _set_paths(name)
    gold = ev.read_gold(gold_path)
    lex = pipe.config.lexicon
    for fname in sorted(f for f in os.listdir(texts) if f.endswith(".txt")):
        stem = fname[:-4]
        text = Path(texts, fname).read_text(encoding="utf-8")
        doc = pipe(text, source=str(Path(texts, fname)), date=dates.get(stem))
        rsegs = split_segments(text)
        gitems = []
        for sid, g in gold.get(stem, {}).items():
            s = rsegs[sid]
            for item in g.get("targets", []):
                gitems.append((ref.locate(s.text, s.start, item), item))
        key = f"{name}/{stem}"
        for sp in doc.speeches:
            tasks = [(t.start, t.end) for t in sp.tasks]
            for seg in sp.segments:
                in_task = any(a < seg.end and seg.start < b for a, b in tasks)
                cands = _candidates(doc, sp, seg, lex)
                sec = sp.section_at(seg.start) if sp.sections else None
                kind = sec.kind if sec is not None else "-"
                for a, b, why, f in cands:
                    hit = [it for (ga, gb), it in gitems if ga < b and a < gb]
                    cell = cand_tab[("task" if in_task else "no task", why)]
                    cell[bool(hit)].add((key, a))
                    cell[("d", bool(hit))].add(key)
                for (ga, gb), item in gitems:
                    if not (seg.start <= ga < seg.end):
                        continue
                    over = [(why, f) for a, b, why, f in cands if ga < b and a < gb]
                    kept = [(why, f) for why, f in over if f is not None]
                    if not over:
                        dec = "no candidate"
                    elif kept:
                        f = kept[0][1]
                        good = ref.same_value(item.get("value"), f["value"]) and \
                            ref.same_unit(item.get("unit"), f["unit"]) and item.get("comparator") == f["comparator"]
                        dec = kept[0][0] + ("" if good else " (fields)")
                    else:
                        dec = over[0][0]
                    k = ("task" if in_task else "no task", dec)
                    gold_tab[k][0] += 1
                    gold_tab[k][1].add(key)
                    listing.append((k, kind, key, item["text"], text[seg.start:seg.end].strip()[:90]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["dev-a", "long-dev", "seed"])
    ap.add_argument("--list", action="store_true", help="list every gold target with its class")
    args = ap.parse_args(argv)
    if "dev-b" in args.sets:
        raise SystemExit("dev-b is the check half: score it, never read its errors (scripts/real_sets.py)")
    pipe = Pipeline(extractors="rules")
    gold_tab = defaultdict(lambda: [0, set()])
    cand_tab = defaultdict(lambda: defaultdict(set))
    listing: list = []
    for name in args.sets:
        audit(name, pipe, gold_tab, cand_tab, listing)
    print("gold targets by how the pipeline sees them")
    print(f"{'segment':8s} {'candidate decided by':44s} {'gold':>5s} {'docs':>5s}")
    for k in sorted(gold_tab, key=lambda k: (k[0], -gold_tab[k][0])):
        print(f"{k[0]:8s} {k[1]:44s} {gold_tab[k][0]:5d} {len(gold_tab[k][1]):5d}")
    print("\nevery candidate by segment and deciding row: gold / other (distinct docs)")
    print(f"{'segment':8s} {'row':44s} {'gold':>5s} {'docs':>5s} {'other':>6s} {'docs':>5s}")
    for k in sorted(cand_tab):
        c = cand_tab[k]
        print(f"{k[0]:8s} {k[1]:44s} {len(c[True]):5d} {len(c[('d', True)]):5d} {len(c[False]):6d} "
              f"{len(c[('d', False)]):5d}")
    if args.list:
        for k, kind, key, t, s in sorted(listing):
            print(*k, kind, key, t, s, sep="\t")
    return 0


if __name__ == "__main__":
    sys.exit(main())
