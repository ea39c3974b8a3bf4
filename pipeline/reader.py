"""Read a speech file (txt in UTF-8/GB18030/UTF-16, or docx) into text.

The decoded text is what Python's text mode would read: BOM removed and line
endings folded to "\\n" (the referee reads files that way, so offsets agree).
"""
from __future__ import annotations

import codecs
import zipfile
from functools import lru_cache
from pathlib import Path

SUPPORTED = (".txt", ".docx", ".text", ".md")


class InputError(Exception):
    """A file that cannot be read as a speech; the message names file and reason."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _fold_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode raw bytes, returning (text, encoding name)."""
    if not data.strip():
        raise InputError(path, "file is empty")
    if data.startswith(codecs.BOM_UTF8):
        return _check(_fold_newlines(data[3:].decode("utf-8", errors="strict")), path), "utf-8-sig"
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return _check(_fold_newlines(data.decode("utf-16")), path), "utf-16"
        except UnicodeDecodeError as e:
            raise InputError(path, f"broken UTF-16 text ({e.reason} at byte {e.start})") from None
    if b"\x00" in data:
        # UTF-16 without BOM: one of every two bytes is NUL for CJK-free text only,
        # so test decodability and plausibility instead.
        for enc in ("utf-16-le", "utf-16-be"):
            if len(data) % 2 == 0:
                try:
                    text = data.decode(enc)
                except UnicodeDecodeError:
                    continue
                if _plausible(text):
                    return _check(_fold_newlines(text), path), enc
        raise InputError(path, "binary file (contains NUL bytes), not a text or .docx speech")
    candidates = []
    for enc in ("utf-8", "gb18030"):
        try:
            candidates.append((enc, data.decode(enc)))
        except UnicodeDecodeError:
            continue
    if not candidates:
        raise InputError(path, "not valid UTF-8, GB18030 or UTF-16 text")
    # Short GB18030 text can also be valid UTF-8 (位 → λ): keep the decoding that reads
    # most like Chinese; on a tie UTF-8 wins.
    enc, text = max(candidates, key=lambda c: _chinese_score(c[1]))
    return _check(_fold_newlines(text), path), enc


def _chinese_score(text: str) -> float:
    common = _common_hanzi()
    good = sum(1 for c in text if c in common or c.isascii() or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return good / max(1, len(text))



@lru_cache(maxsize=1)
def _common_hanzi() -> frozenset[str]:
    from speechledger.lexicon import load_text
    return frozenset(load_text("common_hanzi.txt"))


def _plausible(text: str) -> bool:
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t") or 0xE000 <= ord(c) <= 0xF8FF)
    return bad <= len(text) * 0.01


def _check(text: str, path) -> str:
    if not text.strip():
        raise InputError(path, "file holds only whitespace")
    if not _plausible(text):
        raise InputError(path, "binary or corrupt content (too many control characters)")
    return text


def read_docx(path: Path) -> str:
    try:
        import docx  # python-docx
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise InputError(path, "reading .docx needs python-docx (pip install python-docx)") from e
    from docx.opc.exceptions import PackageNotFoundError
    try:
        d = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, PackageNotFoundError) as e:
        raise InputError(path, f"not a readable .docx file ({e.__class__.__name__})") from None
    paras = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            paras.append("\t".join(cell.text for cell in row.cells))
    text = _fold_newlines("\n".join(paras))
    if not text.strip():
        raise InputError(path, "document has no text")
    return text


def read_file(path: str | Path) -> tuple[str, str]:
    """Return (decoded text, encoding) of a .txt or .docx file, or raise InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "no such file")
    if p.is_dir():
        raise InputError(p, "is a directory (give files, or use `ingest` for folders)")
    try:
        if p.suffix.lower() == ".docx":
            return read_docx(p), "docx"
        if p.suffix.lower() == ".doc":
            raise InputError(p, "legacy .doc is not supported; save it as .docx or .txt")
        if p.suffix.lower() in (".pdf", ".wps", ".xls", ".xlsx", ".ppt", ".pptx"):
            raise InputError(p, f"{p.suffix.lower()} files are not supported; save the speech as .txt or .docx")
        data = p.read_bytes()
    except PermissionError:
        raise InputError(p, "permission denied") from None
    if data[:4] == b"PK\x03\x04":
        raise InputError(p, "looks like a zip/.docx archive; give it a .docx name")
    return decode_bytes(data, p)
