"""Task lists out of the ledger: XLSX 台账, CSV, JSON, JSONL and the terminal table.

Library functions take the rows `queries.find_tasks` returns and give bytes or write
a path (the web app calls `xlsx_bytes`, `csv_bytes`, `json_bytes`, `jsonl_bytes`).
Every cell a spreadsheet could read as a formula (=, +, -, @, tab, CR first) is
neutralised: stored as text in XLSX, prefixed with ' in CSV (OWASP's advice).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any, TextIO

COLUMNS = ("序号", "任务内容", "牵头单位", "配合单位", "完成时限", "剩余或逾期天数", "预警", "目标值",
           "来源讲话", "状态", "进展", "任务ID", "时限原文")
FORMATS = ("table", "csv", "json", "jsonl", "xlsx")
DEFAULT_TITLE = "重点工作任务台账"
DUE_SOON_DAYS = 7
# Chinese status names: the first of each is what exports show; all are accepted on input
STATUS_NAMES = {"open": ("未开始", "未完成", "待办", "未启动"),
                "in_progress": ("推进中", "进行中", "正在推进", "办理中"),
                "done": ("已完成", "已销号", "完成", "销号", "已办结", "办结"),
                "cancelled": ("已取消", "取消", "已撤销", "撤销", "不再推进")}
STATUS_LABELS = {code: names[0] for code, names in STATUS_NAMES.items()}
STATUS_CODES = {name: code for code, names in STATUS_NAMES.items() for name in names}
WARN_OVERDUE, WARN_SOON, WARN_DONE = "逾期", "临期", "已完成"
_FILLS = {WARN_OVERDUE: "F8696B", WARN_SOON: "FFD966", WARN_DONE: "63BE7B"}
_CMP = {">=": "≥", "<=": "≤", "~": "约", "=": ""}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_status(name: str) -> str:
    """open/in_progress/done/cancelled from an English code or a Chinese name (未开始, 已销号, ...)."""
    s = (name or "").strip()
    if s.lower() in STATUS_NAMES:
        return s.lower()
    if s in STATUS_CODES:
        return STATUS_CODES[s]
    known = "、".join(n for names in STATUS_NAMES.values() for n in names[:2])
    raise ValueError(f"unknown status {name!r}; use open, in_progress, done, cancelled or {known}")


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, prefixed with ' (other values as they are)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _names(units: list[dict], lead: bool) -> str:
    seen: list[str] = []
    for u in units:
        if (u["role"] == "lead") == lead and u["canonical"] not in seen:
            seen.append(u["canonical"])
    return "、".join(seen)


def format_deadlines(row: dict) -> str:
    return "；".join(f"{d['text']}（{d['due']}）" if d["due"] else
                    (f"{d['text']}（待定）" if d["placeholder"] else d["text"]) for d in row["deadlines"])


def format_target(g: dict) -> str:
    value = "X" if g["placeholder"] or g["value"] is None else str(g["value"])
    return f"{g['metric']} {_CMP.get(g['comparator'], g['comparator'])}{value}{g['unit']}".strip()


def speech_ref(row: dict) -> str:
    """FILE#N (N counted from 1), the way every command names a speech of a file."""
    n = row.get("speech_index")
    return f"{row['source']}#{n + 1}" if n is not None else row["source"]


def format_speech(row: dict) -> str:
    when = row["speech_date"] or (str(row["speech_year"]) if row["speech_year"] else "")
    return f"{row['speech_title']}（{when}）" if when else row["speech_title"]


def days_left(row: dict, as_of: dt.date | None) -> int | None:
    """Days from `as_of` to the task's due date (negative: overdue); None when closed or undated."""
    if as_of is None or not row.get("due") or row["status"] in ("done", "cancelled"):
        return None
    return (dt.date.fromisoformat(row["due"]) - as_of).days


def warning(row: dict, as_of: dt.date | None, soon: int = DUE_SOON_DAYS) -> str:
    """预警: 已完成 (green), 逾期 (red), 临期 = due within `soon` days (yellow), else ''."""
    if row["status"] == "done":
        return WARN_DONE
    days = days_left(row, as_of)
    if days is None:
        return ""
    if days < 0:
        return WARN_OVERDUE
    return WARN_SOON if days <= soon else ""


