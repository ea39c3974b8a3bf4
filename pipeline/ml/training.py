"""Training the learned extractors from annotated text (ANNOTATION.md §7 gold).

`default_sets()` is the training data of `speechledger train`: every real document with
gold -- the seed speeches (corpus/texts), ../shared/corpus/train, and the real passages
and long documents of ../shared/corpus/real except the frozen test split
(corpus/real/frozen_test.json), with our gold corrections
(corpus/real/review/*/corrections.jsonl) -- plus the composed passages corpus/extra*,
labelled composed (they train, but cross-validation never tests on them). Shared texts
are read in place (SPEECHLEDGER_SHARED overrides ../shared), never copied.

`find_sets(roots)` instead takes any folder with `texts/` and `gold.jsonl` (or
`gold/*.jsonl`), optionally `dates.json` (`--corpus`). Every text runs through the
rule pipeline once; each speech of a text is one document (cross-validation never
splits a document across folds).
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

from speechledger.evaluate import read_gold
from speechledger.ml.features import rule_view
from speechledger.ml.task_model import TaskModel
from speechledger.ml.unit_crf import UnitCRF
from speechledger.referee import referee

SEED = 13
# Rule-noise training of the hybrid model: the share of rule tasks hidden from it per training
# document (noisy_view). Off: 0.5 won the CV with simulated rule misses (scripts/tune_hybrid.py)
# but lost the plain CV (tasks P .970 -> .931), and on the frozen real passages it cost tasks
# precision (.912 -> .825) for little recall (.877 -> .887), so the random misses of the
# simulation are not the rules' misses on unseen text (corpus/real/FROZEN_SCORES.md, round 4)
RULE_DROP = 0.0
# The rule-miss rate of the second cross-validation `speechledger train` records (cv.cross_validate).
CV_MISSES = 0.15
# Generic collective bodies (ANNOTATION.md §3) seeded into the CRF lexicon.
BASE_LEXICON = ["各级各部门", "各有关部门", "各相关部门", "有关部门", "相关部门", "各部门", "各单位", "各有关单位",
                "各县市区", "各县区", "各乡镇", "各街道", "各镇街", "各企业", "各金融单位", "各责任单位", "各牵头单位",
                "牵头单位", "责任单位", "各级政府", "市政府", "县政府", "区政府", "市委", "县委", "区委"]


# The second pass of the text-only model (task_model.ContextModel); None: none
CONTEXT_VARIANT = "full"
CONTEXT_FOLDS = 5


@dataclass
class GoldSet:
    name: str
    texts: Path
    gold: dict[str, dict[int, dict]]   # doc stem -> segment id -> gold line
    dates: dict
    docs: list[str] | None = None      # the stems to use (None: every texts/*.txt)
    composed: bool = False             # passages written by the team: train on them, never test on them

    def paths(self) -> list[Path]:
        stems = self.docs if self.docs is not None else [p.stem for p in self.texts.glob("*.txt")]
        return [self.texts / f"{s}.txt" for s in sorted(stems)]


def _read_golds(paths: list[Path]) -> dict[str, dict[int, dict]]:
    gold: dict[str, dict[int, dict]] = {}
    for g in paths:
        for k, v in read_gold(g).items():
            gold.setdefault(k, {}).update(v)
    return gold


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
            out.append(GoldSet(name=name, texts=d / "texts", gold=_read_golds(gold), dates=dates))
    return out


def _card_path(p) -> str:
    """A training folder as the card records it: relative to the folder training ran in
    ("../shared/corpus/real/texts"), so the card names no machine's absolute paths."""
    try:
        return os.path.relpath(p)
    except ValueError:        # another drive (Windows)
        return str(p)


def shared_dir(root: Path) -> Path:
    return Path(os.environ.get("SPEECHLEDGER_SHARED", root.resolve().parent / "shared"))


