"""The batch entry points the commands call: `ingest` (files -> ledger) and `extract` (files ->
JSONL, Parquet or a table). Both: files -> partitions -> engine -> sink, errors per file."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from speechledger.batch.engines import Engine
from speechledger.batch.progress import Progress
from speechledger.batch.sinks import JsonlSink, LedgerSink, ParquetSink, Sink, TableSink
from speechledger.batch.work import FileTask, PipelineSpec, check_date, file_tasks

FORMATS = ("table", "jsonl", "parquet")


def _default_report(msg: str) -> None:
    print(f"speechledger: {msg}", file=sys.stderr)


def default_extractors(model_dir: str | None = None) -> str:
    from speechledger.ml_default import default_extractors as d
    return d(model_dir)


@dataclass
class BatchStats:
    files: int = 0
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    writer_seconds: float = 0.0     # time the driver spent in the sink
    writer_cpu: float = 0.0         # of which CPU time
    extract_cpu: float = 0.0        # workers' CPU time reading and extracting


def run_batch(tasks: list[FileTask], spec: PipelineSpec, date: str | None, engine: Engine, sink: Sink,
              progress: bool | None, report: Callable[[str], None], errors: list[str]) -> bool:
    """Run `tasks` through `engine` into `sink`; False when interrupted (Ctrl-C)."""
    parts = engine.partitions(tasks)
    bar = Progress(len(tasks), progress)
    try:
        with bar:
            for index, results in engine.run(parts, spec, date):
                sink.write(index, results)      # a file the sink cannot store gets its error here too
                for r in results:
                    if r.error:
                        errors.append(r.error)
                        bar.log(f"error: {r.error}", report)
                bar.advance(len(results))
    except KeyboardInterrupt:
        return False
    return True


def ingest(ledger, paths: Iterable, *, date: str | None = None, jobs: int = 1, engine: str = "local",
           scheduler: str | None = None, extractors: str | None = None, progress: bool | None = None,
           report: Callable[[str], None] | None = None):
    """Ingest files and folders (recursively) into `ledger`; returns the IngestSummary.

    Errors (unreadable files, extractor failures, a lost worker) are reported through
    `report` and counted; the batch goes on. Ctrl-C stops it, keeping every finished
    speech (summary.interrupted).
    """
    from speechledger.ledger.ingest import IngestSummary
    check_date(date)
    spec = PipelineSpec(extractors or default_extractors())
    report = report or _default_report
    summary = IngestSummary()
    t0 = time.perf_counter()
    tasks = file_tasks(paths, summary.skipped)
    summary.files = len(tasks)
    todo = _not_yet_ingested(ledger, tasks, date, summary)
    sink = LedgerSink(ledger, spec.extractors, date, summary)
    summary.interrupted = not run_batch(todo, spec, date, Engine(engine, jobs, scheduler), sink, progress,
                                        report, summary.errors)
    summary.seconds = time.perf_counter() - t0
    # measurements for benchmarks, beside the ledger's own counts
    summary.writer_seconds, summary.writer_cpu = sink.busy, sink.busy_cpu
    summary.extract_cpu, summary.chars = sink.cpu, sink.chars
    return summary


def _not_yet_ingested(ledger, tasks: list[FileTask], date, summary) -> list[FileTask]:
    """Skip files whose content the ledger has complete, without extracting them. Only files
    already known by path are read here; new paths go straight to the workers."""
    from sqlalchemy import select

    from speechledger.batch.work import content_hash
    from speechledger.ledger.ingest import known_content
    from speechledger.ledger.models import Document
    from speechledger.reader import read_file
    with ledger.session() as s:
        known = set(s.scalars(select(Document.source_key).where(Document.complete).distinct()))
    todo = []
    for t in tasks:
        if t.source_key in known:
            try:
                text, _ = read_file(t.path)
            except Exception:      # the worker reports it
                todo.append(t)
                continue
            with ledger.session() as s:
                if known_content(s, t.source_key, content_hash(text, date)):
                    summary.unchanged += 1
                    continue
        todo.append(t)
    return todo


def extract(paths: Iterable, *, fmt: str = "jsonl", output: str | None = None, date: str | None = None,
            jobs: int = 1, engine: str = "local", scheduler: str | None = None,
            spec: PipelineSpec | None = None, progress: bool | None = None,
            report: Callable[[str], None] | None = None, stdout=None) -> BatchStats:
    """Extract files and folders to `output` (or stdout) as a table, §6 JSONL or a Parquet dataset.

    An output path is only replaced when at least one file succeeded (or there was nothing
    to fail): a batch that fails entirely leaves an existing output as it was.
    """
    check_date(date)
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}")
    if fmt == "parquet" and not output:
        raise ValueError("--format parquet writes a folder: give it with -o DIR")
    spec = spec or PipelineSpec(default_extractors())
    report = report or _default_report
    stats = BatchStats()
    t0 = time.perf_counter()
    skipped: list[str] = []
    tasks = file_tasks(paths, skipped)
    for item in skipped:
        report(f"skipped {item}")
    stats.files = len(tasks)
    stdout = stdout or sys.stdout
    sink = (ParquetSink(output) if fmt == "parquet" else
            JsonlSink(output, stdout) if fmt == "jsonl" else TableSink(output, stdout))
    try:
        stats.interrupted = not run_batch(tasks, spec, date, Engine(engine, jobs, scheduler), sink,
                                          progress if progress is not None else (None if len(tasks) >= 5 else False),
                                          report, stats.errors)
    except BaseException:
        sink.abort()
        raise
    stats.ok = sink.ok_files
    if stats.interrupted or (stats.errors and not stats.ok):
        sink.abort()
        if output and stats.errors and not stats.interrupted:
            report(f"every file failed; {output} not written")
    else:
        sink.commit()
    stats.seconds = time.perf_counter() - t0
    stats.writer_seconds, stats.writer_cpu, stats.extract_cpu = sink.busy, sink.busy_cpu, sink.cpu
    return stats
