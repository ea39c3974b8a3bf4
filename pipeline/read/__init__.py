"""Reading speech files into text: the one place that opens input files.

    read_file(path, limits=None) -> (text, kind)     text of .txt/.md (decoded), .docx, .pdf, .doc/.wps
    discover(paths, limits=None) -> Discovery(files, skipped)
    display_name(path) -> str                        a file name safe to print on one line
    InputError(path, reason)                         one-line "NAME: reason"

The text returned is what the ledger stores for a file version; every offset indexes it.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from speechledger.read.discover import SUPPORTED, Discovery, Skipped, discover, iter_files
from speechledger.read.errors import InputError, Limits, display_name, too_long
from speechledger.read.files import check_regular, open_regular, read_bytes
from speechledger.read.text import decode_bytes

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # Word 97-2003 and WPS files are OLE2 containers
_REFUSED = (".xls", ".xlsx", ".ppt", ".pptx", ".et", ".dps")


def read_file(path: str | Path, limits: Limits | None = None) -> tuple[str, str]:
    """Return (text, encoding or kind: 'utf-8', 'gb18030', …, 'docx', 'pdf', 'doc', 'wps').

    Raises InputError (one line naming the file) for anything that cannot be read:
    missing, not a regular file, too large, a zip bomb, broken, scanned, empty.
    """
    p = Path(path)
    limits = limits or Limits.from_env()
    kind = p.suffix.lower()
    if kind in _REFUSED:
        check_regular(p, limits)
        raise InputError(p, f"{kind} files are not supported; save the speech as .docx, .pdf or .txt")
    if kind == ".docx":
        from speechledger.read.docx import read_docx
        with open_regular(p, limits) as f:
            return _capped(read_docx(p, limits, fileobj=f), p, limits), "docx"
    if kind == ".pdf":
        from speechledger.read.pdf import read_pdf
        with open_regular(p, limits) as f:
            return _capped(read_pdf(p, limits, fileobj=f), p, limits), "pdf"
    if kind in (".doc", ".wps"):
        return _read_converted(p, limits), kind[1:]
    data = read_bytes(p, limits, limits.max_text)
    if data[:4] == b"PK\x03\x04":
        raise InputError(p, "looks like a zip/.docx archive; give it a .docx name")
    if data[:5] == b"%PDF-":
        raise InputError(p, "looks like a PDF; give it a .pdf name")
    if data[:8] == _OLE:
        raise InputError(p, "looks like a legacy Word (.doc) file; give it a .doc name")
    return decode_bytes(data, p)


def _read_converted(p: Path, limits: Limits) -> str:
    from speechledger.read.docx import read_docx
    from speechledger.read.office import convert_to_docx
    with open_regular(p, limits) as f:   # fail on unreadable files before starting LibreOffice
        head = f.read(8)
    if not head.strip(b"\x00 \t\r\n"):
        raise InputError(p, "file is empty")
    if head[:4] == b"PK\x03\x04":   # a .docx saved under an old name
        with open_regular(p, limits) as f:
            return _capped(read_docx(p, limits, fileobj=f), p, limits)
    if not head.startswith((_OLE, b"{\\rtf")):
        raise InputError(p, f"not a {p.suffix.lower()} word-processor file (no Word/WPS header)")
    docx = convert_to_docx(p, limits)
    try:
        with open(docx, "rb") as f:
            return _capped(read_docx(p, limits, fileobj=f), p, limits)
    finally:
        shutil.rmtree(docx.parent.parent, ignore_errors=True)


def _capped(text: str, p: Path, limits: Limits) -> str:
    if len(text) > limits.max_text:
        raise InputError(p, too_long(limits))
    return text


__all__ = ["read_file", "decode_bytes", "discover", "iter_files", "display_name", "InputError",
           "Limits", "Discovery", "Skipped", "SUPPORTED"]
