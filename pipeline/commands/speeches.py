"""speechledger speeches: what is in the ledger."""
from __future__ import annotations

HELP = "list the speeches in the ledger with their task counts"
DESCRIPTION = """List the speeches in the ledger (current versions; --all-versions for every version).

  speechledger speeches
  speechledger speeches --format json --db sqlite:///team.sqlite

A speech is named FILE#N, N counted from 1 (as `diff` takes it); the id is what
`tasks --speech` and `diff` take.
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument
    add_db_argument(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default=None,
                   help="output format (default: from the -o file name, else table)")
    p.add_argument("-o", "--output", help="write to this file (.csv, .json)")
    p.add_argument("--all-versions", action="store_true", help="include superseded versions of changed files")


def run(args) -> int:
    import csv
    import json

    from speechledger.commands._ledgerargs import fail, open_chosen_ledger
    from speechledger.ledger.db import LedgerError
    from speechledger.ledger.export import neutralise
    from speechledger.ledger.queries import list_speeches
    from speechledger.outfile import OutputError, check_output_path, emit, format_for
    from speechledger.output import make_console, plural

    try:
        fmt = format_for(args.output, args.format, ("table", "csv", "json"))
        if args.output:
            check_output_path(args.output)
        ledger = open_chosen_ledger(args.db)
        with ledger, ledger.session() as s:
            rows = list_speeches(s, all_versions=args.all_versions)
    except (LedgerError, OutputError) as e:
        return fail(str(e))

    def write(out) -> None:
        if fmt == "json":
            json.dump(rows, out, ensure_ascii=False, indent=1)
            out.write("\n")
        elif fmt == "csv":
            w = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\r\n")
            w.writeheader()
            w.writerows({k: neutralise(v) for k, v in r.items()} for r in rows)
        else:
            from rich.table import Table
            table = Table(title=plural(len(rows), "speech"), expand=True)
            for col in ("id", "date", "title", "speech", "ver", "tasks", "closed"):
                table.add_column(col, overflow="fold", ratio={"title": 2, "speech": 1}.get(col),
                                 no_wrap=col in ("id", "date", "ver", "tasks", "closed"))
            for r in rows:
                table.add_row(str(r["id"]), r["date"] or (str(r["year"]) if r["year"] else ""), r["title"],
                              r["speech_ref"], f"{r['version']}{'' if r['current'] else ' (old)'}",
                              str(r["tasks"]), str(r["closed"]))
            make_console(out).print(table)
    try:
        emit(args.output, fmt, write)
    except (OutputError, OSError) as e:
        return fail(str(e))
    return 0
