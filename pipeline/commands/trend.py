"""speechledger trend: a unit's load or a metric's target across the speeches of the ledger."""
from __future__ import annotations

import sys

HELP = "how a unit's load or a metric's target evolved across speeches (table, CSV, PNG)"
DESCRIPTION = """Follow a responsible unit or a target metric across the speeches in the ledger,
ordered by speech date (a speech known only by year sorts mid-year; undated last).

  speechledger trend --unit 工信局                       # tasks per speech naming the unit
  speechledger trend --metric 规模工业增加值 --format csv
  speechledger trend --metric 增加值 --plot trend.png    # PNG line chart (matplotlib)
"""


def add_arguments(p) -> None:
    from speechledger.ledger.cliargs import add_db_argument
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--unit", help="unit: canonical name, alias, or a part of either")
    g.add_argument("--metric", help="target metric, or a part of it")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("-o", "--output", help="write the table/CSV/JSON to this file")
    p.add_argument("--plot", metavar="FILE.png", help="also draw a line chart into this PNG file")
    add_db_argument(p)


def run(args) -> int:
    import csv
    import json

    from speechledger.ledger.cliargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger
    from speechledger.ledger.trend import METRIC_COLUMNS, UNIT_COLUMNS, metric_trend, plot_trend, unit_trend

    try:
        ledger = open_ledger(args.db)
        with ledger, ledger.session() as s:
            rows = unit_trend(s, args.unit) if args.unit else metric_trend(s, args.metric)
    except LedgerError as e:
        return fail(str(e))
    kind, what = ("unit", args.unit) if args.unit else ("metric", args.metric)
    columns = UNIT_COLUMNS if args.unit else METRIC_COLUMNS
    if not rows:
        print(f"speechledger: no speech in the ledger has a {kind} matching {what!r}", file=sys.stderr)
    out = open(args.output, "w", encoding="utf-8-sig" if args.format == "csv" else "utf-8", newline="") \
        if args.output else sys.stdout
    try:
        if args.format == "csv":
            w = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        elif args.format == "json":
            json.dump(rows, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            from rich.console import Console
            from rich.table import Table
            table = Table(title=f"{kind} {what}: {len(rows)} rows")
            for c in columns:
                table.add_column(c, overflow="fold")
            for r in rows:
                table.add_row(*("" if r[c] is None else str(r[c]) for c in columns))
            Console(file=out, width=None if out.isatty() else 200).print(table)
    finally:
        if args.output:
            out.close()
    if args.plot:
        plot_trend(rows, args.plot, f"{kind}: {what}", kind)
        print(f"chart written to {args.plot}", file=sys.stderr)
    return 0
