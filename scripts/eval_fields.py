"""Score the field finders (units, deadlines, targets) on the GOLD task segments.

The usual `speechledger evaluate` scores fields of the predicted tasks, so a missed
task loses its fields; this runs the unit, deadline and target stages on the gold
task spans instead, which isolates the field finders from task detection.

  python scripts/eval_fields.py [--errors] [real-dev long-dev train seed]

Sets are read from outputs/sets (python scripts/real_sets.py lays them out); "seed"
is corpus/texts with corpus/gold/dev.jsonl. Never run it on the frozen test sets.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from speechledger import evaluate as ev
from speechledger.api import Pipeline, records
from speechledger.doc import Task
from speechledger.segment import split_segments

ROOT = Path(__file__).resolve().parent.parent
FIELD_STAGES = ("units", "deadlines", "targets")


def score_on_gold_tasks(texts: str | Path, gold_path: str | Path, dates: dict | None = None,
                        pipe: Pipeline | None = None) -> dict:
    """evaluate-style result of the field stages run on the gold task segments."""
    gold = ev.read_gold(gold_path)
    pipe = pipe or Pipeline()
    recs: list[dict] = []
    for name in sorted(f for f in os.listdir(texts) if f.endswith(".txt")):
        stem = name[:-4]
        text = Path(texts, name).read_text(encoding="utf-8")
        doc = pipe(text, source=str(Path(texts, name)), date=(dates or {}).get(stem))
        segs, g = split_segments(text), gold.get(stem, {})
        for sp in doc.speeches:
            sp.tasks = [Task(s.start, s.end, s.text, "should", False, s.id) for s in segs
                        if s.id in g and sp.start <= s.start < sp.end]
        for stage in FIELD_STAGES:
            doc = pipe._stages[stage](doc, pipe.config)
        recs += records(doc)
    return ev.score_records(str(texts), str(gold_path), recs)


def _set_paths(name: str) -> tuple[Path, Path, dict]:
    if name == "seed":
        return ROOT / "corpus" / "texts", ROOT / "corpus" / "gold" / "dev.jsonl", {}
    if name.endswith("-test"):
        raise SystemExit(f"{name}: the frozen test split is scored once, by the lead")
    d = ROOT / "outputs" / "sets" / name
    return d / "texts", d / "gold.jsonl", json.loads((d / "dates.json").read_text(encoding="utf-8"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["real-dev", "long-dev", "train", "seed"])
    ap.add_argument("--errors", action="store_true", help="list field misses and false alarms")
    args = ap.parse_args(argv)
    pipe = Pipeline()
    for name in args.sets:
        texts, gold, dates = _set_paths(name)
        r = score_on_gold_tasks(texts, gold, dates, pipe)
        print(f"== {name} (fields on gold task segments)")
        for k in FIELD_STAGES:
            m = r[k]
            print(f"{k:10s} P {m['p']:.3f}  R {m['r']:.3f}  F1 {m['f1']:.3f}  (tp {m['tp']} fp {m['fp']} fn {m['fn']})")
        print(f"offset errors {r['offset_errors']}")
        if args.errors:
            for k, v in r["_errors"].items():
                if k.startswith(FIELD_STAGES):
                    for e in v:
                        print(k, *e, sep="\t")
    return 0


if __name__ == "__main__":
    sys.exit(main())
