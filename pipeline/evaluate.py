"""Scoring against gold (the referee's rules, ANNOTATION.md §6-7) and cross-validation by document.

`score` gives the same numbers as scripts/referee/score.py on the same files (a
test holds them together). `score_document` scores one text, or one speech of
it, and returns raw counts, so counts of folds and speeches add up exactly.
`cross_validate` trains the learned models k times, each time holding out whole
documents (each speech of a compilation is a document of its own), and scores
rules, ml and hybrid side by side on the held-out documents.
"""
from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from speechledger.segment import split_segments

FIELDS = ("tasks", "units", "deadlines", "targets")
ACCURACIES = ("modality", "specific", "unit_role")
UNIT_T2S = str.maketrans("萬億個噸畝項場戶間張輛臺層處條筆％", "万亿个吨亩项场户间张辆台层处条笔%")


# ---------------------------------------------------------------------------------------
# the referee's scoring, as a library
# ---------------------------------------------------------------------------------------
def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def locate(seg_text: str, seg_start: int, item: dict) -> tuple[int, int]:
    """Span of a gold item given by its text and occurrence index inside the segment."""
    text, occ = item["text"], item.get("occ", 0)
    pos = -1
    for _ in range(occ + 1):
        pos = seg_text.find(text, pos + 1)
        if pos < 0:
            raise ValueError(f"gold text {text!r} (occ {occ}) not in segment {seg_text!r}")
    return seg_start + pos, seg_start + pos + len(text)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def same_unit(a, b) -> bool:
    norm = lambda u: (u or "").translate(UNIT_T2S).replace("个亿", "亿元").strip()
    return norm(a) == norm(b)


def same_value(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _match(gold: list[dict], pred: list[dict]) -> list[tuple[dict, dict]]:
    pairs = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            ov = _overlap(g["span"], p["span"])
            if ov > 0:
                pairs.append((ov, gi, pi))
    pairs.sort(reverse=True)
    used_g, used_p, out = set(), set(), []
    for _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gold[gi], pred[pi]))
    return out


@dataclass
class Counts:
    """Raw counts that add up across documents and folds."""

    c: dict = field(default_factory=lambda: defaultdict(int))
    acc: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    errors: dict = field(default_factory=lambda: defaultdict(list))
    docs: int = 0

    def add(self, other: "Counts") -> "Counts":
        for k, v in other.c.items():
            self.c[k] += v
        for k, (a, b) in other.acc.items():
            self.acc[k][0] += a
            self.acc[k][1] += b
        for k, v in other.errors.items():
            self.errors[k] += v
        self.docs += other.docs
        return self

    def result(self) -> dict:
        c = self.c
        r: dict[str, Any] = {
            "docs": self.docs,
            "tasks": prf(c["task_tp"], c["task_fp"], c["task_fn"]),
            "units": prf(c["units_tp"], c["units_fp"], c["units_fn"]),
            "deadlines": prf(c["deadlines_tp"], c["deadlines_fp"], c["deadlines_fn"]),
            "targets": prf(c["targets_tp"], c["targets_fp"], c["targets_fn"]),
            "accuracy": {k: round(v[0] / v[1], 4) if v[1] else None for k, v in sorted(self.acc.items())},
            "offset_errors": len(self.errors["offset"]),
        }
        r["macro_f1"] = round(sum(r[k]["f1"] for k in FIELDS) / 4, 4)
        r["_errors"] = {k: v[:200] for k, v in self.errors.items()}
        return r


