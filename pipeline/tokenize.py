"""Tokenisers: one object per pipeline, no process-global dictionary state.

Backends: "jieba" (rjieba, jieba's Rust port with the same dictionary, when
installed; else a private jieba.Tokenizer), "jieba-py" (always jieba.Tokenizer),
"hanlp" (needs local HanLP models; never downloads). `to_spacy` builds a spaCy
Doc from the same tokens.
"""
from __future__ import annotations

from speechledger.doc import SpeechDoc


class BackendUnavailable(RuntimeError):
    """An optional tokeniser backend is not installed or has no local model."""


class Tokenizer:
    def __init__(self, backend: str = "jieba", user_words: list[str] | None = None):
        self.backend = backend
        self._user_words = user_words or []
        self._impl = None
        self._posseg = None

    def _load(self):
        if self._impl is not None:
            return self._impl
        if self.backend == "jieba":
            try:
                import rjieba
                if self._user_words:
                    impl = rjieba.Jieba()
                    for w in self._user_words:
                        impl.add_word(w, 50000, "nt")
                else:
                    # importing rjieba already built a default instance with the same dictionary
                    # (0.2 s); without user words it is only read, never changed, so share it
                    impl = getattr(rjieba, "_DEFAULT_JIEBA", None) or rjieba.Jieba()
                self._impl = ("rjieba", impl)
                return self._impl
            except ImportError:
                self.backend = "jieba-py"
        if self.backend == "jieba-py":
            import jieba
            impl = jieba.Tokenizer()
            impl.setLogLevel(60) if hasattr(impl, "setLogLevel") else None
            for w in self._user_words:
                impl.add_word(w, 50000, "nt")
            self._impl = ("jieba", impl)
        elif self.backend == "hanlp":
            self._impl = ("hanlp", _load_hanlp())
        else:
            raise BackendUnavailable(f"unknown tokenizer backend {self.backend!r} (use jieba, jieba-py or hanlp)")
        return self._impl

    def tag(self, text: str) -> list[tuple[str, str]]:
        """(word, part of speech) pairs, jieba's tag set; HanLP is not asked for tags."""
        kind, impl = self._load()
        if kind == "rjieba":
            return list(impl.tag(text))
        if kind == "jieba":
            if self._posseg is None:
                import jieba.posseg
                self._posseg = jieba.posseg.POSTokenizer(impl)
            return [(p.word, p.flag) for p in self._posseg.cut(text)]
        return [(w, "") for _, _, w in self.tokenize(text)]

    def tokenize(self, text: str, offset: int = 0) -> list[tuple[int, int, str]]:
        """(start, end, word) triples with absolute character offsets."""
        kind, impl = self._load()
        if kind == "rjieba":
            return [(s + offset, e + offset, w) for w, s, e in impl.tokenize(text)]
        if kind == "jieba":
            import logging
            logging.getLogger("jieba").setLevel(logging.WARNING)
            return [(s + offset, e + offset, w) for w, s, e in impl.tokenize(text)]
        words = impl(text)
        out, pos = [], 0
        for w in words:
            i = text.find(w, pos)
            if i < 0:
                continue
            out.append((i + offset, i + len(w) + offset, w))
            pos = i + len(w)
        return out


def _load_hanlp():
    try:
        import hanlp  # noqa: F401
    except ImportError:
        raise BackendUnavailable(
            "the HanLP backend needs the optional extra: pip install -e .[hanlp] "
            "(it pulls in PyTorch), plus a HanLP tokenizer model on local disk") from None
    import os
    path = os.environ.get("SPEECHLEDGER_HANLP_MODEL")
    if not path or not os.path.exists(path):
        raise BackendUnavailable(
            "HanLP is installed but no local model was given: set SPEECHLEDGER_HANLP_MODEL to a "
            "downloaded tokenizer model directory (SpeechLedger never downloads models)")
    import hanlp
    return hanlp.load(path)


def tokenize(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES speeches (segments); PROVIDES tokens (by segment start)."""
    tok = config.tokenizer
    for sp in doc.speeches:
        for seg in sp.segments:
            doc.tokens[seg.start] = tok.tokenize(doc.norm[seg.start:seg.end], seg.start)
    return doc


def to_spacy(doc: SpeechDoc, vocab=None):
    """A spaCy Doc over the original text with the pipeline's tokens (needs spaCy)."""
    try:
        import spacy
        from spacy.tokens import Doc
    except ImportError:
        raise BackendUnavailable("spaCy is optional: pip install -e .[spacy]") from None
    vocab = vocab or spacy.blank("xx").vocab
    words, spaces = [], []
    pos = 0
    toks = sorted(t for ts in doc.tokens.values() for t in ts)
    for s, e, _ in toks:
        if s > pos:
            words.append(doc.text[pos:s])
            spaces.append(False)
        words.append(doc.text[s:e])
        spaces.append(False)
        pos = e
    if pos < len(doc.text):
        words.append(doc.text[pos:])
        spaces.append(False)
    return Doc(vocab, words=words, spaces=spaces)
