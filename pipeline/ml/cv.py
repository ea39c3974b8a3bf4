"""Cross-validation by document of rules / ml / hybrid, scored by the referee.

Folds are drawn over the real documents only (each speech of a file is a document);
composed passages (GoldSet.composed) join every training fold but are never tested.
The held-out predictions of all folds are written as one prediction file per
extractor and scored once by the referee (speechledger/referee), so the table's
counts are exactly the referee's.
"""
from __future__ import annotations

import json
import os
import tempfile

from speechledger.evaluate import EXTRACTORS, score
from speechledger.ml import training


def fold_of(keys: list[str], k: int, seed: int) -> dict[str, int]:
    """Deterministic assignment of documents to k folds (seeded shuffle, then round robin)."""
    import numpy as np
    order = np.random.RandomState(seed).permutation(len(keys))
    return {keys[j]: i % k for i, j in enumerate(order)}


def cross_validate(corpus: "training.Corpus", k: int = 5, seed: int = training.SEED,
                   extractors=EXTRACTORS, log=None) -> dict:
    """{extractor: referee result} over the real documents, each predicted by a model that never saw it."""
    items = corpus.items
    real = [it for it in items if not it.file.composed]
    if len(real) < k:
        raise ValueError(f"{len(real)} real documents cannot make {k} folds")
    folds = fold_of([it.key for it in real], k, seed)
    preds: dict[str, dict[str, list[dict]]] = {ex: {} for ex in extractors}   # item key -> tasks
    for it in real:
        if "rules" in extractors:
            preds["rules"][it.key] = _tasks_of(it, it.file.rule_records)
    learned = [ex for ex in extractors if ex != "rules"]
    sizes = []
    for f in range(k):
        test = [it for it in real if folds[it.key] == f]
        train = [it for it in items if folds.get(it.key) != f]
        if not learned:
            break
        models = training.fit_models(train, seed=seed, log=log)
        sizes.append({"fold": f, "train_docs": len(train), "test_docs": len(test)})
        for ex in learned:
            recs = training.predict_items(test, ex, models)
            for it in test:
                preds[ex][it.key] = _tasks_of(it, recs[it.key])
        if log:
            log(f"fold {f + 1}/{k}: trained on {len(train)} documents, tested on {len(test)}")
    out = {ex: _score(real, preds[ex]) for ex in extractors}
    out["_folds"] = sizes
    out["_documents"] = len(real)
    out["_k"] = k
    return out


def _tasks_of(it, records: list[dict]) -> list[dict]:
    return [t for r in records if r.get("speech") == it.index for t in r.get("tasks", [])]


def _score(items, tasks_by_key: dict[str, list[dict]]) -> dict:
    """Referee scores of the items' predictions: texts, gold and predictions laid out in a temp folder."""
    with tempfile.TemporaryDirectory(prefix="speechledger-cv-") as tmp:
        texts = os.path.join(tmp, "texts")
        os.mkdir(texts)
        files: dict[int, tuple[str, object]] = {}
        for it in items:
            fd = it.file
            if id(fd) not in files:
                name = f"{fd.set}--{fd.stem}".replace("/", "_")
                files[id(fd)] = (name, fd)
                with open(os.path.join(texts, name + ".txt"), "w", encoding="utf-8", newline="") as f:
                    f.write(fd.text)
        with open(os.path.join(tmp, "gold.jsonl"), "w", encoding="utf-8") as g, \
                open(os.path.join(tmp, "pred.jsonl"), "w", encoding="utf-8") as p:
            for it in items:
                name, fd = files[id(it.file)]
                sp = it.speech
                for sid in sorted(fd.gold):
                    if sid < len(fd.segments) and sp.start <= fd.segments[sid].start < sp.end:
                        g.write(json.dumps({**fd.gold[sid], "doc": name, "seg": sid}, ensure_ascii=False) + "\n")
                p.write(json.dumps({"source": name + ".txt", "speech": it.index, "tasks": tasks_by_key[it.key]},
                                   ensure_ascii=False) + "\n")
        return score(texts, os.path.join(tmp, "gold.jsonl"), os.path.join(tmp, "pred.jsonl"))
