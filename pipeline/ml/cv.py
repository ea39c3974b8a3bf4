"""Cross-validation by document of rules / ml / hybrid, scored by the referee.

Folds are drawn over the real documents only (each speech of a file is a document);
composed passages (GoldSet.composed) join every training fold but are never tested.
The held-out predictions of all folds are written as one prediction file per
extractor and scored once by the referee (speechledger/referee), so the table's
counts are exactly the referee's.

Two ways to fold (`by`): "random" (fold_of: a seeded shuffle, round robin; the model card's CV)
puts documents of the same kind, source and style in train and test alike; "kind" holds out one
source kind at a time (document_kinds: the `kind` column of ../shared's SOURCES.md tables), as
unseen real text comes from kinds and sources the models never saw.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from speechledger.evaluate import EXTRACTORS, FIELDS, score
from speechledger.ml import training
from speechledger.referee import referee


def fold_of(keys: list[str], k: int, seed: int) -> dict[str, int]:
    """Deterministic assignment of documents to k folds (seeded shuffle, then round robin)."""
    import numpy as np
    order = np.random.RandomState(seed).permutation(len(keys))
    return {keys[j]: i % k for i, j in enumerate(order)}


FOLDS = ("random", "kind")
# SOURCES.md kinds that get no group of their own: the long national policy documents (L01 decision,
# L02/L03 opinions) are 意见/决定 with targets and ministry tasks, which SOURCES.md's kind table puts
# under task_breakdown (实施方案/意见); corpus/train's "notice" rows are 分工/督查 notices (t30-t36).
KIND_GROUP = {"decision": "task_breakdown", "opinions": "task_breakdown", "notice": "task_breakdown"}
SEED_KIND = "speech"        # the seed compilation (corpus/texts): leaders' speeches
_KIND_SOURCES = {"real": ("real",), "long": ("real",), "train": ("train",)}


def source_kinds(path: Path) -> dict[str, str]:
    """File id -> kind of every row of the markdown tables in a SOURCES.md that have `file` and `kind`
    columns ("r001.txt | speech" -> r001: speech; "decision (national policy…)" -> decision)."""
    out: dict[str, str] = {}
    cols = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            cols = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cols is None:
            cols = cells if "file" in cells and "kind" in cells else []
            continue
        if not cols or set(cells[0]) <= set("-: "):
            continue
        kind = re.match(r"[A-Za-z_]+", cells[cols.index("kind")])
        if kind:
            out[cells[cols.index("file")].removesuffix(".txt")] = kind.group(0)
    return out


def document_kinds(items, root: str | Path = ".") -> dict[str, str]:
    """Item key -> group (KIND_GROUP of its SOURCES.md kind) of the real documents among items; the
    tables are read from ../shared at run time. A document without a kind is an error."""
    shared = training.shared_dir(Path(root)) / "corpus"
    tables: dict[str, dict[str, str]] = {}
    out = {}
    for it in items:
        fd = it.file
        if fd.composed:
            continue
        if fd.set == "seed":
            out[it.key] = SEED_KIND
            continue
        kind = None
        for src in _KIND_SOURCES.get(fd.set, ("real", "train")):
            if src not in tables:
                f = shared / src / "SOURCES.md"
                tables[src] = source_kinds(f) if f.is_file() else {}
            kind = kind or tables[src].get(fd.stem)
        if kind is None:
            names = ", ".join(str(shared / s / "SOURCES.md") for s in _KIND_SOURCES.get(fd.set, ("real", "train")))
            raise ValueError(f"{fd.set}/{fd.stem}: no kind for this file in {names}")
        out[it.key] = KIND_GROUP.get(kind, kind)
    return out


def group_folds(groups: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    """One fold per group (sorted by name): each fold holds out every document of one group."""
    names = sorted(set(groups.values()))
    return {key: names.index(g) for key, g in groups.items()}, names


def folds_for(real: list, k: int, seed: int, by: str = "random", kinds: dict[str, str] | None = None):
    """(item key -> fold, fold names or None) of the real items: fold_of's k random folds, or one per kind
    (kinds: document_kinds of the items)."""
    if by == "random":
        return fold_of([it.key for it in real], k, seed), None
    if by != "kind":
        raise ValueError(f"unknown folds {by!r} (one of {', '.join(FOLDS)})")
    if kinds is None:
        raise ValueError("folds by kind need the documents' kinds (document_kinds)")
    return group_folds({it.key: kinds[it.key] for it in real})


def cross_validate(corpus: "training.Corpus", k: int = 5, seed: int = training.SEED,
                   extractors=EXTRACTORS, log=None, rule_drop: float | None = None,
                   misses: float = 0.0, params: dict | None = None, by: str = "random",
                   kinds: dict[str, str] | None = None) -> dict:
    """{extractor: referee result} over the real documents, each predicted by a model that never saw it.

    rule_drop: rule-noise rate of the hybrid model's training (default training.RULE_DROP, as shipped).
    misses > 0: the same fold models also predict with the held-out documents' rule tasks and units
    dropped at this rate (training.drop_rule_tasks/drop_rule_units: the rules miss more on unseen
    text than on the documents they were written from); those scores go to out["misses"].
    params: decision parameters (default: hybrid.DEFAULTS).
    by: "random" (k seeded folds) or "kind" (one fold per held-out kind of kinds, k ignored).
    """
    rule_drop = training.RULE_DROP if rule_drop is None else rule_drop
    items = corpus.items
    real = [it for it in items if not it.file.composed]
    if by == "random" and len(real) < k:
        raise ValueError(f"{len(real)} real documents cannot make {k} folds")
    folds, names = folds_for(real, k, seed, by, kinds)
    k = len(names) if names else k
    drops = (0.0, misses) if misses else (0.0,)
    # drop rate -> extractor -> item key -> tasks
    preds: dict[float, dict[str, dict[str, list[dict]]]] = {d: {ex: {} for ex in extractors} for d in drops}
    if "rules" in extractors:
        for it in real:
            preds[0.0]["rules"][it.key] = _tasks_of(it, it.file.rule_records)
    learned = [ex for ex in extractors if ex != "rules"]
    sizes = []
    for f in range(k):
        test = [it for it in real if folds[it.key] == f]
        train = [it for it in items if folds.get(it.key) != f]
        if misses and "rules" in extractors:
            recs = training.predict_items(test, "rules", None, rule_drop=misses, seed=seed)
            preds[misses]["rules"].update({it.key: _tasks_of(it, recs[it.key]) for it in test})
        if not learned:
            continue
        models = training.fit_models(train, seed=seed, log=log, rule_drop=rule_drop)
        if params is not None:
            models.params = dict(params)
        sizes.append({"fold": f, "train_docs": len(train), "test_docs": len(test),
                      **({"group": names[f]} if names else {})})
        for d in drops:
            for ex in learned:
                if d and ex == "ml":       # the ml extractor reads neither rule tasks nor rule units
                    preds[d][ex] = preds[0.0][ex]
                    continue
                recs = training.predict_items(test, ex, models, rule_drop=d, seed=seed)
                preds[d][ex].update({it.key: _tasks_of(it, recs[it.key]) for it in test})
        if log:
            log(f"fold {f + 1}/{k}: trained on {len(train)} documents, tested on {len(test)}")
    out = {ex: _score(real, preds[0.0][ex]) for ex in extractors}
    if misses:
        out["misses"] = {ex: _score(real, preds[misses][ex]) for ex in extractors}
    out["_folds"] = sizes
    out["_documents"] = len(real)
    out["_k"], out["_by"] = k, by
    out["_rule_drop"], out["_misses"] = rule_drop, misses
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


def tune(corpus: "training.Corpus", grid: list[dict], k: int = 5, seed: int = training.SEED,
         train_drops=(0.0,), test_drops=(0.0,), log=None, contexts=None, finder_miss: bool = False,
         task_blind: bool = False, by: str = "random", kinds: dict[str, str] | None = None) -> list[dict]:
    """Hybrid decision parameters by cross-validation: one row per (train_drop, test_drop, params, fold).

    Each fold's models are trained once per train_drop (rule-noise training) and predict the
    held-out documents under every params of the grid, with the rule tasks thinned by each
    test_drop (drop_rule_tasks: rules that miss as on unseen text). Rows carry the referee's
    per-field tp/fp/fn, so they can be pooled or averaged over folds (summarise()).
    Rows for "rules" and "ml" (the ml row under the grid's first params) are included.
    contexts: context-model variants (task_model.CONTEXT_VARIANTS) each fold refits and runs the grid
    with (params["context"] names it); default: the model as fit_models trains it.
    finder_miss: each test_drop > 0 runs twice, as rule misses and as finder misses (rows' "miss":
    mentions.drop_rule_mentions -- the dropped targets and deadlines are not even proposed).
    task_blind: each test_drop > 0 also runs with the task models blind to the dropped rule tasks' segments
    (miss "blind", training.drop_rule_tasks): segments no task stage takes, holding gold targets/deadlines.
    by: "random" (k seeded folds) or "kind" (one fold per held-out kind, k ignored; rows' "group" names it).
    kinds (document_kinds): rows also carry "by_group", the fold's tp/fp/fn per kind (summarise_groups).
    """
    real = [it for it in corpus.items if not it.file.composed]
    folds, names = folds_for(real, k, seed, by, kinds)
    k = len(names) if names else k
    rows = []
    for f in range(k):
        test = [it for it in real if folds[it.key] == f]
        train = [it for it in corpus.items if folds.get(it.key) != f]
        for td in train_drops:
            models = training.fit_models(train, seed=seed, rule_drop=td)
            for ctx, xd in _contexts(models, train, contexts, test_drops, seed):
                runs = [("hybrid", {**p, **ctx}) for p in grid] + [("ml", {**grid[0], **ctx})]
                if td == train_drops[0]:
                    runs.append(("rules", {}))
                misses = ["rule"] + ["finder"] * finder_miss + ["blind"] * task_blind if xd else [None]
                for miss in misses:
                    pipes = {}
                    for ex, params in runs:
                        models.params = dict(params)
                        if ex not in pipes:
                            pipes[ex] = training.pipeline_for(ex, models, xd, seed, unit_drop=xd,
                                                              finder_miss=miss == "finder",
                                                              task_blind=miss == "blind")
                        recs = training.predict_items(test, ex, models, pipe=pipes[ex])
                        tasks = {it.key: _tasks_of(it, recs[it.key]) for it in test}
                        counts = _counts(_score(test, tasks))
                        row = {"extractor": ex, "train_drop": td if ex != "rules" else None, "test_drop": xd,
                               "miss": miss, "params": dict(params), "fold": f, **counts}
                        if names:
                            row["group"] = names[f]
                        if kinds:
                            groups = sorted({kinds[it.key] for it in test})
                            # a fold of one kind (folds by kind) is scored once, not again for its kind
                            row["by_group"] = {groups[0]: counts} if len(groups) == 1 else \
                                {g: _counts(_score([it for it in test if kinds[it.key] == g], tasks)) for g in groups}
                        rows.append(row)
            if log:
                log(f"fold {f + 1}/{k}, train_drop {td}: {len(rows)} rows")
    return rows


def _counts(res: dict) -> dict:
    return {fld: {m: res[fld][m] for m in ("tp", "fp", "fn")} for fld in FIELDS}


def _contexts(models, train, variants, test_drops, seed):
    """(params naming the context model, test drop) pairs, with models.task_ml.context set to each
    variant's model (fit on the same out-of-fold logits) in turn."""
    if not variants:
        for xd in test_drops:
            yield {}, xd
        return
    import numpy as np
    from scipy import sparse
    Xb = sparse.vstack([it.X_base for it in train], format="csr")
    y = np.concatenate([it.y_task for it in train])
    z = training.oof_logits(train, Xb, y, seed)
    for v in variants:
        models.task_ml.context = training.fit_context(train, Xb, y, seed, v, z)
        for xd in test_drops:
            yield {"context": v}, xd


def summarise(rows: list[dict]) -> list[dict]:
    """Pool the folds of tune()'s rows: per field P/R/F1 pooled, and F1 averaged over folds."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        key = json.dumps([r["extractor"], r["train_drop"], r["test_drop"], r["params"], r.get("miss")], sort_keys=True)
        groups.setdefault(key, []).append(r)
    prf_ = referee().prf                    # the referee's P/R/F1 (rounded to 4 places)
    out = []
    for key, rs in groups.items():
        ex, td, xd, params, miss = json.loads(key)
        s = {"extractor": ex, "train_drop": td, "test_drop": xd, "miss": miss, "params": params, "folds": len(rs)}
        for fld in FIELDS:
            f1s = [_f1(r[fld]) for r in rs]
            s[fld] = {**prf_(*(sum(r[fld][m] for r in rs) for m in ("tp", "fp", "fn"))),
                      "f1_fold_avg": sum(f1s) / len(f1s)}
        s["macro_f1"] = sum(s[fld]["f1"] for fld in FIELDS) / len(FIELDS)
        out.append(s)
    return out


def summarise_groups(rows: list[dict]) -> list[dict]:
    """summarise() per kind: the rows' by_group counts pooled per (run, kind); "group" names the kind."""
    per = [{**r, **c, "group": g} for r in rows for g, c in r.get("by_group", {}).items()]
    out = []
    for g in sorted({r["group"] for r in per}):
        out += [{**s, "group": g} for s in summarise([r for r in per if r["group"] == g])]
    return out


def _f1(m: dict) -> float:
    d = 2 * m["tp"] + m["fp"] + m["fn"]
    return 2 * m["tp"] / d if d else 1.0
