"""Write a DiffResult as a terminal table (rich), JSON, self-contained HTML or Markdown."""
from __future__ import annotations

import html
import json
import re
from difflib import SequenceMatcher
from typing import IO

from speechledger.diff.compare import DiffResult, Row
from speechledger.normalize import norm_text

FORMATS = ("table", "json", "html", "markdown")
SUMMARY_ORDER = ("unchanged", "reworded", "target", "deadline", "units", "modality", "added", "dropped")
_LABELS = {"unchanged": "未变", "reworded": "仅措辞调整", "target": "目标值变化", "deadline": "时限变化",
           "units": "责任单位变化", "modality": "语气变化", "added": "新增", "dropped": "删除",
           "wording": "措辞", "changed": "有变化"}
_MODALITY = {"must": "必须", "strive": "力争", "should": "应当"}


def render(result: DiffResult, fmt: str, out: IO[str]) -> None:
    """Write result to out in one of FORMATS."""
    if fmt == "json":
        data = result.to_json()
        for side in ("old", "new"):     # "speech" is the contract's 0-based index; "ref" reads as FILE#N
            if isinstance(data.get(side), dict) and data[side].get("source"):
                data[side]["ref"] = _speech_ref(data[side])
        json.dump(data, out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif fmt == "html":
        out.write(to_html(result))
    elif fmt == "markdown":
        out.write(to_markdown(result))
    elif fmt == "table":
        print_table(result, out)
    else:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def _speech_ref(sp: dict) -> str:
    return f"{sp.get('source')}#{(sp.get('speech') or 0) + 1}"


def _speech_label(sp: dict) -> str:
    when = sp.get("date") or (str(sp["year"]) if sp.get("year") else "日期不详")
    return f"{_speech_ref(sp)} {sp.get('title') or '（无标题）'}（{when}）"


def _summary_text(result: DiffResult) -> str:
    c = result.counts()
    return "，".join(f"{_LABELS[k]} {c[k]}" for k in SUMMARY_ORDER)


def deadline_text(d) -> str:
    """A deadline as the report shows it: 3月底前 (2025-03-31); X月底 (待定) when it is a placeholder."""
    if isinstance(d, str):
        return d
    text = d.get("text") or ""
    if d.get("due"):
        return f"{text} ({d['due']})"
    return f"{text} (待定)" if d.get("placeholder") else text


def _row_status(row: Row) -> str:
    if row.kind != "pair":
        return row.kind
    return row.pair.status


def _status_label(row: Row) -> str:
    """未变, 仅措辞调整, 新增, 删除, or the change types in Chinese (时限变化、目标值变化)."""
    if row.kind != "pair":
        return _LABELS[row.kind]
    changes = row.pair.changes
    if not changes:
        return _LABELS["unchanged"]
    if list(changes) == ["wording"]:
        return _LABELS["reworded"]
    parts = []
    for c in changes:
        if c == "modality":
            direction = (row.pair.details.get("modality") or {}).get("direction")
            parts.append({"strengthened": "语气加强", "weakened": "语气减弱"}.get(direction, _LABELS[c]))
        elif c != "wording":
            parts.append(_LABELS[c])
    return "、".join(parts) + ("（措辞亦有调整）" if "wording" in changes else "")


def _change_notes(row: Row) -> str:
    """Old → new values of the changed fields, for the table and Markdown."""
    if row.kind != "pair":
        return ""
    d = row.pair.details
    notes = []
    for t in d.get("target") or []:
        metric = f"{t['metric']} " if t.get("metric") else ""
        notes.append(f"{metric}{t.get('old') or '—'} → {t.get('new') or '—'}")
    if "deadline" in d:
        old = "、".join(map(deadline_text, d["deadline"]["old"])) or "—"
        new = "、".join(map(deadline_text, d["deadline"]["new"])) or "—"
        notes.append(f"时限 {old} → {new}")
    if "units" in d:
        u = d["units"]
        notes.append(" ".join(filter(None, ["+" + "、".join(u["added"]) if u["added"] else "",
                                            "−" + "、".join(u["removed"]) if u["removed"] else ""])))
    if "modality" in d:
        m = d["modality"]
        notes.append(f"语气 {_MODALITY.get(m['old'], m['old'])} → {_MODALITY.get(m['new'], m['new'])}")
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
    from rich.table import Table
    from rich.text import Text

    from speechledger.output import make_console
    console = make_console(out)
    console.print(Text.assemble(("原讲话 ", "bold"), _speech_label(result.old)))
    console.print(Text.assemble(("新讲话 ", "bold"), _speech_label(result.new)))
    console.print(Text(_summary_text(result)))
    style = {"unchanged": "dim", "added": "green", "dropped": "red"}
    table = Table(show_lines=False, expand=True)
    table.add_column("状态", overflow="fold", max_width=12)
    table.add_column("相似度", overflow="fold", no_wrap=True)
    for col in ("原讲话", "新讲话"):
        table.add_column(col, overflow="fold", ratio=2)
    table.add_column("变化内容", overflow="fold", ratio=1)
    for head, rows in _groups(result):
        table.add_row("§", "", Text(head or "（讲话开头）", style="bold cyan"), "", "", end_section=False)
        for row in rows:
            st = _row_status(row)
            sim = f"{row.pair.similarity:.2f}" if row.pair else ""
            table.add_row(Text(_status_label(row), style=style.get(st, "yellow")), sim, Text(_short(row.old)),
                          Text(_short(row.new)), Text(_change_notes(row)), end_section=row is rows[-1])
    console.print(table)


def _short(task: dict | None, n: int = 70) -> str:
    if not task:
        return ""
    t = task["text"]
    return t if len(t) <= n else t[:n - 1] + "…"


# ---------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#!])")


def _md(s: str) -> str:
    """Text for a Markdown table cell: raw HTML escaped (<script> shows as text), Markdown
    syntax characters backslashed (no links, images or emphasis from a speech), one line."""
    s = html.escape(s, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"\s*[\r\n]+\s*", " ", s))


