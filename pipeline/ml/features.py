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
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import chain, repeat

import numpy as np

from speechledger.doc import SECTION_KINDS
from speechledger.segment import WORD_GAP

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
_K1, _K2, _K3 = np.uint64(0x9E3779B1), np.uint64(0x85EBCA77), np.uint64(0xC2B2AE3D)
_CUE_COL = {name: i for i, (name, _) in enumerate(SEG_CUES)}
_LITERAL = re.compile(r"[^\\.^$*+?{}\[\]()|]+")
# the hashes keep their low 16 bits only, so uint32 arithmetic (wrapping mod 2**32) gives the same keys
_K1_32, _K2_32, _K3_32 = np.uint32(0x9E3779B1), np.uint32(0x85EBCA77), np.uint32(0xC2B2AE3D)
_MASK_32 = np.uint32(N_HASH - 1)
# shape cue class of a code point below 0x10000: 1 digit (folded to "0"), 2 placeholder
_SHAPE_CLASS = np.zeros(0x10000, np.uint8)
_SHAPE_CLASS[48] = 1
_SHAPE_CLASS[[ord(c) for c in "X×x＊*"]] = 2
_NIAN32 = np.uint32(ord("年"))
# last character of a segment -> its column: ends_stop / ends_semi / ends_colon, else ends_none (3);
# a question mark sets none of them (-1)
_END_COL = {**{c: 0 for c in "。！!"}, **{c: 1 for c in "；;"}, **{c: 2 for c in ":："}, **{c: -1 for c in "?？"}}
_NEIGHBOUR_COLS = [_CUE_COL[c] for c in _NEIGHBOUR_CUES]
_KIND_INDEX = {kd: i for i, kd in enumerate(SECTION_KINDS)}


def _layout(widths: list[tuple[str, int]]) -> dict[str, slice | int]:
    out, k = {}, 0
    for name, w in widths:
        out[name] = k if w == 0 else slice(k, k + w)
        k += max(w, 1)
    out["_width"] = k
    return out


# the dense columns in order (width 0: a single column addressed by its index)
_DENSE = _layout([("cues", len(SEG_CUES)), ("loglen", 0), ("short", 0), ("is_head", 0), ("head_level", 4),
                  ("own_head", 3), ("list_start", 0), ("line_start", 0), ("ends", 3), ("ends_none", 0),
                  ("relpos", 0), ("first", 0), ("head_cues", 4), ("top_cues", 4), ("sect_retro", 0),
                  ("sect_dir", 0), ("prev", len(_NEIGHBOUR_CUES)), ("next", len(_NEIGHBOUR_CUES)),
                  ("kind", len(SECTION_KINDS) + 1), ("opens", 0), ("prev_kind", len(SECTION_KINDS) + 1),
                  ("next_kind", len(SECTION_KINDS) + 1)])
DENSE_WIDTH = _DENSE["_width"]


def _hash_word(c: list[int]) -> int:
    """The n-gram hash of a word's first 1-3 code points (as hashes() computes it)."""
    m = (1 << 64) - 1
    k1, k2, k3 = int(_K1), int(_K2), int(_K3)
    if len(c) == 1:
        return (c[0] * k1) & m & (N_HASH - 1)
    if len(c) == 2:
        return (c[0] * k1 + c[1] * k2 + 1) & m & (N_HASH - 1)
    return (c[0] * k1 + c[1] * k2 + c[2] * k3 + 2) & m & (N_HASH - 1)


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
    text: str = ""         # norm[lo:hi]
    all_rows: np.ndarray | None = None   # rows of the 1-, 2- and 3-grams, concatenated
    all_keys: np.ndarray | None = None   # their hashes, the 2-grams' + N_HASH, the 3-grams' + 2 * N_HASH
    # frames of several speeches: the speech of each position (-1 between two speeches' segments),
    # so that no cue read off the code points runs from one speech into the next; None for one speech
    region: np.ndarray | None = None
    # with PDF spaces left out (_pdf_gaps): each position's place in codes/seg_of; None when none was
    index: np.ndarray | None = None




