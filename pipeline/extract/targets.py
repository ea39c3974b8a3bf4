"""Numeric targets (ANNOTATION.md §5) in task segments: value, unit, comparator, metric.

A target is a number (Arabic, Chinese, or an X/×/* placeholder) followed by a
unit of measure (pipeline/data/measures.tsv), with comparator words around it
(pipeline/data/targets.yaml). Numbers that qualify a metric, describe the past,
or name things (五好, 三个意识) are skipped. numerals.cn_number converts only the number span.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from speechledger.doc import SpeechDoc, Target
from speechledger.numerals import cn_adjacent_range, cn_number
from speechledger.regex_gate import literal_trie, searcher
from speechledger.segment import pdf_squeezed

PLACEHOLDER = r"[Xx×*□○]{1,4}(?:\.[Xx×*□○]{1,2})?"     # X.X%, ××, □□亿元: a hidden value
# (letter-spaced digits of PDF text, "3 0 0 个", read as one number; "1 500" is a thousands gap)
_ARABIC = r"(?:\d(?:\s\d){1,5}(?!\d)|\d+(?:\s?,?\s?\d{3})*)(?:\.\d+)?"
_HALF = r"半(?=个月|小时)"        # 减至半个月, 半小时内到达: 0.5
# lazy: 一千万元 reads as 一千 + 万元; 零部件 is no number; 一点二万人: 1.2 万人
_CN_NUM = (r"(?:零点[零〇一二三四五六七八九]+"
           r"|(?![零〇])[零〇一二两三四五六七八九十百千万]+?(?:点[零〇一二三四五六七八九]+)?)")


@dataclass
class _Compiled:
    number: re.Pattern
    units: dict[str, str]
    after: list[tuple[str, str]]
    before: list[tuple[str, str]]
    verbs: re.Pattern
    keep: set[str]
    describe_before: re.Pattern
    describe_after: re.Pattern
    cn_verbs: re.Pattern
    commit: re.Pattern
    rank_verbs: re.Pattern
    describe_clause: re.Pattern
    project_name: re.Pattern
    project_name_units: set
    count_words: set
    time_units: set
    number_then_verb: re.Pattern
    clause_final: re.Pattern
    metric_before: re.Pattern
    review_forward: re.Pattern
    base_before: re.Pattern
    measures: set
    describe_tense: re.Pattern
    verb_before: re.Pattern
    attribute_before: re.Pattern | None = None
    difference_before: re.Pattern | None = None
    rate_term_before: re.Pattern | None = None
    list_count_after: re.Pattern | None = None
    after_words: tuple = ()         # the words of `after` / `before`, for one startswith/endswith test
    before_words: tuple = ()
    magnitudes: set = frozenset()
    mag_gap: re.Pattern | None = None
    object_done: re.Pattern | None = None


def _build(lexicon) -> _Compiled:
    rows = lexicon.data("measures.tsv")
    d = lexicon.data("targets.yaml")
    units = {r["unit"]: r["canonical"] for r in rows}
    for base in d["magnitude_units"]:       # 15万辆, 30亿千瓦时, 1.3万亿斤: a magnitude before a unit
        for mag in d["magnitudes"]:
            units.setdefault(mag + base, mag + units[base])
    # a prefix tree: re tries one branch per character instead of each of the ~400 units (same
    # matches, longest first, as the alternation sorted by length gave)
    unit_alt = literal_trie(units)
    # a bare magnitude read as the unit (万, 亿) parted from its unit by 余/多 or a PDF space
    # ("1.2万余人", "1.2 万 人"): find_targets tries this right after it, only for such a unit
    base_alt = "|".join(map(re.escape, sorted(d["magnitude_units"], key=len, reverse=True)))
    mag_gap = re.compile(rf"\s?(?P<more>[余多])\s?(?:{base_alt})|\s(?:{base_alt})")
    num = rf"(?:{_ARABIC}|{PLACEHOLDER}|{_CN_NUM}|{_HALF})"
    # behind a look-ahead on the characters a number starts with: re skips the rest at once.
    # A magnitude unit followed by a Chinese digit is no unit: 一万二千人 is one numeral (12000 人)
    number = searcher(re.compile(
        rf"(?:(?P<rank>前|排名前|前列前)\s?)?(?P<n1>{num})(?:\s*(?:%|(?:{unit_alt}))?\s*(?P<rng>[-—–~～至到])\s*(?P<n2>{num}))?\s*"
        rf"(?P<approx>多|余|(?<=[十百千万])几)?\s*(?P<unit>{unit_alt})(?!(?<=[万亿千])[一二两三四五六七八九])"
        rf"|(?P<rank2>前)\s*(?P<n3>\d{{1,3}}|{PLACEHOLDER}|[一二三四五六七八九十百]{{1,3}})(?![\d.%个家项亿万])"
        rf"|(?P<per>百分之|千分之)(?P<n4>{_ARABIC}|{PLACEHOLDER}|[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百点]*|百(?!分))"))
    after = sorted(((w, c) for c, ws in d["comparators"]["after"].items() for w in ws), key=lambda x: -len(x[0]))
    before = sorted(((w, c) for c, ws in d["comparators"]["before"].items() for w in ws), key=lambda x: -len(x[0]))
    verb_alt = "|".join(map(re.escape, sorted(d["verbs"], key=len, reverse=True)))
    verbs = re.compile(literal_trie(d["verbs"]))      # (a prefix tree, as unit_alt)
    return _Compiled(number, units, after, before, verbs, set(d["keep_verb_in_metric"]),
                     searcher(re.compile(f"(?:{d['describe_before']})\\s*$")), re.compile(d["describe_after"]),
                     re.compile(d["cn_verbs"]), searcher(re.compile(d["commit_verbs"])), re.compile(d["rank_verbs"]),
                     searcher(re.compile(d["describe_clause"])), re.compile(d["project_name"]),
                     set(d["project_name_units"]),
                     set(d["count_words"]), set(d["time_units"]), re.compile(d["number_then_verb"]),
                     re.compile(d["clause_final"]), re.compile(d["metric_before"]),
                     re.compile(d["review_forward"]), re.compile(f"(?:{d['base_before']})\\s*$"),
                     {r["unit"] for r in rows}, re.compile(d["describe_tense"]), re.compile(f"(?:{verb_alt})\\s*$"),
                     searcher(re.compile(f"(?:{d['attribute_before']})(?:约|达|近|为)?\\s*$")),
                     re.compile(f"(?:{d['difference_before']})\\s*$"),
                     re.compile(f"(?:{d['rate_term_before']})\\s*$"),
                     re.compile(d["list_count_after"]),
                     tuple(w for w, _ in after), tuple(w for w, _ in before), set(d["magnitudes"]), mag_gap,
                     re.compile(d["object_done"]))


def parse_number(s: str, lexicon=None) -> float | int | None:
    """Value of one number span: Arabic (with separators), Chinese (numerals.cn_number), or None for placeholders."""
    s = _SPACE_COMMA.sub("", s)
    if _PLACEHOLDER.fullmatch(s):
        return None
    if s == "半":
        return 0.5
    try:
        v = float(s)
    except ValueError:
        v = cn_number(s)
        if v is None:
            return None
    return int(v) if v.is_integer() else v


# the patterns find_targets applies per number, compiled once (re's own cache costs a lookup a call)
_SPACE_COMMA = re.compile(r"[\s,]")
_UNIT_GAP = re.compile(r"[\s余多]")
_PLACEHOLDER = re.compile(PLACEHOLDER)
_CN_NUMBER = re.compile(_CN_NUM)
_OBJECT_THEN_VERB = re.compile(r"的[^，,。；;]{1,12}(?:达到|实现|完成|建成)")
_DURATION_CLAUSE = re.compile(r"[^，,。；;！!？?]{0,10}?的"
                              r"|\s*(?:值班|值守|在岗|待命|应急值守|不间断|巡|监控|看守|护林)")
_DUI_BEFORE = re.compile(r"(?:^|[^反面针绝相])对[^，,。；;对]{0,8}$")
_QUALIFIER_AFTER = re.compile(r"\s*(?:以上|以下|及以上|左右)|[^，,。；;]{0,12}?的")
_CLAUSE_END = re.compile(r"[，,。；;！!？?\n]")


def _clause_end(seg: str, pos: int) -> int:
    m = _CLAUSE_END.search(seg, pos)
    return m.start() if m else len(seg)


_AT_LEAST_BEFORE = re.compile(r"(?:至少|不少于|不低于)[^，,。]{0,6}$")
_AGE_CLASS = re.compile(r"(?:以上|以下)[\u4e00-\u9fff]|(?!以上|以下)[\u4e00-\u9fff]")
_PEOPLE_CLASS = re.compile(r"(?:以上|以下)(?:的)?[\u4e00-\u9fff]")
_GOAL_AFTER = re.compile(r"(?:以上|以下)?(?:的目标|左右)")
# 十分 (very), 十大 (a name: 十大工程): 十 before these is no count (nor after 几/数: 几十个)
_TEN_WORDS = {"分", "大"}
_DOUBLING = re.compile(r"翻(?P<n>一|两|二|三)?番")
_KEEP_STRIVE = re.compile(r"保(?P<a>[一二三四五六七八九十]{1,2}|\d{1,2})争(?P<b>[一二三四五六七八九十]{1,2}|\d{1,2})")
_CLASS_OF_OBJECTS = re.compile(r"(?:以下|以内)的(?![\u4e00-\u9fff]{0,6}(?:目标|任务|指标|水平|范围|区间))")
_HINT = re.compile(r"[0-9Xx×*□○零〇一二两三四五六七八九十百千万番半]")
_DESCRIBE = {"target.filter.describe_before", "target.filter.describe_clause", "target.filter.describe_list_continues"}
_THIS_YEAR = re.compile(r"今年|全年|本年|年内")
_DAYS_BOUND = re.compile(r"(?:在|于|限期)\s*$")
# a duration bounding a step from an event ("办结后3个工作日内", "遇有险情，必须在30分钟内上报"),
# not a service standard the task sets ("审批时限压缩至15个工作日以内")
_WITHIN = re.compile(r"\s*(?:之内|以内|内)")
_EVENT_BOUND = re.compile(r"(?:后|起|在|于)\s*$")
_COMPRESS = re.compile(r"压缩|缩短|减少|降低|控制|提速|不超过")
_WORD_YUE = re.compile(r"[签节制预合履特公邀践]约$")    # 签约30个: a word, not 约 "about"
# (\s?: PDF text spaces the number off, "至少建成 1 个")
_AT_LEAST_VERB = re.compile(r"(?:至少|不少于|不低于|最少)[\u4e00-\u9fff]{1,8}\s?$")
_AT_MOST_VERB = re.compile(r"(?:最多|至多|不超过)[\u4e00-\u9fff]{1,8}\s?$")
_CLAUSE_CUT = re.compile(r"[，,；;：:。！？!?、（）()|]")        # | : a cell of a flattened table
_SENTENCE_END = re.compile(r"[。！？!?；;]")     # a described figure's list ends with its sentence
_CONJ = re.compile(r"和|及|与|并|同时")
_VERB_CUT = re.compile(r"[，,；;：:。！？!?]")
# (?s).*X: greedy, so the match ends at the last X (one search from the end, not a scan of every X)
_LAST_CLAUSE_CUT = re.compile(r"(?s).*" + _CLAUSE_CUT.pattern)
_LAST_VERB_CUT = re.compile(r"(?s).*" + _VERB_CUT.pattern)
_VERB_TAIL = re.compile(r"[到至为达了]{0,2}")
_OBJECT_AFTER = re.compile(r"[0-9XxX×*零一二两三四五六七八九十百千万]+[^\u4e00-\u9fff“]*?"
                           r"[\u4e00-\u9fff]{1,4}?(?:以上|以下|左右)?(?P<obj>[^，,；;。：:、]{1,20})")
_FILLER = re.compile(r"^(?:[一二三四五六七八九十]+是|要|确保|力争|争取|努力|全年|今年|年内|实现|"
                     r"使|让|推动|推进|力促|其中|同时|并|和|及|以及|"
                     r"全力|确定了?|目标是|主要是|均|分别|预计|计划|将|再|进一步|共|累计)+")


def is_base_value(norm: str, start: int, lexicon, lo: int = 0) -> bool:
    """Whether the number at norm[start:] names the starting value of a change (由5.2%下降到2%): the
    row target.filter.base_value, which the learned layer's candidates obey too (ANNOTATION.md §5)."""
    return bool(lexicon.cached("targets", _build).base_before.search(norm[max(lo, start - 6):start]))


