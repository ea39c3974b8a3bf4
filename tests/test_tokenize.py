"""Tokenisers: one per pipeline, no shared dictionary state, optional backends fail clearly."""
from __future__ import annotations

import pytest

from speechledger.tokenize import BackendUnavailable, Tokenizer, to_spacy

TEXT = "市工信局要加快编制产业链规划"


@pytest.mark.parametrize("backend", ["jieba", "jieba-py"])
def test_tokens_carry_offsets_into_the_text(backend):
    toks = Tokenizer(backend).tokenize(TEXT, offset=100)
    assert "".join(w for _, _, w in toks) == TEXT
    assert all(TEXT[s - 100:e - 100] == w for s, e, w in toks)


@pytest.mark.parametrize("backend", ["jieba", "jieba-py"])
def test_user_words_stay_in_their_own_tokenizer(backend):
    with_word = Tokenizer(backend, user_words=["市工信局"]).tokenize(TEXT)
    plain = Tokenizer(backend).tokenize(TEXT)
    assert "市工信局" in [w for _, _, w in with_word]
    assert "市工信局" not in [w for _, _, w in plain]


def test_hanlp_without_models_says_what_to_do(monkeypatch):
    monkeypatch.delenv("SPEECHLEDGER_HANLP_MODEL", raising=False)
    with pytest.raises(BackendUnavailable, match="HanLP|hanlp"):
        Tokenizer("hanlp").tokenize(TEXT)


def test_unknown_backend():
    with pytest.raises(BackendUnavailable, match="unknown tokenizer backend"):
        Tokenizer("nope").tokenize(TEXT)


def test_spacy_doc_from_the_same_tokens():
    pytest.importorskip("spacy")
    from speechledger.api import Pipeline
    doc = Pipeline(tokenize=True)("同志们：\n" + TEXT + "。", source="s.txt")
    sdoc = to_spacy(doc)
    assert sdoc.text == doc.text
    words = {t.text for t in sdoc}
    assert {"加快", "编制"} <= words
