"""Every example in the rule data files (pipeline/data/*) runs here, row by row."""
from __future__ import annotations

import re

import pytest

from speechledger.extract.deadlines import RefDate, find_deadlines, find_deadlines_with_rules
from speechledger.extract.targets import find_targets
from speechledger.extract.tasks import modality_of
from speechledger.extract.units import find_units, find_units_with_rules
from speechledger.lexicon import Lexicon, load_tsv, load_yaml, spaced_label
from speechledger.normalize import norm_text

LEX = Lexicon.load()


def _ref(value) -> RefDate | None:
    if value is None:
        return None
    s = str(value)
    return RefDate.of(s, None) if len(s) == 10 else RefDate(int(s))


# --- task cues -------------------------------------------------------------
CUES = load_yaml("task_cues.yaml")["cues"]
CUE_ROWS = [(c["id"], c["pattern"], ex, True) for c in CUES for ex in c.get("match", [])] + \
           [(c["id"], c["pattern"], ex, False) for c in CUES for ex in c.get("no_match", [])]


@pytest.mark.parametrize("cue,pattern,example,should_match", CUE_ROWS,
                         ids=[f"{r[0]}:{r[2][:12]}:{r[3]}" for r in CUE_ROWS])
def test_task_cue_examples(cue, pattern, example, should_match):
    assert bool(re.search(pattern, norm_text(example))) is should_match


# --- modality ---------------------------------------------------------------
MOD = load_yaml("modality.yaml")
MOD_ROWS = [(ex, "must") for ex in MOD["must"]["examples"]] + \
           [(ex, "strive") for ex in MOD["strive"]["examples"]] + \
           [(ex, "should") for ex in MOD["should_overrides"]["examples"]]


@pytest.mark.parametrize("text,modality", MOD_ROWS)
def test_modality_examples(text, modality):
    assert modality_of(norm_text(text), LEX) == modality


def test_modality_strongest_wins():
    assert modality_of("要力争年底前完成，确保不出问题", LEX) == "must"
    assert modality_of("要力争年底前完成", LEX) == "strive"


# --- deadlines --------------------------------------------------------------
DL = load_yaml("deadlines.yaml")
# [text, speech date or year, due, optional span (default: the whole text)]
DL_ROWS = [(r["id"], ex[0], ex[1], ex[2], ex[3] if len(ex) > 3 else ex[0])
           for r in DL["rules"] for ex in r.get("examples", [])]


@pytest.mark.parametrize("rule,text,ref,due,span", DL_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in DL_ROWS])
def test_deadline_examples(rule, text, ref, due, span):
    found = find_deadlines(text, 0, len(text), _ref(ref), LEX)
    assert found, f"no deadline found in {text!r}"
    s, e, got_due, placeholder = found[0]
    assert text[s:e] == span, f"span {text[s:e]!r} is not {span!r}"
    assert got_due == due
    assert placeholder == (rule == "placeholder_date")


@pytest.mark.parametrize("rule,text,ref,due,span", DL_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in DL_ROWS])
def test_deadline_examples_record_their_rule(rule, text, ref, due, span):
    *_, rules = find_deadlines_with_rules(text, 0, len(text), _ref(ref), LEX)[0]
    assert rules == (rule,)


CTX = [(r["id"], c[0], c[1]) for r in DL["rules"] for c in r.get("context", [])]
NO_CTX = [(r["id"], t) for r in DL["rules"] for t in r.get("no_context", [])]


@pytest.mark.parametrize("rule,text,span", CTX)
def test_deadline_in_context(rule, text, span):
    found = [text[s:e] for s, e, *_ in find_deadlines(text, 0, len(text), RefDate(2024), LEX)]
    assert span in found


@pytest.mark.parametrize("rule,text", NO_CTX)
def test_year_as_topic_is_not_a_deadline(rule, text):
    found = find_deadlines_with_rules(text, 0, len(text), RefDate(2024), LEX)
    if rule == "this_year":
        assert not any(text[s:e] in ("今年", "全年") for s, e, *_ in found), found
    else:
        assert not any(rule in rules for *_, rules in found), found


def test_deadlines_past_month_rolls_to_next_year():
    text = "确保7月底前完成"
    (_, _, due, _), = find_deadlines(text, 0, len(text), RefDate(2024, 12, 5), LEX)
    assert due == "2025-07-31"


def test_deadline_frequencies_are_not_deadlines():
    for text in ("每月25日前报送进展", "按季度调度", "每季度首月15日前报送"):
        assert find_deadlines(text, 0, len(text), RefDate(2024, 3, 1), LEX) == []


def test_relative_deadline_without_speech_date_has_no_due():
    text = "确保年底前完成"
    (_, _, due, placeholder), = find_deadlines(text, 0, len(text), None, LEX)
    assert due is None and placeholder is False


