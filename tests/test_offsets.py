"""Offsets are sacred: text[start:end] == item.text for everything, on any input."""
from __future__ import annotations

import random
import sys
from pathlib import Path

from conftest import need_shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speechledger.normalize import norm_text
from speechledger.segment import split_segments

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "pipeline" / "referee"))   # the referee shipped in the package
from segments import split as reference_split  # noqa: E402


def _items(doc):
    for sp in doc.speeches:
        for t in sp.tasks:
            yield t
            yield from t.units
            yield from t.deadlines
            yield from t.targets
        yield from sp.headings


def _assert_offsets(doc):
    n = 0
    for item in _items(doc):
        assert doc.text[item.start:item.end] == item.text, item
        n += 1
    return n


def test_offsets_hold_on_every_corpus_text(rules_pipeline, corpus_dir):
    total = 0
    for f in sorted(corpus_dir.glob("**/texts/*.txt")):
        total += _assert_offsets(rules_pipeline.run_file(f))
    assert total > 1000


def test_offsets_hold_on_every_shared_real_text(rules_pipeline):
    shared = need_shared()
    files = sorted(shared.glob("*/texts/*.txt")) + sorted(shared.glob("real/long/*.txt"))
    total = sum(_assert_offsets(rules_pipeline.run_file(f)) for f in files)
    assert total > 1000


FRAGMENTS = [
    "同志们：\n", "一、", "（二）", "1、", "一要", "二是", "市工信局要", "各县市区", "、", "和", "牵头", "配合",
    "确保", "力争", "7月底前", "年底", "X月底", "下半年", "通过三年努力", "增长15％以上", "新增企业X家", "前10名",
    "１２３", "—", "％", "縣委、縣政府", "各牽頭單位", "。", "；", "，", "\n", "\r\n", " ", "\u3000", "！",
    "🙂", "\ufeff", "\x00", "é", "𠀀", "（", "）", "“", "”", "由市监察局牵头，经贸局等有关单位参加",
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), min_size=1, max_size=60))
def test_offsets_hold_on_any_text(rules_pipeline, parts):
    text = "".join(parts)
    doc = rules_pipeline(text, source="prop.txt", date="2024-07-04")
    _assert_offsets(doc)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalised_copy_keeps_length(text):
    assert len(norm_text(text)) == len(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=8), max_size=8))
def test_a_fresh_normaliser_takes_any_sequence_of_texts(texts):
    # its table settles after calls that meet no new character, empty ones included
    from speechledger.normalize import Normalizer
    norm = Normalizer()
    for text in texts + ["", "", "各縣市區政府"]:
        assert len(norm(text)) == len(text)
    assert norm("各縣市區政府") == "各县市区政府"


@settings(max_examples=20, deadline=None)
@given(st.lists(st.text(max_size=6) | st.sampled_from(["各縣市區政府", "：，（２０２５年）", "⼯作", "顯著", "——５％",
                                                       "圍繞著", "\uf900", "\u3400"]), max_size=12))
def test_a_long_text_normalises_as_character_by_character(parts):
    # a long text takes the table-and-split path (Normalizer._bulk); it maps every character as
    # the per-character path does, radicals, compatibility ideographs and 著 included
    from speechledger import normalize
    text = "".join(parts) * (normalize._BULK // max(1, len("".join(parts))) + 1) if parts else ""
    long_ = normalize.Normalizer()(text)
    old = normalize._BULK
    try:
        normalize._BULK = 10 ** 12
        assert long_ == normalize.Normalizer()(text)
    finally:
        normalize._BULK = old


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=40))
def test_segments_agree_with_the_reference_splitter(parts):
    text = "".join(parts).replace("\r\n", "\n").replace("\r", "\n")
    ours = [(s.start, s.end, s.text) for s in split_segments(text)]
    ref = [(s.start, s.end, s.text) for s in reference_split(text)]
    assert ours == ref


def test_shuffled_corpus_sections_keep_offsets(rules_pipeline, dev_path):
    lines = dev_path.read_text(encoding="utf-8").split("\n")
    random.Random(7).shuffle(lines)
    _assert_offsets(rules_pipeline("\n".join(lines), source="shuffled.txt"))