def frozen_docs(root: Path) -> set[str]:
    """The frozen test split's documents: never trained or evaluated on."""
    frozen = json.loads((root / "corpus" / "real" / "frozen_test.json").read_text(encoding="utf-8"))
    return set(frozen["passages"]) | set(frozen["long"])


def corrections(root: Path) -> dict[tuple[str, int], dict | None]:
    """(doc, seg) -> our corrected gold line (None: not a task), from corpus/real/**/corrections.jsonl."""
    out: dict[tuple[str, int], dict | None] = {}
    for f in sorted((root / "corpus" / "real").glob("**/corrections.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                g = json.loads(line)
                g.pop("why", None)
                out[(g["doc"], g["seg"])] = None if g.get("not_a_task") else g
    return out


def corrected(gold: dict[str, dict[int, dict]], fixes: dict, docs: set[str]) -> dict[str, dict[int, dict]]:
    """The gold of docs with corrected lines in place (a correction may also add or remove a task segment)."""
    out = {doc: dict(segs) for doc, segs in gold.items() if doc in docs}
    for (doc, seg), g in fixes.items():
        if doc not in docs:
            continue
        if g is None:
            out.get(doc, {}).pop(seg, None)
        else:
            out.setdefault(doc, {})[seg] = g
    return out


def default_sets(root: str | Path = ".") -> list[GoldSet]:
    """All real gold except the frozen test split, plus the composed passages (see the module doc)."""
    root = Path(root)
    shared = shared_dir(root) / "corpus"
    if not shared.is_dir():
        raise FileNotFoundError(f"no shared corpus at {shared} (set SPEECHLEDGER_SHARED)")
    frozen, fixes = frozen_docs(root), corrections(root)
    dates = {}
    for d in ("real", "train"):
        dates.update(json.loads((shared / d / "dates.json").read_text(encoding="utf-8")))
    keep = lambda folder: sorted(p.stem for p in folder.glob("*.txt") if p.stem not in frozen)  # noqa: E731
    passages, long = keep(shared / "real" / "texts"), keep(shared / "real" / "long")
    sets = [
        GoldSet("seed", root / "corpus" / "texts", _read_golds([root / "corpus" / "gold" / "dev.jsonl"]), {}),
        GoldSet("train", shared / "train" / "texts", _read_golds([shared / "train" / "gold.jsonl"]), dates),
        GoldSet("real", shared / "real" / "texts",
                corrected(_read_golds([shared / "real" / "gold.jsonl"]), fixes, set(passages)), dates, passages),
        GoldSet("long", shared / "real" / "long",
                corrected(_read_golds([shared / "real" / "long_gold.jsonl"]), fixes, set(long)), dates, long),
    ]
    for d in sorted((root / "corpus").glob("extra*")):
        if (d / "texts").is_dir() and (d / "gold.jsonl").is_file():
            dd = json.loads((d / "dates.json").read_text(encoding="utf-8")) if (d / "dates.json").is_file() else {}
            sets.append(GoldSet(d.name, d / "texts", _read_golds([d / "gold.jsonl"]), dd, composed=True))
    return sets


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
    composed: bool = False


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


@dataclass
class Corpus:
    sets: list[GoldSet]
    files: list[FileDoc]
    items: list[Item]

    def digest(self) -> str:
        h = hashlib.sha256()
        for f in self.files:
            h.update(f"{f.set}/{f.stem}\0{f.date}\0{f.composed}\0".encode())
            h.update(f.text.encode())
            h.update(json.dumps([f.gold[k] for k in sorted(f.gold)], ensure_ascii=False, sort_keys=True).encode())
        return h.hexdigest()

    def sizes(self) -> dict:
        return {"sets": {s.name: sum(1 for f in self.files if f.set == s.name) for s in self.sets},
                "composed_sets": [s.name for s in self.sets if s.composed],
                "real_documents": sum(1 for it in self.items if not it.file.composed),
                "files": len(self.files), "documents": len(self.items),
                "characters": sum(len(f.text) for f in self.files),
                "segments": sum(len(it.speech.segments) for it in self.items),
                "tasks": int(sum(it.y_task.sum() for it in self.items)),
                "units": sum(len(u) for it in self.items for u in it.units)}


def load_corpus(sets: list[GoldSet], log=None) -> Corpus:
    """Run the rule pipeline on each text of the gold sets and build labelled items."""
    from speechledger.api import Pipeline, records
    from speechledger.reader import read_file
    if not sets:
        raise FileNotFoundError("no gold sets (texts/ + gold.jsonl)")
    split = referee().split
    pipe = Pipeline(extractors="rules")
    files: list[FileDoc] = []
    items: list[Item] = []
    for gs in sets:
        for path in gs.paths():
            stem = path.stem
            text, _ = read_file(path)
            date = gs.dates.get(stem)
            doc = pipe(text, source=str(path), date=date)
            fd = FileDoc(set=gs.name, stem=stem, path=path, date=date, text=text, doc=doc,
                         gold=gs.gold.get(stem, {}), segments=split(text), rule_records=records(doc),
                         composed=gs.composed)
            files.append(fd)
            for sp in doc.speeches:
                if sp.segments:
                    items.append(_label(Item(fd, sp.index), config=pipe.config))
        if log:
            log(f"read {gs.name}: {sum(1 for f in files if f.set == gs.name)} texts")
    return Corpus(sets, files, items)


def _label(it: Item, config) -> Item:
    fd, sp = it.file, it.speech
    locate = referee().locate
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
    # the rule view before ml stages: tasks found by the rules on this speech, and their evidence
    it.rules = rule_view(fd.doc, sp, config, with_evidence=True)
    return it


def _features(items: list[Item], featurizer) -> None:
    for it in items:
        if it.X_base is None:
            it.X_base = featurizer.base(it.file.doc, it.speech)


def _item_rng(key: str, seed: int) -> np.random.RandomState:
    """A random stream of its own per document: the same draws whatever the fold or the order."""
    return np.random.RandomState((int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) + seed) % (1 << 32))


def noisy_view(rv, rate: float, rng: np.random.RandomState):
    """The rule view with each rule task dropped with probability `rate`, as if the rules had missed it.

    A dropped task's segments lose the flag, the modality, the task's rule ids and the cue weights
    (a rule misses a form because no cue matched); the enclosing section's rule ids stay (the
    structure stage sees headings, not the sentence forms). Rule-noise training: the hybrid model
    learns what the text says where the rules are silent, as they are on unseen text more often
    than on the documents they were written from.
    """
    from speechledger.ml.features import RuleView
    n_tasks = max(rv.task_of, default=-1) + 1
    drop = rng.random_sample(n_tasks) < rate
    if not drop.any():
        return rv
    flag, mod = rv.flag.copy(), rv.modality.copy()
    task_of, evidence = list(rv.task_of), list(rv.evidence)
    for i, ti in enumerate(rv.task_of):
        if ti >= 0 and drop[ti]:
            flag[i] = 0.0
            mod[i] = 0.0
            task_of[i] = -1
            evidence[i] = {k: v for k, v in evidence[i].items() if k.startswith("section:")}
    return RuleView(flag, mod, evidence, task_of)


def fit_models(items: list[Item], seed: int = SEED, model_dir: str | None = None, log=None,
               rule_drop: float = 0.0):
    """Train the ml and hybrid task models and the unit CRF on items; a loading.Models.

    rule_drop: rule-noise training of the hybrid model (noisy_view on every training document).
    """
    from scipy import sparse

    from speechledger.ml.loading import Models
    keys = sorted({k for it in items for e in it.rules.evidence for k in e})
    ml = TaskModel(use_rules=False, seed=seed)
    hy = TaskModel(use_rules=True, seed=seed)
    hy.featurizer.evidence_keys = keys
    _features(items, ml.featurizer)
    Xb = sparse.vstack([it.X_base for it in items], format="csr")
    views = [it.rules if not rule_drop else noisy_view(it.rules, rule_drop, _item_rng(it.key, seed))
             for it in items]
    Xr = sparse.vstack([hy.featurizer.rule_columns(v) for v in views], format="csr")
    y_task = np.concatenate([it.y_task for it in items])
    y_mod = [m for it in items for m in it.y_modality]
    y_spec = np.concatenate([it.y_specific for it in items])
    ml.fit(Xb, y_task, y_mod, y_spec)
    # the text model's out-of-fold logits: the context model's input, and the outside mention models'
    # P(task) of a segment (as the text model gives it on a document it never saw)
    z = oof_logits(items, Xb, y_task, seed)
    if CONTEXT_VARIANT:
        ml.context = fit_context(items, Xb, y_task, seed, CONTEXT_VARIANT, z)
    hy.fit(sparse.hstack([Xb, Xr], format="csr"), y_task, y_mod, y_spec)
    crf = fit_units(items, model_dir=model_dir)
    from speechledger.ml import mentions
    p_text, r = {}, 0
    for it in items:
        n = len(it.y_task)
        p_text[it.key] = 1.0 / (1.0 + np.exp(-z[r:r + n]))
        r += n
    return Models(task_ml=ml, task_hybrid=hy, units=crf, card={}, path=model_dir or "",
                  params={}, mentions=mentions.fit(items, seed=seed, p_text=p_text))


def oof_logits(items: list[Item], Xb, y_task: np.ndarray, seed: int = SEED, C: float = 4.0) -> np.ndarray:
    """The text model's P(task) logit of every training row, each from a model that did not see its
    document (CONTEXT_FOLDS folds by document, as cross-validation draws them)."""
    from sklearn.linear_model import LogisticRegression

    from speechledger.ml.cv import fold_of
    folds = fold_of([it.key for it in items], CONTEXT_FOLDS, seed)
    row_fold = np.repeat([folds[it.key] for it in items], [len(it.y_task) for it in items])
    z = np.zeros(len(y_task))
    for f in range(CONTEXT_FOLDS):
        test = row_fold == f
        if not test.any() or len(np.unique(y_task[~test])) < 2:
            continue
        m = LogisticRegression(C=C, solver="liblinear", random_state=seed, max_iter=2000)
        z[test] = m.fit(Xb[~test], y_task[~test]).decision_function(Xb[test])
    return z


def fit_context(items: list[Item], Xb, y_task: np.ndarray, seed: int = SEED, variant: str = "full",
                z: np.ndarray | None = None):
    """The context model of the text-only task model, on out-of-fold logits (oof_logits, or z)."""
    from speechledger.ml.features import N_HASH
    from speechledger.ml.task_model import ContextModel, context_features
    if z is None:
        z = oof_logits(items, Xb, y_task, seed)
    dense = Xb[:, N_HASH:].toarray()
    F, r = [], 0
    for it in items:
        n = len(it.y_task)
        F.append(context_features(z[r:r + n], dense[r:r + n], [0, n], variant))
        r += n
    return ContextModel(variant).fit(np.vstack(F), y_task, seed=seed)


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


def drop_rule_tasks(stage, rate: float, seed: int = SEED, blind: bool = False):
    """The rule `tasks` stage, then each rule task dropped with probability `rate` (seeded per file).

    Cross-validation only: the rules were written reading every dev document, so inside CV they
    miss fewer tasks than on unseen text; dropping some simulates the misses (with their cue
    weights, as noisy_view does) and shows how well the learned layer recovers them.
    blind: the task models miss the dropped tasks' segments too (doc.task_blind, read by hybrid.ml_tasks:
    their P(task) reads 0), so only a decision outside tasks (mentions.outside_tasks) can bring them back.
    """
    def tasks_with_misses(doc, config):
        doc = stage(doc, config)
        rng = _item_rng(doc.stem or doc.source, seed)
        ev = doc.task_evidence
        if blind:
            doc.task_blind = set()
        for sp in doc.speeches:
            keep = []
            for t in sp.tasks:
                if rng.random_sample() >= rate:
                    keep.append(t)
                    continue
                for seg in sp.segments:
                    if t.start <= seg.start < t.end:
                        ev.pop(seg.start, None)
                        if blind:
                            doc.task_blind.add(seg.start)
            sp.tasks = keep
        return doc
    return tasks_with_misses


def drop_rule_units(stage, rate: float, seed: int = SEED):
    """The rule `units` stage, then each unit it found dropped with probability `rate` (seeded per file):
    the unit rules, too, were written reading the dev documents (see drop_rule_tasks)."""
    def units_with_misses(doc, config):
        doc = stage(doc, config)
        rng = _item_rng("units:" + (doc.stem or doc.source), seed)
        for sp in doc.speeches:
            for t in sp.tasks:
                if t.units:
                    t.units = [u for u in t.units if rng.random_sample() >= rate]
        return doc
    return units_with_misses


def pipeline_for(extractors: str, models, rule_drop: float = 0.0, seed: int = SEED, unit_drop: float = 0.0,
                 finder_miss: bool = False, task_blind: bool = False):
    """A pipeline running the given in-memory models; rule tasks and units thinned when the drops are > 0
    (finder_miss: the dropped targets and deadlines are not even proposed, mentions.drop_rule_mentions)."""
    from speechledger.api import Pipeline
    pipe = Pipeline(extractors=extractors)
    pipe.config._cache["models"] = models
    if rule_drop:
        pipe._stages["tasks"] = drop_rule_tasks(pipe._stages["tasks"], rule_drop, seed, task_blind)
    if unit_drop:
        pipe._stages["units"] = drop_rule_units(pipe._stages["units"], unit_drop, seed)
    if rule_drop:            # the rule targets and deadlines too (mentions.drop_rule_mentions)
        from speechledger.ml.mentions import drop_rule_mentions
        for kind in ("deadlines", "targets"):
            pipe._stages[kind] = drop_rule_mentions(pipe._stages[kind], kind, rule_drop, seed, finder_miss)
    return pipe


def predict_items(items: list[Item], extractors: str, models, rule_drop: float = 0.0,
                  seed: int = SEED, pipe=None) -> dict[str, list[dict]]:
    """§6 records of each item's file, produced with the given models (keyed by item).

    rule_drop > 0: the rule tasks and units are thinned (drop_rule_tasks, drop_rule_units), with the same
    draws for every extractor.
    """
    from speechledger.api import records
    pipe = pipe or pipeline_for(extractors, models, rule_drop, seed, unit_drop=rule_drop)
    out, done = {}, {}
    for it in items:
        fd = it.file
        if id(fd) not in done:
            done[id(fd)] = records(pipe(fd.text, source=str(fd.path), date=fd.date))
        out[it.key] = done[id(fd)]
    return out


def train_models(sets: list[GoldSet], out: str, seed: int = SEED, cv: dict | None = None, log=None,
                 corpus: Corpus | None = None, rule_drop: float = RULE_DROP) -> dict:
    """Train on every document of the gold sets and write the models and their card to out.

    `cv` (speechledger.ml.cv.cross_validate's result) goes into the card when given.
    The files depend only on the corpus, the rules, the seed and the libraries: training
    twice writes the same bytes (the card's date aside, taken from SOURCE_DATE_EPOCH when set).
    """
    from speechledger.ml.hybrid import DEFAULTS
    from speechledger.ml.loading import CARD, library_versions, rules_fingerprint
    from speechledger.ml.mentions import DEFAULTS as MENTION_DEFAULTS
    corpus = corpus or load_corpus(sets, log=log)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="speechledger-train-") as tmp:
        models = fit_models(corpus.items, seed=seed, model_dir=tmp, log=log, rule_drop=rule_drop)
        models.task_ml.save(os.path.join(out, "tasks_ml"))
        models.task_hybrid.save(os.path.join(out, "tasks_hybrid"))
        models.units.save(os.path.join(out, "units"))
        models.mentions.save(os.path.join(out, "mentions"))
    stale = [f for f in ("tasks_ml.joblib", "tasks_hybrid.joblib", "units.joblib")
             if os.path.exists(os.path.join(out, f))]
    for f in stale:                       # pickles of an older layout: never loaded, so remove them
        os.unlink(os.path.join(out, f))
    units = models.units
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    created = time.strftime("%Y-%m-%d", time.gmtime(int(epoch)) if epoch else time.gmtime())
    card = {
        "name": "speechledger-learned-extractors",
        "created": created,
        "seed": seed,
        "training_data": {"sets": {s.name: {"texts": _card_path(s.texts), "composed": s.composed,
                                            "files": sum(1 for f in corpus.files if f.set == s.name)}
                                   for s in corpus.sets},
                          "sha256": corpus.digest(), **{k: v for k, v in corpus.sizes().items() if k != "sets"}},
        "models": {
            "tasks_ml": {"files": ["tasks_ml.npz", "tasks_ml.json"],
                         "kind": "logistic regressions x3 (is_task, modality, specific), liblinear",
                         "features": "hashed char 1-3grams + cue/outline/section-kind/neighbour features",
                         "context": None if models.task_ml.context is None else
                         f"second pass ({models.task_ml.context.variant}): a logistic regression over its own "
                         "out-of-fold logit, the neighbours', the block's and the speech's, list and section kind",
                         "trained_on": models.task_ml.sizes},
            "tasks_hybrid": {"files": ["tasks_hybrid.npz", "tasks_hybrid.json"],
                             "kind": "logistic regressions x3, stacked: the text features + the rule decision, "
                                     "its modality, the neighbours' decisions and the rule evidence by rule id"
                                     + (f"; rule-noise training (each rule task hidden with p={rule_drop})"
                                        if rule_drop else ""),
                             "evidence_keys": len(models.task_hybrid.featurizer.evidence_keys),
                             "rule_drop": rule_drop,
                             "trained_on": models.task_hybrid.sizes},
            "units": {"files": ["units.crfsuite", "units.json"],
                      "kind": "linear-chain CRF (crfsuite lbfgs), BIO over characters of unit-cue windows",
                      "c1": units.c1, "c2": units.c2, "trained_on": units.sizes},
            "mentions": {"files": ["mentions.npz", "mentions.json"],
                         "kind": "logistic regressions x6 (targets, deadlines; each without rule ids, "
                                 "*_generic; each over the candidates of every segment, read "
                                 "without its task status, *_outside), liblinear, over the candidates of "
                                 "the rule proposers with every filter off: rule and filter ids, context "
                                 "characters in the clause and sentence, section, list position, due vs date",
                         "trained_on": models.mentions.sizes},
        },
        "params": {**DEFAULTS, **MENTION_DEFAULTS},      # the decision thresholds the hybrid stages use
        "libraries": library_versions(),
        "rules_fingerprint": rules_fingerprint(),
        "cv": None if cv is None else {
            "folds": cv["_k"], "by": "document (each speech of a file); real documents only in the test folds",
            "documents": cv["_documents"], "rule_drop": cv.get("_rule_drop"),
            **_cv_scores(cv),
            "misses": None if not cv.get("misses") else {"rate": cv["_misses"], **_cv_scores(cv["misses"])}},
    }
    with open(os.path.join(out, CARD), "w", encoding="utf-8") as f:
        json.dump(card, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write("\n")
    with open(os.path.join(out, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write(card_markdown(card, cv))
    return card


def _cv_scores(cv: dict) -> dict:
    return {ex: {k: cv[ex][k] for k in ("tasks", "units", "deadlines", "targets", "accuracy", "macro_f1")}
            for ex in ("rules", "ml", "hybrid") if ex in cv}


def card_markdown(card: dict, cv: dict | None) -> str:
    from speechledger.evaluate import cv_table
    from speechledger.ml.mentions import DEFAULTS as MENTION_DEFAULTS
    from speechledger.ml.mentions import decision_off
    td = card["training_data"]
    sets = ", ".join(f"{k}: {v['files']}{' (composed)' if v['composed'] else ''}" for k, v in td["sets"].items())
    lines = [
        "# SpeechLedger learned extractors",
        "",
        f"Trained {card['created']} with seed {card['seed']} by `speechledger train` on rules fingerprint "
        f"`{card['rules_fingerprint']}`. Deterministic: the same corpus, rules and libraries give the same files.",
        "",
        "## Training data",
        f"- corpus sha256 `{td['sha256'][:16]}…`",
        f"- {td['files']} texts ({sets}), {td['documents']} documents (speeches), "
        f"{td['real_documents']} of them real, {td['characters']} characters",
        f"- {td['segments']} segments, {td['tasks']} task segments, {td['units']} responsible units",
        "- the frozen test split (corpus/real/frozen_test.json) is never read; our gold corrections are applied",
        "",
        "## Models (plain arrays and JSON, a crfsuite file; nothing is unpickled)",
    ]
    for name, m in card["models"].items():
        ctx = f"; {m['context']}" if m.get("context") else ""
        lines.append(f"- `{'`, `'.join(m['files'])}`: {m['kind']}{ctx}; trained on "
                     f"{json.dumps(m['trained_on'], ensure_ascii=False)}")
    lines += ["", "## Libraries used for training (inference needs numpy and python-crfsuite only)",
              ", ".join(f"{k} {v}" for k, v in card["libraries"].items()), ""]
    if cv is not None:
        lines += [f"## Cross-validation ({card['cv']['folds']}-fold by document, "
                  f"{card['cv']['documents']} real documents in the test folds)",
                  "", "```", cv_table(cv), "```", ""]
        if cv.get("misses"):
            lines += [f"### The same folds with rule misses: each rule task, unit, target and deadline of the "
                      f"held-out documents dropped with probability {cv['_misses']}",
                      "",
                      "The rules were written reading these documents, so inside cross-validation they miss less "
                      "than on unseen text, where every field's recall is below its precision. This run shows "
                      "how well the learned layer makes up for rules that miss.",
                      "", "```", cv_table(cv["misses"]), "```", ""]
    mp = {k: v for k, v in card["params"].items() if k.startswith(("target_", "deadline_"))}
    off = decision_off({**MENTION_DEFAULTS, **mp})
    lines += ["Deadlines and targets: the rules propose, with every filter off, and the mentions model decides "
              "(ml: P >= 0.5; hybrid: a rule item stays unless P < *_keep, another is added at P >= *_add, or when "
              "the rule-free model of the same candidates (no rule ids; mentions.GENERIC) is at P >= *_generic_add; "
              "params " + ", ".join(f"{k} {v}" for k, v in mp.items()) + ")"
              + ("; in the hybrid the decision is off (thresholds above 1: the rules' targets and deadlines), "
                 "see pipeline/ml/mentions.py DEFAULTS." if off else "."), ""]
    out_on = any(mp.get(k, MENTION_DEFAULTS[k]) <= 1 for k in ("target_outside_add", "deadline_outside_add"))
    lines += ["Outside tasks (round 8): a segment no task stage takes becomes a task carrying a target or deadline "
              "candidate when the *_outside model (the candidates of every segment, each read as if its segment "
              "were a task: mentions.OUTSIDE_VARIANT 'text') is at P >= *_outside_add; "
              + ("on." if out_on else "off in the hybrid (thresholds above 1): cross-validation chose targets 0.95 / "
                 "deadlines 0.99 (clean, rule-miss and finder-miss CV unchanged; with 15% of the held-out rule tasks "
                 "dropped and hidden from the task models macro .858 -> .862, at 30% .720 -> .759), but it costs "
                 "~1.8 CPU s per MB, more than the speed bar leaves (scripts/tune_mentions.py --outside-add ... "
                 "--task-blind; README, round 8)."), ""]
    return "\n".join(lines)
