"""Document structure: fill Speech.sections with review/plan/goals/breakdown/procedure.

The rows live in pipeline/data/structure.yaml (document title, heading and discourse
marker rows). One pass over the segments keeps a stack of the enclosing headings'
kinds and the current marker; each segment takes the innermost kind, and runs of
segments of one kind become a Section carrying the ids of the rows that decided it.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from speechledger.doc import Section, Speech, SpeechDoc
from speechledger.normalize import norm_text
from speechledger.regex_gate import LiteralPlan, literal_gate, required_literals, searcher

_DIRECTIVE_HEAD = re.compile(r".*?(?:(?<![主重需纲])要(?![求点])|确保|必须|务必|力争|争取|着力|狠抓|全力)")
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")
_ITEM_LINE = re.compile(r"^\s*(?:[(（]?[一二三四五六七八九十\d]{1,2}[)）、.．]|[一二三四五六七八九十]+是|——|-|·)")
_GOAL_WORDS = re.compile(r"\d|增长|达到|控制在|以内|以上|左右|同步|不低于|不少于|下降|降低|提高|突破|稳定在")


@dataclass(frozen=True)
class Row:
    id: str
    kind: str
    pattern: re.Pattern
    year: bool = False
    scope: str = "section"
    gate: re.Pattern | None = None      # literals one of which every match holds (None: unknown)
    after: str | None = None            # only ends a marker of this kind, at a line start
    weak: bool = False                  # a heading row that gives its kind only after a review sibling, unenclosed
    ends: tuple = ()                    # (period, last month): the row holds only after that month
    under: tuple | None = None          # only under a heading of one of these kinds
    past: bool = False                  # only when its year is before the speech's (an undated speech: never)
    ahead: bool = False                 # only when its year is the speech's or later (an undated speech: never)


def load_rows(lexicon) -> dict[str, list[Row]]:
    """The structure rows, compiled once per lexicon."""
    def build(_lex=None):
        data = lexicon.data("structure.yaml")
        out = {}
        for group in ("document", "heading", "marker"):
            rows = data.get(group, [])
            out[group] = [Row(r["id"], r["kind"], searcher(re.compile(r["pattern"])), bool(r.get("year")),
                              r.get("scope", "section"), literal_gate([r["pattern"]]), r.get("after"),
                              bool(r.get("weak")), tuple((r.get("ends") or {}).items()),
                              tuple(r["under"]) if r.get("under") else None, bool(r.get("past")),
                              bool(r.get("ahead")))
                          for r in rows]
            # prefilters: a search for the literals one of which every row match holds tells that
            # no row of the group matches (most segments); without such literals, the rows combined
            out[group + "_any"] = searcher(re.compile("|".join(f"(?:{r['pattern']})" for r in rows) or "(?!)"))
            out[group + "_gate"] = literal_gate([r["pattern"] for r in rows])
            # the rows whose own gate passes, from one scan for all their literals
            out[group + "_plan"] = LiteralPlan([required_literals(r["pattern"]) for r in rows])
        return out
    return lexicon.cached("structure_rows", build)


def first_match(rows: list[Row], text: str, any_rx: re.Pattern | None = None,
                gate: re.Pattern | None = None, plan: LiteralPlan | None = None) -> Row | None:
    if gate is not None and not gate.search(text):
        return None
    if gate is None and any_rx is not None and not any_rx.search(text):
        return None
    if plan is not None:
        # plan.rows: the rows whose own gate passes, from one scan
        may = plan.rows(text)
        while may:                  # the rows in order, only those whose literals are present
            low = may & -may
            may ^= low
            r = rows[low.bit_length() - 1]
            if r.pattern.search(text):
                return r
        return None
    # behind the group's gate each row's own gate is cheaper than the group's combined pattern
    for r in rows:
        if (r.gate is None or r.gate.search(text)) and r.pattern.search(text):
            return r
    return None


def _year_of(text: str, ref: int | None) -> int | None:
    m = _YEAR.search(text)
    if m:
        return int(m.group(1))
    if "今年" in text or "本年" in text:
        return ref
    if "明年" in text and ref:
        return ref + 1
    return None


_PLAN_KINDS = ("plan", "goals", "breakdown")
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])[ \t\u3000]+(?=[\u3000-\u9fff\uff00-\uffef\d])"
                      r"|(?<=\d)[ \t\u3000]+(?=[\u4e00-\u9fff%])")     # "到 2010 年": a number spaced off too


def _squeeze(text: str) -> str:
    """The text without the spaces a PDF puts between Chinese characters ("回 顾", "过去 一年"),
    for the rows to read (a find first: most segments hold none)."""
    return _CJK_GAP.sub("", text) if " " in text or "\u3000" in text else text


def _period_ended(ends: tuple, body: str, date: str | None) -> bool:
    """The period the heading names (the first of `ends` in it) ended before the speech's month."""
    last = next((m for name, m in ends if name in body), None)
    return bool(date) and last is not None and int(date[5:7]) > last


