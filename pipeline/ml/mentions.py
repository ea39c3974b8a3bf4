"""Learned decisions for targets and deadlines (ANNOTATION.md §4, §5).

The rule stages decide a target or a deadline with filter rows (past markers, review
statistics, slogans, qualifiers, start dates...) written reading the development texts.
Here the rule proposers run with every filter off (find_targets(ablate=...),
find_deadlines_with_rules(skip=...)): each candidate keeps the rules' normalisation
(value, unit, comparator, placeholder; due) and becomes a feature set -- the rule rows
that proposed it and the filter rows that would drop it (the evidence the rules record),
the characters around it inside its sentence and clause, the section kind, whether its
segment is a rule task, its place among the segment's candidates, and the time of its
due against the speech's date -- and a logistic regression per kind says how likely it
is a gold mention.

In the hybrid, `ml_mentions` (declared in api.STAGES, after the rule `targets` stage)
keeps a rule item unless the model is very sure it is wrong (P < *_keep) and adds a
filtered or unproposed candidate when P >= *_add; in the ml mode the model alone decides
(P >= 0.5). The weights are plain arrays (arrays.save_npz) over a JSON vocabulary; the
decision is dictionary look-ups and a sigmoid, no scikit-learn.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from speechledger.doc import Deadline, SpeechDoc, Target

KINDS = ("targets", "deadlines")
# Decision thresholds (a model card's params override them). scripts/tune_mentions.py grids them by
# 5-fold CV by document on the real documents, clean and with 15% of the held-out rule tasks, units,
# targets and deadlines dropped. Dropping rule items changed nothing up to P < 0.3, so rule items stay
# (and need no features at run time). The chosen thresholds: clean CV targets .961 and deadlines .938 as
# without the decision, rule-miss CV targets .883 -> .935 and deadlines .859 -> .889 (deadlines at
# 0.4 would reach .933 there but cost clean CV .938 -> .933). Re-running the finders with their
# filters off cost about 1.2 CPU s per MB in round 6, 0.77 since round 8 (only where a rule filter
# fired; scripts/bench_extract.py --stages, ml_mentions).
DEFAULTS = {
    "target_keep": 0.0,       # drop a rule target when P < this (0: never)
    "target_add": 0.4,        # add a candidate the rules filtered or never proposed when P >= this (> 1: never)
    "deadline_keep": 0.0,
    "deadline_add": 0.8,
    # the rule-free decision (GENERIC): add a candidate when the model that never sees rule ids is this
    # sure (> 1: never). It alone can bring back an item the rule finders do not propose: with 15% of the
    # held-out rule items dropped AND withheld from the finders' candidates ("finder-miss" CV) targets
    # .891 -> .935 and deadlines .859 -> .882, while clean CV (.961 / .943) and rule-miss CV (.943 / .883)
    # stay as they were. Lower thresholds gain more under finder misses but cost clean CV (0.8: targets
    # .955, deadlines .938). scripts/tune_mentions.py --generic-add ... --finder-miss; outputs/tune_mentions_*.
    # Round 9: held out by source kind (--folds kind) the targets twin off gains .0039 macro clean and with
    # rule misses (random folds and dev-b unchanged), but all of it is 5 false targets in two speeches of
    # one file (the seed compilation), and it costs the finder-miss CV (random .9110 -> .9001): support of
    # one file is too thin to change a default, so it stays on. docs/KIND_CV.md.
    "target_generic_add": 0.9,
    "deadline_generic_add": 0.95,
    # outside tasks (OUTSIDE, round 8): a segment the task stages left out becomes a task ('ml') carrying a
    # target / deadline candidate of its own when the outside model is this sure (> 1: never). See outside_tasks.
    # 5-fold CV (scripts/tune_mentions.py --outside-add ... --task-blind, variant "text"): at targets 0.95 and
    # deadlines 0.99 clean, rule-miss and finder-miss CV do not move (macro .959 / .913 / .911); with 15% of
    # the held-out rule tasks dropped AND hidden from the task models ("blind") macro .858 -> .862 (targets
    # .891 -> .900), at 30% .720 -> .759. Off: it costs ~1.8 CPU s per MB (the finders on every free segment
    # holding a number or a time), which takes the whole-process extract below jieba.lcut (1.09x -> 0.93x).
    "target_outside_add": 1.01,
    "deadline_outside_add": 1.01,
}
GENERIC = "_generic"          # the kind suffix of the rule-free models (targets_generic, deadlines_generic)
OUTSIDE = "_outside"          # the kind suffix of the models of candidates in every segment (outside_tasks)
_RULE_FEATS = ("r:", "f:", "k:")
MIN_COUNT = 2            # a feature enters the vocabulary when at least this many training candidates have it
C = 1.0

_SENT_CUT = re.compile(r"[。！？!?；;\n]")
_CLAUSE_CUT = re.compile(r"[，,；;：:。！？!?\n|]")
_LIST_HEAD = re.compile(r"\s*(?:[一二三四五六七八九十]+是|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．]|"
                        r"[一二三四五六七八九十]+、|第[一二三四五六七八九十]+[，,、])")


class _Every(frozenset):
    """Every filter id of one stage (`x in _Every("target.filter.")`): all filter rows off."""

    def __new__(cls, prefix: str):
        obj = super().__new__(cls)
        obj.prefix = prefix
        return obj

    def __contains__(self, x) -> bool:
        return isinstance(x, str) and x.startswith(self.prefix)


NO_TARGET_FILTERS = _Every("target.filter.")
NO_DEADLINE_FILTERS = _Every("deadline.filter.")


@dataclass
class Candidate:
    kind: str                    # "targets" | "deadlines"
    start: int
    end: int
    item: dict                   # the rules' normalisation (find_targets dict, or due/placeholder)
    rules: tuple = ()            # proposing row ids
    filters: tuple = ()          # filter rows that drop it when on
    rule_kept: bool = False      # the rule stage output has it
    hidden: bool = False         # finder-miss simulation: only the rule-free decision may add it
    feats: list | None = field(default_factory=list)     # None: not featurised


# --- candidates ---------------------------------------------------------------------------------

def _filters_over(trace, s: int, e: int) -> tuple:
    return tuple(sorted({t[-1] for t in trace if t[0] < e and s < t[1]}))


def target_candidates(doc: SpeechDoc, sp, task, lexicon, filters: bool = True,
                      spans: list | None = None) -> list[Candidate]:
    """spans: the parts of the task to read (default: all of it)."""
    from speechledger.extract.targets import find_targets, is_base_value
    norm = doc.norm
    sec = sp.section_at(task.start) if sp.sections else None
    goals = sec is not None and sec.kind == "goals"
    found, trace = [], []
    for a, b in spans or [(task.start, task.end)]:
        found += find_targets(norm, a, b, lexicon, goals=goals, ablate=NO_TARGET_FILTERS)
        if filters and found:   # which filter rows drop each candidate: a second run, with the filters on
            find_targets(norm, a, b, lexicon, trace, goals=goals)
    # a starting value (由45%提高到47%) is no candidate: the guideline defines it away, so a
    # model with the other filters off must not add it back (it did, on a traditional probe)
    found = [f for f in found if f["unit"] == "名" or not is_base_value(norm, f["start"], lexicon, task.start)]
    if not found:
        return []
    kept = {(t.start, t.end) for t in task.targets}
    out = []
    for f in found:
        s, e = f["start"], f["end"]
        out.append(Candidate("targets", s, e, f, tuple(f.get("rules", ())), _filters_over(trace, s, e),
                             (s, e) in kept))
    return out


def deadline_candidates(doc: SpeechDoc, sp, task, lexicon, speech_ref, filters: bool = True) -> list[Candidate]:
    from speechledger.extract.deadlines import find_deadlines_with_rules, task_ref
    norm = doc.norm
    ref = task_ref(sp, task.start, speech_ref)
    found = find_deadlines_with_rules(norm, task.start, task.end, ref, lexicon, skip=NO_DEADLINE_FILTERS)
    if not found:
        return []
    trace: list = []
    if filters:
        find_deadlines_with_rules(norm, task.start, task.end, ref, lexicon, trace)
    kept = {(d.start, d.end) for d in task.deadlines}
    out = []
    for s, e, due, ph, rules in found:
        c = Candidate("deadlines", s, e, {"due": due, "placeholder": ph}, tuple(rules),
                      _filters_over(trace, s, e), (s, e) in kept)
        c.item["ref"] = ref
        out.append(c)
    return out


# --- features -----------------------------------------------------------------------------------

def _grams(prefix: str, s: str, out: list) -> None:
    add = prefix.__add__
    out += map(add, s)
    out += map(add, map(str.__add__, s, s[1:]))       # the bigrams s[i:i + 2]


# feature groups (scripts/tune_mentions.py --groups ablates them)
# rules: the proposing row ids and whether the rule stage kept the candidate; filters: the filter rows
# that drop it (a second run of the finders, with the filters on: twice the cost, and no better in CV,
# so off by default; scripts/tune_mentions.py --groups turns groups on and off)
ALL_GROUPS = frozenset({"rules", "filters", "context", "section", "position", "fields"})
GROUPS = ALL_GROUPS - {"filters"}


def features(doc: SpeechDoc, sp, task, cands: list[Candidate], rule_task: bool,
             groups: frozenset = GROUPS) -> None:
    """Fill each candidate's feature strings (what ANNOTATION.md §4/§5 say decides: the form that
    proposed it, the words of time and commitment around it in its clause and sentence, the
    section, the list position, a due before the speech's date)."""
    norm = doc.norm
    sec = sp.section_at(task.start) if sp.sections else None
    common = []
    if "section" in groups:
        common += ["sec:" + (sec.kind if sec is not None else "-"), "task:" + ("rules" if rule_task else "ml")]
    if "position" in groups and _LIST_HEAD.match(norm, task.start):
        common.append("list_item")
    seen_units: set = set()
    for i, c in enumerate(cands):
        again = c.kind == "targets" and c.item["unit"] in seen_units     # a list of the same measure
        if c.kind == "targets":
            seen_units.add(c.item["unit"])
        if c.feats is None:          # not to be decided (a rule item the hybrid keeps anyway)
            continue
        s, e = c.start, c.end
        f = list(common)
        if "rules" in groups:
            f += ["r:" + r for r in c.rules]
            f.append("k:rule" if c.rule_kept else "k:no")
        if "filters" in groups:
            f += ["f:" + x for x in c.filters] or ["f:none"]
        if "position" in groups:
            f.append("pos:%d" % min(i, 2))
        if "context" in groups:
            lo = max(task.start, s - 24)
            left = norm[lo:s]
            cut = max((m.end() for m in _SENT_CUT.finditer(left)), default=0)
            sent_left = left[cut:]
            ccut = max((m.end() for m in _CLAUSE_CUT.finditer(sent_left)), default=0)
            clause_left = sent_left[ccut:]
            right = norm[e:min(task.end, e + 10)]
            m = _SENT_CUT.search(right)
            right = right[:m.start()] if m else right
            _grams("cl:", clause_left[-10:], f)      # the clause before it: verbs of commitment, 了/已/截至
            f += ["l1:" + sent_left[-1:], "l2:" + sent_left[-2:], "r1:" + right[:1], "r2:" + right[:2]]
            _grams("sl:", sent_left[:len(sent_left) - len(clause_left)][-12:], f)   # the sentence's earlier clauses
            _grams("rt:", right[:6], f)              # what follows: 的 (a qualifier), 以上, 了
            if not ccut:
                f.append("clause_starts_sentence")
        if "fields" in groups:
            _field_features(c, norm, f, again)
        c.feats = f


