"""Task segments (ANNOTATION.md §2, §8): which segments direct or commit someone to act.

A segment's score is the sum of the weights of the cues (pipeline/data/task_cues.yaml)
it matches, adjusted by its place in the outline; it is a task when the score
reaches the threshold. Modality comes from pipeline/data/modality.yaml.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from speechledger.doc import Segment, Speech, SpeechDoc, Task
from speechledger.speeches import heading_of

try:        # the stdlib's regex parser reads the literals a cue needs
    from re import _constants as _C
    from re import _parser as _P
except ImportError:                 # Python 3.10
    import sre_constants as _C
    import sre_parse as _P

_HEADING_REVIEW = re.compile(r"肯定|成效|成绩|成就|回顾|总结(?!经验)|基本情况|总体情况|进展情况|主要做法|存在的问题|"
                             r"问题和不足|"
                             r"基本评价|去年|过去|以来|督查目的|督查时间|督查方式")
_GOALS = re.compile(r"目标任务|预期目标|主要目标|目标是|奋斗目标|发展目标|目标要求|工作目标|具体目标|主要指标")
_LIST_INTRO = re.compile(r"[：:]\s*(?=(?:[一二三四五六七八九十]+(?:是|要|、)|第[一二三四五六七八九十]+[，,、]|"
                         r"\d{1,2}[.、．]|"
                         r"[(（][一二三四五六七八九十\d]+[)）]))")
_LABEL = re.compile(r"^[\s(（]*(?:[一二三四五六七八九十\d]+[)）、.．]?)\s*[\u4e00-\u9fff“”\"\d]{0,16}"
                    r"(?:目标|要求|原则|思路|措施|任务|步骤|安排|意见|范围|对象|内容|依据|机制|组织领导|保障措施|"
                    r"职责分工|"
                    r"时间|重点|方式|方法|时限|背景|情况|"
                    r"指导思想|总体要求|基本原则|主要目标|预期目标|分解表|分工表|情况表|任务表|通知|方案|"
                    r"工作方法)[:：]?\s*$")
# "（一）指导思想。" "二、督查内容。": a section label closed by a full stop (a short one only:
# "一要加强组织领导。" is a directive)
_LABEL_STOP = re.compile(r"^[\s(（]*[一二三四五六七八九十\d]+[)）、.．]\s*[\u4e00-\u9fff]{0,2}"
                         r"(?:指导思想|总体要求|基本原则|目标任务|主要目标|工作要求|工作目标|内容|程序|方式|时间|"
                         r"范围|对象|"
                         r"原则|要求|目标)。\s*$")



# list markers, and a previous item's label "（X牵头，…负责）具体措施：" the segment starts with
_OPENER = re.compile(r"^\s*(?:[（(][^（()）]{4,160}(?:负责|牵头)[)）])?\s*(?:具体措施[:：])?\s*"
                     r"(?:——|—|--|-|·|[(（]?[一二三四五六七八九十\d]{1,2}[)）、.．]|[一二三四五六七八九十]+是|"
                     r"第[一二三四五六七八九十]+[，,、])?\s*")
# what a sentence of a plan says when it states rather than directs: 是/有利于/没有…就/a result
_STATEMENT = re.compile(r"(?<![要还])是[^，,。；;]{0,30}(?:的|之一|所在|基础|前提|关键|重点|任务|目标|要求|举措|"
                        r"保障)(?:[，,。；;]|$)|"
                        r"有利于|没有[^。；;]{0,30}就|得到[^，,。；;]{0,6}(?:改善|提高|提升|加强|遏制|解决|控制)|"
                        r"^[^，,。；;]{2,20}是[^，,。；;要]{2,30}[。；;]?\s*$|^我们有|包括[:：]|有待(?:提高|加强|"
                        r"改善)|未完全|"
                        r"^(?:党中央|中共中央|国务院|中央|省委|市委|县委|区委)[^，,。]{0,12}高度重视|"
                        r"^\d{4}年\d{1,2}月\d{1,2}日[，,][^。]{0,40}(?:在|召开|发表|主持)|"
                        r"(?:显著|明显|全面|基本|稳步|大幅)(?:提高|提升|改善|增强|形成|实现|建立|好转|"
                        r"缓解)(?:[，,。；;]|$)|"
                        r"[？?]\s*$|^[^，,。]{0,20}(?:认为|表示|说|看来)[，,:：]")
_INTRO_ONLY = re.compile(r"[:：]\s*$")


@dataclass(frozen=True)
class StructureRule:
    id: str
    when: tuple[str, ...]
    unless: frozenset[str]
    effect: str             # task | score | join
    score: float = 0.0


@dataclass(frozen=True)
class LabelLine:
    id: str
    pattern: re.Pattern
    item: bool


def structure_rules(lexicon) -> tuple[list[StructureRule], list[LabelLine]]:
    """The structural rows and label-line rows of task_cues.yaml, compiled once per lexicon."""
    def build(_lex=None):
        data = lexicon.data("task_cues.yaml")
        rules = []
        for r in data.get("structure_rules", []):
            eff = r["effect"]
            kind, score = (("score", float(eff["score"])) if isinstance(eff, dict) else (eff, 0.0))
            rules.append(StructureRule(r["id"], tuple(r.get("when", [])), frozenset(r.get("unless", [])),
                                       kind, score))
        rows = data.get("label_lines", [])
        labels = [LabelLine(r["id"], re.compile(r["pattern"]), bool(r.get("item"))) for r in rows]
        # one search decides most segments: none of the rows matches
        labels.append(LabelLine("_any", re.compile("|".join(f"(?:{r['pattern']})" for r in rows) or "(?!)"), False))
        return rules, labels
    return lexicon.cached("task_structure_rules", build)


def _label_literals(labels: list[LabelLine]):
    """search() for a literal that every label line holds (any search when none is known)."""
    lits = _required_literals(labels[-1].pattern) if labels else None
    if not lits:
        return re.compile(r"[\s\S]").search
    return re.compile("|".join(map(re.escape, sorted(lits, key=len, reverse=True)))).search


def label_of(text: str, labels: list[LabelLine]) -> LabelLine | None:
    if labels and labels[-1].id == "_any":
        if not labels[-1].pattern.search(text):
            return None
        labels = labels[:-1]
    for lb in labels:
        if lb.pattern.search(text):
            return lb
    return None


_PIPE = re.compile(r"^\s*\|+\s*$")


class _SpeechView:
    """What the task rules read of one speech, computed once: segment texts, label rows,
    section and parent heading at each segment start."""

    def __init__(self, doc: SpeechDoc, sp: Speech, labels, label_search):
        self.sp, self.labels = sp, labels
        segs = sp.segments
        self.first = segs[0].id if segs else 0
        self.texts = [doc.norm[g.start:g.end] for g in segs]
        self._label: list = [None] * len(segs)
        if segs:
            # a segment without any literal the label rows need is no label line
            search = label_search
            starts = [g.start for g in segs]
            ends = [g.end for g in segs]
            for i in _segments_with(search, doc.norm, starts, ends, segs[0].start, segs[-1].end):
                self._label[i] = _UNSET
        self._hstarts = [h.start for h in sp.headings]
        self.sections: list = []         # Speech.section_at at each segment start
        secs, i = sp.sections, 0
        for g in segs:
            while i < len(secs) and secs[i].start <= g.start:
                i += 1
            sec = secs[i - 1] if i else None
            self.sections.append(sec if sec is not None and g.start < sec.end else None)

    def label(self, k: int):
        lb = self._label[k]
        if lb is _UNSET:
            lb = self._label[k] = label_of(self.texts[k], self.labels)
        return lb

    def kind(self, k: int) -> str | None:
        sec = self.sections[k]
        return sec.kind if sec is not None else None

    def parent(self, pos: int) -> int | None:
        """speeches.heading_of over the view's heading starts."""
        i = bisect_right(self._hstarts, pos) - 1
        if i < 0:
            return None
        return self.sp.headings[i].parent if self._hstarts[i] == pos else i


