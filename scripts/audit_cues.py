#!/usr/bin/env python
"""Audit task rows against gold: per row id, the predicted tasks recording it that are gold
tasks or not, in how many distinct documents; and, against a saved run, the segments that
became (or stopped being) tasks.

    python scripts/audit_cues.py --save before.json            # run the rules, keep the tasks
    python scripts/audit_cues.py --ids will_plan,ask_unit [--against before.json] [--show]

Every segment a predicted task covers is counted once (a breakdown task spanning its label
lines counts each segment). Sets: real-dev, long-dev, train (outputs/sets from
scripts/real_sets.py) and seed (corpus/texts + corpus/gold/dev.jsonl); never the frozen split.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.api import Pipeline
from speechledger.segment import split_segments

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (the same sets, the same refusal of the frozen split)

SETS = ("real-dev", "long-dev", "train", "seed")


def run(pipe: Pipeline) -> dict:
    """{set/doc/seg: [rule ids]} of every segment a predicted task covers, the gold keys, and
    the normalised text of every segment (to count where a cue's pattern matches at all)."""
    out, gold_keys, norm = {}, [], {}
    for name in SETS:
        texts, gold_path, dates = _set_paths(name)
        gold = ev.read_gold(gold_path)
        for f in sorted(x for x in os.listdir(texts) if x.endswith(".txt")):
            stem = f[:-4]
            text = Path(texts, f).read_text(encoding="utf-8")
            doc = pipe(text, source=str(Path(texts, f)), date=dates.get(stem))
            segs = split_segments(text)
            norm.update({f"{name}/{stem}/{s.id}": doc.norm[s.start:s.end] for s in segs})
            gold_keys += [f"{name}/{stem}/{s}" for s in gold.get(stem, {})]
            for sp in doc.speeches:
                for t in sp.tasks:
                    for s in segs:
                        if s.start < t.end and t.start < s.end:
                            out[f"{name}/{stem}/{s.id}"] = {"rules": t.rules, "text": s.text}
    return {"tasks": out, "gold": gold_keys, "norm": norm}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save")
    ap.add_argument("--ids", default="")
    ap.add_argument("--against")
    ap.add_argument("--show", action="store_true", help="print the segments counted")
    a = ap.parse_args(argv)
    r = run(Pipeline(extractors="rules"))
    if a.save:
        Path(a.save).write_text(json.dumps(r, ensure_ascii=False), encoding="utf-8")
    gold = set(r["gold"])
    doc = lambda k: k.rsplit("/", 1)[0]  # noqa: E731
    cues = {c.id: c for c in Pipeline(extractors="rules").config.lexicon.task_cues[1]}
    for rid in filter(None, a.ids.split(",")):
        if rid in cues:     # where the cue's pattern matches, task or not
            seen = [k for k, t in r["norm"].items() if cues[rid].pattern.search(t)]
            pos = [k for k in seen if k in gold]
            print(f"{rid:28s} pattern matches: gold-positive {len(pos)} ({len({doc(k) for k in pos})} docs), "
                  f"gold-negative {len(seen) - len(pos)} ({len({doc(k) for k in seen if k not in gold})} docs)")
            if a.show:
                for k in seen:
                    print("   ", "+" if k in gold else "-", k, r["norm"][k][:70])
        hit = {k: v for k, v in r["tasks"].items() if rid in v["rules"]}
        pos = [k for k in hit if k in gold]
        neg = [k for k in hit if k not in gold]
        print(f"{rid:28s} tasks recording it: gold-positive {len(pos):4d} ({len({doc(k) for k in pos})} docs)  "
              f"gold-negative {len(neg):4d} ({len({doc(k) for k in neg})} docs)")
        if a.show:
            for k in pos + neg:
                print("   ", "+" if k in gold else "-", k, hit[k]["text"][:70])
    if a.against:
        old = json.loads(Path(a.against).read_text(encoding="utf-8"))["tasks"]
        for label, keys in (("added", set(r["tasks"]) - set(old)), ("dropped", set(old) - set(r["tasks"]))):
            pos = sorted(k for k in keys if k in gold)
            neg = sorted(k for k in keys if k not in gold)
            print(f"{label}: gold-positive {len(pos)} ({len({doc(k) for k in pos})} docs), "
                  f"gold-negative {len(neg)} ({len({doc(k) for k in neg})} docs)")
            if a.show:
                for k in pos + neg:
                    txt = (r["tasks"].get(k) or old[k])["text"]
                    print("   ", "+" if k in gold else "-", k, (r["tasks"].get(k) or old[k])["rules"], txt[:70])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
