"""Readable terminal view of extracted commitments (rich)."""
from __future__ import annotations

from speechledger.doc import SpeechDoc


def make_console(out):
    """A rich Console for `out` as wide as the terminal, or $COLUMNS (else 80) when piped.

    Colours only on a terminal (or with FORCE_COLOR); a plain file gets plain text.
    """
    import os

    from rich.console import Console
    width = None
    cols = os.environ.get("COLUMNS", "")
    if cols.isdigit() and int(cols) > 0:
        width = int(cols)
    elif not (hasattr(out, "isatty") and out.isatty()):
        width = 80
    return Console(file=out, soft_wrap=False, width=width)


def plural(n: int, word: str) -> str:
    """"1 task", "3 tasks": counts read the same way in every command."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith(("s", "ch", "sh", "x")) else f"{n} {word}s"


def print_table(doc: SpeechDoc, out) -> None:
    from rich.table import Table

    console = make_console(out)
    for sp in doc.speeches:
        when = sp.date or (str(sp.year) if sp.year else "date unknown")
        table = Table(title=f"{doc.source}#{sp.index + 1}: {sp.title or '(untitled)'} ({when})",
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
        console.print(f"{plural(len(sp.tasks), 'task')}, {plural(sum(len(t.units) for t in sp.tasks), 'unit')}, "
                      f"{plural(sum(len(t.deadlines) for t in sp.tasks), 'deadline')}, "
                      f"{plural(sum(len(t.targets) for t in sp.tasks), 'target')}\n")


def _num(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