_UNSET = object()


def item_before_labels(view: _SpeechView, k: int) -> bool:
    """Label lines follow segment k (one that marks an item, or two table cells)."""
    i = k + 1
    cells = 0
    while i < len(view.texts) and i - k <= 8:
        t = view.texts[i]
        if _PIPE.match(t):
            i += 1
            continue
        lb = view.label(i)
        if lb is None:
            return False
        if lb.item:
            return True
        cells += 1
        if cells >= 2:
            return True
        i += 1
    return False


def opens_with_verb(text: str, hits: set[str], config) -> bool:
    """The segment, past its list marker, opens with an action (a verb, or 对/把/在… before one)."""
    if "verb_start" in hits:
        return True
    body = _OPENER.sub("", text, count=1)
    words = config.tokenizer.tag(body[:12])
    if not words:
        return False
    word, pos = words[0]
    # a verb, or a preposition/adverb before one: 对…实行, 在…实行, 适时增加, 着重发展
    return pos.startswith(("v", "p", "d")) or word in ("把", "对", "将", "以", "按照", "通过", "结合", "依托",
                                                     "围绕", "针对", "依法", "坚持", "逐步", "积极", "进一步", "着力")


def modality_of(text: str, lexicon) -> str:
    """must > strive > should, from the normalised segment alone."""
    m = lexicon.modality
    probe = m["must_exceptions"].sub("", text)
    if m["must"].search(probe):
        return "must"
    probe = m["strive_exceptions"].sub("", text)
    if m["strive"].search(probe):
        return "strive"
    return "should"


