"""Task lists out of the ledger: terminal table, CSV, JSON and XLSX (the 督查室 台账 columns)."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable, TextIO

COLUMNS = ("序号", "任务内容", "牵头单位", "配合单位", "完成时限", "目标值", "来源讲话", "状态", "进展", "任务ID")
STATUS_LABELS = {"open": "未完成", "in_progress": "推进中", "done": "已完成", "cancelled": "已取消"}
STATUS_CODES = {v: k for k, v in STATUS_LABELS.items()}
_CMP = {">=": "≥", "<=": "≤", "~": "约", "=": ""}


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


def format_speech(row: dict) -> str:
    when = row["speech_date"] or (str(row["speech_year"]) if row["speech_year"] else "")
    return f"{row['speech_title']}（{when}）" if when else row["speech_title"]


def ledger_row(n: int, row: dict) -> dict[str, Any]:
    """One 台账 line: the columns a 督查室 expects, plus the task id for `status` updates."""
    return {"序号": n, "任务内容": row["text"], "牵头单位": _names(row["units"], True),
            "配合单位": _names(row["units"], False), "完成时限": format_deadlines(row),
            "目标值": "；".join(format_target(g) for g in row["targets"]),
            "来源讲话": format_speech(row), "状态": STATUS_LABELS.get(row["status"], row["status"]),
            "进展": row["progress"] or "", "任务ID": row["id"]}


def write_csv(rows: list[dict], out: TextIO) -> None:
    """CSV with the 台账 columns (write to a file opened with encoding='utf-8-sig' for Excel)."""
    w = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for n, row in enumerate(rows, 1):
        w.writerow(ledger_row(n, row))


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def json_tasks(rows: list[dict]) -> list[dict]:
    """The JSON export: an array of task objects (§6 fields plus id, status and speech)."""
    return rows


def write_json(rows: list[dict], out: TextIO) -> None:
    json.dump(json_tasks(rows), out, ensure_ascii=False, indent=1)
    out.write("\n")


def write_xlsx(rows: list[dict], path: str | Path, title: str = "任务台账") -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for n, row in enumerate(rows, 1):
        line = ledger_row(n, row)
        ws.append([line[c] for c in COLUMNS])
    widths = {"序号": 6, "任务内容": 60, "牵头单位": 18, "配合单位": 18, "完成时限": 18, "目标值": 24,
              "来源讲话": 30, "状态": 8, "进展": 30, "任务ID": 8}
    for i, c in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = widths[c]
    for r in ws.iter_rows(min_row=2):
        for cell in r:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    wb.save(str(path))


def read_xlsx(path: str | Path) -> list[dict[str, Any]]:
    from openpyxl import load_workbook
    ws = load_workbook(str(path), read_only=True).active
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    return [{h: ("" if v is None else v) for h, v in zip(header, r)} for r in rows]


def print_tasks(rows: list[dict], out: TextIO, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, soft_wrap=False, width=None if out.isatty() else 200)
    table = Table(title=title, show_lines=False)
    for col in ("id", "task", "lead", "support", "due", "targets", "status", "speech"):
        table.add_column(col, overflow="fold")
    for row in rows:
        text = row["text"] if len(row["text"]) <= 60 else row["text"][:58] + "…"
        due = row["due"] or ("X" if any(d["placeholder"] for d in row["deadlines"]) else "")
        table.add_row(str(row["id"]), text, _names(row["units"], True), _names(row["units"], False), due,
                      "；".join(format_target(g) for g in row["targets"]), row["status"],
                      str(row["speech_id"]))
    console.print(table)


def export(rows: list[dict], fmt: str, out: TextIO | None, path: str | None, title: str | None = None) -> None:
    """Write rows in `fmt` to `path` (or `out` for the text formats)."""
    if fmt == "xlsx":
        if not path:
            raise ValueError("--format xlsx needs an output file (-o FILE.xlsx)")
        write_xlsx(rows, path)
        return
    writers = {"csv": write_csv, "json": write_json}
    if fmt == "table":
        if path:
            with open(path, "w", encoding="utf-8") as f:
                print_tasks(rows, f, title)
        else:
            print_tasks(rows, out, title)
        return
    if path:
        with open(path, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as f:
            writers[fmt](rows, f)
    else:
        writers[fmt](rows, out)


def iter_formats() -> Iterable[str]:
    return ("table", "csv", "json", "xlsx")
