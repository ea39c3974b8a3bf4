"""Task segments (ANNOTATION.md §2, §8): which segments direct or commit someone to act.

A segment's score is the sum of the weights of the cues (pipeline/data/task_cues.yaml)
it matches, adjusted by its place in the outline; it is a task when the score
reaches the threshold. Modality comes from pipeline/data/modality.yaml.
"""
from __future__ import annotations

import re
from bisect import bisect_right

from speechledger.doc import Segment, Speech, SpeechDoc, Task
from speechledger.speeches import heading_of

_HEADING_REVIEW = re.compile(r"肯定|成效|成绩|成就|回顾|总结(?!经验)|基本情况|总体情况|进展情况|主要做法|存在的问题|问题和不足|"
                             r"基本评价|去年|过去|以来|督查目的|督查时间|督查方式")
_GOALS = re.compile(r"目标任务|预期目标|主要目标|目标是|奋斗目标|发展目标|目标要求|工作目标|具体目标|主要指标")
_LIST_INTRO = re.compile(r"[：:]\s*(?=(?:[一二三四五六七八九十]+(?:是|要|、)|第[一二三四五六七八九十]+[，,、]|\d{1,2}[.、．]|[(（][一二三四五六七八九十\d]+[)）]))")
_LABEL = re.compile(r"^[\s(（]*(?:[一二三四五六七八九十\d]+[)）、.．]?)\s*[\u4e00-\u9fff“”\"\d]{0,16}"
                    r"(?:目标|要求|原则|思路|措施|任务|步骤|安排|意见|范围|对象|内容|依据|机制|组织领导|保障措施|职责分工|"
                    r"时间|重点|方式|方法|时限|背景|情况|"
                    r"指导思想|总体要求|基本原则|主要目标|预期目标|分解表|分工表|情况表|任务表|通知|方案|工作方法)[:：]?\s*$")



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
              confidence: float = 1.0, lexicon=None) -> Task:
    """A Task over one segment, with modality read from the segment and its parent heading."""
    from speechledger.lexicon import Lexicon
    lex = lexicon or Lexicon.load()
    text = doc.norm[seg.start:seg.end]
    return Task(start=seg.start, end=seg.end, text=seg.text, modality=modality_of(text, lex),
                specific=False, segment=seg.id, heading=heading_of(speech, seg.start),
                extractor=extractor, confidence=confidence)


_CLAUSE = re.compile(r"[^，,；;：:]+[，,；;：:]?")
_SPACE_IN_CJK = re.compile(r"(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff])")


def _cue_candidates(norm: str, sp: Speech, cues) -> list[set[str]] | None:
    """The cues each segment may hold: one finditer per cue over the speech instead of a
    search per cue and segment (the per-segment search still decides). None when the
    speech has PDF spaces inside words, which only the per-segment scoring removes."""
    segs = sp.segments
    if not segs or _SPACE_IN_CJK.search(norm, sp.start, sp.end):
        return None
    starts = [s.start for s in segs]
    cand: list[set[str]] = [set() for _ in segs]
    lo, hi = segs[0].start, segs[-1].end
    for c in cues:
        if c.pattern.pattern.startswith("^"):
            for x in cand:
                x.add(c.id)
            continue
        for m in c.pattern.finditer(norm, lo, hi):
            i = bisect_right(starts, m.start()) - 1
            j = bisect_right(starts, max(m.start(), m.end() - 1)) - 1
            for k in range(max(i, 0), j + 1):
                cand[k].add(c.id)
    return cand