def make_task(doc: SpeechDoc, speech: Speech, seg: Segment, extractor: str = "rules",
              confidence: float = 1.0, lexicon=None, rules=(), view: _SpeechView | None = None) -> Task:
    """A Task over one segment, with modality read from the segment and its parent heading."""
    lex = lexicon
    if lex is None:
        from speechledger.lexicon import Lexicon
        lex = Lexicon.load()
    text = doc.norm[seg.start:seg.end]
    return Task(start=seg.start, end=seg.end, text=seg.text, modality=modality_of(text, lex),
                specific=False, segment=seg.id,
                heading=view.parent(seg.start) if view is not None else heading_of(speech, seg.start),
                extractor=extractor, confidence=confidence, rules=list(rules))


_CLAUSE = re.compile(r"[^，,；;：:]+[，,；;：:]?")
_SPACE_IN_CJK = re.compile(r"(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff])")


def _required_literals(pattern: re.Pattern) -> list[str] | None:
    """Strings one of which every match of pattern contains (read from the parsed regex), or
    None when no such set is known: a segment without any of them cannot match."""
    if pattern.flags & re.IGNORECASE:
        return None
    def seq(items):
        opts, run = [], ""
        for op, av in items:
            if op is _C.LITERAL:
                run += chr(av)
                continue
            if run:
                opts.append({run})
                run = ""
            got = item(op, av)
            if got:
                opts.append(got)
        if run:
            opts.append({run})
        # the most selective: the longest shortest string, then the fewest strings
        return max(opts, key=lambda o: (min(map(len, o)), -len(o))) if opts else None

    def item(op, av):
        if op is _C.LITERAL:
            return {chr(av)}
        if op is _C.IN:
            return {chr(x) for _, x in av} if all(o is _C.LITERAL for o, _ in av) else None
        if op is _C.SUBPATTERN:
            return seq(av[3]) if not av[1] and not av[2] else None
        if op is _C.BRANCH:
            out: set[str] = set()
            for b in av[1]:
                got = seq(b)
                if not got:
                    return None
                out |= got
            return out
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            return seq(av[2]) if av[0] >= 1 else None
        return None                 # anchors, lookarounds, classes: nothing required

    try:
        lits = seq(_P.parse(pattern.pattern))
    except Exception:               # pragma: no cover - a construct the parser reads otherwise
        return None
    if not lits:
        return None
    # "将" already finds every segment "我们将" would
    return sorted(x for x in lits if not any(y != x and y in x for y in lits))


def _cue_plan(lexicon):
    """Per lexicon: the required literals of the cues that have a small set of them, in a
    few regexes of about 32 literals each (sorted, so each regex starts with few different
    characters and scans fast), the cue bits each literal stands for (its own cues and those
    of the literals that are its prefixes: they start at the same place), and the bits of
    the cues searched in every segment (`always`: no literal set, or too large a one)."""
    def build(_lex=None):
        _, cues = lexicon.task_cues
        always = 0
        bits: dict[str, int] = {}
        for n, c in enumerate(cues):
            lits = _required_literals(c.pattern)
            if lits and len(lits) <= 64:
                for x in lits:
                    bits[x] = bits.get(x, 0) | 1 << n
            else:
                always |= 1 << n
        found = {x: 0 for x in bits}
        for x in found:
            for y, b in bits.items():
                if x.startswith(y):
                    found[x] |= b
        lits = sorted(bits)
        scans = [re.compile("|".join(map(re.escape, sorted(lits[i:i + 32], key=len, reverse=True)))).search
                 for i in range(0, len(lits), 32)]
        return always, scans, found, {}
    return lexicon.cached("task_cue_plan", build)


