"""Features for the learned extractors, computed a whole speech at a time.

Segment features (task classifier): hashed character n-grams of the normalised
segment, counts of directive / retrospective / time / assessment cues, the
segment's place in the outline, cues of the enclosing heading (is this section a
review or a plan?), and the same cues of its neighbours. In hybrid mode the rule
extractor's decision and its per-segment evidence are appended.

Character features (unit CRF): the character and its neighbours, bigrams, whether
it ends a body name (局/委/办/部门/…), lexicon matches, and the words around it
(要/牵头/配合/、/等). They are built only for short windows around unit cues in
task segments, so the CRF never reads the whole text.

Cue words are looked up through the same hashed n-grams (tables built once per
`SegmentFeaturizer`); the CRF lexicon regex is compiled once per `CharFeaturizer`.
Both live on the loaded `Models` object, so nothing is rebuilt per call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from speechledger.doc import SECTION_KINDS

# (name, pattern on doc.norm) -- counted per segment
SEG_CUES: list[tuple[str, str]] = [
    ("directive", r"要|必须|务必|确保|力争|争取|努力|坚决|切实|抓好|加快|推进|着力|严格|不得|严禁|狠抓|强化|加强|"
                  r"落实|做好|抓紧|全力|扎实|大力|积极|持续|推动|实施|建立|健全|完善|开展|组织|督促|深化|提升|打造"),
    ("must", r"必须|务必|务于|确保|坚决|严禁|不得|一律|决不能|绝不|不准"),
    ("strive", r"力争|争取|努力|尽快|尽最大努力|尽早|力求"),
    ("should", r"要|应当|应该|需要|应"),
    ("retro", r"以来|已经|已|实现了|完成了|取得了|达到了|同比|累计|增长了|下降了|比上年|去年|过去|"
              r"荣获|获得|先后|成功|有了|了，|了,|了。|了；|得到|明显|显著|不断|初步"),
    ("future", r"将|今年|明年|下半年|年底|月底|目标|计划|下一步|今后|未来"),
    ("assess", r"成绩|肯定|不足|问题|差距|短板|偏小|偏弱|不够|滞后|困难|挑战|形势|机遇|意义|重要|"
               r"值得|欣慰|喜人|可喜|看到|清醒"),
    ("procedure", r"下面|讲几点|意见|会议|同志们|书记|主持|发言|讲话|谢谢|刚才|汇报|通报|今天"),
    ("number", r"<digit runs>"),
    ("percent", r"%|百分点|倍|翻一番"),
    ("deadline", r"月底|年底|年内|前完成|之前|季度|上半年|下半年|日前"),
    ("year", r"<four digits + 年>"),
    ("unitcue", r"牵头|负责|主抓|配合|协助|参加|会同|责任单位"),
    ("body", r"局|委|办|部门|单位|政府|各级|各县|各乡|各镇|各地|各有关|专班|领导小组"),
    ("quote", r"总书记|强调|指出|中央|习近平|省委|国务院"),
    ("principle", r"关键|根本|基础|前提|核心|重中之重|生命线|兴则|强则|离不开|是我们|就是"),
    ("exhort", r"认真|切实|深刻|进一步|高度重视|意识|领会|思想"),
    ("placeholder", r"<runs of X × x *>"),
    ("deliver", r"编制|出台|制定|建成|完成|举办|召开|开工|投产|引进|新增|培育|认定|组建|成立|设立|启动"),
]
# Outline markers at the start of a segment.
_LIST = re.compile(r"\s*(?:[一二三四五六七八九十]+[是要抓]|第[一二三四五六七八九十]+|[一二三四五六七八九十]+、|"
                   r"[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．]|首先|其次|再次|最后)")
_REVIEW_HEAD = re.compile(r"肯定|成效|成绩|回顾|总结|基本情况|工作情况|进展|主要做法|存在的问题|不足|形势|情况")
_PLAN_HEAD = re.compile(r"要|确保|加快|推进|抓好|强化|加强|突出|坚持|落实|做好|完善|健全|建立|实施|提升|打造|聚焦")
_LABEL_HEAD = re.compile(r"目标|要求|原则|思路|措施|任务|步骤|安排|机制|保障|分工")
_NEIGHBOUR_CUES = ("directive", "must", "strive", "should", "retro", "assess", "number", "procedure", "body")
N_HASH = 1 << 16
_NL = re.compile("\n")
_K1, _K2, _K3 = np.uint64(0x9E3779B1), np.uint64(0x85EBCA77), np.uint64(0xC2B2AE3D)
_MASK = np.uint64(N_HASH - 1)
_STOP, _SEMI, _COLON, _QUESTION = (np.array([ord(c) for c in cs], np.uint64) for cs in ("。！!", "；;", ":：", "?？"))
_CUE_COL = {name: i for i, (name, _) in enumerate(SEG_CUES)}
_PLACEHOLDER = np.array([ord(c) for c in "X×x＊*"], np.uint64)
_NIAN = np.uint64(ord("年"))
_LITERAL = re.compile(r"[^\\.^$*+?{}\[\]()|]+")


def _any_of(codes: np.ndarray, chars: np.ndarray) -> np.ndarray:
    """1.0 where codes equals one of chars (a few equality tests beat np.isin on short lists)."""
    out = codes == chars[0]
    for c in chars[1:]:
        out |= codes == c
    return out.astype(np.float64)


def _h1(c):
    return (c * _K1) & _MASK


def _h2(a, b):
    return (a * _K1 + b * _K2 + np.uint64(1)) & _MASK


def _h3(a, b, c):
    return (a * _K1 + b * _K2 + c * _K3 + np.uint64(2)) & _MASK


def _literal_words(pattern: str) -> list[str] | None:
    """The words of a pattern that is a plain alternation of literals, else None."""
    words = pattern.split("|")
    return words if all(_LITERAL.fullmatch(w) for w in words) else None


@dataclass
class Hashes:
    rows: tuple            # segment row of each 1-, 2-, 3-gram
    keys: tuple            # its hash
    codes: np.ndarray      # code points of the speech's norm text (digits folded)
    lo: int                # offset of codes[0]
    seg_of: np.ndarray     # segment row of each position (-1 between segments)




@dataclass
class SpeechFrame:
    """One speech's segment table as arrays (offsets into doc.text / doc.norm)."""

    starts: np.ndarray
    ends: np.ndarray
    texts: list[str]          # normalised segment texts


