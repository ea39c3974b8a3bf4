"""Task segments (ANNOTATION.md §2, §8): which segments direct or commit someone to act.

A segment's score is the sum of the weights of the cues (pipeline/data/task_cues.yaml)
it matches, adjusted by the score rows (its place: a goals list, a statistics report,
under a review heading); an outline heading is then decided by the heading rows, any
other segment by the structure rows and the threshold. Every row is data (an id, named
conditions, an effect, examples); the engine here applies them without rule-specific
branches and records the ids in Task.rules. Modality comes from pipeline/data/modality.yaml.

Speed: a cue is searched only in the segments holding one of its required literals
(read from its parsed regex), found by one scan over the whole speech.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace

from speechledger.doc import Segment, Speech, SpeechDoc, Task
from speechledger.lexicon import spaced_label
from speechledger.regex_gate import (
    AnyBranch,
    literal_bits,
    literal_gate,
    literal_trie,
    required_literals,
    searcher,
    top_branches,
)
from speechledger.segment import WORD_GAP, WRAP_ENDS, lines_run_into
from speechledger.speeches import heading_of


def _any_pattern(lexicon, name: str) -> AnyBranch:
    """A named pattern of task_cues.yaml for the conditions that read only whether it matches: its
    alternatives searched only where their literals are (regex_gate.AnyBranch)."""
    return lexicon.cached("task_any_" + name, lambda _lex: AnyBranch(
        next(r["pattern"] for r in _lex.data("task_cues.yaml")["patterns"] if r["id"] == name)))


def patterns(lexicon) -> dict[str, re.Pattern]:
    """The named patterns of task_cues.yaml (`patterns`), compiled once per lexicon."""
    # searcher: the same matches; behind a first-character look-ahead where re cannot skip by itself
    # (future_time, due_before_action, statement: a look-behind or a wide alternation first)
    return lexicon.cached("task_patterns", lambda _lex: {r["id"]: searcher(re.compile(r["pattern"]))
                                                         for r in lexicon.data("task_cues.yaml")["patterns"]})


@dataclass(frozen=True)
class StructureRule:
    id: str
    when: tuple[str, ...]
    unless: frozenset[str]
    effect: str             # task | score | join
    score: float = 0.0
    any_cue: frozenset[str] = frozenset()
    local: frozenset[str] = frozenset()     # unless cues that veto only in the main clause


@dataclass(frozen=True)
class HeadingRule:
    id: str
    when: tuple[str, ...]
    any_cue: frozenset[str]
    unless: frozenset[str]
    max_score: float | None
    effect: str             # review | skip | hit | task
    cue: str | None = None  # the cue a `hit` row adds
    confidence: tuple[float, float] = (0.0, 0.0)   # base, per unit of score
    list: bool | None = None


def score_rules(lexicon) -> list[StructureRule]:
    """The score rows of task_cues.yaml (every segment, headings too), compiled once per lexicon."""
    return lexicon.cached("task_score_rules", lambda _lex: [
        StructureRule(r["id"], tuple(r.get("when", [])), frozenset(r.get("unless", [])), "score",
                      float(r["score"]), frozenset(r.get("any_cue", [])))
        for r in lexicon.data("task_cues.yaml").get("score_rules", [])])


def heading_rules(lexicon) -> list[HeadingRule]:
    """The heading rows of task_cues.yaml, compiled once per lexicon."""
    def build(_lex=None):
        rows = []
        for r in lexicon.data("task_cues.yaml").get("heading_rules", []):
            conf = r.get("confidence", 0.0)
            conf = (float(conf["base"]), float(conf["per_score"])) if isinstance(conf, dict) else (float(conf), 0.0)
            rows.append(HeadingRule(r["id"], tuple(r.get("when", [])), frozenset(r.get("any_cue", [])),
                                    frozenset(r.get("unless", [])), r.get("max_score"), r["effect"], r.get("cue"),
                                    conf, r.get("list")))
        return rows
    return lexicon.cached("task_heading_rules", build)


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
                                       kind, score, local=frozenset(r.get("local_unless", []))))
        rows = data.get("label_lines", [])
        # (`spaced: true`: a PDF copy's spaced-out label, "牵 头 单 位：", matches too)
        pats = [spaced_label(r["pattern"]) if r.get("spaced") else r["pattern"] for r in rows]
        labels = [LabelLine(r["id"], re.compile(p), bool(r.get("item"))) for r, p in zip(rows, pats)]
        # one search decides most segments: none of the rows matches
        labels.append(LabelLine("_any", re.compile("|".join(f"(?:{p})" for p in pats) or "(?!)"), False))
        return rules, labels
    return lexicon.cached("task_structure_rules", build)


def _spaced_forms(word: str) -> list[str]:
    """A label word as a PDF copy may space it: one space at any place inside (责任 单位), and its
    first two characters spaced, which every fully spaced-out copy (牵 头 单 位) holds."""
    if len(word) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
        return []
    return [word[:k] + sp + word[k:] for sp in (" ", "\u3000") for k in range(1, len(word))] + \
        [word[0] + sp + word[1] for sp in (" ", "\u3000")]


def _label_literals(labels: list[LabelLine], lexicon=None):
    """search() for a literal that every label line holds (any search when none is known). The
    literals are those of the rows as written (whole label words: 牵头单位, 责任单位 …) and, for a
    `spaced` row, the spaced forms of its words (_spaced_forms): the gate stays as narrow as the
    words themselves."""
    rows = lexicon.data("task_cues.yaml").get("label_lines", []) if lexicon is not None else []
    spaced = any(r.get("spaced") for r in rows)
    pattern = "|".join(f"(?:{r['pattern']})" for r in rows) if spaced else \
        (labels[-1].pattern.pattern if labels else None)
    lits = required_literals(pattern) if pattern else None
    if not lits:
        return re.compile(r"[\s\S]").search
    if spaced:
        lits = set(lits)
        for r in rows:
            if r.get("spaced"):
                lits.update(f for w in (required_literals(r["pattern"]) or []) for f in _spaced_forms(w))
    return re.compile(literal_trie(sorted(lits, key=len, reverse=True))).search


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


def _pipe_line(text: str) -> bool:
    """An empty table cell line (|): a find first, far cheaper than the regex on the many lines without one."""
    return "|" in text and _PIPE.match(text) is not None


class _SpeechView:
    """What the task rules read of one speech, computed once: segment texts, label rows,
    section and parent heading at each segment start."""

    def __init__(self, doc: SpeechDoc, sp: Speech, labels, label_search, pats):
        self.sp, self.labels, self.pats = sp, labels, pats
        self.norm = doc.norm
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
        self.heading_starts = frozenset(self._hstarts)
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
        if lb is None and self.texts[k - 1 if k else 0].rstrip().endswith(WRAP_ENDS):
            lb = continued_label(self.norm, self.sp.segments[k].start, self.labels)
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
_COLON_HEAD = re.compile(r"[^\n]{0,12}[:：]")


def continued_label(norm: str, pos: int, labels, depth: int = 2):
    """The label row of the line before pos when this line goes on with its names: a label line
    wrapped after 、/， ("配合单位：市发改委、市财政局、" / "市商务局、各县市区政府"), pos at a line's
    start, and this line short and without a label of its own."""
    if pos <= 0 or norm[pos - 1] != "\n":
        return None
    nl = norm.find("\n", pos)
    if not _goes_on(norm[pos:nl if nl >= 0 else len(norm)]):
        return None
    for prev in lines_run_into(norm, pos, depth + 1):
        lb = label_of(prev.rstrip(), labels)
        if lb is not None:
            return lb if lb.item else None
        if not _goes_on(prev):
            return None
    return None


def _goes_on(line: str) -> bool:
    """A line that can continue a wrapped label line: short, without a label or outline marker of its own."""
    line = line.strip()
    return bool(line) and len(line) <= 60 and not _COLON_HEAD.match(line) and not _OUTLINE_OPEN.match(line)


def item_before_labels(view: _SpeechView, k: int) -> bool:
    """Label lines follow segment k (one that marks an item, or two table cells)."""
    i = k + 1
    cells = 0
    while i < len(view.texts) and i - k <= 8:
        t = view.texts[i]
        if _pipe_line(t):
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


def opens_with_verb(text: str, hits: set[str], config, body: str | None = None) -> bool:
    """The segment, past its list marker, opens with an action (a verb, or 对/把/在… before one).
    body: the text past its list marker, when known."""
    if "verb_start" in hits:
        return True
    if body is None:
        body = patterns(config.lexicon)["item_opener"].sub("", text, count=1)
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
# PDF spaces between characters and around numbers ("政治 任务", "增长 5.3 %"): gone for the cues
_SPACE_IN_CJK = re.compile(WORD_GAP)
_HAN = re.compile(r"[\u3400-\u9fff]")
# a thousands separator ("新建保障性住房6,500套"): the cues read the number whole
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def _required_literals(pattern: re.Pattern) -> list[str] | None:
    """Strings one of which every match of pattern contains, or None when no such set is
    known: a segment without any of them cannot match."""
    if pattern.flags & ~(re.UNICODE | re.ASCII):    # flags given to compile() are not in the string
        return None
    return required_literals(pattern.pattern)


# the cue plan's per-process caches (the cues of a segment's bits, the compiled combinations of a cue's
# alternatives) grow with the documents read: bounded, past it the same result is computed again
PARTIAL_CUES_MAX = 4096


def _cue_plan(lexicon):
    """Per lexicon: the required literals of the cues that have a small set of them, in one
    automaton (regex_gate.literal_bits) with the bits each literal stands for, the bits searched
    in every segment (`always`:
    no literal set, or too large a one), and the cues with their patterns behind a first-character
    look-ahead where that finds the same matches faster. A bit stands for one alternative of a
    cue's top-level alternation ("a|b|c", regex_gate.top_branches) or for a whole cue: a segment
    is searched only for the alternatives whose literals it holds (a cue matches a text exactly
    when one of its alternatives does; _score reads only whether it matches)."""
    def build(_lex=None):
        _, cues = lexicon.task_cues
        always = 0
        bits: dict[str, int] = {}
        units: list[tuple[int, str]] = []       # (cue index, pattern) per bit
        for n, c in enumerate(cues):
            alts = None if c.pattern.flags & ~(re.UNICODE | re.ASCII) else top_branches(c.pattern.pattern)
            for alt in alts or [c.pattern.pattern]:
                u = len(units)
                units.append((n, alt))
                lits = _required_literals(c.pattern) if alts is None else required_literals(alt)
                if lits and len(lits) <= 64:
                    for x in lits:
                        bits[x] = bits.get(x, 0) | 1 << u
                else:
                    always |= 1 << u
        # one pass of an automaton per segment gives the bits of every literal it holds
        scan = literal_bits(bits) if bits else None
        # the cues as segments are scored on them: the same patterns, searched faster (regex_gate.searcher)
        fast = [replace(c, pattern=searcher(c.pattern)) for c in cues]
        per_cue: dict[int, list[int]] = {}
        for u, (n, _) in enumerate(units):
            per_cue.setdefault(n, []).append(u)
        partial: dict[tuple[int, ...], object] = {}

        def select(x: int) -> list:
            """The cues (in their order) a segment with bits x may hold, each with the alternatives it may hold."""
            out = []
            for n, us in per_cue.items():
                have = tuple(u for u in us if x >> u & 1)
                if not have:
                    continue
                if len(have) == len(us):
                    out.append(fast[n])
                    continue
                cue = partial.get(have)
                if cue is None and len(partial) >= PARTIAL_CUES_MAX:
                    # the whole cue finds what its present alternatives find (the others cannot match)
                    out.append(fast[n])
                    continue
                if cue is None:
                    # (a set compiled as one alternation: searching its alternatives one by one costs
                    # 3% more instructions; the regex cache keeps the sets of a process's first writes)
                    rx = re.compile("|".join(units[u][1] for u in have))
                    cue = partial[have] = replace(cues[n], pattern=searcher(rx))
                out.append(cue)
            return out
        return always, scan, {}, fast, select
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


def cue_bits(t: str, always: int, scan) -> int:
    """The cue plan's bits of a segment text: the alternatives searched in every segment and those
    whose required literals it holds."""
    return always if scan is None else scan(t, 0, len(t), always)


def _cue_candidates(norm: str, sp: Speech, view: _SpeechView, cues, plan) -> tuple[list[str], list[list]]:
    """The text each segment is scored on (PDF spaces inside words removed: "政治 任务") and
    the cues it may hold: those one of whose required literals it contains, found by one
    findall over the segment (the per-segment search decides)."""
    segs = sp.segments
    texts = view.texts
    if not segs:
        return texts, []
    always, scan, decoded, _, select = plan
    if _SPACE_IN_CJK.search(norm, sp.start, sp.end):
        texts = [_SPACE_IN_CJK.sub("", t) for t in texts]
    if _THOUSANDS.search(norm, sp.start, sp.end):
        texts = [_THOUSANDS.sub("", t) for t in texts]
    out = []
    for t in texts:
        x = cue_bits(t, always, scan)
        sel = decoded.get(x)
        if sel is None:
            sel = select(x)
            if len(decoded) < PARTIAL_CUES_MAX:
                decoded[x] = sel
        out.append(sel)
    return texts, out


def _score(text: str, cues, spaced: bool = True) -> tuple[float, set[str]]:
    """Segment cues once, clause cues in the best clause (+ half the negatives elsewhere)."""
    if spaced:
        text = _SPACE_IN_CJK.sub("", text)       # PDF extraction spaces: "政治 任务"
    total, hits = 0.0, set()
    clause_cues = []
    all_positive = True
    for c in cues:
        if c.pattern.search(text):
            if c.clause:
                clause_cues.append(c)     # only cues present in the segment can be in a clause
                if c.weight <= 0:
                    all_positive = False
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
    # with positive cues only (all_positive), the first clause holding all of them is the best one
    for cl in clauses:
        found = {c.id: c.weight for c in clause_cues if c.pattern.search(cl)}
        per_clause.append(found)
        sc = sum(found.values())
        if best is None or sc > best:
            best, best_hits = sc, set(found)
        if all_positive and len(found) == len(clause_cues):
            break
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
    evidence = doc.task_evidence
    srules, labels = structure_rules(lex)
    plan = _cue_plan(lex)
    label_search = lex.cached("task_label_literals", lambda _lex: _label_literals(labels, lex))
    pats = patterns(lex)
    # the rows with their condition methods, once per lexicon, not per document. seg_rules: the
    # rows a segment can fire (join rows act in _label_tasks); a row whose first condition needs a
    # section is skipped outside one
    weights, hrules, srows, seg_rules = lex.cached("task_rows", lambda _lex: (
        {c.id: c.weight for c in cues},
        [(r, _conditions(_HeadingContext, r.when)) for r in heading_rules(lex)],
        # (plain tuples: read per segment and row, unpacking beats attribute look-ups)
        [(r.any_cue or None, r.unless, sum(_cheap_first(r.when), ()), r.id, r.score) for r in score_rules(lex)],
        [(r, bool(r.when) and r.when[0] in _KIND_CONDITIONS, *_cheap_first(r.when))
         for r in srules if r.effect != "join"]))
    cue_by_id = lex.cached("task_fast_cue_by_id", lambda _lex: {c.id: c for c in plan[3]})   # (searcher patterns)
    for sp in doc.speeches:
        heading_at = {h.start: h for h in sp.headings}
        heading_idx = {h.start: i for i, h in enumerate(sp.headings)}
        review_parent: set[int] = set()
        title_end = sp.segments[0].end if sp.segments and sp.title and \
            doc.norm[sp.segments[0].start:sp.segments[0].end].strip().endswith(sp.title[-4:]) else -1
        if sp.body_start is None:
            title_end = max(title_end, _title_block_end(doc.norm, sp, pats))
        # an excerpt may open with no title: its first line is then an outline heading
        # ("三、加快推进重点项目建设") or a sentence ("…，重点抓好以下几项工作："), not a title
        # (an indented first line opens the speech too: "\u3000\u30002020年是…")
        body_first = bool(sp.segments) and not doc.norm[sp.start:sp.segments[0].start].strip() and \
            _opens_as_text(doc.norm[sp.segments[0].start:sp.segments[0].end])
        if body_first:
            title_end = -1
        tasks: list[Task] = []
        goals = False
        goals_sec = False       # the goals flag has been inside a goals section of the structure stage
        purpose_list = False
        last_item: dict[int | None, tuple[int, bool]] = {}   # parent heading -> (last 一是 item, task?)
        view = _SpeechView(doc, sp, labels, label_search, pats)
        score_texts, cand = _cue_candidates(doc.norm, sp, view, cues, plan)
        # a plan as a whole: by its title (doc_*), or opened by "为…制定/重点抓好以下几项工作："
        plan_doc = any(r.startswith("doc_") or r == "mark_plan_intro" for sec in sp.sections for r in sec.rules)
        first = view.first
        for seg in sp.segments:
            k = seg.id - first
            text = view.texts[k]
            if seg.end <= title_end or (_is_title_like(text, sp.title) and not (body_first and k == 0)) or \
                    (sp.body_start is not None and seg.start < sp.body_start and
                     (seg.end <= sp.body_start or not doc.norm[sp.start:seg.start].strip())):
                # (the title block and salutation, or a first segment running from them into the body)
                continue
            if not _HAN.search(text):
                continue    # "— 2 —", "|", a table's index cell alone: no words, no task
            # the rows read the text the cues are scored on: PDF spaces out of words and numbers
            text = score_texts[k]
            score, hits = _score(text, cand[k], False)
            h_here = heading_at.get(seg.start)
            if h_here is None or h_here.level != 4:
                purpose_list = "meeting" in hits and bool(pats["meeting_purpose_list"].search(text))
            evidence[seg.start] = {h: weights[h] for h in hits}     # read by the learned layer
            intro = pats["list_intro_colon"].search(text)
            if intro:
                # "下面，我讲三点意见：一是认清形势": the item after the colon decides
                item = text[intro.end():]
                score, hits = max((score, hits), _score(item, cues), key=lambda x: x[0])
                if pats["list_item_opens"].search(item) and \
                        "verb_start" in _score(pats["list_item_marker"].sub("", item), cues)[1]:
                    score = max(score, threshold)
            goals_word = pats["goals_words"].search(text) is not None
            if seg.start in heading_at and heading_at[seg.start].level <= 2:
                goals = goals_word
                goals_sec = False
            if goals_word and (pats["goals_intro_end"].search(text.rstrip()) or pats["goals_set_out"].search(text)):
                goals = True
                goals_sec = False
            elif goals:
                # the list ends where the structure stage ends the goals stretch it read (a label
                # that is no goal, "重点工程：", then its items): not before it has read one
                if view.kind(k) == "goals":
                    goals_sec = True
                elif goals_sec:
                    goals = False
            h = heading_at.get(seg.start)
            parent = view.parent(seg.start)
            ctx = _Context(view, k, text, hits, config, plan_doc, goals, parent, review_parent,
                           bool(tasks) and tasks[-1].segment == seg.id - 1)
            fired: list[str] = []
            for any_cue, unless, conds, rid, rscore in srows:
                if (any_cue is not None and any_cue.isdisjoint(hits)) or not unless.isdisjoint(hits):
                    continue        # (isdisjoint: no set built per segment and row)
                for cond in conds:
                    if not cond(ctx):
                        break
                else:
                    fired.append(rid)
                    score += rscore
            if h is not None:
                hi = heading_idx[h.start]
                hctx = _HeadingContext(view, k, h, text, hits, score, threshold, goals, purpose_list,
                                       last_item, review_parent, config, ctx.prev_task)
                for row, conds in hrules:
                    if (row.any_cue and row.any_cue.isdisjoint(hits)) or not row.unless.isdisjoint(hits) or \
                            (row.max_score is not None and score > row.max_score):
                        continue
                    for cond in conds:
                        if not cond(hctx):
                            break
                    else:
                        cond = None
                    if cond is not None:
                        continue
                    if row.effect == "hit":
                        hits.add(row.cue)
                        continue
                    if row.list is not None and h.level == 4:
                        last_item[h.parent] = (hi, row.list)
                    if row.effect == "review":
                        review_parent.add(hi)
                    elif row.effect == "task":
                        base, per = row.confidence
                        tasks.append(make_task(doc, sp, seg, "rules", min(1.0, base + per * max(score, 0)) if per
                                               else base, lexicon=lex, view=view,
                                               rules=_ids(hits, weights, fired + [row.id])))
                    break
                continue
            forced = False
            for rule, needs_kind, cheap, conds in seg_rules:
                if needs_kind and ctx.kind is None:
                    continue
                for cond in cheap:          # a loop, not all() over a generator: per segment and row
                    if not cond(ctx):
                        break
                else:
                    cond = None
                if cond is not None:
                    continue
                if not rule.unless.isdisjoint(hits):
                    veto = hits & rule.unless
                    if veto - rule.local or _in_main_clause(ctx.body(), veto, cue_by_id):
                        continue
                for cond in conds:
                    if not cond(ctx):
                        break
                else:
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


def _in_main_clause(body: str, veto: set[str], cue_by_id) -> bool:
    """The veto cues speak for the sentence: one is in its main clause (the first, past its
    list marker: body is the segment past it), or they are in half its clauses or more (a run of
    findings). One in a later clause alone names the object of the action ("督促检查突出的环境问题")
    and does not veto."""
    clauses = _CLAUSE.findall(body) or [body]
    rx = [cue_by_id[c].pattern for c in veto if c in cue_by_id]
    if any(r.search(clauses[0]) for r in rx):
        return True
    return 2 * sum(1 for cl in clauses if any(r.search(cl) for r in rx)) >= len(clauses)


# conditions read off fields already at hand (no regex, no POS tag): tried first, as a row fires only
# when all its conditions hold and every condition is a pure function of the segment's context
_CHEAP_CONDITIONS = frozenset({"in_review", "in_plan", "in_goals", "in_goals_list", "in_work_procedure",
                               "in_plan_document", "follows_task", "after_task", "not_heading", "not_plan_section",
                               "outside_review", "parent_under_review", "after_semicolon", "dash_item"})


def _cheap_first(names) -> tuple[tuple, tuple]:
    """A row's condition methods as (cheap ones, the others): each in the row's order, except that
    the POS-tagging opens_with_verb goes last."""
    rest = sorted((n for n in names if n not in _CHEAP_CONDITIONS), key=lambda n: n == "opens_with_verb")
    return _conditions(_Context, [n for n in names if n in _CHEAP_CONDITIONS]), _conditions(_Context, rest)


def _conditions(ctx_class, names) -> tuple:
    """The methods deciding a row's named conditions (an unknown name fails here, at once)."""
    return tuple(getattr(ctx_class, n) for n in names)