@dataclass
class SpeechFrame:
    """The segment table of one or more speeches of a document as arrays (offsets into doc.text /
    doc.norm): the rows of speech j are first_rows[j]:first_rows[j + 1]. Features are computed for
    all of them at once, each row as it would be in a frame of its speech alone."""

    starts: np.ndarray
    ends: np.ndarray
    texts: list[str]          # normalised segment texts
    start_list: list[int] = field(default_factory=list)    # starts and ends as Python ints
    end_list: list[int] = field(default_factory=list)
    speeches: list = field(default_factory=list)
    first_rows: list[int] = field(default_factory=list)    # len(speeches) + 1 row bounds


def speech_frame(doc, speech) -> SpeechFrame:
    return speeches_frame(doc, [speech])


def speeches_frame(doc, speeches) -> SpeechFrame:
    """The frame of the given speeches (in document order); those without segments are left out."""
    norm = doc.norm or doc.text
    speeches = [sp for sp in speeches if sp.segments]
    st, en, bounds = [], [], [0]
    for sp in speeches:
        for s in sp.segments:
            st.append(s.start)
            en.append(s.end)
        bounds.append(len(st))
    return SpeechFrame(np.array(st, np.int64), np.array(en, np.int64), [norm[a:b] for a, b in zip(st, en)], st, en,
                       list(speeches), bounds)


def _span_index(starts: np.ndarray, ends: np.ndarray, lo: int) -> np.ndarray:
    """For each position from lo to ends[-1]: j inside the sorted, disjoint span [starts[j], ends[j]), else -1."""
    n = len(starts)
    bounds = np.empty(2 * n, np.int64)
    bounds[0::2] = starts
    bounds[1::2] = ends
    vals = np.full(2 * n, -1, np.int64)
    vals[1::2] = np.arange(n)
    lens = np.empty(2 * n, np.int64)
    lens[0] = bounds[0] - lo
    np.subtract(bounds[1:], bounds[:-1], out=lens[1:])
    return np.repeat(vals, lens)


def _pdf_gaps(text: str) -> np.ndarray | None:
    """The positions of text that PDF extraction spaced in (segment.WORD_GAP, as the task cues read
    them), or None. (Compiled here, in a pipeline run, where the regex cache serves it.)"""
    if " " not in text and "\t" not in text and "\u3000" not in text:
        return None
    spans = [m.span() for m in re.compile(WORD_GAP).finditer(text)]
    if not spans:
        return None
    gaps = np.zeros(len(text), bool)
    for a, b in spans:
        gaps[a:b] = True
    return gaps


