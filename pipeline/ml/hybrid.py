"""Pipeline stages that combine the learned models with the rule extractors.

`ml_tasks` runs after the rule `tasks` stage and re-decides every segment;
`ml_units` runs after the rule `units` stage and adds the CRF's unit spans.
With extractors="hybrid" the stacked task model weighs rule evidence and text
together; with extractors="ml" the text-only model decides alone. When no model
is loaded (config.models is None) both stages leave the rule output untouched.
"""
from __future__ import annotations

import re

from speechledger.doc import SpeechDoc, Task, Unit
from speechledger.extract.tasks import make_task
from speechledger.extract.units import role_of
from speechledger.ml.features import MODALITIES, rule_view_of
from speechledger.ml.task_model import logit

# Defaults for the decision thresholds; a model card's "params" overrides them. Chosen by 5-fold CV
# on real documents (scripts/tune_hybrid.py grids them, clean and with rule misses simulated).
DEFAULTS = {
    "task_threshold": 0.5,        # add a segment the rules left out at this combined probability
    "keep_threshold": 0.3,        # keep a rule task down to this combined probability (rules are precise)
    "modality_override": 0.9,     # replace the rule modality when the model is at least this sure
    "specific_margin": 0.0,       # set specific when |p - 0.5| exceeds this
    "unit_confidence": 0.8,       # hybrid: minimum CRF marginal of a unit added to the rules' units
    "ml_unit_confidence": 0.5,    # ml: minimum CRF marginal of a unit span
    # hybrid: where the CRF may add units beside the rules' ("none", "unitless", "role": unitless tasks
    # naming a role, "all"). With rule
    # misses in CV, "all" at 0.9 would lift units 0.878 -> 0.917 (R 0.806 -> 0.893; clean CV
    # 0.959 -> 0.951), but running the CRF on every task slows the default extract from 0.97x
    # to 0.64x jieba.lcut (scripts/bench_extract.py, same run), so it stays off until it is cheaper.
    # Round 6, 5-fold CV (units F1 clean / 15% / 30% rule misses): none .960/.870/.759; "unitless" 0.9
    # .956/.887/.804 (~1.7 s/MB); "role" 0.97 .959/.877/.775 (~0.2 s/MB) -- both lose a little clean
    "crf_scope": "none",
    # hybrid: a segment the rules left out is also added when the text-only model alone is this
    # sure (above 1: never). The stacked model leans on the rule evidence, so on its own it
    # recovers few rule misses: with 15% of held-out rule tasks dropped, CV tasks F1 .909 -> .952
    # at 0.9, for clean-CV tasks .974 -> .972 (scripts/tune_hybrid.py --text-add)
    "text_add_threshold": 0.9,
    # hybrid: the text-only model's P(task) is re-read in context (task_model.ContextModel) when the model
    # has one. 5-fold CV, text_add_threshold 0.9: tasks F1 clean .972 -> .972, with 15% / 30% of held-out
    # rule tasks dropped .952 -> .957 / .931 -> .938 (scripts/tune_hybrid.py --context). The ml extractor
    # keeps the plain text model (in context: tasks .925 -> .919)
    "text_context": True,
    # hybrid: a rule task the stacked model only tolerates (below task_threshold) is dropped when the
    # text-only model's P(task) is below this (0: never). Off: at 0.1 clean CV tasks P .960 -> .962 but
    # R .984 -> .980 (F1 .972 -> .971), macro .959 -> .956; with 15% rule misses macro .928 -> .926
    "text_veto": 0.0,
    # hybrid: the text-only model adds no segment on which a rule cue of at most this weight fired
    # (meeting procedure, a title line, a preamble, a quote: the rules' own veto, which the text
    # model cannot read; "…负责同志参加会议" read 0.92 in round 15). Below -100: never blocks
    "text_add_block_weight": -2.5,
}


# speeches are featurised together up to about this many characters: a batch pays the fixed cost of
# its array set-up (~1 ms) once, and its arrays (~200 bytes per character) stay small
BATCH_CHARS = 1 << 16


def ml_tasks(doc: SpeechDoc, config) -> SpeechDoc:
    """Re-decide every segment with the task model (declared in api.STAGES).

    The features and the model's products are computed for a batch of speeches at once
    (a speech at a time costs a fixed ~1 ms each); then each speech decides."""
    models = config.models
    if models is None:
        return doc
    batch, size = [], 0
    for sp in doc.speeches:
        if sp.segments:
            batch.append(sp)
            size += sp.end - sp.start
        if size >= BATCH_CHARS:
            _ml_batch(doc, batch, models, config)
            batch, size = [], 0
    if batch:
        _ml_batch(doc, batch, models, config)
    return doc


