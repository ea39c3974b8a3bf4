"""Macro F1 of each grid point under kind-held-out and random folds, against a baseline point.

    python scripts/compare_folds.py outputs/kindcv/kind.json outputs/kindcv/random.json [--base default]

Reads the per-fold rows of two `scripts/tune_mentions.py --point ... --out` runs (one with --folds kind,
one with --folds random; each with --test-drop 0 0.15) and prints, per point, the pooled macro F1 clean
and with rule misses under both, its change from the baseline point, and the macro per held-out kind
(clean / rule-miss). The rules and ml rows come last.
"""
from __future__ import annotations

import argparse
import json
import sys


def runs(path: str) -> tuple[dict, dict]:
    """(run -> pooled summary, (run, kind) -> summary); run = (extractor label, test_drop, miss)."""
    from speechledger.ml import cv
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)

    def label(s):
        return s["params"].get("point", "-") if s["extractor"] == "hybrid" else s["extractor"]
    pooled = {(label(s), s["test_drop"], s.get("miss")): s for s in cv.summarise(rows)}
    by_kind = {(label(s), s["test_drop"], s.get("miss"), s["group"]): s for s in cv.summarise_groups(rows)}
    return pooled, by_kind


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", help="rows of a --folds kind run")
    ap.add_argument("random", help="rows of a --folds random run")
    ap.add_argument("--base", default="default", help="the baseline point")
    args = ap.parse_args(argv)
    (kp, kk), (rp, _) = runs(args.kind), runs(args.random)
    conds = sorted({(d, m) for _, d, m in kp})
    labels = sorted({p for p, _, _ in kp}, key=lambda p: (p in ("rules", "ml"), p != args.base, p))
    kinds = sorted({g for *_, g in kk})
    name = {(0.0, None): "clean"}
    cols = [f"{f} {name.get(c, f'{c[1]} {c[0]}')}"[:14] for f in ("kind", "rand") for c in conds]
    head = "point".ljust(62) + "".join(f" | {c:14s}" for c in cols)
    print(head + " | per kind (clean / rule-miss): " + ", ".join(kinds))
    for p in labels:
        line = p[:62].ljust(62)
        for pooled in (kp, rp):
            for d, m in conds:
                s, b = pooled.get((p, d, m)), pooled.get((args.base, d, m))
                line += f" | {s['macro_f1']:.4f} {s['macro_f1'] - b['macro_f1']:+.4f}" if s and b else " | -".ljust(17)
        line += " | " + "  ".join("/".join(f"{kk[(p, d, m, g)]['macro_f1']:.3f}" for d, m in conds
                                           if (p, d, m, g) in kk) for g in kinds)
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
