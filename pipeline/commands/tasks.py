"""speechledger tasks: query the ledger for supervisors (table, CSV, JSON, XLSX)."""
from __future__ import annotations

import sys

HELP = "query ledger tasks by unit, due date, overdue, status, speech, text (table/csv/json/xlsx)"
DESCRIPTION = """Query the tasks of the ledger; all given filters must hold.

  speechledger tasks --unit 工信局 --due-before 2024-12-31 --status open
  speechledger tasks --overdue --as-of 2024-08-01 --format xlsx -o overdue.xlsx
  speechledger tasks --due-within 14 --as-of 2024-08-01        # due soon (the 'blue light')
  speechledger tasks --speech 3 --specific --format csv
  speechledger tasks --search 产业链 --modality must --format json

--unit matches canonical unit names and every alias, by substring (工信 finds
市工信局, 工信局 and 市工业和信息化局 alike). Dates are inclusive. --overdue means
due before --as-of and not done or cancelled; --due-within N means due between
--as-of and N days later and not done or cancelled. Without --as-of these use
today's date and say so. XLSX and CSV have the 台账 columns 序号, 任务内容, 牵头单位,
配合单位, 完成时限, 目标值, 来源讲话, 状态, 进展 (and 任务ID for `status`).
"""


def add_arguments(p) -> None:
    from speechledger.ledger.cliargs import add_db_argument, iso_date
    add_db_argument(p)
    p.add_argument("--unit", help="responsible unit: canonical name, alias, or a part of either")
    p.add_argument("--role", choices=("lead", "support"), help="with --unit: only as lead or as support unit")
    p.add_argument("--due-before", type=iso_date, metavar="DATE", help="due on or before DATE")
    p.add_argument("--due-after", type=iso_date, metavar="DATE", help="due on or after DATE")
    p.add_argument("--overdue", action="store_true", help="due before --as-of and not done/cancelled")
    p.add_argument("--due-within", type=int, metavar="DAYS", help="due within DAYS of --as-of, not done")
    p.add_argument("--as-of", type=iso_date, metavar="DATE", help="reference date for --overdue/--due-within")
    p.add_argument("--status", action="append", default=[],
                   choices=("open", "in_progress", "done", "cancelled"), help="status (repeatable)")
    p.add_argument("--speech", action="append", type=int, default=[], metavar="ID",
                   help="speech id from `speechledger speeches` (repeatable)")
    p.add_argument("--modality", action="append", default=[], choices=("must", "strive", "should"))
    p.add_argument("--specific", action="store_true", default=None, help="only specific (checkable) tasks")
    p.add_argument("--not-specific", dest="specific", action="store_false", help="only non-specific tasks")
    p.add_argument("--search", action="append", default=[], metavar="TEXT",
                   help="text that must occur in the task (repeatable)")
    p.add_argument("--all-versions", action="store_true", help="include tasks of superseded speech versions")
    p.add_argument("--limit", type=int, help="at most this many tasks")
    p.add_argument("--format", choices=("table", "csv", "json", "xlsx"), default="table")
    p.add_argument("-o", "--output", help="write to this file (required for xlsx)")


def query_from_args(args):
    from speechledger.ledger.cliargs import as_of_or_today
    from speechledger.ledger.queries import TaskQuery
    as_of = as_of_or_today(args.as_of, args.overdue or args.due_within is not None)
    return TaskQuery(unit=args.unit, role=args.role, due_before=args.due_before, due_after=args.due_after,
                     overdue=args.overdue, due_within=args.due_within, as_of=as_of, status=args.status,
                     speech=args.speech, modality=args.modality, specific=args.specific,
                     search=args.search, all_versions=args.all_versions, limit=args.limit)


def run(args) -> int:
    from speechledger.ledger.cliargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger
    from speechledger.ledger.export import export
    from speechledger.ledger.queries import find_tasks, unit_matches

    if args.format == "xlsx" and not args.output:
        return fail("--format xlsx needs an output file: -o FILE.xlsx")
    try:
        ledger = open_ledger(args.db)
        q = query_from_args(args)
        with ledger, ledger.session() as s:
            rows = find_tasks(s, q)
            if args.unit and not rows and not unit_matches(s, args.unit):
                print(f"speechledger: no unit in the ledger matches {args.unit!r}", file=sys.stderr)
    except LedgerError as e:
        return fail(str(e))
    title = f"{len(rows)} tasks" + (f" (as of {q.as_of.isoformat()})" if q.as_of else "")
    export(rows, args.format, sys.stdout, args.output, title)
    if args.output:
        print(f"{len(rows)} tasks written to {args.output}", file=sys.stderr)
    return 0