@dataclass
class SegmentFeaturizer:
    """Turns a speech's segments into a feature matrix (rows = speech.segments)."""

    evidence_keys: list[str] = field(default_factory=list)   # rule evidence names, fixed at training
    ngram_weight: float = 1.0

    def __getstate__(self):
        d = dict(self.__dict__)
        d.pop("_cue_tables", None)      # rebuilt on first use
        d.pop("_cue_ids", None)
        d.pop("_task_cols_cache", None)
        return d

    # -- hashing shared by n-gram features and cue counts ---------------------------
    def hashes(self, doc, frame: SpeechFrame) -> "Hashes":
        """Hashed char 1-, 2- and 3-grams at every position inside a segment, with their rows."""
        n = len(frame.starts)
        norm = doc.norm or doc.text
        if n == 0:
            z = np.zeros(0, np.int64)
            return Hashes(rows=(z, z, z), keys=(z, z, z), codes=np.zeros(0, np.uint32), lo=0, seg_of=z,
                          text="", all_rows=z, all_keys=z)
        lo, hi = frame.start_list[0], frame.end_list[-1]
        text = norm[lo:hi]
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()
        seg_of = _span_index(frame.starts, frame.ends, lo)     # segment row of each position
        index = None
        gaps = _pdf_gaps(text)
        if gaps is not None:
            # PDF text's spaces between words and around numbers ("增长 5.3 %") are read as absent, as the
            # rules read them: the n-grams and shape cues run over the text without them
            keep = ~gaps
            index = np.cumsum(keep) - 1             # position -> its place in the kept positions
            codes, seg_of = codes[keep], seg_of[keep]
        codes[(codes - np.uint32(48)) < 10] = 48          # all digits alike
        valid = seg_of >= 0
        same2 = valid[:-1] & (seg_of[:-1] == seg_of[1:])
        same3 = same2[:-1] & same2[1:]
        a, b = codes * _K1_32, codes * _K2_32
        k1 = (a & _MASK_32)[valid].astype(np.int64)
        k2 = ((a[:-1] + b[1:] + np.uint32(1)) & _MASK_32)[same2].astype(np.int64)
        k3 = ((a[:-2] + b[1:-1] + codes[2:] * _K3_32 + np.uint32(2)) & _MASK_32)[same3].astype(np.int64)
        rows = (seg_of[valid], seg_of[:-1][same2], seg_of[:-2][same3])
        region = None
        if len(frame.first_rows) > 2:
            # speech j spans its first segment's start to its last segment's end
            fr = np.array(frame.first_rows, np.int64)
            region = _span_index(frame.starts[fr[:-1]], frame.ends[fr[1:] - 1], lo)
            if gaps is not None:
                region = region[~gaps]
        return Hashes(rows=rows, keys=(k1, k2, k3), codes=codes, lo=lo, seg_of=seg_of, text=text,
                      all_rows=np.concatenate(rows), all_keys=np.concatenate([k1, k2 + N_HASH, k3 + 2 * N_HASH]),
                      region=region, index=index)

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
                    c = [ord(ch) for ch in w[:3]]
                    key = _hash_word(c)
                    tables[len(c) - 1][key] |= np.uint32(1 << j)
            t = tables
            self.__dict__["_cue_tables"] = t
        return t

    @property
    def cue_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, M): a small id per hash slot of the three cue tables end to end (indexed by
        Hashes.all_keys; the slots holding the same set of cues share one), ids 0..m-1, then m, m+1
        and m+2 standing for the number, placeholder and year shape cues; M (ids x cues) is 1
        where an id stands for the cue, so counts per id times M are the counts per cue."""
        t = self.__dict__.get("_cue_ids")
        if t is None:
            masks, ids = _unique_inverse(np.concatenate(self.cue_tables))
            k, m = len(SEG_CUES), len(masks)
            assert masks[0] == 0 and m + 3 < 256
            M = np.zeros((m + 3, k))
            M[:m] = (masks[:, None] >> np.arange(k, dtype=np.uint32)) & np.uint32(1)
            for i, name in enumerate(("number", "placeholder", "year")):
                M[m + i, _CUE_COL[name]] = 1.0
            t = self.__dict__["_cue_ids"] = (ids.astype(np.uint8), M)     # few ids: a table that stays in cache
        return t

    def cue_counts(self, frame: SpeechFrame, h: "Hashes") -> np.ndarray:
        """Count of each cue per segment: word cues by table look-up, shape cues from the text.

        One bincount over (segment row, cue id) pairs, then a product with the id-to-cue
        matrix: integer counts, so the float64 values are exact (any summation order)."""
        n = len(frame.starts)
        k = len(SEG_CUES)
        if n == 0:
            return np.zeros((0, k))
        ids, M = self.cue_ids
        w = M.shape[0]
        m = w - 3
        at = ids[h.all_keys]
        hit = np.flatnonzero(at)              # id 0: no cue
        idx = [h.all_rows[hit] * w + at[hit]]
        # shape cues: where a run of digits / of placeholders starts, where a year (dddd年) starts
        codes, seg_of = h.codes, h.seg_of
        cls = _SHAPE_CLASS[np.minimum(codes, 0xFFFF)]
        on = np.flatnonzero(cls)
        if len(on):
            c = cls[on]
            # a run starts where the class differs from the previous position's
            first = np.ones(len(on), bool)
            first[1:] = (on[1:] != on[:-1] + 1) | (c[1:] != c[:-1])
            if h.region is not None:         # and where a speech begins
                first[1:] |= h.region[on[1:]] != h.region[on[:-1]]
            pos = on[first]
            r = seg_of[pos]
            keep = r >= 0
            idx.append(r[keep] * w + (m - 1) + c[first][keep])
            if len(codes) > 4:
                pos = np.flatnonzero(codes[4:] == _NIAN32)
                if len(pos):
                    digit = cls == 1
                    pos = pos[digit[pos] & digit[pos + 1] & digit[pos + 2] & digit[pos + 3]]
                    if h.region is not None:
                        pos = pos[h.region[pos] == h.region[pos + 4]]
                    r = seg_of[pos]
                    idx.append(r[r >= 0] * w + (m + 2))
        per_id = np.bincount(np.concatenate(idx) if len(idx) > 1 else idx[0], minlength=n * w)
        return per_id.reshape(n, w).astype(np.float64) @ M     # (float @ float: BLAS; int @ float is slower)

    def dense(self, doc, frame: SpeechFrame, hashes: "Hashes | None" = None) -> np.ndarray:
        """The DENSE_WIDTH dense columns of each segment, filled into one matrix (see _DENSE for the layout).

        Several speeches are done together: whatever depends on the speech (outline, neighbours,
        position, sections) is computed per speech's rows, so each row is as in its speech's frame.
        """
        norm = doc.norm or doc.text
        n = len(frame.starts)
        if n == 0:
            return np.zeros((0, DENSE_WIDTH))
        h = hashes or self.hashes(doc, frame)
        counts = self.cue_counts(frame, h)
        col = _CUE_COL
        c = _DENSE
        out = np.zeros((n, DENSE_WIDTH))
        cues = np.log1p(counts)
        out[:, c["cues"]] = cues
        starts, ends = frame.start_list, frame.end_list
        lengths = (frame.ends - frame.starts).astype(np.float64)
        out[:, c["loglen"]] = np.log1p(lengths) / 5
        out[:, c["short"]] = lengths < 25
        firsts = frame.first_rows[:-1]                  # each speech's first row
        lasts = [r - 1 for r in frame.first_rows[1:]]   # and its last

        # place in the outline: headings are few, so work per heading and spread with arrays. Each
        # speech has a "no heading" slot, then a slot per heading; slots increase through the document
        hv_rows: list[tuple] = []     # (review, plan, label, none) of each slot
        bases: list[int] = []         # each speech's none slot
        hk, hp = [], []               # slots of the headings that open a segment, and that segment's row
        parent_slot: list[int] = []   # of each slot: the slot of the enclosing heading (a none slot: itself)
        top_slot: list[int] = []      # of each slot: the slot of its top-level ancestor
        level: list[int] = []
        for j, speech in enumerate(frame.speeches):
            heads = speech.headings
            base = len(hv_rows)
            bases.append(base)
            r0, r1 = frame.first_rows[j], frame.first_rows[j + 1]
            hv_rows.append((0, 0, 0, 1))
            parent_slot.append(base)
            top_slot.append(base)
            level.append(0)
            parent = [-1 if hd.parent is None else hd.parent for hd in heads]
            top = list(range(len(heads)))
            for _ in range(4):                         # outline depth is at most 4
                top = [parent[t] if parent[t] >= 0 else t for t in top]
            for k, hd in enumerate(heads):
                t = norm[hd.start:hd.end]
                hv_rows.append((bool(_REVIEW_HEAD.search(t)), bool(_PLAN_HEAD.search(t)),
                                bool(_LABEL_HEAD.search(t)), 0))
                parent_slot.append(base + 1 + parent[k] if parent[k] >= 0 else base)
                top_slot.append(base + 1 + top[k])
                level.append(hd.level)
                i = bisect_left(starts, hd.start, r0, r1)
                if i < r1 and starts[i] == hd.start:
                    hk.append(base + 1 + k)
                    hp.append(i)
        hv = np.array(hv_rows, np.float64)
        last = np.full(n, -1)
        last[firsts] = bases
        if hk:
            out[hp, c["is_head"]] = 1
            out[hp, [c["head_level"].start + min(level[k], 4) - 1 for k in hk]] = 1
            out[hp, c["own_head"]] = hv[hk, :3]
            last[hp] = hk
        head_of = np.maximum.accumulate(last)          # latest heading at or before each segment (or none)
        if hk:
            head_of[hp] = [parent_slot[k] for k in hk]  # innermost heading enclosing the segment
        top_of = np.array(top_slot)[head_of]           # its top-level ancestor
        out[:, c["list_start"]] = [1.0 if _LIST.match(t) else 0.0 for t in frame.texts]
        # a segment opens a line when a line break lies between it and the previous segment
        text = doc.text
        prev_end = [0] + ends[:-1]
        for r in firsts:
            prev_end[r] = max(0, starts[r] - 1)
        out[:, c["line_start"]] = [1.0 if text.find("\n", a, b) >= 0 else 0.0 for a, b in zip(prev_end, starts)]
        if starts[0] == 0:
            out[0, c["line_start"]] = 1.0
        end_col = _END_COL
        which = [(i, end_col.get(norm[e - 1], 3)) for i, e in enumerate(ends)]
        out[[i for i, j in which if j >= 0], [c["ends"].start + j for _, j in which if j >= 0]] = 1.0
        if len(firsts) == 1:
            out[:, c["relpos"]] = np.arange(n) / max(n - 1, 1)
        else:
            sizes = np.diff(frame.first_rows)
            out[:, c["relpos"]] = (np.arange(n) - np.repeat(firsts, sizes)) / np.repeat(np.maximum(sizes - 1, 1), sizes)
        out[firsts, c["first"]] = 1
        out[:, c["head_cues"]] = hv[head_of]
        out[:, c["top_cues"]] = hv[top_of]

        # share of segments with retrospective cues in the same section (review vs plan)
        retro = (counts[:, col["retro"]] > 0).astype(np.float64)
        direc = (counts[:, col["directive"]] > 0).astype(np.float64)
        size = np.bincount(head_of).astype(np.float64)
        size[size == 0] = 1
        out[:, c["sect_retro"]] = (np.bincount(head_of, weights=retro) / size)[head_of]
        out[:, c["sect_dir"]] = (np.bincount(head_of, weights=direc) / size)[head_of]

        nb = _NEIGHBOUR_COLS
        out[1:, c["prev"]] = cues[:-1, nb]
        out[:-1, c["next"]] = cues[1:, nb]
        kind = out[:, c["kind"]]
        section_kinds(frame, out=(kind, out[:, c["opens"]]))
        out[1:, c["prev_kind"]] = kind[:-1]
        out[:-1, c["next_kind"]] = kind[1:]
        if len(firsts) > 1:                   # no neighbour across a speech boundary
            out[firsts[1:], c["prev"]] = 0
            out[firsts[1:], c["prev_kind"]] = 0
            out[lasts[:-1], c["next"]] = 0
            out[lasts[:-1], c["next_kind"]] = 0
        return out

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
        if h.index is not None:
            st = h.index[st]
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
        return self.parts_of(doc, [speech])

    def parts_of(self, doc, speeches) -> "SegmentParts":
        """parts() of several speeches of a document at once: their rows one after the other,
        each as parts(doc, speech) has it (first_rows says where each speech begins)."""
        frame = speeches_frame(doc, speeches)
        h = self.hashes(doc, frame)
        rows, cols, vals = self.ngram_entries(doc, frame, h)
        return SegmentParts(len(frame.starts), rows, cols, vals, self.dense(doc, frame, h), frame.first_rows)

    def base(self, doc, speech):
        """Text-only feature matrix of a speech's segments (the "ml" extractor's input; training only)."""
        from scipy import sparse
        p = self.parts(doc, speech)
        X = sparse.csr_matrix((p.vals, (p.rows, p.cols)), shape=(p.n, N_HASH))
        X.sum_duplicates()
        return sparse.hstack([X, sparse.csr_matrix(p.dense)], format="csr")

    def _evidence_cols(self) -> dict[str, int]:
        k = len(self.evidence_keys)
        col = self.__dict__.get("_evidence_col")
        if col is None or len(col) != k:
            col = self.__dict__["_evidence_col"] = {key: j for j, key in enumerate(self.evidence_keys)}
        return col

    def _rule_columns(self, rules: "RuleView", first_rows: list[int] | None = None) -> np.ndarray:
        """The 12 rule decision columns, with room for the evidence columns after them.

        first_rows: the bounds of several speeches' rows (SpeechFrame.first_rows): no neighbour
        across them."""
        n = len(rules.flag)
        out = np.zeros((n, 12 + len(self.evidence_keys)))
        f = rules.flag
        out[:, 0] = f
        out[:, 1:4] = rules.modality
        prev, nxt, prev2, nxt2 = out[:, 4], out[:, 5], out[:, 6], out[:, 7]
        prev[1:] = f[:-1]
        nxt[:-1] = f[1:]
        prev2[2:] = f[:-2]
        nxt2[:-2] = f[2:]
        if first_rows is not None and len(first_rows) > 2:
            starts = np.array(first_rows[1:-1])      # a row's neighbours one and two back are in its speech
            prev[starts] = 0
            prev2[starts] = 0
            prev2[starts + 1] = 0
            nxt[starts - 1] = 0
            nxt2[starts - 1] = 0
            nxt2[starts - 2] = 0
        around = prev + nxt
        out[:, 8] = around == 2
        out[:, 9] = around == 0
        out[:, 10] = f * (around == 0)
        out[:, 11] = (1 - f) * (around == 2)
        return out

    def _task_cols(self, rules: list[str], col: dict[str, int]) -> list[int]:
        """The evidence columns of a task's rule ids (few distinct id lists: cached per list)."""
        cache = self.__dict__.get("_task_cols_cache")
        if cache is None or cache[0] is not col:
            cache = self.__dict__["_task_cols_cache"] = (col, {})
        key = tuple(rules)
        out = cache[1].get(key)
        if out is None:
            out = cache[1][key] = [12 + col[k] for k in ("task:" + rid for rid in rules) if k in col]
        return out

    def _fill_evidence(self, out: np.ndarray, ev: list[dict[str, float]]) -> None:
        """Write evidence dicts (one per row, keys unique per dict) into their columns, in one pass each."""
        n = len(ev)
        total = sum(map(len, ev))
        if not total:
            return
        col = self._evidence_cols()
        rows = np.repeat(np.arange(n), np.fromiter(map(len, ev), np.int64, n))
        cols = np.fromiter(map(col.get, chain.from_iterable(ev), repeat(-13, total)), np.int64, total) + 12
        vals = np.fromiter(chain.from_iterable(e.values() for e in ev), np.float64, total)
        known = cols >= 12
        out[rows[known], cols[known]] = vals[known]

    def rule_dense(self, rules: "RuleView") -> np.ndarray:
        """The rule decision, its modality, the neighbours' decisions and the rule evidence."""
        n = len(rules.flag)
        if not n:
            return np.zeros((0, 13 + len(self.evidence_keys)))
        out = self._rule_columns(rules)
        self._fill_evidence(out, rules.evidence)
        return out

    def rule_dense_of(self, doc, speech, rules: "RuleView") -> np.ndarray:
        """rule_dense(rule_view(doc, speech, with_evidence=True)) from a view without evidence, building no
        per-segment dicts: the same values written in the same order (task cue weights, then the covering
        task's rule ids, then the section's)."""
        return self.rule_dense_of_all(doc, [speech], rules)

    def rule_dense_of_all(self, doc, speeches, rules: "RuleView") -> np.ndarray:
        """rule_dense_of for several speeches at once: rules = rule_view_of(doc, speeches)."""
        n = len(rules.flag)
        if not n:
            return np.zeros((0, 13 + len(self.evidence_keys)))
        speeches = [sp for sp in speeches if sp.segments]
        first_rows = [0]
        for sp in speeches:
            first_rows.append(first_rows[-1] + len(sp.segments))
        out = self._rule_columns(rules, first_rows)
        task_ev = doc.task_evidence
        empty: dict = {}
        self._fill_evidence(out, [task_ev.get(s.start, empty) for sp in speeches for s in sp.segments])
        col = self._evidence_cols()
        tcols = [self._task_cols(t.rules, col) for sp in speeches for t in sp.tasks]
        rows, cols = [], []
        for i, ti in enumerate(rules.task_of):
            if ti >= 0 and tcols[ti]:
                rows += [i] * len(tcols[ti])
                cols += tcols[ti]
        out[rows, cols] = 1.0
        rows, cols = [], []
        i = 0
        for sp in speeches:
            secs = getattr(sp, "sections", None) or []
            j = -1
            for s in sp.segments:
                while j + 1 < len(secs) and secs[j + 1].start <= s.start:
                    j += 1
                if j >= 0 and s.start < secs[j].end:
                    for rid in secs[j].rules:
                        c = col.get("section:" + rid)
                        if c is not None:
                            rows.append(i)
                            cols.append(12 + c)
                i += 1
        out[rows, cols] = 1.0
        return out

    def rule_columns(self, rules: "RuleView"):
        """The rule decision, its modality and the rule evidence, one row per segment (training only)."""
        from scipy import sparse
        return sparse.csr_matrix(self.rule_dense(rules))



