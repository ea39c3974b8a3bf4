"""Segments as ANNOTATION.md §1 defines them (same cuts as shared/eval/segments.py),
and the soft line wraps of text copied out of a PDF, which the normalised copy blanks."""
from __future__ import annotations

import re

from speechledger.doc import Segment

_CUT = re.compile(r"[。！？；!?;][”’」』）)]*|\n")


def split_segments(text: str, start: int = 0, end: int | None = None, norm: str | None = None) -> list[Segment]:
    """Split text[start:end] into trimmed, non-empty segments with absolute offsets.

    With norm (the same-length normalised copy) the cuts are read from norm, so a line
    wrap that norm blanked (soft_wraps) does not cut a sentence; texts stay the source's.
    """
    end = len(text) if end is None else end
    cuts = text if norm is None else norm
    out: list[Segment] = []
    pos = start
    for m in _CUT.finditer(cuts, start, end):
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


# A line that ends a sentence / a clause or list item / an intro or label (its last
# character before closing quotes and brackets); a line that opens a new item.
_DONE = frozenset("。！？；：!?;:…")
_END = _DONE | frozenset("，,、")
_CLOSERS = "”’」』）)]】"
_LABEL_LINE = re.compile(r"\s*[\u4e00-\u9fff]{2,8}\s*[:：]\s*\S")
_NEW_ITEM = re.compile(r"\s|[（(]?[一二三四五六七八九十\d]{1,3}[、.．)）]|第[一二三四五六七八九十]{1,3}[，,、章节条部]"
                       r"|[一二三四五六七八九十]{1,2}[是要]|[|｜●◆■▲★※·•\-—]")
_HALF = re.compile(r"[A-Za-z0-9 .]")
_PROSE = re.compile(r"[。，；,;]")


def _last(line: str) -> str:
    return line.rstrip().rstrip(_CLOSERS)[-1:]


def _width(line: str) -> float:
    """Display width: ASCII letters, digits and spaces ½, the rest 1 (punctuation copied out
    of a PDF is often ASCII but took a full-width place there)."""
    return len(line) - len(_HALF.findall(line)) / 2


def soft_wraps(norm: str) -> list[int]:
    """Offsets of the newlines that only wrap a sentence in a hard-wrapped (PDF-copied) text.

    A text is hard-wrapped when many of its lines have the same full width and most of
    those stop mid-sentence; such a full line, not ending a sentence, followed by a line
    that does not open a new item, paragraph (indent) or label ("牵头单位：…"), goes on
    on the next line. Texts with paragraphs or items on one line each give none.
    """
    if norm.count("\n") < 4:
        return []
    lines, pos = [], 0
    for line in norm.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    widths = [_width(line.rstrip()) for _, line in lines]
    label = [bool(_LABEL_LINE.match(line)) for _, line in lines]
    long_ = sorted(w for w, lab in zip(widths, label) if w >= 12 and not lab)
    if len(long_) < 4:
        return []
    # the wrap width: the width (± a character or two) most lines reach
    best, full = 0, 0.0
    j = 0
    for i, w in enumerate(long_):
        while long_[j] < w - 2.5:
            j += 1
        if i - j + 1 >= best:
            best, full = i - j + 1, w
    band = [k for k, w in enumerate(widths) if full - 2.5 <= w <= full and not label[k]]
    last = [_last(line) for _, line in lines]
    mid = sum(1 for k in band if last[k] not in _END)
    if full < 15 or best < 0.4 * len(long_) or mid < 4 or mid < 0.5 * len(band):
        return []
    out = []
    for k in range(len(lines) - 1):
        pos, line = lines[k]
        nxt = lines[k + 1][1]
        if widths[k] < full - 3 or not last[k + 1] or label[k] or label[k + 1] \
                or _NEW_ITEM.match(nxt):
            continue
        # a full line ending a sentence still wraps a paragraph (line-scoped structure
        # reads on) when it fills the line to the last place
        if last[k] in _DONE and widths[k] < full - 1:
            continue
        # the next line goes on (full) or ends a sentence: a short unpunctuated line after a
        # full one is a line of its own (a title block's author line); a short line with
        # punctuation after a line cut mid-clause is the clause going on (an excerpt's last line)
        if widths[k + 1] >= full - 3 or last[k + 1] in _END or (last[k] not in _END and _PROSE.search(nxt)):
            out.append(pos + len(line))
    return out


def blank_soft_wraps(norm: str) -> str:
    """norm with its soft wraps as spaces (same length; segments then run across them)."""
    wraps = soft_wraps(norm)
    return _replace_at(norm, wraps, " ") if wraps else norm


_SPACE_RUN = re.compile(r"[ \t\u3000\xa0]+")