def _ml_batch(doc: SpeechDoc, speeches: list, models, config) -> None:
    """ml_tasks on some speeches of doc (all with segments)."""
    hybrid = config.extractors == "hybrid"
    params = {**DEFAULTS, **models.params}
    tm_ml = models.task_ml
    tm_ml.linear()                     # loads lazy weights (and the context model)
    parts = tm_ml.featurizer.parts_of(doc, speeches)
    rv = rule_view_of(doc, speeches)
    if hybrid:
        th = models.task_hybrid
        # the rules' modality is kept in hybrid mode (it scores ~1.0), so no modality head here
        pred = th.predict_parts(parts, th.featurizer.rule_dense_of_all(doc, speeches, rv), heads=("task", "specific"))
    else:
        pred = tm_ml.predict_parts(parts, heads=("task", "modality", "specific"))
    # plain Python lists: the per-task loop below must not pay numpy scalar costs
    p = pred.p_task
    p_txt = p_plain = None
    outside = hybrid and _outside_on(models, params)
    if hybrid and (params["text_add_threshold"] <= 1.0 or params["text_veto"] > 0 or outside):
        p_text = tm_ml.predict_parts(parts, heads=("task",)).p_task
        p_plain = p_text.tolist() if outside else None
        p_txt = _in_context(tm_ml, p_text, parts, params).tolist()
    p = p.tolist()
    ps = pred.p_specific.tolist()
    pm = pred.p_modality.argmax(axis=1).tolist() if pred.p_modality is not None else None
    pm_max = pred.p_modality.max(axis=1).tolist() if pred.p_modality is not None else None
    blind = getattr(doc, "task_blind", None)
    if blind:
        _blind(speeches, parts.first_rows, blind, p, p_txt, p_plain)
    t0 = 0
    for sp, r0, r1 in zip(speeches, parts.first_rows, parts.first_rows[1:]):
        fields = _Fields(ps[r0:r1], pm and pm[r0:r1], pm_max and pm_max[r0:r1], params)
        task_of = [ti - t0 if ti >= 0 else -1 for ti in rv.task_of[r0:r1]]
        t0 += len(sp.tasks)
        sp.tasks = _decide(doc, sp, p[r0:r1], p_txt and p_txt[r0:r1], task_of, fields, hybrid, params,
                           config.lexicon)
        if outside:
            _add_outside(doc, sp, task_of, p_plain[r0:r1], fields, models, params, config.lexicon)


def _blind(speeches, first_rows, blind: set, *probs) -> None:
    """Cross-validation only (training.drop_rule_tasks blind=True): the task models' P(task) of the
    segments in blind reads 0, as if they had missed them too."""
    for sp, r0 in zip(speeches, first_rows):
        for i, seg in enumerate(sp.segments):
            if seg.start in blind:
                for pr in probs:
                    if pr is not None:
                        pr[r0 + i] = 0.0


def _outside_on(models, params: dict) -> bool:
    """The outside-tasks decision (mentions.outside_tasks) is on: a threshold at most 1 and a model for it."""
    from speechledger.ml.mentions import DEFAULTS as MD
    from speechledger.ml.mentions import OUTSIDE
    m = getattr(models, "mentions", None)
    return m is not None and any(params.get(k, MD[k]) <= 1 for k in ("target_outside_add", "deadline_outside_add")) \
        and any(k.endswith(OUTSIDE) for k in m.vocab)


def _add_outside(doc: SpeechDoc, sp, task_of: list[int], p_plain: list[float], fields: "_Fields", models,
                 params: dict, lex) -> None:
    """Add as tasks ('ml') the segments no task holds (nor a rule task held) where the outside model is
    sure of a target or deadline candidate; the candidates are noted on the document (outside_mentions)
    for ml_mentions to put on the task. Units, deadlines and targets come from the stages after, as for
    any segment ml_tasks adds."""
    from speechledger.ml.mentions import outside_tasks
    held = set()
    j, tasks = 0, sp.tasks
    for i, seg in enumerate(sp.segments):
        while j < len(tasks) and tasks[j].end <= seg.start:
            j += 1
        if task_of[i] >= 0 or any(t.start <= seg.start < t.end for t in tasks[j:j + 2]):
            held.add(i)
    free = [i for i in range(len(sp.segments)) if i not in held]
    found = outside_tasks(doc, sp, free, p_plain, models.mentions, params, lex)
    if not found:
        return
    carried = doc.__dict__.setdefault("outside_mentions", {})
    for i, p, cands in found:
        seg = sp.segments[i]
        rules = ["mentions.outside"] + sorted({r for c in cands for r in c.rules})
        t = make_task(doc, sp, seg, "ml", p, lexicon=lex, rules=rules)
        fields.apply(t, i, keep_modality=True)
        sp.tasks.append(t)
        carried[seg.start] = cands
    sp.tasks.sort(key=lambda t: (t.start, t.end))


def _in_context(tm_ml, p_text, parts, params: dict):
    """The text-only model's P(task) re-read with its neighbours and section (ContextModel), when it has one."""
    ctx = tm_ml.context
    if ctx is None or not params["text_context"]:
        return p_text
    return ctx.predict(logit(p_text), parts.dense, parts.first_rows)


