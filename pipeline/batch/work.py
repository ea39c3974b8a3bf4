"""The one per-file function every engine runs (read -> extract -> records), and its partitions.

A pipeline is built once per process and kept in `_PIPELINES` (the per-process
cache the engines' workers share); only the small `PipelineSpec` travels with a
task, never the pipeline itself.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_date(date: str | None) -> None:
    """Reject anything but a real calendar date YYYY-MM-DD (2023-02-30 included)."""
    if date is None:
        return
    if not _DATE.match(date):
        raise ValueError(f"--date must be YYYY-MM-DD, got {date!r}")
    try:
        dt.date.fromisoformat(date)
    except ValueError as e:
        raise ValueError(f"--date {date} is not a calendar date ({e})") from None


@dataclass(frozen=True)
class PipelineSpec:
    """What a worker needs to build its pipeline (small and picklable)."""
    extractors: str = "rules"
    tokenizer: str = "jieba"
    model_dir: str | None = None
    tokenize: bool = False

    def build(self):
        from speechledger.api import Pipeline
        return Pipeline(extractors=self.extractors, tokenizer=self.tokenizer,
                        model_dir=self.model_dir, tokenize=self.tokenize)


_PIPELINES: dict[PipelineSpec, Any] = {}


def get_pipeline(spec: PipelineSpec):
    """This process's pipeline for `spec`, built on first use."""
    pipe = _PIPELINES.get(spec)
    if pipe is None:
        pipe = _PIPELINES[spec] = spec.build()
    return pipe


@dataclass(frozen=True)
class FileTask:
    path: str                 # as given (reported, and the records' "source")
    source_key: str           # resolved path: the ledger's identity of the file
    size: int = 0


@dataclass
class FileResult:
    path: str
    source_key: str
    text: str = ""
    encoding: str = ""
    content_hash: str = ""
    speeches: list[dict] = field(default_factory=list)   # §6 records plus the speech's start/end
    error: str | None = None                              # "FILE: reason" when the file failed
    cpu: float = 0.0                                      # CPU seconds spent on this file (benchmarks)


def content_hash(text: str, date: str | None) -> str:
    from speechledger.records import content_sha  # light: extract needs no ledger import
    return content_sha(date or "", text)


def process_file(task: FileTask, date: str | None, pipe) -> FileResult:
    """Read and extract one file; a bad file gives a result with `error` set, never an exception."""
    import time

    from speechledger.read import InputError, display_name, read_file
    t0 = time.process_time()
    res = FileResult(task.path, task.source_key)
    try:
        # the resolved path: a Dask worker's working folder is not the command's
        res.text, res.encoding = read_file(task.source_key)
    except InputError as e:
        res.error = f"{display_name(task.path)}: {getattr(e, 'reason', e)}"
        return res
    except Exception as e:  # a reader bug must not stop the batch
        res.error = f"{display_name(task.path)}: cannot read: {e.__class__.__name__}: {e}"
        return res
    res.content_hash = content_hash(res.text, date)
    from speechledger.api import gc_paused
    try:
        # the records too (a large file's are a heap of small dicts); the document is freed
        # before the collector resumes, so its first collection does not walk it
        with gc_paused():
            res.speeches = _records(pipe(res.text, source=task.path, date=date, encoding=res.encoding), task.path)
    except Exception as e:  # an extractor bug must not stop the batch either
        res.speeches = []
        res.error = f"{display_name(task.path)}: extraction failed: {e.__class__.__name__}: {e}"
    res.cpu = time.process_time() - t0
    return res


def _records(doc, source: str) -> list[dict]:
    """The §6 records of a document, each with its speech's start and end."""
    out = []
    for sp in doc.speeches:
        rec = sp.to_json(source)
        rec["start"], rec["end"] = sp.start, sp.end
        out.append(rec)
    return out


def process_partition(tasks: list[FileTask], spec: PipelineSpec, date: str | None,
                      pipe=None) -> list[FileResult]:
    """The per-task unit of every engine: a few files through this process's pipeline."""
    pipe = pipe or get_pipeline(spec)
    return [process_file(t, date, pipe) for t in tasks]


def file_tasks(paths, skipped: list[str] | None = None) -> list[FileTask]:
    """Files and folders (recursively) as tasks, in the order given; what a folder holds but
    is not read (other types, hidden, special or too large files, unreadable folders) is
    appended to `skipped` as "NAME: reason"."""
    from speechledger.read import discover
    found = discover(paths)
    if skipped is not None:
        skipped += [str(s) for s in found.skipped]
    out = []
    for p in found.files:
        try:
            key, size = str(p.resolve()), p.stat().st_size
        except OSError:
            key, size = str(p), 0
        out.append(FileTask(str(p), key, size))
    return out


def partition(tasks: list[FileTask], workers: int, max_bytes: int = 4 << 20,
              max_files: int = 64) -> list[list[FileTask]]:
    """Consecutive groups of files: about 4 per worker for balance, capped in bytes and files
    so one task's result stays small and a lost worker loses little."""
    total = sum(t.size for t in tasks)
    target = max(1, min(max_bytes, total // (workers * 4)))
    parts: list[list[FileTask]] = []
    cur: list[FileTask] = []
    size = 0
    for t in tasks:
        cur.append(t)
        size += t.size
        if size >= target or len(cur) >= max_files:
            parts.append(cur)
            cur, size = [], 0
    if cur:
        parts.append(cur)
    return parts