def _ids(hits: set[str], weights: dict[str, float], fired: list[str]) -> list[str]:
    """The rule ids behind a task: its positive cues, then the structural rows that fired."""
    return sorted(h for h in hits if weights.get(h, 0) > 0) + fired


_PLAN_KINDS = ("plan", "goals", "breakdown")
_NOMINAL_START = re.compile(r"[\u4e00-\u9fff]{2,4}的")
_IMPERATIVE_FRAMES = ("结合", "按照", "通过", "依托", "围绕", "针对", "依法", "逐步", "着力", "坚持")
# conditions that need a section
_KIND_CONDITIONS = frozenset({"in_review", "in_plan", "in_goals", "in_plan_document", "in_work_procedure"})
_SENTENCE_END = re.compile(r"[。；;！!]\s*$")
_FOUR_CJK = re.compile(r"(?:[^\u4e00-\u9fff]*[\u4e00-\u9fff]){4}")     # four Chinese characters or more


class _Context:
    """The named structural conditions of task_cues.yaml `structure_rules`, for one segment."""

    # one per segment: slots make building it and reading its fields cheaper
    __slots__ = ("view", "k", "text", "hits", "config", "plan_doc", "goals", "parent", "review_parent",
                 "prev_task", "kind", "_memo")

    def __init__(self, view: _SpeechView, k: int, text, hits, config, plan_doc=False, goals=False, parent=None,
                 review_parent=frozenset(), prev_task=False):
        self.view, self.k, self.text, self.hits = view, k, text, hits
        self.config, self.plan_doc = config, plan_doc
        self.goals, self.parent, self.review_parent = goals, parent, review_parent
        self.prev_task = prev_task
        self.kind = view.kind(k)
        self._memo: dict[str, bool] = {}

    def in_review(self):
        return self.kind == "review"

    def in_plan(self):
        return self.kind in ("plan", "breakdown")

    def in_goals(self):
        return self.kind == "goals"

    def opens_with_verb(self):
        # several rows read it (a POS tag): decide it once
        v = self._memo.get("opens_with_verb")
        if v is None:
            v = self._memo["opens_with_verb"] = "verb_start" in self.hits or \
                opens_with_verb(self.text, self.hits, self.config, self.body())
        return v

    def body(self) -> str:
        """The segment past its list marker (pattern item_opener), read by several conditions: once."""
        v = self._memo.get("body")
        if v is None:
            v = self._memo["body"] = self.view.pats["item_opener"].sub("", self.text, count=1)
        return v

    def in_work_procedure(self):
        """A procedure section named by a plan's step heading (督查方式, 督查程序), not an agenda."""
        sec = self.view.sections[self.k]
        return self.kind == "procedure" and sec is not None and "head_work_procedure" in sec.rules

    def in_plan_document(self):
        """A plan or breakdown section of a document that is a plan as a whole (意见, 方案…)."""
        return self.in_plan() and self.plan_doc

    def sentence_end(self):
        return bool(_SENTENCE_END.search(self.text)) and _FOUR_CJK.match(self.text, 0, 40) is not None

    def not_statement(self):
        v = self._memo.get("not_statement")
        if v is None:
            v = self._memo["not_statement"] = not _any_pattern(self.config.lexicon, "statement").search(self.text)
        return v

    def dash_item(self):
        return self.text.lstrip().startswith(("——", "—", "--"))    # the normalised copy has "--"

    def not_intro_only(self):
        return not self.view.pats["intro_only"].search(self.text) and self.view.label(self.k) is None

    def not_heading_label(self):
        return not self.view.pats["section_label"].search(self.text)

    def label_line(self):
        return self.view.label(self.k) is not None

    def before_label_line(self):
        """Label lines follow: one naming units or a due date (牵头单位：…, （X牵头）), or two
        table cells (a flattened row "item。 | 徐国江 | 城管局 |"; one cell may be progress)."""
        return not self.label_line() and not _pipe_line(self.text) \
            and item_before_labels(self.view, self.k)

    def after_task(self):       # decided in _join_labels, over the tasks already made
        return False

    def in_goals_list(self):
        """After a goals intro ("主要预期目标是：") or under a goals heading, until the next top heading."""
        return self.goals

    def list_item_end(self):
        return bool(self.view.pats["list_item_end"].search(self.text))

    def stat_dense(self):
        return _stat_dense(self.text, self.view.pats)

    def not_heading(self):
        return self.view.sp.segments[self.k].start not in self.view.heading_starts

    def parent_under_review(self):
        # several rows read it (outside_review too), and review_parent grows only after them: once
        v = self._memo.get("parent_under_review")
        if v is None:
            v = self._memo["parent_under_review"] = self.parent is not None and \
                _under_review(self.view.sp, self.parent, self.review_parent)
        return v

    def not_plan_section(self):
        return self.kind not in _PLAN_KINDS

    def follows_task(self):
        """The segment right before this one is a task (a directive goes on: 会议强调，要…。统筹推进…。)"""
        return self.prev_task

    def opens_with_imperative(self):
        """Stricter than opens_with_verb (no POS tag): an imperative verb of the verb_start cue, or a
        frame word before one (结合…, 按照…, 通过…)."""
        body = self.body()
        if _NOMINAL_START.match(body):
            return False        # 发展的出路在工业: a verb before 的 names a thing
        return "verb_start" in self.hits or body.startswith(_IMPERATIVE_FRAMES)

    def reported_frame(self):
        """A speaker and a verb of saying open the segment, and what they said opens with an
        imperative verb (or a frame word before one), as opens_with_imperative reads it."""
        m = self.view.pats["reported_frame"].match(self.text)
        if m is None:
            return False
        body = self.text[m.end():]
        if _NOMINAL_START.match(body):
            return False
        verb = _cue_by_id(self.config.lexicon)["verb_start"]
        return bool(verb.pattern.match(body)) or body.startswith(_IMPERATIVE_FRAMES)

    def outside_review(self):
        return self.kind != "review" and not self.parent_under_review()

    def future_time(self):
        """A time ahead in the segment (pattern future_time); a bare written year counts when it
        is not before the speech's year (an undated speech: never). Two rows read it: once."""
        v = self._memo.get("future_time")
        if v is None:
            ref = self.view.sp.ref_year
            v = self._memo["future_time"] = any(_ahead(m, ref)
                                                for m in self.view.pats["future_time"].finditer(self.text))
        return v

    def not_future_time(self):
        return not self.future_time()

    def past_year_opens(self):
        """A written year before the speech's opens a clause (pattern past_year_opener): the period
        a review reports on. An undated speech: never."""
        v = self._memo.get("past_year_opens")      # (no_past_year_opens reads it too)
        if v is None:
            ref = self.view.sp.ref_year
            v = self._memo["past_year_opens"] = ref is not None and "年" in self.text and \
                any(int(m.group("y")) < ref for m in self.view.pats["past_year_opener"].finditer(self.text))
        return v

    def goal_ahead_clause(self):
        """future_target_clause read strictly, for a review section: a goal word (goal_set) or a
        time plainly after the speech (明年, 到2027年, a year after the speech's), not 今年/年内,
        which a year-end review also says of the year it reviews."""
        return _future_target_clause(self.text, self.view.pats, self.view.sp.ref_year,
                                     _clause_cues(self.config.lexicon), "future_time_strict", 1)

    def future_target_clause(self):
        """A figure to reach in a clause that a time ahead (future_time) or a goal word (goal_set)
        opens in the same sentence, with no past, statistics, achievement or analysis marker in the clauses
        from that time to the figure: "今年以来增长9.1%，全年目标是增长12%" sets a goal in its
        second clause, whatever the first reviews (the marker is local, not the segment's)."""
        v = self._memo.get("future_target_clause")
        if v is None:
            v = self._memo["future_target_clause"] = _future_target_clause(
                self.text, self.view.pats, self.view.sp.ref_year, _clause_cues(self.config.lexicon))
        return v

    def after_semicolon(self):
        """The segment before ends with a semicolon: the same sentence goes on (a list of goals)."""
        return self.k > 0 and self.view.texts[self.k - 1].rstrip().endswith((";", "；"))

    def due_before_action(self):
        """A date ahead, then the action it closes (pattern due_before_action)."""
        t = self.text
        # every match holds one (月底前, 年内, 到2027年, 至6月30日)
        if "前" not in t and "年" not in t and "至" not in t and "到" not in t:
            return False
        rx = self.view.pats["due_before_action"]
        gate = self.config.lexicon.cached("task_due_gate", lambda _lex: literal_gate([rx.pattern]))
        if gate is not None and gate.search(t) is None:
            return False
        ref = self.view.sp.ref_year       # a year bound (到2025年) before the speech's year is past
        return any(_ahead(m, ref) for m in rx.finditer(t))

    def no_past_year_opens(self):
        return not self.past_year_opens()


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
        if owner is not None and _pipe_line(view.texts[k]):
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
            if owner is not None and join.id in t.rules and (label_of(doc.norm[t.start:t.end], labels)
                                                              or continued_label(doc.norm, t.start, labels)) \
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
        sp.tasks = _whole_items(doc, sp, out, join.id, labels, patterns(lex))
    return doc


