"""speechledger corrections: reviewers' corrections of extracted tasks, as gold lines."""
from __future__ import annotations

HELP = "list or export the web reviewers' corrections (ANNOTATION.md §7 gold lines)"
DESCRIPTION = """Corrections made in the web app's review (confirm, edit, merge, reject).

  speechledger corrections list                    # who, when, what, before -> after (JSON lines)
  speechledger corrections export -o gold/web.jsonl

`export` writes every reviewed task that stays a task (confirmed, edited or
merged) as a gold line in the ANNOTATION.md §7 format: doc (the source file's
name without suffix), seg, start, end, modality, specific, and units,
deadlines and targets with their text and occurrence index `occ` in the task.
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument
    p.add_argument("action", choices=("list", "export"))
    p.add_argument("-o", "--output", help="write to this file (default: standard output)")
    add_db_argument(p)


def run(args) -> int:
    import json
    import sys

    from speechledger.commands._ledgerargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger
    from speechledger.web import data

    try:
        ledger = open_ledger(args.db)
        with ledger, ledger.session() as s:
            lines = data.gold_lines(s) if args.action == "export" else data.corrections(s)
    except LedgerError as e:
        return fail(str(e))
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if args.output:
            out.close()
            print(f"speechledger: wrote {len(lines)} lines to {args.output}", file=sys.stderr)
    return 0
