"""Training the learned extractors from annotated corpora (ANNOTATION.md §7 gold).

A corpus root is searched for gold sets: any folder with a `texts/` subfolder and
a `gold.jsonl` (or `gold/*.jsonl`), optionally `dates.json`. Every text is run
through the rule pipeline once; each speech of a text is one training document
(so a compilation of five speeches gives five, and cross-validation never splits
a document across folds).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from speechledger.evaluate import Counts, locate, score_document
from speechledger.ml.features import rule_view
from speechledger.ml.task_model import TaskModel
from speechledger.ml.unit_crf import UnitCRF

SEED = 13
# Generic collective bodies (ANNOTATION.md §3) seeded into the CRF lexicon.
BASE_LEXICON = ["各级各部门", "各有关部门", "各相关部门", "有关部门", "相关部门", "各部门", "各单位", "各有关单位",
                "各县市区", "各县区", "各乡镇", "各街道", "各镇街", "各企业", "各金融单位", "各责任单位", "各牵头单位",
                "牵头单位", "责任单位", "各级政府", "市政府", "县政府", "区政府", "市委", "县委", "区委"]


@dataclass
class GoldSet:
    name: str
    texts: Path
    gold: list[Path]
    dates: dict


def find_sets(roots: list[str]) -> list[GoldSet]:
    """Gold sets under each root (the root itself and its subfolders, two levels deep)."""
    out, seen = [], set()
    for root in roots:
        root = Path(root)
        cands = [root] + sorted(p for p in root.glob("*") if p.is_dir()) + \
            sorted(p for p in root.glob("*/*") if p.is_dir())
        for d in cands:
            if not (d / "texts").is_dir() or d.resolve() in seen:
                continue
            gold = [d / "gold.jsonl"] if (d / "gold.jsonl").is_file() else sorted((d / "gold").glob("*.jsonl"))
            if not gold:
                continue
            seen.add(d.resolve())
            dates = {}
            if (d / "dates.json").is_file():
                dates = json.loads((d / "dates.json").read_text(encoding="utf-8"))
            name = str(d.relative_to(root)) if d != root else root.name
            out.append(GoldSet(name=name, texts=d / "texts", gold=gold, dates=dates))
    return out


@dataclass
class FileDoc:
    set: str
    stem: str
    path: Path
    date: str | None
    text: str
    doc: object                       # SpeechDoc after the rule pipeline
    gold: dict[int, dict]             # by referee segment id
    segments: list                    # referee segments of the whole text
    rule_records: list[dict] = field(default_factory=list)


@dataclass
class Item:
    """One document for training and cross-validation: one speech of one file."""

    file: FileDoc
    index: int                        # speech index
    y_task: np.ndarray = None
    y_modality: list = None
    y_specific: np.ndarray = None
    units: list = None                # per segment: list of (start, end)
    X_base: object = None
    rules: object = None

    @property
    def speech(self):
        return self.file.doc.speeches[self.index]

    @property
    def key(self) -> str:
        return f"{self.file.set}/{self.file.stem}#{self.index}"

    def score(self, records: list[dict]) -> Counts:
        """Counts for this speech given §6 records of its file (only this speech's tasks count)."""
        sp = self.speech
        tasks = [t for r in records if r.get("speech") == self.index for t in r.get("tasks", [])]
        return score_document(f"{self.file.stem}", self.file.text, self.file.gold, tasks,
                              segs=self.file.segments, only=(sp.start, sp.end))


@dataclass
class Corpus:
    sets: list[GoldSet]
    files: list[FileDoc]
    items: list[Item]

    def digest(self) -> str:
        h = hashlib.sha256()
        for f in self.files:
            h.update(f"{f.set}/{f.stem}\0{f.date}\0".encode())
            h.update(f.text.encode())
            h.update(json.dumps([f.gold[k] for k in sorted(f.gold)], ensure_ascii=False, sort_keys=True).encode())
        return h.hexdigest()

    def sizes(self) -> dict:
        return {"sets": {s.name: sum(1 for f in self.files if f.set == s.name) for s in self.sets},
                "files": len(self.files), "documents": len(self.items),
                "characters": sum(len(f.text) for f in self.files),
                "segments": sum(len(it.speech.segments) for it in self.items),
                "tasks": int(sum(it.y_task.sum() for it in self.items)),
                "units": sum(len(u) for it in self.items for u in it.units)}


def load_corpus(roots: list[str], log=None) -> Corpus:
    """Read every gold set under roots, run the rule pipeline on each text, build labelled items."""
    from speechledger.api import Pipeline, records
    from speechledger.evaluate import read_gold
    from speechledger.segment import split_segments
    sets = find_sets(roots)
    if not sets:
        raise FileNotFoundError(f"no gold sets (texts/ + gold.jsonl) under {', '.join(map(str, roots))}")
    pipe = Pipeline(extractors="rules")
    files: list[FileDoc] = []
    items: list[Item] = []
    for gs in sets:
        gold = {}
        for g in gs.gold:
            for k, v in read_gold(g).items():
                gold.setdefault(k, {}).update(v)
        for path in sorted(gs.texts.glob("*.txt")):
            stem = path.stem
            with open(path, encoding="utf-8") as f:
                text = f.read()
            date = gs.dates.get(stem)
            doc = pipe(text, source=str(path), date=date)
            fd = FileDoc(set=gs.name, stem=stem, path=path, date=date, text=text, doc=doc,
                         gold=gold.get(stem, {}), segments=split_segments(text), rule_records=records(doc))
            files.append(fd)
            for sp in doc.speeches:
                if sp.segments:
                    items.append(_label(Item(fd, sp.index), config=pipe.config))
        if log:
            log(f"read {gs.name}: {sum(1 for f in files if f.set == gs.name)} texts")
    return Corpus(sets, files, items)


def _label(it: Item, config) -> Item:
    fd, sp = it.file, it.speech
    by_start = {fd.segments[sid].start: g for sid, g in fd.gold.items() if sid < len(fd.segments)}
    n = len(sp.segments)
    it.y_task = np.zeros(n, int)
    it.y_modality = [None] * n
    it.y_specific = np.zeros(n, int)
    it.units = [[] for _ in range(n)]
    for i, seg in enumerate(sp.segments):
        g = by_start.get(seg.start)
        if g is None:
            continue
        it.y_task[i] = 1
        it.y_modality[i] = g.get("modality", "should")
        it.y_specific[i] = int(bool(g.get("specific")))
        for u in g.get("units", []):
            it.units[i].append(locate(seg.text, seg.start, u))
    doc = fd.doc
    # the rule view before ml stages: tasks found by the rules on this speech
    it.rules = rule_view(doc, sp, config, with_evidence=False)
    return it


def _features(items: list[Item], featurizer) -> None:
    for it in items:
        if it.X_base is None:
            it.X_base = featurizer.base(it.file.doc, it.speech)


def fit_models(items: list[Item], seed: int = SEED, model_dir: str | None = None, log=None):
    """Train the ml and hybrid task models and the unit CRF on items; a loading.Models."""
    from scipy import sparse

    from speechledger.ml.loading import Models
    keys = sorted({k for it in items for e in it.rules.evidence for k in e})
    ml = TaskModel(use_rules=False, seed=seed)
    hy = TaskModel(use_rules=True, seed=seed)
    hy.featurizer.evidence_keys = keys
    _features(items, ml.featurizer)
    Xb = sparse.vstack([it.X_base for it in items], format="csr")
    Xr = sparse.vstack([hy.featurizer.rule_columns(it.rules) for it in items], format="csr")
    y_task = np.concatenate([it.y_task for it in items])
    y_mod = [m for it in items for m in it.y_modality]
    y_spec = np.concatenate([it.y_specific for it in items])
    ml.fit(Xb, y_task, y_mod, y_spec)
    hy.fit(sparse.hstack([Xb, Xr], format="csr"), y_task, y_mod, y_spec)
    crf = fit_units(items, model_dir=model_dir)
    return Models(task_ml=ml, task_hybrid=hy, units=crf, card={}, path=model_dir or "",
                  params={})


def unit_samples(items: list[Item]):
    """CRF windows of every gold task segment, the prediction lexicon, and per-window training lexicons."""
    per_item, words_of = [], []
    for it in items:
        norm = it.file.doc.norm
        rows, words = [], set()
        for i, seg in enumerate(it.speech.segments):
            if not it.y_task[i]:
                continue
            spans = it.units[i]
            words.update(norm[a:b] for a, b in spans)
            rows += [(norm, s, e, y) for s, e, y in UnitCRF.examples(norm, seg.start, seg.end, spans)]
        per_item.append(rows)
        words_of.append(words)
    df: dict[str, int] = {}
    for words in words_of:
        for w in words:
            df[w] = df.get(w, 0) + 1
    lexicon = sorted(set(BASE_LEXICON) | set(df))
    samples, sample_lexicons = [], []
    for rows, words in zip(per_item, words_of):
        # leave this document's own units out unless another document names them too
        own = tuple(sorted(set(BASE_LEXICON) | {w for w, n in df.items() if n > (w in words)}))
        samples += rows
        sample_lexicons += [own] * len(rows)
    return samples, lexicon, sample_lexicons


def fit_units(items: list[Item], model_dir: str | None = None) -> UnitCRF:
    samples, lexicon, sample_lexicons = unit_samples(items)
    if model_dir:
        path = os.path.join(model_dir, "units.crfsuite")
    else:
        fd, path = tempfile.mkstemp(suffix=".crfsuite", prefix="speechledger-units-")
        os.close(fd)
    crf = UnitCRF().fit(samples, lexicon, model_path=path, sample_lexicons=sample_lexicons)
    if not model_dir:
        crf.open(path)           # the tagger keeps the model in memory; the file can go
        os.unlink(path)
        crf.model_path = None
    return crf


def predict_items(items: list[Item], extractors: str, models) -> dict[str, list[dict]]:
    """§6 records of each item's file, produced with the given models (keyed by item)."""
    from speechledger.api import Pipeline, records
    pipe = Pipeline(extractors=extractors)
    pipe.config._cache["models"] = models
    out, done = {}, {}
    for it in items:
        fd = it.file
        if id(fd) not in done:
            done[id(fd)] = records(pipe(fd.text, source=str(fd.path), date=fd.date))
        out[it.key] = done[id(fd)]
    return out


def train_models(roots: list[str], out: str, seed: int = SEED, cv_folds: int = 5, log=None) -> dict:
    """Train on every gold set under roots, cross-validate, and write models + cards to out."""
    import joblib

    from speechledger.evaluate import cross_validate
    from speechledger.ml.hybrid import DEFAULTS
    from speechledger.ml.loading import CARD, library_versions, rules_fingerprint
    t0 = time.perf_counter()
    corpus = load_corpus(roots, log=log)
    cv = None
    if cv_folds and cv_folds > 1:
        cv = cross_validate(roots, k=cv_folds, seed=seed, log=log, corpus=corpus)
    os.makedirs(out, exist_ok=True)
    models = fit_models(corpus.items, seed=seed, model_dir=out, log=log)
    models.units.save_model(os.path.join(out, "units.crfsuite"))
    units = models.units
    joblib.dump(models.task_ml, os.path.join(out, "tasks_ml.joblib"), compress=3)
    joblib.dump(models.task_hybrid, os.path.join(out, "tasks_hybrid.joblib"), compress=3)
    path = units.model_path
    units.model_path = "units.crfsuite"
    joblib.dump(units, os.path.join(out, "units.joblib"), compress=3)
    units.model_path = path
    seconds = time.perf_counter() - t0
    card = {
        "name": "speechledger-learned-extractors",
        "created": time.strftime("%Y-%m-%d"),
        "seed": seed,
        "training_data": {"roots": [str(r) for r in roots], "sha256": corpus.digest(), **corpus.sizes()},
        "models": {
            "tasks_ml.joblib": {"kind": "LogisticRegression x3 (is_task, modality, specific)",
                                "features": "hashed char 1-3grams + cue/outline/neighbour features",
                                "trained_on": models.task_ml.sizes},
            "tasks_hybrid.joblib": {"kind": "LogisticRegression x3, stacked: text features + the rule decision, "
                                            "its modality, the neighbours' decisions (+ rule cue evidence "
                                            "when the rule stage publishes doc.meta['task_evidence'])",
                                    "evidence_keys": models.task_hybrid.featurizer.evidence_keys,
                                    "trained_on": models.task_hybrid.sizes},
            "units.crfsuite": {"kind": "linear-chain CRF (crfsuite lbfgs), BIO over characters",
                               "c1": units.c1, "c2": units.c2, "trained_on": units.sizes},
        },
        "params": dict(DEFAULTS),          # the decision thresholds the hybrid stages use
        "libraries": library_versions(),
        "rules_fingerprint": rules_fingerprint(),
        "cv": None if cv is None else {
            "folds": cv_folds, "by": "document (each speech of a file)", "documents": cv["_documents"],
            **{ex: {k: cv[ex][k] for k in ("tasks", "units", "deadlines", "targets", "accuracy", "macro_f1")}
               for ex in ("rules", "ml", "hybrid")}},
        "training_seconds": round(seconds, 1),
    }
    with open(os.path.join(out, CARD), "w", encoding="utf-8") as f:
        json.dump(card, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write("\n")
    with open(os.path.join(out, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write(card_markdown(card, cv))
    return card


def card_markdown(card: dict, cv: dict | None) -> str:
    from speechledger.evaluate import cv_table
    td = card["training_data"]
    lines = [
        "# SpeechLedger learned extractors",
        "",
        f"Trained {card['created']} with seed {card['seed']} by `speechledger train` "
        f"in {card['training_seconds']} s. Deterministic: the same corpus and libraries give the same files.",
        "",
        "## Training data",
        f"- corpus sha256 `{td['sha256'][:16]}…` from {', '.join(td['roots'])}",
        f"- {td['files']} texts ({', '.join(f'{k}: {v}' for k, v in td['sets'].items())}), "
        f"{td['documents']} documents (speeches), {td['characters']} characters",
        f"- {td['segments']} segments, {td['tasks']} task segments, {td['units']} responsible units",
        "",
        "## Models",
    ]
    for name, m in card["models"].items():
        lines.append(f"- `{name}`: {m['kind']}; trained on {json.dumps(m['trained_on'], ensure_ascii=False)}")
    lines += ["", "## Libraries (loading refuses other versions)",
              ", ".join(f"{k} {v}" for k, v in card["libraries"].items()), ""]
    if cv is not None:
        lines += [f"## Cross-validation ({card['cv']['folds']}-fold by document, {card['cv']['documents']} documents)",
                  "", "```", cv_table(cv), "```", ""]
    lines += ["Deadlines and targets stay rule-based in every mode; their scores differ between",
              "columns only through the task segments each extractor keeps.", ""]
    return "\n".join(lines)
