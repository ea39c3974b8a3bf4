"""Split a file into speeches, read each one's title and date, and build its outline."""
from __future__ import annotations

import re
from bisect import bisect_right

from speechledger.doc import Heading, Speech, SpeechDoc
from speechledger.numerals import CN_YEAR, FULL_DATE, NUM_DATE, cn_year_digits, date_iso
from speechledger.segment import split_segments

# A speech body opens with a salutation line.
# A salutation alone on its line (possibly after the title on the same line).
_SALUTATION = re.compile(r"^(?P<title>[^。；;！!？?]{0,80}?)\s*(同志们|同志們|各位代表|各位委员|各位领导|各位同志)"
                         r"[，,：:！!]?\s*$")
_TITLE_PREFIX = re.compile(r"^\s*(第[一二三四五六七八九十百\d]+篇[：:]?|文章(?:标题|標題)[：:]|(?:标题|標題)[：:]|"
                           r"[0-9０-９]{1,2}[、.．]\s*)")
_END_PUNCT = re.compile(r"[。！？；!?;，,]\s*$")
_FULL_DATE = re.compile(FULL_DATE)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_PURE_DATE_LINE = re.compile(r"^[\s（(]*" + FULL_DATE + r"[\s）)]*$")
_NUM_DATE = re.compile(NUM_DATE)
# a date in figures alone on a line ("2024-03-05", a web page's date under its title; only near the top:
# further down such a line is as likely a table cell)
_NUM_DATE_LINE = re.compile(r"[\s（(]*" + NUM_DATE + r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?[\s）)]*$")
# a date line of minutes, a notice or a web page ("时间：2024年3月6日上午", "日期：二〇二三年一月十二日",
# "发布时间：2024-03-05 10:20", "来源：县融媒体中心 发布日期：2024年03月05日")
_LABEL_DATE_LINE = re.compile(r"\s*(?:来源\s*[：:][^\n：:]{0,30}?\s+)?(?:会议|发布|发文|印发|成文)?(?:时间|日期)"
                              r"\s*[：:]\s*(?:" + FULL_DATE + "|" + NUM_DATE.replace("?P<", "?P<n") + ")")
# a 落款 line: the issuing body and the date ("县农业农村局 2023年1月12日", "…办公室 2021年8月16日印发")
_SIGN_DATE_LINE = re.compile(r"\s*[\u4e00-\u9fff]{2,30}(?:办公室|局|委员会|政府|委|办|厅|部|院|组|中心)\s*"
                             + FULL_DATE + r"\s*(?:印发|印|发)?\s*$")
# the issuing body alone on its line, above a 落款 date ("河北雄安新区管理委员会", "某县人民政府")
_ISSUER_LINE = re.compile(r"[\u4e00-\u9fff（）()]{2,30}(?:委员会|政府|办公室|局|委|办|厅|部|院|中心)$")
# a breakdown item's label line: a date alone under it is the item's cell
_CELL_LABEL = re.compile(r"(?:单位|时限|时间节点|责任人|领导)\s*[：:]")
# a news report's dateline: the body opens with the full date of the event ("2024年3月28日，县政府…",
# "本报讯 2024年3月5日上午，…")
# (a PDF copy may space the agency's name: "本 报讯")
_NEWS_DATELINE = re.compile(r"\s*(?:(?:[【\[(（][^】\])）]{0,20}[】\])）]|(?:[\u4e00-\u9fff][ \t]?){0,12}讯)"
                            r"\s*[：:]?\s*){0,2}" + FULL_DATE + r"\s*(?:[上下]午|晚)?\s*[，,]")
# a dateline in brackets after a title on the speech's first line ("…攻坚战（2014年4月4日）各位…")
_BRACKET_DATE = re.compile(r"[（(]\s*" + FULL_DATE + r"\s*[）)]")
_DATE_LABEL_WORDS = re.compile("时间|日期")
_TITLEISH = re.compile(r"[讲講]\s*[话話]|[报報]\s*告|致[辞辭]|[发發]言|通知|意[见見]|方案|要[点點]|"
                       r"[纲綱]要|[总總][结結]|部署|[会會][议議]")
_STRONG_TITLE = re.compile(r"[讲講]\s*[话話]|[报報]\s*告|致[辞辭]|[发發]言")
_TRAILER = re.compile(r"\s+[\u4e00-\u9fff]{2,4}\s*[(（][^)）]{4,14}[)）]\s*$|"
                      r"\s*[(（][12１２][0-9０-９]{3}年[^)）]{2,10}[)）]\s*$")