def find_targets(norm: str, start: int, end: int, lexicon, trace: list | None = None,
                 goals: bool = False, ablate: frozenset = frozenset(), numbers: list | None = None) -> list[dict]:
    """Target candidates in norm[start:end] as dicts with span, value, unit, comparator, metric.

    `goals`: the segment is a line of a goals section, where a metric and its value commit
    without a verb. With `trace` (a list), every candidate a filter row drops is appended as
    (start, end, filter id) — scripts/audit_rules.py counts them against gold. With `numbers` (a
    list), the span of every match of the number pattern is appended (none without a numeral hint).
    """
    if not _HINT.search(norm, start, end):
        return []                   # no digit, Chinese numeral, placeholder or 番
    squeezed = pdf_squeezed(norm, start, end)
    if squeezed is None:
        return _find_targets(norm, start, end, lexicon, trace, goals, ablate, numbers)
    # PDF spaces ("新增就业 1.2 万 人", "不少 于 5 次"): the rows read the task without the spaces
    # next to Chinese characters, as the deadline rows do; the spans found map back
    copy, kept = squeezed

    def back(span):
        return (kept[span[0]], kept[span[1] - 1] + 1) if span else span
    inner_trace: list | None = [] if trace is not None else None
    inner_numbers: list | None = [] if numbers is not None else None
    found = _find_targets(copy, bisect_left(kept, start), bisect_left(kept, end), lexicon, inner_trace, goals,
                          ablate, inner_numbers)
    if trace is not None:
        trace.extend((*back((a, b)), why) for a, b, why in inner_trace)
    if numbers is not None:
        numbers.extend(back(x) for x in inner_numbers)
    for f in found:
        f["start"], f["end"] = back((f["start"], f["end"]))
        for key in ("unit_span", "metric_span"):
            if f.get(key):
                f[key] = back(f[key])
    return found


