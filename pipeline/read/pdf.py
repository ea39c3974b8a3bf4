"""Read text PDFs with pdfplumber: lines and table rows in reading order.

Per page, ruled tables become one line per row, "| cell | cell |" (as .docx tables
read), placed by their position among the text lines. A line that runs to the right
edge of the text block without closing punctuation continues on the next line, so
PDF line wrapping does not cut sentences (or 7月底前) in two. A PDF with pages but no
text layer is a scan: the error says so.
"""
from __future__ import annotations

import mmap
import re
import zlib

from speechledger.read.errors import InputError, Limits, mb, too_long

_CLOSING = tuple("。！？!?；;：:…”’」』）)")
_PAGE_NO = re.compile(r"^\s*(?:[-—–－－]\s*\d{1,4}\s*[-—–－－]|第\s*\d{1,4}\s*页(?:\s*共\s*\d+\s*页)?|"
                      r"\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$")
_CID = re.compile(r"\(cid:\d+\)")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def read_pdf(path, limits: Limits | None = None, fileobj=None) -> str:
    limits = limits or Limits()
    try:
        import pdfplumber
        from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFSyntaxError
        from pdfminer.psparser import PSException
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError(path, "reading .pdf needs pdfplumber (pip install pdfplumber)") from None
    if fileobj is not None:
        check_streams(fileobj, path, limits)
    else:
        with open(path, "rb") as f:
            check_streams(f, path, limits)
    blocks: list[str] = []
    size = 0
    images = 0
    try:
        with pdfplumber.open(fileobj if fileobj is not None else path) as pdf:
            joining = False       # a sentence wrapped at the foot of a page goes on on the next
            for page in pdf.pages:
                images += len(page.images)
                for line, wraps in _page_items(page):
                    size += len(line) + 1
                    if size > limits.max_text:
                        raise InputError(path, too_long(limits))
                    if joining and not line.startswith("| "):
                        blocks[-1] = _join(blocks[-1], line)
                    else:
                        blocks.append(line)
                    joining = wraps
                page.close()   # pdfplumber caches every page's objects otherwise
            n_pages = len(pdf.pages)
    except InputError:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise InputError(path, "PDF is encrypted (password protected); save an unprotected copy") from None
    except (PDFSyntaxError, PSException) as e:
        raise InputError(path, f"not a readable PDF ({e.__class__.__name__})") from None
    except Exception as e:  # pdfminer raises a zoo of errors on broken files
        if e.__class__.__module__.startswith(("pdfminer", "pdfplumber")) or isinstance(
                e, (ValueError, KeyError, TypeError, IndexError, AssertionError, EOFError, OSError)):
            raise InputError(path, f"not a readable PDF ({e.__class__.__name__})") from None
        raise
    text = "\n".join(blocks)
    if not text.strip():
        if images:
            raise InputError(path, f"scanned PDF without a text layer ({n_pages} page(s) of images); "
                                   "run OCR on it first or give the original .docx/.txt")
        raise InputError(path, "PDF has no text")
    if len(_CID.findall(text)) * 4 > len(_CJK.findall(text)) + 4:
        raise InputError(path, "PDF fonts carry no Unicode mapping, so its text cannot be read; "
                               "export it again from the original document or run OCR")
    return text


_STREAM = re.compile(rb"(?<!end)stream\r?\n")


def check_streams(f, path, limits: Limits) -> None:
    """Refuse a PDF whose compressed streams inflate past the caps (pdfminer inflates each
    stream whole, so a PDF bomb would fill memory): count each stream's inflated size with
    bounded buffers, stopping at the cap."""
    try:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (ValueError, OSError):   # empty file, or not mappable: pdfminer reports it
        return
    with data:
        total = 0
        for m in _STREAM.finditer(data):
            d = zlib.decompressobj()
            pos, size = m.end(), 0
            try:
                while not d.eof and pos < len(data):
                    out = d.decompress(data[pos:pos + (64 << 10)], 1 << 20)
                    pos += 64 << 10
                    while True:
                        size += len(out)
                        if size > limits.max_member or total + size > limits.max_archive:
                            raise InputError(path, f"a compressed PDF stream inflates past "
                                                   f"{mb(min(limits.max_member, limits.max_archive))}; "
                                                   "not read (a PDF bomb?)")
                        if not d.unconsumed_tail:
                            break
                        out = d.decompress(d.unconsumed_tail, 1 << 20)
            except zlib.error:
                pass        # not a Flate stream, or broken: pdfminer decides
            total += size


def _page_items(page) -> list[tuple[str, bool]]:
    """(line, whether it wraps onto the next line) in reading order."""
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

    rest = page.filter(outside) if boxes else page
    lines = [(ln["top"], ln["x0"], ln["x1"], ln["text"]) for ln in rest.extract_text_lines(strip=True)
             if ln["text"].strip()]
    items: list[tuple[float, str, bool]] = []   # (top, text, continues on the next line)
    left = min((x0 for _, x0, _, _ in lines), default=0.0)
    right = page.width - left              # margins are symmetric in documents we read
    for top, x0, x1, text in lines:
        cw = (x1 - x0) / max(1, len(text))  # about one character's width on this line
        wraps = (len(lines) > 1 and x1 >= right - 1.5 * cw and x0 - left <= 2.5 * cw
                 and not text.rstrip().endswith(_CLOSING))
        items.append((top, text, wraps))
    for table in tables:
        for row, cells in zip(table.rows, table.extract()):
            texts = [_cell(c) for c in cells if c is not None]   # None: merged into a neighbour
            if any(texts):
                items.append((row.bbox[1], "| " + " | ".join(texts) + " |", False))
    items.sort(key=lambda it: it[0])
    if items and not items[-1][1].startswith("| ") and _PAGE_NO.match(items[-1][1]):
        items.pop()                       # the page number in the footer is not speech text
    return [(text, wraps) for _, text, wraps in items]


def _cell(text: str | None) -> str:
    """Cell text on one line: wrapped CJK lines join directly, others with a space."""
    if not text:
        return ""
    parts = [p.strip() for p in text.split("\n") if p.strip()]
    out = parts[0] if parts else ""
    for p in parts[1:]:
        out = _join(out, p)
    return out


def _join(a: str, b: str) -> str:
    """Undo a line wrap: CJK joins directly, Latin words keep a space."""
    return a + b if _CJK.match(a[-1]) or _CJK.match(b[0]) else a + " " + b
