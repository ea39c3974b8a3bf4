"""Rewrite the golden extractor outputs in tests/golden/ after a deliberate rule change.

    python scripts/update_golden.py

Review `git diff tests/golden` before committing: every changed line is a changed
extraction on real text.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPEECHLEDGER_SHARED", ROOT.parent / "shared"))
GOLDEN = ROOT / "tests" / "golden"
# real texts of different kinds: the industrial compilation, a traditional-script
# speech, a notice with 牵头单位 lines, and a half-width-punctuation passage.
# "shared:" paths are third-party texts read from ../shared: their golden files keep
# offsets and normalised fields, drop the task text and keep only a digest of every
# other string copied from the source (title, unit/deadline/target text, metric), so
# no part of them lands in the project and any change of those strings still shows.
FILES = ["corpus/texts/speeches2024.txt", "shared:corpus/train/texts/t13.txt",
         "shared:corpus/train/texts/t30.txt", "shared:corpus/train/texts/t31.txt",
         "shared:corpus/train/texts/t07.txt"]


def resolve(path: str) -> Path:
    return SHARED / path[len("shared:"):] if path.startswith("shared:") else ROOT / path


COPIED = ("text", "metric")  # item fields that are spans of the source


def digest(s: str | None) -> str | None:
    return None if s is None else "sha256:" + hashlib.sha256(s.encode("utf-8")).hexdigest()[:16]


def golden_records(path: str, pipeline) -> list[dict]:
    dates = {}
    if path.startswith("shared:"):
        dates = json.loads((SHARED / "corpus/train/dates.json").read_text(encoding="utf-8"))
    doc = pipeline.run_file(resolve(path), date=dates.get(Path(path).stem))
    out = []
    for sp in doc.speeches:
        rec = sp.to_json(path)
        rec.pop("headings")
        shared = path.startswith("shared:")
        if shared:
            rec["title"] = digest(rec["title"])
        for t in rec["tasks"]:
            t.pop("confidence"), t.pop("extractor")
            if shared:
                t.pop("text")
                for item in t["units"] + t["deadlines"] + t["targets"]:
                    for k in COPIED:
                        if k in item:
                            item[k] = digest(item[k])
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
