"""Supervisor queries over the ledger: by unit, due window, overdue, due soon, status, speech, text."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, and_, func, or_, select
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import matching_unit_ids
from speechledger.ledger.db import LedgerError
from speechledger.ledger.models import CLOSED, STATUSES, Deadline, Heading, Speech, Target, Task, TaskUnit, Unit


@dataclass
class TaskQuery:
    """Filters of `tasks`; all given filters must hold. Dates are inclusive bounds."""
    unit: str | None = None                 # canonical name, alias or substring of either
    role: str | None = None                 # restrict the unit match to lead or support
    due_before: dt.date | None = None       # due on or before
    due_after: dt.date | None = None        # due on or after
    overdue: bool = False                   # due < as_of and not done/cancelled
    due_within: int | None = None           # as_of <= due <= as_of + N days, not done/cancelled
    as_of: dt.date | None = None
    status: list[str] = field(default_factory=list)
    speech: list[int] = field(default_factory=list)
    modality: list[str] = field(default_factory=list)
    specific: bool | None = None
    search: list[str] = field(default_factory=list)   # every term must occur in the task text
    all_versions: bool = False              # include tasks of superseded speech versions
    limit: int | None = None

    def check(self) -> None:
        bad = [s for s in self.status if s not in STATUSES]
        if bad:
            raise LedgerError(f"unknown status {bad[0]!r}; use one of {', '.join(STATUSES)}")
        if (self.overdue or self.due_within is not None) and self.as_of is None:
            raise LedgerError("--overdue and --due-within need a reference date (--as-of YYYY-MM-DD)")
        if self.due_within is not None and self.due_within < 0:
            raise LedgerError("--due-within takes a number of days >= 0")


def script_variants(term: str) -> list[str]:
    """`term` in simplified and traditional script (产业链, 產業鏈, ...), so --search matches either."""
    from speechledger.normalize import norm_text
    out = [term]
    try:
        import opencc
        for conv in ("s2t", "s2tw", "s2hk"):
            out.append(opencc.OpenCC(conv).convert(norm_text(term)))
    except ImportError:  # opencc is a dependency; without it only the term as written matches
        pass
    out.append(norm_text(term))
    return list(dict.fromkeys(out))


def task_filter(q: TaskQuery, unit_ids: list[int] | None = None):
    """The WHERE clause of a query over Task joined with Speech.

    `unit_ids` are the ids `matching_unit_ids(session, q.unit)` gives (needed when q.unit is set).
    """
    q.check()
    cond = []
    if not q.all_versions:
        cond.append(Speech.current.is_(True))
    if q.unit:
        if unit_ids is None:
            raise ValueError("task_filter: a --unit query needs unit_ids (matching_unit_ids)")
        link = select(TaskUnit.task_id).where(TaskUnit.unit_id.in_(unit_ids))
        if q.role:
            link = link.where(TaskUnit.role == q.role)
        cond.append(Task.id.in_(link))
    if q.due_before:
        cond.append(Task.due <= q.due_before)
    if q.due_after:
        cond.append(Task.due >= q.due_after)
    if q.overdue:
        cond += [Task.due < q.as_of, Task.status.not_in(CLOSED)]
    if q.due_within is not None:
        cond += [Task.due >= q.as_of, Task.due <= q.as_of + dt.timedelta(days=q.due_within),
                 Task.status.not_in(CLOSED)]
    if q.status:
        cond.append(Task.status.in_(q.status))
    if q.speech:
        cond.append(Task.speech_id.in_(q.speech))
    if q.modality:
        cond.append(Task.modality.in_(q.modality))
    if q.specific is not None:
        cond.append(Task.specific.is_(q.specific))
    for term in q.search:
        cond.append(or_(*(Task.text.contains(v, autoescape=True) for v in script_variants(term))))
    return and_(*cond) if cond else True


_TASK_COLS = (Task.id, Task.speech_id, Task.start, Task.end, Task.text, Task.modality, Task.specific,
              Task.heading_id, Task.due, Task.status, Task.status_note, Task.extractor, Task.confidence,
              Task.lineage_id, Speech.title.label("speech_title"), Speech.date.label("speech_date"),
              Speech.year.label("speech_year"), Speech.source, Speech.speech_index)


def find_tasks(session: Session, q: TaskQuery) -> list[dict[str, Any]]:
    """Tasks matching `q`, each a dict with its id, text, units, deadlines, targets, status, speech."""
    unit_ids = matching_unit_ids(session, q.unit) if q.unit else None
    stmt = (select(*_TASK_COLS).join(Speech, Speech.id == Task.speech_id).where(task_filter(q, unit_ids))
            .order_by(Speech.date.is_(None), Speech.date, Speech.id, Task.position))
    if q.limit:
        stmt = stmt.limit(q.limit)
    return _rows(session, session.execute(stmt).all())


def get_task_rows(session: Session, task_ids: list[int]) -> list[dict[str, Any]]:
    rows = []
    for chunk in _chunks(sorted(task_ids)):
        rows += session.execute(select(*_TASK_COLS).join(Speech, Speech.id == Task.speech_id)
                                .where(Task.id.in_(chunk)).order_by(Task.id)).all()
    return _rows(session, rows)


def _chunks(ids: list[int], n: int = 5000):
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def _rows(session: Session, found) -> list[dict[str, Any]]:
    ids = [t[0] for t in found]
    units: dict[int, list] = {i: [] for i in ids}
    deadlines: dict[int, list] = {i: [] for i in ids}
    targets: dict[int, list] = {i: [] for i in ids}
    headings: dict[int, str] = {}
    for chunk in _chunks(ids):
        for tu in session.execute(select(TaskUnit.task_id, TaskUnit.start, TaskUnit.end, TaskUnit.text,
                                         TaskUnit.role, Unit.name).join(Unit, Unit.id == TaskUnit.unit_id)
                                  .where(TaskUnit.task_id.in_(chunk)).order_by(TaskUnit.start)):
            units[tu.task_id].append({"start": tu.start, "end": tu.end, "text": tu.text, "role": tu.role,
                                      "canonical": tu.name})
        for d in session.execute(select(Deadline.task_id, Deadline.start, Deadline.end, Deadline.text,
                                        Deadline.due, Deadline.placeholder)
                                 .where(Deadline.task_id.in_(chunk)).order_by(Deadline.start)):
            deadlines[d.task_id].append({"start": d.start, "end": d.end, "text": d.text,
                                         "due": d.due.isoformat() if d.due else None,
                                         "placeholder": bool(d.placeholder)})
        for g in session.execute(select(Target.task_id, Target.start, Target.end, Target.text, Target.metric,
                                        Target.value, Target.unit, Target.comparator, Target.placeholder)
                                 .where(Target.task_id.in_(chunk)).order_by(Target.start)):
            targets[g.task_id].append({"start": g.start, "end": g.end, "text": g.text, "metric": g.metric,
                                       "value": _num(g.value), "unit": g.unit, "comparator": g.comparator,
                                       "placeholder": bool(g.placeholder)})
    hids = sorted({t[7] for t in found if t[7] is not None})
    for chunk in _chunks(hids):
        headings.update(session.execute(select(Heading.id, Heading.text).where(Heading.id.in_(chunk))).all())
    out = []
    for (tid, speech_id, start, end, text, modality, specific, heading_id, due, status, note, extractor,
         confidence, lineage_id, speech_title, speech_date, speech_year, source, speech_index) in map(tuple, found):
        out.append({
            "id": tid, "speech_id": speech_id, "speech_title": speech_title,
            "speech_date": speech_date.isoformat() if speech_date else None, "speech_year": speech_year,
            "source": source, "speech_index": speech_index, "start": start, "end": end, "text": text,
            "modality": modality, "specific": bool(specific),
            "heading": headings.get(heading_id) if heading_id else None, "heading_id": heading_id,
            "units": units[tid], "deadlines": deadlines[tid], "targets": targets[tid],
            "due": due.isoformat() if due else None,
            "status": status, "progress": note,
            "extractor": extractor, "confidence": confidence, "lineage_id": lineage_id,
        })
    return out


def _num(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def list_speeches(session: Session, all_versions: bool = False) -> list[dict[str, Any]]:
    """Speeches in the ledger with task counts (current versions unless `all_versions`)."""
    n_tasks = (select(Task.speech_id, func.count(Task.id).label("n"),
                      func.sum(func.cast(Task.status.in_(CLOSED), Integer)).label("closed"))
               .group_by(Task.speech_id).subquery())
    stmt = (select(Speech, func.coalesce(n_tasks.c.n, 0), func.coalesce(n_tasks.c.closed, 0))
            .outerjoin(n_tasks, n_tasks.c.speech_id == Speech.id)
            .order_by(Speech.date.is_(None), Speech.date, Speech.id))
    if not all_versions:
        stmt = stmt.where(Speech.current.is_(True))
    return [{"id": sp.id, "title": sp.title, "date": sp.date.isoformat() if sp.date else None,
             "year": sp.year, "source": sp.source, "speech": sp.speech_index,
             "speech_ref": f"{sp.source}#{sp.speech_index + 1}", "version": sp.version,
             "current": sp.current, "tasks": int(n), "closed": int(closed),
             "ingested_at": sp.ingested_at.isoformat(timespec="seconds")}
            for sp, n, closed in session.execute(stmt)]


def unit_matches(session: Session, term: str) -> list[str]:
    """Canonical names of the units a --unit term matches (for messages)."""
    return list(session.scalars(select(Unit.name).where(Unit.id.in_(matching_unit_ids(session, term)))
                                .order_by(Unit.name)))


__all__ = ["TaskQuery", "find_tasks", "get_task_rows", "list_speeches", "unit_matches", "task_filter"]
