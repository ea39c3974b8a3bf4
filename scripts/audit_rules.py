#!/usr/bin/env python
"""Audit the target and deadline rows against gold: what each row keeps and what each filter drops.

    python scripts/audit_rules.py [--gaps] [--rows] [--per-set] [real-dev long-dev train seed]

On the gold task segments of each development set (outputs/sets from
scripts/real_sets.py; "seed" is corpus/texts + corpus/gold/dev.jsonl) every raw
candidate (each number+unit, rank, 翻番 for targets; each match of a deadline
pattern) is followed to its decision: the rule row that kept it or the filter row
that dropped it (find_targets / find_deadlines_with_rules `trace`, plus the review
section of extract_targets). A candidate is "gold" when its span overlaps a gold
item of the segment. Per row the table gives gold / other candidates and in how
many distinct documents each happens, so a filter that drops gold, or that helps
in only one or two documents, shows up. Candidate recall is the share of gold
items some raw candidate overlaps; --gaps lists the gold items no candidate
reaches (generator gaps), --rows lists every dropped gold item. Never run on the
frozen test sets.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.api import Pipeline
from speechledger.extract.deadlines import RefDate, find_deadlines_with_rules, task_ref
from speechledger.extract.deadlines import _build as _build_deadlines
from speechledger.extract.targets import find_targets, parse_number
from speechledger.referee import referee
from speechledger.segment import split_segments

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (the same sets, the same refusal of the frozen split)


class Tally:
    """Per row: gold / other candidates and the documents they come from."""

    def __init__(self):
        self.n = defaultdict(lambda: {"gold": 0, "other": 0, "gold_docs": set(), "other_docs": set()})
        self.gold_total = self.gold_reached = self.gold_ok = 0
        self.gaps: list[tuple] = []
        self.dropped: list[tuple] = []
        self.kept_other: list[tuple] = []

    def add(self, row: str, is_gold: bool, doc: str) -> None:
        r = self.n[row]
        k = "gold" if is_gold else "other"
        r[k] += 1
        r[k + "_docs"].add(doc)


def _overlaps(a, b) -> bool:
    return min(a[1], b[1]) > max(a[0], b[0])


def audit_set(name: str, pipe: Pipeline, tg: Tally, dl: Tally, predicted: bool = False) -> None:
    texts, gold_path, dates = _set_paths(name)
    gold = ev.read_gold(gold_path)
    ref_mod = referee()
    lex = pipe.config.lexicon
    for fname in sorted(f for f in os.listdir(texts) if f.endswith(".txt")):
        stem = fname[:-4]
        text = Path(texts, fname).read_text(encoding="utf-8")
        doc = pipe(text, source=str(Path(texts, fname)), date=dates.get(stem))
        g_doc = gold.get(stem, {})
        starts = {t.start for sp in doc.speeches for t in sp.tasks} if predicted else set()
        for s in split_segments(text):
            if s.id not in g_doc and s.start not in starts:
                continue
            g = g_doc.get(s.id, {})   # a predicted task that is no gold task: its candidates are all "other"
            sp = next((x for x in doc.speeches if x.start <= s.start < x.end), None)
            if sp is None:
                continue
            sec = sp.section_at(s.start) if sp.sections else None
            _audit_targets(doc, stem, s, g, sec, lex, ref_mod, tg)
            ref = task_ref(sp, s.start, RefDate.of(sp.date, sp.ref_year))
            _audit_deadlines(doc, stem, s, g, ref, lex, ref_mod, dl)


_NUM = re.compile(r"[\d.]+|[XxX×*]+|[零〇一二两三四五六七八九十百千万]+")


def _value(text: str, lex):
    """The value of a dropped candidate's first number (dropped candidates carry only a span)."""
    m = _NUM.search(text.replace(",", "").replace(" ", ""))
    return parse_number(m.group(), lex) if m else None


def _audit_targets(doc, stem, s, g, sec, lex, ref_mod, tg: Tally) -> None:
    gold_items = [(ref_mod.locate(s.text, s.start, it), it) for it in g.get("targets", [])]
    trace: list = []
    kept = find_targets(doc.norm, s.start, s.end, lex, trace, goals=sec is not None and sec.kind == "goals")
    review = False      # review sections are decided by the task stage, not here
    cands = [((k["start"], k["end"]), k["rules"], k) for k in kept]
    cands += [((a, b), (why,), None) for a, b, why in trace]
    for span, rows, item in cands:
        value = item["value"] if item is not None else _value(doc.norm[span[0]:span[1]], lex)
        hit = next((it for gs, it in gold_items if _overlaps(gs, span) and ref_mod.same_value(it.get("value"), value)),
                   None)
        for row in rows:
            tg.add(row, hit is not None, stem)
        if hit is not None and (item is None or review):
            tg.dropped.append((stem, s.id, rows[0], doc.text[span[0]:span[1]], hit["text"]))
        if hit is None and item is not None and not review:
            tg.kept_other.append((stem, s.id, ",".join(rows), doc.text[span[0]:span[1]],
                                  doc.text[max(s.start, span[0] - 20):span[1] + 8]))
    for gs, it in gold_items:
        tg.gold_total += 1
        reach = [c for c in cands if _overlaps(gs, c[0])]
        if any(ref_mod.same_value(it.get("value"), k["value"] if k is not None else _value(doc.norm[a:b], lex))
               for (a, b), _, k in reach):
            tg.gold_reached += 1
        else:
            tg.gaps.append((stem, s.id, it["text"], it.get("value"), it.get("unit"), s.text[:80]))
        for span, rows, k in reach:
            if k is not None and not review and ref_mod.same_value(it.get("value"), k["value"]) \
                    and ref_mod.same_unit(it.get("unit"), k["unit"]) and it.get("comparator") == k["comparator"]:
                tg.gold_ok += 1
                break