def _field_features(c: Candidate, norm: str, f: list, again: bool) -> None:
    """The rules' normalisation of the candidate: unit, comparator, placeholder; a due against the date."""
    s, e = c.start, c.end
    if c.kind == "targets":
        it = c.item
        f += ["u:" + str(it["unit"]), "cmp:" + it["comparator"]]
        if it.get("placeholder"):
            f.append("placeholder")
        if it.get("qualifier"):
            f.append("qualifier")
        if again:
            f.append("unit_again")
        if re.search(r"\d", norm[s:e]) is None and not it.get("placeholder"):
            f.append("cn_number")
        return
    due, ref = c.item["due"], c.item.get("ref")
    if c.item.get("placeholder"):
        f.append("placeholder")
    if due is None:
        f.append("due:none")
    elif ref is not None:
        f.append("dy:%d" % max(-2, min(int(due[:4]) - ref.year, 3)))
        if due < ref.floor():
            f.append("due:past")
    else:
        f.append("ref:none")
    f.append("len:%d" % min(e - s, 8))


def speech_candidates(doc: SpeechDoc, sp, lexicon, rule_tasks: set | None = None, groups: frozenset = GROUPS,
                      only_new: bool = False, missed: set = frozenset(), hide: bool = False):
    """(task, target candidates, deadline candidates) for each task of sp, with features; rule_tasks:
    the (start, end) of rule tasks (None: a task's own extractor field says). only_new: featurise
    only the candidates the rules did not keep and that overlap no rule item (the others are kept
    anyway; a task with no candidate is not yielded). missed: (kind, start, end) of rule items the
    rule-miss simulation dropped (_as_missed); hide: the finder-miss simulation -- the rule finders do
    not propose them either (_hide)."""
    from speechledger.extract.deadlines import RefDate
    speech_ref = RefDate.of(sp.date, sp.ref_year)
    filters = "filters" in groups
    numbers = _number_rx(lexicon) if only_new else None
    # where a task holds no more time expressions than rule deadlines, the deadline rows with their
    # filters off find nothing new (the gate is checked on the bundled corpus: every task with a new
    # deadline candidate passes it)
    time_hint = _gate(lexicon, "mentions.gate.time_hint") if only_new else None
    norm = doc.norm
    # what the rule stages noted (SpeechDoc.finder_notes): the number matches of each task, and the
    # tasks where a deadline filter fired -- elsewhere the deadline rows with their filters off find
    # the rule deadlines again (unless the rule-miss simulation took some away)
    noted_numbers = doc.finder_notes.get("numbers", {}) if only_new else {}
    filtered = doc.finder_notes.get("deadline_filtered") if only_new and not missed else None
    for t in sp.tasks:
        if not only_new:
            tc = target_candidates(doc, sp, t, lexicon, filters)
            dc = deadline_candidates(doc, sp, t, lexicon, speech_ref, filters)
        else:
            # the finders run again only where a number outside the rule targets stands (on its
            # sentence), and where there are more time expressions than rule deadlines (a tenth of
            # the tasks): elsewhere every candidate is a rule item
            nums = noted_numbers.get((t.start, t.end))
            seen = nums is not None         # (a task the rule stages never saw: no notes to go by)
            if not seen:
                nums = [m.span() for m in numbers.finditer(norm, t.start, t.end)]
            if nums and t.targets:
                nums = [(a, b) for a, b in nums if not any(x.start < b and a < x.end for x in t.targets)]
            spans = _sentences(norm, t, nums) if nums else ()
            tc = target_candidates(doc, sp, t, lexicon, filters, spans) if spans else []
            dc = deadline_candidates(doc, sp, t, lexicon, speech_ref, filters) \
                if (filtered is None or not seen or (t.start, t.end) in filtered) \
                and _more_than(time_hint, norm, t, len(t.deadlines)) else []
            if not tc and not dc:
                continue            # (most tasks: nothing to decide)
        rule_task = (t.start, t.end) in rule_tasks if rule_tasks is not None else t.extractor != "ml"
        if hide and missed:
            _hide(tc, missed)
            _hide(dc, missed)
        for kind, cands in (("targets", tc), ("deadlines", dc)):
            if not cands:
                continue
            for c in cands:
                if (kind, c.start, c.end) in missed:
                    c.rule_kept = False
            if only_new:
                kept = [(x.start, x.end) for x in getattr(t, kind)]
                for c in cands:
                    if c.rule_kept or any(a < c.end and c.start < b for a, b in kept):
                        c.feats = None
                if all(c.feats is None for c in cands):
                    continue
            features(doc, sp, t, cands, rule_task, groups)
            for c in cands:
                if (kind, c.start, c.end) in missed and c.feats is not None:
                    _as_missed(c)
        yield t, tc, dc


