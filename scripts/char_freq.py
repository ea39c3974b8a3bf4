"""Write pipeline/data/char_freq.tsv: how often each character and each pair of characters occurs in the bundled corpus.

    python scripts/char_freq.py [--out FILE]

regex_gate reads the table to choose, of the literal sets a rule regex requires, the one
that lets the fewest texts through its prefilter (a rare "拟" rather than 31 common verbs).
The choice changes which texts are searched, never what a search finds, so the extraction
is the same with any table; only its speed depends on it. Counts come from the project's own
texts (corpus/**/texts: the seed compilation and the composed passages), never ../shared.
"""
from __future__ import annotations

import argparse
import collections
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "pipeline" / "data" / "char_freq.tsv"
MIN_COUNT = 3       # rarer characters and pairs are left out: regex_gate counts an absent one as rare


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT.relative_to(ROOT)})")
    out_path = ap.parse_args().out
    counts: collections.Counter = collections.Counter()
    n = 0
    for f in sorted((ROOT / "corpus").glob("**/texts/*.txt")):
        text = f.read_text(encoding="utf-8")
        counts.update(text)
        counts.update(text[i:i + 2] for i in range(len(text) - 1))
        n += len(text)
    rows = sorted(((ch, k) for ch, k in counts.items() if k >= MIN_COUNT and not any(c.isspace() for c in ch)),
                  key=lambda x: (len(x[0]), -x[1], x[0]))
    with out_path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("# Occurrences per 1,000 characters of the bundled corpus, of each character, then of each pair\n"
                  "# (scripts/char_freq.py writes it). regex_gate picks the rarest literal set a rule requires\n"
                  "# as its prefilter: it decides speed only, never what is extracted.\n"
                  "chars\tper_1000\n")
        for ch, k in rows:
            out.write(f"{ch}\t{k * 1000 / n:.4g}\n")
    print(f"{out_path}: {len(rows)} characters and pairs from {n:,} characters of text")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
