"""Pair the tasks of two speeches one-to-one by meaning: n-gram similarity plus structure.

Each side is a list of `Item`s (the folded text key of a task, the folded key of
its parent heading, its relative position). The similarity of two items is an
IDF-weighted Dice overlap of their character bigrams and unigrams, blended with the overlap
of their parent headings; the pairing maximising total similarity is found with
scipy's `linear_sum_assignment`, and pairs under the threshold are dropped.

Only candidate pairs that share rare enough bigrams are ever scored (an inverted
index, the `top_k` best per task), and the assignment is solved separately on
each connected group of candidates, so the work grows with the number of
plausible matches, not with len(old) × len(new).
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

THRESHOLD = 0.35       # minimum similarity for a pair: reworded commitments score 0.4-0.7,
                       # unrelated ones on the same theme (speeches 1 and 4 of the corpus) under 0.3
HEADING_WEIGHT = 0.15  # share of the parent heading in the similarity
POSITION_WEIGHT = 0.01  # tie-break only: among equal texts prefer the same place; not in the reported score
TOP_K = 25             # candidates scored per task


@dataclass(frozen=True)
class Item:
    """What the aligner sees of a task."""
    key: str               # folded, masked task text (speechledger.diff.mask.fold)
    heading: str = ""      # folded key of the parent heading, "" when none
    pos: float = 0.0       # relative position in the speech, 0..1


@dataclass(frozen=True)
class Match:
    old: int
    new: int
    similarity: float


def _grams(s: str) -> Counter:
    """Character bigrams and unigrams (unigrams keep reordered wording close: 编制规划 / 规划编制)."""
    c = Counter(s[i:i + 2] for i in range(len(s) - 1))
    c.update(s)
    return c


class _Weighted:
    """Bigram vectors with IDF weights over both sides."""

    def __init__(self, keys: list[str]):
        self.grams = [_grams(k) for k in keys]
        df: Counter = Counter()
        for g in self.grams:
            df.update(g.keys())
        n = len(keys)
        self.df = df
        self.idf = {g: math.log((n + 1) / (c + 1)) + 1.0 for g, c in df.items()}
        self.norm = [sum(c * self.idf[g] for g, c in gs.items()) for gs in self.grams]

    def dice(self, a: int, b: int) -> float:
        ga, gb = self.grams[a], self.grams[b]
        if len(ga) > len(gb):
            ga, gb = gb, ga
        shared = sum(min(c, gb[g]) * self.idf[g] for g, c in ga.items() if g in gb)
        denom = self.norm[a] + self.norm[b]
        return 2.0 * shared / denom if denom else 0.0


def _dice(a: str, b: str) -> float:
    """Unweighted Dice over the same features (headings, one-off comparisons)."""
    ga, gb = _grams(a), _grams(b)
    total = sum(ga.values()) + sum(gb.values())
    return 2.0 * sum((ga & gb).values()) / total if total else 0.0


def similarity(old: Item, new: Item) -> float:
    """Similarity of two items without corpus weights (for tests and one-off checks)."""
    return _blend(_dice(old.key, new.key), old, new, {})


def _blend(text_sim: float, old: Item, new: Item, head_cache: dict) -> float:
    if not old.heading and not new.heading:
        return text_sim
    if not old.heading or not new.heading:
        head = 0.5
    else:
        k = (old.heading, new.heading)
        head = head_cache.get(k)
        if head is None:
            head = head_cache[k] = 1.0 if old.heading == new.heading else _dice(old.heading, new.heading)
    return (1 - HEADING_WEIGHT) * text_sim + HEADING_WEIGHT * head


def candidates(old: list[Item], new: list[Item], top_k: int = TOP_K) -> dict[tuple[int, int], float]:
    """Text similarity of the candidate pairs: those sharing bigrams, best top_k per old item."""
    w = _Weighted([i.key for i in old] + [i.key for i in new])
    n_old = len(old)
    index: dict[str, list[int]] = defaultdict(list)
    for j in range(len(new)):
        for g in w.grams[n_old + j]:
            if len(g) == 2:
                index[g].append(j)
    # bigrams found in most tasks carry no evidence for candidate generation; skip their postings
    cap = max(50, (len(old) + len(new)) // 5)
    scores: dict[tuple[int, int], float] = {}
    exact: dict[str, list[int]] = defaultdict(list)
    for j, it in enumerate(new):
        exact[it.key].append(j)
    for i in range(n_old):
        acc: dict[int, float] = defaultdict(float)
        for g, c in w.grams[i].items():
            if len(g) < 2 or w.df[g] > cap:
                continue
            idf = w.idf[g]
            for j in index.get(g, ()):
                acc[j] += idf
        best = sorted(acc.items(), key=lambda kv: -kv[1])[:top_k]
        chosen = {j for j, _ in best} | set(exact.get(old[i].key, ())[:top_k])
        for j in chosen:
            scores[(i, j)] = 1.0 if old[i].key == new[j].key else w.dice(i, n_old + j)
    return scores


def align(old: list[Item], new: list[Item], threshold: float = THRESHOLD,
          top_k: int = TOP_K) -> list[Match]:
    """One-to-one pairs (sorted by old index) whose similarity reaches the threshold."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not old or not new:
        return []
    head_cache: dict = {}
    edges: dict[tuple[int, int], float] = {}
    for (i, j), t in candidates(old, new, top_k).items():
        s = _blend(t, old[i], new[j], head_cache)
        if s >= threshold:
            edges[(i, j)] = s
    if not edges:
        return []
    n_old, n_new = len(old), len(new)
    rows = np.array([i for i, _ in edges], dtype=np.int64)
    cols = np.array([n_old + j for _, j in edges], dtype=np.int64)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_old + n_new,) * 2)
    _, label = connected_components(graph, directed=False)
    groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (i, j) in edges:
        groups[label[i]].append((i, j))
    out: list[Match] = []
    for pairs in groups.values():
        if len(pairs) == 1:
            (i, j), = pairs
            out.append(Match(i, j, edges[(i, j)]))
            continue
        ri = sorted({i for i, _ in pairs})
        cj = sorted({j for _, j in pairs})
        rpos = {i: k for k, i in enumerate(ri)}
        cpos = {j: k for k, j in enumerate(cj)}
        m = np.zeros((len(ri), len(cj)))
        for (i, j) in pairs:
            m[rpos[i], cpos[j]] = edges[(i, j)] + POSITION_WEIGHT * (1 - abs(old[i].pos - new[j].pos))
        r, c = linear_sum_assignment(m, maximize=True)
        for a, b in zip(r, c):
            i, j = ri[a], cj[b]
            if (i, j) in edges:
                out.append(Match(i, j, edges[(i, j)]))
    out.sort(key=lambda mt: mt.old)
    return out