_RANK = {"must": 2, "strive": 1, "should": 0}
# a line broken inside a sentence: the item goes on on the next line ("（二）推进…改造，\n完成…。")
_WRAPPED = re.compile(r"[，,、]\s*$")


def _item_start(norm: str, sp: Speech, pos: int, labels, pats) -> int:
    """Where the breakdown item holding pos begins: the start of its line (the item's number and
    first sentence: "3.实施…改造。年内完成…"), and earlier lines that run into it, broken after a
    comma (never over a label line, at most three lines)."""
    start = norm.rfind("\n", sp.start, pos) + 1 or sp.start
    start = max(start, sp.start)
    for _ in range(3):
        if start <= sp.start or _OUTLINE_OPEN.match(norm[start:start + 12]):
            break
        prev = max(norm.rfind("\n", sp.start, start - 1) + 1, sp.start)
        line = norm[prev:start - 1]
        if not line.strip() or not _WRAPPED.search(line) or label_of(line, labels) or "|" in line:
            break
        start = prev
    # a PDF's soft-wrapped paragraph is one line of norm: the item begins no earlier than the
    # last outline heading before it ("一、…（一）研究…。（财政部…负责）" after a preamble)
    heads = sp.headings
    i = bisect_right(heads, pos, key=lambda h: h.start)
    while i > 0:
        i -= 1
        if heads[i].start <= start:
            break
        if heads[i].level <= 3:
            start = heads[i].start
            break
    while start < pos and norm[start] in " \t\u3000":
        start += 1
    # "1.城区停车难治理工程。新建…": a pure label names the item and is no part of the task (§8)
    j = bisect_right(heads, start, key=lambda h: h.start) - 1
    h = heads[j] if j >= 0 else None
    if h is not None and h.start == start and h.end <= pos and h.level <= 3 and \
            pats["noun_label"].search(norm[h.start + len(h.marker):h.end].strip()):
        start = h.end
    return start