def score_document(doc: str, text: str, gold: dict[int, dict], pred_tasks: list[dict],
                   segs=None, only: tuple[int, int] | None = None) -> Counts:
    """Counts for one text: gold by segment id, predictions as §6 task dicts.

    With `only=(start, end)`, just the gold segments starting inside that range are
    scored (pred_tasks must then be the predictions for that range, e.g. one speech).
    """
    out = Counts(docs=1)
    c, acc, errors = out.c, out.acc, out.errors
    segs = segs if segs is not None else split_segments(text)
    if only is not None:
        gold = {sid: g for sid, g in gold.items() if only[0] <= segs[sid].start < only[1]}
    seg_of = [None] * (len(text) + 1)
    for s in segs:
        for i in range(s.start, s.end):
            seg_of[i] = s.id

    def seg_at(pos: int):
        pos = min(max(pos, 0), len(text) - 1) if text else 0
        return seg_of[pos] if text else None

    pred_segs: dict[int, list[dict]] = defaultdict(list)
    starts = [s.start for s in segs]
    import bisect
    for t in pred_tasks:
        if text[t["start"]:t["end"]] != t.get("text", text[t["start"]:t["end"]]):
            errors["offset"].append((doc, t["start"], t["end"]))
        span = (t["start"], t["end"])
        # only segments that can overlap the span (same result as scanning all of them)
        lo = max(0, bisect.bisect_right(starts, span[0]) - 1)
        cand = []
        for s in segs[lo:]:
            if s.start >= span[1] and s.start > span[0]:
                break
            cand.append(s)
        hit = [s.id for s in cand if _overlap(span, (s.start, s.end)) * 2 >= (s.end - s.start)]
        if not hit:
            best = max(segs, key=lambda s: _overlap(span, (s.start, s.end)), default=None)
            if best is not None and _overlap(span, (best.start, best.end)) * 2 >= max(1, span[1] - span[0]):
                hit = [best.id]
        for sid in hit:
            pred_segs[sid].append(t)
    gp, pp = set(gold), set(pred_segs)
    c["task_tp"] += len(gp & pp)
    c["task_fp"] += len(pp - gp)
    c["task_fn"] += len(gp - pp)
    for sid in sorted(gp - pp):
        errors["task_fn"].append((doc, sid, segs[sid].text[:60]))
    for sid in sorted(pp - gp):
        errors["task_fp"].append((doc, sid, segs[sid].text[:60]))
    for sid in gp & pp:
        g, ps = gold[sid], pred_segs[sid]
        for fld in ("modality", "specific"):
            if fld in g:
                acc[fld][1] += 1
                if any(p.get(fld) == g[fld] for p in ps):
                    acc[fld][0] += 1

    for kind in ("units", "deadlines", "targets"):
        gm, pm = [], []
        for sid, g in gold.items():
            s = segs[sid]
            for item in g.get(kind, []):
                gm.append({**item, "span": locate(s.text, s.start, item), "seg": sid})
        seen = set()
        for t in pred_tasks:
            for item in t.get(kind, []):
                key = (item.get("start"), item.get("end"), item.get("text"))
                if key in seen:
                    continue
                seen.add(key)
                pm.append({**item, "span": (item["start"], item["end"]), "seg": seg_at(item["start"])})
        pairs = _match(gm, pm)
        if kind == "units":
            strict = [(g, p) for g, p in pairs if g["text"] == p.get("text")]
            c["units_tp"] += len(strict)
            c["units_fp"] += len(pm) - len(strict)
            c["units_fn"] += len(gm) - len(strict)
            for g, p in strict:
                acc["unit_role"][1] += 1
                acc["unit_role"][0] += g.get("role") == p.get("role")
            got = {id(g) for g, _ in strict}
            errors["units_fn"] += [(doc, g["seg"], g["text"]) for g in gm if id(g) not in got]
            gotp = {id(p) for _, p in strict}
            errors["units_fp"] += [(doc, p["seg"], p.get("text")) for p in pm if id(p) not in gotp]
        elif kind == "deadlines":
            ok = [(g, p) for g, p in pairs
                  if g.get("due") == p.get("due") and bool(g.get("placeholder")) == bool(p.get("placeholder"))]
            c["deadlines_tp"] += len(ok)
            c["deadlines_fp"] += len(pm) - len(ok)
            c["deadlines_fn"] += len(gm) - len(ok)
            c["deadlines_span_tp"] += len(pairs)
            got = {id(g) for g, _ in ok}
            errors["deadlines_fn"] += [(doc, g["seg"], g["text"], g.get("due")) for g in gm if id(g) not in got]
            gotp = {id(p) for _, p in ok}
            errors["deadlines_fp"] += [(doc, p["seg"], p.get("text"), p.get("due")) for p in pm if id(p) not in gotp]
        else:
            ok = []
            for g, p in pairs:
                fields = {
                    "value": same_value(g.get("value"), p.get("value")),
                    "unit": same_unit(g.get("unit"), p.get("unit")),
                    "comparator": g.get("comparator") == p.get("comparator"),
                    "placeholder": bool(g.get("placeholder")) == bool(p.get("placeholder")),
                }
                for f, good in fields.items():
                    acc["target_" + f][1] += 1
                    acc["target_" + f][0] += good
                if all(fields.values()):
                    ok.append((g, p))
            c["targets_tp"] += len(ok)
            c["targets_fp"] += len(pm) - len(ok)
            c["targets_fn"] += len(gm) - len(ok)
            c["targets_span_tp"] += len(pairs)
            got = {id(g) for g, _ in ok}
            errors["targets_fn"] += [(doc, g["seg"], g["text"], g.get("value"), g.get("unit"), g.get("comparator"))
                                     for g in gm if id(g) not in got]
            gotp = {id(p) for _, p in ok}
            errors["targets_fp"] += [(doc, p["seg"], p.get("text"), p.get("value"), p.get("unit"), p.get("comparator"))
                                     for p in pm if id(p) not in gotp]
    return out