def _gate(lexicon, gid: str) -> re.Pattern:
    """A gate row of mentions.yaml (compiled once per lexicon)."""
    def build(lex):
        return {r["id"]: re.compile(r["pattern"]) for r in lex.data("mentions.yaml")["gates"]}
    return lexicon.cached("mentions.gates", build)[gid]


def _number_rx(lexicon) -> re.Pattern:
    """find_targets' number-with-unit pattern: every target candidate but 翻番 / 保十争八 is one of its matches."""
    from speechledger.extract.targets import _build
    return lexicon.cached("targets", _build).number


def _more_than(rx: re.Pattern, norm: str, task, n: int) -> bool:
    if not n:               # (most tasks: no rule deadline; one search says it)
        return rx.search(norm, task.start, task.end) is not None
    for k, _m in enumerate(rx.finditer(norm, task.start, task.end)):
        if k >= n:
            return True
    return False


def _sentences(norm: str, task, spans: list) -> list[tuple[int, int]]:
    """The sentences of the task (cut at 。！？；and line ends) holding the spans, merged."""
    out: list[list[int]] = []
    for s, e in spans:
        m = _SENT_CUT.search(norm, e, task.end)
        b = m.end() if m else task.end
        if out and s < out[-1][1]:          # in the sentence already taken: no need to look back
            out[-1][1] = max(out[-1][1], b)
            continue
        lo = out[-1][1] if out else task.start      # (a sentence cut ends the one taken before)
        out.append([max((m.end() for m in _SENT_CUT.finditer(norm, lo, s)), default=lo), b])
    return [(a, b) for a, b in out]


