"""The learned target/deadline decision (pipeline/ml/mentions.py): candidates, labels, decision, saved weights."""
from __future__ import annotations

import pytest

from speechledger.api import Pipeline
from speechledger.extract.deadlines import RefDate, find_deadlines_with_rules
from speechledger.extract.targets import find_targets
from speechledger.lexicon import Lexicon, load_yaml
from speechledger.ml import mentions
from speechledger.ml.mentions import Candidate, MentionModel, decide, label


def _target(s, e, value, unit="%", comparator="=", placeholder=False):
    return Candidate("targets", s, e, {"value": value, "unit": unit, "comparator": comparator,
                                       "placeholder": placeholder})


def test_a_candidate_is_positive_only_when_it_overlaps_a_gold_target_with_the_same_fields():
    gold = [((10, 16), {"value": 12, "unit": "%", "comparator": ">=", "placeholder": False})]
    assert label(_target(11, 18, 12, comparator=">="), gold) == 1          # any overlap counts
    assert label(_target(11, 18, 12, comparator="="), gold) == 0           # wrong comparator
    assert label(_target(11, 18, 12.0, comparator=">="), gold) == 1        # values compare as numbers
    assert label(_target(11, 18, 13, comparator=">="), gold) == 0
    assert label(_target(11, 18, 12, unit="个", comparator=">="), gold) == 0
    assert label(_target(16, 20, 12, comparator=">="), gold) == 0          # touching is no overlap
    ph = [((0, 4), {"value": None, "unit": "%", "comparator": "=", "placeholder": True})]
    assert label(_target(0, 4, None, placeholder=True), ph) == 1


def test_a_deadline_candidate_is_positive_when_its_due_and_placeholder_match():
    gold = [((5, 9), {"due": "2025-06-30", "placeholder": False})]
    c = Candidate("deadlines", 5, 9, {"due": "2025-06-30", "placeholder": False})
    assert label(c, gold) == 1
    c.item["due"] = "2025-12-31"
    assert label(c, gold) == 0


def test_the_hybrid_keeps_rule_items_unless_very_unsure_and_adds_others_only_when_sure():
    rule = Candidate("targets", 0, 5, {}, rule_kept=True)
    other = Candidate("targets", 10, 15, {})
    over = Candidate("targets", 3, 8, {})          # overlaps the rule item
    got = decide([rule, other, over], [0.2, 0.85, 0.99], keep=0.1, add=0.8, hybrid=True)
    assert [(c.start, c.end) for c in got] == [(0, 5), (10, 15)]
    got = decide([rule, other], [0.05, 0.7], keep=0.1, add=0.8, hybrid=True)
    assert got == []                                 # rule item below keep, other below add
    got = decide([rule, other], [0.05, 0.7], keep=0.1, add=0.8, hybrid=False)
    assert [(c.start, c.end) for c in got] == [(10, 15)]    # ml mode: P >= 0.5 alone


def test_candidates_are_what_the_rules_propose_with_every_filter_off():
    lex = Lexicon.load()
    text = "去年全县实现地区生产总值26.7亿元，今年要力争增长8%以上。"
    kept = find_targets(text, 0, len(text), lex)
    trace: list = []
    find_targets(text, 0, len(text), lex, trace)
    every = find_targets(text, 0, len(text), lex, ablate=mentions.NO_TARGET_FILTERS)
    assert {(f["value"], f["unit"]) for f in kept} < {(f["value"], f["unit"]) for f in every}
    dropped = [f for f in every if not any(k["start"] == f["start"] for k in kept)]
    assert dropped and all(mentions._filters_over(trace, f["start"], f["end"]) for f in dropped)
    d = "截至6月底已完成一半，年底前全面完成。"
    ref = RefDate(2024, 3, 1)
    rules = find_deadlines_with_rules(d, 0, len(d), ref, lex)
    every = find_deadlines_with_rules(d, 0, len(d), ref, lex, skip=mentions.NO_DEADLINE_FILTERS)
    assert [x[2] for x in rules] == ["2024-12-31"]
    assert sorted(x[2] for x in every) == ["2024-06-30", "2024-12-31"]      # the status date of 截至, too


