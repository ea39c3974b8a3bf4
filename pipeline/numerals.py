"""Chinese numerals to numbers, for target values (ANNOTATION.md §5: 三→3, 两→2, 一千→1000)."""
from __future__ import annotations

import datetime
import re

_D = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "两": 2, "兩": 2, "贰": 2, "三": 3, "叁": 3,
      "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000,
         "万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}


# 两三千户, 三四个, 五六十家, 十二三栋: two adjacent digits name a range; a target commits to its
# lower bound (ANNOTATION §8), read without the upper digit
_ADJ_RANGE = re.compile(r"(?P<pre>(?:[二三四五六七八九]?十)?)(?P<a>[一两二三四五六七八])(?P<b>[二两三四五六七八九])"
                        r"(?P<rest>[十百千万亿]*)")


def cn_adjacent_range(n: str) -> float | int | None:
    """The lower bound of a Chinese numeral naming a range by two adjacent digits (两三千 → 2000,
    三四 → 3, 十二三 → 12), else None."""
    m = _ADJ_RANGE.fullmatch(n)
    if not m or _D[m.group("b")] != _D[m.group("a")] + 1:
        return None
    v = cn_number(m.group("pre") + m.group("a") + m.group("rest"))
    return None if v is None else int(v) if v.is_integer() else v


def cn_number(s: str) -> float | None:
    """Value of a Chinese numeral (三千五百, 一万二, 两亿, 三点五, 二〇二五, 1.5万), else None."""
    if not s:
        return None
    head, dot, frac = s.partition("点")
    if dot:
        whole = cn_number(head)
        if whole is None or not frac or any(c not in _D for c in frac):
            return None
        return whole + float("0." + "".join(str(_D[c]) for c in frac))
    if s and all(c in _D for c in s):                    # read digit by digit: 二〇二五
        return float("".join(str(_D[c]) for c in s))
    if s in ("百", "佰", "千", "仟", "万", "萬", "亿", "億"):
        return None
    total = section = 0.0
    digit: float | None = None
    prev_unit = 0          # the unit right before a trailing digit (一万二, 三千五)
    i = 0
    while i < len(s):
        c = s[i]
        if c in _D:
            digit, prev_unit = float(_D[c]), (0 if c in "零〇○" else prev_unit)
        elif c.isdigit() or c == ".":
            j = i
            while j < len(s) and (s[j].isdigit() or s[j] == "."):
                j += 1
            try:
                digit = float(s[i:j])
            except ValueError:
                return None
            i, prev_unit = j, 0
            continue
        elif c in _UNIT:
            u = _UNIT[c]
            if u < 10_000:
                section += (1.0 if digit is None else digit) * u
            else:
                section += digit or 0.0
                if section == 0 and total == 0:
                    return None
                total = (total + section) * u if total < u else total + section * u
                section = 0.0
            digit, prev_unit = None, u
        else:
            return None
        i += 1
    if digit is not None:
        section += digit * (prev_unit // 10 if prev_unit >= 100 and s[-2] in _UNIT else 1)
    return total + section


# A full date in Arabic or Chinese numerals (2023年1月12日, 二〇二三年一月十二日, 二〇二三年元月十二日,
# PDF spaces "2025 年 3 月 5 日"): the date of a speech in its heading, date line or 落款.
# a year in Chinese digits (二〇二三, 二○二三, 二O二三), and its Arabic digits one for one
CN_YEAR = r"[一二][〇零○O一二三四五六七八九]{3}"
_YEAR_DIGITS = str.maketrans({**{c: str(v) for c, v in _D.items() if c in "零〇○一二三四五六七八九"}, "O": "0"})


def cn_year_digits(s: str) -> str:
    """"二〇二三" -> "2023" (same length: offsets into a copy stay valid)."""
    return s.translate(_YEAR_DIGITS)


FULL_DATE = (r"(?P<y>(?:19|20)\d{2}|" + CN_YEAR + r")\s*年\s*"
             r"(?P<m>\d{1,2}|十[一二]?|[一二三四五六七八九元])\s*月\s*"
             r"(?P<d>\d{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s*[日号]")


# A date written with dashes, dots or slashes (2024-03-05, 2024.3.6, 2024/03/05), as web pages and
# minutes print it.
NUM_DATE = r"(?P<y>(?:19|20)\d{2})\s*[-./．]\s*(?P<m>0?[1-9]|1[0-2])\s*[-./．]\s*(?P<d>0?[1-9]|[12]\d|3[01])(?![\d.．])"


def date_iso(y: str, m: str, d: str) -> str | None:
    """YYYY-MM-DD of a date written in Arabic or Chinese numerals, else None (not a real day)."""
    def num(s: str) -> int | None:
        if s.isdigit():
            return int(s)
        v = 1 if s == "元" else cn_number(s.replace("O", "〇"))     # 元月: January
        return int(v) if v is not None else None
    parts = [num(x) for x in (y, m, d)]
    if None in parts:
        return None
    try:
        return datetime.date(*parts).isoformat()
    except ValueError:
        return None