# --- labels -------------------------------------------------------------------------------------

def field_mismatches(kind: str, gold: dict, item: dict, ref) -> list[str]:
    """The fields in which a predicted target/deadline (item) differs from a gold one, as the referee
    (ref) compares them: value/unit/comparator/placeholder, or due/placeholder. [] when it matches."""
    bad = []
    if kind == "targets":
        if not ref.same_value(gold.get("value"), item.get("value")):
            bad.append("value")
        if not ref.same_unit(gold.get("unit"), item.get("unit")):
            bad.append("unit")
        if gold.get("comparator") != item.get("comparator"):
            bad.append("comparator")
    elif gold.get("due") != item.get("due"):
        bad.append("due")
    if bool(gold.get("placeholder")) != bool(item.get("placeholder")):
        bad.append("placeholder")
    return bad


def label(c: Candidate, gold: list[tuple[tuple[int, int], dict]]) -> int:
    """1 when the candidate matches a gold mention as the referee matches (span overlap and the same
    value/unit/comparator/placeholder, or the same due and placeholder), else 0."""
    from speechledger.referee import referee
    ref = referee()
    for (a, b), g in gold:
        if a < c.end and c.start < b and not field_mismatches(c.kind, g, c.item, ref):
            return 1
    return 0


# --- the model ----------------------------------------------------------------------------------

