"""Scoring against gold with the contract's referee (ANNOTATION.md §6-7), and the CV table.

There is one copy of the matching logic: the referee shipped verbatim in
speechledger/referee/ (shared/eval/score.py). `score` is the referee's own `score`;
`score_records` writes §6 records to a prediction file and hands it to the referee;
`evaluate_folder` runs the pipeline over a folder first. Cross-validation lives in
speechledger.ml.cv (this module imports nothing from the learned layer).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from typing import Iterable

from speechledger.referee import referee

FIELDS = ("tasks", "units", "deadlines", "targets")
ACCURACIES = ("modality", "specific", "unit_role")
EXTRACTORS = ("rules", "ml", "hybrid")


def read_gold(path: str | os.PathLike) -> dict[str, dict[int, dict]]:
    """Gold lines by document stem and segment id."""
    by_doc: dict[str, dict[int, dict]] = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                g = json.loads(line)
                by_doc[g["doc"]][g["seg"]] = g
    return by_doc


def score(texts_dir: str, gold_path: str, pred_path: str) -> dict:
    """The referee: `score.py --texts DIR --gold GOLD --pred PRED --json`."""
    return referee().score(texts_dir, gold_path, pred_path)


def score_records(texts_dir: str, gold_path: str, records: Iterable[dict]) -> dict:
    """Score §6 records (one per speech) against gold with the referee; every DIR/*.txt counts."""
    with tempfile.TemporaryDirectory(prefix="speechledger-score-") as tmp:
        pred = os.path.join(tmp, "pred.jsonl")
        with open(pred, "w", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return score(texts_dir, gold_path, pred)


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


def evaluate_folder(texts_dir: str, gold_path: str, extractors: str | None = None, dates: dict | None = None,
                    model_dir: str | None = None, models=None) -> dict:
    """Run the pipeline on DIR/*.txt (with per-file dates) and score it against gold.

    extractors defaults to what `extract` uses (hybrid when models load, else rules).
    """
    from speechledger.api import Pipeline, records
    if extractors is None:
        from speechledger.ml_default import default_extractors
        extractors = default_extractors(model_dir)
    pipe = Pipeline(extractors=extractors, model_dir=model_dir)
    if models is not None:
        pipe.config._cache["models"] = models
    recs = []
    for name in sorted(f for f in os.listdir(texts_dir) if f.endswith(".txt")):
        path = os.path.join(texts_dir, name)
        doc = pipe.run_file(path, date=(dates or {}).get(name[:-4]))
        recs += records(doc)
    return score_records(texts_dir, gold_path, recs)


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
