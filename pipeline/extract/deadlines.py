"""Deadlines (ANNOTATION.md §4): time expressions in task segments, normalised to `due`."""
from __future__ import annotations

import calendar
import datetime
import re
from bisect import bisect_left
from dataclasses import dataclass

from speechledger.doc import Deadline, SpeechDoc
from speechledger.numerals import cn_number
from speechledger.regex_gate import LiteralPlan, required_literals, searcher
from speechledger.segment import pdf_squeezed


def cn_int(s: str) -> int | None:
    """Whole numbers in Arabic or Chinese numerals (6, 十二, 二〇二五, 二O二五), else None."""
    v = cn_number(s.strip().replace("O", "〇"))
    return int(v) if v is not None and v == int(v) else None


@dataclass(frozen=True)
class _Rule:
    id: str
    kind: str
    pattern: re.Pattern
    off: int
    not_after: re.Pattern | None = None
    not_before: re.Pattern | None = None
    after_written: bool = False     # years_ahead counts from the year written earlier (次年)
    not_before_then: re.Pattern | None = None     # not_before applies only when this matches after the match
    period: bool = False            # a period with its end written (自2026年4月至10月): 自/从 do not block it


@dataclass(frozen=True)
class RefDate:
    year: int
    month: int | None = None
    day: int | None = None

    def floor(self) -> str:
        """The earliest due a deadline can have: the speech's date, or 1 January of its year."""
        return f"{self.year:04d}-{self.month or 1:02d}-{self.day or 1:02d}"

    @classmethod
    def of(cls, date: str | None, year: int | None) -> "RefDate | None":
        if date:
            y, m, d = map(int, date.split("-"))
            return cls(y, m, d)
        return cls(year) if year else None


# a year inside a document title (《2023年重点工作任务分解方案》) names the document, and a
# bracketed full date after a title ("（2014年4月4日）") is the speech's dateline: neither is a deadline
_TITLE = re.compile(r"《[^《》\n]{1,60}》|[(（]\s*(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*[)）]")
# a character every deadline holds (a gate before the rows run; 星期/礼拜: spoken weeks)
# (behind a look-ahead on its first characters: re cannot skip through the leading class itself)
_HINT = searcher(re.compile(r"[年月季日周号节旦天]|星期|礼拜|十[一二三四五六七八九]五|[“\"「]十一|国庆|五一|七一|"
                            r"清明|端午|中秋|元宵|(?:19|20)\d\d\s*[.．/\-—]\s*\d"))


def _pattern(data: dict, pattern: str) -> re.Pattern:
    for name, key in (("YYYY", "year"), ("MM", "month"), ("DD", "day")):
        pattern = pattern.replace(name, "(?:" + data[key] + ")")
    return searcher(re.compile(pattern))     # (the same matches, found faster)


def _build(lexicon) -> tuple[list[_Rule], re.Pattern, re.Pattern, re.Pattern, re.Pattern, dict]:
    data = lexicon.data("deadlines.yaml")
    rules = [_Rule(r["id"], r["kind"], _pattern(data, r["pattern"]),
                   int(r.get("years_ahead", 0)),
                   re.compile(r["not_after"]) if r.get("not_after") else None,
                   re.compile(r["not_before"]) if r.get("not_before") else None,
                   bool(r.get("after_written")),
                   re.compile(r["not_before_then"]) if r.get("not_before_then") else None,
                   bool(r.get("period"))) for r in data["rules"]]
    before = re.compile("(?:" + data["blockers"]["before"] + r")\s*$")
    as_of = re.compile("(?:" + data["blockers"]["as_of"] + r")\s*$")
    after = re.compile(r"\s*(?:" + data["blockers"]["after"] + ")")
    topic = re.compile(r"\s*(?:" + data["year_topic_after"] + ")")
    holidays = {"spring": {int(y): md for y, md in data["spring_festival"].items()},
                "fixed": dict(data["fixed_holidays"]),
                "dated": {name: {int(y): md for y, md in days.items()}
                          for name, days in data["dated_holidays"].items()}}
    return rules, before, as_of, after, topic, holidays


def _gates(lexicon) -> LiteralPlan:
    """The rows a text may match: those one of whose required literals it holds (or that have none),
    found by one scan for all of them."""
    return LiteralPlan([required_literals(r.pattern.pattern) for r in lexicon.cached("deadlines", _build)[0]])


