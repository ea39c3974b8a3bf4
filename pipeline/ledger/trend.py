"""How a unit's load or a metric's target evolved across the speeches of the ledger."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import matching_unit_ids
from speechledger.ledger.models import Speech, Target, Task, TaskUnit

UNIT_COLUMNS = ("speech_id", "date", "title", "tasks", "lead", "support", "with_deadline", "specific", "done")
METRIC_COLUMNS = ("speech_id", "date", "title", "task_id", "metric", "comparator", "value", "unit",
                  "placeholder", "text")


def _when(sp: Speech) -> str:
    return sp.date.isoformat() if sp.date else (str(sp.year) if sp.year else "")


def _order_key(sp: Speech):
    """Speech date; a year alone sorts mid-year; undated speeches last, by id."""
    if sp.date:
        return (0, sp.date, sp.id)
    if sp.year:
        return (0, dt.date(sp.year, 7, 1), sp.id)
    return (1, dt.date.max, sp.id)


def unit_trend(session: Session, unit: str) -> list[dict[str, Any]]:
    """Per speech (by date): tasks naming `unit` (alias/substring), as lead/support, with a deadline, done."""
    link = (select(TaskUnit.task_id,
                   func.max(case((TaskUnit.role == "lead", 1), else_=0)).label("lead"))
            .where(TaskUnit.unit_id.in_(matching_unit_ids(unit))).group_by(TaskUnit.task_id).subquery())
    stmt = (select(Speech, func.count(Task.id), func.sum(link.c.lead),
                   func.sum(case((Task.due.is_not(None), 1), else_=0)),
                   func.sum(func.cast(Task.specific, Integer)),
                   func.sum(case((Task.status == "done", 1), else_=0)))
            .join(Task, Task.speech_id == Speech.id).join(link, link.c.task_id == Task.id)
            .where(Speech.current.is_(True)).group_by(Speech.id))
    rows = []
    for sp, n, lead, due, specific, done in sorted(session.execute(stmt), key=lambda r: _order_key(r[0])):
        rows.append({"speech_id": sp.id, "date": _when(sp), "title": sp.title, "tasks": int(n),
                     "lead": int(lead or 0), "support": int(n) - int(lead or 0),
                     "with_deadline": int(due or 0), "specific": int(specific or 0), "done": int(done or 0)})
    return rows


def metric_trend(session: Session, metric: str) -> list[dict[str, Any]]:
    """Every target whose metric contains `metric`, in speech-date order."""
    like = f"%{metric.strip().lower()}%"
    stmt = (select(Target, Task.id, Task.text, Speech).join(Task, Task.id == Target.task_id)
            .join(Speech, Speech.id == Task.speech_id)
            .where(Speech.current.is_(True), func.lower(Target.metric).like(like)))
    found = sorted(session.execute(stmt), key=lambda r: (_order_key(r[3]), r[0].start))
    out = []
    for g, tid, text, sp in found:
        value = g.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append({"speech_id": sp.id, "date": _when(sp), "title": sp.title, "task_id": tid,
                    "metric": g.metric, "comparator": g.comparator, "value": value, "unit": g.unit,
                    "placeholder": g.placeholder, "text": text})
    return out


def plot_trend(rows: list[dict], path: str | Path, title: str, kind: str) -> None:
    """A PNG line chart: tasks per speech (unit) or target value per speech, one line per unit of measure."""
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    cjk = [f.name for f in font_manager.fontManager.ttflist
           if any(k in f.name for k in ("CJK", "Hei", "Song", "WenQuanYi", "Noto Sans SC", "Droid Sans Fallback"))]
    if cjk:
        plt.rcParams["font.sans-serif"] = cjk[:1] + plt.rcParams["font.sans-serif"]
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(rows) + 3), 4))
    labels = []
    if kind == "unit":
        labels = [r["date"] or f"#{r['speech_id']}" for r in rows]
        xs = range(len(rows))
        ax.plot(xs, [r["tasks"] for r in rows], marker="o", label="tasks")
        ax.plot(xs, [r["lead"] for r in rows], marker="s", label="lead")
        ax.plot(xs, [r["with_deadline"] for r in rows], marker="^", label="with deadline")
        ax.set_ylabel("tasks")
    else:
        order: list[int] = []
        for r in rows:
            if r["speech_id"] not in order:
                order.append(r["speech_id"])
        pos = {sid: i for i, sid in enumerate(order)}
        dates = {r["speech_id"]: r["date"] or f"#{r['speech_id']}" for r in rows}
        labels = [dates[s] for s in order]
        by_unit: dict[str, list[tuple[int, float]]] = {}
        for r in rows:
            if r["value"] is not None and not r["placeholder"]:
                by_unit.setdefault(r["unit"] or "(no unit)", []).append((pos[r["speech_id"]], r["value"]))
        for u, pts in by_unit.items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=u)
        ax.set_ylabel("target value")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    with warnings.catch_warnings():
        # without a CJK font installed, Chinese labels render as boxes; the numbers still read
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(str(path), dpi=100)
    plt.close(fig)
