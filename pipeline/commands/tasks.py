"""speechledger tasks: query the ledger for supervisors (table, CSV, JSON, JSONL, XLSX)."""
from __future__ import annotations

import sys

HELP = "query ledger tasks by unit, due date, overdue, status, speech, text (table/csv/json/jsonl/xlsx)"
DESCRIPTION = """Query the tasks of the ledger; all given filters must hold.

  speechledger tasks --unit 工信局 --due-before 2024-12-31 --status 未开始
  speechledger tasks --overdue --as-of 2024-08-01 -o overdue.xlsx
  speechledger tasks --due-within 14 --as-of 2024-08-01        # due soon (the 'blue light')
  speechledger tasks --speech 3 --specific -o tasks.csv
  speechledger tasks --search 产业链 --modality must --format jsonl

--unit matches canonical unit names and every alias by substring, across
simplified/traditional script, level prefixes (市/区/县…) and the usual short forms:
工信局 finds 市工信局, 区工业和信息化局 and 县工信局 alike. --search matches either
script (产业链 also finds 產業鏈). Dates are inclusive. --overdue means due before
--as-of and not done or cancelled; --due-within N means due between --as-of and N
days later and not done or cancelled. Without --as-of these (and the 预警 column)
use today's date and say so.

-o FILE.xlsx / .csv / .json / .jsonl picks the format from the name; a --format
that contradicts it is an error. The XLSX 台账 has a title row (name and 截至 date)
and the columns 序号, 任务内容, 牵头单位, 配合单位, 完成时限 (a date), 剩余或逾期天数,
预警 (red 逾期, yellow 临期 = due within --warn-days, green 已完成), 目标值, 来源讲话,
状态, 进展, 任务ID (for `status`) and 时限原文; CSV has the same columns in UTF-8 with
a BOM. Cells that start like a formula (=, +, -, @) are written as text.
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument, iso_date
    add_db_argument(p)
    p.add_argument("--unit", help="responsible unit: canonical name, alias, short form, or a part of either")
    p.add_argument("--role", choices=("lead", "support"), help="with --unit: only as lead or as support unit")
    p.add_argument("--due-before", type=iso_date, metavar="DATE", help="due on or before DATE")
    p.add_argument("--due-after", type=iso_date, metavar="DATE", help="due on or after DATE")
    p.add_argument("--overdue", action="store_true", help="due before --as-of and not done/cancelled")
    p.add_argument("--due-within", type=int, metavar="DAYS", help="due within DAYS of --as-of, not done")
    p.add_argument("--as-of", type=iso_date, metavar="DATE",
                   help="reference date for --overdue/--due-within and the 预警 column")
    p.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help="status (repeatable): open/in_progress/done/cancelled or 未开始/推进中/已完成/已销号/已取消")
    p.add_argument("--speech", action="append", type=int, default=[], metavar="ID",
                   help="speech id from `speechledger speeches` (repeatable)")
    p.add_argument("--modality", action="append", default=[], choices=("must", "strive", "should"))
    p.add_argument("--specific", action="store_true", default=None, help="only specific (checkable) tasks")
    p.add_argument("--not-specific", dest="specific", action="store_false", help="only non-specific tasks")
    p.add_argument("--search", action="append", default=[], metavar="TEXT",
                   help="text that must occur in the task, in either script (repeatable)")
    p.add_argument("--all-versions", action="store_true", help="include tasks of superseded speech versions")
    p.add_argument("--limit", type=int, help="at most this many tasks")
    p.add_argument("--warn-days", type=int, metavar="N", default=None,
                   help="预警 yellow: due within N days (default: due_soon_days in speechledger.toml, else 7)")
    p.add_argument("--title", help="name in the XLSX title row (default: title in speechledger.toml)")
    p.add_argument("--format", choices=("table", "csv", "json", "jsonl", "xlsx"), default=None,
                   help="output format (default: from the -o file name, else table)")
    p.add_argument("-o", "--output", help="write to this file (.xlsx, .csv, .json, .jsonl)")


def query_from_args(args, as_of):
    from speechledger.ledger.export import parse_status
    from speechledger.ledger.queries import TaskQuery
    return TaskQuery(unit=args.unit, role=args.role, due_before=args.due_before, due_after=args.due_after,
                     overdue=args.overdue, due_within=args.due_within, as_of=as_of,
                     status=[parse_status(s) for s in args.status], speech=args.speech,
                     modality=args.modality, specific=args.specific, search=args.search,
                     all_versions=args.all_versions, limit=args.limit)


def run(args) -> int:
    from speechledger.commands._ledgerargs import as_of_or_today, fail, open_chosen_ledger
    from speechledger.config import ConfigError, load_config
    from speechledger.ledger.db import LedgerError
    from speechledger.ledger.export import DEFAULT_TITLE, DUE_SOON_DAYS, FORMATS, export
    from speechledger.ledger.queries import find_tasks, unit_matches
    from speechledger.outfile import OutputError, check_output_path, format_for
    from speechledger.output import plural

    try:
        fmt = format_for(args.output, args.format, FORMATS)
        if fmt == "xlsx" and not args.output:
            raise OutputError("--format xlsx needs an output file: -o FILE.xlsx")
        if args.output:
            check_output_path(args.output)
        cfg = load_config()
        soon = args.warn_days if args.warn_days is not None else cfg.get("due_soon_days", DUE_SOON_DAYS)
        if soon < 0:
            raise OutputError("--warn-days takes a number of days >= 0")
        as_of = as_of_or_today(args.as_of, args.overdue or args.due_within is not None
                               or fmt not in ("json", "jsonl"))
        q = query_from_args(args, as_of)
        ledger = open_chosen_ledger(args.db)
        with ledger, ledger.session() as s:
            rows = find_tasks(s, q)
            if args.unit and not rows and not unit_matches(s, args.unit):
                print(f"speechledger: no unit in the ledger matches {args.unit!r}", file=sys.stderr)
        title = plural(len(rows), "task") + (f" (as of {as_of.isoformat()})" if as_of else "")
        export(rows, fmt, sys.stdout, args.output, title, as_of=as_of, soon=soon,
               sheet_title=args.title or cfg.get("title", DEFAULT_TITLE))
    except (LedgerError, OutputError, ConfigError, ValueError, OSError) as e:
        return fail(str(e))
    if args.output:
        print(f"{plural(len(rows), 'task')} written to {args.output}", file=sys.stderr)
    return 0
