"""Store extracted speech records in the ledger (storage only: the batch layer, speechledger.batch,
reads files, runs the engines and calls `store_file` / `known_content` here).

Each speech is written in one transaction, so a crash or Ctrl-C leaves every
finished speech intact and the unfinished one absent. Ingest is idempotent by
content hash; a changed file becomes a new version of each changed speech, and
tasks whose text is unchanged keep their lineage (status and history).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import UnitResolver
from speechledger.ledger.db import Ledger, LedgerBusy, LedgerError, is_lock_timeout, write_lock
from speechledger.ledger.models import Deadline, Document, Heading, Speech, StatusEvent, Target, Task, TaskUnit
from speechledger.records import content_sha as _sha


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
    carried: int = 0           # tasks that kept the lineage (status history) of the previous version
    # tasks with a status (not "open") that a new version carried over, reopened, or dropped
    carried_over: list["TaskChange"] = field(default_factory=list)
    reopened: list["TaskChange"] = field(default_factory=list)
    dropped: list["TaskChange"] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # "FILE: reason" for files in folders not read
    interrupted: bool = False
    seconds: float = 0.0

    _COUNTS = ("files", "speeches", "versions", "unchanged", "tasks", "units", "deadlines", "targets",
               "carried")

    def merge(self, other: "IngestSummary") -> None:
        """Add the counts and lists of `other` (one committed transaction's share) to this summary."""
        for name in self._COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.carried_over += other.carried_over
        self.reopened += other.reopened
        self.dropped += other.dropped
        self.errors += other.errors

    def line(self) -> str:
        from speechledger.output import plural as n
        status = ""
        if self.carried_over or self.reopened or self.dropped:
            status = (f", status carried over for {len(self.carried_over)}, reopened for "
                      f"{len(self.reopened)}, dropped with {n(len(self.dropped), 'task')}")
        files = n(self.files, "file") + (f" ({len(self.skipped)} more skipped)" if self.skipped else "")
        return (f"{files}: {n(self.speeches, 'speech')} ({n(self.versions, 'new version')}, "
                f"{self.unchanged} unchanged), {n(self.tasks, 'task')}, {n(self.units, 'unit')}, "
                f"{n(self.deadlines, 'deadline')}, {n(self.targets, 'target')}{status}, "
                f"{n(len(self.errors), 'error')}{' (interrupted)' if self.interrupted else ''} in {self.seconds:.1f}s")

    def status_changes(self) -> list[str]:
        """One line per task whose status a re-ingest carried over, reopened or dropped."""
        return ([c.line("carried over") for c in self.carried_over]
                + [c.line("reopened") for c in self.reopened]
                + [c.line("dropped") for c in self.dropped])


@dataclass
class _Job:
    path: Path
    source_key: str
    text: str
    encoding: str
    content_hash: str
    document_id: int | None = None     # set once the file's document row is committed


# ---------------------------------------------------------------- writing (parent side)

WRITE_TRIES = 3         # a speech whose transaction meets a held lock or a concurrent insert is retried
KEEP_STATUS = 0.5       # a matched task below this similarity is reopened rather than keeping a status
INGEST_AUTHOR = "speechledger ingest"


class RecordError(LedgerError):
    """A record the ledger cannot store as it is (NUL characters, an over-long name); one line."""


@dataclass
class TaskChange:
    """What a re-ingest did to a task that had a status: carried over, reopened or dropped."""
    source: str
    speech: int
    text: str
    status: str                 # the status before this ingest
    old_task_id: int
    task_id: int | None = None  # the task in the new version (None when dropped)
    similarity: float | None = None

    def line(self, what: str) -> str:
        new = f" -> task {self.task_id}" if self.task_id else ""
        sim = f", similarity {self.similarity:.2f}" if self.similarity is not None else ""
        return (f"{what}: task {self.old_task_id}{new} [{self.status}{sim}] "
                f"{self.source}#{self.speech + 1}: {self.text[:60]}")


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
    """Why this file needs no ingest ('unchanged' / 'duplicate of X'), or None.

    Compares with the source's current document (the content last ingested), so
    a file changed back to an older content (A -> B -> A) is ingested again.
    """
    current = session.scalar(select(Document.content_hash)
                             .where(Document.source_key == source_key, Document.current))
    if current == content_hash:
        return "unchanged"
    other = session.scalar(
        select(Document.source).join(Speech, Speech.document_id == Document.id)
        .where(Document.content_hash == content_hash, Document.complete, Speech.current,
               Document.source_key != source_key).limit(1))
    return f"same content as {other}" if other else None


def _document(session: Session, job: _Job, now: dt.datetime) -> int:
    """The id of the (possibly half-written, after a crash) document row of this content, or a new one."""
    conn = session.connection()
    doc_id = conn.execute(select(Document.id).where(Document.source_key == job.source_key,
                                                    Document.content_hash == job.content_hash)
                          .order_by(Document.id.desc()).limit(1)).scalar()
    if doc_id is None:
        (doc_id,) = _insert(session, Document, [dict(
            source=str(job.path), source_key=job.source_key, content_hash=job.content_hash,
            encoding=job.encoding, text=job.text, complete=False, current=False, ingested_at=now)],
            ids=True)
    return doc_id


def _insert(session: Session, model, rows: list[dict], ids: bool = False) -> list[int]:
    """Core executemany insert (batched by SQLAlchemy's insertmanyvalues); the new ids in row
    order when asked."""
    if not rows:
        return []
    table = model.__table__
    conn = session.connection()
    if ids:
        return list(conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                                 rows).scalars())
    conn.execute(table.insert(), rows)
    return []