def test_run_time_features_are_the_training_features_of_the_same_candidate():
    pipe = Pipeline(extractors="rules")
    doc = pipe(TEXT, date="2024-02-01")
    lex = pipe.config.lexicon
    for sp in doc.speeches:
        full = [c for _t, tc, dc in mentions.speech_candidates(doc, sp, lex) for c in tc + dc]
        lazy = [c for _t, tc, dc in mentions.speech_candidates(doc, sp, lex, only_new=True) for c in tc + dc]
        by_span = {(c.kind, c.start, c.end): c for c in full}
        new = [c for c in lazy if c.feats is not None]
        assert new and any(c.feats is None for c in lazy)
        for c in new:          # (the run-time gates read only the sentences holding new numbers)
            assert c.feats == by_span[(c.kind, c.start, c.end)].feats and not c.rule_kept


def test_the_rule_stages_notes_only_skip_finder_runs_that_find_nothing_new(dev_path):
    # the deadline rows with their filters off run again only where a filter row fired, and the
    # number matches come from the targets stage: the hybrid's candidates are those found without
    pipe = Pipeline(extractors="rules")
    lex = pipe.config.lexicon
    for text, date in ((TEXT, "2024-02-01"), (dev_path.read_text(encoding="utf-8"), None)):
        doc = pipe(text, date=date)
        assert set(doc.finder_notes) == {"numbers", "deadline_filtered"}

        def candidates():
            return [(c.kind, c.start, c.end, c.feats) for sp in doc.speeches
                    for _t, tc, dc in mentions.speech_candidates(doc, sp, lex, only_new=True) for c in tc + dc]
        noted = candidates()
        assert any(feats is not None for *_, feats in noted)
        doc.finder_notes = {}
        assert candidates() == noted


def test_the_run_time_gate_reads_the_sentences_holding_numbers_the_rules_left():
    class T:
        start, end = 0, 23
    norm = "要完成改造5个。去年完成了3个；今年新建8个。"
    assert mentions._sentences(norm, T, [(13, 15)]) == [(8, 16)]
    assert mentions._sentences(norm, T, [(13, 15), (20, 22)]) == [(8, 16), (16, 23)]
    assert mentions._sentences(norm, T, [(5, 6), (6, 7)]) == [(0, 8)]


def _samples():
    import random
    rng = random.Random(13)
    out = {}
    for kind in mentions.KINDS:
        X, y = [], []
        for i in range(200):
            pos = rng.random() < 0.5
            fs = ["f:none" if pos else "f:target.filter.describe_before", f"cl:{rng.choice('要已到了')}",
                  f"u:{rng.choice('%个亩')}"]
            if rng.random() < 0.2:
                pos = not pos
            X.append(fs)
            y.append(int(pos))
        out[kind] = (X, y)
    return out


def test_saved_weights_load_without_sklearn_and_reproduce_the_trained_probabilities(tmp_path):
    pytest.importorskip("sklearn")
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    samples = _samples()
    m = MentionModel.fit(samples, seed=13)
    m.save(str(tmp_path / "mentions"))
    loaded = MentionModel.load(str(tmp_path / "mentions"))
    for kind, (X, y) in samples.items():
        vocab = m.vocab[kind]
        col = {f: j for j, f in enumerate(vocab)}
        M = sparse.csr_matrix([[1.0 if f in fs else 0.0 for f in vocab] for fs in X])
        lr = LogisticRegression(solver="liblinear", C=mentions.C, random_state=13, max_iter=1000).fit(M, y)
        want = lr.predict_proba(M)[:, 1]
        got = np.array([loaded.proba(kind, fs) for fs in X])
        assert np.allclose(got, want, atol=1e-9)
        assert np.allclose(got, [m.proba(kind, fs) for fs in X])
        assert all(f in col for f in ("f:none",))


def test_the_stage_runs_after_the_rule_targets_only_with_learned_extractors():
    assert "ml_mentions" not in Pipeline(extractors="rules").names
    names = Pipeline(extractors="hybrid").names
    assert names.index("targets") < names.index("ml_mentions") < names.index("tables")


TEXT = ("要加快推进老旧小区改造，去年完成改造120个，今年力争完成200个以上，"
        "截至6月底已完成投资5亿元，6月底前完成规划编制。")


def _hybrid(mention_model, **params):
    pipe = Pipeline(extractors="hybrid")
    models = pipe.config.models
    if models is None:
        pytest.skip("no bundled models")
    models.mentions = mention_model
    models.params = {**models.params, **params}
    return pipe


def _mentions_of(doc):
    return [(x.start, x.end, x.source) for sp in doc.speeches for t in sp.tasks for x in t.targets + t.deadlines]


