"""speechledger status: record the progress of one or more tasks (append-only history)."""
from __future__ import annotations

HELP = "set the status of tasks (未开始/推进中/已完成/已销号/已取消 or open/in_progress/done/cancelled)"
DESCRIPTION = """Record a status change of ledger tasks; every change is kept in its history.

  speechledger status 42 已完成 --note "已完成规划编制" --by 督查室
  speechledger status 42 43 57 推进中 --note "已完成初稿" --by 市工信局
  speechledger status 42 已销号 --at 2024-06-30 --reason "6月底会议已确认，补录" --by 督查室
  speechledger history 42

STATUS is open, in_progress, done, cancelled or a Chinese name: 未开始/未完成,
推进中/进行中, 已完成/已销号/办结, 已取消/已撤销. Task ids come from `speechledger tasks`;
the id of a task from an older version of a speech updates the same task in the
current version. --by names who reports the change; it is required unless
speechledger.toml sets `by`. --at records a change that happened on an earlier day
(not in the future) and needs --reason, which is kept with the note. All ids are
updated together or, when one is unknown, none is.
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument, iso_date
    p.add_argument("task_ids", type=int, nargs="+", metavar="TASK_ID", help="task ids (see `speechledger tasks`)")
    p.add_argument("status", help="new status: 未开始/推进中/已完成/已销号/已取消 or open/in_progress/done/cancelled")
    p.add_argument("--note", help="progress note (进展), e.g. what was done")
    p.add_argument("--by", help="who reports the change, e.g. 督查室 (default: `by` in speechledger.toml)")
    p.add_argument("--at", type=iso_date, metavar="DATE", help="the day the change happened, YYYY-MM-DD (past)")
    p.add_argument("--reason", help="why the change is recorded late (required with --at)")
    add_db_argument(p)


def run(args) -> int:
    import datetime as dt

    from speechledger.commands._ledgerargs import fail, open_chosen_ledger
    from speechledger.config import ConfigError, load_config
    from speechledger.ledger.db import LedgerError
    from speechledger.ledger.export import STATUS_LABELS, parse_status
    from speechledger.ledger.status import set_status

    try:
        status = parse_status(args.status)
        by = (args.by or "").strip() or load_config().get("by")
    except (ValueError, ConfigError) as e:
        return fail(str(e))
    if not by:
        return fail("--by is required (who reports the change, e.g. --by 督查室), "
                    "or set `by` in speechledger.toml")
    at = None
    note = args.note
    if args.at:
        if args.at > dt.date.today():
            return fail(f"--at {args.at.isoformat()} is in the future; --at records a past change")
        if not (args.reason or "").strip():
            return fail("--at needs --reason: why the change is recorded after the fact")
        at = dt.datetime.combine(args.at, dt.time(12, 0))
        note = f"{note}（补录：{args.reason.strip()}）" if note else f"补录：{args.reason.strip()}"
    elif args.reason:
        return fail("--reason goes with --at (a change recorded after the fact)")
    try:
        ledger = open_chosen_ledger(args.db)
        lines = []
        with ledger, ledger.session() as s:
            for tid in dict.fromkeys(args.task_ids):
                ev = set_status(s, tid, status, note=note, by=by, at=at)
                moved = f" (current version of task {tid})" if ev.task_id != tid else ""
                lines.append(f"task {ev.task_id}{moved}: {STATUS_LABELS[ev.previous]} -> "
                             f"{STATUS_LABELS[ev.status]} ({ev.previous} -> {ev.status})")
    except LedgerError as e:
        return fail(f"{e}; no status was changed")
    print("\n".join(lines))
    return 0
