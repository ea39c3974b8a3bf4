#!/usr/bin/env python3
"""How the time of `speechledger diff` grows with speech length, against a naive all-pairs difflib.

Builds, for each size, an OLD speech by concatenating shuffled corpus segments and a
NEW one from it (10% of segments dropped, 10% replaced, figures of 20% turned into X,
paragraph blocks shuffled), extracts both with the pipeline, then times
`diff_speeches` and, in the same run, the naive baseline: difflib.SequenceMatcher
ratio (autojunk off) for every (old task, new task) pair. When the baseline would
exceed --budget seconds it is measured on the first rows and extrapolated (marked ~).

    python scripts/bench_diff.py                       # sizes 2k 5k 10k 20k 40k chars
    python scripts/bench_diff.py --sizes 10000 --repeat 5
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_SALUTE = re.compile(r"同志们|同志們|各位代表|各位委员|各位领导|各位同志")


def corpus_segments() -> list[str]:
    from speechledger.reader import read_file
    from speechledger.segment import split_segments
    segs = []
    files = sorted((ROOT / "corpus").rglob("*.txt"))
    for f in files:
        text, _ = read_file(f)
        segs += [s.text for s in split_segments(text) if len(s.text) >= 6 and not _SALUTE.search(s.text)]
    return segs


def make_pair(segs: list[str], size: int, rng: random.Random) -> tuple[str, str]:
    pool = segs[:]
    rng.shuffle(pool)
    old, n = [], 0
    for s in pool:
        if n >= size:
            break
        old.append(s)
        n += len(s) + 1
    spare = pool[len(old):] or segs
    new = []
    for s in old:
        r = rng.random()
        if r < 0.10:
            continue                                     # dropped
        if r < 0.20:
            new.append(rng.choice(spare))                # replaced by another commitment
        elif r < 0.40:
            new.append(re.sub(r"\d+(?:\.\d+)?", "X", s))  # figures hidden
        else:
            new.append(s)
    blocks = [new[i:i + 8] for i in range(0, len(new), 8)]
    rng.shuffle(blocks)
    return "\n".join(old), "\n".join(s for b in blocks for s in b)


def naive(old: list[str], new: list[str], budget: float) -> tuple[float, bool]:
    """All-pairs difflib ratio; returns (seconds, extrapolated?)."""
    t0 = time.perf_counter()
    for i, a in enumerate(old):
        for b in new:
            SequenceMatcher(None, a, b, autojunk=False).ratio()
        el = time.perf_counter() - t0
        if el > budget and i + 1 < len(old):
            return el * len(old) / (i + 1), True
    return time.perf_counter() - t0, False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000, 20000, 40000])
    ap.add_argument("--repeat", type=int, default=3, help="diff runs per size (the best is reported)")
    ap.add_argument("--budget", type=float, default=15.0, help="seconds of naive baseline per size")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    from speechledger.api import Pipeline, records
    from speechledger.diff import diff_speeches
    from speechledger.diff.align import candidates
    from speechledger.diff.compare import items

    rng = random.Random(args.seed)
    segs = corpus_segments()
    pipe = Pipeline()
    pipe("要加快推进产业链建设。")                     # warm-up: lexicons, models
    diff_speeches(*[records(pipe("要加快推进产业链建设。"))[0]] * 2)   # warm-up: scipy import
    print(f"corpus: {len(segs)} segments; OLD/NEW built from them (seed {args.seed})")
    print(f"{'chars':>6} {'tasks':>9} {'extract s':>9} {'diff s':>7} {'ms/task':>7} {'scored':>8} "
          f"{'all pairs':>9} {'naive s':>9} {'naive/diff':>10} {'diff vs prev':>12}")
    prev = None
    for size in args.sizes:
        old_text, new_text = make_pair(segs, size, rng)
        t0 = time.perf_counter()
        old_doc, new_doc = pipe(old_text, source="<old>"), pipe(new_text, source="<new>")
        t_extract = time.perf_counter() - t0
        old_rec, new_rec = records(old_doc)[0], records(new_doc)[0]
        n_old, n_new = len(old_rec["tasks"]), len(new_rec["tasks"])
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = diff_speeches(old_rec, new_rec, old_text, new_text)
            best = min(best, time.perf_counter() - t0)
        scored = len(candidates(items(old_rec), items(new_rec)))
        t_naive, est = naive([t["text"] for t in old_rec["tasks"]], [t["text"] for t in new_rec["tasks"]],
                             args.budget)
        growth = f"×{best / prev[1]:.1f} for ×{size / prev[0]:.1f}" if prev else ""
        print(f"{size:>6} {n_old:>4}/{n_new:<4} {t_extract:>9.2f} {best:>7.3f} {1000 * best / max(1, n_old):>7.2f} "
              f"{scored:>8} {n_old * n_new:>9} {('~' if est else '') + f'{t_naive:.2f}':>9} "
              f"{t_naive / best:>10.1f} {growth:>12}")
        assert len(result.pairs) > 0
        prev = (size, best)
    print("diff s = diff_speeches on extracted records (alignment + classification); "
          "extract s = the pipeline on both texts; scored = candidate pairs scored vs all pairs.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