# --- targets ----------------------------------------------------------------
MEASURES = load_tsv("measures.tsv")


@pytest.mark.parametrize("row", MEASURES, ids=[r["unit"] for r in MEASURES])
def test_measure_examples(row):
    text = "要" + row["example"] if not row["example"].startswith("要") else row["example"]
    found = find_targets(text, 0, len(text), LEX)
    assert found, f"no target in {text!r}"
    assert any(t["unit"] == row["canonical"] for t in found), found


TG = load_yaml("targets.yaml")


@pytest.mark.parametrize("text,comparator", TG["comparators"]["examples"])
def test_comparator_examples(text, comparator):
    found = find_targets("要" + text, 0, len(text) + 1, LEX)
    assert found and found[-1]["comparator"] == comparator


@pytest.mark.parametrize("text,value,unit,comparator,placeholder", [
    ("确保规模工业增加值增长15％以上", 15, "%", ">=", False),
    ("新增“四上”企业X家", None, "家", "=", True),
    ("争创省级企业技术中心1—2个", 1, "个", ">=", False),
    ("举办不少于三场推介会", 3, "场", ">=", False),
    ("力争进入全省前10名", 10, "名", ">=", False),
    ("单位GDP能耗控制在3.5%左右", 3.5, "%", "~", False),
    ("力争财政收入翻一番", 2, "倍", "=", False),
    ("新增就业１２００人", 1200, "人", "=", False),
    ("力争达到10个亿", 10, "亿元", "=", False),
    ("新增就业1 200人", 1200, "人", "=", False),          # a space inside the number (PDF text)
    ("确保增长15 ％以上", 15, "%", ">=", False),
    ("压缩至1个工作日以内", 1, "个工作日", "<=", False),
    ("至少组织一次应急演练", 1, "次", ">=", False),
])
def test_target_fields(text, value, unit, comparator, placeholder):
    norm = norm_text(text)
    found = find_targets(norm, 0, len(norm), LEX)
    assert found, text
    t = found[-1]
    assert (t["value"], t["unit"], t["comparator"], t["placeholder"]) == (value, unit, comparator, placeholder)


@pytest.mark.parametrize("text", [
    "要举办一场主场招商会",                    # 一场 means "a"
    "要牢固树立“四个意识”",                    # a slogan, not a count
    "去年全市完成投资45.8亿元",                # past figure
    "目前注册资本是X个亿",                      # describes today
])
def test_not_targets(text):
    assert find_targets(text, 0, len(text), LEX) == []


TARGET_RULE_ROWS = [(r["id"], ex) for r in TG["rules"] for ex in r["examples"]]


@pytest.mark.parametrize("rule,row", TARGET_RULE_ROWS, ids=[f"{r}:{x[0][:10]}" for r, x in TARGET_RULE_ROWS])
def test_target_rule_examples(rule, row):
    """Each target rule row gives its example target and records its id."""
    text, value, unit, comparator = row
    norm = norm_text("要" + text)
    goals = any(r.get("goals") for r in TG["rules"] if r["id"] == rule)
    found = [(t["value"], t["unit"], t["comparator"]) for t in find_targets(norm, 0, len(norm), LEX, goals=goals)
             if rule in t.get("rules", ())]
    assert (value, unit, comparator) in found


TARGET_FILTER_ROWS = [(r["id"], ex) for r in TG["filters"] for ex in r["examples"]]


@pytest.mark.parametrize("rule,text", TARGET_FILTER_ROWS, ids=[f"{r}:{x[:10]}" for r, x in TARGET_FILTER_ROWS])
def test_target_filter_examples(rule, text):
    """Each filter row drops a number of its example, and says so in the trace."""
    norm = norm_text(text)
    trace = []
    find_targets(norm, 0, len(norm), LEX, trace)
    assert rule in [why for *_, why in trace], trace


def test_qualifier_number_stays_in_metric():
    text = "引进投资3000万元以上的产业链落地项目40个以上"
    found = find_targets("要" + text, 0, len(text) + 1, LEX)
    assert [(t["value"], t["unit"]) for t in found] == [(40, "个")]
    assert "3000万元" in found[0]["metric"]


# --- units ------------------------------------------------------------------
UNIT_ROWS = load_yaml("units.yaml")["examples"]


@pytest.mark.parametrize("row", UNIT_ROWS, ids=[r["text"][:14] for r in UNIT_ROWS])
def test_unit_examples(row):
    norm = norm_text(row["text"])
    got = [[row["text"][s:e], role] for s, e, role in find_units(norm, 0, len(norm), LEX)]
    assert got == [list(u) for u in row["units"]]