# Outline markers: (level, regex on the normalised segment start, needs line start)
# (a PDF copy spaces a marker out: "一 、", "（ 一 ）", "1 ." read as the plain ones; a space only
# where a marker's parts meet, so "1 .5亿元" stays a number)
_HEADINGS = [
    # a report's parts ("第三部分  2016年工作安排"): top headings (level 1, as 一、; level 0 is
    # the structure stage's "no heading")
    (1, re.compile(r"第[一二三四五六七八九十]{1,3}部分(?=[ \t\u3000、，,:：]|$)"), True),
    (1, re.compile(r"第[一二三四五六七八九十]{1,3}[，,、:：]"), True),
    (1, re.compile(r"[一二三四五六七八九十]{1,3}[ \t\u3000]?[、](?![一二三四五六七八九十]{1,2}[、产])"), True),
    (2, re.compile(r"[(（][ \t\u3000]?[一二三四五六七八九十]{1,3}[ \t\u3000]?[)）]"), True),
    (3, re.compile(r"\d{1,2}[ \t\u3000]?[、.．](?![ \t\u3000]?\d)"), True),
    (3, re.compile(r"[(（][ \t\u3000]?\d{1,2}[ \t\u3000]?[)）]"), True),
    (3, re.compile(r"[①-⑳]"), True),        # a circled number opening a line: an item like 1.
    (4, re.compile(r"(?:[一二三四五六七八九十]{1,2}|第[一二三四五六七八九十]{1,2})(?:要|是|抓|个)(?!不)"), False),
    (4, re.compile(r"(?:首先|其次|再次|最后)[，,]"), False),
]


def _lines(text: str, start: int, end: int):
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        yield pos, stop
        pos = stop + 1


def _is_title_line(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s) <= 80 and not _END_PUNCT.search(s)


def split_speeches(doc: SpeechDoc, config=None) -> SpeechDoc:
    """REQUIRES text, norm; PROVIDES speeches (range, title, date, segments, headings)."""
    text, norm = doc.text, doc.norm or doc.text
    lines = list(_lines(norm, 0, len(norm)))
    starts: list[tuple[int, int]] = []   # (line index of title block start, salutation line index)
    for i, (s, e) in enumerate(lines):
        line = norm[s:e]
        # every salutation holds 同志 or 各位: the regex (up to 80 tries a line) only where one is
        if ("同志" in line or "各位" in line) and _SALUTATION.match(line):
            # the title block: up to 5 title lines above, single blank lines between them
            # allowed (a web copy spaces every line apart); two blank lines end it
            j, k, above, blank = i, i - 1, 0, 0
            while k >= 0 and above < 5 and (not starts or k > starts[-1][1]):
                prev = norm[lines[k][0]:lines[k][1]]
                if not prev.strip():
                    blank += 1
                    if blank > 1:
                        break
                elif _is_title_line(prev):
                    j, above, blank = k, above + 1, 0
                else:
                    break
                k -= 1
            m = _SALUTATION.match(norm[s:e])
            if starts and j == i and not m.group("title").strip():
                continue    # a bare "同志们！" inside a speech (its closing) starts no new speech
            starts.append((j, i))
    if not starts or starts[0][0] > 0:
        # text before the first salutation (or no salutation at all) is a speech of its own
        # when it holds more than a title block
        first = starts[0][0] if starts else len(lines)
        if first > 0 and (not starts or any(norm[s:e].strip() for s, e in lines[:first])):
            if starts and all(_is_title_line(norm[s:e]) or not norm[s:e].strip() for s, e in lines[:first]):
                starts[0] = (0, starts[0][1])
            else:
                starts.insert(0, (0, -1))
    inline = None
    if len(starts) == 1 and starts[0][1] < 0 and lines:
        inline = _inline_title(norm, lines[0])
    speeches: list[Speech] = []
    line_starts = {s for s, _ in lines}      # built once: per speech it made splitting quadratic
    for k, (li, sal) in enumerate(starts):
        s0 = lines[li][0]
        li_end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        e0 = lines[li_end][0] if k + 1 < len(starts) else len(text)
        head = list(lines[li:sal if sal >= 0 else li + 1])      # spans of the title block
        if sal >= 0:
            m = _SALUTATION.match(norm, lines[sal][0], lines[sal][1])
            if m and m.group("title").strip():
                head.append(m.span("title"))
        if sal < 0 and not (head and _is_title_line(norm[head[0][0]:head[0][1]])):
            head = []
        body_start = lines[sal][1] if sal >= 0 else None
        if inline and k == 0:
            head, body_start = [inline[0]], inline[1]
        # the title is reported in the source's own script; dates are read from the normalised copy
        title = _title([text[a:b] for a, b in head]) or doc.stem
        date, year = _date_of([norm[a:b] for a, b in head])
        if date is None and li < li_end and (m := _BRACKET_DATE.search(norm, *lines[li])):
            date, year = _date_of([m.group()])
        if date is None:
            # the first body line of a news report opening with the event's full date
            first = next(((a_, b_) for a_, b_ in lines[li:li_end] if norm[a_:b_].strip() and (a_, b_) not in head),
                         None)
            if first and (m := _NEWS_DATELINE.match(norm, *first)):
                date, year = _date_of([m.group()])
        if date is None:
            # a notice's date line (落款 "2023年3月28日" alone on its line) or minutes' 时间 line dates it too;
            # a date alone on a line only near the top, in the last lines or under the issuing body's name
            # (a cover notice's 落款), never under a label line: elsewhere it is as likely a table cell
            body = [(a_, b_) for a_, b_ in lines[li:li_end] if norm[a_:b_].strip()]
            for n, (a_, b_) in enumerate(body):
                if n >= 3 and "月" not in norm[a_:b_] and not _DATE_LABEL_WORDS.search(norm, a_, b_):
                    continue    # past the first lines only a full date (月) or a 时间/日期 label dates it
                if (_PURE_DATE_LINE.match(norm[a_:b_].strip()) and _date_line_placed(norm, body, n)) \
                        or _LABEL_DATE_LINE.match(norm, a_, b_) \
                        or _SIGN_DATE_LINE.match(norm, a_, b_) or (n < 3 and _NUM_DATE_LINE.match(norm, a_, b_)):
                    date, year = _date_of([norm[a_:b_]])
                    break
        sp = Speech(index=k, start=s0, end=e0, title=title, date=date, year=year, body_start=body_start)
        if doc.date:
            sp.date, sp.year = doc.date, int(doc.date[:4])
        sp.segments = split_segments(text, s0, e0, norm=norm)
        body = lines[sal][1] if sal >= 0 else s0
        sp.headings = outline(norm, [g for g in sp.segments if g.start >= body], line_starts)
        speeches.append(sp)
    doc.speeches = speeches
    return doc