class MentionModel:
    """One logistic regression per kind over string features; weights as a dict at prediction."""

    def __init__(self, vocab: dict[str, list[str]] | None = None, coef: dict | None = None,
                 intercept: dict | None = None, sizes: dict | None = None, groups=GROUPS,
                 outside_variant: str = "status"):
        self.groups = frozenset(groups)
        self.outside_variant = outside_variant
        self.vocab = vocab or {}
        self.coef = coef or {}
        self.intercept = intercept or {}
        self.sizes = sizes or {}
        self._w = {k: dict(zip(self.vocab[k], map(float, self.coef[k]))) for k in self.vocab}

    def proba(self, kind: str, feats: list[str]) -> float:
        w = self._w.get(kind)
        if w is None:           # too few examples of both classes to train on: add nothing
            return 0.0
        # (the intercept, then each known feature's weight in set order: the trained sum, term for term)
        fs = feats if isinstance(feats, (set, frozenset)) else set(feats)
        z = sum(filter(None, map(w.get, fs)), float(self.intercept[kind]))
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    @classmethod
    def fit(cls, samples: dict[str, tuple[list[list[str]], list[int]]], seed: int = 13,
            groups=GROUPS) -> "MentionModel":
        import numpy as np
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression
        vocab, coef, icpt, sizes = {}, {}, {}, {}
        for kind in sorted(samples):
            X, y = samples[kind]
            counts: dict[str, int] = {}
            for fs in X:
                for f in set(fs):
                    counts[f] = counts.get(f, 0) + 1
            words = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
            col = {f: j for j, f in enumerate(words)}
            sizes[kind] = {"candidates": len(y), "positive": int(sum(y)), "features": len(words)}
            if len(set(y)) < 2:
                continue
            rows, cols = [], []
            for i, fs in enumerate(X):
                js = sorted({col[f] for f in fs if f in col})
                rows += [i] * len(js)
                cols += js
            M = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(X), len(words)))
            lr = LogisticRegression(solver="liblinear", C=C, random_state=seed, max_iter=1000)
            lr.fit(M, np.asarray(y))
            vocab[kind], coef[kind], icpt[kind] = words, lr.coef_[0], float(lr.intercept_[0])
        return cls(vocab, coef, icpt, sizes, groups)

    def save(self, stem: str) -> None:
        import numpy as np

        from speechledger.ml.arrays import save_json, save_npz
        save_npz(stem + ".npz", {f"coef_{k}": np.asarray(v, dtype=np.float64) for k, v in self.coef.items()})
        save_json(stem + ".json", {"vocab": self.vocab, "intercept": self.intercept, "sizes": self.sizes,
                                   "min_count": MIN_COUNT, "C": C, "groups": sorted(self.groups),
                                   "outside_variant": self.outside_variant})

    @classmethod
    def load(cls, stem: str) -> "MentionModel":
        from speechledger.ml.arrays import load_json, load_npz
        meta = load_json(stem + ".json")
        arrays = load_npz(stem + ".npz")
        coef = {k: arrays[f"coef_{k}"].tolist() for k in meta["vocab"]}
        return cls(meta["vocab"], coef, meta["intercept"], meta.get("sizes"), meta.get("groups", GROUPS),
                   meta.get("outside_variant", "status"))


# --- training samples ---------------------------------------------------------------------------

def gold_mentions(fd, sp) -> dict[str, list]:
    """((start, end), gold item) of the gold targets and deadlines of a speech."""
    from speechledger.referee import referee
    locate = referee().locate
    out: dict[str, list] = {k: [] for k in KINDS}
    for sid, g in fd.gold.items():
        if sid >= len(fd.segments):
            continue
        seg = fd.segments[sid]
        if not sp.start <= seg.start < sp.end:
            continue
        for k in KINDS:
            for item in g.get(k, []):
                out[k].append((locate(seg.text, seg.start, item), item))
    return out


def item_samples(it, lexicon, groups: frozenset = GROUPS) -> dict[str, tuple[list, list]]:
    """Features and labels of the candidates of one training item: in its rule tasks and in the gold
    task segments the rules left out (as the hybrid's tasks are, roughly)."""
    from speechledger.doc import Task
    fd, sp = it.file, it.speech
    rule_spans = {(t.start, t.end) for t in sp.tasks}
    extra = [Task(seg.start, seg.end, seg.text, "should", False, seg.id, extractor="ml")
             for i, seg in enumerate(sp.segments)
             if it.y_task[i] and not any(t.start < seg.end and seg.start < t.end for t in sp.tasks)]
    saved = sp.tasks
    sp.tasks = sorted(saved + extra, key=lambda t: (t.start, t.end))
    try:
        gold = gold_mentions(fd, sp)
        out: dict[str, tuple[list, list]] = {k: ([], []) for k in KINDS}
        for _t, tc, dc in speech_candidates(fd.doc, sp, lexicon, rule_spans, groups):
            for c in tc + dc:
                out[c.kind][0].append(c.feats)
                out[c.kind][1].append(label(c, gold[c.kind]))
    finally:
        sp.tasks = saved
    return out