UNIT_CLAUSE_ROWS = [(r["id"], ex) for key in ("clauses", "structural", "collective_rows")
                    for r in load_yaml("units.yaml")[key] for ex in r["examples"]]


@pytest.mark.parametrize("rule,row", UNIT_CLAUSE_ROWS, ids=[f"{r}:{x['text'][:12]}" for r, x in UNIT_CLAUSE_ROWS])
def test_unit_clause_examples(rule, row):
    """Each clause / structural row finds its example units, and says so in `rules`."""
    norm = norm_text(row["text"])
    found = find_units_with_rules(norm, 0, len(norm), LEX)
    assert [[row["text"][s:e], role] for s, e, role, _ in found] == [list(u) for u in row["units"]]
    assert any(rule in rules for *_, rules in found) or not found


def test_unit_finder_shortcuts_find_what_the_plain_patterns_find():
    """The compiled shortcuts (prefix tree, first-character look-ahead, right-to-left name scan)
    find what the plain patterns and a character-by-character scan find."""
    import re

    from speechledger.extract import units as U
    c = LEX.cached("units", U._build)
    words = ["局", "住建局", "住建", "委员会", "委"]
    assert [m.group() for m in re.finditer(U._trie(words), "县住建局和委员会")] == \
        [m.group() for m in re.finditer(U._alt(words), "县住建局和委员会")]
    from speechledger.regex_gate import first_chars
    assert first_chars("a?") is None and first_chars("[^x]y") is None and first_chars("a?b") == "[ab]"
    stop = re.compile(f"(?:{LEX.data('units.yaml')['left_stops']})$")

    def plain_start(scan, i):
        lo = max(0, i - U._NAME_LIMIT)
        while i > lo and ("\u4e00" <= scan[i - 1] <= "\u9fff" or scan[i - 1].isalnum() or scan[i - 1] in "X×*()（）") \
                and not stop.search(scan, max(0, i - 8), i):
            i -= 1
        return i
    lines = ["由县发改局牵头，县财政局、县自然资源局配合，制定实施方案。", "会议要求各乡镇认真落实。",
             "市住房和城乡建设局要会同县应急管理局开展排查。", "要求区工信局以上企业，组织部门和第一责任单位参加。",
             "经贸局、统计局等部门要结合实际。", "组织市场监管局对接。", "ABC公司和XX县政府要配合。"]
    raw = re.compile(LEX.data("units.yaml")["collective"])
    for line in lines:
        scan = U._scan_copy(norm_text(line), c)
        assert [U._name_start(scan, i, c) for i in range(len(scan))] == [plain_start(scan, i) for i in range(len(scan))]
        assert [m.span() for m in c.collective.finditer(scan)] == [m.span() for m in raw.finditer(scan)]
    scan = U._scan_copy(norm_text("要求县“两违”整治办公室"), c)
    assert scan[U._name_start(scan, len(scan) - 3, c):] == "县“两违”整治办公室"


def test_units_found_in_traditional_script_keep_original_text():
    text = "各牽頭單位要緊密結合工作實際"
    norm = norm_text(text)
    (s, e, role), = find_units(norm, 0, len(norm), LEX)
    assert text[s:e] == "各牽頭單位" and role == "lead"


# --- document structure (structure.yaml) and structural task rules ----------
STRUCT = load_yaml("structure.yaml")
STRUCT_ROWS = [(g, r["id"], r["pattern"], ex, ok) for g in ("document", "heading", "marker")
               for r in STRUCT[g] for ok, key in ((True, "match"), (False, "no_match")) for ex in r.get(key, [])]


@pytest.mark.parametrize("group,rule,pattern,example,should_match", STRUCT_ROWS,
                         ids=[f"{r[1]}:{r[3][:12]}:{r[4]}" for r in STRUCT_ROWS])
def test_structure_row_examples(group, rule, pattern, example, should_match):
    assert bool(re.search(pattern, norm_text(example))) is should_match


RUN_ON = STRUCT["run_on_break"]


@pytest.mark.parametrize("text,want", RUN_ON["examples"], ids=[ex[0][:14] for ex in RUN_ON["examples"]])
def test_run_on_break_examples(rules_pipeline, text, want):
    """A one-line (scraped) text's spaces read back as the line breaks they stand for, in the
    normalised copy as the pipeline builds it (same length, the source untouched)."""
    from speechledger.segment import run_on_breaks
    rxs = [re.compile(RUN_ON[k]) for k in ("pattern", "heading_pattern", "word_gap", "line_gap", "para_gap")]
    assert run_on_breaks(text, *rxs, RUN_ON["para_gap_line"]) == want
    doc = rules_pipeline(text)
    assert len(doc.norm) == len(text) and doc.text == text
    assert [i for i, c in enumerate(doc.norm) if c == "\n"] == [i for i, c in enumerate(want) if c == "\n"]