def _whole_items(doc: SpeechDoc, sp: Speech, tasks: list[Task], join_id: str, labels, pats) -> list[Task]:
    """A task that took label lines covers its whole item (ANNOTATION.md §6: a task may span several
    segments): it reaches back to the item's start (_item_start), and the tasks made of the item's
    earlier sentences (its number and title, the first line of a wrapped item) join it."""
    out: list[Task] = []
    for t in tasks:
        if join_id in t.rules and "|" not in doc.norm[t.start:t.end]:
            start = _item_start(doc.norm, sp, t.start, labels, pats)
            while out and out[-1].start >= start and out[-1].end <= t.start:
                o = out.pop()
                t.units = o.units + t.units
                t.deadlines = o.deadlines + t.deadlines
                t.targets = o.targets + t.targets
                if _RANK.get(o.modality, 0) > _RANK.get(t.modality, 0):
                    t.modality = o.modality
            if out and out[-1].end > start:
                start = out[-1].end             # a task reaching into the line keeps its part
            while start < t.start and doc.norm[start] in " \t\n\u3000":
                start += 1
            if start < t.start:
                t.start = start
                t.text = doc.text[t.start:t.end]
                t.rules.append("breakdown_whole_item")
        out.append(t)
    return out


def _only_labels_between(doc, sp, start: int, end: int, labels) -> bool:
    i = bisect_right(sp.segments, start - 1, key=lambda g: g.start)
    while i < len(sp.segments) and sp.segments[i].start < end:
        g = sp.segments[i]
        text = doc.norm[g.start:g.end]
        if g.start >= start and not (_pipe_line(text) or label_of(text, labels)
                                     or continued_label(doc.norm, g.start, labels)):
            return False
        i += 1
    return True