def read_gold(path: str | os.PathLike) -> dict[str, dict[int, dict]]:
    """Gold lines by document stem and segment id."""
    by_doc: dict[str, dict[int, dict]] = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                g = json.loads(line)
                by_doc[g["doc"]][g["seg"]] = g
    return by_doc


def _stem(source: str) -> str:
    return os.path.splitext(os.path.basename(source))[0]


def score_records(texts_dir: str, gold_path: str, records: Iterable[dict]) -> dict:
    """Score §6 records (one per speech) against gold; every DIR/*.txt counts."""
    gold_by_doc = read_gold(gold_path)
    pred_by_doc: dict[str, list[dict]] = defaultdict(list)
    for rec in records:
        pred_by_doc[_stem(rec["source"])].extend(rec.get("tasks", []))
    total = Counts()
    for doc in sorted(f[:-4] for f in os.listdir(texts_dir) if f.endswith(".txt")):
        with open(os.path.join(texts_dir, doc + ".txt"), encoding="utf-8") as f:
            text = f.read()
        total.add(score_document(doc, text, gold_by_doc.get(doc, {}), pred_by_doc.get(doc, [])))
    return total.result()


def score(texts_dir: str, gold_path: str, pred_path: str) -> dict:
    """Same as `scripts/referee/score.py --texts DIR --gold GOLD --pred PRED --json`."""
    with open(pred_path, encoding="utf-8") as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return score_records(texts_dir, gold_path, recs)