# label lines and the named patterns of the task engine
LABEL_ROWS = [(r["id"], spaced_label(r["pattern"]) if r.get("spaced") else r["pattern"], ex, ok)
              for group in ("label_lines", "patterns")
              for r in load_yaml("task_cues.yaml")[group]
              for ok, key in ((True, "match"), (False, "no_match")) for ex in r.get(key, [])]


@pytest.mark.parametrize("rule,pattern,example,should_match", LABEL_ROWS,
                         ids=[f"{r[0]}:{r[2][:12]}:{r[3]}" for r in LABEL_ROWS])
def test_label_line_and_pattern_examples(rule, pattern, example, should_match):
    assert bool(re.search(pattern, norm_text(example))) is should_match


ROLE_CUE = load_yaml("units.yaml")["role_cue"]
ROLE_ROWS = [(ex, ok) for ok, key in ((True, "match"), (False, "no_match")) for ex in ROLE_CUE[key]]


@pytest.mark.parametrize("example,should_match", ROLE_ROWS, ids=[f"{r[0][:12]}:{r[1]}" for r in ROLE_ROWS])
def test_role_cue_examples(example, should_match):
    from speechledger.ml.hybrid import role_cue
    assert bool(role_cue(LEX).search(norm_text(example))) is should_match


# a `hit` heading row shows in the cue it adds
SROWS = [(r.get("cue") or r["id"], ex, ok)
         for group in ("score_rules", "structure_rules", "heading_rules") for r in load_yaml("task_cues.yaml")[group]
         for ok, key in ((True, "match"), (False, "no_match"), (None, "no_task")) for ex in r.get(key, [])]


@pytest.mark.parametrize("rule,text,should_fire", SROWS, ids=[f"{r[0]}:{r[1][:14]}:{r[2]}" for r in SROWS])
def test_structure_rule_examples(rules_pipeline, rule, text, should_fire):
    """The example's LAST segment is covered by a task recording the row (match), by no task
    recording it (no_match), or by no task at all (no_task)."""
    doc = rules_pipeline(text, source="example.txt", date="2025-03-01")
    tasks = [t for sp in doc.speeches for t in sp.tasks]
    last_end = len(text.rstrip())
    covering = [t for t in tasks if t.start < last_end <= t.end]
    for t in tasks:
        assert doc.text[t.start:t.end] == t.text
    if should_fire:
        assert covering and rule in covering[0].rules, [(t.text, t.rules) for t in tasks]
    elif should_fire is False:
        assert not any(rule in t.rules for t in covering), [(t.text, t.rules) for t in tasks]
    else:
        assert not covering, [(t.text, t.rules) for t in tasks]


def test_every_heading_row_condition_is_defined():
    """A heading row naming a condition the engine does not know would never fire."""
    from speechledger.extract.tasks import _HeadingContext
    rows = load_yaml("task_cues.yaml")["heading_rules"]
    assert {c for r in rows for c in r.get("when", [])} <= set(dir(_HeadingContext))
    assert {r["effect"] for r in rows} <= {"review", "skip", "hit", "task"}
    assert all(r.get("match") or r.get("no_task") for r in rows)


def test_cue_candidates_never_miss_a_cue(rules_pipeline):
    """The literal prefilter of extract_tasks keeps every cue a per-segment search finds: on
    plain text, on PDF-spaced text ("政治 任务") and with literals across segment ends."""
    from speechledger.doc import SpeechDoc
    from speechledger.extract.tasks import (
        _cue_candidates,
        _cue_plan,
        _label_literals,
        _score,
        _SpeechView,
        patterns,
        structure_rules,
    )
    examples = [norm_text(ex) for r in CUES for ex in r.get("match", [])]
    texts = ["。\n".join(examples) + "。",
             "在全县工作会议上的讲话\n同志们：\n各 地 要 抓 紧 落 实，确 保 年 底 前 完 成。\n必须\n以项目为抓手。"]
    pipe = rules_pipeline
    _, cues = LEX.task_cues
    _, labels = structure_rules(LEX)
    for text in texts:
        doc = SpeechDoc(source="x.txt", text=text)
        for stage in ("normalize", "speeches", "structure"):
            doc = pipe._stages[stage](doc, pipe.config)
        for sp in doc.speeches:
            view = _SpeechView(doc, sp, labels, _label_literals(labels), patterns(LEX))
            scored, cand = _cue_candidates(doc.norm, sp, view, cues, _cue_plan(LEX))
            for k, seg in enumerate(sp.segments):
                assert _score(scored[k], cand[k], False) == _score(view.texts[k], cues), view.texts[k]
