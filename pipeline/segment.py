"""Segments as ANNOTATION.md §1 defines them (same cuts as shared/eval/segments.py)."""
from __future__ import annotations

import re

from speechledger.doc import Segment

_CUT = re.compile(r"[。！？；!?;][”’」』）)]*|\n")


def split_segments(text: str, start: int = 0, end: int | None = None) -> list[Segment]:
    """Split text[start:end] into trimmed, non-empty segments with absolute offsets."""
    end = len(text) if end is None else end
    out: list[Segment] = []
    pos = start
    for m in _CUT.finditer(text, start, end):
        cut = m.start() if m.group() == "\n" else m.end()
        _add(text, pos, cut, out)
        pos = m.end()
    _add(text, pos, end, out)
    return out


def _add(text: str, s: int, e: int, out: list[Segment]) -> None:
    t = text[s:e]
    lead = t.lstrip()          # str.strip drops exactly the characters str.isspace() accepts
    if not lead:
        return
    body = lead.rstrip()
    s += len(t) - len(lead)
    out.append(Segment(len(out), s, s + len(body), body))