def _find_targets(norm: str, start: int, end: int, lexicon, trace: list | None, goals: bool, ablate: frozenset,
                  numbers: list | None) -> list[dict]:
    c = lexicon.cached("targets", _build)
    seg = norm[start:end]
    found = []

    described = -1         # end of the last number a describe filter dropped (local offset)
    # every filter row ablated (ml.mentions' NO_TARGET_FILTERS holds every id with this prefix): drop()
    # drops nothing and has no effect, so the filters' conditions need not be read at all
    filtering = "target.filter." not in ablate

    def drop(why: str) -> bool:
        """Record why a candidate is dropped; False when the row is ablated (scripts/ablate_targets.py)."""
        nonlocal described
        if why in ablate:
            return False
        if why in _DESCRIBE and (why != "target.filter.describe_before" or c.describe_tense.search(before_txt)):
            described = e   # a past or present figure; 总投资/第/共计 describe only their own number
        if trace is not None:
            trace.append((start + s, start + e, why))
        return True

    for m in c.number.finditer(seg):
        s, e = m.span()
        if numbers is not None:
            numbers.append((start + s, start + e))
        if m.group("rank2"):
            n1 = m.group("n3")
            if filtering and not c.rank_verbs.search(seg[max(0, s - 20):s]):
                if drop("target.filter.rank_no_verb"):
                    continue
            value = parse_number(n1, lexicon)
            is_ph = _PLACEHOLDER.fullmatch(n1) is not None
            if value is None and not is_ph:
                if drop("target.filter.no_value"):
                    continue
            found.append({"start": start + s, "end": start + e, "value": value, "unit": "名", "comparator": ">=",
                          "placeholder": is_ph, "metric": _metric(seg, s, c), "qualifier": False, "_local_end": e,
                          "rules": ("target.rank",)})
            continue
        per = m.group("per")        # 百分之八 / 千分之五: the unit is written first
        n1 = m.group("n4") if per else m.group("n1")
        is_ph = _PLACEHOLDER.fullmatch(n1.strip()) is not None
        is_cn = _CN_NUMBER.fullmatch(n1) is not None
        unit_raw = ("%" if per == "百分之" else "‰") if per else m.group("unit")
        approx = bool(m.group("approx"))
        gap_end = None
        if not per and unit_raw in c.magnitudes:    # 1.2万余人 / 1.2 万 人: the magnitude's unit after a gap
            g = c.mag_gap.match(seg, e)
            if g:
                approx = approx or bool(g.group("more"))
                unit_raw, e = unit_raw + _UNIT_GAP.sub("", g.group()), g.end()
                gap_end = e
        unit_at = None if per else m.start("unit")
        if is_cn and unit_raw not in c.measures and unit_raw[0] == "千":
            n1, unit_raw, unit_at = n1 + "千", unit_raw[1:], unit_at + 1   # 三千亩 is 3000 亩, not 3 千亩
        unit = c.units[unit_raw]
        rank = (bool(m.group("rank")) and unit_raw in ("名", "强", "位")) or unit_raw in ("强", "位")
        if m.group("rank") and not rank:
            s = m.start("n1")      # 年底前80%的行政村: 前 ends the deadline, the number starts after it
        if rank:
            unit = "名"
        elif unit_raw in ("强", "位"):
            if drop("target.filter.rank_unit_no_rank"):
                continue
        before_txt = seg[max(0, s - 6):s]
        if filtering and c.base_before.search(before_txt) and not rank:
            if drop("target.filter.base_value"):
                continue    # 由5.2%下降到2%: the starting value; the value after 到 is the target
        if filtering and unit == "天" and _DAYS_BOUND.search(before_txt) and "target.filter.days_bound" not in ablate:
            if drop("target.filter.days_bound"):
                continue    # 要在15天内整改到位, 限期10天: the task's deadline (deadlines n_days), not a target
        if filtering and not rank and (unit.endswith("元") or "元/" in unit) and c.rate_term_before.search(before_txt):
            if drop("target.filter.rate_term"):
                continue    # 安置补助按8元/平方米发放: a payment's rate, not a goal
        if filtering and found and not rank and unit not in ("%", "个百分点") \
                and c.difference_before.search(before_txt):
            if drop("target.filter.difference"):
                continue    # 新建口袋公园30个，比去年多10个: the difference restates the target
        if filtering and unit in c.time_units and _DURATION_CLAUSE.match(seg, e):
            if drop("target.filter.duration_qualifier"):
                continue    # 签约超过三个月还没开工的项目: the duration picks the objects, it is no goal
        if filtering and c.describe_before.search(before_txt) and not rank:
            if drop("target.filter.describe_before"):
                continue
        cut = _LAST_VERB_CUT.match(seg, 0, s)
        cut = cut.end() if cut else 0           # the end of the last clause mark before the number
        clause = seg[cut:s]
        if filtering and unit in c.time_units and _WITHIN.match(seg, e) and _EVENT_BOUND.search(clause) \
                and not _COMPRESS.search(clause):
            if drop("target.filter.event_bound"):
                continue    # 办结后3个工作日内, 遇有险情必须在30分钟内上报: a limit counted from an event
        if filtering and c.describe_clause.search(clause):
            if drop("target.filter.describe_clause"):
                continue
        if filtering and _in_quotes(seg, s) and \
                not (rank and c.rank_verbs.search(seg, max(0, seg.rfind("“", 0, s) - 4), s)):
            if drop("target.filter.in_quotes"):
                continue
        if filtering and rank and \
                (not (m.group("rank") or c.rank_verbs.search(clause)) or seg[max(0, s - 2):s].rstrip()[-1:] == "后"):
            if drop("target.filter.rank_bottom"):
                continue        # 排名后3位: the bottom of a ranking, not a goal
        if rank:
            why = "target.rank"
        elif c.commit.search(seg, cut, s + 1):   # (+1: the 增 row looks at the number after it)
            why = "target.committed"
        elif _has_comparator(seg, s, e, c):
            why = "target.comparator"
        elif _parallel(found, seg, cut, unit):
            why = "target.list_continues"
        elif _OBJECT_THEN_VERB.match(seg[e:]):
            why = "target.object_then_verb"
        elif unit in c.count_words and c.object_done.match(seg, e):
            why = "target.object_done"     # 9个贫困村退出: the objects the plan completes
        elif unit in c.count_words and _DUI_BEFORE.search(clause) and not _QUALIFIER_AFTER.match(seg, e) \
                and c.commit.search(seg, e, _clause_end(seg, e)):
            why = "target.object_of_dui"    # 对城区28条背街小巷实施…: the objects the verb after them acts on
        elif goals and not is_cn:
            why = "target.in_goals"
        elif (not is_cn or per) and unit not in c.time_units and c.number_then_verb.match(seg, e):
            # (百分之百兑付到位: a percentage in words is no "一个" that only means "a")
            why = "target.number_then_verb"
        elif not is_cn and c.clause_final.match(seg, e) and c.metric_before.search(clause):
            why = "target.clause_final_value"
        else:
            why = "target.filter.no_commit"     # (kept under this id only when the row is ablated)
            if drop(why):
                continue
        if described >= 0 and not rank and not c.review_forward.search(seg, described, s) \
                and not _THIS_YEAR.search(seg, described, s) and not _SENTENCE_END.search(seg, described, s):
            if drop("target.filter.describe_list_continues"):
                continue    # "去年…达540亿元，…扣除3300亿元，…退税4600亿元": a list of figures that describe
        if filtering and c.describe_after.match(seg[e:]):
            if drop("target.filter.describe_after"):
                continue
        if filtering and unit in c.project_name_units and c.project_name.match(seg[e:]) \
                and not c.verbs.search(seg[e:e + 24]) \
                and not c.verb_before.search(seg, max(0, s - 8), s):
            if drop("target.filter.project_name"):
                continue    # 兴县15万吨新能源汽车零部件项目: the project's name (建设5万亩…项目: the size to build)
        if filtering and is_cn:
            if n1 == "一" and unit in c.count_words \
                    and not _AT_LEAST_BEFORE.search(seg[max(0, s - 8):s]):
                if drop("target.filter.cn_one_means_a"):
                    continue  # 一场/一个 mean "a" (but 至少组织一次 counts)
            if not (c.cn_verbs.search(clause) or unit not in c.count_words and why == "target.committed"
                    or rank and c.rank_verbs.search(clause)) or _in_quotes(seg, s):
                # (保持全省前三位: a rank verb commits a rank in words as 进入 does)
                if drop("target.filter.cn_no_verb"):
                    continue
            if unit in c.count_words and c.list_count_after.match(seg, e):
                if drop("target.filter.list_count"):
                    continue    # 重点办好三件实事：: the count of the list that follows
            if n1 in ("万", "千", "百", "十") and not ((rank or per) and n1 in ("百", "千", "十")) \
                    and not (n1 in ("百", "千", "十") and unit[0] in "万亿") \
                    and not (n1 == "十" and unit not in _TEN_WORDS and seg[s - 1:s] not in ("几", "数")):
                # 千万人次, 千亿元, 十万元, 十家: a number (几十个, 数十家: no number)
                if drop("target.filter.cn_bare_magnitude"):
                    continue
        if filtering and _CLASS_OF_OBJECTS.match(seg, e):
            if drop("target.filter.class_of_objects"):
                continue  # 装机容量5万千瓦以下的锅炉: a class of objects, not a commitment
        if filtering and not rank and "target.filter.attribute" not in ablate:
            a = c.attribute_before.search(seg, max(cut, s - 10), s)
            if a and not c.verbs.search(seg, cut, a.start()) and drop("target.filter.attribute"):
                continue    # 占地300亩的物流园区 / 全长12公里的快速路: a size that describes (新建建筑面积…: a goal)
        if filtering and (unit == "岁" and _AGE_CLASS.match(seg[e:]) or unit == "人" and _PEOPLE_CLASS.match(seg[e:])) \
                and not _GOAL_AFTER.match(seg[e:]):
            if drop("target.filter.who_not_how_many"):
                continue  # 50人以上聚餐 / 60岁以上老人: who, not how many (带动500人就业 is how many)
        if filtering and unit in ("万元", "亿元", "元", "万亿元") and re.match(
                r"(?:以上|以下)?(?:的[\u4e00-\u9fff]{0,4}?)?"
                r"(?:企业|项目|单位|园区|工业企业|罚款|奖励|奖补|补助|补贴)", seg[e:]):
            if drop("target.filter.object_qualifier"):
                # 年纳税X万元以上企业: a qualifier of the object; 10万元以下罚款, 200万元的奖励: a policy's terms
                continue
        cn_range = cn_adjacent_range(n1) if is_cn else None
        value = {"十": 10, "百": 100, "千": 1000}.get(n1) if n1 in ("十", "百", "千") \
            else cn_range if cn_range is not None else parse_number(n1, lexicon)
        if value is None and not is_ph:
            if drop("target.filter.no_value"):
                continue
        comparator = "="
        ext_end = e
        gap = len(seg[e:e + 3]) - len(seg[e:e + 3].lstrip())     # PDF text: "增长 7 % 左右"
        tail = seg[e + gap:e + gap + 4]
        for w, comp in (c.after if tail.startswith(c.after_words) else ()):
            if tail.startswith(w):
                comparator, ext_end = comp, e + gap + len(w)
                break
        if approx:
            comparator = ">="
        ext_start = s
        head = seg[max(0, s - 6):s]
        stripped = head.rstrip()
        if comparator != "~" and stripped.endswith(c.before_words):
            for w, comp in c.before:
                if stripped.endswith(w) and not _WORD_YUE.search(stripped):
                    comparator, ext_start = comp, s - (len(head) - len(stripped)) - len(w)
                    break
        if comparator == "=" and _AT_LEAST_VERB.search(seg, max(0, s - 12), s):
            comparator = ">="   # 至少组织一次 / 不少于举办三场
        elif comparator == "=" and _AT_MOST_VERB.search(seg, max(0, s - 12), s):
            comparator = "<="   # 最多设置公益性岗位5个
        rules = [why]
        if approx:
            rules.append("target.more_than")      # 300多个, 1.2万余人
        if m.group("rng") or cn_range is not None:
            comparator = ">="   # a range commits to its lower bound
            rules.append("target.range_lower_bound")
        if rank:
            comparator = ">="
        if unit_raw == "倍":
            pass
        metric = _metric(seg, ext_start if not rank else s, c)
        # as written when only the script differs (小時 stays 小時); 个亿 → 亿元 and ranks → 名 otherwise
        written = (start + unit_at, start + m.end("unit")) if unit == unit_raw and not per and gap_end is None else None
        at = seg.rfind(metric, 0, s + len(metric)) if metric else -1
        found.append({"start": start + ext_start, "end": start + ext_end, "value": value, "unit": unit,
                      "unit_span": written, "metric_span": (start + at, start + at + len(metric)) if at >= 0 else None,
                      "comparator": comparator, "placeholder": is_ph, "metric": metric,
                      "qualifier": seg[ext_end:ext_end + 1] == "的", "_local_end": ext_end,
                      "rules": tuple(rules)})
    # 翻一番 / 翻两番 / 翻番
    for m in (_DOUBLING.finditer(seg) if "番" in seg else ()):
        n = {"一": 1, "两": 2, "二": 2, "三": 3}.get(m.group("n"), 1)
        found.append({"start": start + m.start(), "end": start + m.end(), "value": 2 ** n, "unit": "倍",
                      "comparator": "=", "placeholder": False, "metric": _metric(seg, m.start(), c),
                      "qualifier": False, "_local_end": m.end(), "rules": ("target.doubling",)})
    # 保十争八: keep a top-10 place, strive for top 8 — two rank targets
    for m in (_KEEP_STRIVE.finditer(seg) if "争" in seg else ()):
        for g in ("a", "b"):
            value = {"十": 10}.get(m.group(g)) or parse_number(m.group(g), lexicon)
            if value is not None:
                found.append({"start": start + m.start(g), "end": start + m.end(g), "value": value, "unit": "名",
                              "comparator": ">=", "placeholder": False, "metric": _metric(seg, m.start(), c),
                              "qualifier": False, "_local_end": m.end(g), "rules": ("target.keep_strive_rank",)})
    found.sort(key=lambda f: f["start"])
    return _drop_qualifiers(found, norm, trace, "target.filter.qualifier" not in ablate)