def _date_line_placed(norm: str, body: list[tuple[int, int]], n: int) -> bool:
    """Whether a date alone on the n-th non-empty line stands where a speech's date line or 落款 does."""
    prev = norm[slice(*body[n - 1])].strip() if n else ""
    if _ISSUER_LINE.match(prev):
        return True
    return (n < 3 or n >= len(body) - 4) and not _CELL_LABEL.search(prev)


_INLINE_SALUTATION = re.compile(r"(同志们|同志們|各位代表|各位领导)[:：，,]")
_INLINE_TITLE = re.compile(r"^\s*(.{4,80}?(?:讲\s*话|报\s*告|致辞|发言))(?:\s+|[(（]|$)")


def _inline_title(norm: str, line: tuple[int, int]) -> tuple[tuple[int, int], int] | None:
    """Web excerpts put title and salutation on one line: "…会议上的讲话 袁胜良 (2017年5月18日) 同志们: 今天…"."""
    s, e = line
    text = norm[s:min(e, s + 300)]
    m = _INLINE_SALUTATION.search(text)
    if m and m.start() > 0 and re.search(r"讲\s*话|报\s*告|会议|大会|致辞", text[:m.start()]) \
            and not re.search(r"[。；;！!？?]", text[:m.start()]):
        dash = re.search(r"--|——|—", text[:m.start()])
        return (s + (dash.end() if dash else 0), s + m.start()), s + m.end()
    m = _INLINE_TITLE.match(text)
    if m and not re.search(r"[。；;，,]", m.group(1)):
        return (s + m.start(1), s + m.end(1)), s + m.end(1)
    return None


_SUBTITLE_DASH = re.compile(r"[ \t\u3000]*(?:——|──|--)[ \t\u3000]*"
                            r"(?=[^\n]{0,40}?(?:[讲講]\s*[话話]|[报報]\s*告|致[辞辭]|[发發]言))")


def _title(head_lines: list[str]) -> str:
    parts = []
    # a main title and its "——在…上的讲话" subtitle on one line (a scraped page) are two lines
    pieces = [p for ln in head_lines for p in _SUBTITLE_DASH.split(ln)]
    for ln in pieces:
        s = _TITLE_PREFIX.sub("", ln).strip()
        if not s or _PURE_DATE_LINE.match(s):
            continue
        s = re.sub(r"\s+", "", s) if re.fullmatch(r"[\u4e00-\u9fff\s“”\"]+", s) and len(s) <= 6 else s
        if parts and (s == parts[-1] or parts[-1].endswith(s)):
            continue
        if parts and s.startswith(parts[-1]):
            parts[-1] = s
            continue
        parts.append(s)
    glued: list[str] = []
    for p in parts:
        # a title broken over lines ("在…会议上的" / "讲 话") is glued back
        if glued and (re.search(r"(的|上|在|关于|關於|暨|和)$", glued[-1]) or len(p) <= 4):
            glued[-1] += p
        else:
            glued.append(p)
    strong = [p for p in glued if _STRONG_TITLE.search(p)]
    weak = [p for p in glued if _TITLEISH.search(p)]
    title = (strong or weak or glued or [""])[-1 if strong else 0]
    return _TRAILER.sub("", title).strip()     # "… 讲话 袁胜良 (2017年5月18日)": drop speaker and date


