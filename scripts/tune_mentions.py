"""Tune the learned target/deadline decision (pipeline/ml/mentions.py) by cross-validation on real documents.

    python scripts/tune_mentions.py --keep 0 0.05 0.1 --add 0.5 0.7 0.9 1.01 --out outputs/tune_mentions.json
    python scripts/tune_mentions.py --summary outputs/tune_mentions.json
    python scripts/tune_mentions.py --keep 0 --add 0.4 0.8 --generic-add 0.5 0.7 1.01 --finder-miss \
        --out outputs/tune_mentions_generic.json
    python scripts/tune_mentions.py --folds kind --point default deadline_add=0.95 \
        target_add=1.01,deadline_add=1.01,target_generic_add=1.01,deadline_generic_add=1.01 --by-kind

Folds by document (the same as `evaluate --cv`); each fold's models are trained once and the
held-out documents are extracted under every (keep, add) point, applied to targets and deadlines
alike (the fields are scored apart, so each field's best point can be read off the same table),
clean and with --test-drop of the held-out rule tasks, units, targets and deadlines dropped
(training.pipeline_for: the rules miss more on unseen text than on the documents they were written
from). The hybrid's other parameters stay at hybrid.DEFAULTS.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path


def point_of(text: str) -> dict:
    """"name=value,..." (or "default") -> {"point": text, name: value...}, values as numbers or words."""
    out = {"point": text}
    for part in text.split(","):
        if part == "default":
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise SystemExit(f"--point {text!r}: expected name=value, got {part!r}")
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = {"true": True, "false": False}.get(value, value)
    return out


def grid_of(args) -> list[dict]:
    from speechledger.ml.hybrid import DEFAULTS
    from speechledger.ml.mentions import DEFAULTS as MENTIONS
    if args.point:
        return [{**DEFAULTS, **MENTIONS, **point_of(p)} for p in args.point]
    adds = [(a, a) for a in args.add] if args.add else [(MENTIONS["target_add"], MENTIONS["deadline_add"])]
    gens = [(g, g) for g in args.generic_add] if args.generic_add else \
        [(MENTIONS["target_generic_add"], MENTIONS["deadline_generic_add"])]
    if args.deadline_outside_add:
        outs = list(itertools.product(args.outside_add or [MENTIONS["target_outside_add"]], args.deadline_outside_add))
    elif args.outside_add:
        outs = [(o, o) for o in args.outside_add]
    else:
        outs = [(MENTIONS["target_outside_add"], MENTIONS["deadline_outside_add"])]
    return [{**DEFAULTS, "target_keep": k, "target_add": ta, "deadline_keep": k, "deadline_add": da,
             "target_generic_add": tg, "deadline_generic_add": dg, "target_outside_add": to,
             "deadline_outside_add": do}
            for k, (ta, da), (tg, dg), (to, do) in itertools.product(args.keep, adds, gens, outs)]


def table(summary: list[dict]) -> str:
    if any("point" in s["params"] for s in summary):
        return point_table(summary)
    lines = [f"{'ex':6s} {'drop':>4s} {'miss':6s} {'keep':>5s} {'add':>5s} {'gen':>5s} {'out':>5s} {'dout':>5s} | "
             f"{'deadlines P     R     F1':24s} | {'targets P     R     F1':22s} | "
             "tasks P     R     F1 | units | macro"]

    def order(s):
        p = s["params"]
        return (s["test_drop"], s.get("miss") or "", s["extractor"] != "rules", s["extractor"],
                p.get("target_keep", 0), p.get("target_add", 0), p.get("target_generic_add", 0),
                p.get("target_outside_add", 0), p.get("deadline_outside_add", 0))

    for s in sorted(summary, key=order):
        p = s["params"]
        d, t = s["deadlines"], s["targets"]
        lines.append(f"{s['extractor']:6s} {s['test_drop']:>4} {s.get('miss') or '-':6s} "
                     f"{p.get('target_keep', '-'):>5} {p.get('target_add', '-'):>5} "
                     f"{p.get('target_generic_add', '-'):>5} {p.get('target_outside_add', '-'):>5} "
                     f"{p.get('deadline_outside_add', '-'):>5} | {d['p']:.3f} {d['r']:.3f} {d['f1']:.3f} "
                     f"(fold {d['f1_fold_avg']:.3f}) | "
                     f"{t['p']:.3f} {t['r']:.3f} {t['f1']:.3f} (fold {t['f1_fold_avg']:.3f}) | "
                     f"{s['tasks']['p']:.3f} {s['tasks']['r']:.3f} {s['tasks']['f1']:.3f} | "
                     f"{s['units']['f1']:.3f} | {s['macro_f1']:.3f}")
    return "\n".join(lines)


def point_table(summary: list[dict]) -> str:
    """One line per (test drop, miss, point): P/R/F1 of every field and the macro F1."""
    from speechledger.evaluate import FIELDS
    lines = [f"{'ex':6s} {'drop':>4s} {'miss':6s} {'point':60s}"
             + "".join(f" | {f[:9]:9s} P     R     F1" for f in FIELDS) + " | macro"]
    for s in sorted(summary, key=lambda s: (s["test_drop"], s.get("miss") or "", s["extractor"] != "rules",
                                            s["extractor"] != "hybrid", s["params"].get("point") != "default",
                                            s["params"].get("point", ""))):
        point = s["params"].get("point", "-") if s["extractor"] == "hybrid" else "-"
        lines.append(f"{s['extractor']:6s} {s['test_drop']:>4} {s.get('miss') or '-':6s} {point[:60]:60s}"
                     + "".join(f" | {s[f]['p']:.3f} {s[f]['r']:.3f} {s[f]['f1']:.3f}" for f in FIELDS)
                     + f" | {s['macro_f1']:.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--test-drop", type=float, nargs="+", default=[0.0, 0.15])
    ap.add_argument("--keep", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2])
    ap.add_argument("--add", type=float, nargs="+", default=None,
                    help="thresholds of the full decision, both kinds alike (default: mentions.DEFAULTS per kind)")
    ap.add_argument("--generic-add", type=float, nargs="+", default=None,
                    help="thresholds of the rule-free decision, both kinds alike (mentions.GENERIC; > 1: off; "
                         "default: mentions.DEFAULTS per kind)")
    ap.add_argument("--outside-add", type=float, nargs="+", default=None,
                    help="thresholds of the outside-tasks decision, both kinds alike (mentions.outside_tasks: a "
                         "segment no task holds becomes a task carrying a sure candidate; > 1: off; default: "
                         "mentions.DEFAULTS per kind)")
    ap.add_argument("--deadline-outside-add", type=float, nargs="+", default=None,
                    help="thresholds of the outside decision for deadlines, gridded apart from --outside-add's "
                         "(which then applies to targets only)")
    ap.add_argument("--outside-variant", choices=("status", "generic", "text"), default=None,
                    help="what the outside models read (default: mentions.OUTSIDE_VARIANT)")
    ap.add_argument("--task-blind", action="store_true",
                    help="also run each --test-drop > 0 with the task models blind to the dropped rule tasks' "
                         "segments (miss 'blind': targets and deadlines outside every task)")
    ap.add_argument("--finder-miss", action="store_true",
                    help="also run each --test-drop > 0 as finder misses (the dropped targets and deadlines are "
                         "not proposed by the rule finders either: only rule-free candidates can bring them back)")
    ap.add_argument("--groups", nargs="+", default=None, help="feature groups (default: all of mentions.GROUPS)")
    ap.add_argument("--point", nargs="+", default=None,
                    help="grid points instead of --keep/--add/...: name=value,... overrides of the hybrid's and the "
                         "decision's defaults ('default': none), e.g. target_add=1.01,deadline_add=1.01")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tune_hybrid import add_fold_arguments, run_grid
    add_fold_arguments(ap)
    args = ap.parse_args(argv)
    from speechledger.ml import mentions
    if args.groups:
        mentions.GROUPS = frozenset(args.groups)     # fit() reads it at call time
    if args.outside_variant:
        mentions.OUTSIDE_VARIANT = args.outside_variant
    return run_grid(args, grid_of, table)


if __name__ == "__main__":
    sys.exit(main())
