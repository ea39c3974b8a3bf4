"""Why the hybrid misses gold targets and deadlines: an evidence audit on out-of-fold CV predictions.

    python scripts/audit_mentions.py --out outputs/audit_mentions.json
    python scripts/audit_mentions.py --summary outputs/audit_mentions.json

Folds by document as `evaluate --cv` (cv.fold_of, seed 13) over the real documents; each fold's
models (training.fit_models, as shipped) predict the held-out documents clean, with 15% rule
misses and with 15% finder misses (training.pipeline_for). Every gold target/deadline the hybrid
does not match (referee semantics: overlap, and value/unit/comparator/placeholder, or due and
placeholder) gets one class:

  segment_not_task   no predicted task covers it (sub-class: a filters-off candidate with the right
                     fields exists in its segment, or not)
  hidden             finder-miss only: the simulation withheld the rule finders' candidate
  no_candidate       inside a predicted task, but no finder (filters off) proposes an overlapping span
  not_chosen         a candidate with the right fields exists: below the threshold / filtered
  cand_field:<f>     candidates overlap but each has a wrong field (the best one's fields named)
  emitted_field:<f>  an item was emitted over it with a wrong field

False positives: emitted_field:<f> (paired with a gold item), or no_gold:<in a gold task segment or
not>:<rule|ml>. The dev-b documents are counted, never listed (--examples lists the others).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from pathlib import Path

CONDITIONS = (("clean", 0.0, False), ("rule-miss", 0.15, False), ("finder-miss", 0.15, True))


def _group(fd, devb: set) -> str:
    if fd.set == "real":
        return "dev-b" if fd.stem in devb else "dev-a"
    return {"long": "long-dev"}.get(fd.set, fd.set)


def _candidates(doc, sp, kind: str, a: int, b: int, lexicon) -> list[dict]:
    """Every finder's candidates in norm[a:b] with all filter rows off, as dicts with start/end and fields."""
    from speechledger.extract.deadlines import RefDate, find_deadlines_with_rules, task_ref
    from speechledger.extract.targets import find_targets
    from speechledger.ml import mentions
    norm = doc.norm
    if kind == "targets":
        sec = sp.section_at(a) if sp.sections else None
        out = find_targets(norm, a, b, lexicon, goals=sec is not None and sec.kind == "goals",
                           ablate=mentions.NO_TARGET_FILTERS)
        return out
    ref = task_ref(sp, a, RefDate.of(sp.date, sp.ref_year))
    out = [{"start": s, "end": e, "due": due, "placeholder": ph, "rules": rules}
           for s, e, due, ph, rules in find_deadlines_with_rules(norm, a, b, ref, lexicon,
                                                                 skip=mentions.NO_DEADLINE_FILTERS)]
    return out


def audit_item(it, doc, lexicon, devb) -> dict:
    """Per kind: Counter of miss classes, Counter of false-positive classes, and example rows."""
    from speechledger.ml import mentions
    from speechledger.referee import referee
    ref = referee()
    fd = it.file
    sp = doc.speeches[it.index]
    group = _group(fd, devb)
    gold_segs = {sid for sid in fd.gold if sid < len(fd.segments) and sp.start <= fd.segments[sid].start < sp.end}
    missed = getattr(doc, "mention_misses", set())
    hide = getattr(doc, "mention_finder_miss", False)
    out = {}
    for kind in ("targets", "deadlines"):
        def check(g, p, ref, kind=kind):
            return mentions.field_mismatches(kind, g, p, ref)
        gm = []
        for sid in sorted(gold_segs):
            seg = fd.segments[sid]
            for g in fd.gold[sid].get(kind, []):
                gm.append({**g, "span": ref.locate(seg.text, seg.start, g), "seg": sid})
        pm, seen = [], set()
        for t in sp.tasks:            # the records' items, with their source (rules / ml)
            for x in getattr(t, kind):
                key = (x.start, x.end, x.text)
                if key not in seen:
                    seen.add(key)
                    pm.append({**dataclasses.asdict(x), "span": (x.start, x.end)})
        pairs = ref.match(gm, pm)
        ok_g, ok_p, paired_g = set(), set(), {}
        for g, p in pairs:
            paired_g[id(g)] = p
            if not check(g, p, ref):
                ok_g.add(id(g))
                ok_p.add(id(p))
        fn, fp, ex = Counter(), Counter(), []
        for g in gm:
            if id(g) in ok_g:
                continue
            a, b = g["span"]
            p = paired_g.get(id(g))
            sec = sp.section_at(a) if sp.sections else None
            where = sec.kind if sec is not None else "-"
            if p is not None:
                cls = "emitted_field:" + "+".join(check(g, p, ref)) + ":" + p.get("source", "rules")
            elif hide and any(k == kind and s < b and a < e for k, s, e in missed):
                cls = "hidden"
            else:
                task = next((t for t in sp.tasks if t.start <= a < t.end), None)
                seg = fd.segments[g["seg"]]
                span = (task.start, task.end) if task is not None else (seg.start, seg.end)
                cands = [c for c in _candidates(doc, sp, kind, *span, lexicon) if c["start"] < b and a < c["end"]]
                good = [c for c in cands if not check(g, c, ref)]
                if task is None:
                    cls = "segment_not_task:" + ("cand" if good else "no_cand") + ":" + where
                elif not cands:
                    cls = "no_candidate"
                elif good:
                    cls = "not_chosen" + (":generic" if all(c.get("generic") for c in good) else "")
                else:
                    best = min(cands, key=lambda c: len(check(g, c, ref)))
                    cls = "cand_field:" + "+".join(check(g, best, ref))
            fn[cls] += 1
            if group != "dev-b":
                ex.append({"doc": it.key, "cls": cls, "text": g.get("text"), "section": where,
                           "gold": {k: g.get(k) for k in ("value", "unit", "comparator", "placeholder", "due")},
                           "context": fd.text[max(0, a - 20):b + 8]})
        gold_task_spans = [(fd.segments[s].start, fd.segments[s].end) for s in gold_segs]
        for p in pm:
            if id(p) in ok_p:
                continue
            g = next((g for g, q in pairs if q is p), None)
            src = p.get("source", "rules")
            if g is not None:
                cls = "emitted_field:" + "+".join(check(g, p, ref)) + ":" + src
            else:
                a = p["start"]
                cls = "no_gold:" + ("gold_task" if any(s <= a < e for s, e in gold_task_spans) else "not_task") \
                    + ":" + src
            fp[cls] += 1
        out[kind] = {"fn": dict(fn), "fp": dict(fp), "gold": len(gm), "tp": len(ok_g), "examples": ex}
    out["group"] = group
    return out