def _audit_deadlines(doc, stem, s, g, ref, lex, ref_mod, dl: Tally) -> None:
    gold_items = [(ref_mod.locate(s.text, s.start, it), it) for it in g.get("deadlines", [])]
    trace: list = []
    kept = find_deadlines_with_rules(doc.norm, s.start, s.end, ref, lex, trace)
    cands = [((a, b), (f"deadline.{rules[0]}",), due) for a, b, due, _ph, rules in kept]
    cands += [((a, b), (_blocker_word(doc.norm, s.start, a, b, why, lex),), None) for a, b, _rid, why in trace]
    for span, rows, due in cands:
        hit = next((it for gs, it in gold_items if _overlaps(gs, span)), None)
        for row in rows:
            dl.add(row, hit is not None, stem)
        if hit is not None and rows[0].startswith("deadline.filter"):
            dl.dropped.append((stem, s.id, rows[0], doc.text[span[0]:span[1]], hit["text"]))
    for gs, it in gold_items:
        dl.gold_total += 1
        reach = [c for c in cands if _overlaps(gs, c[0])]
        if reach:
            dl.gold_reached += 1
        else:
            dl.gaps.append((stem, s.id, it["text"], it.get("due"), s.text[:80]))
        if any(not rows[0].startswith("deadline.filter") and due == it.get("due") for _, rows, due in reach):
            dl.gold_ok += 1


def _blocker_word(norm: str, lo: int, a: int, b: int, why: str, lex) -> str:
    """A blocker filter's id with the word that fired ("…blocker_after:以来"): each alternative is a row to audit."""
    _rules, before, as_of, after, _topic, _h = lex.cached("deadlines", _build_deadlines)
    m = None
    if why == "deadline.filter.blocker_after":
        m = after.match(norm, b)
    elif why == "deadline.filter.blocker_before":
        m = before.search(norm[max(lo, a - 4):a])
    return f"{why}:{m.group().strip()}" if m else why


def report(title: str, t: Tally, gaps: bool, rows: bool) -> None:
    print(f"== {title}: gold {t.gold_total}, reached by a raw candidate {t.gold_reached} "
          f"(candidate recall {t.gold_reached / max(1, t.gold_total):.3f}), kept with right fields {t.gold_ok} "
          f"({t.gold_ok / max(1, t.gold_total):.3f})")
    print(f"{'row':44s} {'gold':>5s} {'docs':>5s} {'other':>6s} {'docs':>5s}")
    for row in sorted(t.n, key=lambda r: (".filter." in r, r)):
        r = t.n[row]
        print(f"{row:44s} {r['gold']:5d} {len(r['gold_docs']):5d} {r['other']:6d} {len(r['other_docs']):5d}")
    if rows:
        for d in t.dropped:
            print("  dropped gold", *d, sep="\t")
        for d in t.kept_other:
            print("  kept non-gold", *d, sep="\t")
    if gaps:
        for gp in t.gaps:
            print("  gap", *gp, sep="\t")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["real-dev", "long-dev", "train", "seed"])
    ap.add_argument("--gaps", action="store_true", help="list gold items no raw candidate reaches")
    ap.add_argument("--rows", action="store_true", help="list dropped gold items and kept non-gold ones")
    ap.add_argument("--per-set", action="store_true", help="a table per set instead of the total")
    ap.add_argument("--predicted", action="store_true",
                    help="also audit predicted task segments that are not gold tasks (what a filter stops there)")
    args = ap.parse_args(argv)
    pipe = Pipeline()
    tot_t, tot_d = Tally(), Tally()
    for name in args.sets:
        t, d = (Tally(), Tally()) if args.per_set else (tot_t, tot_d)
        audit_set(name, pipe, t, d, args.predicted)
        if args.per_set:
            report(f"{name} targets", t, args.gaps, args.rows)
            report(f"{name} deadlines", d, args.gaps, args.rows)
    if not args.per_set:
        report("targets " + "+".join(args.sets), tot_t, args.gaps, args.rows)
        report("deadlines " + "+".join(args.sets), tot_d, args.gaps, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
