"""Rewrite the golden extractor outputs in tests/golden/ after a deliberate rule change.

    python scripts/update_golden.py

Review `git diff tests/golden` before committing: every changed line is a changed
extraction on real text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPEECHLEDGER_SHARED", ROOT.parent / "shared"))
GOLDEN = ROOT / "tests" / "golden"
# real texts of different kinds: the industrial compilation, a traditional-script
# speech, a notice with 牵头单位 lines, and a half-width-punctuation passage.
# "shared:" paths are third-party texts read from ../shared: their golden files keep
# offsets and fields but not the task text, so no part of them lands in the project.
FILES = ["corpus/texts/speeches2024.txt", "shared:corpus/train/texts/t13.txt",
         "shared:corpus/train/texts/t30.txt", "shared:corpus/train/texts/t31.txt",
         "shared:corpus/train/texts/t07.txt"]


def resolve(path: str) -> Path:
    return SHARED / path[len("shared:"):] if path.startswith("shared:") else ROOT / path


def golden_records(path: str, pipeline) -> list[dict]:
    dates = {}
    if path.startswith("shared:"):
        dates = json.loads((SHARED / "corpus/train/dates.json").read_text(encoding="utf-8"))
    doc = pipeline.run_file(resolve(path), date=dates.get(Path(path).stem))
    out = []
    for sp in doc.speeches:
        rec = sp.to_json(path)
        rec.pop("headings")
        for t in rec["tasks"]:
            t.pop("confidence"), t.pop("extractor")
            if path.startswith("shared:"):
                t.pop("text")
        out.append(rec)
    return out


def main() -> int:
    from speechledger.api import Pipeline
    pipe = Pipeline(extractors="rules")
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        dest = GOLDEN / (Path(f).stem + ".rules.jsonl")
        recs = golden_records(f, pipe)
        dest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
        print(f"{dest.relative_to(ROOT)}: {sum(len(r['tasks']) for r in recs)} tasks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
