"""Read .docx text in document order with bounded memory.

Paragraphs and table rows come in the order the document shows them; a table row
is one line "| cell | cell |" (a merged cell once). Only word/document.xml is read,
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
        lines: list[str] = []
        size = 0
        try:
            # no entities, no network, no huge text nodes: hostile XML stays small
            for _, el in etree.iterparse(stream, events=("end",), resolve_entities=False,
                                         no_network=True, huge_tree=False, remove_comments=True):
                parent = el.getparent()
                if parent is None or parent.tag != W + "body":
                    continue
                for line in _block_lines(el):
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


def _block_lines(el) -> list[str]:
    """Lines of one block-level element: a paragraph, a table, or a container of them."""
    tag = el.tag
    if tag == W + "p":
        return [_inline_text(el)]
    if tag == W + "tbl":
        out = []
        for row in _children(el, W + "tr"):
            # a cell continuing a vertical merge is read as an empty cell: the row keeps its columns
            # (the merged text is read once, in its first row; tables.py gives it to the rows below)
            cells = ["" if _continues_merge(tc) else " ".join(x for x in (ln.strip() for ln in _cell_lines(tc)) if x)
                     for tc in _children(row, W + "tc")]
            if any(cells):
                out.append("| " + " | ".join(cells) + " |")
        return out
    if tag in _SKIP or not isinstance(tag, str):
        return []
    # content controls (w:sdt/w:sdtContent), custom XML, tracked insertions: their blocks
    return [line for child in el for line in _block_lines(child)]


def _children(el, tag):
    """Direct `tag` children, looking through wrappers (content controls, custom XML, insertions)."""
    for child in el:
        if child.tag == tag:
            yield child
        elif isinstance(child.tag, str) and child.tag not in _SKIP and child.tag in (
                W + "sdt", W + "sdtContent", W + "customXml", W + "ins", W + "moveTo"):
            yield from _children(child, tag)


def _cell_lines(tc) -> list[str]:
    return [line for child in tc for line in _block_lines(child)]


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