_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]?")


def _clause_cues(lex) -> tuple[AnyBranch, AnyBranch]:
    """The target cues (a figure to reach) and the markers that put a clause in the past (or make
    its figure a forecast: 预计), each group as one alternation: it finds something in a clause
    exactly when one of its cues does (the cues hold no groups or flags, checked here)."""
    def build(_lex):
        by_id = _cue_by_id(_lex)

        def one(ids):
            pats = [by_id[i].pattern for i in ids]
            if any(p.groups or p.flags & ~re.UNICODE for p in pats):
                raise ValueError(f"task cues {ids}: a group or a flag; _clause_cues joins them in one alternation")
            # (AnyBranch: a clause is searched only for the alternatives whose literals it holds)
            return AnyBranch("|".join(f"(?:{p.pattern})" for p in pats))
        return one(("target_growth", "target_goal")), one(("past", "past_statistics", "achievement", "analysis"))
    return lex.cached("task_future_target_cues", build)


def _cue_by_id(lex) -> dict:
    """The task cues of a lexicon by id (built once per lexicon)."""
    return lex.cached("task_cue_by_id", lambda _lex: {c.id: c for c in _lex.task_cues[1]})


_FYP = {n: 2020 + 5 * (i - 3) for i, n in enumerate("一二三四五六七八九", 1)}    # 十三五 ends in 2020