def run_on_breaks(norm: str, rx: re.Pattern, heading_rx: re.Pattern | None = None,
                  word_gap: re.Pattern | None = None, line_gap: re.Pattern | None = None,
                  para_gap: re.Pattern | None = None, para_gap_line: int = 150) -> str:
    """norm with the space before each heading or label line of a one-line (scraped) text as the
    line break it stands for, then the space after a heading that ran into its paragraph (same
    length; structure.yaml run_on_break gives the patterns: rx matches the space, heading_rx's
    group 1; para_gap, two or more spaces, only in lines longer than para_gap_line). A single
    space ends a heading only where spaces stand at line ends (line_gap) at least as often as
    between two characters (word_gap: a PDF's justified text)."""
    cuts = []
    # every row opens on a run of spaces: try the rows there only (a search would try them at
    # every character of the text)
    for sp in _SPACE_RUN.finditer(norm):
        m = rx.match(norm, sp.start())
        if m is None and para_gap is not None and sp.end() - sp.start() > 1 \
                and _line_length(norm, sp.start()) > para_gap_line:
            m = para_gap.match(norm, sp.start())
        if m is not None:
            cuts.append(m.end() - 1)
    came = norm
    if cuts:
        norm = _replace_at(norm, cuts, "\n")
    if heading_rx is not None:
        found = list(heading_rx.finditer(norm))
        # (the spaces counted as the text came: the cuts above are line ends too)
        if word_gap is not None and any(m.end(1) - m.start(1) == 1 for m in found) \
                and len(word_gap.findall(came)) > max(len(line_gap.findall(came)) + len(cuts), 2):
            found = [m for m in found if m.end(1) - m.start(1) > 1]
        if found:
            norm = _replace_at(norm, [m.end(1) - 1 for m in found], "\n")
    return norm


def _line_length(norm: str, pos: int) -> int:
    """Length of the line of norm holding pos."""
    end = norm.find("\n", pos)
    return (len(norm) if end < 0 else end) - (norm.rfind("\n", 0, pos) + 1)


def _replace_at(norm: str, at: list[int], ch: str) -> str:
    """norm with the character at each offset of `at` (ascending) replaced by ch."""
    parts, pos = [], 0
    for i in at:
        parts += [norm[pos:i], ch]
        pos = i + 1
    parts.append(norm[pos:])
    return "".join(parts)


WRAP_ENDS = ("、", "，", ",")


def lines_run_into(norm: str, pos: int, depth: int = 3):
    """The lines before the line starting at pos that run into it, nearest first (raw, without their
    newline): each ends with 、/，/, as a label or list line wrapped onto the next does ("配合单位：
    市发改委、市财政局、" / "市商务局、…"). At most depth lines; none when pos starts no line."""
    while depth > 0 and pos > 0 and norm[pos - 1] == "\n":
        prev_start = norm.rfind("\n", 0, pos - 1) + 1
        line = norm[prev_start:pos - 1]
        if not line.rstrip().endswith(WRAP_ENDS):
            return
        yield line
        pos, depth = prev_start, depth - 1


# the spaces a PDF puts between two Chinese characters and around a number ("增长 5.3 %", "2024 年"),
# as the task cues and the learned layer's n-grams read past them (a pattern; its users compile it)
# (?=[ \t\u3000]) first: re skips to a space instead of trying the look-behind everywhere
WORD_GAP = (r"(?=[ \t\u3000])(?:(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff\d])"
            r"|(?<=\d)[ \t\u3000]+(?=[\u4e00-\u9fff%]))")


# a space (or run) next to a Chinese character or full-width punctuation, as PDFs extract them,
# and a space between two single digits ("2 0 2 6 年": letter-spaced text; not "1 500", a
# thousands gap) (?=[ \t\xa0]) first: re skips to a space instead of trying the look-behind everywhere
# (compiled on first use, inside a pipeline run, where the regex cache serves it: ~5 ms at import)
_PDF_SPACE = (r"(?=[ \t\xa0])(?:(?<=[\u2018-\u201d\u2e80-\U0002ffff])[ \t\xa0]+"
              r"|[ \t\xa0]+(?=[\u2018-\u201d\u2e80-\U0002ffff])"
              r"|(?<=\d)(?<![\d.．]\d)[ \t\xa0](?=\d(?![\d.．])))")


def pdf_squeezed(norm: str, start: int, end: int, before: int = 8, after: int = 16) -> tuple[str, list[int]] | None:
    """norm[start - before:end + after] without the _PDF_SPACE spaces, and the position in norm of each
    of its characters (a finder runs on the copy; a span (a, b) it finds maps back to (kept[a],
    kept[b - 1] + 1)); None when norm[start:end] holds none (str.find first: far cheaper)."""
    if norm.find(" ", start, end) < 0 and norm.find("\t", start, end) < 0 and norm.find("\xa0", start, end) < 0:
        return None
    rx = re.compile(_PDF_SPACE)
    if rx.search(norm, start, end) is None:
        return None
    lo, hi = max(0, start - before), min(len(norm), end + after)
    kept, pieces, pos = [], [], lo
    for m in rx.finditer(norm, lo, hi):
        kept.extend(range(pos, m.start()))
        pieces.append(norm[pos:m.start()])
        pos = m.end()
    kept.extend(range(pos, hi))
    pieces.append(norm[pos:hi])
    return "".join(pieces), kept
