"""Turn a gold file (ANNOTATION.md §7) into extract-style predictions (§6).

    python scripts/gold_as_pred.py --texts DIR --gold GOLD.jsonl > PRED.jsonl

Each gold line (one task segment) becomes one task whose start/end are the
segment's; its units, deadlines and targets get start/end by finding `text`
at occurrence `occ` inside the segment, as the scorer's `locate` does. One JSON
object is printed per DOC.txt in DIR (docs without gold get an empty task
list), so score.py can compare a second annotation pass with the gold.
The segment splitter is the referee's (shipped in the package; --eval-dir names
another copy of shared/eval).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict


def _load_split(eval_dir: str | None):
    """The reference splitter: --eval-dir's segments.py, else the referee shipped in the package."""
    if eval_dir:
        sys.path.insert(0, os.path.abspath(eval_dir))
        from segments import split  # noqa: E402
        return split
    from speechledger.referee import referee
    return referee().split


def locate(seg_text: str, seg_start: int, item: dict) -> tuple[int, int]:
    """Where the scorer puts a gold item: its `locate`, the one copy of that logic."""
    from speechledger.referee import referee
    return referee().locate(seg_text, seg_start, item)


def convert(texts_dir: str, gold_path: str, split) -> list[dict]:
    gold: dict[str, list[dict]] = defaultdict(list)
    for line in open(gold_path, encoding="utf-8"):
        if line.strip():
            g = json.loads(line)
            gold[g["doc"]].append(g)
    docs = sorted(f[:-4] for f in os.listdir(texts_dir) if f.endswith(".txt"))
    missing = sorted(set(gold) - set(docs))
    if missing:
        raise SystemExit(f"gold docs without text in {texts_dir}: {missing}")
    out = []
    for doc in docs:
        text = open(os.path.join(texts_dir, doc + ".txt"), encoding="utf-8").read()
        segs = split(text)
        tasks = []
        for g in sorted(gold.get(doc, []), key=lambda g: g["seg"]):
            s = segs[g["seg"]]
            if (g.get("start"), g.get("end")) != (s.start, s.end):
                raise SystemExit(f"{doc} seg {g['seg']}: gold offsets do not match the splitter")
            task = {"start": s.start, "end": s.end, "text": s.text,
                    "modality": g.get("modality"), "specific": g.get("specific")}
            for kind in ("units", "deadlines", "targets"):
                items = []
                for item in g.get(kind, []):
                    a, b = locate(s.text, s.start, item)
                    assert text[a:b] == item["text"]
                    rec = {"start": a, "end": b}
                    rec.update({k: v for k, v in item.items() if k != "occ"})
                    items.append(rec)
                task[kind] = items
            tasks.append(task)
        out.append({"source": doc + ".txt", "speech": 0, "tasks": tasks})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", required=True, help="folder of DOC.txt files")
    ap.add_argument("--gold", required=True, help="gold JSONL (§7)")
    ap.add_argument("--eval-dir", help="folder holding the reference segments.py")
    a = ap.parse_args()
    split = _load_split(a.eval_dir)
    for rec in convert(a.texts, a.gold, split):
        print(json.dumps(rec, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
