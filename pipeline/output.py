"""Readable terminal view of extracted commitments (rich)."""
from __future__ import annotations

from speechledger.doc import SpeechDoc


def print_table(doc: SpeechDoc, out) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, soft_wrap=False, width=None if out.isatty() else 160)
    for sp in doc.speeches:
        when = sp.date or (str(sp.year) if sp.year else "date unknown")
        table = Table(title=f"{doc.source} #{sp.index + 1}: {sp.title or '(untitled)'} ({when})",
                      show_lines=False, expand=False)
        for col in ("#", "task", "mod", "spec", "units", "deadline", "targets"):
            table.add_column(col, overflow="fold")
        for i, t in enumerate(sp.tasks, 1):
            units = "、".join(f"{u.text}{'' if u.role == 'lead' else '(配合)'}" for u in t.units)
            dls = "、".join(f"{d.text}→{d.due or ('X' if d.placeholder else '?')}" for d in t.deadlines)
            tgs = "；".join(f"{g.metric} {g.comparator} {'X' if g.placeholder else _num(g.value)}{g.unit}"
                           for g in t.targets)
            text = t.text if len(t.text) <= 60 else t.text[:58] + "…"
            table.add_row(str(i), text, t.modality, "✓" if t.specific else "", units, dls, tgs)
        console.print(table)
        console.print(f"{len(sp.tasks)} tasks, {sum(len(t.units) for t in sp.tasks)} units, "
                      f"{sum(len(t.deadlines) for t in sp.tasks)} deadlines, "
                      f"{sum(len(t.targets) for t in sp.tasks)} targets\n")


def _num(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
