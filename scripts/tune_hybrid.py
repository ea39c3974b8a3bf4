"""Tune the hybrid decision parameters and the rule-noise rate by cross-validation on real documents.

    python scripts/tune_hybrid.py --train-drop 0 0.2 --test-drop 0 0.15 --out outputs/tune.json
    python scripts/tune_hybrid.py --summary outputs/tune.json        # the table again, no training

Folds by document (speechledger.ml.cv.fold_of, the same as `evaluate --cv`; --folds kind holds out one
source kind at a time, cv.document_kinds); each fold's models
are trained once per --train-drop and predict under every grid point. --test-drop thins the rule
tasks of the held-out documents (training.drop_rule_tasks), since inside CV the rules miss fewer
tasks than on unseen text. Prints per-field P/R/F1 pooled over the folds and F1 averaged over folds.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

from speechledger.evaluate import FIELDS


def grid_of(args) -> list[dict]:
    return [{"task_threshold": t, "keep_threshold": kp, "unit_confidence": u, "crf_scope": c, "text_add_threshold": x,
             "text_context": bool(tc), "text_veto": v}
            for t, kp, u, c, x, tc, v in itertools.product(args.task, args.keep, args.unit, args.scope, args.text_add,
                                                          args.text_context, args.veto)
            if kp <= t and (c != "none" or u == args.unit[0])]


def table(summary: list[dict]) -> str:
    head = f"{'ex':6s} {'trd':>4s} {'ted':>4s} {'thr':>4s} {'keep':>4s} {'unit':>4s} {'tadd':>4s} {'veto':>4s} " \
        f"{'ctx':5s} {'scope':8s}" + \
        "".join(f" | {f[:5]:>5s} P     R     F1  fF1 " for f in FIELDS) + " | macro"
    lines = [head]
    for s in sorted(summary, key=lambda s: (s["test_drop"], s["extractor"] != "rules", s["extractor"],
                                             s["train_drop"] or 0, -s["macro_f1"])):
        p = s["params"]
        td = s["train_drop"] if s["train_drop"] is not None else "-"
        row = f"{s['extractor']:6s} {td:>4} {s['test_drop']:>4} " + \
            "".join(f"{p.get(k, '-'):>4} " for k in ("task_threshold", "keep_threshold", "unit_confidence",
                                                       "text_add_threshold", "text_veto")) + \
            f"{_ctx(p):5s} {p.get('crf_scope', '-'):8s}"
        for f in FIELDS:
            m = s[f]
            row += f" | {m['p']:.3f} {m['r']:.3f} {m['f1']:.3f} {m['f1_fold_avg']:.3f}"
        lines.append(row + f" | {s['macro_f1']:.3f}")
    return "\n".join(lines)


def _ctx(p: dict) -> str:
    if not p.get("text_context", True):
        return "off"
    return p.get("context", "ship")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--train-drop", type=float, nargs="+", default=[0.0])
    ap.add_argument("--test-drop", type=float, nargs="+", default=[0.0])
    ap.add_argument("--task", type=float, nargs="+", default=[0.5])
    ap.add_argument("--keep", type=float, nargs="+", default=[0.3])
    ap.add_argument("--unit", type=float, nargs="+", default=[0.8])
    ap.add_argument("--scope", nargs="+", default=["none"])
    ap.add_argument("--text-add", type=float, nargs="+", default=[1.01],
                    help="text-only model probability that adds a segment in hybrid mode (above 1: off)")
    ap.add_argument("--text-context", type=int, nargs="+", default=[1],
                    help="1: the text-only model's P(task) re-read in context (its ContextModel), 0: not")
    ap.add_argument("--veto", type=float, nargs="+", default=[0.0],
                    help="drop a rule task the stacked model only tolerates when the text model is below this")
    ap.add_argument("--context", nargs="+", help="context-model variants each fold refits (nb, sec, full)")
    add_fold_arguments(ap)
    args = ap.parse_args(argv)
    return run_grid(args, grid_of, table, train_drops=args.train_drop)


def add_fold_arguments(ap) -> None:
    """--folds, --out, --summary, --by-kind: the options every tuning script shares."""
    ap.add_argument("--folds", choices=("random", "kind"), default="random",
                    help="random: --k seeded folds by document (as evaluate --cv); kind: hold out one source "
                         "kind at a time (cv.document_kinds: SOURCES.md's kind column; --k ignored)")
    ap.add_argument("--out", help="write the per-fold rows as JSON")
    ap.add_argument("--summary", help="print the table of a JSON written by --out and stop")
    ap.add_argument("--by-kind", action="store_true",
                    help="also print the table per kind of document (pooled over the folds holding it)")


def run_grid(args, grid_of, table_of, train_drops=(0.0,)) -> int:
    """cv.tune of grid_of(args) over the default training sets (args: k, seed, test_drop, out), or
    args.summary's rows again; prints table_of(the summary)."""
    from speechledger.ml import cv, training
    if args.summary:
        with open(args.summary, encoding="utf-8") as f:
            rows = json.load(f)
    else:
        t0 = time.perf_counter()
        log = lambda m: print(f"[{time.perf_counter() - t0:6.1f}s] {m}", file=sys.stderr)  # noqa: E731
        corpus = training.load_corpus(training.default_sets("."), log=log)
        kinds = cv.document_kinds(corpus.items, ".")
        rows = cv.tune(corpus, grid_of(args), k=args.k, seed=args.seed, train_drops=train_drops,
                       test_drops=args.test_drop, log=log, contexts=getattr(args, "context", None),
                       finder_miss=getattr(args, "finder_miss", False),
                       task_blind=getattr(args, "task_blind", False), by=args.folds, kinds=kinds)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                json.dump(rows, f)
    print(table_of(cv.summarise(rows)))
    if args.by_kind:
        by = cv.summarise_groups(rows)
        for g in sorted({s["group"] for s in by}):
            print(f"\nkind {g}:")
            print(table_of([s for s in by if s["group"] == g]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
