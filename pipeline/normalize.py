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
from speechledger.numerals import cn_year_digits
from speechledger.segment import blank_soft_wraps, run_on_breaks

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
        out = self._bulk(text) if len(text) >= _BULK else None
        if out is None:
            out = self._map(text)
        if "著" in out:
            out = _ZHUO.sub("着", out)
        assert len(out) == len(text)
        return out

    def _map(self, text: str) -> str:
        """text with every character mapped (before the 著 step)."""
        if self._unseen is None or self._unseen.search(text) is not None:
            # characters not met yet: one translate maps the text and learns them on the way (the
            # table converts a character the first time it is asked for it); a set of the text's
            # characters alone would cost as much
            seen = len(self._seen)
            out = text.translate(self._table)
            self._settle(len(self._seen) > seen)
            return out
        present = set(self._changing.findall(text)) if self._changing is not None else set()
        changed = self._changed
        if not present:
            return text
        # a few characters to change (most simplified texts): str.replace per character beats a
        # translate over the whole text, unless one's replacement is itself replaced (a chain)
        if len(present) <= 16 and not any(changed[c] in changed for c in present):
            out = text
            for c in present:
                out = out.replace(c, changed[c])
            return out
        return text.translate(self._table)

    def _bulk(self, text: str) -> str | None:
        """A long text before the 著 step: the characters of _TABLED and _EXTRA map by a table computed
        once (kept in the regex cache, so a new process asks OpenCC nothing), applied by one split on
        the class of those that change, far cheaper than a translate's lookup per character. None (the
        general path decides) when another character that changes is there."""
        changes, split = _known_changes()
        for c in set(_other().findall(text)):
            if (self._learn(c) if c not in self._seen else self._table[ord(c)]) != c:
                return None
        parts = split(text)
        parts[1::2] = map(changes.__getitem__, parts[1::2])
        return "".join(parts)


_BULK = 20_000      # characters from which a text takes Normalizer._bulk
# the characters whose mapping is computed once: _convert_char keeps every one below the CJK radicals
# and of the CJK punctuation and kana block (but _EXTRA's); the unified ideographs and the
# full-width forms are read from the table
_IDENTITY = ((0, 0x2E7F), (0x3000, 0x33FF))
_TABLED = ((0x4E00, 0x9FFF), (0xFF01, 0xFF5E))


def _ranges_class(ranges) -> str:
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


@lru_cache(maxsize=1)
def _other() -> re.Pattern:
    """A character outside _IDENTITY, _TABLED and _EXTRA (learned one by one, as before)."""
    return re.compile(f"[^{_ranges_class(_IDENTITY + _TABLED)}{''.join(map(re.escape, sorted(_EXTRA)))}]")


@lru_cache(maxsize=1)
def _known_changes() -> tuple[dict[str, str], object]:
    """(character -> replacement for those of _TABLED and _EXTRA that change, split() of a text on them
    keeping each as a part of its own)."""
    import hashlib
    from pathlib import Path

    import opencc

    from speechledger import rxcache
    # the mapping depends on OpenCC's tables and on _convert_char (this file): both key the cache entry
    key = f"{getattr(opencc, '__version__', '?')} {hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]}"

    def build(_arg):
        n = Normalizer()
        chars = [chr(o) for a, b in _TABLED for o in range(a, b + 1)] + sorted(_EXTRA)
        return {c: out for c in chars if (out := n._convert_char(c)) != c}
    changes = rxcache.memo("normalize_changes", key, build)
    return changes, re.compile(f"([{''.join(map(re.escape, sorted(changes)))}])").split


def normalize(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES text; PROVIDES norm."""
    # a PDF copy's line wraps inside sentences become spaces, so segments run across them
    norm = blank_soft_wraps(config.normalizer(doc.text))
    # …and a one-line text's heading and label lines become lines again
    norm = run_on_breaks(norm, *config.lexicon.cached("run_on_break", _run_on_break))
    # a year in Chinese digits reads as one in Arabic digits ("到二〇一〇年" as "到2010年"), so
    # every cue, section and deadline rule written for "2010年" holds for it too
    doc.norm = arabic_years(_blank_pinyin(norm))
    return doc


# a web page converted to traditional script keeps the pinyin its converter added after some
# characters ("區(qū)發(fā)改局", "領(lǐng)導(dǎo)"): in the copy they become spaces, as a PDF's are
_PINYIN = re.compile(r"(?<=[\u4e00-\u9fff])\((?=[a-zü]*[aeiouüāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ])"
                     r"[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,6}\)")


def past_pinyin(text: str, pos: int) -> int:
    """pos, or the end of the pinyin a converter left right there ("各縣區(qū)": a span ending at 區
    takes its "(qū)" along, so the name reads as written)."""
    m = _PINYIN.match(text, pos) if text[pos:pos + 1] == "(" and pos > 0 else None
    return m.end() if m else pos


def _blank_pinyin(norm: str) -> str:
    if "(" not in norm:
        return norm
    return _PINYIN.sub(lambda m: " " * len(m.group()), norm)


def arabic_years(norm: str) -> str:
    """The copy with each year in Chinese digits written in Arabic ones (same length: offsets hold)."""
    return _CN_YEAR.sub(lambda m: cn_year_digits(m.group()), norm) if "年" in norm else norm


_CN_YEAR = re.compile(r"(?<![〇零○O一二三四五六七八九十百千万两])"
                      r"(?:一九|二[〇零○O])[〇零○O一二三四五六七八九]{2}(?=\s*年)")


def _run_on_break(lexicon):
    d = lexicon.data("structure.yaml")["run_on_break"]
    return (*(re.compile(d[k]) for k in ("pattern", "heading_pattern", "word_gap", "line_gap", "para_gap")),
            int(d["para_gap_line"]))


@lru_cache(maxsize=1)
def _default() -> Normalizer:
    return Normalizer()


def norm_text(text: str) -> str:
    """Normalise a standalone string (for queries, lexicons and tests)."""
    return arabic_years(_default()(text))