_CELL_BEFORE = {"≥": ">=", ">": ">=", "＞": ">=", "≤": "<=", "<": "<=", "＜": "<="}
_UNIT_IN_NAME = re.compile(r"[(（]\s*([^()（）]{1,8}?)\s*[)）]\s*$")     # 规上工业增加值增速（%）


def cell_targets(norm: str, start: int, end: int, unit: str | None, metric: str, lexicon) -> list[dict]:
    """The target of a value cell of an indicator table ("| 地区生产总值 | 亿元 | 60 |"): a bare
    number (comparator words around it, a range, an X placeholder) whose unit stands in the
    row's measure cell (`unit`) or at the end of the indicator's name ("增速（%）"); a cell
    that carries its own unit ("12%以上", "500个") is read by find_targets as a goals line."""
    c = lexicon.cached("targets", _build)
    name_unit = _UNIT_IN_NAME.search(metric)
    if name_unit and name_unit.group(1) in c.units:
        unit, metric = unit or name_unit.group(1), metric[:name_unit.start()]
    own = find_targets(norm, start, end, lexicon, goals=True)
    if own:
        for f in own:
            f["metric"], f["metric_span"] = metric or f["metric"], None
        return own
    if not unit or unit not in c.units:
        return []
    cell = norm[start:end]
    m = re.fullmatch(rf"\s*(?P<before>[≥>＞≤<＜]|{'|'.join(re.escape(w) for w, _ in c.before)})?\s*"
                     rf"(?P<n1>{_ARABIC}|{PLACEHOLDER})(?:\s*(?P<rng>[-—–~～至到])\s*(?:{_ARABIC}|{PLACEHOLDER}))?\s*"
                     rf"(?P<after>{'|'.join(re.escape(w) for w, _ in c.after)})?\s*", cell)
    if not m:
        return []
    n1 = m.group("n1")
    is_ph = re.fullmatch(PLACEHOLDER, n1) is not None
    value = parse_number(n1, lexicon)
    if value is None and not is_ph:
        return []
    comparator = "="
    if m.group("before"):
        comparator = _CELL_BEFORE.get(m.group("before")) or dict(c.before)[m.group("before")]
    if m.group("after"):
        comparator = dict(c.after)[m.group("after")]
    rules = ["target.table_value"]
    if m.group("rng"):
        comparator = ">="
        rules.append("target.range_lower_bound")
    s = start + m.start("before" if m.group("before") else "n1")
    e = start + m.end("after" if m.group("after") else "rng" if m.group("rng") else "n1")
    if m.group("rng"):
        e = start + len(cell.rstrip())
    return [{"start": s, "end": e, "value": value, "unit": c.units[unit], "unit_span": None,
             "metric_span": None, "comparator": comparator, "placeholder": is_ph, "metric": metric.strip(),
             "qualifier": False, "_local_end": e - start, "rules": tuple(rules)}]