def test_without_a_mention_model_the_hybrid_keeps_the_rule_mentions():
    rules = Pipeline(extractors="rules")(TEXT, date="2024-02-01")
    hy = _hybrid(None)(TEXT, date="2024-02-01")
    assert _mentions_of(hy) == _mentions_of(rules)


def test_the_hybrid_adds_a_filtered_candidate_the_model_is_sure_of_and_keeps_offsets():
    sure = MentionModel({k: ["k:no"] for k in mentions.KINDS}, {k: [20.0] for k in mentions.KINDS},
                        {k: 0.0 for k in mentions.KINDS})
    off = _hybrid(sure, target_add=1.01, deadline_add=1.01, target_keep=0.0, deadline_keep=0.0)
    on = _hybrid(sure, target_add=0.9, deadline_add=0.9, target_keep=0.0, deadline_keep=0.0)
    rules = _mentions_of(Pipeline(extractors="rules")(TEXT, date="2024-02-01"))
    base = _mentions_of(off(TEXT, date="2024-02-01"))
    doc = on(TEXT, date="2024-02-01")
    got = _mentions_of(doc)
    assert base == rules
    assert set(rules) < set(got)                           # the rule items stay, others are added
    assert all(src == "ml" for x in set(got) - set(rules) for src in [x[2]])
    for sp in doc.speeches:
        for t in sp.tasks:
            for x in t.targets + t.deadlines:
                assert TEXT[x.start:x.end] == x.text and t.start <= x.start < x.end <= t.end


def test_the_rule_miss_simulation_drops_rule_mentions_and_notes_them():
    rules = _mentions_of(Pipeline(extractors="rules")(TEXT, date="2024-02-01"))
    assert rules
    pipe = Pipeline(extractors="rules")
    for kind in ("targets", "deadlines"):
        pipe._stages[kind] = mentions.drop_rule_mentions(pipe._stages[kind], kind, 1.0)
    doc = pipe(TEXT, source="x.txt", date="2024-02-01")
    assert _mentions_of(doc) == []
    assert {(s, e) for _k, s, e in doc.mention_misses} == {(s, e) for s, e, _ in rules}


GATES = [(r["id"], r["pattern"], ex, ok) for r in load_yaml("mentions.yaml")["gates"]
         for key, ok in (("match", True), ("no_match", False)) for ex in r[key]]


@pytest.mark.parametrize("gid,pattern,example,should_match", GATES)
def test_gate_row_examples(gid, pattern, example, should_match):
    assert (mentions._gate(Lexicon.load(), gid).search(example) is not None) is should_match


def test_the_rule_free_features_carry_no_rule_evidence():
    feats = ["r:target.committed", "k:no", "f:target.filter.describe_before", "cl:要", "u:%", "sec:plan"]
    assert mentions.generic(feats) == ["cl:要", "u:%", "sec:plan"]


def _always(kinds):
    """A model sure of every candidate of the given kinds (intercept only)."""
    return MentionModel({k: [] for k in kinds}, {k: [] for k in kinds}, {k: 20.0 for k in kinds})


def _finder_miss(pipe):
    for kind in ("targets", "deadlines"):
        pipe._stages[kind] = mentions.drop_rule_mentions(pipe._stages[kind], kind, 1.0, finder_miss=True)
    return pipe


def test_under_finder_misses_only_the_rule_free_decision_brings_a_dropped_item_back():
    full = list(mentions.KINDS)
    generic = [k + mentions.GENERIC for k in mentions.KINDS]
    params = dict(target_add=0.5, deadline_add=0.5, target_generic_add=0.5, deadline_generic_add=0.5)
    doc = _finder_miss(_hybrid(_always(full), **params))(TEXT, source="x.txt", date="2024-02-01")
    missed = {(s, e) for _k, s, e in doc.mention_misses}
    assert missed
    got = {(s, e) for s, e, _src in _mentions_of(doc)}
    assert not any(a < e and s < b for a, b in got for s, e in missed)    # the full model sees none of them
    doc = _finder_miss(_hybrid(_always(generic), **params))(TEXT, source="x.txt", date="2024-02-01")
    got = {(s, e) for s, e, _src in _mentions_of(doc)}
    assert missed <= got                                                   # the rule-free one adds them back
    for sp in doc.speeches:
        for t in sp.tasks:
            for x in t.targets + t.deadlines:
                assert TEXT[x.start:x.end] == x.text


