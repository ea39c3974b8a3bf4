"""Read .docx text in document order with bounded memory.

Paragraphs and table rows come in the order the document shows them; a table row
is one line "| cell | cell |" (a merged cell once). A paragraph Word numbers itself
(a list or outline level: "一、", "（一）", "1.") gets the number Word shows, read
from word/numbering.xml and the paragraph styles in word/styles.xml. The parts are
streamed through a size cap and parsed element by element, so a zip bomb or an
oversized part fails fast with an InputError instead of filling memory.
"""
from __future__ import annotations

import io
import zipfile

from speechledger.read.errors import InputError, Limits, mb, too_long

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
MAIN_PART = "word/document.xml"
_TEXT = {W + "t": None, W + "tab": "\t", W + "br": "\n", W + "cr": "\n",
         W + "noBreakHyphen": "-", W + "softHyphen": ""}
# Subtrees whose text is not body text (deleted runs, field codes, text boxes, the
# fallback copy of alternate content, footnote references) — python-docx skipped them too.
_SKIP = {W + "del", W + "instrText", W + "delText", W + "txbxContent", MC_FALLBACK,
         W + "rPr", W + "pPr", W + "tblPr", W + "trPr", W + "tcPr", W + "sectPr", W + "sdtPr"}


class _Capped(io.RawIOBase):
    """A read-only stream that fails once more than `cap` bytes came through."""

    def __init__(self, raw, cap: int, what: str, path):
        self.raw, self.cap, self.left, self.what, self.path = raw, cap, cap, what, path

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.raw.read(min(len(b), self.left + 1))
        if len(data) > self.left:
            raise InputError(self.path, f"{self.what} inflates past {mb(self.cap)}; not read (a zip bomb?)")
        self.left -= len(data)
        b[:len(data)] = data
        return len(data)