def _parallel(found: list[dict], seg: str, clause_start: int, unit: str) -> bool:
    """"建成…2个国家级产业集群，…4个省级产业集群": a clause continuing the previous target's list."""
    if not found or found[-1]["unit"] != unit:
        return False
    prev_end = found[-1]["_local_end"]
    return prev_end <= clause_start and not _VERB_CUT.search(seg, prev_end, clause_start - 1)


def _has_comparator(seg: str, s: int, e: int, c: _Compiled) -> bool:
    after, before = seg[e:e + 8].lstrip(), seg[max(0, s - 8):s].rstrip()    # spaces of PDF text
    return after.startswith(c.after_words) or before.endswith(c.before_words) and not _WORD_YUE.search(before)


def _in_quotes(seg: str, pos: int) -> bool:
    return seg.rfind("“", 0, pos) > seg.rfind("”", 0, pos)


def _metric(seg: str, pos: int, c: _Compiled) -> str:
    """The measured thing: the clause before the number, without leading directive words and the verb."""
    left = seg[:pos].rstrip(" |")      # "| 粮食总产量 | 30万吨 |": the metric is the cell before
    m = _LAST_CLAUSE_CUT.match(left)       # the end of the last clause mark
    clause = left[m.end() if m else 0:]
    clause = _FILLER.sub("", clause)
    vm = None
    for vm in c.verbs.finditer(clause):
        pass
    if vm is not None and _VERB_TAIL.fullmatch(clause, vm.end()):
        verb = vm.group()
        clause = clause[:vm.start()] + (verb if verb in c.keep else "")
    if not clause.strip():
        # the counted object follows the number: "举办2次以上园区用工招聘会"
        right = seg[pos:]
        m = _OBJECT_AFTER.search(right)
        clause = m.group("obj") if m else ""
    return clause.strip(" 的")


