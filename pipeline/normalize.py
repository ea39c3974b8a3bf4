"""A same-length normalised copy of the text for matching (offsets stay valid).

Traditional characters map to simplified one by one, full-width ASCII to
half-width, and a few dashes/percent signs to their usual forms. The source text
itself is never changed.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from speechledger.doc import SpeechDoc
from speechledger.segment import blank_soft_wraps

_EXTRA = {"—": "-", "–": "-", "－": "-", "～": "~", "％": "%", "　": " ", "﹪": "%",
          "〇": "〇", "×": "×", "Ｘ": "X", "ｘ": "x",
          # Hong Kong / Taiwan forms that OpenCC's t2s keeps (衞生, 瞭解, 麻痺, 甦醒)
          "衞": "卫", "瞭": "了", "痺": "痹", "甦": "苏"}
# Taiwan script writes 着 (着力, 围绕着) as 著; simplified keeps 著 only in these words
# (?=著): re skips to 著 instead of trying the look-behind everywhere (as regex_gate.searcher)
_ZHUO = re.compile(r"(?=著)(?<![显卓昭土名专论编原巨遗译新合拙])著(?![名作称述录者书])")


class _Learning(dict):
    """A Normalizer's table (code point -> character) as str.translate reads it: a character it does
    not hold yet is converted when first asked for, and kept."""

    def __init__(self, owner: "Normalizer") -> None:
        super().__init__()
        self.owner = owner

    def __missing__(self, o: int) -> str:
        return self.owner._learn(chr(o))


class Normalizer:
    """Per-pipeline character mapper; caches the conversion of each character seen."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._changed: dict[str, str] = {}     # the characters seen that map to another one
        self._table: dict[int, str] = _Learning(self)
        self._cc = None
        # once the table stops growing: a class of the characters not seen yet and one of those
        # that change, so a text of known characters needs no set of its characters
        self._unseen: re.Pattern | None = None
        self._changing: re.Pattern | None = None
        self._quiet = 0         # calls in a row that met no new character

    def _convert_char(self, ch: str) -> str:
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E:
            return chr(o - 0xFEE0)
        if ch in _EXTRA:
            return _EXTRA[ch]
        if 0x2E80 <= o <= 0x2FDF or 0xF900 <= o <= 0xFAFF:
            # Kangxi radicals and compatibility ideographs that PDFs emit for 工, 人, 金…
            nf = unicodedata.normalize("NFKC", ch)
            ch = nf if len(nf) == 1 else ch
            o = ord(ch)
        if o < 0x3400:
            return ch
        if self._cc is None:
            import opencc
            self._cc = opencc.OpenCC("t2s")
        out = self._cc.convert(ch)
        return out if len(out) == 1 else ch

    def _learn(self, c: str) -> str:
        out = self._convert_char(c)
        self._table[ord(c)] = out
        self._seen.add(c)
        if out != c:
            self._changed[c] = out
        return out

    def _settle(self, new: bool) -> None:
        if new:
            self._quiet, self._unseen = 0, None
        else:
            self._quiet += 1
            # compiling costs a few ms: only for a table that settled (and holds something:
            # a run of empty titles must not build the empty class "[^]")
            if self._quiet >= 2 and self._unseen is None and self._seen:
                self._unseen = re.compile("[^" + "".join(map(re.escape, sorted(self._seen))) + "]")
                self._changing = re.compile("[" + "".join(map(re.escape, sorted(self._changed))) + "]") \
                    if self._changed else None

    def __call__(self, text: str) -> str:
        if self._unseen is None or self._unseen.search(text) is not None:
            # characters not met yet: one translate maps the text and learns them on the way (the
            # table converts a character the first time it is asked for it); a set of the text's
            # characters alone would cost as much
            seen = len(self._seen)
            out = text.translate(self._table)
            self._settle(len(self._seen) > seen)
        else:
            present = set(self._changing.findall(text)) if self._changing is not None else set()
            changed = self._changed
            if not present:
                return _ZHUO.sub("着", text) if "著" in text else text
            # a few characters to change (most simplified texts): str.replace per character beats a
            # translate over the whole text, unless one's replacement is itself replaced (a chain)
            if len(present) <= 16 and not any(changed[c] in changed for c in present):
                out = text
                for c in present:
                    out = out.replace(c, changed[c])
            else:
                out = text.translate(self._table)
        if "著" in out:
            out = _ZHUO.sub("着", out)
        assert len(out) == len(text)
        return out


def normalize(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES text; PROVIDES norm."""
    # a PDF copy's line wraps inside sentences become spaces, so segments run across them
    doc.norm = blank_soft_wraps(config.normalizer(doc.text))
    return doc


@lru_cache(maxsize=1)
def _default() -> Normalizer:
    return Normalizer()


def norm_text(text: str) -> str:
    """Normalise a standalone string (for queries, lexicons and tests)."""
    return _default()(text)
