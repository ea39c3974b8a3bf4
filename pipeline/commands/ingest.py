"""speechledger ingest: extract speech files and folders into the ledger."""
from __future__ import annotations

import sys

HELP = "extract speech files and folders into the task ledger (idempotent, parallel)"
DESCRIPTION = """Extract every speech of the given files and folders (recursively) into the ledger.

  speechledger ingest speeches/ more.docx                   # default ledger outputs/ledger.sqlite
  speechledger ingest speeches/ --jobs 2 --db sqlite:///team.sqlite
  speechledger ingest a.txt --date 2024-07-04               # reference date for relative deadlines
  speechledger ingest corpus/ --engine dask --jobs 4        # a local Dask cluster of 4 worker processes
  speechledger ingest corpus/ --scheduler tcp://HOST:8786   # an existing Dask cluster
  speechledger ingest --alias 工信局=市工业和信息化局           # teach the ledger a unit alias
  speechledger ingest --aliases my_aliases.tsv              # many aliases (alias<TAB>canonical)

Ingesting content already in the ledger adds nothing and keeps statuses; a
changed file becomes a new version of its changed speeches, and tasks whose
text is unchanged keep their status history. Unreadable files are reported and
skipped. Each speech is written in one transaction, so Ctrl-C or a crash keeps
every finished speech and drops the unfinished one; run the command again to
finish the batch. Exit status: 0, 1 when some file failed, 130 when interrupted.
"""


def add_arguments(p) -> None:
    from speechledger.commands._batchargs import add_engine_arguments
    from speechledger.commands._ledgerargs import add_db_argument
    p.add_argument("paths", nargs="*", help="speech files (.txt, .docx) and folders")
    add_db_argument(p)
    p.add_argument("--date", help="speech date YYYY-MM-DD for every file (overrides dates read from headings)")
    p.add_argument("--extractors", choices=("rules", "ml", "hybrid"), default=None,
                   help="which extractors (default: hybrid when models are installed, else rules)")
    p.add_argument("--alias", action="append", default=[], metavar="ALIAS=CANONICAL",
                   help="add a unit alias (repeatable); merges units already in the ledger")
    p.add_argument("--aliases", metavar="FILE", help="TSV file of aliases: alias<TAB>canonical per line")
    add_engine_arguments(p)


def run(args) -> int:
    from speechledger.batch import check_date, ingest
    from speechledger.commands._ledgerargs import fail, open_chosen_ledger
    from speechledger.ledger.aliases import add_alias, read_alias_file
    from speechledger.ledger.db import LedgerError

    if not args.paths and not args.alias and not args.aliases:
        return fail("give files or folders to ingest (or --alias/--aliases)")
    if args.jobs < 1:
        return fail("--jobs must be at least 1")
    try:
        check_date(args.date)
    except ValueError as e:
        return fail(str(e))
    pairs = []
    try:
        for a in args.alias:
            alias, sep, canonical = a.partition("=")
            if not sep or not alias.strip() or not canonical.strip():
                return fail(f"--alias takes ALIAS=CANONICAL, got {a!r}")
            pairs.append((alias, canonical))
        if args.aliases:
            pairs += read_alias_file(args.aliases)
    except (OSError, ValueError) as e:
        return fail(str(e))
    try:
        ledger = open_chosen_ledger(args.db, create=True)
    except LedgerError as e:
        return fail(str(e))
    with ledger:
        if pairs:
            with ledger.session() as s:
                for alias, canonical in pairs:
                    add_alias(s, alias, canonical)
            print(f"{len(pairs)} alias(es) added", file=sys.stderr)
        if not args.paths:
            return 0
        try:
            summary = ingest(ledger, args.paths, date=args.date, jobs=args.jobs, engine=args.engine,
                             scheduler=args.scheduler, extractors=args.extractors, progress=args.progress)
        except (ValueError, RuntimeError) as e:
            return fail(str(e))
    print(f"ingested into {ledger.url}: {summary.line()}", file=sys.stderr)
    for skipped in summary.skipped:            # files in the folders that were not read, and why
        print(f"  skipped {skipped}", file=sys.stderr)
    for change in summary.status_changes():     # re-ingested sources: what happened to each status
        print(f"  {change}", file=sys.stderr)
    if summary.interrupted:
        print("speechledger: interrupted; finished speeches are kept, run again to finish", file=sys.stderr)
        return 130
    return 1 if summary.errors else 0
