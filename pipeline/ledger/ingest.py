"""Store extracted speech records in the ledger (storage only: the batch layer, speechledger.batch,
reads files, runs the engines and calls `store_file` / `known_content` here).

Each speech is written in one transaction, so a crash or Ctrl-C leaves every
finished speech intact and the unfinished one absent. Ingest is idempotent by
content hash; a changed file becomes a new version of each changed speech, and
tasks whose text is unchanged keep their lineage (status and history).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import UnitResolver
from speechledger.ledger.db import Ledger
from speechledger.ledger.models import Deadline, Document, Heading, Speech, Target, Task, TaskUnit


@dataclass
class IngestSummary:
    files: int = 0
    speeches: int = 0          # speeches written (new, or new versions)
    versions: int = 0          # of which new versions of a speech already in the ledger
    unchanged: int = 0         # speeches (or whole files) skipped because their content is known
    tasks: int = 0
    units: int = 0             # task-unit links
    deadlines: int = 0
    targets: int = 0
    carried: int = 0           # tasks that kept the status history of the previous version
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def line(self) -> str:
        return (f"{self.speeches} speeches ({self.versions} new versions, {self.unchanged} unchanged), "
                f"{self.tasks} tasks, {self.units} units, {self.deadlines} deadlines, "
                f"{self.targets} targets, {len(self.errors)} errors"
                f"{' (interrupted)' if self.interrupted else ''} in {self.seconds:.1f}s")


@dataclass
class _Job:
    path: Path
    source_key: str
    text: str
    encoding: str
    content_hash: str
    document_id: int | None = None     # set once the file's document row is committed


# ---------------------------------------------------------------- writing (parent side)

def _sha(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _date(s: str | None) -> dt.date | None:
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def known_content(session: Session, source_key: str, content_hash: str) -> str | None:
    """Why this file needs no ingest ('unchanged' / 'duplicate of X'), or None."""
    latest = session.execute(
        select(Document.content_hash, Document.complete).where(Document.source_key == source_key)
        .order_by(Document.id.desc()).limit(1)).first()
    if latest is not None and latest.content_hash == content_hash and latest.complete:
        return "unchanged"
    other = session.scalar(
        select(Document.source).join(Speech, Speech.document_id == Document.id)
        .where(Document.content_hash == content_hash, Document.complete, Speech.current,
               Document.source_key != source_key).limit(1))
    return f"same content as {other}" if other else None


def _document(session: Session, job: _Job, now: dt.datetime) -> Document:
    """The (possibly half-written, after a crash) document row of this content, or a new one."""
    doc = session.scalar(select(Document).where(Document.source_key == job.source_key,
                                                Document.content_hash == job.content_hash)
                         .order_by(Document.id.desc()).limit(1))
    if doc is None:
        doc = Document(source=str(job.path), source_key=job.source_key, content_hash=job.content_hash,
                       encoding=job.encoding, text=job.text, complete=False, ingested_at=now)
        session.add(doc)
        session.flush()
    return doc


def _insert(session: Session, model, rows: list[dict], ids: bool = False) -> list[int]:
    """Core bulk insert (much cheaper than ORM objects); the new ids in row order when asked."""
    if not rows:
        return []
    table = model.__table__
    conn = session.connection()
    if ids:
        return list(conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                                 rows).scalars())
    conn.execute(table.insert(), rows)
    return []


def write_speech(session: Session, job: _Job, rec: dict, extractor: str, resolver: UnitResolver,
                 summary: IngestSummary, date: str | None = None) -> int | None:
    """Store one speech record (new, or new version); its id, or None when its content is current."""
    now = _now()
    speech_hash = _sha(date or "", rec.get("title") or "", job.text[rec["start"]:rec["end"]])
    prev = session.execute(select(Speech.id, Speech.content_hash, Speech.version)
                           .where(Speech.source_key == job.source_key,
                                  Speech.speech_index == rec["speech"], Speech.current)).first()
    if prev is not None and prev.content_hash == speech_hash:
        summary.unchanged += 1
        return None
    if job.document_id is None:
        job.document_id = _document(session, job, now).id
    carry: dict[str, deque] = defaultdict(deque)
    if prev is not None:
        session.execute(update(Speech).where(Speech.id == prev.id).values(current=False))
        for row in session.execute(select(Task.text, Task.lineage_id, Task.status, Task.status_note)
                                   .where(Task.speech_id == prev.id).order_by(Task.position)):
            carry[row.text].append(row)
        summary.versions += 1
    (speech_id,) = _insert(session, Speech, [dict(
        document_id=job.document_id, source=str(job.path), source_key=job.source_key,
        speech_index=rec["speech"], title=rec.get("title") or "", date=_date(rec.get("date")),
        year=rec.get("year"), start=rec["start"], end=rec["end"], content_hash=speech_hash,
        version=prev.version + 1 if prev else 1, current=True,
        previous_id=prev.id if prev else None, extractor=extractor, ingested_at=now)], ids=True)

    heading_ids = _insert(session, Heading, [
        {"speech_id": speech_id, "position": i, "start": h["start"], "end": h["end"],
         "text": h["text"], "level": h["level"], "marker": h.get("marker") or "",
         "parent": h.get("parent")} for i, h in enumerate(rec.get("headings") or [])], ids=True)
    tasks = rec.get("tasks") or []
    if tasks:
        rows = []
        for i, t in enumerate(tasks):
            dues = [d for d in (_date(x.get("due")) for x in t.get("deadlines", ())) if d]
            old = carry[t["text"]].popleft() if carry.get(t["text"]) else None
            h = t.get("heading")
            rows.append({"speech_id": speech_id, "position": i, "start": t["start"], "end": t["end"],
                         "text": t["text"], "modality": t["modality"], "specific": bool(t["specific"]),
                         "segment": t["segment"] if t.get("segment") is not None else -1,
                         "heading_id": heading_ids[h] if h is not None and h < len(heading_ids) else None,
                         "extractor": t.get("extractor") or extractor,
                         "confidence": float(t.get("confidence", 1.0)),
                         "due": min(dues) if dues else None,
                         "lineage_id": old.lineage_id if old else None,
                         "status": old.status if old else "open",
                         "status_note": old.status_note if old else None})
            summary.carried += old is not None
        task_ids = _insert(session, Task, rows, ids=True)
        session.execute(update(Task).where(Task.speech_id == speech_id, Task.lineage_id.is_(None))
                        .values(lineage_id=Task.id))
        units, deadlines, targets = [], [], []
        for tid, t in zip(task_ids, tasks):
            for u in t.get("units", ()):
                units.append({"task_id": tid, "unit_id": resolver.unit_id(session, u["text"]),
                              "text": u["text"], "start": u["start"], "end": u["end"], "role": u["role"]})
            for d in t.get("deadlines", ()):
                deadlines.append({"task_id": tid, "start": d["start"], "end": d["end"], "text": d["text"],
                                  "due": _date(d.get("due")), "placeholder": bool(d.get("placeholder"))})
            for g in t.get("targets", ()):
                targets.append({"task_id": tid, "start": g["start"], "end": g["end"], "text": g["text"],
                                "metric": g.get("metric") or "", "value": g.get("value"),
                                "unit": g.get("unit") or "", "comparator": g.get("comparator") or "=",
                                "placeholder": bool(g.get("placeholder"))})
        _insert(session, TaskUnit, units)
        _insert(session, Deadline, deadlines)
        _insert(session, Target, targets)
        summary.tasks += len(tasks)
        summary.units += len(units)
        summary.deadlines += len(deadlines)
        summary.targets += len(targets)
    summary.speeches += 1
    return speech_id


def store_file(ledger: Ledger, job: _Job, speeches: list[dict], extractor: str,
               resolver: UnitResolver, summary: IngestSummary, date: str | None = None) -> None:
    """Write a file's speeches, one transaction each, then mark its document complete."""
    for rec in speeches:
        document_id = job.document_id
        try:
            with ledger.session() as s:
                write_speech(s, job, rec, extractor, resolver, summary, date)
        except BaseException:
            resolver.rollback()
            job.document_id = document_id    # a document row made in the rolled-back transaction is gone
            raise
        resolver.commit()
    with ledger.session() as s:
        if job.document_id is None:
            job.document_id = _document(s, job, _now()).id
        s.execute(update(Document).where(Document.id == job.document_id).values(complete=True))
        # speeches that disappeared from the file are no longer current
        s.execute(update(Speech).where(Speech.source_key == job.source_key, Speech.current,
                                       Speech.speech_index >= len(speeches)).values(current=False))


def ingest_records(ledger: Ledger, source: str | Path, text: str, speeches: list[dict], *,
                   date: str | None = None, extractor: str = "rules",
                   encoding: str = "utf-8") -> IngestSummary:
    """Store ready-made §6 speech records of `text` (e.g. from `extract --format jsonl`).

    A record without "start"/"end" is taken to span the whole text. Same
    idempotency and versioning as `ingest`.
    """
    path = Path(source)
    job = _Job(path, str(path.resolve()), text, encoding, _sha(date or "", text))
    summary = IngestSummary(files=1)
    with ledger.session() as s:
        if known_content(s, job.source_key, job.content_hash):
            summary.unchanged += 1
            return summary
    recs = [{"start": 0, "end": len(text), **r} for r in speeches]
    store_file(ledger, job, recs, extractor, UnitResolver(), summary, date)
    return summary
