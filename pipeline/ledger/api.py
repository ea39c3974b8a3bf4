"""Library entry points of the ledger used by other packages (the diff helper among them)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from speechledger.ledger.db import LedgerError, open_ledger
from speechledger.ledger.models import Deadline, Speech, Target, Task, TaskUnit


def _rules(s: str) -> list[str]:
    return s.split() if s else []


def _num(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def speech_record(session, speech: Speech) -> dict[str, Any]:
    """The record of a stored speech (every field of records.SpeechRecord, as extracted), plus the
    ledger's ids ("id", "version"; a task's "id" and "status") and its original text under "text".

    Offsets are into "text", the decoded file the speech was read from.
    """
    headings = [{"start": h.start, "end": h.end, "text": h.text, "level": h.level, "marker": h.marker,
                 "parent": h.parent} for h in speech.headings]
    heading_pos = {h.id: h.position for h in speech.headings}
    tasks = list(session.scalars(select(Task).where(Task.speech_id == speech.id).order_by(Task.position)))
    ids = [t.id for t in tasks]
    units: dict[int, list] = defaultdict(list)
    deadlines: dict[int, list] = defaultdict(list)
    targets: dict[int, list] = defaultdict(list)
    # in insertion (= extraction) order, so the record comes back as it went in
    for u in session.scalars(select(TaskUnit).where(TaskUnit.task_id.in_(ids)).order_by(TaskUnit.id)):
        units[u.task_id].append({"start": u.start, "end": u.end, "text": u.text, "role": u.role,
                                 "rules": _rules(u.rules)})
    for d in session.scalars(select(Deadline).where(Deadline.task_id.in_(ids)).order_by(Deadline.id)):
        deadlines[d.task_id].append({"start": d.start, "end": d.end, "text": d.text,
                                     "due": d.due.isoformat() if d.due else None,
                                     "placeholder": bool(d.placeholder), "rules": _rules(d.rules)})
    for g in session.scalars(select(Target).where(Target.task_id.in_(ids)).order_by(Target.id)):
        targets[g.task_id].append({"start": g.start, "end": g.end, "text": g.text, "metric": g.metric,
                                   "value": _num(g.value), "unit": g.unit, "comparator": g.comparator,
                                   "placeholder": bool(g.placeholder), "rules": _rules(g.rules)})
    out_tasks = [{
        "id": t.id, "start": t.start, "end": t.end, "text": t.text, "modality": t.modality,
        "specific": bool(t.specific), "segment": t.segment,
        "heading": heading_pos.get(t.heading_id) if t.heading_id else None,
        "units": units[t.id], "deadlines": deadlines[t.id], "targets": targets[t.id],
        "extractor": t.extractor, "confidence": t.confidence, "rules": _rules(t.rules),
        "status": t.status,
    } for t in tasks]
    return {"source": speech.source, "speech": speech.speech_index, "title": speech.title,
            "date": speech.date.isoformat() if speech.date else None, "year": speech.year,
            "start": speech.start, "end": speech.end,
            "id": speech.id, "version": speech.version, "headings": headings, "tasks": out_tasks,
            "text": speech.document.text}


def load_speech_record(db_url: str | None, speech_id: int) -> dict[str, Any]:
    """The §6 record of speech `speech_id` in the ledger at `db_url`, with its text under "text"."""
    ledger = open_ledger(db_url)
    try:
        with ledger.session() as s:
            speech = s.get(Speech, speech_id)
            if speech is None:
                raise LedgerError(f"no speech with id {speech_id} in the ledger {ledger.url} "
                                  f"(see `speechledger speeches`)")
            return speech_record(s, speech)
    finally:
        ledger.close()
