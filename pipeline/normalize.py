"""A same-length normalised copy of the text for matching (offsets stay valid).

Traditional characters map to simplified one by one, full-width ASCII to
half-width, and a few dashes/percent signs to their usual forms. The source text
itself is never changed.
"""
from __future__ import annotations

from functools import lru_cache

from speechledger.doc import SpeechDoc

_EXTRA = {"—": "-", "–": "-", "－": "-", "～": "~", "％": "%", "　": " ", "﹪": "%",
          "〇": "〇", "×": "×", "Ｘ": "X", "ｘ": "x"}


class Normalizer:
    """Per-pipeline character mapper; caches the conversion of each character seen."""

    def __init__(self) -> None:
        self._table: dict[int, str] = {}
        self._cc = None

    def _convert_char(self, ch: str) -> str:
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E:
            return chr(o - 0xFEE0)
        if ch in _EXTRA:
            return _EXTRA[ch]
        if o < 0x3400:
            return ch
        if self._cc is None:
            import opencc
            self._cc = opencc.OpenCC("t2s")
        out = self._cc.convert(ch)
        return out if len(out) == 1 else ch

    def __call__(self, text: str) -> str:
        table = self._table
        missing = {c for c in set(text) if ord(c) not in table}
        for c in missing:
            table[ord(c)] = self._convert_char(c)
        out = text.translate(table)
        assert len(out) == len(text)
        return out


def normalize(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES text; PROVIDES norm."""
    doc.norm = config.normalizer(doc.text)
    return doc


@lru_cache(maxsize=1)
def _default() -> Normalizer:
    return Normalizer()


def norm_text(text: str) -> str:
    """Normalise a standalone string (for queries, lexicons and tests)."""
    return _default()(text)
