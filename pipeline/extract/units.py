"""Responsible units (ANNOTATION.md §3) in task segments, with lead/support roles.

Candidates are collective units (各级各部门, 各县市区 …) and named bodies found
right-to-left from an organisational suffix (局, 办, 委, 中心, 高新区 …); a
candidate counts only where it stands as the doer — before 要/必须/牵头/配合,
after 由/请/会同, or on a 牵头单位：/责任单位： line. Coordinated names are split
on 、和及与, keeping a shared head (市委、市政府督查室) together. Vocabulary lives in
pipeline/data/units.yaml.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from speechledger.doc import Segment, SpeechDoc, Unit
from speechledger.lexicon import spaced_label
from speechledger.normalize import past_pinyin
from speechledger.regex_gate import literal_gate, scanner
from speechledger.regex_gate import literal_trie as _trie
from speechledger.segment import lines_run_into

_AND_MARK = "龢"   # stands in for 和 inside official names while scanning (same length)
_SEP = re.compile(r"\s*(?:、|和|及|与|以及|/|,|，)\s*|[ \t\u3000]+")
_OBJECT_VERBS = ("争取|支持|鼓励|引导|帮助|推动|督促|要求|向|对|与|给|为|把|让|使|和|以|"
                 "比照|同|组织|报|报送|上报|抄送|交|送")
_OBJECT_BEFORE = re.compile(rf"(?:{_OBJECT_VERBS})\s*$")
# …and a team the doers set up (组建专业招商小分队，区财政每年安排…) heads no list of doers either
_LEAD_MEMBER_OBJECT = re.compile(rf"(?:{_OBJECT_VERBS}|组建|成立|组成|设立)\s*$")
# 各级各部门和园区运营企业要…: a known name coordinated with an unknown one, then the directive
_AND_OTHER_DOER = re.compile(r"(?:和|及|与)[\u4e00-\u9fff]{2,12}?(?:要|必须|务必|一定要)")
_MEMBER_OBJECT = re.compile(r"(?:支持|鼓励|引导|帮助|推动|督促|要求|向|对|给|把|让|使|"
                            r"比照|组织|报|报送|上报|抄送|送)\s*$")


@dataclass
class _Compiled:
    collective: re.Pattern
    collective_rows: list           # (id, pattern) of units.yaml collective_rows
    suffix: re.Pattern
    stem: re.Pattern
    stem_prefixed: re.Pattern       # stem without its 部门 alternative, for lines without 部门
    with_and: re.Pattern
    generic_tail: re.Pattern
    doer_after: re.Pattern
    support_after: re.Pattern
    support_before: re.Pattern
    support_label: re.Pattern
    lead_label: re.Pattern
    label_inline: re.Pattern        # a label inside a line, after a bracket or a clause mark
    not_units: set[str]
    incomplete_heads: set[str]
    bare_list: re.Pattern
    stem_list: re.Pattern
    stem_alone: re.Pattern
    blocked_next: dict[str, str]
    suffix_exclude: re.Pattern
    introduced: re.Pattern
    clauses: list
    clause_hint: re.Pattern
    clause_gate: re.Pattern | None      # the hints' required literals (None: unknown)
    name_run: re.Pattern            # over the reversed line: the characters a name may take
    stop_at: re.Pattern             # over the reversed line: a left stop ends here
    quoted_suffixes: tuple          # suffixes of names that may hold a quoted stretch
    speech_verb_end: re.Pattern
    comma_must: re.Pattern
    about_before: re.Pattern
    lead_verb: re.Pattern
    clause_subject_before: re.Pattern
    clause_subject: re.Pattern


# --- speed: patterns compiled so that most positions of a line fail at once ----------------
_STOP_ALT = re.compile(r"(?:\(\?<!(?P<before>[^()\[\]\\|?*+{}.^$]+)\))?"
                       r"(?P<body>[^()\[\]\\|?*+{}.^$]+|\[[^\]]+\])(?:\(\?![^()]*\))?")


def _split_top(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern (| outside groups and classes)."""
    out, depth, in_class, cur, i = [], 0, False, [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            cur.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _reversed_stops(left_stops: str) -> str:
    """left_stops read right to left: a word ending at i of the line is the reversed word
    starting at len - i of the reversed line. Its (?<!x) becomes a look-ahead; a trailing
    (?!x) never fails where the finder uses it (at the end of the searched window) and is
    dropped. Other forms are refused (ValueError) when the lexicon is compiled."""
    out, words = [], []
    for alt in _split_top(left_stops):
        m = _STOP_ALT.fullmatch(alt)
        if m is None:
            raise ValueError(f"units.yaml left_stops: {alt!r} is not a word, a [class], (?<!x)word or word(?!x)")
        body, before = m.group("body"), m.group("before")
        if not before and not body.startswith("["):
            words.append(body[::-1])        # plain words go into one prefix tree (only presence counts)
            continue
        rbody = body if body.startswith("[") else re.escape(body[::-1])
        out.append(rbody + (f"(?!{re.escape(before[::-1])})" if before else ""))
    return "|".join(out + ([_trie(words)] if words else []))


def _alt(words) -> str:
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


def _build(lexicon) -> _Compiled:
    d = lexicon.data("units.yaml")
    rstops = _reversed_stops(d["left_stops"])
    if not all("和" in name for name in d["names_with_and"]):
        raise ValueError("units.yaml names_with_and: every name holds 和 (_scan_copy skips lines without 和)")
    return _Compiled(
        # the rows first: at one position the first alternative wins (各地市 before 各地)
        collective=scanner("|".join([f"(?:{r['pattern']})" for r in d["collective_rows"]] + [d["collective"]])),
        collective_rows=[(r["id"], re.compile(r["pattern"])) for r in d["collective_rows"]],
        # a prefix tree starts with literals: re skips impossible positions itself (no look-ahead needed)
        suffix=re.compile(_trie(d["suffixes"])),
        stem=scanner(f"(?:市|县|区|省|旗|州|镇|乡){_trie(d['stems'])}(?:部门)?|{_trie(d['stems'])}部门"),
        stem_prefixed=re.compile(f"(?:市|县|区|省|旗|州|镇|乡){_trie(d['stems'])}(?:部门)?"),
        with_and=re.compile("|".join(re.escape(n) for n in d["names_with_and"])),
        generic_tail=re.compile(f"(?:{d['generic_tail']})"),
        doer_after=re.compile(rf"(?:{d['doer_time']})?(?:{d['doer_after']})"),
        # (应当协助: a law's support role, 村民委员会应当协助做好…)
        support_after=re.compile(rf"(?:要|也要|都要|还要|应当|应)?(?:密切|积极|主动|全力|加强|搞好|做好|大力)?"
                                 rf"(?:{d['support_after']})"),
        support_before=re.compile(rf"(?:{d['support_before']})\s*$"),
        # (a PDF copy's spaced-out label, "牵 头 单 位：", reads as the label)
        support_label=re.compile(spaced_label(d["support_labels"])),
        lead_label=re.compile(spaced_label(d["lead_labels"])),
        label_inline=re.compile(rf"(?<=[（(；;。，,\s])(?:{spaced_label(d['lead_labels'])}|{spaced_label(d['support_labels'])})"),
        not_units=set(d["not_units"]),
        incomplete_heads=set(d["incomplete_heads"]),
        bare_list=re.compile(r"(?P<list>(?:[\u4e00-\u9fffX×]{2,8}、){1,8}[\u4e00-\u9fffX×]{2,8})"
                             r"(?:等(?:有关|相关)?|这(?:几|[两三四五六七八九])个|这些)(?:部门|单位|企业)"),
        stem_list=re.compile(f"(?:(?:{_trie(d['stems'])})、){{1,8}}(?={_trie(d['stems'])}部门)"),
        stem_alone=re.compile(f"(?:市|县|区|省)?(?:{_trie(d['stems'])})"),
        blocked_next={k: v for k, v in d["suffix_blocked_next"].items()},
        suffix_exclude=re.compile(f"(?:{d['suffix_exclude']})$"),
        introduced=re.compile(rf"(?:{d['introduced_by']})\s*$"),
        clauses=[{**row, "re": re.compile(row["pattern"]), "hint": re.compile(row["hint"])} for row in d["clauses"]],
        clause_hint=scanner("|".join(f"(?:{row['hint']})" for row in d["clauses"])),
        clause_gate=literal_gate([row["hint"] for row in d["clauses"]]),
        # a quoted stretch inside a name (县“两违”整治办公室) is one step: read reversed, ”…“
        name_run=re.compile(rf"(?:(?!{rstops})(?:[\u4e00-\u9fffX×*()（）]|[^\W_])|{_QUOTED_REVERSED}){{0,{_NAME_LIMIT}}}"),
        stop_at=re.compile(rstops),
        quoted_suffixes=tuple(d["quoted_name_suffixes"]),
        speech_verb_end=re.compile(r"(?:强调|指出|要求|希望|表示|提出)$"),
        comma_must=re.compile(r"[，,]\s*(?:要|必须|务必|一定要)|[:：]\s*(?:负责|牵头)"),     # 县水务局：负责…
        about_before=re.compile(r"关于[^，,。；;》]*$"),      # (《关于…的情况反映》上作出批示：“请X…: a title ends)
        lead_verb=re.compile(r"(?:要|牵头|负责|必须)"),
        clause_subject_before=re.compile(d["clause_subject_before"]),
        clause_subject=re.compile(d["clause_subject"]),
    )


_PAREN = re.compile(r"[(（][\u4e00-\u9fff、,，]{1,8}[)）]")
_NAME_AND = re.compile(r"(?<=[市县区省州旗])[\u4e00-\u9fff]{2,6}和[\u4e00-\u9fff]{2,8}?(?:局|委|厅|中心|办公室|办)")
_MARKER = re.compile(r"^(?:[(（][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、|\d{1,2}[.、．]"
                     r"|第[一二三四五六七八九十]{1,3}[，,、])")
_MARKER_AT = re.compile(_MARKER.pattern[1:])
_COOPERATING = re.compile(r"\W*协同")
# a named district, county, town or township ("宜秀区", "青龙镇") is a body only as a clause subject
_PLACE_SUFFIXES = frozenset(("区", "县", "镇", "乡"))
_SHORT_DOER = re.compile(r"(?:要(?!求)|必须|务必|负责|牵头|会同)")
_COUNT = re.compile(r"[\d一二三四五六七八九十两]+个")
_COUNT_FIRST = frozenset("0123456789一二三四五六七八九十两")
_MARKER_FIRST = frozenset("(（一二三四五六七八九十0123456789第")


def _scan_copy(seg: str, c: _Compiled) -> str:
    """The segment with 和 inside official names (and 、 inside 各县(市、区)) masked, so
    scanning does not stop there; same length as seg."""
    def mask(m):
        return m.group().replace("和", _AND_MARK).replace("、", _AND_MARK).replace(",", _AND_MARK) \
            .replace("，", _AND_MARK)
    out = seg
    if "和" in seg:     # names_with_and and _NAME_AND all hold 和 (checked in _build)
        out = _NAME_AND.sub(mask, c.with_and.sub(mask, out))
    if "(" in out or "（" in out:
        out = _PAREN.sub(mask, out)
    return out


_NAME_LIMIT = 16    # characters a name may reach left of its suffix
_CLOSING_QUOTES = '”"」'
_OPENING_QUOTES = '“"「'
_QUOTED_REVERSED = "|".join(rf"{b}[\u4e00-\u9fffA-Za-z0-9·]{{1,10}}{a}"      # ”…“ read right to left
                            for a, b in zip(_OPENING_QUOTES, _CLOSING_QUOTES))


def _name_start(scan: str, end_of_prefix: int, c: _Compiled, rscan: str | None = None) -> int:
    """Scan left from end_of_prefix while the characters can belong to a name (letters, CJK,
    X×*(), a quoted stretch) and no left stop ends there: one match over the reversed line."""
    if rscan is None:
        rscan = scan[::-1]
    q = len(scan) - end_of_prefix
    return end_of_prefix - (c.name_run.match(rscan, q).end() - q)


_UNSET = object()
# a bare head after a collective shares its modifier (§8: 各级指挥机关和单位, 各乡镇（街道）、村（社区）)
_BARE_HEAD = (r"(?:部门单位|单位|部门|机构|其(?:有关|相关|所属)?部门|村\((?:社区|居)\)|社区\(村\)|村居|村|社区|"
              r"乡镇|街道|镇街)")
_SHARED_HEAD_TAIL = re.compile(rf"[和及、]{_BARE_HEAD}(?![\u4e00-\u9fff(])|[和及、]{_BARE_HEAD}"
                               r"(?=要|在|必须|务必|一律|应|都|将|对|负责|按|不得|严禁|一定|切实|认真|主要|分管|一把手)")
_SHARED_HEAD_END = re.compile(rf"[和及、]{_BARE_HEAD}$")


def _candidates(scan: str, c: _Compiled, clause: bool = False, label=_UNSET) -> list[tuple[int, int]]:
    """label: the line's label match when the caller has it (the label rows match the scan copy where
    they match the line: the copy masks only 和、,， inside names, which no label holds)."""
    cands: list[tuple[int, int]] = []
    rscan = scan[::-1]
    if label is _UNSET:
        label = None if clause else (c.lead_label.match(scan) or c.support_label.match(scan))
    for m in c.collective.finditer(scan):
        if scan[max(0, m.start() - 1):m.start()] == "等":
            continue    # 经贸局、建设局等有关单位: a generic tail, not a unit
        if not (label and m.start() < label.end()):
            cands.append(m.span())
    blocked, n, name_run = c.blocked_next, len(scan), c.name_run
    quoted = "”" in scan or '"' in scan or "」" in scan     # _CLOSING_QUOTES
    for m in c.suffix.finditer(scan):
        ms, me = m.span()
        suffix = m.group()
        if me < n:
            after = blocked.get(suffix)
            if scan[me] in (blocked.get(suffix[-1], "") if after is None else after):
                continue
        q = n - ms      # _name_start, inlined: the hot loop of the finder
        s = ms - (name_run.match(rscan, q).end() - q)
        if quoted:      # a quoted stretch inside an office's name (县“两违”整治办); “五好”园区 is none
            close = max(scan.rfind("”", s, ms), scan.rfind('"', s, ms), scan.rfind("」", s, ms))
            if close >= 0 and (not suffix.endswith(c.quoted_suffixes)
                               or ms - close - 1 < 2 and scan[s] in _OPENING_QUOTES):
                s = close + 1
        if (ms - s < 1 and me - s < 3) or c.suffix_exclude.search(scan, s, me):
            continue
        if (len(suffix) == 1 and me - s < 3 and scan[s] not in "市县区省镇乡旗州" or suffix == "所" and me - s < 4) \
                and not (me - s >= 2 and suffix[-1] in "办所" and _SHORT_DOER.match(scan, me)
                         and c.clause_subject_before.search(scan, 0, s)):
            continue    # (a spoken township's 农办 / 财政所 opening its clause and acting: "农办要逐户核实")
        if suffix[-2:] == "部门" and (me - s < 4 or scan[s - 1:s] == "等" or scan[s] == "其" or
                                     scan[s] == "各" and scan.find("各", s + 1, ms) >= 0):
            continue    # 跨部门; 等国务院相关部门 (a generic tail); 及其有关部门; 各乡镇各有关部门 (two collectives)
        if scan[s] in _COUNT_FIRST and _COUNT.match(scan, s):
            continue    # 11个乡镇, 6个主管部门: a count of bodies, not one
        if suffix in _PLACE_SUFFIXES and not (s == 0 or not "\u4e00" <= scan[s - 1] <= "\u9fff"
                                                     or scan[s] == "各" or c.speech_verb_end.search(scan, 0, s)):
            continue    # 宜秀区要… only as a clause subject (or 各景区): 工业强县, 调区扩区 are not bodies
        if suffix in _PLACE_SUFFIXES and me - s > 5 and c.clause_subject.search(scan, s + 2, ms):
            continue    # 各乡镇制定本辖区: a doer and its verb ran into the object, no district's name
        if label and s < label.end():
            continue
        cands.append((s, me))
    for m in (c.stem if "部门" in scan else c.stem_prefixed).finditer(scan):
        if m.start() == 0 or not ("\u4e00" <= scan[m.start() - 1] <= "\u9fff") or \
                c.stop_at.match(rscan, len(scan) - m.start()):
            cands.append(m.span())
    if "、" in scan and "部门" in scan:    # 发改、财政部门: stems listed before a stem + 部门
        for m in c.stem_list.finditer(scan):
            pos = m.start()
            for part in m.group().split("、")[:-1]:
                cands.append((pos, pos + len(part)))
                pos += len(part) + 1
    # "X、Y等部门" (spoken: "X、Y这几个部门") only
    for m in (c.bare_list.finditer(scan) if ("等" in scan or "这" in scan) and "、" in scan else ()):
        pos = m.start("list")
        parts = m.group("list").split("、")
        first = _name_start(scan, pos + len(parts[0]), c, rscan)
        parts[0], pos = scan[first:pos + len(parts[0])], first
        for part in parts:
            if len(part) >= 2:
                cands.append((pos, pos + len(part)))
            pos += len(part) + 1
    kept = []
    for s, e in cands:
        if scan[s] in _MARKER_FIRST and (m := _MARKER_AT.match(scan, s)):
            s = m.end()         # a list marker (（一）, 1.; also run on: 要求(一)各乡镇) is no part of the name
        while scan[s] in "(（" and scan.find(")", s, e) < 0 and scan.find("）", s, e) < 0:
            s += 1              # （市农业农村局负责…: the note's bracket is not part of the name
        if "各" in scan[s:s + 3] and (m := _SHARED_HEAD_TAIL.match(scan, e)):
            e = m.end()         # 各级指挥机关和单位, 全省各级政府和部门: a bare head shares the collective's modifier
        if e - s >= 2:
            kept.append((s, e))
    cands = kept
    if len(cands) < 2:
        return cands
    # keep the longest of overlapping candidates (of equal ones, the first)
    out: list[tuple[int, int]] = []
    for s, e in sorted(cands, key=lambda x: (x[0] - x[1], x[0])):
        for a, b in out:            # (a loop, not all() over a generator: the finder's hot path)
            if e > a and s < b:
                break
        else:
            out.append((s, e))
    return sorted(out)


def _groups(scan: str, cands: list[tuple[int, int]], c: _Compiled | None = None) -> list[list[tuple[int, int]]]:
    sep = _SEP
    groups: list[list[tuple[int, int]]] = []
    for s, e in cands:
        gap = scan[groups[-1][-1][1]:s] if groups else None
        if groups and c is not None and scan[s:e] in c.incomplete_heads and gap in ("、", "和", "及") \
                and re.match(r"(?:全[市县区省])?各", scan[groups[-1][-1][0]:]):
            groups[-1][-1] = (groups[-1][-1][0], e)      # 全市各级党校、行政学校: a shared modifier
        elif groups and gap == "" and scan[s] == "各" and scan[groups[-1][-1][0]] != "各":
            groups[-1][-1] = (groups[-1][-1][0], e)      # 市安委会各成员单位 is one unit
        elif groups and (sep.fullmatch(gap) or (gap == "" and scan[s] == "各")):
            groups[-1].append((s, e))
        else:
            groups.append([(s, e)])
    return groups


# a bracketed note closing its line (nothing but punctuation after it)
_PAREN_NOTE = re.compile(r"[(（]([^()（）]{2,80})[)）](?=[\s。；;，,.]*$)")
_LEAD_MARK = re.compile(r"\s*[(（]\s*牵头(?:单位|部门)?\s*[)）]")
_LINE_OR_SENTENCE = re.compile(r"[\n；;。]")


def _has_colon(text: str, start: int, end: int) -> bool:
    """Label lines (牵头单位：) end their label with a colon: without one no label is there."""
    return text.find(":", start, end) >= 0 or text.find("：", start, end) >= 0


def find_units(norm: str, start: int, end: int, lexicon, sole_responsible: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, role) of the responsible units in norm[start:end]."""
    return [(s, e, role) for s, e, role, _ in find_units_with_rules(norm, start, end, lexicon, sole_responsible)]


def find_units_with_rules(norm: str, start: int, end: int, lexicon, sole_responsible: bool = False
                          ) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """(start, end, role, rule ids) of the responsible units in norm[start:end].

    A task may span several lines (a breakdown item with its 牵头单位：/责任单位： lines):
    each line is read on its own, so a label line anywhere in the task counts."""
    return _units(norm, start, end, lexicon.cached("units", _build), sole_responsible)


# spaces between Chinese characters: justified PDF text and joined line wraps ("县商务局牵 头")
# (?=[ \t\u3000]) first: re skips to a space instead of trying the look-behind everywhere
_CJK_GAP = re.compile(r"(?=[ \t\u3000])(?:(?<=[\u4e00-\u9fff、，])[ \t\u3000]+(?=[\u4e00-\u9fff])"
                      # a label after a space (牵头单位：市农业农村局 配合单位：…) starts a piece of its own
                      r"(?!(?:牵头|责任|配合|协办|主办|参与|协助|协同|负责)(?:责任)?(?:单位|部门|科室|处室)\s*[:：])"
                      # and a number spaced off its characters ("6 个经济主管部门": a count, not a name)
                      r"|(?<=\d)[ \t\u3000]+(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=\d))")


_NAME_END = frozenset("局委办厅院所队站室部府心司行会组班")
_NAME_HEAD = frozenset("市县区省镇乡旗州各")


def _between_names(norm: str, a: int, b: int) -> bool:
    """A gap after an office's last character and before a level prefix separates two names
    (责任单位：县住建局 县财政局), it does not split one."""
    return norm[a - 1] in _NAME_END and norm[b] in _NAME_HEAD


def _has_space(norm: str, start: int, end: int) -> bool:
    """A character _CJK_GAP needs (str.find, far cheaper than the regex over a line without one)."""
    return norm.find(" ", start, end) >= 0 or norm.find("\u3000", start, end) >= 0 or norm.find("\t", start, end) >= 0


def _units(norm: str, start: int, end: int, c: _Compiled, sole_responsible: bool
           ) -> list[tuple[int, int, str, tuple[str, ...]]]:
    if not _has_space(norm, start, end) or _CJK_GAP.search(norm, start, end) is None \
            or norm.find("|", start, end) >= 0:
        return _units_here(norm, start, end, c, sole_responsible)
    # read a copy without the gaps (with some context on each side), then map spans back
    lo, hi = max(0, start - 200), min(len(norm), end + 200)
    # (a gap before a label, "牵头：区住建局  配合：区财政局", parts two labels: it stays)
    gaps = {i for m in _CJK_GAP.finditer(norm, start, end) if not _between_names(norm, m.start(), m.end())
            and not (c.lead_label.match(norm, m.end()) or c.support_label.match(norm, m.end()))
            for i in range(m.start(), m.end())}
    if not gaps:
        return _units_here(norm, start, end, c, sole_responsible)
    keep = [i for i in range(start, end) if i not in gaps]
    body = "".join(map(norm.__getitem__, keep))
    copy = norm[lo:start] + body + norm[end:hi]
    a, b = start - lo, start - lo + len(body)

    def back(p: int) -> int:
        return lo + p if p < a else keep[p - a] if p < b else end + (p - b)
    return [(back(s), back(e - 1) + 1, role, rules)
            for s, e, role, rules in _units_here(copy, a, b, c, sole_responsible)]


def _units_here(norm: str, start: int, end: int, c: _Compiled, sole_responsible: bool
                ) -> list[tuple[int, int, str, tuple[str, ...]]]:
    labels = _has_colon(norm, start, end)
    if not labels and norm.find("\n", start, end) < 0 and norm.find("|", start, end) < 0:
        seg = norm[start:end]       # one plain line, no label: the common case
        stripped = seg.strip()
        if not stripped:
            return []
        lo = start + seg.find(stripped[0])
        out = _find_in_line(norm, lo, lo + len(stripped), c, sole_responsible)
    else:
        out = _lines_units(norm, start, end, c, sole_responsible, labels)
    if len(out) < 2:
        return out
    seen = set()
    return [u for u in out if not ((u[0], u[1]) in seen or seen.add((u[0], u[1])))]


def _lines_units(norm: str, start: int, end: int, c: _Compiled, sole_responsible: bool, labels: bool
                 ) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """Units of a task over several lines, or holding labels or table cells: line by line."""
    out: list[tuple[int, int, str, tuple[str, ...]]] = []
    pieces: list[tuple[int, int, bool]] = []    # (start, end, is a table row)
    pos = start
    for line in norm[start:end].split("\n"):
        stripped = line.strip()
        lo = pos + line.find(stripped[:1]) if stripped else pos
        hi = lo + len(stripped)
        pos += len(line) + 1
        if "|" in line:
            pieces.append((lo, hi, True))
        elif stripped:
            # "完成改造（牵头单位：县住建局；配合单位：各乡镇）": each label reads its own piece
            cuts = [m.start() for m in c.label_inline.finditer(norm, lo + 1, hi)] if labels else []
            pieces += [(a, b, False) for a, b in zip([lo] + cuts, cuts + [hi])]
    has_lead_label = labels and any(c.lead_label.match(norm, a, b) for a, b, _ in pieces)
    for a, b, row in pieces:
        if row:
            out += _table_cells(norm, a, b, c)
        else:
            out += _find_in_line(norm, a, b, c, sole_responsible and not has_lead_label)
    return out


_CELL_FILLER = re.compile(r"[\s、，,；;和及与|]*")


def _cell_names(norm: str, s: int, e: int, c: _Compiled) -> list[tuple[int, int]] | None:
    """The unit names filling table cell norm[s:e] entirely, or None when anything else is there
    (a person, a date, a task text)."""
    cell = norm[s:e]
    if not cell.strip() or len(cell) > 60:
        return None
    scan = _scan_copy(cell, c)
    names = _candidates(scan, c, clause=True)
    rest, pos = [], 0
    for a, b in names:
        rest.append(cell[pos:a])
        pos = b
    rest.append(cell[pos:])
    if not names or not all(_CELL_FILLER.fullmatch(r) for r in rest):
        return None
    return [(s + a, s + b) for a, b in _shared_head(scan, names) if cell[a:b] not in c.not_units]


def _cells(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the non-empty |-separated cells in norm[start:end]."""
    out, pos = [], start
    for cell in norm[start:end].split("|"):
        if cell.strip():
            out.append((pos, pos + len(cell)))
        pos += len(cell) + 1
    return out


def _table_cells(norm: str, start: int, end: int, c: _Compiled):
    """A flattened table row ("| 市住建局 | 2025年11月底前 |", or one cell a line): a cell of
    unit names only gives units; the first such cell of a row leads, a cell right after
    one supports (牵头单位 | 配合单位 columns)."""
    out = []
    line_start = norm.rfind("\n", 0, start) + 1
    prev = _cells(norm, norm.rfind("\n", 0, max(0, line_start - 1)) + 1, max(0, line_start - 1))
    prev_is_units = bool(prev) and _cell_names(norm, *prev[-1], c) is not None
    for cs, ce in _cells(norm, start, end):
        names = _cell_names(norm, cs, ce, c)
        if names is None:
            prev_is_units = False
            continue
        role = "support" if prev_is_units else "lead"
        out += [(a, b, role, ("unit.table_cell_" + role,)) for a, b in names]
        prev_is_units = True
    return out


def _clause_units(seg: str, scan: str, c: _Compiled, cands: list[tuple[int, int]]
                  ) -> tuple[list[tuple[int, int, str, tuple[str, ...]]], list[tuple[int, int]]]:
    """Units named by a responsibility clause row (units.yaml `clauses`): every name in
    the clause's lead/support list, whatever stands around it."""
    units: list[tuple[int, int, str, tuple[str, ...]]] = []
    claimed: list[tuple[int, int]] = []
    if (c.clause_gate is not None and not c.clause_gate.search(seg)) or not c.clause_hint.search(seg):
        return units, claimed       # (the gate: a literal every hint match holds, which re skips to)
    for row in c.clauses:
        if not row["hint"].search(seg):
            continue
        for m in row["re"].finditer(seg):
            if any(m.start() < b and a < m.end() for a, b in claimed):
                continue
            claimed.append(m.span())
            for role in ("lead", "support"):
                if role not in m.groupdict() or m.group(role) is None:
                    continue
                gs, ge = m.span(role)
                if row.get("literal"):
                    units.append((gs, ge, role, (row["id"],)))
                    continue
                inside = [(max(s, gs), e) for s, e in cands if e <= ge and e - max(s, gs) >= 2 and e > gs]
                for s, e in _shared_head(scan, inside):
                    if seg[s:e] not in c.not_units:
                        units.append((s, e, role, (row["id"],)))
    return units, claimed


def _find_in_line(norm: str, start: int, end: int, c: _Compiled, sole_responsible: bool):
    seg = norm[start:end]
    scan = _scan_copy(seg, c)
    label_role = None
    lm = c.lead_label.match(seg) or c.support_label.match(seg)
    if lm:
        label_role = "lead" if c.lead_label.match(seg) else "support"
        if sole_responsible and "责任" in lm.group() and not _COOPERATING.match(lm.group()):
            label_role = "lead"     # a 责任单位 line with no 牵头单位 line: it is the lead
    cands = _candidates(scan, c, label=lm)
    out, claimed = _clause_units(seg, scan, c, cands) if not lm else ([], [])
    if not lm and ("(" in scan or "（" in scan):
        for m in _PAREN_NOTE.finditer(scan):
            # an item's closing note of names only (…。（市农业农村局、各县市区）): the responsible units
            if any(m.start() < b and a < m.end() for a, b in claimed):
                continue
            names = _cell_names(scan, m.start(1), m.end(1), c)
            if names:
                claimed.append(m.span())
                out += [(a, b, "lead", ("unit.paren_names_note",) + _row_ids(scan, a, b, c)) for a, b in names]
    about = "关于" in scan
    if claimed:
        cands = [x for x in cands if not any(x[0] < b and a < x[1] for a, b in claimed)]
    for group in _groups(scan, c=c, cands=cands):
        g_start, g_end = group[0][0], group[-1][1]
        before = scan[max(0, g_start - 6):g_start]
        tail = c.generic_tail.match(scan, g_end)
        after_pos = tail.end() if tail else g_end
        after = scan[after_pos:after_pos + 16]
        doer = bool(c.doer_after.match(after)) or bool(c.comma_must.match(after)) \
            or bool(_AND_OTHER_DOER.match(after)) \
            or bool(c.support_after.match(after))
        introduced = c.introduced.search(before)
        subject = False
        if not (doer or introduced or lm):
            # a plan's bare clause: the body opening it acts ("县市场监管局开展专项检查")
            subject = bool(c.clause_subject.match(after)) and bool(c.clause_subject_before.search(scan, 0, g_start))
            if not subject:
                continue
        if not lm and about and c.about_before.search(scan, 0, g_start):
            continue        # 同意县经发局关于成立…领导小组的意见: the topic, not a doer
        if not introduced and _OBJECT_BEFORE.search(before) and \
                not c.support_after.match(after) and not c.lead_verb.match(after):
            continue
        # a member standing right after an object verb (报送区营商环境办，区营商环境办要…) is not a doer
        group = [group[0]] + [(s, e) for (_, pe), (s, e) in zip(group, group[1:])
                              if not _MEMBER_OBJECT.search(scan, max(pe, s - 4), s)]
        if len(group) > 1 and not introduced and _LEAD_MEMBER_OBJECT.search(scan, max(0, group[0][0] - 4), group[0][0]):
            group = group[1:]
        role = "lead"
        if lm:
            role, rule = label_role, "unit.label_" + label_role
        elif c.support_before.search(before):
            role, rule = "support", "unit.support_before"
        elif c.support_after.match(after):
            role, rule = "support", "unit.support_after"
        elif introduced:
            rule = "unit.introduced_by"
        elif subject:
            rule = "unit.clause_subject"
        else:
            rule = "unit.doer_before_verb"
        members = _shared_head(scan, group)
        for s, e in members:
            text = seg[s:e]
            if text in c.not_units or len(text) < 2:
                continue
            out.append((s, e, role, (rule,) + _row_ids(scan, s, e, c)))
    if lm and len(out) > 1 and "牵头" in scan:
        # 责任单位：市农业农村局（牵头）、市卫健委: the marked name leads, the others support it
        marks = [m.span() for m in _LEAD_MARK.finditer(scan)]
        if marks:   # (the mark's own 牵头单位 is no unit)
            out = [(s, e, "lead" if any(a == e for a, _ in marks) else "support", rules + ("unit.lead_mark",))
                   for s, e, _, rules in out if not any(a <= s and e <= b for a, b in marks)]
    if len(out) > 1:
        out.sort()
    return [(start + s, start + e, role, rules) for s, e, role, rules in out]


def _row_ids(scan: str, s: int, e: int, c: _Compiled) -> tuple[str, ...]:
    """The collective_rows (and structural rows of the candidates) that name scan[s:e], so a unit
    records what found it."""
    out = tuple(rid for rid, rx in c.collective_rows if (m := rx.match(scan, s)) and m.end() == e)
    if "各" in scan[s:s + 3] and _SHARED_HEAD_END.search(scan, s, e):
        out += ("unit.shared_bare_head",)
    elif scan[e:e + 1] == "、" and c.stem_alone.fullmatch(scan, s, e) and c.stem_list.match(scan, s):
        out += ("unit.stem_list",)
    return out


_BODY = re.compile(r"^(?:市|县|区|省|旗|州|镇|乡)?(?:委|政府|人大|政协)$")
_BODY_OFFICE = re.compile(r"^(?:市|县|区|省|旗|州|镇|乡)?(?:委|政府)[\u4e00-\u9fff]*?(?:室|办|组|处)$")


def _shared_head(scan: str, group: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """市委、市政府督查室 is one unit: bare bodies before an office share it."""
    out: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    for s, e in group:
        name = scan[s:e]
        if _BODY.match(name) and (not run or scan[run[-1][1]:s] == "、"):
            run.append((s, e))
            continue
        if run and _BODY_OFFICE.match(name) and scan[run[-1][1]:s] == "、":
            out.append((run[0][0], e))
            run = []
            continue
        out += run
        run = []
        out.append((s, e))
    return out + run


def role_of(doc: SpeechDoc, seg: Segment, start: int, end: int, lexicon=None) -> str:
    """The role (lead/support) a unit at norm[start:end] takes from its context."""
    if lexicon is None:
        from speechledger.lexicon import Lexicon
        lexicon = Lexicon.load()
    c = lexicon.cached("units", _build)
    before = doc.norm[max(seg.start, start - 6):start]
    tail = c.generic_tail.match(doc.norm, end, seg.end)
    after = doc.norm[tail.end() if tail else end:seg.end]
    if c.support_label.match(doc.norm, seg.start) or c.support_before.search(before) or c.support_after.match(after):
        return "support"
    return "lead"


def extract_units(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES tasks; PROVIDES task.units."""
    c = config.lexicon.cached("units", _build)
    for sp in doc.speeches:
        for t in sp.tasks:
            # 责任单位 supports a 牵头单位 named just before it, else it leads
            lo = max(sp.start, t.start - 80)
            sole = not (_has_colon(doc.norm, lo, t.start) and any(
                c.lead_label.match(line.strip()) for line in _LINE_OR_SENTENCE.split(doc.norm[lo:t.start])[-3:]))
            prefix = _wrapped_label(doc.norm, t.start, c)
            if not prefix:
                found = _units(doc.norm, t.start, t.end, c, sole)
            else:
                # the names of a label line wrapped onto this one: read under that label
                nl = doc.norm.find("\n", t.start, t.end)
                cut = t.end if nl < 0 else nl
                copy = prefix + doc.norm[t.start:cut]
                found = [(s - len(prefix) + t.start, e - len(prefix) + t.start, role, rules + ("unit.label_wrapped",))
                         for s, e, role, rules in _units(copy, 0, len(copy), c, sole) if s >= len(prefix)] \
                    + (_units(doc.norm, cut, t.end, c, sole) if cut < t.end else [])
            # (a name ending before a converter's pinyin, "各縣區(qū)", takes it along: as written)
            t.units = [Unit(s, (end := past_pinyin(doc.text, e)), doc.text[s:end], role, rules=rules)
                       for s, e, role, rules in found]
    return doc


def _wrapped_label(norm: str, pos: int, c: _Compiled) -> str | None:
    """The label (牵头单位：/配合单位：…) of a label line wrapped after 、/， onto the line at pos
    ("配合单位：市发改委、市财政局、" / "市商务局、各县市区政府"), or None; up to three lines back."""
    if pos <= 0 or norm[pos - 1] != "\n" or _has_colon(norm, pos, min(len(norm), pos + 12)):
        return None
    for prev in lines_run_into(norm, pos):
        prev = prev.strip()
        m = c.lead_label.match(prev) or c.support_label.match(prev)
        if m:
            return m.group()
    return None