def _decide(doc: SpeechDoc, sp, p: list[float], p_txt: list[float] | None, task_of: list[int], fields: "_Fields",
            hybrid: bool, params: dict, lex) -> list[Task]:
    """The tasks of a speech from the model's P(task) of each segment and the rule tasks (task_of:
    the rule task covering each segment, or -1). p_txt (hybrid): the text-only model's P(task), which
    adds a segment the rules left out when it is sure enough (text_add_threshold), and drops a rule
    task it finds unlikely (text_veto)."""
    thr, keep = params["task_threshold"], params["keep_threshold"]
    tadd, veto = params["text_add_threshold"], params["text_veto"]
    block, ev = params["text_add_block_weight"], doc.task_evidence

    def vetoed(i: int) -> bool:
        """A rule cue of at most text_add_block_weight fired on segment i (read only where the text
        model would add it)."""
        return block > -100 and any(w <= block for w in ev.get(sp.segments[i].start, {}).values())
    p_add = p if p_txt is None else [b if b >= tadd and b > a and not vetoed(i) else a
                                     for i, (a, b) in enumerate(zip(p, p_txt))]
    # a rule task spanning several segments is judged by its best segment
    best: dict[int, int] = {}
    for i, ti in enumerate(task_of):
        if ti >= 0 and (ti not in best or p[i] > p[best[ti]]):
            best[ti] = i
    new_tasks: list[Task] = []
    if hybrid:
        for ti, t in enumerate(sp.tasks):
            i = best.get(ti)
            if i is None:              # covers no segment for half: leave it to the rules
                new_tasks.append(t)
                continue
            if p[i] >= keep and (veto <= 0 or p[i] >= thr or p_txt[i] >= veto):
                # the model backs the rule task ("rules+ml"), or only tolerates it ("rules")
                t.extractor = "rules+ml" if p[i] >= thr else "rules"
                t.confidence = p[i]
                fields.apply(t, i, keep_modality=True)
                new_tasks.append(t)
    for i, seg in enumerate(sp.segments):
        if p_add[i] < thr or (hybrid and task_of[i] >= 0):
            continue
        t = make_task(doc, sp, seg, "ml", p_add[i], lexicon=lex)
        fields.apply(t, i, keep_modality=hybrid)
        new_tasks.append(t)
    new_tasks.sort(key=lambda t: (t.start, t.end))
    return new_tasks


class _Fields:
    """Sets modality/specific of a task from the model's per-segment probabilities."""

    def __init__(self, p_specific, modality, modality_p, params):
        self.ps, self.mod, self.mod_p = p_specific, modality, modality_p
        self.override, self.margin = params["modality_override"], params["specific_margin"]

    def apply(self, t: Task, i: int, keep_modality: bool) -> None:
        if self.mod is not None and (not keep_modality or self.mod_p[i] >= self.override):
            t.modality = MODALITIES[self.mod[i]]
        ps = self.ps[i]
        if abs(ps - 0.5) > self.margin:
            t.specific = ps >= 0.5
            t.p_specific = round(ps, 4)      # read by the specific stage


def ml_units(doc: SpeechDoc, config) -> SpeechDoc:
    """Add the CRF's unit spans to the tasks (source="ml"; declared in api.STAGES)."""
    models = config.models
    if models is None:
        return doc
    hybrid = config.extractors == "hybrid"
    crf = models.units
    params = {**DEFAULTS, **models.params}
    min_conf = params["unit_confidence"] if hybrid else params["ml_unit_confidence"]
    if hybrid and params["crf_scope"] == "none":
        return doc
    scope = params["crf_scope"] if hybrid else "all"
    unitless_only = scope in ("unitless", "role")
    norm, text = doc.norm or doc.text, doc.text
    lex = config.lexicon
    for sp in doc.speeches:
        for t in sp.tasks:
            if unitless_only and t.units:
                continue
            if scope == "role" and not role_cue(lex).search(norm, t.start, t.end):
                continue
            known = [(u.start, u.end) for u in t.units] if hybrid else ()
            found = [(s, e, c) for s, e, c in crf.spans(norm, t.start, t.end, known) if c >= min_conf]
            kept = list(t.units) if hybrid else []
            added = False
            for s, e, _ in found:
                while s < e and text[s].isspace():
                    s += 1
                while e > s and text[e - 1].isspace():
                    e -= 1
                if e - s < 2 or "\n" in text[s:e]:
                    continue
                if any(u.start < e and s < u.end for u in kept):
                    continue          # rules win on overlap
                seg = _segment_at(sp, s)
                role = role_of(doc, seg, s, e, lexicon=lex) if seg is not None else "lead"
                kept.append(Unit(start=s, end=e, text=text[s:e], role=role, source="ml"))
                added = True
            if added or not hybrid:
                kept.sort(key=lambda u: (u.start, u.end))
                t.units = kept
    return doc


# "role" scope: the words that name a doer's role (ANNOTATION.md §3: lead 牵头/负责/主抓/链长,
# support 配合/参加/协助/会同, label lines 责任单位/牵头单位…)
def role_cue(lexicon) -> re.Pattern:
    """units.yaml role_cue: a word that assigns a role (the "role" scope of the unit CRF)."""
    return lexicon.cached("units.role_cue", lambda lx: re.compile(lx.data("units.yaml")["role_cue"]["pattern"]))


def _segment_at(sp, pos: int):
    for seg in sp.segments:
        if seg.start <= pos < seg.end:
            return seg
    return None

