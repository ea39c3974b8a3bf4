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
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import UnitResolver
from speechledger.ledger.db import Ledger
from speechledger.ledger.models import Deadline, Document, Heading, Speech, Target, Task, TaskUnit

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
            store_file(ledger, job, speeches, extractors, resolver, summary, date)
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