def _heading_kind(stack) -> str | None:
    """The kind of the innermost heading that has one."""
    return next((k for _, k, _, _ in reversed(stack) if k is not None), None)


def _at_line_start(norm: str, pos: int, newlines: list[int]) -> bool:
    i = bisect_left(newlines, pos) - 1
    return norm[(newlines[i] + 1 if i >= 0 else 0):pos].strip() == ""


def sections_of(norm: str, sp: Speech, rows: dict, newlines: list[int] | None = None) -> list[Section]:
    """The sections of one speech, sorted and non-overlapping, covering kind-bearing stretches."""
    ref = sp.ref_year
    if newlines is None:
        newlines = [m.start() for m in re.finditer("\n", norm)]
    first_line = norm[sp.start:norm.find("\n", sp.start) if "\n" in norm[sp.start:sp.start + 200] else sp.start + 200]
    # the title in the normalised script, as the rows are written (traditional titles too)
    doc_row = first_match(rows["document"], _squeeze(norm_text(sp.title or ""))) or \
        first_match(rows["document"], _squeeze(first_line[:80]))
    heading_at = {h.start: h for h in sp.headings}
    stack: list[tuple[int, str | None, int | None, str | None]] = []   # (level, kind, year, rule)
    sibling: dict[int, str | None] = {}     # per heading level, the kind of the last heading at it
    marker: list | None = None      # [level, kind, year, rule, mode, line end]; mode section|line|list
    labels: list[tuple] = []        # (start, end, kind or None, year, rule) per segment
    for seg in sp.segments:
        if sp.body_start is not None and seg.end <= sp.body_start:
            continue
        text = norm[seg.start:seg.end]
        i = bisect_left(newlines, seg.start)      # (a find per segment is quadratic on one-line texts)
        line_end = newlines[i] if i < len(newlines) else len(norm)
        h = heading_at.get(seg.start)
        if h is not None:
            while stack and stack[-1][0] >= h.level:
                stack.pop()
            # a marker ends with its heading's scope; one before any heading, at the first
            # outline heading (一是/首先 items go on under it)
            if marker is not None and marker[4] != "rest" and h.level <= (marker[0] or 3):
                marker = None
            body = _squeeze(text[len(h.marker):])
            # "六要确保在调区扩区上取得新进展": a directive heading names no section
            # heading rows read outline headings; 一是/首先 items are sentences (markers read them)
            r = None if h.level > 3 or _DIRECTIVE_HEAD.match(h.marker + body[:8]) \
                else first_match(rows["heading"], body[:40], rows["heading_any"], rows["heading_gate"],
                                   rows["heading_plan"])
            if r is not None and r.ends and not _period_ended(r.ends, body, sp.date):
                r = None
            if r is not None and r.weak and (doc_row is not None or marker is not None or
                                             any(x[1] is not None for x in stack) or
                                             sibling.get(h.level) != "review"):
                r = None
            kind, year, rule = (r.kind, _year_of(body[:40], ref) if r.year else None, r.id) if r else (None,) * 3
            if kind in ("plan", "goals") and year is not None and ref and year < ref:
                # "一、2025年主要工作" in a 2026 report: the work of a year gone by is reviewed
                kind, rule = "review", "head_past_year"
            stack.append((h.level, kind, year, rule))
            sibling[h.level] = kind
            for lv in [lv for lv in sibling if lv > h.level]:
                del sibling[lv]
        if marker is not None and marker[4] not in ("section", "rest") and seg.start > marker[5]:
            # a goals line ends with its line; a bare-colon list goes on while lines read as items
            line = norm[seg.start:line_end]
            if marker[4] == "list" and h is None and (_ITEM_LINE.match(line) or
                                                      (len(line) < 90 and _GOAL_WORDS.search(line))):
                marker[5] = line_end
            else:
                marker = None
        at_line = _at_line_start(norm, seg.start, newlines) or h is not None
        # a marker opens a segment ("五年来，…" also inside a run-on paragraph); line-scoped
        # rows ("…目标任务是：") may sit anywhere in it
        r = first_match(rows["marker"], _squeeze(text), rows["marker_any"], rows["marker_gate"], rows["marker_plan"])
        if r is not None and r.after is not None and not (at_line and marker is not None and marker[1] == r.after):
            r = None        # a turn row ends a marker's review only, at a paragraph start
        if r is not None and r.under is not None and _heading_kind(stack) not in r.under:
            r = None        # …some only under a heading of the kinds named
        if r is not None and r.past and not (ref and (_year_of(text, ref) or ref) < ref):
            r = None        # …and some only for a year gone by
        if r is not None and r.ahead and not (ref and (_year_of(text, ref) or 0) >= ref):
            r = None        # …or only for the speech's year or one ahead
        if r is not None and r.ends and not _period_ended(r.ends, text, sp.date):
            r = None        # …or a part of the year that has ended by the speech's date
        if r is not None:
            level = max((x[0] for x in stack), default=0)
            mode = r.scope
            if mode in ("line", "sentence") and re.search(r"[:：]\s*$", text):
                mode = "list"           # "主要目标是：" then one item a line
            until = line_end
            if mode == "sentence" or not at_line:   # "…目标任务是：…；…。": the list ends with its sentence
                stop = re.compile(r"[。！!？?]").search(norm, seg.start, line_end)
                until = stop.start() if stop else line_end
            marker = [level, r.kind, _year_of(text, ref) if r.year else None, r.id, mode, until]
        kind = year = rule = None
        if doc_row is not None:
            kind, rule = doc_row.kind, doc_row.id
        best_level = -1
        for level, k, y, rid in stack:
            if k is not None and level > best_level:
                kind, year, rule, best_level = k, y, rid, level
        # a label line (scope list: "今年经济社会发展的主要预期目标") opens its kind on the next line
        if marker is not None and marker[0] >= best_level and not (r is not None and r.scope == "list"):
            kind, year, rule = marker[1], marker[2], marker[3]
        labels.append((seg.start, seg.end, kind, year, rule))
    runs: list[list] = []
    for s, e, kind, year, rule in labels:
        if runs and runs[-1][2:] == [kind, year, rule]:
            runs[-1][1] = e
        else:
            runs.append([s, e, kind, year, rule])
    # a section reaches to the next stretch (or the speech end), so the gaps between segments map too
    return [Section(r[0], runs[i + 1][0] if i + 1 < len(runs) else max(r[1], sp.end), r[2], r[3], (r[4],))
            for i, r in enumerate(runs) if r[2] is not None]


def find_sections(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES speeches (segments, headings); PROVIDES speech.sections."""
    rows = load_rows(config.lexicon)
    norm = doc.norm or doc.text
    newlines = [m.start() for m in re.finditer("\n", norm)]
    for sp in doc.speeches:
        sp.sections = sections_of(norm, sp, rows, newlines)
    return doc
