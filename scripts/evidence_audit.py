#!/usr/bin/env python
"""Which segments the rules extractor leaves out although they carry a target or a deadline.

    python scripts/evidence_audit.py [--list] [--rows ID,...] [real-dev long-dev train seed extra extra2]

For every segment NOT covered by a predicted task (rules extractor) that holds a raw
target candidate (find_targets, kept or dropped by a filter) or a raw deadline candidate
(find_deadlines_with_rules, kept or dropped), the table counts gold task / not, and in how
many distinct documents, per combination of: section kind (structure stage), tense
markers (past / future in the same segment) and which candidate it holds. It is the
evidence behind the `future_target_statement` / `future_deadline_statement` rows of
pipeline/data/task_cues.yaml. With --rows, the segments (task or not) whose Task.rules
hold one of the given ids are counted gold / not per document instead. Never run on the
frozen test sets (scripts/eval_fields.py refuses them).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.api import Pipeline
from speechledger.extract.deadlines import RefDate, find_deadlines_with_rules, task_ref
from speechledger.extract.targets import find_targets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import ROOT, _set_paths  # noqa: E402

# tense markers, as the analysis reads them (not the extractor's rows)
PAST = re.compile(r"已经|(?<!意)已|完成了|实现了|同比|截至|截止|比上年|去年|上年|以来|累计|了(?:[，,。；;、]|$)")
FUTURE = re.compile(r"今年(?!以来)|明年|(?:到|至)\s*20\d\d\s*年|力争|确保|预期|目标|计划|(?<![即])将|全年|年内|年底前|"
                    r"下一步|争取")


def _paths(name: str):
    if name in ("extra", "extra2"):
        d = ROOT / "corpus" / name
        return d / "texts", d / "gold.jsonl", json.loads((d / "dates.json").read_text(encoding="utf-8"))
    return _set_paths(name)


def audit(name: str, pipe: Pipeline, table, listing, rows_of_interest, rowtab) -> None:
    threshold = pipe.config.lexicon.task_cues[0]
    data = pipe.config.lexicon.data("task_cues.yaml")
    # rows that make a task whatever its score (a score row is not decisive there)
    forcing = {r["id"] for g in ("structure_rules", "heading_rules") for r in data.get(g, [])
               if r.get("effect") in ("task", "join")}
    texts, gold_path, dates = _paths(name)
    gold = ev.read_gold(gold_path)
    lex = pipe.config.lexicon
    for fname in sorted(f for f in os.listdir(texts) if f.endswith(".txt")):
        stem = fname[:-4]
        doc = pipe(Path(texts, fname).read_text(encoding="utf-8"), source=str(Path(texts, fname)),
                   date=dates.get(stem))
        # gold segments by span (the pipeline's segment ids need not be the scorer's)
        g_spans = sorted((g["start"], g["end"]) for g in gold.get(stem, {}).values())
        key_doc = f"{name}/{stem}"
        for sp in doc.speeches:
            spans = [(t.start, t.end, t.rules, t.confidence) for t in sp.tasks]
            for seg in sp.segments:
                is_gold = any(a < seg.end and seg.start < b for a, b in g_spans)
                cover = [r for a, b, r, _c in spans if a <= seg.start < b]
                if rows_of_interest:
                    for a, b, rs, conf in spans:
                        if not a <= seg.start < b:
                            continue
                        for rid in set(rs) & rows_of_interest.keys():
                            # decisive: the task's score (confidence 0.5 + 0.1 * score, below the cap)
                            # without the row's score is under the threshold
                            score = (conf - 0.5) / 0.1
                            decisive = conf < 1.0 and score - rows_of_interest[rid] < threshold - 1e-9 \
                                and not forcing & set(rs)
                            for tag in ("fires", "decisive") if decisive else ("fires",):
                                rowtab[(rid, tag)][is_gold].add(key_doc)
                                rowtab[(rid, tag)][("n", is_gold)].add((key_doc, seg.id))
                    continue
                if cover:
                    continue
                trace: list = []
                tg = find_targets(doc.norm, seg.start, seg.end, lex, trace) + trace
                dtrace: list = []
                ref = task_ref(sp, seg.start, RefDate.of(sp.date, sp.ref_year))
                dl = find_deadlines_with_rules(doc.norm, seg.start, seg.end, ref, lex, dtrace) + dtrace
                if not tg and not dl:
                    continue
                text = doc.norm[seg.start:seg.end]
                sec = sp.section_at(seg.start)
                kind = sec.kind if sec is not None else "-"
                tense = ("past" if PAST.search(text) else "") + ("+" if PAST.search(text) and FUTURE.search(text)
                                                                else "") + ("fut" if FUTURE.search(text) else "")
                cand = ("T" if tg else "") + ("D" if dl else "")
                key = (kind, tense or "none", cand)
                cell = table[key]
                cell["pos" if is_gold else "neg"] += 1
                cell["pos_docs" if is_gold else "neg_docs"].add(key_doc)
                listing.append((key, is_gold, key_doc, seg.id, text.strip()[:110]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["real-dev", "long-dev", "train", "seed"])
    ap.add_argument("--list", action="store_true", help="list the segments of every combination")
    ap.add_argument("--rows", default="", help="count the tasks recording these rule ids instead")
    args = ap.parse_args(argv)
    pipe = Pipeline(extractors="rules")
    table = defaultdict(lambda: {"pos": 0, "neg": 0, "pos_docs": set(), "neg_docs": set()})
    wanted = set(filter(None, args.rows.split(",")))
    data = pipe.config.lexicon.data("task_cues.yaml")
    rows = {r["id"]: float(r.get("score") or (r["effect"].get("score", 0) if isinstance(r.get("effect"), dict) else 0))
            for g in ("score_rules", "structure_rules") for r in data.get(g, []) if r["id"] in wanted}
    rows.update({r["id"]: float(r["weight"]) for r in data["cues"] if r["id"] in wanted})
    rowtab = defaultdict(lambda: defaultdict(set))
    listing: list = []
    for name in args.sets:
        audit(name, pipe, table, listing, rows, rowtab)
    if rows:
        print(f"{'row (segments of tasks recording it)':46s} {'gold':>5s} {'docs':>5s} {'other':>6s} {'docs':>5s}")
        for rid in sorted(rows):
            for tag in ("fires", "decisive"):
                r = rowtab[(rid, tag)]
                print(f"{rid + ' ' + tag:46s} {len(r[('n', True)]):5d} {len(r[True]):5d} "
                      f"{len(r[('n', False)]):6d} {len(r[False]):5d}")
        return 0
    print(f"{'section':10s} {'tense':10s} {'cand':4s} {'gold':>5s} {'docs':>5s} {'other':>6s} {'docs':>5s} "
          f"{'prec':>5s}")
    for key in sorted(table, key=lambda k: -(table[k]["pos"] + table[k]["neg"])):
        c = table[key]
        prec = c["pos"] / max(1, c["pos"] + c["neg"])
        print(f"{key[0]:10s} {key[1]:10s} {key[2]:4s} {c['pos']:5d} {len(c['pos_docs']):5d} {c['neg']:6d} "
              f"{len(c['neg_docs']):5d} {prec:5.2f}")
    if args.list:
        for key, is_gold, d, sid, text in sorted(listing):
            print("GOLD" if is_gold else "    ", "/".join(key), d, sid, text, sep="\t")
    return 0


if __name__ == "__main__":
    sys.exit(main())