def run(args) -> dict:
    from speechledger.lexicon import Lexicon
    from speechledger.ml import cv, training
    t0 = time.perf_counter()
    log = lambda m: print(f"[{time.perf_counter() - t0:6.1f}s] {m}", file=sys.stderr)  # noqa: E731
    devb = {p.stem for p in Path("outputs/sets/dev-b/texts").glob("*.txt")}
    if not devb:
        raise SystemExit("outputs/sets/dev-b missing: run scripts/real_sets.py first")
    corpus = training.load_corpus(training.default_sets("."), log=log)
    lexicon = Lexicon.load()
    real = [it for it in corpus.items if not it.file.composed]
    folds = cv.fold_of([it.key for it in real], args.k, args.seed)
    result = {name: {} for name, _, _ in CONDITIONS}
    for f in range(args.k):
        test = [it for it in real if folds[it.key] == f]
        train = [it for it in corpus.items if folds.get(it.key) != f]
        models = training.fit_models(train, seed=args.seed, rule_drop=training.RULE_DROP)
        for name, drop, fm in CONDITIONS:
            pipe = training.pipeline_for("hybrid", models, drop, args.seed, unit_drop=drop, finder_miss=fm)
            done = {}
            for it in test:
                fd = it.file
                if id(fd) not in done:
                    done[id(fd)] = pipe(fd.text, source=str(fd.path), date=fd.date)
                result[name][it.key] = audit_item(it, done[id(fd)], lexicon, devb)
        log(f"fold {f + 1}/{args.k}")
    return result


def summary(result: dict) -> str:
    lines = []
    for kind in ("targets", "deadlines"):
        for side in ("fn", "fp"):
            classes = sorted({c for cond in result.values() for r in cond.values() for c in r[kind][side]})
            lines.append(f"\n{kind} {'misses (gold not matched)' if side == 'fn' else 'false positives'}")
            lines.append(f"{'class':44s} " + " ".join(f"{n:>11s}" for n in result))
            for c in classes:
                lines.append(f"{c:44s} " + " ".join(f"{sum(r[kind][side].get(c, 0) for r in cond.values()):>11d}"
                                                  for cond in result.values()))
            tot = [sum(sum(r[kind][side].values()) for r in cond.values()) for cond in result.values()]
            lines.append(f"{'total':44s} " + " ".join(f"{n:>11d}" for n in tot))
        gold = [sum(r[kind]["gold"] for r in cond.values()) for cond in result.values()]
        tp = [sum(r[kind]["tp"] for r in cond.values()) for cond in result.values()]
        lines.append(f"{'gold / matched':44s} " + " ".join(f"{g:>5d}/{t:<5d}" for g, t in zip(gold, tp)))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", help="write the per-document audit as JSON")
    ap.add_argument("--summary", help="print the table of a JSON written by --out and stop")
    ap.add_argument("--examples", help="with --summary: list the misses of this class prefix (never dev-b)")
    args = ap.parse_args(argv)
    if args.summary:
        with open(args.summary, encoding="utf-8") as f:
            result = json.load(f)
    else:
        result = run(args)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                json.dump(result, f, ensure_ascii=False)
    print(summary(result))
    if args.examples:
        for name, cond in result.items():
            for r in cond.values():
                for kind in ("targets", "deadlines"):
                    for e in r[kind]["examples"]:
                        if e["cls"].startswith(args.examples):
                            print(name, kind, json.dumps(e, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