def _drop_qualifiers(found: list[dict], norm: str, trace: list | None = None, on: bool = True) -> list[dict]:
    """A number that is followed, in the same clause, by another target qualifies it (§5)."""
    if not on:
        return found
    out = []
    for i, t in enumerate(found):
        later = [u for u in found[i + 1:] if not _CLAUSE_CUT.search(norm[t["end"]:u["start"]])
                 and not _CONJ.search(norm, t["end"], u["start"])]      # "学校3所和幼儿园5所": two targets
        if later and (t["qualifier"] or t["unit"] not in ("%",) and later[0]["unit"] != "名") \
                and not (t["unit"] == "名" or later[0]["start"] - t["end"] > 12) or t["qualifier"] and later:
            if trace is not None:
                trace.append((t["start"], t["end"], "target.filter.qualifier"))
            continue
        out.append(t)
    return out


_NO_GAPS = re.compile(r"[ \t\xa0]+")


def _unit_text(doc: SpeechDoc, f: dict) -> str:
    span = f.get("unit_span")
    if not span:
        return f["unit"]
    return _NO_GAPS.sub("", doc.text[span[0]:span[1]]).replace("％", "%")     # ("万 人" in PDF text)


def _metric_text(doc: SpeechDoc, f: dict) -> str:
    """The metric in the source's own script (it was read from the normalised copy)."""
    metric = f["metric"] or ""
    span = f.get("metric_span")
    if not span:
        return metric
    a, b = span
    if doc.norm[a:b] == metric:
        return doc.text[a:b]
    # read without PDF spaces: the same characters of the source without them
    return _NO_GAPS.sub("", doc.text[a:b]) if _NO_GAPS.sub("", doc.norm[a:b]) == metric else metric


def extract_targets(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES tasks; PROVIDES task.targets."""
    numbers = doc.finder_notes["numbers"] = {}      # (for ml_mentions: where a number stands)
    for sp in doc.speeches:
        for t in sp.tasks:
            # a review section is decided once, by the task stage (structure rule under_review_section):
            # a task it lets through there looks ahead, and its numbers are read like any other
            sec = sp.section_at(t.start) if sp.sections else None
            goals = sec is not None and sec.kind == "goals"
            spans = numbers[t.start, t.end] = []
            t.targets = [Target(f["start"], f["end"], doc.text[f["start"]:f["end"]], _metric_text(doc, f),
                                f["value"], _unit_text(doc, f), f["comparator"], f["placeholder"],
                                rules=f.get("rules", ()))
                         for f in find_targets(doc.norm, t.start, t.end, config.lexicon, goals=goals,
                                               numbers=spans)]
    return doc