def fit(items, seed: int = 13, lexicon=None, groups: frozenset | None = None,
        p_text: dict | None = None) -> MentionModel:
    """The mention model of training items (their candidates are computed once per item and kept).
    p_text: item key -> the text-only task model's out-of-fold P(task) of each segment; with it the
    outside models (OUTSIDE) are trained too, on the candidates of every segment."""
    from speechledger.lexicon import Lexicon
    lexicon = lexicon or Lexicon.load()
    groups = frozenset(GROUPS if groups is None else groups)
    suffixes = ("", GENERIC, OUTSIDE) if p_text is not None else ("", GENERIC)
    samples: dict[str, tuple[list, list]] = {k + g: ([], []) for k in KINDS for g in suffixes}
    for it in items:
        cache = it.__dict__.setdefault("mention_samples", {})
        if groups not in cache:
            cache[groups] = item_samples(it, lexicon, groups)
        for k in KINDS:
            X, y = cache[groups][k]
            samples[k][0].extend(X)
            samples[k][1].extend(y)
            samples[k + GENERIC][0].extend(map(generic, X))     # the same candidates, read without rule ids
            samples[k + GENERIC][1].extend(y)
        if p_text is not None:
            key = ("outside", groups)
            if key not in cache:
                cache[key] = outside_samples(it, lexicon, groups)
            rule_seg = it.rules.task_of
            for k, i, feats, y in cache[key]:
                samples[k + OUTSIDE][0].append(outside_features(feats, rule_seg[i] >= 0, float(p_text[it.key][i]),
                                                                OUTSIDE_VARIANT))
                samples[k + OUTSIDE][1].append(y)
    model = MentionModel.fit(samples, seed=seed, groups=groups)
    model.outside_variant = OUTSIDE_VARIANT
    return model


# --- candidates outside tasks (round 8) ------------------------------------------------------------
# A target or deadline is scored only inside a task, and the mention models above see only the tasks
# the task stages took. The outside models read the candidates of every segment (each read as if it
# were a task, the finders' filters off), with what the task stages know of the segment: whether a
# rule task holds it and the text-only task model's P(task). In the hybrid a segment no task holds
# becomes a task ('ml') carrying a candidate the outside model is sure of (*_outside_add).

_P_BINS = (0.05, 0.2, 0.5, 0.8, 0.95)
# what the outside models read of a candidate (scripts/tune_mentions.py --outside-variant): "status" its
# features and the segment's task status; "generic" the same without rule ids; "text" its features alone
# (no task status: whether it looks like a target wherever it stands). With the task status the model
# never fires in CV at any threshold down to 0.6: trained on in-sample task decisions it reads "no task
# here" as "no target" (no gold target stands outside the hybrid's tasks in clean CV), as the mention
# models read "no rule fired" as "wrong" in round 7. "text" is the one that recovers anything.
OUTSIDE_VARIANTS = ("status", "generic", "text")
OUTSIDE_VARIANT = "text"


def outside_features(feats: list[str], rule_seg: bool, p_task: float, variant: str = "status") -> list[str]:
    """A candidate's features (features() of its segment read as an ml task) for the outside model:
    the task status becomes the segment's (a rule task or not, the text model's P(task) in bins); the
    rules' decision (always 'no' outside tasks) goes."""
    out = [f for f in (generic(feats) if variant == "generic" else feats) if not f.startswith(("task:", "k:"))]
    if variant != "text":
        out.append("seg:rules" if rule_seg else "seg:none")
        out.append("pt:%d" % sum(p_task >= b for b in _P_BINS))
    return out


def segment_candidates(doc: SpeechDoc, sp, seg, lexicon, speech_ref, groups: frozenset = GROUPS,
                       kinds=KINDS):
    """(target candidates, deadline candidates) of one segment read as an ml task, with features; the
    finders run only where a number (targets: on the sentences holding one) or a time expression
    (deadlines) stands: most segments hold neither and cost a regex search or two."""
    from speechledger.doc import Task
    norm = doc.norm
    t = Task(seg.start, seg.end, seg.text, "should", False, seg.id, extractor="ml")
    spans = _sentences(norm, t, [m.span() for m in _number_rx(lexicon).finditer(norm, seg.start, seg.end)]) \
        if "targets" in kinds else None
    has_time = "deadlines" in kinds and \
        _gate(lexicon, "mentions.gate.time_hint").search(norm, seg.start, seg.end) is not None
    if not (spans or has_time):
        return [], []
    tc = target_candidates(doc, sp, t, lexicon, False, spans) if spans else []
    dc = deadline_candidates(doc, sp, t, lexicon, speech_ref, filters=False) if has_time else []
    for cands in (tc, dc):
        if cands:
            features(doc, sp, t, cands, False, groups)
    return tc, dc


