"""Status updates (append-only history) of ledger tasks."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechledger.ledger.db import LedgerError, write_lock
from speechledger.ledger.models import MAX_AUTHOR, MAX_NOTE, STATUSES, Speech, StatusEvent, Task


def current_task(session: Session, task_id: int) -> tuple[Task, Task]:
    """(task asked for, the task of its lineage in the current speech version)."""
    task = session.get(Task, task_id)
    if task is None:
        raise LedgerError(f"no task with id {task_id} in the ledger (see `speechledger tasks`)")
    if task.speech.current:
        return task, task
    newer = session.scalar(select(Task).join(Speech, Speech.id == Task.speech_id)
                           .where(Task.lineage_id == task.lineage_id, Speech.current.is_(True))
                           .order_by(Task.id.desc()).limit(1))
    return task, newer or task


def set_status(session: Session, task_id: int, status: str, note: str | None = None,
               by: str | None = None, at: dt.datetime | None = None) -> StatusEvent:
    """Record a status change (a new history event) and update the task's current status.

    An id of a superseded speech version updates the same task in the current version.
    """
    if status not in STATUSES:
        raise LedgerError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    check_text("note", note, MAX_NOTE)
    check_text("name (--by)", by, MAX_AUTHOR)
    source_key = session.scalar(select(Speech.source_key).join(Task, Task.speech_id == Speech.id)
                                .where(Task.id == task_id))
    if source_key is None:
        raise LedgerError(f"no task with id {task_id} in the ledger (see `speechledger tasks`)")
    # the same lock as a re-ingest of the source: the lineage's current task is read after any
    # new version is committed, and a re-ingest after us carries this event over
    write_lock(session, source_key)
    session.expire_all()
    _, task = current_task(session, task_id)
    ev = StatusEvent(task_id=task.id, lineage_id=task.lineage_id or task.id, status=status,
                     previous=task.status, note=note, author=by,
                     at=at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    session.add(ev)
    task.status = status
    if note is not None:
        task.status_note = note
    session.flush()
    return ev


def check_text(what: str, value: str | None, limit: int) -> None:
    """Refuse over-long or NUL-carrying text before writing (SQLite would keep it, PostgreSQL not)."""
    if value is None:
        return
    if "\x00" in value:
        raise LedgerError(f"the {what} contains a NUL character")
    if len(value) > limit:
        raise LedgerError(f"the {what} is {len(value)} characters long; at most {limit} are kept")


def history(session: Session, task_id: int) -> dict[str, Any]:
    """The task and every status event of its lineage (across speech versions), oldest first."""
    asked, task = current_task(session, task_id)
    events = session.scalars(select(StatusEvent).where(StatusEvent.lineage_id == (task.lineage_id or task.id))
                             .order_by(StatusEvent.at, StatusEvent.id))
    versions = session.execute(select(Task.id, Speech.version, Speech.ingested_at)
                               .join(Speech, Speech.id == Task.speech_id)
                               .where(Task.lineage_id == (task.lineage_id or task.id))
                               .order_by(Speech.version)).all()
    return {
        "task_id": asked.id, "current_task_id": task.id, "text": task.text, "status": task.status,
        "speech_id": task.speech_id, "speech_title": task.speech.title,
        "versions": [{"task_id": tid, "version": v, "ingested_at": at.isoformat(timespec="seconds")}
                     for tid, v, at in versions],
        "events": [{"id": e.id, "task_id": e.task_id, "at": e.at.isoformat(timespec="seconds"),
                    "status": e.status, "previous": e.previous, "note": e.note, "by": e.author}
                   for e in events],
    }