def _date_of(head_lines: list[str]) -> tuple[str | None, int | None]:
    blob = "\n".join(head_lines)
    for m in (*_FULL_DATE.finditer(blob), *_NUM_DATE.finditer(blob)):
        iso = date_iso(m.group("y"), m.group("m"), m.group("d"))
        if iso:
            return iso, int(iso[:4])
    year = _title_year(blob)
    return None, year


# the period a title names: a plan's range starts in the year it is issued ("2021—2025年…规划"),
# a horizon is not the document's year ("…和2035年远景目标纲要"), and a draft plan or budget for
# a year is presented at that year's start ("2023年计划执行情况与2024年计划草案的报告"), and a
# meeting summing up a year is held in the next
_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*年?\s*[-—–~～至到]\s*(?:19|20)\d{2}\s*年")
_HORIZON = re.compile(r"\s*(?:年度?)?\s*(?:远景|遠景)")
_DRAFT = re.compile(r"[^，。；\n]{0,14}?草案")
# a meeting that sums up or rewards a year is held after it ("在2023年度全县工作总结表彰大会上的讲话": 2024)
_SUMMING_UP = re.compile(r"\s*年度[^，。；\n]{0,16}?(?:总结|表彰|述职|考核|考评)[^，。；\n]{0,8}?(?:大会|会议|会)")


# a year in Chinese digits ("二〇二四年"): read as the digits it spells, one for one
_CN_YEAR = re.compile(CN_YEAR + r"(?=\s*年)")


def _title_year(blob: str) -> int | None:
    if "〇" in blob or "零" in blob or "○" in blob:
        blob = _CN_YEAR.sub(lambda m: cn_year_digits(m.group()), blob)
    ranges = [(m.start(), m.end(), int(m.group(1))) for m in _YEAR_RANGE.finditer(blob)]
    years = []
    for m in _YEAR.finditer(blob):
        if any(a <= m.start() < b for a, b, _ in ranges) or _HORIZON.match(blob, m.end(1)):
            continue
        if _DRAFT.match(blob, m.end()):
            return int(m.group(1))
        if _SUMMING_UP.match(blob, m.end(1)):
            return int(m.group(1)) + 1
        years.append((m.start(), int(m.group(1))))
    found = sorted(years + [(a, y) for a, _, y in ranges])
    return found[0][1] if found else None


def outline(norm: str, segments, line_starts: set[int]) -> list[Heading]:
    """Section headings of one speech as a tree (parent = enclosing heading)."""
    heads: list[Heading] = []
    stack: list[int] = []
    for seg in segments:
        level = _heading_level(norm, seg, line_starts)
        if level is None:
            continue
        while stack and heads[stack[-1]].level >= level:
            stack.pop()
        parent = stack[-1] if stack else None
        m = None
        for lv, rx, _ in _HEADINGS:
            if lv == level:
                m = rx.match(norm, seg.start)
                if m:
                    break
        heads.append(Heading(seg.start, seg.end, seg.text, level, m.group() if m else "", parent))
        stack.append(len(heads) - 1)
    return heads


# every _HEADINGS pattern opens with one of these characters or a digit (\d is str.isdecimal)
_HEADING_FIRST = frozenset("第一二三四五六七八九十(（首其再最")


def _heading_level(norm: str, seg, line_starts: set[int]) -> int | None:
    c = norm[seg.start]
    if c not in _HEADING_FIRST and not c.isdecimal():
        return None         # no heading pattern can match (most segments)
    # Web excerpts run headings into paragraphs, so any segment start may open a
    # heading; only 1./1、 needs a line start or a preceding full stop (not a decimal).
    at_line = norm[_line_start(norm, seg.start):seg.start].strip() == "" or \
        norm[max(0, seg.start - 1):seg.start] in ("。", "；", ";", "!", "！", "?", "？", " ", ":", "：")
    for level, rx, needs_line in _HEADINGS:
        if needs_line and level == 3 and not at_line:
            continue
        if rx.match(norm, seg.start):
            return level
    return None


def _line_start(norm: str, pos: int) -> int:
    return norm.rfind("\n", 0, pos) + 1


def heading_of(speech: Speech, pos: int, exclude_at: bool = True) -> int | None:
    """Index of the innermost heading enclosing position pos (not the heading at pos itself).

    Headings are sorted by start, so a bisection finds the last one at or before pos
    (a scan per call made long single speeches quadratic)."""
    i = bisect_right(speech.headings, pos, key=lambda h: h.start) - 1
    if i < 0:
        return None
    if exclude_at and speech.headings[i].start == pos:
        return speech.headings[i].parent
    return i