def test_the_rule_free_decision_adds_a_filtered_candidate_only_above_its_threshold():
    generic = [k + mentions.GENERIC for k in mentions.KINDS]
    rules = _mentions_of(Pipeline(extractors="rules")(TEXT, date="2024-02-01"))
    off = _hybrid(_always(generic), target_add=1.01, deadline_add=1.01,
                  target_generic_add=1.01, deadline_generic_add=1.01)
    on = _hybrid(_always(generic), target_add=1.01, deadline_add=1.01,
                 target_generic_add=0.9, deadline_generic_add=0.9)
    assert _mentions_of(off(TEXT, date="2024-02-01")) == rules
    got = _mentions_of(on(TEXT, date="2024-02-01"))
    assert set(rules) < set(got) and all(src == "ml" for _s, _e, src in set(got) - set(rules))


# an indicator line without 要/必须 that the task stages leave out (ANNOTATION.md §8: a goal item is a task
# carrying its targets), after a task line (a bare 全年 is no time ahead for the rules, round 10)
GOAL = "要加快推进老旧小区改造。\n全年城镇新增就业1.2万人。\n"


def _tasks(doc):
    return [t for sp in doc.speeches for t in sp.tasks]


def _outside(model, thr):
    # the task models add nothing and keep every rule task: what the task stages take is the rules' choice
    return _hybrid(model, target_outside_add=thr, deadline_outside_add=thr, task_threshold=1.01,
                   keep_threshold=0.0, text_add_threshold=1.01)(GOAL, date="2024-02-01")


def test_a_goal_line_left_out_becomes_a_task_carrying_its_target_when_the_outside_model_is_sure():
    line = GOAL.index("全年城镇")
    sure = _always([k + mentions.OUTSIDE for k in mentions.KINDS])
    off = _outside(sure, 1.01)
    assert not any(t.start <= line < t.end for t in _tasks(off))          # the task stages leave it out
    on = _outside(sure, 0.9)
    assert [t.text for t in _tasks(on) if t.start < line] == [t.text for t in _tasks(off)]
    (t,) = [t for t in _tasks(on) if t.start <= line < t.end]
    assert t.extractor == "ml" and t.rules[0] == "mentions.outside"
    assert [(x.text, x.value, x.unit) for x in t.targets] == [("1.2万人", 1.2, "万人")]
    rec = t.to_json()
    assert GOAL[rec["start"]:rec["end"]] == rec["text"]
    for x in rec["targets"]:
        assert GOAL[x["start"]:x["end"]] == x["text"] and rec["start"] <= x["start"] < x["end"] <= rec["end"]


def test_an_unsure_outside_model_adds_no_task():
    kinds = [k + mentions.OUTSIDE for k in mentions.KINDS]
    unsure = MentionModel({k: [] for k in kinds}, {k: [] for k in kinds}, {k: -20.0 for k in kinds})
    assert [t.text for t in _tasks(_outside(unsure, 0.5))] == [t.text for t in _tasks(_outside(unsure, 1.01))]


def test_outside_candidates_are_read_only_where_a_number_or_time_stands():
    from speechledger.extract.deadlines import RefDate
    doc = Pipeline(extractors="rules")(GOAL, date="2024-02-01")
    sp = doc.speeches[0]
    lex = Lexicon.load()
    ref = RefDate.of(sp.date, sp.ref_year)
    first, second = sp.segments[:2]
    assert mentions.segment_candidates(doc, sp, first, lex, ref) == ([], [])
    tc, dc = mentions.segment_candidates(doc, sp, second, lex, ref)
    assert tc and not dc and all(second.start <= c.start < c.end <= second.end for c in tc)
    feats = mentions.outside_features(tc[0].feats, False, 0.3)
    assert "seg:none" in feats and "pt:2" in feats and not any(f.startswith(("task:", "k:")) for f in feats)
    text = mentions.outside_features(tc[0].feats, True, 0.99, "text")        # no task status at all
    assert not any(f.startswith(("seg:", "pt:", "task:", "k:")) for f in text)


def test_the_blind_simulation_hides_the_dropped_rule_tasks_from_the_task_models():
    from speechledger.ml.training import drop_rule_tasks
    pipe = _hybrid(None)
    pipe._stages["tasks"] = drop_rule_tasks(pipe._stages["tasks"], 1.0, blind=True)
    doc = pipe(GOAL, source="x.txt", date="2024-02-01")
    first = doc.speeches[0].segments[0]
    assert first.start in doc.task_blind                   # the rule task of the first line was dropped
    assert not any(t.start <= first.start < t.end for t in _tasks(doc))   # and no task model brings it back