def format_result(r: dict) -> str:
    lines = []
    for k in FIELDS:
        m = r[k]
        lines.append(f"{k:10s} P {m['p']:.3f}  R {m['r']:.3f}  F1 {m['f1']:.3f}  "
                     f"(tp {m['tp']} fp {m['fp']} fn {m['fn']})")
    lines.append("accuracy   " + "  ".join(f"{k} {v}" for k, v in r["accuracy"].items()))
    lines.append(f"offset errors {r['offset_errors']}")
    lines.append(f"macro F1 {r['macro_f1']:.3f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# evaluating the pipeline on a folder
# ---------------------------------------------------------------------------------------
def evaluate_folder(texts_dir: str, gold_path: str, extractors: str = "rules", dates: dict | None = None,
                    model_dir: str | None = None, models=None) -> dict:
    """Run the pipeline on DIR/*.txt (with per-file dates) and score it against gold."""
    from speechledger.api import Pipeline, records
    pipe = Pipeline(extractors=extractors, model_dir=model_dir)
    if models is not None:
        pipe.config._cache["models"] = models
    recs = []
    for name in sorted(f for f in os.listdir(texts_dir) if f.endswith(".txt")):
        path = os.path.join(texts_dir, name)
        doc = pipe.run_file(path, date=(dates or {}).get(name[:-4]))
        recs += records(doc)
    return score_records(texts_dir, gold_path, recs)


# ---------------------------------------------------------------------------------------
# cross-validation by document
# ---------------------------------------------------------------------------------------
EXTRACTORS = ("rules", "ml", "hybrid")


def fold_of(keys: list[str], k: int, seed: int) -> dict[str, int]:
    """Deterministic assignment of documents to k folds (seeded shuffle, then round robin)."""
    import numpy as np
    order = np.random.RandomState(seed).permutation(len(keys))
    return {keys[j]: i % k for i, j in enumerate(order)}


def cross_validate(roots: list[str], k: int = 5, seed: int = 13, extractors=EXTRACTORS,
                   log=None, corpus=None) -> dict:
    """k-fold CV by document; returns {extractor: result dict} plus fold sizes."""
    from speechledger.ml import training
    corpus = corpus or training.load_corpus(roots, log=log)
    items = corpus.items
    keys = [it.key for it in items]
    folds = fold_of(keys, k, seed)
    totals = {ex: Counts() for ex in extractors}
    # rules do not learn: one run over everything
    if "rules" in extractors:
        for it in items:
            totals["rules"].add(it.score(it.file.rule_records))
    learned = [ex for ex in extractors if ex != "rules"]
    sizes = []
    for f in range(k):
        test = [it for it in items if folds[it.key] == f]
        train = [it for it in items if folds[it.key] != f]
        if not test or not learned:
            continue
        models = training.fit_models(train, seed=seed, log=log)
        sizes.append({"fold": f, "train_docs": len(train), "test_docs": len(test),
                      "test_segments": sum(len(it.speech.segments) for it in test)})
        for ex in learned:
            recs = training.predict_items(test, ex, models)
            for it in test:
                totals[ex].add(it.score(recs[it.key]))
        if log:
            log(f"fold {f + 1}/{k}: trained on {len(train)} documents, tested on {len(test)}")
    out = {ex: totals[ex].result() for ex in extractors}
    out["_folds"] = sizes
    out["_documents"] = len(items)
    return out


def cv_table(cv: dict, extractors=EXTRACTORS) -> str:
    """One table: P/R/F1 per field for each extractor side by side, then field accuracies."""
    exs = [e for e in extractors if e in cv]
    head = f"{'field':14s}" + "".join(f"| {e:^22s}" for e in exs)
    sub = f"{'':14s}" + "".join(f"| {'P':>6s} {'R':>6s} {'F1':>6s}  " for _ in exs)
    lines = [head, sub, "-" * len(sub)]
    for fld in FIELDS:
        row = f"{fld:14s}"
        for e in exs:
            m = cv[e][fld]
            row += f"| {m['p']:6.3f} {m['r']:6.3f} {m['f1']:6.3f}  "
        lines.append(row)
    lines.append("-" * len(sub))
    for a in ACCURACIES:
        row = f"{a + ' acc':14s}"
        for e in exs:
            v = cv[e]["accuracy"].get(a)
            row += f"| {'' if v is None else f'{v:.3f}':>20s}  "
        lines.append(row)
    row = f"{'macro F1':14s}"
    for e in exs:
        row += f"| {cv[e]['macro_f1']:>20.3f}  "
    lines.append(row)
    return "\n".join(lines)
