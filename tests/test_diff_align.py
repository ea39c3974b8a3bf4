"""Cross-speech diff, independent of the extractors: masking, alignment of raw segments, classification."""
from __future__ import annotations

from difflib import SequenceMatcher
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speechledger.diff import diff_speeches
from speechledger.diff.align import Item, align, candidates
from speechledger.diff.classify import classify, number_changes
from speechledger.diff.mask import fold, numbers

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "texts" / "speeches2024.txt"


@pytest.fixture(scope="module")
def speeches():
    """The five speeches of the corpus file, split without any extractor."""
    from speechledger.doc import SpeechDoc
    from speechledger.normalize import norm_text
    from speechledger.reader import read_file
    from speechledger.speeches import split_speeches
    text, _ = read_file(CORPUS)
    doc = split_speeches(SpeechDoc(source=str(CORPUS), text=text, norm=norm_text(text)))
    assert len(doc.speeches) == 5
    return doc


def segment_record(sp) -> dict:
    """A §6-shaped record whose tasks are all the segments of the speech."""
    return {"source": str(CORPUS), "speech": sp.index, "title": sp.title, "date": sp.date, "year": sp.year,
            "headings": [{"start": h.start, "end": h.end, "text": h.text, "level": h.level, "parent": h.parent}
                         for h in sp.headings],
            "tasks": [{"start": s.start, "end": s.end, "text": s.text, "modality": "should", "specific": False,
                       "units": [], "deadlines": [], "targets": [], "heading": None} for s in sp.segments]}


@pytest.mark.parametrize("text, key", [
    ("第一、要充分肯定“五好”园区和产业链建设工作成效。", "要充分肯定五好园区和产业链建设工作成效"),
    ("第一，要充分肯定“五好”园区和产业链建设工作成效。", "要充分肯定五好园区和产业链建设工作成效"),
    ("一要坚决扛牢政治责任。", "要坚决扛牢政治责任"),
    ("（三）抓好项目建设", "抓好项目建设"),
    ("全市园区生产总值增长12％以上", "全市园区生产总值增长#%以上"),
    ("全市园区生产总值增长X%以上", "全市园区生产总值增长#%以上"),
    ("举办不少于三场推介会", "举办不少于#场推介会"),
    ("举辦不少於三場推介會", "举办不少于#场推介会"),
    ("统一思想，一方面", "统一思想一方面"),
])
def test_fold_masks_numbers_markers_script_and_punctuation(text, key):
    assert fold(text) == key


@pytest.mark.parametrize("text, kinds", [
    ("确保7月底前完成", ["date"]),
    ("增长15%以上", ["quantity"]),
    ("2024年1－11月", ["date", "date", "date"]),
    ("XX经验", ["other"]),
    ("引进“三类500强”企业4个", ["quantity", "quantity"]),
])
def test_numbers_kind_by_what_follows(text, kinds):
    assert [n.kind for n in numbers(text)] == kinds


def test_number_to_placeholder_is_a_number_change():
    ch = number_changes("举办2次以上园区用工招聘会。", "举办X次以上园区用工招聘会。")
    assert [(c["old"], c["new"], c["kind"]) for c in ch] == [("2", "X", "quantity")]


def test_place_name_hidden_as_placeholder_is_wording_not_target():
    old = {"text": "力争酒鬼酒产业园纳入湘西高新区。", "modality": "strive"}
    new = {"text": "力争酒鬼酒产业园纳入XX高新区。", "modality": "strive"}
    assert classify(old, new)[0] == ["wording"]


def _task(text, **kw):
    base = {"start": 0, "end": len(text), "text": text, "modality": "should", "units": [], "deadlines": [],
            "targets": []}
    base.update(kw)
    return base


@pytest.mark.parametrize("old, new, changes", [
    (_task("要加快编制产业链规划。"), _task("要加快编制产业链规划；"), []),
    (_task("要加快编制產業鏈規劃。"), _task("要加快编制产业链规划。"), []),
    (_task("要加快编制产业链规划。"), _task("要抓紧完成产业链规划编制。"), ["wording"]),
    (_task("确保7月底前完成。"), _task("确保9月底前完成。"), ["deadline"]),
    (_task("确保年底前完成。"), _task("确保上半年完成。"), ["deadline", "wording"]),
    (_task("要加快编制规划。"), _task("必须加快编制规划。", modality="must"), ["modality", "wording"]),
    (_task("增长15%以上。", targets=[{"start": 2, "end": 6, "metric": "", "value": 15, "unit": "%",
                                  "comparator": ">=", "placeholder": False}]),
     _task("增长X%以上。", targets=[{"start": 2, "end": 5, "metric": "", "value": None, "unit": "%",
                                 "comparator": ">=", "placeholder": True}]), ["target"]),
    (_task("经贸局要加快编制规划。", units=[{"text": "经贸局", "role": "lead"}]),
     _task("工信局要加快编制规划。", units=[{"text": "工信局", "role": "lead"}]), ["units", "wording"]),
])
def test_classify_names_the_changes(old, new, changes):
    assert classify(old, new)[0] == changes


