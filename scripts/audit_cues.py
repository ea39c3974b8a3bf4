#!/usr/bin/env python
"""Audit task rows against gold: per row id, the predicted tasks recording it that are gold
tasks or not, in how many distinct documents; against a saved run, the segments that became
(or stopped being) tasks; against a git revision, where a row's pattern now matches that it
did not; and where any pattern of your own matches.

    python scripts/audit_cues.py --save before.json            # run the rules, keep the tasks
    python scripts/audit_cues.py --ids place_will,ask_unit [--against before.json] [--show]
    python scripts/audit_cues.py --ids target_growth,goal_set --base a8ae9a6
    python scripts/audit_cues.py --regex '全年=(?<![年占达成])全年' --months 1-6

Every segment a predicted task covers is counted once (a breakdown task spanning its label
lines counts each segment); "task on gold-negative" counts the matches that are predicted tasks
outside the gold. --months keeps the --regex matches in speeches dated in those months (a rule
that reads the speech date). Sets: real-dev, long-dev, train (outputs/sets from
scripts/real_sets.py) and seed (corpus/texts + corpus/gold/dev.jsonl); never the frozen split.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from speechledger import evaluate as ev
from speechledger.api import Pipeline
from speechledger.segment import split_segments

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (the same sets, the same refusal of the frozen split)

ROOT = Path(__file__).resolve().parent.parent
SETS = ("real-dev", "long-dev", "train", "seed")


def run(pipe: Pipeline) -> dict:
    """{set/doc/seg: [rule ids]} of every segment a predicted task covers, the gold keys, the
    normalised text of every segment (to count where a pattern matches at all) and the month
    of the speech it is in (0 when undated)."""
    out, gold_keys, norm, month = {}, [], {}, {}
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
                m = int(sp.date[5:7]) if sp.date else 0
                month.update({f"{name}/{stem}/{s.id}": m for s in segs if sp.start <= s.start < sp.end})
                for t in sp.tasks:
                    for s in segs:
                        if s.start < t.end and t.start < s.end:
                            out[f"{name}/{stem}/{s.id}"] = {"rules": t.rules, "text": s.text}
    return {"tasks": out, "gold": gold_keys, "norm": norm, "month": month}


def cue_patterns(yaml_text: str) -> dict[str, re.Pattern]:
    d = yaml.safe_load(yaml_text)
    rows = {r["id"]: r["pattern"] for r in d["cues"]}
    rows.update({r["id"]: r["pattern"] for r in d.get("patterns", []) if "pattern" in r})
    return {k: re.compile(v) for k, v in rows.items()}


def months(spec: str) -> set[int]:
    lo, _, hi = spec.partition("-")
    return set(range(int(lo), int(hi or lo) + 1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save")
    ap.add_argument("--ids", default="")
    ap.add_argument("--against", help="a run saved by --save: segments added and dropped since")
    ap.add_argument("--base", help="a git revision: where each --ids pattern matches now and did not there")
    ap.add_argument("--regex", action="append", default=[], metavar="NAME=PATTERN",
                    help="where a pattern of your own matches (repeatable)")
    ap.add_argument("--months", help="with --regex: only speeches dated in these months, e.g. 1-6")
    ap.add_argument("--show", action="store_true", help="print the segments counted")
    a = ap.parse_args(argv)
    pipe = Pipeline(extractors="rules")
    r = run(pipe)
    if a.save:
        Path(a.save).write_text(json.dumps(r, ensure_ascii=False), encoding="utf-8")
    gold = set(r["gold"])
    doc = lambda k: k.rsplit("/", 1)[0]  # noqa: E731

    def report(label: str, keys) -> None:
        keys = list(keys)
        pos = [k for k in keys if k in gold]
        neg = [k for k in keys if k not in gold]
        on_neg = sum(k in r["tasks"] for k in neg)
        print(f"{label:40s} gold-positive {len(pos):4d} ({len({doc(k) for k in pos})} docs)  "
              f"gold-negative {len(neg):4d} ({len({doc(k) for k in neg})} docs)  task on gold-negative {on_neg}")
        if a.show:
            for k in pos + neg:
                print("   ", "+" if k in gold else "-", k, r["norm"][k][:70])

    cues = {c.id: c for c in pipe.config.lexicon.task_cues[1]}
    ids = list(filter(None, a.ids.split(",")))
    for rid in ids:
        if rid in cues:     # where the cue's pattern matches, task or not
            report(f"{rid}: pattern matches", (k for k, t in r["norm"].items() if cues[rid].pattern.search(t)))
        report(f"{rid}: tasks recording it", (k for k, v in r["tasks"].items() if rid in v["rules"]))
    if a.base:
        old = cue_patterns(subprocess.run(["git", "show", f"{a.base}:pipeline/data/task_cues.yaml"], cwd=ROOT,
                                          capture_output=True, text=True, check=True).stdout)
        new = cue_patterns((ROOT / "pipeline/data/task_cues.yaml").read_text(encoding="utf-8"))
        for rid in ids:
            was = old.get(rid)
            report(f"{rid}: new matches since {a.base}",
                   (k for k, t in r["norm"].items() if new[rid].search(t) and not (was and was.search(t))))
    keep = months(a.months) if a.months else None
    for spec in a.regex:
        name, _, pattern = spec.partition("=")
        rx = re.compile(pattern)
        report(f"{name}: matches" + (f" (months {a.months})" if keep else ""),
               (k for k, t in r["norm"].items() if rx.search(t) and (keep is None or r["month"].get(k) in keep)))
    if a.against:
        old_tasks = json.loads(Path(a.against).read_text(encoding="utf-8"))["tasks"]
        for label, keys in (("added", set(r["tasks"]) - set(old_tasks)),
                            ("dropped", set(old_tasks) - set(r["tasks"]))):
            pos = sorted(k for k in keys if k in gold)
            neg = sorted(k for k in keys if k not in gold)
            print(f"{label}: gold-positive {len(pos)} ({len({doc(k) for k in pos})} docs), "
                  f"gold-negative {len(neg)} ({len({doc(k) for k in neg})} docs)")
            if a.show:
                for k in pos + neg:
                    t = r["tasks"].get(k) or old_tasks[k]
                    print("   ", "+" if k in gold else "-", k, t["rules"], t["text"][:70])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
