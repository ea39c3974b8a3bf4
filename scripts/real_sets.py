#!/usr/bin/env python
"""Lay out the real-text evaluation sets from ../shared, with our gold corrections applied.

    python scripts/real_sets.py [--out outputs/sets]

Writes, for each set, DIR/texts/ (symlinks into ../shared, never copies), DIR/gold.jsonl
(the shared gold with the corrected lines of corpus/real/review/*/corrections.jsonl put
in their place) and DIR/dates.json:

  real-dev   the real passages outside the frozen test split      (tune and train on these)
  long-dev   the long documents outside the frozen test split
  train      the 39 shared training passages
  real-test  the frozen split's passages  (corpus/real/frozen_test.json: score once a round)
  long-test  the frozen split's long documents
  dev-a      a seeded half of real-dev + train, by document (read its errors while writing rules)
  dev-b      the other half (score only: a change read off dev-a must also help dev-b)

Then: speechledger evaluate --texts outputs/sets/real-dev/texts --gold outputs/sets/real-dev/gold.jsonl \
          --dates outputs/sets/real-dev/dates.json
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPEECHLEDGER_SHARED", ROOT.parent / "shared")) / "corpus"


def corrections() -> dict[tuple[str, int], dict | None]:
    """(doc, seg) -> corrected gold line, from every corrections.jsonl under corpus/real/ (as training reads them)."""
    from speechledger.ml.training import corrections as read_corrections
    return read_corrections(ROOT)


def gold_lines(path: Path, docs: set[str], fixes: dict) -> list[dict]:
    lines, seen = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        g = json.loads(line)
        if g["doc"] not in docs:
            continue
        key = (g["doc"], g["seg"])
        seen.add(key)
        if key in fixes:
            g = fixes[key]
        if g is not None:
            lines.append(g)
    # a correction can also add a task segment the shared gold did not list
    lines += [g for k, g in fixes.items() if k[0] in docs and k not in seen and g is not None]
    return sorted(lines, key=lambda g: (g["doc"], g["seg"]))


def lay_out(out: Path) -> dict[str, Path]:
    frozen = json.loads((ROOT / "corpus" / "real" / "frozen_test.json").read_text(encoding="utf-8"))
    test_docs = set(frozen["passages"]) | set(frozen["long"])
    fixes = corrections()
    dates = {}
    for d in ("real", "train"):
        dates.update(json.loads((SHARED / d / "dates.json").read_text(encoding="utf-8")))
    plan = {
        "real-dev": (SHARED / "real" / "texts", SHARED / "real" / "gold.jsonl", lambda s: s not in test_docs),
        "long-dev": (SHARED / "real" / "long", SHARED / "real" / "long_gold.jsonl", lambda s: s not in test_docs),
        "train": (SHARED / "train" / "texts", SHARED / "train" / "gold.jsonl", lambda s: True),
        "real-test": (SHARED / "real" / "texts", SHARED / "real" / "gold.jsonl", lambda s: s in test_docs),
        "long-test": (SHARED / "real" / "long", SHARED / "real" / "long_gold.jsonl", lambda s: s in test_docs),
    }
    made = {}
    for name, (texts, gold, keep) in plan.items():
        d = out / name
        if d.exists():
            shutil.rmtree(d)
        (d / "texts").mkdir(parents=True)
        docs = {p.stem for p in texts.glob("*.txt") if keep(p.stem)}
        for s in sorted(docs):
            (d / "texts" / f"{s}.txt").symlink_to((texts / f"{s}.txt").resolve())
        (d / "gold.jsonl").write_text("".join(json.dumps(g, ensure_ascii=False) + "\n"
                                              for g in gold_lines(gold, docs, fixes)), encoding="utf-8")
        (d / "dates.json").write_text(json.dumps({s: dates.get(s) for s in sorted(docs)}, indent=1),
                                      encoding="utf-8")
        made[name] = d
    made.update(halves(out, made))
    return made


def halves(out: Path, made: dict[str, Path], seed: int = 5) -> dict[str, Path]:
    """Split real-dev + train by a seeded draw of documents into dev-a and dev-b."""
    import random
    docs = sorted((p.stem, made[name]) for name in ("real-dev", "train")
                  for p in (made[name] / "texts").glob("*.txt"))
    random.Random(seed).shuffle(docs)
    half = {"dev-a": docs[: len(docs) // 2], "dev-b": docs[len(docs) // 2:]}
    res = {}
    for name, members in half.items():
        d = out / name
        if d.exists():
            shutil.rmtree(d)
        (d / "texts").mkdir(parents=True)
        gold, dates = [], {}
        for stem, src in sorted(members):
            (d / "texts" / f"{stem}.txt").symlink_to((src / "texts" / f"{stem}.txt").resolve())
            gold += [line for line in (src / "gold.jsonl").read_text(encoding="utf-8").splitlines()
                     if json.loads(line)["doc"] == stem]
            dates[stem] = json.loads((src / "dates.json").read_text(encoding="utf-8")).get(stem)
        (d / "gold.jsonl").write_text("".join(g + "\n" for g in gold), encoding="utf-8")
        (d / "dates.json").write_text(json.dumps(dates, indent=1), encoding="utf-8")
        res[name] = d
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "outputs" / "sets"))
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"real_sets: no shared corpus at {SHARED} (set SPEECHLEDGER_SHARED)")
    for name, d in lay_out(Path(args.out)).items():
        n = len(list((d / "texts").glob("*.txt")))
        g = sum(1 for _ in (d / "gold.jsonl").open(encoding="utf-8"))
        print(f"{name:10s} {n:3d} texts {g:5d} gold task segments  {d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