def test_classify_modality_direction_and_target_values():
    _, d = classify(_task("要完成。"), _task("必须完成。", modality="must"))
    assert d["modality"]["direction"] == "strengthened"
    _, d = classify(_task("必须完成。", modality="must"), _task("力争完成。", modality="strive"))
    assert d["modality"]["direction"] == "weakened"
    t_old = [{"start": 2, "end": 6, "metric": "产值", "value": 15, "unit": "%", "comparator": ">=",
              "placeholder": False}]
    t_new = [{"start": 2, "end": 6, "metric": "产值", "value": 20, "unit": "%", "comparator": ">=",
              "placeholder": False}]
    _, d = classify(_task("产值增长15%以上", targets=t_old), _task("产值增长20%以上", targets=t_new))
    assert d["target"] == [{"metric": "产值", "old": "≥15%", "new": "≥20%"}]


def _expected_counterparts(old_keys, new_keys) -> dict[int, int]:
    """Ground truth for two versions of one text: a sequential alignment of their segment lists."""
    sm = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    out = {}
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            out.update(zip(range(i1, i2), range(j1, j2)))
    return out


def test_seed_speech2_segments_pair_with_their_counterparts_in_speech5(speeches):
    old, new = segment_record(speeches.speeches[1]), segment_record(speeches.speeches[4])
    result = diff_speeches(old, new)
    expected = _expected_counterparts([fold(t["text"]) for t in old["tasks"]],
                                      [fold(t["text"]) for t in new["tasks"]])
    got = {old["tasks"].index(p.old): new["tasks"].index(p.new) for p in result.pairs}
    hits = sum(1 for i, j in expected.items() if got.get(i) == j)
    assert hits / len(old["tasks"]) >= 0.95
    # every number↔placeholder difference is a target (or date) change of a pair, not an add/drop
    for p in result.pairs:
        nums = number_changes(p.old["text"], p.new["text"])
        if any(n["kind"] == "quantity" and n["old"] and n["new"] for n in nums):
            assert "target" in p.changes, p.old["text"]
    goal = next(p for p in result.pairs if "举办2次以上园区用工招聘会" in p.old["text"])
    assert "举办X次以上园区用工招聘会" in goal.new["text"] and goal.changes == ["target"]


UNRELATED_1_4 = [
    ("一要加强产业链全链条调查研究", "一要加强组织领导"),
    ("三要抓好“四上”企业入规", "三要抓好技术创新项目"),
    ("二要加快编制产业链建设系列规划", "一要加快省、××市级企业技术中心建设"),
    ("市产业链推进办及各产业链办公室，要各负其责", "有关部门和企业要搞好配合，确保7月底完成"),
    ("各级各部门务必高度重视，明确专人负责", "各级各部门要高度重视百家企业直报工作"),
]


def _paired(result, a, b) -> bool:
    return any(a in p.old["text"] and b in p.new["text"] for p in result.pairs)


def test_speech1_vs_speech4_pairs_only_similar_commitments(speeches):
    result = diff_speeches(segment_record(speeches.speeches[0]), segment_record(speeches.speeches[3]))
    for a, b in UNRELATED_1_4:
        assert not _paired(result, a, b), (a, b)
    assert _paired(result, "第五，要突出优化环境推进产业链建设", "三要优化发展环境")
    # different speeches: apart from the salutation, the title and a theme or two, nothing pairs
    assert len(result.pairs) <= 5, [(p.old["text"], p.new["text"]) for p in result.pairs]


def test_alignment_is_by_meaning_not_position():
    texts = ["要加快编制产业链建设系列规划。", "市工信局要牵头建立重点项目库。", "确保全市规模工业增加值增长15%以上。",
             "要严格兑现各项政策承诺。", "各县市区要抓好安全生产。"]
    old = [Item(fold(t), "", k / 4) for k, t in enumerate(texts)]
    order = [3, 0, 4, 2, 1]
    new = [Item(fold(texts[k].replace("15", "X")), "", n / 4) for n, k in enumerate(order)]
    got = {(m.old, m.new) for m in align(old, new)}
    assert got == {(k, n) for n, k in enumerate(order)}


def test_identical_texts_prefer_same_heading():
    old = [Item("要抓好落实", "一园区"), Item("要抓好落实", "二招商")]
    new = [Item("要抓好落实", "二招商"), Item("要抓好落实", "一园区")]
    assert {(m.old, m.new) for m in align(old, new)} == {(0, 1), (1, 0)}


def test_candidate_pruning_scores_a_bounded_number_of_pairs(speeches):
    keys = [fold(s.text) for sp in speeches.speeches for s in sp.segments]
    old = [Item(k) for k in keys]
    new = [Item(k) for k in reversed(keys)]
    scored = candidates(old, new, top_k=10)
    assert len(scored) <= 12 * len(old) < len(old) * len(new) / 20


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="要加快推进建设项目规划企业园区产业链确保完成X15%，。", min_size=1, max_size=30),
                min_size=0, max_size=12),
       st.lists(st.text(alphabet="要加快推进建设项目规划企业园区产业链确保完成X15%，。", min_size=1, max_size=30),
                min_size=0, max_size=12))
def test_alignment_is_one_to_one_and_above_threshold(old_texts, new_texts):
    ms = align([Item(fold(t)) for t in old_texts], [Item(fold(t)) for t in new_texts], threshold=0.35)
    assert len({m.old for m in ms}) == len(ms) == len({m.new for m in ms})
    assert all(0.35 <= m.similarity <= 1.0 + 1e-9 for m in ms)