def ledger_row(n: int, row: dict, as_of: dt.date | None = None, soon: int = DUE_SOON_DAYS) -> dict[str, Any]:
    """One 台账 line: the columns a 督查室 expects, plus the task id for `status` updates.

    完成时限 is a date (or the deadline wording when it has none); the wording is kept in 时限原文.
    """
    due = dt.date.fromisoformat(row["due"]) if row.get("due") else None
    return {"序号": n, "任务内容": row["text"], "牵头单位": _names(row["units"], True),
            "配合单位": _names(row["units"], False), "完成时限": due or format_deadlines(row),
            "剩余或逾期天数": days_left(row, as_of), "预警": warning(row, as_of, soon),
            "目标值": "；".join(format_target(g) for g in row["targets"]),
            "来源讲话": format_speech(row), "状态": STATUS_LABELS.get(row["status"], row["status"]),
            "进展": row["progress"] or "", "任务ID": row["id"], "时限原文": format_deadlines(row)}


# ---------------------------------------------------------------- CSV

def write_csv(rows: list[dict], out: TextIO, as_of: dt.date | None = None, soon: int = DUE_SOON_DAYS) -> None:
    """CSV with the 台账 columns; open `out` with encoding='utf-8-sig' (BOM) so Excel reads UTF-8."""
    w = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for n, row in enumerate(rows, 1):
        line = ledger_row(n, row, as_of, soon)
        w.writerow({k: neutralise(v.isoformat() if isinstance(v, dt.date) else ("" if v is None else v))
                    for k, v in line.items()})


def csv_bytes(rows: list[dict], as_of: dt.date | None = None, soon: int = DUE_SOON_DAYS) -> bytes:
    buf = io.StringIO()
    write_csv(rows, buf, as_of, soon)
    return buf.getvalue().encode("utf-8-sig")


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------- JSON

def json_tasks(rows: list[dict]) -> list[dict]:
    """The JSON export: task objects (§6 fields plus id, status, speech and its FILE#N reference).

    JSON is data, not a spreadsheet: texts are written exactly as stored.
    """
    return [{**r, "speech_ref": speech_ref(r)} for r in rows]


def write_json(rows: list[dict], out: TextIO) -> None:
    json.dump(json_tasks(rows), out, ensure_ascii=False, indent=1)
    out.write("\n")


def write_jsonl(rows: list[dict], out: TextIO) -> None:
    for r in json_tasks(rows):
        out.write(json.dumps(r, ensure_ascii=False) + "\n")