def section_kinds(frame: SpeechFrame, out=None) -> tuple[np.ndarray, np.ndarray]:
    """One-hot kind of the section holding each segment (SECTION_KINDS + none), and 1.0 where a section opens.

    Sections come from the structure stage (Speech.sections, sorted and non-overlapping).
    `out`: zeroed (kind, opens) arrays to fill in place.
    """
    n = len(frame.starts)
    k = len(SECTION_KINDS)
    kind, opens = out if out is not None else (np.zeros((n, k + 1)), np.zeros(n))
    if not n:
        return kind, opens
    starts = frame.start_list if len(frame.start_list) == n else frame.starts.tolist()
    which = [k] * n
    for j, speech in enumerate(frame.speeches):
        r0, r1 = frame.first_rows[j], frame.first_rows[j + 1]
        for sec in getattr(speech, "sections", ()):
            if sec.kind not in _KIND_INDEX:
                continue
            a, b = bisect_left(starts, sec.start, r0, r1), bisect_left(starts, sec.end, r0, r1)
            if b > a:
                which[a:b] = [_KIND_INDEX[sec.kind]] * (b - a)
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
    first_rows: list[int] = field(default_factory=list)   # where each speech's rows begin, then n


@dataclass
class RuleView:
    """What the rule extractor said about each segment of a speech."""

    flag: np.ndarray                 # 1.0 when a rule task covers the segment
    modality: np.ndarray             # (n, 3) one-hot must/strive/should of that task
    evidence: list[dict[str, float]]
    task_of: list[int]               # index into speech.tasks, or -1