def _ahead(m: re.Match, ref_year: int | None, after: int = 0) -> bool:
    """A future_time match is ahead: a written year (group y) from ref_year + after, a five-year
    plan period (group fyp: 十四五 = 2021-2025) ending in the speech's year or later; an undated
    speech has neither. A year bound (group to: 到2025年) is ahead unless the speech is dated later
    ("规划提出的到2025年…的目标如期实现" in 2026 reviews)."""
    groups = m.groupdict()
    if groups.get("y"):
        return ref_year is not None and int(groups["y"]) >= ref_year + after
    if groups.get("to"):        # 到2025年: a bound ahead unless the speech is later (undated: ahead)
        return ref_year is None or int(groups["to"]) >= ref_year + after
    if groups.get("fyp"):
        return ref_year is not None and _FYP[groups["fyp"]] >= ref_year + after
    return True


def _future_target_clause(text: str, pats, ref_year, cues, time: str = "future_time", after: int = 0) -> bool:
    """`time`: the pattern of a time ahead; a written year counts from ref_year + after."""
    targets, past = cues
    for sentence in _SENTENCE.findall(text):
        ahead = False
        for cl in _CLAUSE.findall(sentence):
            if past.search(cl):
                ahead = False       # a review clause closes what a time ahead opened
                continue
            if pats["goal_set"].search(cl) or any(_ahead(m, ref_year, after) for m in pats[time].finditer(cl)):
                ahead = True
            if ahead and targets.search(cl):
                return True
    return False


