"""Text keys for matching tasks across speeches: folded, numbers masked, markers stripped.

`fold` maps a task text to the string the aligner compares: simplified script and
half-width forms (speechledger.normalize), the outline marker at its start removed
("第一、", "（三）", the numeral of "一要"), every number or placeholder (15, 1.5,
X, ×, XX, **, 三 before a measure word) replaced by one `#`, punctuation and
spaces dropped. `numbers` lists those masked tokens with their positions so a
pair of texts can be compared number by number.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from speechledger.normalize import norm_text

MASK = "#"
_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
# Characters that, after a number, make it a quantity (a target value or count).
_MEASURE = ("%|个|家|项|条|名|亿|万|千|百|元|吨|亩|次|场|批|所|座|套|户|人|倍|年|月|日|号|天|周|季度"
            "|平方|公里|米|台|辆|件|千瓦|强|位|番|余|多")
_DATE_AFTER = re.compile(r"\s*(?:年|月|日|号|季度|周)")
_QUANTITY_AFTER = re.compile(rf"\s*(?:{_MEASURE})")
_RANGE_TAIL = re.compile(rf"\s*[-~至到]\s*(?:\d+(?:\.\d+)?|[Xx×*＊]+|[{_CN_DIGITS}]+)")
# Chinese numerals count only before a measure word ("三场", "两个"), never alone ("一是", "统一").
_NUMBER = re.compile(
    r"(?<![A-Za-z])(?:[Xx×*＊]+|\d+(?:\.\d+)?)(?![A-Za-z])"
    rf"|[{_CN_DIGITS}]*[零〇一二两三四五六七八九十][{_CN_DIGITS}]*(?=(?:{_MEASURE}))")
_LEADING_MARKER = re.compile(
    r"^\s*(?:第[一二三四五六七八九十]{1,3}[，,、:：.．]"
    r"|[一二三四五六七八九十]{1,3}[、.．]"
    r"|[(（][一二三四五六七八九十\d]{1,3}[)）][、.．]?"
    r"|\d{1,2}[、.．](?!\d)"
    r"|(?:第?[一二三四五六七八九十]{1,2})(?=[要是抓个])"
    r"|(?:首先|其次|再次|最后)[，,])")
_PLACEHOLDER = re.compile(r"^[Xx×*＊]+$")


@dataclass(frozen=True)
class Number:
    """A number or placeholder inside a text (offsets into the text given to `numbers`)."""
    start: int
    end: int
    text: str
    kind: str          # "date" (followed by 年/月/日…), "quantity" (followed by a unit), "other"

    @property
    def placeholder(self) -> bool:
        return bool(_PLACEHOLDER.match(self.text))


def _keep(ch: str) -> bool:
    if ch == MASK or ch == "%":
        return True
    cat = unicodedata.category(ch)
    return not (cat[0] in "PZC" or cat in ("Sm", "Sk", "So"))


def marker_length(norm: str) -> int:
    """Length of the outline marker at the start of an already-normalised text (0 if none)."""
    m = _LEADING_MARKER.match(norm)
    return m.end() if m else 0


def numbers(text: str) -> list[Number]:
    """Numbers and placeholders of a text after its outline marker, in order."""
    norm = norm_text(text)
    skip = marker_length(norm)
    out = []
    for m in _NUMBER.finditer(norm, skip):
        after = m.end()
        tail = _RANGE_TAIL.match(norm, after)
        if tail:
            after = tail.end()
        if _DATE_AFTER.match(norm, after):
            kind = "date"
        elif _QUANTITY_AFTER.match(norm, after):
            kind = "quantity"
        else:
            kind = "other"
        out.append(Number(m.start(), m.end(), text[m.start():m.end()], kind))
    return out


@lru_cache(maxsize=65536)
def fold_with_numbers(text: str) -> tuple[str, tuple[Number | None, ...]]:
    """The folded, masked key of a text, and for each of its characters the Number it masks."""
    norm = norm_text(text)
    skip = marker_length(norm)
    nums = {n.start: n for n in numbers(text)}
    chars: list[str] = []
    owners: list[Number | None] = []
    i = skip
    while i < len(norm):
        n = nums.get(i)
        if n is not None:
            chars.append(MASK)
            owners.append(n)
            i = n.end
            continue
        ch = norm[i]
        if _keep(ch):
            chars.append(ch.lower() if ch.isascii() else ch)
            owners.append(None)
        i += 1
    return "".join(chars), tuple(owners)


def fold(text: str) -> str:
    """The string tasks are compared on (see module docstring)."""
    return fold_with_numbers(text)[0]


def fold_plain(text: str) -> str:
    """Folded text with numbers kept: equal for texts that differ only in punctuation or script."""
    norm = norm_text(text)
    norm = norm[marker_length(norm):]
    return "".join(c for c in norm if _keep(c))