MODALITIES = ("must", "strive", "should")
_MODALITY_COL = {m: i for i, m in enumerate(MODALITIES)}


def rule_view(doc, speech, config=None, with_evidence: bool | str = True) -> RuleView:
    """Map the rule tasks of a speech onto its segments and collect rule evidence."""
    segs = speech.segments
    view = rule_view_of(doc, [speech])
    if not with_evidence:
        view.evidence = [{} for _ in segs]
        return view
    task_of = view.task_of
    # rule_evidence per segment, with one walk over the sorted sections instead of a search per segment
    task_ev = doc.task_evidence
    task_keys = [["task:" + rid for rid in t.rules] for t in speech.tasks]
    secs = getattr(speech, "sections", None) or []
    sec_keys = [["section:" + rid for rid in sec.rules] for sec in secs]
    evidence = []
    j = -1
    for i, s in enumerate(segs):
        e = task_ev.get(s.start)
        ev = dict(e) if e else {}
        if task_of[i] >= 0:
            for key in task_keys[task_of[i]]:
                ev[key] = 1.0
        while j + 1 < len(secs) and secs[j + 1].start <= s.start:
            j += 1
        if j >= 0 and s.start < secs[j].end:
            for key in sec_keys[j]:
                ev[key] = 1.0
        evidence.append(ev)
    view.evidence = evidence
    return view