def _segments_with(search, src: str, starts: list[int], ends: list[int], lo: int, hi: int):
    """Indices of the segments (sorted starts/ends in src) where search finds a literal."""
    pos = lo
    while True:
        m = search(src, pos, hi)
        if m is None:
            return
        s, e = m.span()
        i = max(bisect_right(starts, s) - 1, 0)
        yield i
        # the segment holds one: go on from its end; one across a segment end (or in
        # between) proves nothing, and another may start inside it
        pos = ends[i] if e <= ends[i] else s + 1


def _cue_candidates(norm: str, sp: Speech, view: _SpeechView, cues, plan) -> tuple[list[str], list[list]]:
    """The text each segment is scored on (PDF spaces inside words removed: "政治 任务") and
    the cues it may hold: those one of whose required literals it contains, found by a few
    scans over the speech that stop wherever a literal starts (the per-segment search decides)."""
    segs = sp.segments
    texts = view.texts
    if not segs:
        return texts, []
    always, scans, found, decoded = plan
    if _SPACE_IN_CJK.search(norm, sp.start, sp.end):
        texts = [_SPACE_IN_CJK.sub("", t) for t in texts]
        src = "\n".join(texts)             # scanned as the segments will be scored
        starts, ends, pos = [], [], 0
        for t in texts:
            starts.append(pos)
            ends.append(pos + len(t))
            pos += len(t) + 1
        lo, hi = 0, len(src)
    else:
        src = norm
        starts = [s.start for s in segs]
        ends = [s.end for s in segs]
        lo, hi = segs[0].start, segs[-1].end
    mask = [always] * len(segs)
    for search in scans:
        pos = lo
        while True:
            m = search(src, pos, hi)
            if m is None:
                break
            s = m.start()
            # a literal across a segment end marks the segment it starts in: more candidates, never fewer
            mask[max(bisect_right(starts, s) - 1, 0)] |= found[m.group()]
            pos = s + 1         # literals overlap: the next may start inside this one
    out = []
    for x in mask:
        sel = decoded.get(x)
        if sel is None:
            sel = decoded[x] = [c for n, c in enumerate(cues) if x >> n & 1]
        out.append(sel)
    return texts, out


def _score(text: str, cues, spaced: bool = True) -> tuple[float, set[str]]:
    """Segment cues once, clause cues in the best clause (+ half the negatives elsewhere)."""
    if spaced:
        text = _SPACE_IN_CJK.sub("", text)       # PDF extraction spaces: "政治 任务"
    total, hits = 0.0, set()
    clause_cues = []
    for c in cues:
        if c.pattern.search(text):
            if c.clause:
                clause_cues.append(c)     # only cues present in the segment can be in a clause
            else:
                total += c.weight
                hits.add(c.id)
    if not clause_cues:
        return total, hits
    clauses = _CLAUSE.findall(text)
    if len(clauses) <= 1:
        # one clause: the segment's own hits
        hits.update(c.id for c in clause_cues)
        return total + sum(c.weight for c in clause_cues), hits
    if len(clause_cues) == 1 and clause_cues[0].weight:
        # one clause cue: only whether some clause has it (and, for a negative one, whether
        # some clause lacks it) decides: the sums below, without a search per clause
        c = clause_cues[0]
        has = lacks = False
        for cl in clauses:
            if c.pattern.search(cl):
                has = True
            else:
                lacks = True
            if has and (c.weight > 0 or lacks):
                break
        if has:
            hits.add(c.id)
        if c.weight > 0:
            return total + (c.weight if has else 0.0) + 0.5 * 0, hits
        if has and lacks:
            return total + 0.0 + 0.5 * c.weight, hits
        return total + (c.weight if has else 0.0) + 0.5 * 0, hits
    best, best_hits = None, set()
    per_clause = []
    for cl in clauses:
        found = {c.id: c.weight for c in clause_cues if c.pattern.search(cl)}
        per_clause.append(found)
        sc = sum(found.values())
        if best is None or sc > best:
            best, best_hits = sc, set(found)
    negatives: dict[str, float] = {}
    for found in per_clause:
        for cid, w in found.items():
            if w < 0 and cid not in best_hits:
                negatives[cid] = w
    hits |= best_hits | set(negatives)
    return total + (best or 0.0) + 0.5 * sum(negatives.values()), hits


