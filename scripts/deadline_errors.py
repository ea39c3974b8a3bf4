#!/usr/bin/env python
"""Classify every deadline error of the rules extractor on development sets.

    python scripts/deadline_errors.py [--no-dates] [--list] [dev-a long-dev seed]

Each gold deadline the scorer does not credit and each predicted deadline it does not
credit gets one class:
  missed: segment not a task        the gold segment is not covered by a predicted task
  missed: filtered by ROW           a candidate overlapping it was dropped by filter ROW
  missed: not proposed              the task was found but no row matched the expression
  due wrong                         the spans overlap but `due` (or placeholder) differs
                                    (the scorer counts it as one fp and one fn)
  fp: segment not a task            a deadline inside a predicted task that gold does not have
  fp: not a deadline                a deadline in a gold task where gold has none there
Counts are items and distinct documents. --no-dates infers every speech's date from its text
(what a user of `extract` gets); the default passes the set's dates.json as --date does.
Never run on the frozen test sets (they are refused), and read errors of dev-b not at all.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.api import Pipeline, records
from speechledger.extract.deadlines import RefDate, find_deadlines_with_rules, task_ref
from speechledger.referee.score import locate, match, overlap
from speechledger.referee.segments import split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (refuses the frozen split)


def classify(name: str, pipe: Pipeline, use_dates: bool) -> list[tuple[str, str, int, str, str | None, str | None]]:
    """(class, doc, seg, text, gold due, predicted due) of every deadline error of one set."""
    if name == "dev-b":
        raise SystemExit("dev-b is the check half: score it, never read its errors (scripts/real_sets.py)")
    texts, gold_path, dates = _set_paths(name)
    gold = ev.read_gold(gold_path)
    out = []
    for path in sorted(Path(texts).glob("*.txt")):
        stem = path.stem
        text = path.read_text(encoding="utf-8")
        doc = pipe.run_file(str(path), date=dates.get(stem) if use_dates else None)
        segs = split(text)
        g_doc = gold.get(stem, {})
        tasks = [t for r in records(doc) for t in r.get("tasks", [])]
        seg_of = {}
        for s in segs:
            for i in range(s.start, s.end):
                seg_of[i] = s.id
        covered = defaultdict(list)
        for t in tasks:
            for s in segs:
                if overlap((t["start"], t["end"]), (s.start, s.end)) * 2 >= (s.end - s.start):
                    covered[s.id].append(t)
        gm = [{**it, "span": locate(segs[sid].text, segs[sid].start, it), "seg": sid}
              for sid, g in g_doc.items() for it in g.get("deadlines", [])]
        pm, seen = [], set()
        for t in tasks:
            for it in t.get("deadlines", []):
                key = (it["start"], it["end"])
                if key not in seen:
                    seen.add(key)
                    pm.append({**it, "span": key, "seg": seg_of.get(it["start"])})
        pairs = match(gm, pm)
        paired_g = {id(g): p for g, p in pairs}
        paired_p = {id(p) for _, p in pairs}
        for g in gm:
            p = paired_g.get(id(g))
            if p is not None:
                if p.get("due") != g.get("due") or bool(p.get("placeholder")) != bool(g.get("placeholder")):
                    out.append(("due wrong", stem, g["seg"], g["text"] + " / " + p["text"], g.get("due"), p.get("due")))
                continue
            if g["seg"] not in covered:
                out.append(("missed: segment not a task", stem, g["seg"], g["text"], g.get("due"), None))
                continue
            trace: list = []
            sp = next(sp for sp in doc.speeches if sp.start <= g["span"][0] < sp.end)
            for t in covered[g["seg"]]:
                ref = task_ref(sp, t["start"], RefDate.of(sp.date, sp.ref_year))
                find_deadlines_with_rules(doc.norm, t["start"], t["end"], ref, pipe.config.lexicon, trace)
            why = next((f"{f} ({rid})" for s, e, rid, f in trace if overlap((s, e), g["span"])), None)
            out.append((f"missed: filtered by {why}" if why else "missed: not proposed", stem, g["seg"], g["text"],
                        g.get("due"), None))
        for p in pm:
            if id(p) in paired_p:
                continue
            cls = "fp: not a deadline" if p["seg"] in g_doc else "fp: segment not a task"
            out.append((cls, stem, p["seg"], p["text"], None, p.get("due")))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["dev-a", "long-dev", "seed"])
    ap.add_argument("--no-dates", action="store_true", help="infer speech dates from the text only")
    ap.add_argument("--list", action="store_true", help="list every error")
    args = ap.parse_args(argv)
    pipe = Pipeline(extractors="rules")
    for name in args.sets:
        errs = classify(name, pipe, not args.no_dates)
        by = defaultdict(list)
        for e in errs:
            by[e[0].split(" (")[0]].append(e)
        print(f"== {name}{' (dates inferred from the text)' if args.no_dates else ''}")
        for cls, es in sorted(by.items()):
            print(f"  {cls:55s} {len(es):3d} items  {len({e[1] for e in es}):3d} docs")
        if args.list:
            for e in errs:
                print("   ", *e, sep="\t")
    return 0


if __name__ == "__main__":
    sys.exit(main())