def _stat_dense(text: str, pats) -> bool:
    """Three or more figures without a commitment word: a statistics report."""
    return len(pats["stat_figure"].findall(text)) >= 3


class _HeadingContext:
    """The named conditions of task_cues.yaml `heading_rules`, for one outline heading."""

    __slots__ = ("view", "k", "h", "text", "hits", "body", "score", "threshold", "goals", "purpose_list",
                 "last_item", "review_parent", "config", "prev_task")

    def __init__(self, view, k, h, text, hits, score, threshold, goals, purpose_list, last_item, review_parent,
                 config, prev_task=False):
        self.view, self.k, self.h, self.text, self.hits = view, k, h, text, hits
        self.body = text[len(h.marker):]
        self.score, self.threshold, self.goals, self.purpose_list = score, threshold, goals, purpose_list
        self.last_item, self.review_parent, self.config = last_item, review_parent, config
        self.prev_task = prev_task

    def review_words_heading(self):
        """回顾/成效/存在的问题… in the heading, unless it calls to see or raise (认清, 增强)."""
        pats = self.view.pats
        return bool(pats["heading_review_words"].search(self.body)) \
            and not pats["heading_review_exempt"].search(self.body)

    def in_review(self):
        return self.view.kind(self.k) == "review"

    def parent_under_review(self):
        return self.h.parent is not None and _under_review(self.view.sp, self.h.parent, self.review_parent)

    def not_plan_section(self):     # "（二）工作要求" names its own kind
        return self.view.kind(self.k) not in _PLAN_KINDS

    def items_follow(self):
        return item_before_labels(self.view, self.k)

    def section_label(self):
        pats = self.view.pats
        return bool(pats["section_label"].search(self.text) or pats["section_label_stop"].search(self.text))

    def in_goals_list(self):
        return self.goals or self.view.kind(self.k) == "goals"

    def goal_like(self):
        """A target cue, or nothing against: "6.居民收入增长与经济增长同步"."""
        return bool(self.hits & {"target_growth", "target_goal"}) or self.score >= 0

    def heading_opens_with_verb(self):
        return _opens_with_verb(self.body, self.config)

    def in_plan_section(self):
        return self.view.kind(self.k) in ("plan", "breakdown")

    def heading_has_verb(self):
        """A clause opening with a verb, or with a manner word before one (不断增强…, 有效防范…):
        an action, where a label (乡村振兴示范行动, 重点项目推进) opens with a noun."""
        if "verb_start" in self.hits or "period_first_action" in self.hits:
            return True
        if _NOUN_PHRASE_END.search(self.body):
            return False    # …未完成年度任务的项目: a noun phrase names a list, it does not act
        for clause in _HEADING_CLAUSE.split(self.body.strip())[:3]:
            words = self.config.tokenizer.tag(clause[:14])[:2]
            if words and (words[0][1] in _VERB_TAGS or len(words) == 2 and words[0][1] in _MANNER_TAGS
                          and words[1][1] in _VERB_TAGS):
                return True
        return False

    def noun_label_heading(self):
        """The heading's body names a program or a part of the plan (pattern noun_label)."""
        return bool(self.view.pats["noun_label"].search(self.body.strip()))

    def short_heading(self):
        """Twelve characters at most and one clause: a label."""
        return len(_WS.sub("", self.body)) <= 12 and not any(c in self.body for c in "，,、")

    def findings_only(self):
        """Only findings (problems, achievements, the past), or a problem closed by a 但 clause."""
        if not self.hits and self.h.level == 4 and self.prev_task:
            return False    # a bare 二是… item right after a task goes on with its list
        return not (self.hits - _FINDING_CUES) or \
            ("problem" in self.hits and bool(self.view.pats["ends_with_but"].search(self.body)))

    def not_verb_clause(self):
        return "verb_start" not in self.hits or not any(c in self.body for c in "，,")

    def list_item(self):
        return self.h.level == 4

    def in_purpose_list(self):
        return self.purpose_list

    def previous_item_not_task(self):
        """The previous item of the list was no task; with none known (一是 ran on inside the
        line before: "…问题：一是…；二是…"), the segment before decides."""
        prev = self.last_item.get(self.h.parent)
        if prev is None:
            return not self.prev_task
        return not prev[1]

    def not_list_continuation(self):
        """Not an 一是/二是 item right after a sibling item that became a task."""
        if self.h.level != 4:
            return True
        prev = self.last_item.get(self.h.parent)
        return not (prev[1] if prev is not None else self.prev_task)

    def below_threshold(self):
        return self.score < self.threshold