def extract_tasks(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES speeches (segments, headings); PROVIDES speech.tasks (modality set, specific pending)."""
    lex = config.lexicon
    threshold, cues = lex.task_cues
    weights = {c.id: c.weight for c in cues}
    evidence = doc.task_evidence
    srules, labels = structure_rules(lex)
    plan = _cue_plan(lex)
    label_search = lex.cached("task_label_literals", lambda _lex: _label_literals(labels))
    item_rule = next((r for r in srules if r.id == "breakdown_item"), None)
    # the rows a segment can fire (join rows act in _label_tasks); a row whose first condition
    # needs a section is skipped outside one
    seg_rules = [(r, bool(r.when) and r.when[0] in _KIND_CONDITIONS) for r in srules if r.effect != "join"]
    for sp in doc.speeches:
        heading_at = {h.start: h for h in sp.headings}
        heading_idx = {h.start: i for i, h in enumerate(sp.headings)}
        review_parent: set[int] = set()
        title_end = sp.segments[0].end if sp.segments and sp.title and \
            doc.norm[sp.segments[0].start:sp.segments[0].end].strip().endswith(sp.title[-4:]) else -1
        if sp.body_start is None:
            title_end = max(title_end, _title_block_end(doc.norm, sp))
        tasks: list[Task] = []
        goals = False
        purpose_list = False
        last_item: dict[int | None, tuple[int, bool]] = {}   # parent heading -> (last 一是 item, task?)
        view = _SpeechView(doc, sp, labels, label_search)
        score_texts, cand = _cue_candidates(doc.norm, sp, view, cues, plan)
        # a plan as a whole: by its title (doc_*), or opened by "为…制定/重点抓好以下几项工作："
        plan_doc = any(r.startswith("doc_") or r == "mark_plan_intro" for sec in sp.sections for r in sec.rules)
        first = view.first
        for seg in sp.segments:
            k = seg.id - first
            text = view.texts[k]
            if seg.end <= title_end or _is_title_like(text, sp.title) or \
                    (sp.body_start is not None and seg.start < sp.body_start and seg.end > sp.body_start
                     and seg.start == sp.start):
                continue
            score, hits = _score(score_texts[k], cand[k], False)
            h_here = heading_at.get(seg.start)
            if h_here is None or h_here.level != 4:
                purpose_list = "meeting" in hits and bool(re.search(r"(?:目的|任务是|主要是)[^。]*[一1]是", text))
            evidence[seg.start] = {h: weights[h] for h in hits}     # read by the learned layer
            intro = _LIST_INTRO.search(text)
            if intro:
                # "下面，我讲三点意见：一是认清形势": the item after the colon decides
                score, hits = max((score, hits), _score(text[intro.end():], cues), key=lambda x: x[0])
                if re.match(r"[一二三四五六七八九十]+(?:是|要)", text[intro.end():]) and \
                        "verb_start" in _score(re.sub(r"^[一二三四五六七八九十]+是", "", text[intro.end():]), cues)[1]:
                    score = max(score, threshold)
            goals_word = _GOALS.search(text) is not None
            if seg.start in heading_at and heading_at[seg.start].level <= 2:
                goals = goals_word
            if goals_word and (re.search(r"[：:]$|是[：:]?$", text.rstrip())
                                        or re.search(r"(?:明确|确定)了[^。；;]{0,24}目标", text)):
                goals = True
            if goals and hits & {"target_growth", "target_goal", "verb_start", "unit_commit"}:
                score += 1.5
            elif goals and re.search(r"[；;]$", text) and not hits & {"past", "achievement", "past_statistics"}:
                score += 2.0        # an item of a goals list: "城乡居民收入增长与经济增长同步；"
            if not hits & {"yao", "must", "strive", "target_goal"} and _stat_dense(text):
                score -= 2.0
            h = heading_at.get(seg.start)
            parent = view.parent(seg.start)
            if h is not None:
                hi = heading_idx[h.start]
                body = text[len(h.marker):]
                directive = bool(hits & {"yao", "must", "strive", "call_on_audience"})
                if (_HEADING_REVIEW.search(body) and not re.search(r"认清|增强|进一步", body)
                        and "call_on_audience" not in hits) \
                        or (view.kind(k) == "review" and not directive) \
                        or "meeting" in hits \
                        or (h.parent is not None and _under_review(sp, h.parent, review_parent) and not directive
                            and view.kind(k) not in _PLAN_KINDS):   # "（二）工作要求" names its own kind
                    review_parent.add(hi)
                    continue
                if item_rule is not None and not hits & item_rule.unless \
                        and item_before_labels(view, k):
                    tasks.append(make_task(doc, sp, seg, "rules", 0.8, lexicon=lex, view=view,
                                           rules=_ids(hits, weights, [item_rule.id])))
                    continue        # "1.完善城市更新机制" over 牵头单位：…: an item, not a label
                if _LABEL.match(text) or _LABEL_STOP.match(text):
                    continue
                in_goals = goals or view.kind(k) == "goals"
                if in_goals and not directive and (hits & {"target_growth", "target_goal"} or score >= 0):
                    # "6.居民收入增长与经济增长同步"
                    tasks.append(make_task(doc, sp, seg, "rules", 0.7, lexicon=lex, view=view,
                                           rules=_ids(hits, weights, ["goals_item"])))
                    continue
                # "收入结构得到优化，但突击入库现象突出": findings, not a call to act
                negative_only = not (hits - {"achievement", "problem", "past", "analysis", "past_statistics"}) \
                    or ("problem" in hits and bool(re.search(r"但[^，,]*$", body)))
                label = len(re.sub(r"\s", "", body)) <= 12 and not re.search(r"[，,、]", body)
                if not directive and "verb_start" not in hits and not hits & _FINDINGS \
                        and _opens_with_verb(body, config):
                    hits.add("verb_start")  # 坚守…/看住人: the outline item opens with a verb
                # 一、文旅项目建设 / 2、收入结构得到优化，但…突出: a label or an analysis
                if not directive and "verb_start" not in hits and \
                        (score <= 0 and label or negative_only and score <= 0.5):
                    continue
                if not directive and hits & {"importance", "title_line", "report_procedure"} \
                        and ("verb_start" not in hits or not re.search(r"[，,]", body)):
                    continue                # （一）做好卫生健康工作是重大政治任务: a statement
                if h.level == 4 and purpose_list:
                    continue                # 主要目的有两方面，一是…二是…: the meeting's purpose, not tasks
                # 一是/二是 items: a task when they open with an action, a review when with a noun,
                # and like their previous sibling when neither (lists are homogeneous)
                if h.level == 4 and not directive and "verb_start" not in hits and score < threshold:
                    prev = last_item.get(h.parent)
                    if not (prev is not None and prev[1]):
                        review_parent.add(hi)
                        last_item[h.parent] = (hi, False)
                        continue
                if h.level == 4:
                    last_item[h.parent] = (hi, True)
                tasks.append(make_task(doc, sp, seg, "rules", min(1.0, 0.6 + 0.1 * max(score, 0)), lexicon=lex,
                                       view=view, rules=_ids(hits, weights, ["outline_item"])))
                continue
            fired: list[str] = []
            if parent is not None and _under_review(sp, parent, review_parent) \
                    and view.kind(k) not in _PLAN_KINDS:
                score -= 1.0
                fired.append("under_review_heading")
            forced = False
            ctx = _Context(view, k, text, hits, config, plan_doc)
            for rule, needs_kind in seg_rules:
                if hits & rule.unless or (needs_kind and ctx.kind is None) or \
                        not all(ctx.holds(c) for c in rule.when):
                    continue
                fired.append(rule.id)
                if rule.effect == "score":
                    score += rule.score
                elif rule.effect == "task":
                    forced = True
            if forced or score >= threshold - 1e-9:
                tasks.append(make_task(doc, sp, seg, "rules", min(1.0, 0.5 + 0.1 * max(score, 0)), lexicon=lex,
                                       view=view, rules=_ids(hits, weights, fired)))
        sp.tasks = _label_tasks(doc, sp, tasks, view, srules, lex)
    return doc


def _ids(hits: set[str], weights: dict[str, float], fired: list[str]) -> list[str]:
    """The rule ids behind a task: its positive cues, then the structural rows that fired."""
    return sorted(h for h in hits if weights.get(h, 0) > 0) + fired


_PLAN_KINDS = ("plan", "goals", "breakdown")
# conditions that need a section
_KIND_CONDITIONS = frozenset({"in_review", "in_plan", "in_goals", "in_plan_document", "in_work_procedure"})
_SENTENCE_END = re.compile(r"[。；;！!]\s*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


class _Context:
    """The named structural conditions of task_cues.yaml `structure_rules`, for one segment."""

    def __init__(self, view: _SpeechView, k: int, text, hits, config, plan_doc=False):
        self.view, self.k, self.text, self.hits = view, k, text, hits
        self.config, self.plan_doc = config, plan_doc
        self.kind = view.kind(k)
        self._memo: dict[str, bool] = {}

    def holds(self, name: str) -> bool:
        # several rows share a condition (in_plan, opens_with_verb: a POS tag): decide it once
        v = self._memo.get(name)
        if v is None:
            v = self._memo[name] = bool(getattr(self, name)())
        return v

    def in_review(self):
        return self.kind == "review"

    def in_plan(self):
        return self.kind in ("plan", "breakdown")

    def in_goals(self):
        return self.kind == "goals"

    def opens_with_verb(self):
        return opens_with_verb(self.text, self.hits, self.config)

    def in_work_procedure(self):
        """A procedure section named by a plan's step heading (督查方式, 督查程序), not an agenda."""
        sec = self.view.sections[self.k]
        return self.kind == "procedure" and sec is not None and "head_work_procedure" in sec.rules

    def in_plan_document(self):
        """A plan or breakdown section of a document that is a plan as a whole (意见, 方案…)."""
        return self.in_plan() and self.plan_doc

    def sentence_end(self):
        return bool(_SENTENCE_END.search(self.text)) and len(_CJK.findall(self.text, 0, 40)) >= 4

    def not_statement(self):
        return not _STATEMENT.search(self.text)

    def dash_item(self):
        return self.text.lstrip().startswith(("——", "—", "--"))    # the normalised copy has "--"

    def not_intro_only(self):
        return not _INTRO_ONLY.search(self.text) and self.view.label(self.k) is None

    def not_heading_label(self):
        return not _LABEL.match(self.text)

    def label_line(self):
        return self.view.label(self.k) is not None

    def before_label_line(self):
        """Label lines follow: one naming units or a due date (牵头单位：…, （X牵头）), or two
        table cells (a flattened row "item。 | 徐国江 | 城管局 |"; one cell may be progress)."""
        return not self.label_line() and not _PIPE.match(self.text) \
            and item_before_labels(self.view, self.k)

    def after_task(self):       # decided in _join_labels, over the tasks already made
        return False


def _label_tasks(doc, sp, tasks, view: _SpeechView, srules, lex) -> list[Task]:
    """Every label line after a task item (牵头单位：…, （X牵头…负责）, table cells) is a task of
    its own here, so the unit, deadline and target stages read it as before; join_labels
    then folds it into its item."""
    join = next((r for r in srules if r.effect == "join"), None)
    if join is None or not sp.segments:
        return tasks
    by_seg = {t.segment: t for t in tasks}
    owner: Task | None = None
    for k, seg in enumerate(sp.segments):
        if owner is not None and _PIPE.match(view.texts[k]):
            continue
        lb = view.label(k)
        if lb is None:
            owner = by_seg.get(seg.id)
            continue
        if owner is None:
            continue
        own = by_seg.get(seg.id)
        if own is None:
            own = make_task(doc, sp, seg, "rules", 0.7, lexicon=lex, rules=[join.id], view=view)
            by_seg[seg.id] = own
            tasks.append(own)
        elif join.id not in own.rules:
            own.rules.append(join.id)
    tasks.sort(key=lambda t: t.start)
    return tasks


def join_labels(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES tasks with units, deadlines, targets; PROVIDES one task per breakdown item.

    A label-line task (rule breakdown_label) that follows its item with only label lines or
    empty cells between joins the item: the item's span reaches over it and takes its units,
    deadlines and targets, so `tasks --unit 工信局` finds the item, not "牵头单位：区工信局"."""
    lex = config.lexicon
    srules, labels = structure_rules(lex)
    join = next((r for r in srules if r.effect == "join"), None)
    if join is None:
        return doc
    for sp in doc.speeches:
        out: list[Task] = []
        for t in sorted(sp.tasks, key=lambda t: t.start):
            owner = out[-1] if out else None
            if owner is not None and join.id in t.rules and label_of(doc.norm[t.start:t.end], labels) \
                    and _only_labels_between(doc, sp, owner.end, t.start, labels):
                owner.end = max(owner.end, t.end)
                owner.text = doc.text[owner.start:owner.end]
                owner.units += t.units
                owner.deadlines += t.deadlines
                owner.targets += t.targets
                if join.id not in owner.rules:
                    owner.rules.append(join.id)
                continue
            out.append(t)
        sp.tasks = out
    return doc


def _only_labels_between(doc, sp, start: int, end: int, labels) -> bool:
    i = bisect_right(sp.segments, start - 1, key=lambda g: g.start)
    while i < len(sp.segments) and sp.segments[i].start < end:
        g = sp.segments[i]
        text = doc.norm[g.start:g.end]
        if g.start >= start and not (_PIPE.match(text) or label_of(text, labels)):
            return False
        i += 1
    return True


_STAT = re.compile(r"\d+(?:\.\d+)?\s*(?:%|亿|万|个|家|项|人|户|元)")


def _stat_dense(text: str) -> bool:
    """Three or more figures without a commitment word: a statistics report."""
    return len(_STAT.findall(text)) >= 3


_FINDINGS = {"problem", "achievement", "past", "analysis", "past_statistics", "importance"}


def _opens_with_verb(body: str, config) -> bool:
    """Whether a heading's text starts with a verb (or 把), by the pipeline's POS tagger."""
    words = config.tokenizer.tag(body.strip()[:12])
    if not words:
        return False
    word, pos = words[0]
    return pos.startswith("v") or word == "把"


def _under_review(sp: Speech, idx: int | None, review: set[int]) -> bool:
    while idx is not None:
        if idx in review:
            return True
        idx = sp.headings[idx].parent
    return False


_TITLE_LINE_STOP = re.compile(r"[。；;！!？?]|[:：]\s*$|^\s*(?:[一二三四五六七八九十\d]{1,2}[、.．]|"
                              r"[(（][一二三四五六七八九十\d]{1,2}[)）])")


def _title_block_end(norm: str, sp: Speech) -> int:
    """End of the title lines that open a speech without a salutation ("省人民政府关于" /
    "进一步优化营商环境的若干意见"): up to three short lines without a sentence end."""
    end, pos, n = -1, sp.start, 0
    while pos < sp.end and n < 3:
        nl = norm.find("\n", pos, sp.end)
        stop = sp.end if nl < 0 else nl
        line = norm[pos:stop].strip()
        if line:
            if len(line) > 60 or _TITLE_LINE_STOP.search(line) or "|" in line:
                break
            end, n = stop, n + 1
        pos = stop + 1
    return end


_WS = re.compile(r"\s")
_STOP_MARK = re.compile(r"[。；;！!]")


def _is_title_like(text: str, title: str) -> bool:
    if not title or _STOP_MARK.search(text):
        return False
    t = _WS.sub("", text)
    return len(t) <= len(title) + 12 and title[-8:] in t and not _STOP_MARK.search(t)


_CONCRETE = re.compile(
    r"编制|制定|出台|建立|建成|设立|成立|组建|举办|召开|开展[^，,。]{0,8}(?:活动|行动|检查|排查|督查|培训|评估|调研)|"
    r"完成|实现|新增|引进|开工|竣工|投产|申报|创建|争创|验收|印发|报送|上报|起草|清理|整治|整改|搬迁|关停|改造|"
    r"招聘|培训|落地|签约|兑现|补贴|奖励|挂牌|启动|调整|评选|考核|通报|督查|检查|排查|安装|配备|修订|发布")
_VAGUE = re.compile(r"^[^，,。；;]{0,6}(?:要)?(?:认真|切实|进一步|高度)?(?:领会|学习|增强|提高|统一|重视|认识|把握|"
                    r"树立|强化)"
                    r"[^。；;]{0,12}(?:意识|思想|认识|站位|信心|决心|责任感|紧迫感|重要性)")


def decide_specific(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES tasks with units, deadlines, targets; PROVIDES task.specific.

    A supervisor can check a task that has a deadline, a target, a responsibility
    line or a named doer with a concrete action; section headings and exhortations
    (认真领会, 增强意识) are not checkable on their own.
    """
    for sp in doc.speeches:
        heading_starts = {h.start for h in sp.headings}
        for t in sp.tasks:
            text = doc.norm[t.start:t.end]
            p = t.p_specific              # the learned layer's P(specific), when it ran
            if t.deadlines or t.targets or _RESPONSIBILITY.match(text):
                t.specific = True
            elif p is not None:
                t.specific = p >= 0.5
            elif _VAGUE.search(text) and not _CONCRETE.search(text):
                t.specific = False
            elif t.start in heading_starts:
                t.specific = bool(t.units) and bool(_CONCRETE.search(text))
            elif any(not _COLLECTIVE.match(u.text) for u in t.units):
                t.specific = True       # a named body to hold to account (各级各部门 is not)
            else:
                t.specific = bool(_CONCRETE.search(text))
    return doc


_COLLECTIVE = re.compile(r"^(?:全[市县区省])?(?:各|有关|相关|市县|县乡|政府各)")
_RESPONSIBILITY = re.compile(r"^\s*(?:牵头单位|责任单位|配合单位|协办单位|责任科室|牵头科室|责任部门|牵头部门|"
                             r"配合部门|完成时限)\s*[:：]")
