"""speechledger history: the status history of a task."""
from __future__ import annotations

import json
import sys

HELP = "show the status history of a task (across versions of its speech)"
DESCRIPTION = """Show every status change of a task, oldest first, across versions of its speech.

  speechledger history 42
  speechledger history 42 --format json
"""


def add_arguments(p) -> None:
    from speechledger.ledger.cliargs import add_db_argument
    p.add_argument("task_id", type=int, help="task id (see `speechledger tasks`)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_db_argument(p)


def run(args) -> int:
    from speechledger.ledger.cliargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger
    from speechledger.ledger.status import history

    try:
        ledger = open_ledger(args.db)
        with ledger, ledger.session() as s:
            h = history(s, args.task_id)
    except LedgerError as e:
        return fail(str(e))
    if args.format == "json":
        json.dump(h, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(f"task {h['current_task_id']} [{h['status']}] {h['text']}")
    print(f"  speech {h['speech_id']}: {h['speech_title']}")
    for v in h["versions"]:
        print(f"  {v['ingested_at']}  ingested (speech version {v['version']}, task {v['task_id']}): open")
    for e in h["events"]:
        extra = "".join(f"  {k}: {e[k]}" for k in ("by", "note") if e[k])
        print(f"  {e['at']}  {e['previous']} -> {e['status']}{extra}")
    if not h["events"]:
        print("  no status changes yet")
    return 0
