"""Ingest speech files into the ledger: extraction in worker processes, writes in the parent.

Each speech is written in one transaction, so a crash or Ctrl-C leaves every
finished speech intact and the unfinished one absent. Ingest is idempotent by
content hash; a changed file becomes a new version of each changed speech, and
tasks whose text is unchanged keep their lineage (status and history).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import sys
import time
from collections import defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import UnitResolver
from speechledger.ledger.db import Ledger, LedgerBusy, LedgerError, is_lock_timeout, write_lock
from speechledger.ledger.models import (Deadline, Document, Heading, Speech, StatusEvent, Target, Task,
                                        TaskUnit)

MAX_POOL_RESTARTS = 3


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
        status = ""
        if self.carried_over or self.reopened or self.dropped:
            status = (f", status carried over for {len(self.carried_over)}, reopened for "
                      f"{len(self.reopened)}, dropped with {len(self.dropped)} tasks")
        return (f"{self.speeches} speeches ({self.versions} new versions, {self.unchanged} unchanged), "
                f"{self.tasks} tasks, {self.units} units, {self.deadlines} deadlines, "
                f"{self.targets} targets{status}, {len(self.errors)} errors"
                f"{' (interrupted)' if self.interrupted else ''} in {self.seconds:.1f}s")

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


# ---------------------------------------------------------------- extraction (worker side)

# One pipeline per worker process, built by the pool initializer (never in the parent).
_worker_pipeline: dict[str, Any] = {}


def _init_worker(extractors: str) -> None:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    from speechledger.api import Pipeline
    _worker_pipeline["pipe"] = Pipeline(extractors=extractors)


def _extract(job: _Job, date: str | None, pipe=None) -> list[dict]:
    """The speeches of one file as plain dicts (§6 records plus speech spans)."""
    pipe = pipe or _worker_pipeline["pipe"]
    doc = pipe(job.text, source=str(job.path), date=date, encoding=job.encoding)
    out = []
    for sp in doc.speeches:
        rec = sp.to_json(str(job.path))
        rec["start"], rec["end"] = sp.start, sp.end
        rec["year"] = sp.ref_year
        out.append(rec)
    return out


def _extract_safely(job: _Job, date: str | None, pipe=None) -> tuple[list[dict] | None, str | None]:
    try:
        return _extract(job, date, pipe), None
    except Exception as e:  # an extractor bug must not stop the batch
        return None, f"{job.path}: extraction failed: {e.__class__.__name__}: {e}"


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
        return f"{what}: task {self.old_task_id}{new} [{self.status}{sim}] {self.source}#{self.speech + 1}: {self.text[:60]}"


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


# ---------------------------------------------------------------- the batch

def _read(path: Path, date: str | None) -> _Job:
    from speechledger.reader import read_file
    text, enc = read_file(path)
    try:
        key = str(path.resolve())
    except OSError:
        key = str(path)
    return _Job(path, key, text, enc, _sha(date or "", text))


def ingest(ledger: Ledger, paths: Iterable[str | Path], *, date: str | None = None, jobs: int = 1,
           extractors: str | None = None, progress: bool | None = None,
           report: Callable[[str], None] | None = None) -> IngestSummary:
    """Ingest files and folders (recursively) into `ledger`; returns the summary.

    Errors (unreadable files, extractor failures, a crashed worker) are reported
    through `report` and counted; the batch goes on. KeyboardInterrupt stops the
    batch after rolling back the speech being written (summary.interrupted).
    """
    from speechledger.api import iter_files
    from speechledger.reader import InputError

    if date is not None:
        _check_date(date)
    if extractors is None:
        from speechledger.ml_default import default_extractors
        extractors = default_extractors()
    report = report or (lambda msg: print(f"speechledger: {msg}", file=sys.stderr))
    summary = IngestSummary()
    t0 = time.perf_counter()
    files = iter_files(paths)
    summary.files = len(files)
    resolver = UnitResolver()
    bar = _Progress(len(files), progress)

    def error(msg: str) -> None:
        summary.errors.append(msg)
        bar.log(f"error: {msg}", report)

    def jobs_to_do():
        for path in files:
            try:
                job = _read(path, date)
            except InputError as e:
                error(str(e))
                bar.advance()
                continue
            except Exception as e:  # a reader bug must not stop the batch either
                error(f"{path}: cannot read: {e.__class__.__name__}: {e}")
                bar.advance()
                continue
            with ledger.session() as s:
                why = known_content(s, job.source_key, job.content_hash)
            if why:
                summary.unchanged += 1
                bar.advance()
                continue
            yield job

    def write(job: _Job, speeches, err) -> None:
        if err:
            error(err)
        else:
            try:
                store_file(ledger, job, speeches, extractors, resolver, summary, date)
            except LedgerError as e:    # one line naming the file; the batch goes on
                error(str(e))
        bar.advance()

    try:
        with bar:
            if jobs <= 1:
                from speechledger.api import Pipeline
                pipe = Pipeline(extractors=extractors)
                for job in jobs_to_do():
                    write(job, *_extract_safely(job, date, pipe))
            else:
                _run_pool(jobs_to_do(), jobs, extractors, date, write, error)
    except KeyboardInterrupt:
        summary.interrupted = True
    summary.seconds = time.perf_counter() - t0
    return summary


def _run_pool(todo, jobs: int, extractors: str, date: str | None, write, error) -> None:
    """Extract in `jobs` worker processes, write results as they come; survive a dead worker."""
    import multiprocessing as mp
    ctx = mp.get_context("spawn")   # no fork of a parent that holds DB connections and threads
    restarts = 0
    tries: dict[Path, int] = defaultdict(int)
    todo = iter(todo)
    pending: deque[_Job] = deque()
    while True:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(extractors,))
        inflight: dict = {}
        broken = False
        try:
            while True:
                while len(inflight) < jobs * 4:
                    job = pending.popleft() if pending else next(todo, None)
                    if job is None:
                        break
                    tries[job.path] += 1
                    inflight[pool.submit(_extract_safely, job, date)] = job
                if not inflight:
                    return
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = inflight.pop(fut)
                    try:
                        speeches, err = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if tries[job.path] > 1:
                            error(f"{job.path}: a worker process died twice while extracting it; skipped")
                        else:
                            pending.append(job)   # retried once on a fresh pool
                        continue
                    write(job, speeches, err)
                if broken:
                    for job in inflight.values():
                        pending.append(job)
                    inflight.clear()
                    break
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)
        restarts += 1
        if restarts > MAX_POOL_RESTARTS:
            for job in list(pending) + list(todo):
                error(f"{job.path}: not ingested (worker processes keep dying)")
            return


def _check_date(date: str) -> None:
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise ValueError(f"--date must be YYYY-MM-DD, got {date!r}") from None


class _Progress:
    """A rich progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool | None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.total = total
        self._p = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeRemainingColumn)
            self._p = Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(),
                               TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self._p.start()
            self._task = self._p.add_task("ingest", total=self.total)
        return self

    def __exit__(self, *exc):
        if self._p:
            self._p.stop()

    def advance(self) -> None:
        if self._p:
            self._p.advance(self._task)

    def log(self, msg: str, report) -> None:
        if self._p:
            self._p.console.print(f"speechledger: {msg}", markup=False, highlight=False)
        else:
            report(msg)