def outside_samples(it, lexicon, groups: frozenset = GROUPS) -> list[tuple[str, int, list, int]]:
    """(kind, segment index, features, gold label) of the candidates of every segment of a training item
    (a candidate in a segment that is no gold task is negative: gold puts mentions on tasks only)."""
    from speechledger.extract.deadlines import RefDate
    fd, sp = it.file, it.speech
    gold = gold_mentions(fd, sp)
    ref = RefDate.of(sp.date, sp.ref_year)
    out = []
    for i, seg in enumerate(sp.segments):
        tc, dc = segment_candidates(fd.doc, sp, seg, lexicon, ref, groups)
        for c in tc + dc:
            out.append((c.kind, i, c.feats, label(c, gold[c.kind])))
    return out


def outside_tasks(doc: SpeechDoc, sp, free: list[int], p_task: list[float], model: MentionModel,
                  params: dict, lexicon) -> list[tuple[int, float, list[Candidate]]]:
    """(segment index, P, the candidates it carries) of the segments of sp in free (no task holds
    them, no rule task held them) where the outside model is sure of a target (P >= target_outside_add)
    or a deadline (deadline_outside_add); p_task: the text-only model's P(task) of each segment."""
    thr = {k: params.get(p + "_outside_add", DEFAULTS[p + "_outside_add"])
           for k, p in (("targets", "target"), ("deadlines", "deadline"))}
    if model is None or all(v > 1 for v in thr.values()) or not free:
        return []
    from speechledger.extract.deadlines import RefDate
    ref = RefDate.of(sp.date, sp.ref_year)
    out = []
    kinds = tuple(k for k in KINDS if thr[k] <= 1)
    for i in free:
        tc, dc = segment_candidates(doc, sp, sp.segments[i], lexicon, ref, model.groups, kinds)
        sure, best = [], 0.0
        for kind, cands in (("targets", tc), ("deadlines", dc)):
            if thr[kind] > 1 or not cands:
                continue
            probs = [model.proba(kind + OUTSIDE, set(outside_features(c.feats, False, p_task[i],
                                                                      model.outside_variant)))
                     for c in cands]
            chosen = decide(cands, probs, 0.0, thr[kind], True)     # (no candidate here is a rule item)
            sure += chosen
            best = max([best] + [p for c, p in zip(cands, probs) if c in chosen])
        if sure:
            out.append((i, best, sure))
    return out


def carry_outside(doc: SpeechDoc) -> None:
    """Put on each task outside_tasks added the candidates it was added for, where the target and
    deadline stages left no item over them (normalised as the rules do, source 'ml')."""
    carried = getattr(doc, "outside_mentions", None)
    if not carried:
        return
    for sp in doc.speeches:
        for t in sp.tasks:
            for c in carried.get(t.start, ()):
                items = getattr(t, c.kind)
                inside = t.start <= c.start and c.end <= t.end
                if inside and not any(x.start < c.end and c.start < x.end for x in items):
                    items.append(_make(c.kind, c, doc))
                    items.sort(key=lambda x: (x.start, x.end))


# --- the pipeline stage -------------------------------------------------------------------------

def decide(cands: list[Candidate], probs: list[float], keep: float, add: float, hybrid: bool) -> list[Candidate]:
    """The candidates to emit: in the hybrid a rule item stays unless P < keep and another is added
    when P >= add (never over an item already chosen); in the ml mode P >= 0.5 decides alone."""
    out: list[Candidate] = []
    order = sorted(range(len(cands)), key=lambda i: (not (hybrid and cands[i].rule_kept), -probs[i]))
    for i in order:
        c, p = cands[i], probs[i]
        if hybrid:
            ok = p >= keep if c.rule_kept else p >= add
        else:
            ok = p >= 0.5
        if ok and not any(o.start < c.end and c.start < o.end for o in out):
            out.append(c)
    return out


def decision_off(params: dict) -> bool:
    """The hybrid keeps the rules' targets and deadlines as they are: no threshold drops or adds."""
    return all(params[p + "_keep"] <= 0 and params[p + "_add"] > 1 and params[p + "_generic_add"] > 1
               for p in ("target", "deadline"))


def ml_mentions(doc: SpeechDoc, config) -> SpeechDoc:
    """Re-decide the targets and deadlines of every task (declared in api.STAGES); a task added for a
    candidate outside tasks (outside_tasks) carries it."""
    doc = _decide_mentions(doc, config)
    carry_outside(doc)
    return doc


