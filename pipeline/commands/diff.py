"""speechledger diff: what changed between two speeches, commitment by commitment."""
from __future__ import annotations

import sys

HELP = "compare the commitments of two speeches (pairs, changes, added, dropped)"
DESCRIPTION = """Pair the tasks of OLD and NEW by meaning and report, for each pair, what changed
(target, deadline, units, modality, wording), plus the tasks added and dropped.

  speechledger diff old.txt new.docx                           # table grouped by heading
  speechledger diff speeches.txt#2 speeches.txt#5 --format html -o report.html
  speechledger diff 3 7 --db sqlite:///outputs/ledger.sqlite --format json

OLD and NEW are each one of:
  FILE      a speech file holding one speech (a file with several speeches is an
            error that lists them: name one with FILE#N)
  FILE#N    the N-th speech (1-based) of a compilation file
  ID        a speech id in the ledger (a bare number; read from --db, default
            sqlite:///outputs/ledger.sqlite)

Pairs need a similarity of at least --threshold (0..1; n-gram overlap of the texts
with numbers and X placeholders masked, plus the parent heading). A number that
becomes a placeholder (15% -> X%) or another number is a target change; relative
deadlines are compared as written ("年底前" in two years' speeches is unchanged).
Exit status: 0 on success, 2 on a bad argument or unreadable input.
"""


def add_arguments(p) -> None:
    p.add_argument("old", metavar="OLD", help="FILE, FILE#N (1-based speech of a compilation) or ledger speech id")
    p.add_argument("new", metavar="NEW", help="FILE, FILE#N or ledger speech id")
    p.add_argument("--format", choices=("table", "json", "html", "markdown"), default="table")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.add_argument("--db", help="ledger SQLAlchemy URL for speech ids (default sqlite:///outputs/ledger.sqlite)")
    p.add_argument("--date", help="speech date YYYY-MM-DD for both files (overrides the headings)")
    p.add_argument("--threshold", type=float, default=None,
                   help="minimum similarity for a pair, 0..1 (default 0.35)")
    p.add_argument("--extractors", choices=("rules", "ml", "hybrid"), default=None,
                   help="which extractors to use on files (default: as `extract`)")


def run(args) -> int:
    from speechledger.diff import DiffError, diff_sources
    from speechledger.diff.render import render

    if args.threshold is not None and not 0.0 < args.threshold <= 1.0:
        print("speechledger: error: --threshold must be in (0, 1]", file=sys.stderr)
        return 2
    try:
        pipe = None
        if not (args.old.isdigit() and args.new.isdigit()):
            from speechledger.api import Pipeline
            from speechledger.commands.extract import default_extractors
            pipe = Pipeline(extractors=args.extractors or default_extractors(None))
        result = diff_sources(args.old, args.new, db=args.db, date=args.date, pipeline=pipe,
                              threshold=args.threshold)
    except (DiffError, ValueError) as e:
        print(f"speechledger: error: {e}", file=sys.stderr)
        return 2
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            render(result, args.format, out)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        render(result, args.format, sys.stdout)
    return 0