# ------------------------------------------------ checks before writing (same on every backend)

def _limit(model, column: str) -> int | None:
    return getattr(model.__table__.c[column].type, "length", None)


# (record field, model column) of every bounded string a record carries
_BOUNDED = {
    "heading": [("marker", Heading, "marker")],
    "task": [("modality", Task, "modality"), ("extractor", Task, "extractor")],
    "unit": [("text", TaskUnit, "text"), ("role", TaskUnit, "role")],
    "target": [("unit", Target, "unit"), ("comparator", Target, "comparator")],
}


def _check_strings(obj, where: str) -> None:
    if isinstance(obj, str):
        if "\x00" in obj:
            raise RecordError(f"{where} contains a NUL character")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_strings(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_strings(v, f"{where}[{i}]")


def _check_bounded(kind: str, item: dict, where: str) -> None:
    for field_, model, column in _BOUNDED[kind]:
        value, n = item.get(field_), _limit(model, column)
        if isinstance(value, str) and n is not None and len(value) > n:
            raise RecordError(f"{where}: {kind} {field_} is {len(value)} characters long "
                              f"(at most {n}): {value[:40]!r}…")


def check_file(job: _Job, speeches: list[dict]) -> None:
    """Refuse, before anything is written, what a backend could not store or would store differently.

    NUL characters (PostgreSQL cannot store them; a UTF-16 file read as another
    encoding is full of them) and strings longer than their column (PostgreSQL
    refuses them, SQLite would keep them): both backends behave the same.
    """
    pos = job.text.find("\x00")
    if pos >= 0:
        raise RecordError(f"{job.path}: contains NUL characters (first at offset {pos}); "
                          f"is it UTF-16 without a byte-order mark? Not ingested")
    if len(job.encoding) > (_limit(Document, "encoding") or 32):
        raise RecordError(f"{job.path}: encoding name too long: {job.encoding[:40]!r}")
    for n, rec in enumerate(speeches):
        where = f"{job.path}#{n + 1}"
        try:
            _check_strings(rec, "record")
        except RecordError as e:
            raise RecordError(f"{where}: {e}") from None
        for h in rec.get("headings") or ():
            _check_bounded("heading", h, where)
        for t in rec.get("tasks") or ():
            _check_bounded("task", t, where)
            for u in t.get("units") or ():
                _check_bounded("unit", u, where)
            for g in t.get("targets") or ():
                _check_bounded("target", g, where)


# ------------------------------------------------ lineage across versions (issue 11)

def _old_tasks(session: Session, speech_id: int) -> tuple[list, list[dict]]:
    """The tasks of a stored speech version (rows) and its headings (as record dicts)."""
    tasks = session.execute(select(Task.id, Task.text, Task.start, Task.end, Task.lineage_id,
                                   Task.status, Task.status_note)
                            .where(Task.speech_id == speech_id).order_by(Task.position)).all()
    heads = [{"start": h.start, "end": h.end, "text": h.text, "parent": h.parent}
             for h in session.execute(select(Heading.start, Heading.end, Heading.text, Heading.parent)
                                      .where(Heading.speech_id == speech_id).order_by(Heading.position))]
    return tasks, heads


def match_tasks(old_tasks: list, old_headings: list[dict], rec: dict) -> dict[int, tuple[Any, float]]:
    """New task index -> (old task row, similarity), paired one-to-one by meaning as `diff` does."""
    from speechledger.diff.align import align
    from speechledger.diff.compare import items
    new_tasks = rec.get("tasks") or []
    if not old_tasks or not new_tasks:
        return {}
    old_rec = {"headings": old_headings,
               "tasks": [{"start": t.start, "end": t.end, "text": t.text} for t in old_tasks]}
    return {m.new: (old_tasks[m.old], m.similarity) for m in align(items(old_rec), items(rec))}


# ------------------------------------------------ one speech

def write_speech(session: Session, job: _Job, rec: dict, extractor: str, resolver: UnitResolver,
                 summary: IngestSummary, date: str | None = None) -> int | None:
    """Store one speech record (new, or new version); its id, or None when its content is current.

    Takes the ledger's write lock for the source first: the "already there?"
    check and the status carried over from the previous version are read inside
    the same transaction as the write.
    """
    write_lock(session, job.source_key)
    conn = session.connection()     # Core statements: no ORM bookkeeping on the hot path
    now = _now()
    speech_hash = _sha(date or "", rec.get("title") or "", job.text[rec["start"]:rec["end"]])
    prev = conn.execute(select(Speech.id, Speech.content_hash, Speech.version)
                           .where(Speech.source_key == job.source_key,
                                  Speech.speech_index == rec["speech"], Speech.current)).first()
    if prev is not None and prev.content_hash == speech_hash:
        summary.unchanged += 1
        return None
    if job.document_id is None:
        job.document_id = _document(session, job, now)
    tasks = rec.get("tasks") or []
    matched: dict[int, tuple[Any, float]] = {}
    old_tasks: list = []
    if prev is not None:
        conn.execute(update(Speech).where(Speech.id == prev.id).values(current=False))
        old_tasks, old_heads = _old_tasks(session, prev.id)
        matched = match_tasks(old_tasks, old_heads, rec)
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
    if tasks:
        rows, reopen = [], []
        for i, t in enumerate(tasks):
            dues = [d for d in (_date(x.get("due")) for x in t.get("deadlines", ())) if d]
            old, sim = matched.get(i, (None, None))
            status, note = "open", None
            if old is not None:
                change = TaskChange(str(job.path), rec["speech"], t["text"], old.status, old.id,
                                    similarity=round(sim, 3))
                if old.status == "open" or sim >= KEEP_STATUS:
                    status, note = old.status, old.status_note
                    if old.status != "open":
                        summary.carried_over.append(change)
                else:       # reworded beyond recognition: keep the lineage, reopen with an event
                    reopen.append((i, change))
                    summary.reopened.append(change)
            h = t.get("heading")
            rows.append({"speech_id": speech_id, "position": i, "start": t["start"], "end": t["end"],
                         "text": t["text"], "modality": t["modality"], "specific": bool(t["specific"]),
                         "segment": t["segment"] if t.get("segment") is not None else -1,
                         "heading_id": heading_ids[h] if h is not None and h < len(heading_ids) else None,
                         "extractor": t.get("extractor") or extractor,
                         "confidence": float(t.get("confidence", 1.0)),
                         "due": min(dues) if dues else None,
                         "lineage_id": old.lineage_id if old else None,
                         "status": status, "status_note": note, "rules": _rule_ids(t)})
            summary.carried += old is not None
        task_ids = _insert(session, Task, rows, ids=True)
        if any(r["lineage_id"] is None for r in rows):
            conn.execute(update(Task).where(Task.speech_id == speech_id, Task.lineage_id.is_(None))
                            .values(lineage_id=Task.id))
        new_of_old = {matched[i][0].id: tid for i, tid in enumerate(task_ids) if i in matched}
        for change in summary.carried_over + summary.reopened:
            change.task_id = change.task_id or new_of_old.get(change.old_task_id)
        if reopen:
            _insert(session, StatusEvent, [
                {"task_id": task_ids[i], "lineage_id": rows[i]["lineage_id"], "status": "open",
                 "previous": c.status, "author": INGEST_AUTHOR, "at": now,
                 "note": f"reopened by re-ingest: wording changed (similarity {c.similarity:.2f})"}
                for i, c in reopen])
        unit_ids = resolver.unit_ids(session, [u["text"] for t in tasks for u in t.get("units", ())])
        units, deadlines, targets = [], [], []
        for tid, t in zip(task_ids, tasks):
            for u in t.get("units", ()):
                units.append({"task_id": tid, "unit_id": unit_ids[u["text"].strip()], "text": u["text"],
                              "start": u["start"], "end": u["end"], "role": u["role"], "rules": _rule_ids(u)})
            for d in t.get("deadlines", ()):
                deadlines.append({"task_id": tid, "start": d["start"], "end": d["end"], "text": d["text"],
                                  "due": _date(d.get("due")), "placeholder": bool(d.get("placeholder")),
                                  "rules": _rule_ids(d)})
            for g in t.get("targets", ()):
                targets.append({"task_id": tid, "start": g["start"], "end": g["end"], "text": g["text"],
                                "metric": g.get("metric") or "", "value": g.get("value"),
                                "unit": g.get("unit") or "", "comparator": g.get("comparator") or "=",
                                "placeholder": bool(g.get("placeholder")), "rules": _rule_ids(g)})
        _insert(session, TaskUnit, units)
        _insert(session, Deadline, deadlines)
        _insert(session, Target, targets)
        summary.tasks += len(tasks)
        summary.units += len(units)
        summary.deadlines += len(deadlines)
        summary.targets += len(targets)
    kept = {o.id for o, _ in matched.values()}
    summary.dropped += [TaskChange(str(job.path), rec["speech"], o.text, o.status, o.id)
                        for o in old_tasks if o.id not in kept and o.status != "open"]
    summary.speeches += 1
    return speech_id


def _rule_ids(item: dict) -> str:
    return " ".join(item.get("rules") or ())


def _write_error(job: _Job, e: BaseException) -> LedgerError:
    """A one-line error naming the file; never the statement's parameters (the speech text)."""
    orig = getattr(e, "orig", None) or e
    first = (str(orig).strip().splitlines() or [""])[0][:200]
    return LedgerError(f"{job.path}: not stored in the ledger: {orig.__class__.__name__}: {first}")


def _in_transaction(ledger: Ledger, job: _Job, resolver: UnitResolver, summary: IngestSummary,
                    work: Callable[[Session, IngestSummary], None]) -> None:
    """Run `work` in one write transaction, retried (bounded) on a held lock or a concurrent insert."""
    for attempt in range(1, WRITE_TRIES + 1):
        document_id = job.document_id
        scratch = IngestSummary()
        try:
            with ledger.session() as s:
                work(s, scratch)
        except (OperationalError, IntegrityError) as e:
            resolver.rollback()
            job.document_id = document_id    # a document row made in the rolled-back transaction is gone
            if attempt < WRITE_TRIES and (is_lock_timeout(e) or isinstance(e, IntegrityError)):
                continue
            if is_lock_timeout(e):
                raise LedgerBusy(f"{job.path}: not stored: another writer held the ledger's lock "
                                 f"through {WRITE_TRIES} waits; run the ingest again") from None
            raise _write_error(job, e) from None
        except SQLAlchemyError as e:
            resolver.rollback()
            job.document_id = document_id
            raise _write_error(job, e) from None
        except BaseException:
            resolver.rollback()
            job.document_id = document_id
            raise
        resolver.commit()
        summary.merge(scratch)
        return


def store_file(ledger: Ledger, job: _Job, speeches: list[dict], extractor: str,
               resolver: UnitResolver, summary: IngestSummary, date: str | None = None) -> None:
    """Write a file's speeches, one transaction each, then mark its document complete and current.

    Raises LedgerError (one line naming the file) when the file cannot be stored;
    nothing of it is written when its records fail the checks.
    """
    check_file(job, speeches)

    def finish(s: Session) -> None:
        conn = s.connection()
        if job.document_id is None:
            job.document_id = _document(s, job, _now())
        conn.execute(update(Document).where(Document.source_key == job.source_key, Document.current,
                                            Document.id != job.document_id).values(current=False))
        conn.execute(update(Document).where(Document.id == job.document_id)
                     .values(complete=True, current=True))
        # speeches that disappeared from the file are no longer current
        conn.execute(update(Speech).where(Speech.source_key == job.source_key, Speech.current,
                                          Speech.speech_index >= len(speeches)).values(current=False))

    def work(rec: dict | None, last: bool):
        def run(s: Session, sm: IngestSummary) -> None:
            write_lock(s, job.source_key)
            if rec is not None:
                write_speech(s, job, rec, extractor, resolver, sm, date)
            if last:        # the file's last speech and its completion share one transaction
                finish(s)
        return run

    for i, rec in enumerate(speeches):
        _in_transaction(ledger, job, resolver, summary, work(rec, i == len(speeches) - 1))
    if not speeches:
        _in_transaction(ledger, job, resolver, summary, work(None, True))


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
