"""speechledger trend: a unit's load or a metric's target across the speeches of the ledger."""
from __future__ import annotations

import sys

HELP = "how a unit's load or a metric's target evolved across speeches (table, CSV, JSON, PNG)"
DESCRIPTION = """Follow a responsible unit or a target metric across the speeches in the ledger,
ordered by speech date (a speech known only by year sorts mid-year; undated last).

  speechledger trend --unit 工信局                       # tasks per speech naming the unit
  speechledger trend --metric 规模工业增加值 -o trend.csv
  speechledger trend --metric 增加值 --plot trend.png    # PNG line chart with Chinese labels

Metrics are compared after normalisation: 规模以上工业增加值, 规上工业增加值 and
"2.规模工业增加值" are one metric, 规模工业增加值. The chart needs a font with Chinese
glyphs (e.g. the Debian package fonts-noto-cjk) and says so when none is installed;
undated speeches cannot sit on its time axis and are left out with a note.
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--unit", help="unit: canonical name, alias, short form, or a part of either")
    g.add_argument("--metric", help="target metric, or a part of it")
    p.add_argument("--format", choices=("table", "csv", "json"), default=None,
                   help="output format (default: from the -o file name, else table)")
    p.add_argument("-o", "--output", help="write the table/CSV/JSON to this file")
    p.add_argument("--plot", metavar="FILE.png", help="also draw a line chart into this PNG file")
    add_db_argument(p)


def run(args) -> int:
    import csv
    import json

    from speechledger.commands._ledgerargs import fail, open_chosen_ledger
    from speechledger.ledger.db import LedgerError
    from speechledger.ledger.export import neutralise
    from speechledger.ledger.trend import METRIC_COLUMNS, UNIT_COLUMNS, metric_trend, plot_trend, unit_trend
    from speechledger.outfile import OutputError, atomic_output, check_output_path, emit, format_for
    from speechledger.output import make_console, plural

    try:
        fmt = format_for(args.output, args.format, ("table", "csv", "json"))
        for path in filter(None, (args.output, args.plot)):
            check_output_path(path)
        if args.plot and not args.plot.lower().endswith(".png"):
            raise OutputError(f"--plot writes a PNG: give a file name ending in .png, not {args.plot!r}")
        ledger = open_chosen_ledger(args.db)
        with ledger, ledger.session() as s:
            rows = unit_trend(s, args.unit) if args.unit else metric_trend(s, args.metric)
    except (LedgerError, OutputError) as e:
        return fail(str(e))
    kind, what = ("unit", args.unit) if args.unit else ("metric", args.metric)
    columns = UNIT_COLUMNS if args.unit else METRIC_COLUMNS
    if not rows:
        print(f"speechledger: no speech in the ledger has a {kind} matching {what!r}", file=sys.stderr)

    def write(out) -> None:
        if fmt == "csv":
            w = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
            w.writeheader()
            w.writerows({c: neutralise(r[c]) for c in columns} for r in rows)
        elif fmt == "json":
            json.dump(rows, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            from rich.table import Table

            from speechledger.ledger.export import format_target
            table = Table(title=f"{kind} {what}: {plural(len(rows), 'row')}", expand=True)
            if args.unit:
                shown = [("date", "讲话日期"), ("title", "讲话"), ("tasks", "任务"), ("lead", "牵头"),
                         ("support", "配合"), ("with_deadline", "有时限"), ("done", "已完成")]
            else:
                shown = [("date", "讲话日期"), ("title", "讲话"), ("target", "目标"), ("task_id", "任务ID"),
                         ("text", "任务内容")]
            for key, label in shown:
                table.add_column(label, overflow="fold", no_wrap=key == "date",
                                 ratio={"text": 3, "title": 1}.get(key))
            for r in rows:
                r = dict(r, target=format_target(r) if not args.unit else "")
                table.add_row(*("" if r[k] is None else str(r[k]) for k, _ in shown))
            make_console(out).print(table)
    try:
        emit(args.output, fmt, write)
        if args.plot:
            title = f"{what}：各次讲话中的任务数" if args.unit else f"{what}：各次讲话提出的目标值"
            with atomic_output(args.plot, text=False) as h:
                undated = plot_trend(rows, h.tmp, title, kind,
                                     warn=lambda m: print(f"speechledger: warning: {m}", file=sys.stderr))
            if undated:
                ids = sorted({r["speech_id"] for r in undated})
                print(f"speechledger: note: {plural(len(ids), 'undated speech')} left out of the chart "
                      f"(speech id {', '.join(map(str, ids))}); they are in the table", file=sys.stderr)
            print(f"chart written to {args.plot}", file=sys.stderr)
    except (OutputError, OSError) as e:
        return fail(str(e))
    return 0
