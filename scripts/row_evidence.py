"""Where a changed task-cue row fires on the development gold (issue 8 protocol: a row must be
supported by several documents and add no false items).

For each cue named, the segments its CURRENT pattern finds that the pattern at BASE (a git
revision) does not, split by whether a gold task covers the segment, with the number of
distinct documents; and where 全年 stands in a speech dated Jan-Jun (a rule considered, not
taken). Also the target-finder forms of round 10 (a magnitude before a count measure, a
compound Chinese numeral, the measures 列/艘/架) by the same split. Never run on the frozen sets.

  python scripts/row_evidence.py --base main [real-dev long-dev train seed]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from speechledger import evaluate as ev
from speechledger.api import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fields import _set_paths  # noqa: E402  (the same sets, the same refusal of the frozen split)

ROOT = Path(__file__).resolve().parent.parent
CUES = ("target_growth", "target_goal", "goal_set")
# the 全年 rule considered and not taken (a time ahead in a speech dated Jan-Jun): where it would fire
FULL_YEAR = re.compile(r"(?<![年占达成])全年(?!(?:目标|任务|计划)?的|以来)")
FINDER = {
    "magnitude+count measure": re.compile(r"\d(?:\.\d+)?\s*[万亿千]"
                                          r"(?:座|所|条|家|项|处|次|场|批次|块|栋|部|支|具|种|列|艘|架|宗|例)"),
    "compound Chinese numeral": re.compile(r"[一二两三四五六七八九][万亿][一二两三四五六七八九][千百十]"),
    "measure 列/艘/架": re.compile(r"\d\s*(?:列|艘|架)(?!入|为|出|举)"),
}


def cue_patterns(text: str) -> dict[str, re.Pattern]:
    d = yaml.safe_load(text)
    rows = {r["id"]: r["pattern"] for r in d["cues"]}
    rows.update({r["id"]: r["pattern"] for r in d.get("patterns", []) if "pattern" in r})
    return {k: re.compile(rows[k]) for k in CUES}


def sets(names):
    for name in names:
        yield (name, *_set_paths(name))     # refuses the frozen split, as every dev script does


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="main")
    ap.add_argument("sets", nargs="*", default=["real-dev", "long-dev", "train", "seed"])
    a = ap.parse_args()
    old_text = subprocess.run(["git", "show", f"{a.base}:pipeline/data/task_cues.yaml"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    old = cue_patterns(old_text)
    new = cue_patterns((ROOT / "pipeline/data/task_cues.yaml").read_text(encoding="utf-8"))
    pipe = Pipeline(extractors="rules")
    counts = defaultdict(lambda: {"pos": 0, "neg": 0, "pos_docs": set(), "neg_docs": set(), "task_neg": 0})
    for name, texts, gold_path, dates in sets(a.sets):
        gold = ev.read_gold(gold_path)
        for path in sorted(Path(texts).glob("*.txt")):
            doc_id = path.stem
            doc = pipe(path.read_text(encoding="utf-8"), date=dates.get(doc_id))
            spans = [(g["start"], g["end"]) for g in gold.get(doc_id, {}).values()]
            for sp in doc.speeches:
                early = bool(sp.date) and int(sp.date[5:7]) <= 6
                tasks = [(t.start, t.end) for t in sp.tasks]
                for seg in sp.segments:
                    t = doc.norm[seg.start:seg.end]
                    pos = any(s < seg.end and e > seg.start for s, e in spans)
                    is_task = any(s < seg.end and e > seg.start for s, e in tasks)
                    fired = []
                    for cid in CUES:
                        if new[cid].search(t) and not old[cid].search(t):
                            fired.append(cid)
                    if early and FULL_YEAR.search(t):
                        fired.append("全年, Jan-Jun speech (not taken)")
                    fired += [k for k, rx in FINDER.items() if rx.search(t)]
                    for k in fired:
                        c = counts[k]
                        c["pos" if pos else "neg"] += 1
                        c["pos_docs" if pos else "neg_docs"].add(f"{name}/{doc_id}")
                        c["task_neg"] += (is_task and not pos)
    print(f"{'row (new part only)':34} {'gold+':>6} {'docs':>5} {'gold-':>6} {'docs':>5} {'task on gold-':>14}")
    for k, c in counts.items():
        print(f"{k:34} {c['pos']:>6} {len(c['pos_docs']):>5} {c['neg']:>6} {len(c['neg_docs']):>5} {c['task_neg']:>14}")


if __name__ == "__main__":
    main()
