"""speechledger speeches: what is in the ledger."""
from __future__ import annotations

import sys

HELP = "list the speeches in the ledger with their task counts"
DESCRIPTION = """List the speeches in the ledger (current versions; --all-versions for every version).

  speechledger speeches
  speechledger speeches --format json --db sqlite:///team.sqlite
"""


def add_arguments(p) -> None:
    from speechledger.ledger.cliargs import add_db_argument
    add_db_argument(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--all-versions", action="store_true", help="include superseded versions of changed files")


def run(args) -> int:
    import csv
    import json

    from speechledger.ledger.cliargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger
    from speechledger.ledger.queries import list_speeches

    try:
        ledger = open_ledger(args.db)
    except LedgerError as e:
        return fail(str(e))
    with ledger, ledger.session() as s:
        rows = list_speeches(s, all_versions=args.all_versions)
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table
        table = Table(title=f"{len(rows)} speeches in {ledger.url}")
        for col in ("id", "date", "title", "source", "#", "ver", "tasks", "closed"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(str(r["id"]), r["date"] or (str(r["year"]) if r["year"] else ""), r["title"],
                          r["source"], str(r["speech"] + 1),
                          f"{r['version']}{'' if r['current'] else ' (old)'}", str(r["tasks"]), str(r["closed"]))
        Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 0