def speech_frame(doc, speech) -> SpeechFrame:
    segs = speech.segments
    norm = doc.norm or doc.text
    return SpeechFrame(np.fromiter((s.start for s in segs), np.int64, len(segs)),
                       np.fromiter((s.end for s in segs), np.int64, len(segs)),
                       [norm[s.start:s.end] for s in segs])


@dataclass
class SegmentFeaturizer:
    """Turns a speech's segments into a feature matrix (rows = speech.segments)."""

    evidence_keys: list[str] = field(default_factory=list)   # rule evidence names, fixed at training
    ngram_weight: float = 1.0

    def __getstate__(self):
        d = dict(self.__dict__)
        d.pop("_cue_tables", None)      # rebuilt on first use
        return d

    # -- hashing shared by n-gram features and cue counts ---------------------------
    def hashes(self, doc, frame: SpeechFrame) -> "Hashes":
        """Hashed char 1-, 2- and 3-grams at every position inside a segment, with their rows."""
        n = len(frame.starts)
        norm = doc.norm or doc.text
        lo, hi = (int(frame.starts[0]), int(frame.ends[-1])) if n else (0, 0)
        codes = np.frombuffer(norm[lo:hi].encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        codes[(codes >= 48) & (codes <= 57)] = 48          # all digits alike
        mark = np.zeros(hi - lo + 1, np.int64)
        mark[frame.starts - lo] = 1
        inside = mark.copy()
        inside[frame.ends - lo] -= 1
        seg_of = np.where(np.cumsum(inside)[:-1] > 0, np.cumsum(mark)[:-1] - 1, -1)
        valid = seg_of >= 0
        same2 = valid[:-1] & (seg_of[:-1] == seg_of[1:])
        same3 = same2[:-1] & same2[1:]
        return Hashes(
            rows=(seg_of[valid], seg_of[:-1][same2], seg_of[:-2][same3]),
            keys=(_h1(codes)[valid].astype(np.int64), _h2(codes[:-1], codes[1:])[same2].astype(np.int64),
                  _h3(codes[:-2], codes[1:-1], codes[2:])[same3].astype(np.int64)),
            codes=codes, lo=lo, seg_of=seg_of)

    @property
    def cue_tables(self):
        """Per n-gram order, a table hash -> bitmask of the literal cues whose word hashes there."""
        t = self.__dict__.get("_cue_tables")
        if t is None:
            tables = [np.zeros(N_HASH, np.uint32) for _ in range(3)]
            for j, (_, pat) in enumerate(SEG_CUES):
                if pat.startswith("<"):
                    continue                      # a shape cue, counted from code points
                words = _literal_words(pat)
                if words is None:
                    raise ValueError(f"cue pattern {pat!r} is not a plain alternation of words")
                for w in words:
                    c = np.array([ord(ch) for ch in w[:3]], np.uint64)
                    key = _h1(c)[0] if len(c) == 1 else (_h2(c[:1], c[1:2])[0] if len(c) == 2 else
                                                        _h3(c[:1], c[1:2], c[2:3])[0])
                    tables[len(c) - 1][int(key)] |= np.uint32(1 << j)
            t = tables
            self.__dict__["_cue_tables"] = t
        return t

    def cue_counts(self, frame: SpeechFrame, h: "Hashes") -> np.ndarray:
        """Count of each cue per segment: word cues by table look-up, shape cues from code points."""
        n = len(frame.starts)
        k = len(SEG_CUES)
        if n == 0:
            return np.zeros((0, k))
        tables = self.cue_tables
        out = np.zeros((n, k))
        masks = np.concatenate([tables[o][h.keys[o]] for o in range(3)])
        rows = np.concatenate(h.rows)
        hit = masks != 0
        if hit.any():
            bits = (masks[hit][:, None] >> np.arange(k, dtype=np.uint32)) & np.uint32(1)
            which, j = np.nonzero(bits)
            out += np.bincount(rows[hit][which] * k + j, minlength=n * k).reshape(n, k)
        # shape cues straight from the code points (digits are folded to "0")
        codes, seg_of = h.codes, h.seg_of
        digit = codes == 48
        ph = _any_of(codes, _PLACEHOLDER) > 0
        prev_digit = np.concatenate([[False], digit[:-1]])
        prev_ph = np.concatenate([[False], ph[:-1]])
        year = np.zeros(len(codes), bool)
        if len(codes) > 4:
            year[:-4] = digit[:-4] & digit[1:-3] & digit[2:-2] & digit[3:-1] & (codes[4:] == _NIAN)
        for j, starts in ((self._shape_cols["number"], digit & ~prev_digit),
                          (self._shape_cols["placeholder"], ph & ~prev_ph),
                          (self._shape_cols["year"], year)):
            r = seg_of[starts]
            r = r[r >= 0]
            if len(r):
                out[:, j] += np.bincount(r, minlength=n)
        return out

    _shape_cols = {"number": _CUE_COL["number"], "placeholder": _CUE_COL["placeholder"], "year": _CUE_COL["year"]}

    def dense(self, doc, speech, frame: SpeechFrame, hashes: "Hashes | None" = None) -> np.ndarray:
        norm = doc.norm or doc.text
        n = len(frame.starts)
        h = hashes or self.hashes(doc, frame)
        counts = self.cue_counts(frame, h)
        cues = np.log1p(counts)
        col = _CUE_COL
        lengths = (frame.ends - frame.starts).astype(np.float64)

        # place in the outline: headings are few, so work per heading and spread with arrays
        heads = speech.headings
        nh = len(heads)
        head_level = np.zeros((n, 4))
        is_head = np.zeros(n)
        head_of = np.full(n, -1)           # innermost heading enclosing the segment
        top_of = np.full(n, -1)            # its top-level ancestor
        if nh and n:
            hpos = np.searchsorted(frame.starts, [hd.start for hd in heads])
            ok = (hpos < n)
            ok[ok] = frame.starts[hpos[ok]] == np.array([hd.start for hd in heads], np.int64)[ok]
            hk = np.nonzero(ok)[0]
            hp = hpos[hk]
            is_head[hp] = 1
            head_level[hp, np.minimum([heads[k].level for k in hk], 4) - 1] = 1
            last = np.full(n, -1)
            last[hp] = hk
            cur = np.maximum.accumulate(last)          # latest heading at or before each segment
            parent = np.array([-1 if hd.parent is None else hd.parent for hd in heads], np.int64)
            head_of = cur.copy()
            head_of[hp] = parent[hk]
            top = np.arange(nh)
            for _ in range(4):                         # outline depth is at most 4
                up = parent[top]
                top = np.where(up >= 0, up, top)
            top_of = np.where(head_of >= 0, top[np.maximum(head_of, 0)], -1)
        list_start = np.fromiter((1.0 if _LIST.match(t) else 0.0 for t in frame.texts), np.float64, n)
        # a segment opens a line when a line break lies between it and the previous segment
        nl = np.array([m.start() for m in _NL.finditer(doc.text, max(0, int(frame.starts[0]) - 1) if n else 0,
                                                          int(frame.ends[-1]) if n else 0)], np.int64)
        before = np.searchsorted(nl, frame.starts)
        prev_end = np.concatenate([[frame.starts[0] - 1 if n else 0], frame.ends[:-1]]) if n else frame.ends
        line_start = (before > np.searchsorted(nl, prev_end)).astype(np.float64)
        if n and (frame.starts[0] == 0 or doc.text[frame.starts[0] - 1] == "\n"):
            line_start[0] = 1.0
        lastc = h.codes[frame.ends - 1 - h.lo] if n else np.zeros(0, np.uint64)
        ends_stop, ends_semi, ends_colon, ends_q = (_any_of(lastc, cs) for cs in (_STOP, _SEMI, _COLON, _QUESTION))
        ends_none = 1.0 - ends_stop - ends_semi - ends_colon - ends_q
        relpos = np.arange(n) / max(n - 1, 1)

        hv = np.zeros((nh + 1, 4))   # last row: no enclosing heading
        hv[-1, 3] = 1
        for k, hd in enumerate(heads):
            t = norm[hd.start:hd.end]
            hv[k, :3] = (bool(_REVIEW_HEAD.search(t)), bool(_PLAN_HEAD.search(t)), bool(_LABEL_HEAD.search(t)))

        def heading_cues(which: np.ndarray) -> np.ndarray:
            return hv[which]          # index -1 is the "none" row

        own_head = np.zeros((n, 3))
        if nh and n:
            own_head[hp] = hv[hk, :3]

        # share of segments with retrospective cues in the same section (review vs plan)
        sect = head_of.copy()
        retro = (counts[:, col["retro"]] > 0).astype(np.float64)
        direc = (counts[:, col["directive"]] > 0).astype(np.float64)
        sid = sect + 1                      # -1 (no section) -> 0
        size = np.bincount(sid).astype(np.float64)
        size[size == 0] = 1
        sect_retro = (np.bincount(sid, weights=retro) / size)[sid]
        sect_dir = (np.bincount(sid, weights=direc) / size)[sid]

        nb = [col[c] for c in _NEIGHBOUR_CUES]
        prev = np.vstack([np.zeros((1, len(nb))), cues[:-1, nb]]) if n else np.zeros((0, len(nb)))
        nxt = np.vstack([cues[1:, nb], np.zeros((1, len(nb)))]) if n else np.zeros((0, len(nb)))
        first = np.zeros(n)
        if n:
            first[0] = 1
        kind, opens = section_kinds(speech, frame)
        return np.hstack([
            cues, np.log1p(lengths)[:, None] / 5, (lengths < 25)[:, None] * 1.0,
            is_head[:, None], head_level, own_head, list_start[:, None], line_start[:, None],
            ends_stop[:, None], ends_semi[:, None], ends_colon[:, None], ends_none[:, None],
            relpos[:, None], first[:, None],
            heading_cues(head_of), heading_cues(top_of), sect_retro[:, None], sect_dir[:, None],
            prev, nxt,
            kind, opens[:, None],
            np.vstack([np.zeros((1, kind.shape[1])), kind[:-1]]) if n else kind,
            np.vstack([kind[1:], np.zeros((1, kind.shape[1]))]) if n else kind,
        ])

    # -- hashed character n-grams ---------------------------------------------------
    def ngram_entries(self, doc, frame: SpeechFrame, hashes: "Hashes | None" = None):
        """(row, hashed column, value) of every char 1-3 gram and segment-initial 1-2 gram.

        A row's values are 1/sqrt(its number of n-grams): summed per column they are the
        length-normalised counts the model is trained on, so prediction needs no sparse matrix.
        """
        n = len(frame.starts)
        if n == 0:
            z = np.zeros(0, np.int64)
            return z, z, np.zeros(0)
        h = hashes or self.hashes(doc, frame)
        codes, lo = h.codes, h.lo
        m = np.uint64(N_HASH - 1)
        st = (frame.starts - lo).astype(np.int64)
        ok = (frame.ends - frame.starts) > 1
        rows = np.concatenate([*h.rows, np.arange(n), np.arange(n)[ok]])
        cols = np.concatenate([*h.keys, ((codes[st] * _K3 + np.uint64(3)) & m).astype(np.int64),
                               ((codes[st[ok]] * _K3 + codes[st[ok] + 1] * _K1 + np.uint64(4)) & m).astype(np.int64)])
        per_row = np.bincount(rows, minlength=n).astype(np.float64)
        per_row[per_row == 0] = 1
        vals = (self.ngram_weight / np.sqrt(per_row))[rows]
        return rows, cols, vals

    def parts(self, doc, speech) -> "SegmentParts":
        """Everything the linear models need for a speech, without building a sparse matrix."""
        frame = speech_frame(doc, speech)
        h = self.hashes(doc, frame)
        rows, cols, vals = self.ngram_entries(doc, frame, h)
        return SegmentParts(len(frame.starts), rows, cols, vals, self.dense(doc, speech, frame, h))

    def base(self, doc, speech):
        """Text-only feature matrix of a speech's segments (the "ml" extractor's input; training only)."""
        from scipy import sparse
        p = self.parts(doc, speech)
        X = sparse.csr_matrix((p.vals, (p.rows, p.cols)), shape=(p.n, N_HASH))
        X.sum_duplicates()
        return sparse.hstack([X, sparse.csr_matrix(p.dense)], format="csr")

    def rule_dense(self, rules: "RuleView") -> np.ndarray:
        """The rule decision, its modality, the neighbours' decisions and the rule evidence."""
        n = len(rules.flag)
        k = len(self.evidence_keys)
        ev = np.zeros((n, k))
        col = self.__dict__.get("_evidence_col")
        if col is None or len(col) != k:
            col = self.__dict__["_evidence_col"] = {key: j for j, key in enumerate(self.evidence_keys)}
        for i, e in enumerate(rules.evidence):
            for key, v in e.items():
                j = col.get(key)
                if j is not None:
                    ev[i, j] = v
        f = rules.flag
        prev = np.concatenate([[0.0], f[:-1]]) if n else f
        nxt = np.concatenate([f[1:], [0.0]]) if n else f
        prev2 = np.concatenate([[0.0, 0.0], f[:-2]])[:n] if n else f
        nxt2 = np.concatenate([f[2:], [0.0, 0.0]])[:n] if n else f
        around = prev + nxt
        return np.column_stack([f, rules.modality, prev, nxt, prev2, nxt2, around == 2, around == 0,
                                f * (around == 0), (1 - f) * (around == 2), ev]) if n else np.zeros((0, 13 + k))

    def rule_columns(self, rules: "RuleView"):
        """The rule decision, its modality and the rule evidence, one row per segment (training only)."""
        from scipy import sparse
        return sparse.csr_matrix(self.rule_dense(rules))



def section_kinds(speech, frame: SpeechFrame) -> tuple[np.ndarray, np.ndarray]:
    """One-hot kind of the section holding each segment (SECTION_KINDS + none), and 1.0 where a section opens.

    Sections come from the structure stage (Speech.sections, sorted and non-overlapping).
    """
    n = len(frame.starts)
    k = len(SECTION_KINDS)
    kind = np.zeros((n, k + 1))
    opens = np.zeros(n)
    secs = [s for s in getattr(speech, "sections", ()) if s.kind in SECTION_KINDS]
    if not n:
        return kind, opens
    which = np.full(n, k)
    for sec in secs:
        a, b = np.searchsorted(frame.starts, [sec.start, sec.end])
        if b > a:
            which[a:b] = SECTION_KINDS.index(sec.kind)
            opens[a] = 1.0
    kind[np.arange(n), which] = 1.0
    return kind, opens


@dataclass
class SegmentParts:
    """A speech's segment features in pieces: n-gram entries plus dense columns."""

    n: int
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    dense: np.ndarray


@dataclass
class RuleView:
    """What the rule extractor said about each segment of a speech."""

    flag: np.ndarray                 # 1.0 when a rule task covers the segment
    modality: np.ndarray             # (n, 3) one-hot must/strive/should of that task
    evidence: list[dict[str, float]]
    task_of: list[int]               # index into speech.tasks, or -1


MODALITIES = ("must", "strive", "should")


def rule_view(doc, speech, config=None, with_evidence: bool | str = True) -> RuleView:
    """Map the rule tasks of a speech onto its segments and collect rule evidence."""
    segs = speech.segments
    n = len(segs)
    flag = np.zeros(n)
    mod = np.zeros((n, 3))
    task_of = [-1] * n
    starts = np.fromiter((s.start for s in segs), np.int64, n)
    for ti, t in enumerate(speech.tasks):
        i = int(np.searchsorted(starts, t.start, side="right")) - 1
        i = max(i, 0)
        while i < n and segs[i].start < t.end:
            s = segs[i]
            ov = min(s.end, t.end) - max(s.start, t.start)
            if ov * 2 >= (s.end - s.start):
                flag[i] = 1
                mod[i, MODALITIES.index(t.modality) if t.modality in MODALITIES else 2] = 1
                task_of[i] = ti
            i += 1
    evidence: list[dict[str, float]] = [{} for _ in segs]
    if with_evidence:
        evidence = [rule_evidence(doc, speech, s, task_of[i]) for i, s in enumerate(segs)]
    return RuleView(flag, mod, evidence, task_of)


def rule_evidence(doc, speech, seg, task_index: int) -> dict[str, float]:
    """Rule evidence of a segment keyed by rule id, read generically (no copy of the rule vocabulary).

    The task cue weights the rule stage left (doc.task_evidence), the ids of the rules that
    made the covering task (Task.rules, "task:" + id) and of the rules that typed the
    enclosing section (Section.rules, "section:" + id). The model's vocabulary of these keys
    is fixed at training; ids it never saw are ignored.
    """
    ev = dict(doc.task_evidence.get(seg.start, {}))
    if task_index >= 0:
        for rid in speech.tasks[task_index].rules:
            ev["task:" + rid] = 1.0
    sec = speech.section_at(seg.start) if getattr(speech, "sections", None) else None
    if sec is not None:
        for rid in sec.rules:
            ev["section:" + rid] = 1.0
    return ev



# --------------------------------------------------------------------------------------
# Character features for the unit CRF
# --------------------------------------------------------------------------------------
# Characters and words that end the name of a body.
UNIT_END = re.compile(r"(?:部门|单位|政府|党委|街道|乡镇|镇街|专班|小组|中心|公司|集团|企业|园区|新区|开发区|经开区|"
                      r"集中区|高新区|办事处|委员会|管委会|督查室|办公室|系统|两级|各级|[局委办厅府院室处科站所组队部区县市乡镇街])"
                      r"(?:[(（][^()（）]{1,3}[)）])?")
# Where a window may begin: cues that a body is named nearby.
WINDOW_CUE = re.compile(r"局|委|办|厅|部门|单位|政府|室|专班|小组|街道|乡镇|镇街|"
                        r"各[级县市区乡镇街部有相企金单地牵责帮]|"
                        r"牵头|负责|配合|参加|协助|会同|园区|新区|开发区|经开区|集中区|高新区|中心|公司|系统|两级|市里|县里")
_AFTER = "要将应负牵配参协会等及和与、，,：:（(由"
_BEFORE = "、，,。；;：:由请和及与同会"
WINDOW_LEFT, WINDOW_RIGHT = 16, 4


def candidate_windows(norm: str, start: int, end: int, known: list[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Merged [s, e) windows of norm[start:end] that may hold a responsible unit.

    Cues inside `known` spans (units already found) open no window of their own.
    """
    spans: list[tuple[int, int]] = []
    for m in WINDOW_CUE.finditer(norm, start, end):
        if known and any(a <= m.start() < b for a, b in known):
            continue
        s, e = max(start, m.start() - WINDOW_LEFT), min(end, m.end() + WINDOW_RIGHT)
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], e))
        else:
            spans.append((s, e))
    return spans


def _bucket(d: int) -> str:
    return str(d) if d < 4 else ("4" if d < 7 else ("7" if d < 11 else "L"))


@dataclass
class CharFeaturizer:
    """String features for each character of a window (fed to crfsuite as binary features)."""

    lexicon: list[str] = field(default_factory=list)
    _lex_rx: re.Pattern | None = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_lex_rx"] = None
        return d

    @property
    def lex_rx(self) -> re.Pattern | None:
        if self._lex_rx is None and self.lexicon:
            words = sorted(set(self.lexicon), key=len, reverse=True)
            self._lex_rx = re.compile("|".join(map(re.escape, words)))
        return self._lex_rx

    def window(self, norm: str, s: int, e: int) -> list[list[str]]:
        w = norm[s:e]
        n = len(w)
        ctx = norm[max(0, s - 2):s].rjust(2, "^") + w + norm[e:e + 2].ljust(2, "$")
        ctx = re.sub(r"\d", "0", ctx)
        # B/I/E tags of lexicon and suffix matches
        lex = ["-"] * n
        rx = self.lex_rx
        if rx is not None:
            for m in rx.finditer(w):
                a, b = m.span()
                lex[a] = "B"
                for k in range(a + 1, b):
                    lex[k] = "I"
                lex[b - 1] = "E" if b - 1 > a else "S"
        end = [0] * n
        for m in UNIT_END.finditer(w):
            end[m.end() - 1] = 1
        # distance to the next body ending and from the previous delimiter
        nxt_end = [99] * n
        d = 99
        for i in range(n - 1, -1, -1):
            d = 0 if end[i] else d + 1
            nxt_end[i] = d
        prv_del = [99] * n
        d = 99
        for i in range(n):
            c = ctx[i + 1]
            d = 0 if c in _BEFORE else d + 1
            prv_del[i] = d
        out = []
        for i in range(n):
            j = i + 2
            c, p, q = ctx[j], ctx[j - 1], ctx[j + 1]
            out.append(["c=" + c, "p=" + p, "n=" + q, "pc=" + p + c, "cn=" + c + q, "pp=" + ctx[j - 2],
                        "L=" + lex[i], "E" + str(end[i]) + q if end[i] else "E0",
                        "d=" + _bucket(nxt_end[i]) + _bucket(prv_del[i]),
                        "ab=" + ("1" if q in _AFTER else "0") + ("1" if p in _BEFORE else "0")])
        return out