_HEADING_CLAUSE = re.compile(r"[，,、]")
_NOUN_PHRASE_END = re.compile(r"的[\u4e00-\u9fff]{1,6}[。；;]?\s*$")
_VERB_TAGS = frozenset({"v", "vd", "vg"})
_MANNER_TAGS = frozenset({"d", "a", "ad"})
_FINDING_CUES = frozenset({"achievement", "problem", "past", "analysis", "past_statistics"})


def _opens_with_verb(body: str, config) -> bool:
    """Whether a heading's text starts with a verb (or 把), by the pipeline's POS tagger."""
    words = config.tokenizer.tag(body.strip()[:12])
    if not words:
        return False
    word, pos = words[0]
    # …or a manner word before one in a heading longer than a label (准确把握景区开发的基本定位;
    # 稳增长, 促改革 stay labels), as heading_has_verb reads it
    return pos.startswith("v") or word == "把" or \
        (len(words) > 1 and pos in _MANNER_TAGS and words[1][1] in _VERB_TAGS and len(_WS.sub("", body)) > 12)


def _under_review(sp: Speech, idx: int | None, review: set[int]) -> bool:
    while idx is not None:
        if idx in review:
            return True
        idx = sp.headings[idx].parent
    return False


def _title_block_end(norm: str, sp: Speech, pats) -> int:
    """End of the title lines that open a speech without a salutation ("市人民政府关于" /
    "加快发展数字经济的若干意见"): up to three short lines without a sentence end."""
    end, pos, n = -1, sp.start, 0
    while pos < sp.end and n < 3:
        nl = norm.find("\n", pos, sp.end)
        stop = sp.end if nl < 0 else nl
        line = norm[pos:stop].strip()
        if line:
            if len(line) > 60 or pats["title_line_stop"].search(line) or "|" in line:
                break
            end, n = stop, n + 1
        pos = stop + 1
    return end


_WS = re.compile(r"\s")
_STOP_MARK = re.compile(r"[。；;！!]")


_OUTLINE_OPEN = re.compile(r"^\s*(?:[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十\d]{1,3}[)）]"
                           r"|\d{1,2}[.、．](?!\d)|第[一二三四五六七八九十]{1,3}[，,、])")
_TEXT_END = re.compile(r"[，,][^，,]*[。；;：:！!]\s*$")


def _opens_as_text(line: str) -> bool:
    """The first line of a speech is body text, not a title: it opens with an outline marker,
    or it runs over a clause break to a sentence or intro end (titles do neither)."""
    line = line.strip()
    if line.endswith(("同志们：", "同志们:", "同志們：", "同志們:")):
        return False
    return bool(_OUTLINE_OPEN.match(line) or _TEXT_END.search(line))


def _is_title_like(text: str, title: str) -> bool:
    # (title[-1] not in text: then title[-8:] is in no copy of it, the common case, told by a find)
    if not title or title[-1] not in text or _STOP_MARK.search(text):
        return False
    t = _WS.sub("", text)
    return len(t) <= len(title) + 12 and title[-8:] in t and not _STOP_MARK.search(t)


def decide_specific(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES tasks with units, deadlines, targets; PROVIDES task.specific.

    A supervisor can check a task that has a deadline, a target, a responsibility
    line or a named doer with a concrete action; section headings and exhortations
    (认真领会, 增强意识) are not checkable on their own.
    """
    pats = patterns(config.lexicon)
    concrete, vague = pats["concrete_action"], pats["vague_exhortation"]
    collective, responsibility = pats["collective_body"], pats["responsibility_label"]
    for sp in doc.speeches:
        heading_starts = {h.start for h in sp.headings}
        for t in sp.tasks:
            text = doc.norm[t.start:t.end]
            p = t.p_specific              # the learned layer's P(specific), when it ran
            if t.deadlines or t.targets or responsibility.match(text):
                t.specific = True
            elif p is not None:
                t.specific = p >= 0.5
            elif vague.search(text) and not concrete.search(text):
                t.specific = False
            elif t.start in heading_starts:
                t.specific = bool(t.units) and bool(concrete.search(text))
            elif any(not collective.match(u.text) for u in t.units):
                t.specific = True       # a named body to hold to account (各级各部门 is not)
            else:
                t.specific = bool(concrete.search(text))
    return doc
