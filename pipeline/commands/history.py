"""speechledger history: the status history of a task."""
from __future__ import annotations

import json
import sys

HELP = "show the status history of a task (across versions of its speech), in time order"
DESCRIPTION = """Show every status change of a task in time order, across versions of its speech:
the ingests of each version and each status change, oldest first.

  speechledger history 42
  speechledger history 42 --format json
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument
    p.add_argument("task_id", type=int, help="task id (see `speechledger tasks`)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_db_argument(p)


def timeline(h: dict) -> list[tuple[str, str]]:
    """(time, line) of ingests and status events, oldest first (an ingest before an event at the same time)."""
    from speechledger.ledger.export import STATUS_LABELS
    items = [(v["ingested_at"], 0, f"ingested (speech version {v['version']}, task {v['task_id']})")
             for v in h["versions"]]
    for e in h["events"]:
        extra = "".join(f"  {k}: {e[k]}" for k in ("by", "note") if e[k])
        items.append((e["at"], 1, f"{STATUS_LABELS.get(e['previous'], e['previous'])} -> "
                                  f"{STATUS_LABELS.get(e['status'], e['status'])} "
                                  f"({e['previous']} -> {e['status']}){extra}"))
    return [(at, line) for at, _, line in sorted(items, key=lambda x: (x[0], x[1]))]


def run(args) -> int:
    from speechledger.commands._ledgerargs import fail, open_chosen_ledger
    from speechledger.ledger.db import LedgerError
    from speechledger.ledger.export import STATUS_LABELS
    from speechledger.ledger.status import history

    try:
        ledger = open_chosen_ledger(args.db)
        with ledger, ledger.session() as s:
            h = history(s, args.task_id)
    except LedgerError as e:
        return fail(str(e))
    h["events"].sort(key=lambda e: (e["at"], e["id"]))
    if args.format == "json":
        json.dump(h, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(f"task {h['current_task_id']} [{STATUS_LABELS.get(h['status'], h['status'])}] {h['text']}")
    print(f"  speech {h['speech_id']}: {h['speech_title']}")
    for at, line in timeline(h):
        print(f"  {at}  {line}")
    if not h["events"]:
        print("  no status changes yet")
    return 0
