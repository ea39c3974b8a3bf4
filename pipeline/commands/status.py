"""speechledger status: record a task's progress (append-only history)."""
from __future__ import annotations

HELP = "set a task's status (open, in_progress, done, cancelled) with a note and author"
DESCRIPTION = """Record a status change of a ledger task; every change is kept in its history.

  speechledger status 42 done --note "已完成规划编制" --by 督查室
  speechledger status 42 in_progress --note "已完成初稿"
  speechledger history 42

Task ids come from `speechledger tasks`. The id of a task from an older version
of a speech updates the same task in the current version.
"""


def add_arguments(p) -> None:
    from speechledger.ledger.cliargs import add_db_argument
    p.add_argument("task_id", type=int, help="task id (see `speechledger tasks`)")
    p.add_argument("status", choices=("open", "in_progress", "done", "cancelled"))
    p.add_argument("--note", help="progress note (进展), e.g. what was done")
    p.add_argument("--by", help="who reports the change, e.g. 督查室")
    add_db_argument(p)


def run(args) -> int:
    from speechledger.ledger.cliargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger
    from speechledger.ledger.status import set_status

    try:
        ledger = open_ledger(args.db)
        with ledger, ledger.session() as s:
            ev = set_status(s, args.task_id, args.status, note=args.note, by=args.by)
            moved = f" (current version of task {args.task_id})" if ev.task_id != args.task_id else ""
            print(f"task {ev.task_id}{moved}: {ev.previous} -> {ev.status}")
    except LedgerError as e:
        return fail(str(e))
    return 0