def _month_end(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


def _holiday(g: dict, y: int | None, ref: RefDate | None, holidays: dict) -> str | None:
    """The day before a holiday (国庆节前 → 9月30日, 春节前 → 除夕): the written year's holiday,
    else the next one on or after the reference date. (Round 15: every annotator of the composed
    probes read "X节前" as the eve; "6月30日前" keeps its own day.)"""
    due = _holiday_date(g, y, ref, holidays)
    if due is None:
        return None
    return (datetime.date.fromisoformat(due) - datetime.timedelta(days=1)).isoformat()


def _holiday_date(g: dict, y: int | None, ref: RefDate | None, holidays: dict) -> str | None:
    """The date of a holiday: the written year's, else the next one on or after the reference date."""
    name = g.get("h")
    if name in ("春节", "年"):
        name = "春节"
    elif name and name.endswith("节") and name[:-1] in ("清明", "端午", "中秋", "元宵"):
        name = name[:-1]

    def on(year: int) -> str | None:
        if name in ("春节", "元宵"):
            md = holidays["spring"].get(year)
            if md and name == "元宵":       # the 15th day of the lunar year
                md = (datetime.date(year, *map(int, md.split("-"))) + datetime.timedelta(days=14)).strftime("%m-%d")
        elif name in holidays.get("dated", {}):
            md = holidays["dated"][name].get(year)
        else:
            md = holidays["fixed"].get(name)
        if md is None:
            return None
        # 元旦 of "year" is the one that closes it (元旦前 in March: the coming 1 January)
        return f"{year + 1 if name == '元旦' else year:04d}-{md}"
    if y is not None:
        return on(y - 1 if name == "元旦" else y)
    if ref is None:
        return None
    if g.get("next"):               # 明年春节前: next year's
        return on(ref.year if name == "元旦" else ref.year + 1)
    due = on(ref.year - 1 if name == "元旦" else ref.year)
    if due is not None and ref.month and due < ref.floor():
        due = on(ref.year if name == "元旦" else ref.year + 1)
    return due


def resolve(rule_kind: str, groups: dict, ref: RefDate | None, off: int = 0,
            holidays: dict | None = None) -> tuple[str | None, bool]:
    """Compute (due, placeholder) for one matched expression."""
    g = {k.rstrip("23456789"): v for k, v in groups.items() if v}
    if rule_kind == "placeholder":
        return None, True
    y = cn_int(g["y"]) if "y" in g else None      # 2025 or 二〇二五
    try:
        if rule_kind == "holiday":
            return _holiday(g, y, ref, holidays or {"spring": {}, "fixed": {}, "dated": {}}), False
        if rule_kind == "plan_period":
            n = cn_int(g["p"])          # the Nth five-year plan ends in 1955 + 5N (十四五: 2025)
            return (f"{1955 + 5 * n:04d}-12-31" if n else None), False
        if rule_kind == "n_months":           # months from the speech's date (day kept, or the month's last)
            if ref is None or not ref.month or not ref.day:
                return None, False
            n = 6 if g.get("half") else cn_int(g["n"])
            if not n:
                return None, False
            yy, mm = divmod(ref.month - 1 + n, 12)
            yy, mm = ref.year + yy, mm + 1
            return f"{yy:04d}-{mm:02d}-{min(ref.day, calendar.monthrange(yy, mm)[1]):02d}", False
        if rule_kind == "n_days":             # days (or weeks) from the speech's date: "15天内", "一周内"
            if ref is None or not ref.month or not ref.day:
                return None, False
            n = cn_int(g["n"]) if g.get("n") else None
            if g.get("rel") == "今":          # 今天下班前: the speech's own date
                return datetime.date(ref.year, ref.month, ref.day).isoformat(), False
            if g.get("rel"):                  # 明天 / 后天
                n = 1 if g["rel"] == "明" else 2
            if g.get("wk"):
                w = cn_int(g["wk"])
                n = 7 * w if w else None
            if not n:
                return None, False
            return (datetime.date(ref.year, ref.month, ref.day) + datetime.timedelta(days=n)).isoformat(), False
        if rule_kind == "day":
            if ref is None or not ref.month or not ref.day:
                return None, False
            d, yy, mm = cn_int(g["d"]), ref.year, ref.month
            if not d:
                return None, False
            if g.get("next") or (not g.get("this") and d < ref.day):    # 下月, or a day already past: next month's
                yy, mm = (yy + 1, 1) if mm == 12 else (yy, mm + 1)
            return datetime.date(yy, mm, d).isoformat(), False
        if rule_kind == "date":
            m, d = cn_int(g["m"]), cn_int(g["d"])
            if m is None or d is None:
                return None, False
            if y is None:
                if ref is None:
                    return None, False
                y = ref.year + off if off else ref.year + (1 if ref.month and m < ref.month else 0)
            return datetime.date(y, m, d).isoformat(), False
        if rule_kind == "xun":
            mm = g.get("m", "")
            if mm[:1] in ("本", "当", "下"):     # 本月中旬 / 下月上旬: the speech's month or the next
                if ref is None or not ref.month:
                    return None, False
                y, m = (ref.year + ref.month // 12, ref.month % 12 + 1) if mm[0] == "下" else (ref.year, ref.month)
            else:
                m = cn_int(mm)
            if m is None or not 1 <= m <= 12:
                return None, False
            if y is None:
                if ref is None:
                    return None, False
                y = ref.year + 1 if g.get("nexty") else ref.year + (1 if ref.month and m < ref.month else 0)
            if g["xun"].endswith("下旬"):
                return _month_end(y, m), False
            return f"{y:04d}-{m:02d}-{10 if g['xun'] == '上旬' else 20:02d}", False
        if rule_kind == "week_end":
            if ref is None or not ref.day:
                return None, False
            d = datetime.date(ref.year, ref.month, ref.day)
            monday = d - datetime.timedelta(days=d.weekday())
            if g.get("w", "本") != "本":                # 下周: next week's
                monday += datetime.timedelta(weeks=1)
            wd = g.get("wd")
            if not wd or wd in "日天7":
                day = 6
            else:
                day = "一二三四五六".find(wd) if wd in "一二三四五六" else int(wd) - 1
            return (monday + datetime.timedelta(days=day)).isoformat(), False
        if rule_kind == "month_end" and g.get("m") is None and ref is not None and ref.month:
            return _month_end(ref.year, ref.month), False      # 本月
        if rule_kind == "month_end" and g.get("m") in ("下", "下个"):       # 下月: the month after the speech's
            if ref is None or not ref.month:
                return None, False
            return _month_end(ref.year + ref.month // 12, ref.month % 12 + 1), False
        if rule_kind == "month_end":
            m = ref.month if g.get("m") in ("本", "这个", "当") and ref and ref.month else cn_int(g.get("m", ""))
            if m is None or not 1 <= m <= 12:
                return None, False
            if y is None:
                if ref is None:
                    return None, False
                y = ref.year + off if off else ref.year + (1 if ref.month and m < ref.month else 0)
            return _month_end(y, m), False
        if rule_kind == "year_end":
            return f"{y:04d}-12-31", False
        if rule_kind == "n_years_from":
            n = cn_int(g["n"])
            return (f"{y + n - 1:04d}-12-31" if n else None), False
        if y is not None and rule_kind in ("half", "quarter"):
            ref = RefDate(y)
        if ref is None:
            return None, False
        if g.get("next"):
            ref = RefDate(ref.year + 1)
        if rule_kind == "rel_year":
            return f"{ref.year + off:04d}-12-31", False
        if rule_kind == "half":
            return (f"{ref.year:04d}-06-30" if g["h"] in ("上", "年中") else f"{ref.year:04d}-12-31"), False
        if rule_kind == "quarter" and g.get("this"):                    # 本季度: the speech's quarter
            return (_month_end(ref.year, 3 * ((ref.month - 1) // 3 + 1)) if ref.month else None), False
        if rule_kind == "quarter":
            q = cn_int(g["q"]) or 4
            return _month_end(ref.year, 3 * q), False
        if rule_kind == "n_years":
            n = cn_int(g["n"])
            return (f"{ref.year + n - 1:04d}-12-31" if n else None), False
    except (ValueError, KeyError):
        return None, False
    return None, False


def find_deadlines(norm: str, start: int, end: int, ref: RefDate | None,
                   lexicon) -> list[tuple[int, int, str | None, bool]]:
    """(start, end, due, placeholder) of every deadline in norm[start:end]."""
    return [d[:4] for d in find_deadlines_with_rules(norm, start, end, ref, lexicon)]


def find_deadlines_with_rules(norm: str, start: int, end: int, ref: RefDate | None, lexicon,
                              trace: list | None = None, skip: frozenset[str] = frozenset()
                              ) -> list[tuple[int, int, str | None, bool, tuple[str, ...]]]:
    """(start, end, due, placeholder, rule ids) of every deadline in norm[start:end].

    With `trace` (a list), every match a filter drops is appended as (start, end, rule id,
    filter id) — scripts/audit_rules.py counts them against gold. `skip` names filter ids
    not to apply (scripts/ablate_deadlines.py turns each off in turn).
    """
    if not _HINT.search(norm, start, end):
        return []                   # no 年/月/季/日 at all: nothing to parse
    squeezed = pdf_squeezed(norm, start, end)
    if squeezed is None:
        return _find(norm, start, end, ref, lexicon, trace, skip)
    # PDF spaces ("年 底 前", "2025 年 6 月", "春 节 前"): the rows run on the segment without the
    # spaces next to Chinese characters (spaces between two digits stay), found spans map back
    squeezed, kept = squeezed
    inner: list | None = [] if trace is not None else None
    found = _find(squeezed, bisect_left(kept, start), bisect_left(kept, end), ref, lexicon, inner, skip)
    if trace is not None:
        trace.extend((kept[a], kept[b - 1] + 1, rid, why) for a, b, rid, why in inner)
    return [(kept[a], kept[b - 1] + 1, *rest) for a, b, *rest in found]


def _find(norm: str, start: int, end: int, ref: RefDate | None, lexicon, trace: list | None,
          skip: frozenset[str]) -> list[tuple[int, int, str | None, bool, tuple[str, ...]]]:
    rules, before, as_of, after, topic, holidays = lexicon.cached("deadlines", _build)
    may = lexicon.cached("deadline_gates", _gates).rows(norm, start, end)
    titles = [] if "deadline.filter.title" in skip else [m.span() for m in _TITLE.finditer(norm, start, end)]
    taken: list[tuple[int, int]] = list(titles)
    out = []
    while may:                      # the rows in order, only those whose literals are present
        low = may & -may
        may ^= low
        r = rules[low.bit_length() - 1]
        for m in r.pattern.finditer(norm, start, end):
            s, e = m.span()
            for g in ("span", "span2", "span3", "span4", "span5"):
                if g in r.pattern.groupindex and m.group(g):
                    s, e = m.span(g)
            if s == e:
                continue
            if any(s < b and a < e for a, b in taken):
                why = "deadline.filter.title" if any(s < b and a < e for a, b in titles) else ""
            else:
                why = next((f for f in _filters(norm, start, s, e, r, before, as_of, after, topic) if f not in skip),
                           None)
            if why is not None:
                if why and trace is not None:
                    trace.append((s, e, r.id, why))
                if why and why != "deadline.filter.title":
                    taken.append((s, e))    # a filtered expression's parts are not deadlines either (截至2025年底)
                continue
            groups = m.groupdict()
            if ref is not None and not groups.get("y") and r.kind in ("month_end", "date", "xun") \
                    and m.group().startswith(("今年", "本年")):
                groups["y"] = str(ref.year)     # 今年3月: this year's, even when past (not next year's)
            if r.after_written:
                year = None if groups.get("y") else _written_year(out, s)
                groups["y"] = str((year or (ref.year if ref else 0)) + r.off) if (year or ref) else None
            elif not groups.get("y") and r.kind in ("month_end", "date", "xun", "half", "quarter") and not r.off \
                    and not groups.get("next") and not m.group().startswith(("今年", "本年")):
                year = _written_year(out, s)    # only rows that can take a year written earlier look back
                if year:
                    groups["y"] = str(year)
            due, ph = resolve(r.kind, groups, ref, 0 if r.after_written else r.off, holidays)
            if due and ref is not None and ref.month and ref.month >= 10 and due < ref.floor() \
                    and r.kind in ("half", "quarter") and not groups.get("y") and not groups.get("this") \
                    and not m.group().startswith(("今年", "本年")) and r.id != "first_three_quarters":
                # a quarter or half already past, named in the year's last quarter, is next year's
                # (as a past month is, §4: "一季度要实现开门红" in a December speech); not 前三季度,
                # the year to date in a review ("前三季度全县投资增长8%")
                due, ph = resolve(r.kind, groups, RefDate(ref.year + 1), 0, holidays)
            if due and ref is not None and due < ref.floor() and "deadline.filter.past" not in skip \
                    and not _recent_bound(r.kind, m.group(), due, ref):
                # a deadline bounds work still to do (§4): a date before the speech's is a past
                # event, a review period or a qualifier ("2019年3月召开…", "2023年全县完成…")
                if trace is not None:
                    trace.append((s, e, r.id, "deadline.filter.past"))
                taken.append((s, e))
                continue
            taken.append((s, e))
            out.append((s, e, due, ph, (r.id,), bool(groups.get("y"))))
    return sorted(o[:5] for o in out)


def _recent_bound(kind: str, matched: str, due: str, ref: RefDate) -> bool:
    """A day bound ("3月15日前") a few weeks before the reference date is still the document's own
    deadline: a date known only from publication ("posted 3月18日") lags the meeting it reports."""
    if kind not in ("date", "day") or not matched.rstrip().endswith("前") or not (ref.month and ref.day):
        return False
    return (datetime.date(ref.year, ref.month, ref.day) - datetime.date.fromisoformat(due)).days <= 31


def _filters(norm: str, start: int, s: int, e: int, r: _Rule, before, as_of, after, topic):
    """The ids of the filter rows that drop the match norm[s:e] of row r, in the order they apply."""
    b = before.search(norm[max(start, s - 4):s])
    if b and not (r.period and b.group().strip() in ("自", "从")):
        yield "deadline.filter.blocker_before"
    if as_of.search(norm[max(start, s - 4):s]) and not norm[s:e].endswith("前"):
        yield "deadline.filter.as_of"
    if after.match(norm, e):
        yield "deadline.filter.blocker_after"
    if r.id in ("year_end_rel", "this_year") and topic.match(norm, e):
        yield "deadline.filter.year_topic"
    if r.not_after is not None and r.not_after.match(norm, e):
        yield f"deadline.filter.{r.id}.not_after"
    if r.not_before is not None and r.not_before.search(norm, max(start, s - 14), s) \
            and (r.not_before_then is None or r.not_before_then.match(norm, e)):
        yield f"deadline.filter.{r.id}.not_before"
    if r.id == "n_years" and re.match(r"[来前]", norm[e:e + 1]):
        yield "deadline.filter.n_years_past"


def _written_year(found: list, pos: int) -> int | None:
    """The year of the last deadline before pos that wrote its year out (2021年6月底前)."""
    best = None
    for s, e, due, _ph, rules, written in found:
        if e <= pos and due and (written or rules[0] in _YEAR_WRITTEN) and (best is None or s > best[0]):
            best = (s, int(due[:4]))
    return best[1] if best else None


_YEAR_WRITTEN = {"ymd", "ym_end", "y_end", "xun", "goal_year", "bare_year"}


def task_ref(sp, pos: int, speech_ref: RefDate | None) -> RefDate | None:
    """The reference date of a task at pos: the speech's, else the year of the goals or plan section holding it."""
    if speech_ref is None:
        # an undated speech: a goals or plan section stated for a year (structure stage: "二、2026年主要
        # 预期目标", "三、2026年重点工作") dates its lines (全年, 6月底前 of that year)
        sec = sp.section_at(pos) if sp.sections else None
        if sec is not None and sec.kind in ("goals", "plan") and sec.year:
            return RefDate(sec.year)
    return speech_ref


def extract_deadlines(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES tasks; PROVIDES task.deadlines."""
    # where no filter row fires, the rows with their filters off find the same deadlines: ml_mentions
    # need not run them again there (finder_notes)
    filtered = doc.finder_notes["deadline_filtered"] = set()
    trace: list = []
    for sp in doc.speeches:
        speech_ref = RefDate.of(sp.date, sp.ref_year)
        for t in sp.tasks:
            ref = task_ref(sp, t.start, speech_ref)
            t.deadlines = [Deadline(s, e, doc.text[s:e], due, ph, rules=rules)
                           for s, e, due, ph, rules in find_deadlines_with_rules(doc.norm, t.start, t.end, ref,
                                                                                 config.lexicon, trace)]
            if trace:
                filtered.add((t.start, t.end))
                trace.clear()
    return doc