def to_markdown(result: DiffResult) -> str:
    lines = [f"# 讲话对比：{_md(result.old.get('title') or '')} → {_md(result.new.get('title') or '')}", "",
             f"- 原讲话：{_md(_speech_label(result.old))}", f"- 新讲话：{_md(_speech_label(result.new))}",
             f"- {_md(_summary_text(result))}", ""]
    for head, rows in _groups(result):
        lines += [f"## {_md(head) if head else '（讲话开头）'}", "",
                  "| 状态 | 相似度 | 原讲话 | 新讲话 | 变化内容 |", "|---|---|---|---|---|"]
        for row in rows:
            sim = f"{row.pair.similarity:.2f}" if row.pair else ""
            lines.append(f"| {_status_label(row)} | {sim} | {_md(row.old['text']) if row.old else ''} | "
                         f"{_md(row.new['text']) if row.new else ''} | {_md(_change_notes(row))} |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML

_CSS = """
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
 margin:1.2em auto;padding:0 1em;max-width:1400px;color:#222;overflow-wrap:anywhere}
h1{font-size:1.3em} .meta{color:#555;font-size:.9em}
.summary{display:flex;flex-wrap:wrap;gap:.4em;align-items:center;position:sticky;top:0;background:#fff;
 padding:.5em 0;border-bottom:1px solid #ddd;z-index:1}
.summary span{padding:.2em .6em;border-radius:1em;font-size:.9em;border:1px solid #ccc;white-space:nowrap}
.summary label{margin-left:auto;font-size:.9em;cursor:pointer;white-space:nowrap;user-select:none}
.s-unchanged{background:#f2f2f2}.s-reworded{background:#fff6d5}.s-target{background:#ffe0c2}
.s-deadline{background:#e3dcff}.s-units{background:#d6f0ff}.s-modality{background:#ffd6ec}
.s-added{background:#d9f7d9}.s-dropped{background:#ffd9d9}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-top:.5em}
td,th{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;line-height:1.6;overflow-wrap:anywhere;
 word-break:break-word}
th{background:#fafafa;text-align:left} col.st{width:7.5em} col.tx{width:32%} col.nt{width:auto}
tr.head td{background:#eef4fb;font-weight:bold}
tr.unchanged td{color:#777}
tr.added td.new{background:#effbef} tr.dropped td.old{background:#fdeeee}
del{background:#ffc7c7;text-decoration:line-through} ins{background:#b9f2b9;text-decoration:none}
.tags span{display:inline-block;margin:0 .2em .2em 0;padding:0 .4em;border-radius:.6em;font-size:.8em}
.notes{color:#444;font-size:.85em}
#only{position:absolute;opacity:0}
#only:checked ~ table tr.unchanged,#only:checked ~ table tr.same{display:none}
#only:focus-visible ~ .summary label{outline:2px solid #4a7}
.summary label::before{content:"☐ "} #only:checked ~ .summary label::before{content:"☑ "}
@media print{.summary{position:static} .summary label{display:none}}
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
    """One self-contained HTML file: inline CSS, no scripts or network assets.

    A checkbox (CSS only) hides the unchanged tasks: "只看有变化的任务".
    """
    c = result.counts()
    esc = html.escape
    title = f"{esc(result.old.get('title') or '')} → {esc(result.new.get('title') or '')}"
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>讲话对比：{title}</title>", f"<style>{_CSS}</style></head><body>",
             f"<h1>讲话对比：{title}</h1>",
             f'<div class="meta">原讲话：{esc(_speech_label(result.old))}<br>'
             f"新讲话：{esc(_speech_label(result.new))}<br>配对任务 {len(result.pairs)} 项</div>",
             '<input type="checkbox" id="only">', '<div class="summary">']
    parts += [f'<span class="s-{k}">{esc(_LABELS[k])}: <b>{c[k]}</b></span>' for k in SUMMARY_ORDER]
    parts += ['<label for="only">只看有变化的任务</label>',
              "</div>", '<table><colgroup><col class="st"><col class="tx"><col class="tx"><col class="nt"></colgroup>',
              "<thead><tr><th>状态</th><th>原讲话</th><th>新讲话</th><th>变化内容</th></tr></thead><tbody>"]
    for head, rows in _groups(result):
        same = all(r.kind == "pair" and not r.pair.changes for r in rows)
        parts.append(f'<tr class="head{" same" if same else ""}"><td colspan="4">'
                     f'{esc(head) if head else "（讲话开头）"}</td></tr>')
        for row in rows:
            if row.kind == "pair":
                old_h, new_h = _highlight(row.old["text"], row.new["text"]) if row.pair.changes else \
                    (esc(row.old["text"]), esc(row.new["text"]))
                cls = "unchanged" if not row.pair.changes else "changed"
                tags = "".join(f'<span class="s-{"reworded" if t == "wording" else t}">{esc(_LABELS.get(t, t))}'
                               f"</span>" for t in row.pair.changes) or \
                    f'<span class="s-unchanged">{esc(_LABELS["unchanged"])}</span>'
                sim = f" 相似度 {row.pair.similarity:.2f}"
            else:
                old_h = esc(row.old["text"]) if row.old else ""
                new_h = esc(row.new["text"]) if row.new else ""
                cls, sim = row.kind, ""
                tags = f'<span class="s-{row.kind}">{esc(_LABELS.get(row.kind, row.kind))}</span>'
            parts.append(f'<tr class="{cls}"><td class="tags">{tags}'
                         f'<span class="notes">{sim}</span></td>'
                         f'<td class="old">{old_h}</td><td class="new">{new_h}</td>'
                         f'<td class="notes">{esc(_change_notes(row))}</td></tr>')
    parts += ["</tbody></table>", "</body></html>", ""]
    return "\n".join(parts)
