"""Write a DiffResult as a terminal table (rich), JSON, self-contained HTML or Markdown."""
from __future__ import annotations

import html
import json
from difflib import SequenceMatcher
from typing import IO

from speechledger.diff.compare import DiffResult, Row
from speechledger.normalize import norm_text

FORMATS = ("table", "json", "html", "markdown")
SUMMARY_ORDER = ("unchanged", "reworded", "target", "deadline", "units", "modality", "added", "dropped")
_LABELS = {"unchanged": "unchanged", "reworded": "reworded only", "target": "target changed",
           "deadline": "deadline changed", "units": "units changed", "modality": "modality changed",
           "added": "added", "dropped": "dropped"}


def render(result: DiffResult, fmt: str, out: IO[str]) -> None:
    """Write result to out in one of FORMATS."""
    if fmt == "json":
        json.dump(result.to_json(), out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif fmt == "html":
        out.write(to_html(result))
    elif fmt == "markdown":
        out.write(to_markdown(result))
    elif fmt == "table":
        print_table(result, out)
    else:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def _speech_label(sp: dict) -> str:
    when = sp.get("date") or (str(sp["year"]) if sp.get("year") else "date unknown")
    return f"{sp.get('source')}#{(sp.get('speech') or 0) + 1} {sp.get('title') or '(untitled)'} ({when})"


def _summary_text(result: DiffResult) -> str:
    c = result.counts()
    return ", ".join(f"{_LABELS[k]} {c[k]}" for k in SUMMARY_ORDER)


def _row_status(row: Row) -> str:
    if row.kind != "pair":
        return row.kind
    return row.pair.status


def _change_notes(row: Row) -> str:
    """Old → new values of the changed fields, for the table and Markdown."""
    if row.kind != "pair":
        return ""
    d = row.pair.details
    notes = []
    for t in d.get("target") or []:
        metric = f"{t['metric']} " if t.get("metric") else ""
        notes.append(f"{metric}{t.get('old') or '—'}→{t.get('new') or '—'}")
    if "deadline" in d:
        notes.append(f"时限 {'、'.join(d['deadline']['old']) or '—'}→{'、'.join(d['deadline']['new']) or '—'}")
    if "units" in d:
        u = d["units"]
        notes.append(" ".join(filter(None, ["+" + "、".join(u["added"]) if u["added"] else "",
                                            "−" + "、".join(u["removed"]) if u["removed"] else ""])))
    if "modality" in d:
        m = d["modality"]
        notes.append(f"{m['old']}→{m['new']}")
    return "；".join(notes)


def _groups(result: DiffResult):
    """Rows grouped by consecutive parent heading."""
    group: list[Row] = []
    head = None
    for row in result.rows:
        if group and row.heading != head:
            yield head, group
            group = []
        head = row.heading
        group.append(row)
    if group:
        yield head, group


# ---------------------------------------------------------------- terminal table

def print_table(result: DiffResult, out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, soft_wrap=False, width=None if out.isatty() else 180)
    console.print(f"[bold]OLD[/] {_speech_label(result.old)}")
    console.print(f"[bold]NEW[/] {_speech_label(result.new)}")
    console.print(_summary_text(result))
    style = {"unchanged": "dim", "added": "green", "dropped": "red"}
    table = Table(show_lines=False, expand=False)
    table.add_column("status", overflow="fold", max_width=22)
    table.add_column("sim", overflow="fold")
    for col in ("old", "new", "what changed"):
        table.add_column(col, overflow="fold")
    for head, rows in _groups(result):
        table.add_row("§", "", Text(head or "(top of speech)", style="bold cyan"), "", "", end_section=False)
        for row in rows:
            st = _row_status(row)
            sim = f"{row.pair.similarity:.2f}" if row.pair else ""
            table.add_row(Text(st, style=style.get(st, "yellow")), sim, _short(row.old), _short(row.new),
                          _change_notes(row), end_section=row is rows[-1])
    console.print(table)


def _short(task: dict | None, n: int = 70) -> str:
    if not task:
        return ""
    t = task["text"]
    return t if len(t) <= n else t[:n - 1] + "…"


# ---------------------------------------------------------------- Markdown

def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: DiffResult) -> str:
    lines = [f"# Diff: {_md(result.old.get('title') or '')} → {_md(result.new.get('title') or '')}", "",
             f"- OLD: {_md(_speech_label(result.old))}", f"- NEW: {_md(_speech_label(result.new))}",
             f"- {_summary_text(result)}", ""]
    for head, rows in _groups(result):
        lines += [f"## {_md(head) if head else '(top of speech)'}", "",
                  "| status | sim | old | new | what changed |", "|---|---|---|---|---|"]
        for row in rows:
            sim = f"{row.pair.similarity:.2f}" if row.pair else ""
            lines.append(f"| {_row_status(row)} | {sim} | {_md(row.old['text']) if row.old else ''} | "
                         f"{_md(row.new['text']) if row.new else ''} | {_md(_change_notes(row))} |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} .meta{color:#555;font-size:.9em}
.summary{display:flex;flex-wrap:wrap;gap:.4em;position:sticky;top:0;background:#fff;padding:.5em 0;
 border-bottom:1px solid #ddd;z-index:1}
.summary span{padding:.25em .6em;border-radius:1em;font-size:.9em;border:1px solid #ccc}
.s-unchanged{background:#f2f2f2}.s-reworded{background:#fff6d5}.s-target{background:#ffe0c2}
.s-deadline{background:#e3dcff}.s-units{background:#d6f0ff}.s-modality{background:#ffd6ec}
.s-added{background:#d9f7d9}.s-dropped{background:#ffd9d9}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-top:.5em}
td,th{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;line-height:1.6}
th{background:#fafafa;text-align:left} col.st{width:9em} col.tx{width:40%}
tr.head td{background:#eef4fb;font-weight:bold}
tr.unchanged td{color:#777}
tr.added td.new{background:#effbef} tr.dropped td.old{background:#fdeeee}
del{background:#ffc7c7;text-decoration:line-through} ins{background:#b9f2b9;text-decoration:none}
.tags span{display:inline-block;margin:0 .2em .2em 0;padding:0 .4em;border-radius:.6em;font-size:.8em}
.notes{color:#444;font-size:.85em}
"""


def _highlight(old: str, new: str) -> tuple[str, str]:
    """Both texts as HTML with the differing spans marked (<del> in old, <ins> in new).

    Compared on the normalised texts (same length as the originals), character by
    character, with difflib's autojunk off: a task is one clause-sized text.
    """
    sm = SequenceMatcher(None, norm_text(old), norm_text(new), autojunk=False)
    a, b = [], []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        x, y = html.escape(old[i1:i2]), html.escape(new[j1:j2])
        if op == "equal":
            a.append(x)
            b.append(y)
            continue
        if x:
            a.append(f"<del>{x}</del>")
        if y:
            b.append(f"<ins>{y}</ins>")
    return "".join(a), "".join(b)


def to_html(result: DiffResult) -> str:
    """One self-contained HTML file: inline CSS, no scripts or network assets."""
    c = result.counts()
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>Diff: {esc(result.old.get('title') or '')} → {esc(result.new.get('title') or '')}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{esc(result.old.get('title') or '')} → {esc(result.new.get('title') or '')}</h1>",
             f'<div class="meta">OLD: {esc(_speech_label(result.old))}<br>NEW: {esc(_speech_label(result.new))}'
             f"<br>{len(result.pairs)} pairs</div>",
             '<div class="summary">']
    parts += [f'<span class="s-{k}">{esc(_LABELS[k])}: <b>{c[k]}</b></span>' for k in SUMMARY_ORDER]
    parts += ["</div>", '<table><colgroup><col class="st"><col class="tx"><col class="tx"><col></colgroup>',
              "<tr><th>status</th><th>old</th><th>new</th><th>what changed</th></tr>"]
    for head, rows in _groups(result):
        parts.append(f'<tr class="head"><td colspan="4">{esc(head) if head else "(top of speech)"}</td></tr>')
        for row in rows:
            st = _row_status(row)
            if row.kind == "pair":
                old_h, new_h = _highlight(row.old["text"], row.new["text"]) if row.pair.changes else \
                    (esc(row.old["text"]), esc(row.new["text"]))
                cls = "unchanged" if not row.pair.changes else "changed"
                tags = "".join(f'<span class="s-{"reworded" if t == "wording" else t}">{esc(t)}</span>'
                               for t in row.pair.changes)
                sim = f" {row.pair.similarity:.2f}"
            else:
                old_h = esc(row.old["text"]) if row.old else ""
                new_h = esc(row.new["text"]) if row.new else ""
                cls, sim = row.kind, ""
                tags = f'<span class="s-{row.kind}">{row.kind}</span>'
            parts.append(f'<tr class="{cls}"><td class="tags">{tags if tags else esc(st)}'
                         f'<span class="notes">{sim}</span></td>'
                         f'<td class="old">{old_h}</td><td class="new">{new_h}</td>'
                         f'<td class="notes">{esc(_change_notes(row))}</td></tr>')
    parts += ["</table>", "</body></html>", ""]
    return "\n".join(parts)