def rule_view_of(doc, speeches) -> RuleView:
    """rule_view(with_evidence=False) of several speeches at once: their rows one after the other (those
    without segments left out, as in speeches_frame), task_of indexing their tasks one after the other;
    evidence is left empty (rule_dense_of_all reads it from the document)."""
    speeches = [sp for sp in speeches if sp.segments]
    n = sum(len(sp.segments) for sp in speeches)
    task_of = [-1] * n
    rows, mcols = [], []
    r = t = 0
    for sp in speeches:
        _cover(sp, r, t, rows, mcols, task_of)
        r += len(sp.segments)
        t += len(sp.tasks)
    flag = np.zeros(n)
    flag[rows] = 1
    mod = np.zeros((n, 3))
    mod[rows, mcols] = 1
    return RuleView(flag, mod, [], task_of)


def _cover(speech, row0: int, task0: int, rows: list[int], mcols: list[int], task_of: list[int]) -> None:
    """The segments each rule task of a speech covers (at least half of the segment): their rows (from
    row0) and modality columns appended, task_of set to the task's index (from task0)."""
    segs = speech.segments
    n = len(segs)
    starts = [s.start for s in segs]
    for ti, t in enumerate(speech.tasks, task0):
        i = max(bisect_right(starts, t.start) - 1, 0)
        while i < n and starts[i] < t.end:
            s = segs[i]
            ov = min(s.end, t.end) - max(s.start, t.start)
            if ov * 2 >= (s.end - s.start):
                rows.append(row0 + i)
                mcols.append(_MODALITY_COL.get(t.modality, 2))
                task_of[row0 + i] = ti
            i += 1


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