def _score(text: str, cues) -> tuple[float, set[str]]:
    """Segment cues once, clause cues in the best clause (+ half the negatives elsewhere)."""
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
    clauses = _CLAUSE.findall(text) if clause_cues else []
    if len(clauses) <= 1:
        clauses = [text]
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
    for sp in doc.speeches:
        heading_at = {h.start: h for h in sp.headings}
        review_parent: set[int] = set()
        title_end = sp.segments[0].end if sp.segments and sp.title and \
            doc.norm[sp.segments[0].start:sp.segments[0].end].strip().endswith(sp.title[-4:]) else -1
        tasks: list[Task] = []
        goals = False
        purpose_list = False
        last_item: dict[int | None, tuple[int, bool]] = {}   # parent heading -> (last 一是 item, task?)
        cand = _cue_candidates(doc.norm, sp, cues)
        first = sp.segments[0].id if sp.segments else 0
        for seg in sp.segments:
            text = doc.norm[seg.start:seg.end]
            if seg.end <= title_end or _is_title_like(text, sp.title) or \
                    (sp.body_start is not None and seg.start < sp.body_start and seg.end > sp.body_start
                     and seg.start == sp.start):
                continue
            seg_cues = cues if cand is None else [c for c in cues if c.id in cand[seg.id - first]]
            score, hits = _score(text, seg_cues)
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
            if seg.start in heading_at and heading_at[seg.start].level <= 2:
                goals = bool(_GOALS.search(text))
            if _GOALS.search(text) and (re.search(r"[：:]$|是[：:]?$", text.rstrip())
                                        or re.search(r"(?:明确|确定)了[^。；;]{0,24}目标", text)):
                goals = True
            if goals and hits & {"target_growth", "target_goal", "verb_start", "unit_commit"}:
                score += 1.5
            elif goals and re.search(r"[；;]$", text) and not hits & {"past", "achievement", "past_statistics"}:
                score += 2.0        # an item of a goals list: "城乡居民收入增长与经济增长同步；"
            if _stat_dense(text) and not hits & {"yao", "must", "strive", "target_goal"}:
                score -= 2.0
            h = heading_at.get(seg.start)
            parent = heading_of(sp, seg.start)
            if h is not None:
                hi = sp.headings.index(h)
                body = text[len(h.marker):]
                directive = bool(hits & {"yao", "must", "strive", "call_on_audience"})
                if (_HEADING_REVIEW.search(body) and not re.search(r"认清|增强|进一步", body)
                        and "call_on_audience" not in hits) \
                        or "meeting" in hits \
                        or (h.parent is not None and _under_review(sp, h.parent, review_parent) and not directive):
                    review_parent.add(hi)
                    continue
                if _LABEL.match(text):
                    continue
                if goals and not directive and (hits & {"target_growth", "target_goal"} or score >= 0):
                    tasks.append(make_task(doc, sp, seg, "rules", 0.7, lexicon=lex))   # "6.居民收入增长与经济增长同步"
                    continue
                # "收入结构得到优化，但突击入库现象突出": findings, not a call to act
                negative_only = not (hits - {"achievement", "problem", "past", "analysis", "past_statistics"}) \
                    or ("problem" in hits and bool(re.search(r"但[^，,]*$", body)))
                label = len(re.sub(r"\s", "", body)) <= 12 and not re.search(r"[，,、]", body)
                if not directive and "verb_start" not in hits and not hits & _FINDINGS \
                        and _opens_with_verb(body, config):
                    hits.add("verb_start")  # 坚守…/看住人: the outline item opens with a verb
                if not directive and "verb_start" not in hits and (score <= 0 and label or negative_only and score <= 0.5):
                    continue                # 一、文旅项目建设 / 2、收入结构得到优化，但…突出: a label or an analysis
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
                tasks.append(make_task(doc, sp, seg, "rules", min(1.0, 0.6 + 0.1 * max(score, 0)), lexicon=lex))
                continue
            if parent is not None and _under_review(sp, parent, review_parent):
                score -= 1.0
            if score >= threshold - 1e-9:
                tasks.append(make_task(doc, sp, seg, "rules", min(1.0, 0.5 + 0.1 * score), lexicon=lex))
        sp.tasks = tasks
    return doc


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


def _is_title_like(text: str, title: str) -> bool:
    t = re.sub(r"\s", "", text)
    return bool(title) and len(t) <= len(title) + 12 and title[-8:] in t and not re.search(r"[。；;！!]", t)


_CONCRETE = re.compile(
    r"编制|制定|出台|建立|建成|设立|成立|组建|举办|召开|开展[^，,。]{0,8}(?:活动|行动|检查|排查|督查|培训|评估|调研)|"
    r"完成|实现|新增|引进|开工|竣工|投产|申报|创建|争创|验收|印发|报送|上报|起草|清理|整治|整改|搬迁|关停|改造|"
    r"招聘|培训|落地|签约|兑现|补贴|奖励|挂牌|启动|调整|评选|考核|通报|督查|检查|排查|安装|配备|修订|发布")
_VAGUE = re.compile(r"^[^，,。；;]{0,6}(?:要)?(?:认真|切实|进一步|高度)?(?:领会|学习|增强|提高|统一|重视|认识|把握|树立|强化)"
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
_RESPONSIBILITY = re.compile(r"^\s*(?:牵头单位|责任单位|配合单位|协办单位|责任科室|牵头科室|责任部门|牵头部门|配合部门|完成时限)\s*[:：]")
