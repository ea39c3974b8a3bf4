"""Check that a change leaves `speechledger extract` byte-identical (speed work, refactors).

    python scripts/same_extract.py save outputs/same/before     # before the change
    python scripts/same_extract.py check outputs/same/before    # after it: exit 1 on any difference

For rules and hybrid, the JSONL of the dev sets laid out by scripts/real_sets.py (dev-a, dev-b,
long-dev; never the frozen sets) and of the bundled corpus (corpus/texts, corpus/extra*/texts),
each through the command line as a user runs it; `check` writes the new files next to the saved
ones (DIR.new) and compares them byte for byte.
"""
from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {"dev-a": ["outputs/sets/dev-a/texts"], "dev-b": ["outputs/sets/dev-b/texts"],
        "long-dev": ["outputs/sets/long-dev/texts"], "corpus": ["corpus/texts"],
        "extra": sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("corpus/extra*/texts"))}


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, paths in SETS.items():
        if not all((ROOT / p).is_dir() for p in paths):
            sys.exit(f"same_extract: {name}: {', '.join(paths)} missing (run scripts/real_sets.py)")
        for ex in ("rules", "hybrid"):
            with open(out / f"{ex}-{name}.jsonl", "wb") as f:
                subprocess.run([sys.executable, "-m", "speechledger", "extract", *paths, "--format", "jsonl",
                                "--extractors", ex], cwd=ROOT, stdout=f, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("save", "check"))
    ap.add_argument("dir", type=Path)
    a = ap.parse_args()
    if a.action == "save":
        write(a.dir)
        return 0
    new = a.dir.with_name(a.dir.name + ".new")
    write(new)
    saved = sorted(p.name for p in a.dir.glob("*.jsonl"))
    differ = [n for n in saved if not filecmp.cmp(a.dir / n, new / n, shallow=False)]
    for n in differ:
        print(f"differs: {n}")
    print(f"{len(saved) - len(differ)} of {len(saved)} outputs identical")
    return 1 if differ or not saved else 0


if __name__ == "__main__":
    raise SystemExit(main())