_BUCKETS = [_bucket(d) for d in range(11)]
_DIGIT = re.compile(r"\d")


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
        ctx = _DIGIT.sub("0", ctx)
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
            d = 0 if ctx[i + 1] in _BEFORE else d + 1
            prv_del[i] = d
        bk = _BUCKETS
        out = []
        for i in range(n):
            j = i + 2
            c, p, q = ctx[j], ctx[j - 1], ctx[j + 1]
            a, b = nxt_end[i], prv_del[i]
            out.append(["c=" + c, "p=" + p, "n=" + q, "pc=" + p + c, "cn=" + c + q, "pp=" + ctx[j - 2],
                        "L=" + lex[i], "E1" + q if end[i] else "E0",
                        "d=" + (bk[a] if a < 11 else "L") + (bk[b] if b < 11 else "L"),
                        "ab=" + ("1" if q in _AFTER else "0") + ("1" if p in _BEFORE else "0")])
        return out


def _unique_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(a, return_inverse=True) for an unsigned array that is mostly zeros (the cue tables:
    a few hundred slots set of 3 x N_HASH): the sort runs over the set slots only, not the whole
    table (a tenth of a short run's start-up). Same values, same order (0 first)."""
    nz = np.flatnonzero(a)
    if len(nz) == len(a):
        return np.unique(a, return_inverse=True)
    u, inv = np.unique(a[nz], return_inverse=True)
    ids = np.zeros(len(a), dtype=inv.dtype)
    ids[nz] = inv + 1
    return np.concatenate([np.zeros(1, dtype=a.dtype), u]), ids
