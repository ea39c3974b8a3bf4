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
  ID        a speech id in the ledger (a bare number; read from --db,
            $SPEECHLEDGER_DB or speechledger.toml, default outputs/ledger.sqlite)

Pairs need a similarity of at least --threshold (0..1; n-gram overlap of the texts
with numbers and X placeholders masked, plus the parent heading). A number that
becomes a placeholder (15% -> X%) or another number is a target change; relative
deadlines are compared as written ("年底前" in two years' speeches is unchanged).
Exit status: 0 on success, 2 on a bad argument or unreadable input.
"""


def add_arguments(p) -> None:
    p.add_argument("old", metavar="OLD", help="FILE, FILE#N (1-based speech of a compilation) or ledger speech id")
    p.add_argument("new", metavar="NEW", help="FILE, FILE#N or ledger speech id")
    from speechledger.commands._ledgerargs import DB_HELP, iso_date_str
    p.add_argument("--format", choices=("table", "json", "html", "markdown"), default=None,
                   help="output format (default: from the -o file name: .html, .md, .json; else table)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.add_argument("--db", metavar="URL", help="ledger for speech ids; " + DB_HELP)
    p.add_argument("--date", type=iso_date_str, metavar="DATE",
                   help="speech date YYYY-MM-DD for both files (overrides the headings)")
    p.add_argument("--threshold", type=float, default=None,
                   help="minimum similarity for a pair, 0..1 (default 0.35)")
    p.add_argument("--extractors", choices=("rules", "ml", "hybrid"), default=None,
                   help="which extractors to use on files (default: as `extract`)")


def run(args) -> int:
    from speechledger.commands._ledgerargs import choose_ledger, fail
    from speechledger.diff import DiffError, diff_sources
    from speechledger.diff.render import FORMATS, render
    from speechledger.outfile import OutputError, atomic_output, check_output_path, format_for

    if args.threshold is not None and not 0.0 < args.threshold <= 1.0:
        return fail("--threshold must be in (0, 1]")
    try:
        fmt = format_for(args.output, args.format, FORMATS)
        if args.output:
            check_output_path(args.output)
    except OutputError as e:
        return fail(str(e))
    db = args.db
    if args.old.isdigit() or args.new.isdigit():
        from speechledger.commands._ledgerargs import open_chosen_ledger
        from speechledger.ledger.db import LedgerError
        db, _ = choose_ledger(args.db)
        try:
            open_chosen_ledger(args.db).close()    # says which ledger; an absent one is an error
        except LedgerError as e:
            return fail(str(e))
    try:
        pipe = None
        if not (args.old.isdigit() and args.new.isdigit()):
            from speechledger.api import Pipeline
            from speechledger.commands.extract import default_extractors
            pipe = Pipeline(extractors=args.extractors or default_extractors(None))
        result = diff_sources(args.old, args.new, db=db, date=args.date, pipeline=pipe,
                              threshold=args.threshold)
    except (DiffError, ValueError) as e:
        return fail(str(e))
    try:
        if args.output:
            with atomic_output(args.output) as h:
                render(result, fmt, h.file)
            print(f"wrote {args.output}", file=sys.stderr)
        else:
            render(result, fmt, sys.stdout)
    except (OutputError, OSError) as e:
        return fail(str(e))
    return 0