def check_archive(zf: zipfile.ZipFile, path, limits: Limits) -> None:
    """Refuse archives whose declared sizes are hostile, before inflating anything."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise InputError(path, f"archive has {len(infos)} members (limit {limits.max_members})")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_member and info.filename == MAIN_PART:
            raise InputError(path, f"{info.filename} inflates to {mb(info.file_size)} "
                                   f"(limit {mb(limits.max_member)}); not read")
        if info.file_size > 1 << 20 and info.file_size > limits.max_ratio * max(1, info.compress_size):
            raise InputError(path, f"archive member {info.filename} inflates "
                                   f"{info.file_size // max(1, info.compress_size)}"
                                   f" times (limit {limits.max_ratio}); not read (a zip bomb?)")
    if total > limits.max_archive:
        raise InputError(path, f"archive inflates to {mb(total)} (limit {mb(limits.max_archive)}); not read")


def read_docx(path, limits: Limits | None = None, fileobj=None) -> str:
    """Text of a .docx (a path, or an open binary file `fileobj` named `path`)."""
    from lxml import etree

    limits = limits or Limits()
    try:
        zf = zipfile.ZipFile(fileobj if fileobj is not None else path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise InputError(path, f"not a readable .docx file ({e.__class__.__name__})") from None
    with zf:
        check_archive(zf, path, limits)
        try:
            member = zf.open(MAIN_PART)
        except KeyError:
            raise InputError(path, f"not a readable .docx file (no {MAIN_PART})") from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError) as e:
            raise InputError(path, f"not a readable .docx file ({e.__class__.__name__}: {e})") from None
        stream = io.BufferedReader(_Capped(member, limits.max_member, MAIN_PART, path))
        numbers = _Numbering.read(zf, path, limits)
        lines: list[str] = []
        size = 0
        try:
            # no entities, no network, no huge text nodes: hostile XML stays small
            for _, el in etree.iterparse(stream, events=("end",), resolve_entities=False,
                                         no_network=True, huge_tree=False, remove_comments=True):
                parent = el.getparent()
                if parent is None or parent.tag != W + "body":
                    continue
                for line in _block_lines(el, numbers):
                    size += len(line) + 1
                    if size > limits.max_text:
                        raise InputError(path, too_long(limits))
                    lines.append(line)
                el.clear()
                while el.getprevious() is not None:   # free what was already read
                    del parent[0]
        except etree.XMLSyntaxError as e:
            raise InputError(path, f"not a readable .docx file (broken XML in {MAIN_PART}: {e.msg or e})") from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
            raise InputError(path, f"not a readable .docx file ({e.__class__.__name__}: {e})") from None
    text = "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(path, "document has no text")
    return text


def _block_lines(el, numbers=None) -> list[str]:
    """Lines of one block-level element: a paragraph, a table, or a container of them."""
    tag = el.tag
    if tag == W + "p":
        return [(numbers.label(el) if numbers is not None else "") + _inline_text(el)]
    if tag == W + "tbl":
        out = []
        for row in _children(el, W + "tr"):
            # a cell continuing a vertical merge is read as an empty cell: the row keeps its columns
            # (the merged text is read once, in its first row; tables.py gives it to the rows below)
            cells = ["" if _continues_merge(tc) else
                     " ".join(x for x in (ln.strip() for ln in _cell_lines(tc, numbers)) if x)
                     for tc in _children(row, W + "tc")]
            if any(cells):
                out.append("| " + " | ".join(cells) + " |")
        return out
    if tag in _SKIP or not isinstance(tag, str):
        return []
    # content controls (w:sdt/w:sdtContent), custom XML, tracked insertions: their blocks
    return [line for child in el for line in _block_lines(child, numbers)]


def _children(el, tag):
    """Direct `tag` children, looking through wrappers (content controls, custom XML, insertions)."""
    for child in el:
        if child.tag == tag:
            yield child
        elif isinstance(child.tag, str) and child.tag not in _SKIP and child.tag in (
                W + "sdt", W + "sdtContent", W + "customXml", W + "ins", W + "moveTo"):
            yield from _children(child, tag)


def _cell_lines(tc, numbers=None) -> list[str]:
    return [line for child in tc for line in _block_lines(child, numbers)]


def _continues_merge(tc) -> bool:
    """A cell continuing a vertical merge repeats the one above: its text is not read again."""
    v = tc.find(f"{W}tcPr/{W}vMerge")
    return v is not None and v.get(W + "val", "continue") == "continue"


def _inline_text(el) -> str:
    parts: list[str] = []

    def walk(node):
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag in _TEXT:
                parts.append(child.text or "" if _TEXT[tag] is None else _TEXT[tag])
            else:
                walk(child)
    walk(el)
    return "".join(parts)


# ---------------------------------------------------------------- Word's own list numbers

_CN_DIGITS = "〇一二三四五六七八九"


def _chinese(n: int) -> str:
    """一 … 九十九 (Word's chineseCounting), then the digits."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    return "".join(_CN_DIGITS[int(c)] for c in str(n))


def _roman(n: int) -> str:
    out = ""
    for v, r in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                 (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out, n = out + r, n - v
    return out


def _letters(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


_FORMATS = {
    "decimal": str, "decimalZero": lambda n: f"{n:02d}", "chineseCounting": _chinese,
    "chineseCountingThousand": _chinese, "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10],
    "decimalEnclosedCircle": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "decimalEnclosedCircleChinese": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "decimalFullWidth": lambda n: "".join(chr(0xFF10 + int(c)) for c in str(n)),
    "upperLetter": _letters, "lowerLetter": lambda n: _letters(n).lower(),
    "upperRoman": _roman, "lowerRoman": lambda n: _roman(n).lower(), "none": lambda n: "",
}


class _Numbering:
    """The numbers Word draws before its numbered paragraphs (word/numbering.xml): each list's
    levels with their format ("%1、" in chineseCounting), counted through the document as Word
    counts them (a level restarts under a new item of a level above it). Bullets are left out:
    they number nothing."""

    def __init__(self, levels: dict, nums: dict, styles: dict):
        self.levels = levels        # abstractNumId -> {ilvl: (numFmt, lvlText, start)}
        self.nums = nums            # numId -> (abstractNumId, {ilvl: start override})
        self.styles = styles        # paragraph styleId -> (numId, ilvl)
        self.count: dict = {}       # abstractNumId -> {ilvl: current number}

    @classmethod
    def read(cls, zf, path, limits) -> "_Numbering | None":
        from lxml import etree

        def parse(name):
            try:
                with zf.open(name) as member:
                    data = io.BufferedReader(_Capped(member, limits.max_member, name, path)).read()
                return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True,
                                                              huge_tree=False, remove_comments=True))
            except KeyError:
                return None
            except (etree.XMLSyntaxError, zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError,
                    OSError, EOFError):
                return None     # (numbers are a courtesy: a broken part leaves the paragraphs unnumbered)
        root = parse("word/numbering.xml")
        if root is None:
            return None
        levels: dict = {}
        for an in root.iter(W + "abstractNum"):
            lv = {}
            for lvl in an.iter(W + "lvl"):
                fmt, text, start = lvl.find(W + "numFmt"), lvl.find(W + "lvlText"), lvl.find(W + "start")
                lv[int(lvl.get(W + "ilvl", "0"))] = (
                    fmt.get(W + "val", "decimal") if fmt is not None else "decimal",
                    text.get(W + "val", "") if text is not None else "",
                    int(start.get(W + "val", "1")) if start is not None else 1)
            levels[an.get(W + "abstractNumId")] = lv
        nums: dict = {}
        for num in root.iter(W + "num"):
            ref = num.find(W + "abstractNumId")
            if ref is None:
                continue
            starts = {}
            for ov in num.iter(W + "lvlOverride"):
                so = ov.find(W + "startOverride")
                if so is not None:
                    starts[int(ov.get(W + "ilvl", "0"))] = int(so.get(W + "val", "1"))
            nums[num.get(W + "numId")] = (ref.get(W + "val"), starts)
        styles: dict = {}
        sroot = parse("word/styles.xml")
        if sroot is not None:
            for st in sroot.iter(W + "style"):
                pr = st.find(f"{W}pPr/{W}numPr")
                if pr is not None:
                    nid, lvl = pr.find(W + "numId"), pr.find(W + "ilvl")
                    styles[st.get(W + "styleId")] = (nid.get(W + "val") if nid is not None else None,
                                                     int(lvl.get(W + "val", "0")) if lvl is not None else 0)
        return cls(levels, nums, styles)

    def label(self, p) -> str:
        """The number Word shows before paragraph p ("一、", "（二）", "1."), or ""."""
        ppr = p.find(W + "pPr")
        num_id, ilvl = None, 0
        if ppr is not None:
            st = ppr.find(W + "pStyle")
            if st is not None and st.get(W + "val") in self.styles:
                num_id, ilvl = self.styles[st.get(W + "val")]
            pr = ppr.find(W + "numPr")
            if pr is not None:
                nid, lvl = pr.find(W + "numId"), pr.find(W + "ilvl")
                num_id = nid.get(W + "val") if nid is not None else num_id
                ilvl = int(lvl.get(W + "val", "0")) if lvl is not None else ilvl
        if num_id is None or num_id == "0" or num_id not in self.nums:
            return ""
        abstract, starts = self.nums[num_id]
        levels = self.levels.get(abstract, {})
        if ilvl not in levels:
            return ""
        fmt, text, start = levels[ilvl]
        if fmt == "bullet" or not text:
            return ""
        count = self.count.setdefault(abstract, {})
        count[ilvl] = count.get(ilvl, starts.get(ilvl, start) - 1) + 1
        for deeper in [k for k in count if k > ilvl]:
            del count[deeper]
        out = text
        for k in range(9):
            if f"%{k + 1}" in out:
                f, _, s0 = levels.get(k, ("decimal", "", 1))
                n = count.get(k, starts.get(k, s0))
                out = out.replace(f"%{k + 1}", _FORMATS.get(f, str)(n))
        return out

