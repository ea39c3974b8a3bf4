"""Library entry points of the ledger used by other packages (the diff helper among them)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from speechledger.ledger.db import LedgerError, open_ledger
from speechledger.ledger.models import Speech, Task


def speech_record(session, speech: Speech) -> dict[str, Any]:
    """The §6 record of a stored speech, plus its stored original text under "text".

    Offsets are into "text", the decoded file the speech was read from.
    """
    from speechledger.ledger.queries import get_task_rows
    ids = list(session.scalars(select(Task.id).where(Task.speech_id == speech.id).order_by(Task.position)))
    rows = {r["id"]: r for r in get_task_rows(session, ids)}
    headings = [{"start": h.start, "end": h.end, "text": h.text, "level": h.level, "parent": h.parent}
                for h in speech.headings]
    heading_pos = {h.id: h.position for h in speech.headings}
    tasks = []
    for tid in ids:
        r = rows[tid]
        tasks.append({
            "id": tid, "start": r["start"], "end": r["end"], "text": r["text"],
            "modality": r["modality"], "specific": r["specific"],
            "units": [{k: u[k] for k in ("start", "end", "text", "role")} for u in r["units"]],
            "deadlines": r["deadlines"], "targets": r["targets"],
            "heading": heading_pos.get(r["heading_id"]) if r["heading_id"] else None,
            "extractor": r["extractor"], "confidence": r["confidence"],
            "status": r["status"],
        })
    return {"source": speech.source, "speech": speech.speech_index, "title": speech.title,
            "date": speech.date.isoformat() if speech.date else None, "year": speech.year,
            "id": speech.id, "version": speech.version, "headings": headings, "tasks": tasks,
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