def json_bytes(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    write_json(rows, buf)
    return buf.getvalue().encode("utf-8")


def jsonl_bytes(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    write_jsonl(rows, buf)
    return buf.getvalue().encode("utf-8")


# ---------------------------------------------------------------- XLSX

_WIDTHS = {"序号": 5, "任务内容": 50, "牵头单位": 14, "配合单位": 14, "完成时限": 11, "剩余或逾期天数": 9,
           "预警": 7, "目标值": 16, "来源讲话": 20, "状态": 7, "进展": 18, "任务ID": 6, "时限原文": 14}
_LINE_PT = 14       # one wrapped line of 10 pt 宋体


def _text_width(v) -> int:
    """Display width in Excel character units: a Chinese character counts two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(v))


def _row_height(line: dict) -> float:
    """Excel and LibreOffice do not grow rows of wrapped text on open: size them from the text."""
    import math
    lines = 1
    for c, v in line.items():
        if v not in (None, "") and not isinstance(v, (int, float, dt.date)):
            lines = max(lines, sum(math.ceil(_text_width(part) / max(1, _WIDTHS[c] - 1)) or 1
                                   for part in str(v).split("\n")))
    return lines * _LINE_PT + 4
XLSX_FONT = "宋体"       # SimSun on Windows; LibreOffice/WPS substitute a CJK font elsewhere


def build_workbook(rows: list[dict], title: str = DEFAULT_TITLE, as_of: dt.date | None = None,
                   soon: int = DUE_SOON_DAYS):
    """The 台账 workbook: title row, header, one row per task, 预警 fills, print setup."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ncol = len(COLUMNS)
    last = get_column_letter(ncol)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    body_font = Font(name=XLSX_FONT, size=10)
    wrap = Alignment(wrap_text=True, vertical="center")

    head = f"{title}（截至 {as_of.isoformat()}）" if as_of else title
    ws.cell(row=1, column=1).value = head
    _as_text(ws.cell(row=1, column=1))
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(name=XLSX_FONT, size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    for i, c in enumerate(COLUMNS, 1):
        cell = ws.cell(row=2, column=i, value=c)
        cell.font = Font(name=XLSX_FONT, size=10, bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS[c]
    ws.row_dimensions[2].height = 2 * _LINE_PT + 4
    for n, row in enumerate(rows, 1):
        line = ledger_row(n, row, as_of, soon)
        r = n + 2
        ws.row_dimensions[r].height = _row_height(line)
        for i, c in enumerate(COLUMNS, 1):
            v = line[c]
            cell = ws.cell(row=r, column=i)
            cell.value = "" if v is None else v
            if isinstance(v, str):
                _as_text(cell)
            cell.font = body_font
            cell.border = border
            cell.alignment = wrap if c in ("任务内容", "进展", "来源讲话", "目标值", "牵头单位", "配合单位",
                                           "时限原文") else Alignment(horizontal="center", vertical="center",
                                                                     wrap_text=True)
            if c == "完成时限" and isinstance(v, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif c == "剩余或逾期天数" and v is not None:
                cell.number_format = '"剩余"0"天";"逾期"0"天";"今日到期"'
            elif c == "预警" and v in _FILLS:
                cell.fill = PatternFill("solid", fgColor=_FILLS[v])
                cell.font = Font(name=XLSX_FONT, size=10, bold=True)
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:{last}{max(2, len(rows) + 2)}"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    return wb


def _as_text(cell) -> None:
    """Store the cell as a plain string even when it starts with '=' (never a live formula)."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if cell.value.startswith(_FORMULA_START):
            cell.quotePrefix = True   # Excel shows it as typed text, also after editing


def xlsx_bytes(rows: list[dict], title: str = DEFAULT_TITLE, as_of: dt.date | None = None,
               soon: int = DUE_SOON_DAYS) -> bytes:
    buf = io.BytesIO()
    build_workbook(rows, title, as_of, soon).save(buf)
    return buf.getvalue()


def write_xlsx(rows: list[dict], path: str | Path, title: str = DEFAULT_TITLE, as_of: dt.date | None = None,
               soon: int = DUE_SOON_DAYS) -> None:
    """Write the 台账 to `path` all-or-nothing (a temp file renamed on success)."""
    from speechledger.outfile import atomic_output
    data = xlsx_bytes(rows, title, as_of, soon)
    with atomic_output(path, text=False) as h:
        h.tmp.write_bytes(data)


def read_xlsx(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a 台账 written by `write_xlsx` (the header is the row starting with 序号)."""
    from openpyxl import load_workbook
    ws = load_workbook(str(path), read_only=True).active
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    while header and header[0] != "序号":
        header = next(rows)
    return [{h: ("" if v is None else v) for h, v in zip(header, r)} for r in rows]


# ---------------------------------------------------------------- terminal

def print_tasks(rows: list[dict], out: TextIO, title: str | None = None, as_of: dt.date | None = None,
                soon: int = DUE_SOON_DAYS) -> None:
    """A table as wide as the terminal ($COLUMNS when piped); the task text takes what is left.

    Overdue tasks are red, due-soon yellow (colours only on a terminal).
    """
    from rich.table import Table

    from speechledger.output import make_console

    console = make_console(out)
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("ID", no_wrap=True, justify="right")
    table.add_column("任务内容", ratio=1, overflow="fold", min_width=16)
    table.add_column("牵头单位", overflow="fold", max_width=14)
    table.add_column("完成时限", no_wrap=True)
    table.add_column("预警", no_wrap=True)
    table.add_column("状态", no_wrap=True)
    table.add_column("讲话", overflow="fold", max_width=18)
    styles = {WARN_OVERDUE: "red", WARN_SOON: "yellow", WARN_DONE: "green"}
    for row in rows:
        warn = warning(row, as_of, soon)
        days = days_left(row, as_of)
        flag = warn + (f" {abs(days)}天" if days is not None and warn in (WARN_OVERDUE, WARN_SOON) else "")
        due = row["due"] or ("X" if any(d["placeholder"] for d in row["deadlines"]) else "")
        table.add_row(str(row["id"]), row["text"], _names(row["units"], True) or "—", due, flag,
                      STATUS_LABELS.get(row["status"], row["status"]), Path(speech_ref(row)).name,
                      style=styles.get(warn) if warn != WARN_DONE else None)
    console.print(table)


# ---------------------------------------------------------------- one entry point

def export(rows: list[dict], fmt: str, out: TextIO | None, path: str | None, title: str | None = None,
           as_of: dt.date | None = None, soon: int = DUE_SOON_DAYS, sheet_title: str = DEFAULT_TITLE) -> None:
    """Write rows in `fmt` to `path` (all-or-nothing) or to `out` (text formats only)."""
    from speechledger.outfile import OutputError, emit
    if fmt not in FORMATS:
        raise OutputError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        if not path:
            raise OutputError("--format xlsx needs an output file: -o FILE.xlsx")
        write_xlsx(rows, path, sheet_title, as_of, soon)
        return

    def write(f: TextIO) -> None:
        if fmt == "table":
            print_tasks(rows, f, title, as_of, soon)
        elif fmt == "csv":
            write_csv(rows, f, as_of, soon)
        elif fmt == "json":
            write_json(rows, f)
        else:
            write_jsonl(rows, f)
    emit(path, fmt, write, out)