def _decide_mentions(doc: SpeechDoc, config) -> SpeechDoc:
    models = config.models
    model = getattr(models, "mentions", None) if models is not None else None
    if model is None:
        return doc
    hybrid = config.extractors == "hybrid"
    params = {**DEFAULTS, **models.params}
    if hybrid and decision_off(params):
        return doc                  # the decision would keep the rule output as it is
    missed = getattr(doc, "mention_misses", frozenset())
    hide = getattr(doc, "mention_finder_miss", False)
    # rule items stay whatever the model says: only the other candidates need features
    only_new = hybrid and params["target_keep"] <= 0 and params["deadline_keep"] <= 0
    for sp in doc.speeches:
        for t, tc, dc in speech_candidates(doc, sp, config.lexicon, groups=model.groups, only_new=only_new,
                                           missed=missed, hide=hide):
            for kind, cands, prefix in (("targets", tc, "target"), ("deadlines", dc, "deadline")):
                rule_items = getattr(t, kind)
                cands = [c for c in cands if c.feats is not None or c.rule_kept]
                if not any(c.feats is not None for c in cands):
                    continue
                if hybrid:
                    probs = [_score(model, kind, c, params[prefix + "_add"], params[prefix + "_generic_add"])
                             for c in cands]
                    chosen = decide(cands, probs, params[prefix + "_keep"], 1.0, hybrid)
                else:
                    probs = [model.proba(kind, c.feats) if c.feats is not None else 1.0 for c in cands]
                    chosen = decide(cands, probs, params[prefix + "_keep"], params[prefix + "_add"], hybrid)
                spans = {(c.start, c.end) for c in cands}
                # a rule item that is no candidate (a table cell's) stays as it is
                items = [x for x in rule_items if (x.start, x.end) not in spans]
                by_span = {(x.start, x.end): x for x in rule_items}
                for c in chosen:
                    old = by_span.get((c.start, c.end))
                    items.append(old if old is not None and c.rule_kept else _make(kind, c, doc))
                items.sort(key=lambda x: (x.start, x.end))
                setattr(t, kind, items)
    return doc


def _score(model: MentionModel, kind: str, c: Candidate, add: float, generic_add: float) -> float:
    """A rule item's P (1 when not featurised); another candidate's score, >= 1 when either decision adds
    it: the full model at P >= add (not for a hidden one), the rule-free model at P >= generic_add."""
    if c.feats is None:
        return 1.0
    if c.rule_kept:
        return model.proba(kind, c.feats)
    out = 0.0
    fs = set(c.feats)
    if add <= 1 and not c.hidden:
        out = model.proba(kind, fs) / max(add, 1e-9)
    if generic_add <= 1 and out < 1.0:        # (added anyway when the full decision is sure)
        # the rule-free vocabulary holds no rule feature (fit() strips them): no need to strip here
        out = max(out, model.proba(kind + GENERIC, fs) / max(generic_add, 1e-9))
    return out


def _make(kind: str, c: Candidate, doc: SpeechDoc):
    """A Deadline or Target of a candidate the rules did not keep (source "ml"), normalised as the rules do."""
    text = doc.text
    if kind == "deadlines":
        return Deadline(c.start, c.end, text[c.start:c.end], c.item["due"], c.item["placeholder"], source="ml",
                        rules=c.rules)
    from speechledger.extract.targets import _metric_text, _unit_text
    f = c.item
    return Target(c.start, c.end, text[c.start:c.end], _metric_text(doc, f), f["value"], _unit_text(doc, f),
                  f["comparator"], f["placeholder"], source="ml", rules=c.rules)


def _as_missed(c: Candidate) -> None:
    """A rule item the rule-miss simulation dropped: the rules are silent about it (no rule or filter
    id; a rule misses a form because no row matched it), only its text, section and position speak."""
    c.rule_kept = False
    c.feats = generic(c.feats)


def generic(feats: list[str]) -> list[str]:
    """The rule-free features of a candidate: without the rule and filter ids and the rules' decision
    (in training those say 'the rules were right' -- they were written reading these documents)."""
    return [f for f in feats if not f.startswith(_RULE_FEATS)]


# --- rule-miss simulation (cross-validation only) ------------------------------------------------

def _hide(cands: list[Candidate], missed: set) -> None:
    """Finder-miss simulation: a candidate overlapping a dropped rule item of its kind is not proposed by
    the rule-id-bearing finder path; the rule-free source (the same number/unit and time forms, read
    without rule ids) still proposes it, so only the rule-free decision may add it."""
    for c in cands:
        if any(k == c.kind and s < c.end and c.start < e for k, s, e in missed):
            c.hidden, c.rule_kept = True, False


def drop_rule_mentions(stage, kind: str, rate: float, seed: int = 13, finder_miss: bool = False):
    """The rule `deadlines` or `targets` stage, then each item it found dropped with probability rate
    (seeded per file), as training.drop_rule_tasks does for tasks: the rules were written reading the
    CV documents and miss fewer mentions there than on unseen text. The dropped spans are noted on
    the document (mention_misses) so ml_mentions sees them as filtered, not as rule items."""
    from speechledger.ml.training import _item_rng

    def with_misses(doc, config):
        doc = stage(doc, config)
        if finder_miss:
            doc.mention_finder_miss = True
        rng = _item_rng(kind + ":" + (doc.stem or doc.source), seed)
        missed = getattr(doc, "mention_misses", None)
        if missed is None:
            missed = doc.mention_misses = set()
        for sp in doc.speeches:
            for t in sp.tasks:
                items = getattr(t, kind)
                if items:
                    keep = []
                    for x in items:
                        if rng.random_sample() >= rate:
                            keep.append(x)
                        else:
                            missed.add((kind, x.start, x.end))
                    setattr(t, kind, keep)
        return doc
    return with_misses
