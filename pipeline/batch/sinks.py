"""Sinks: where the results of a batch land (the ledger, JSONL, Parquet, a readable table).

Every sink takes the results of one partition at a time, on the driver, in the
order the engine finishes them. Outputs to a path are written beside it under a
temporary name and renamed into place by `commit()`; `abort()` leaves an existing
output untouched.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from speechledger.batch.work import FileResult

SPEECH_SPAN = ("start", "end")      # added to the §6 record for the ledger and Parquet only


class Sink:
    def __init__(self):
        self.busy = 0.0            # seconds spent writing (is the writer the bottleneck?)
        self.busy_cpu = 0.0        # of which CPU time of the writing thread (load-independent)
        self.cpu = 0.0             # workers' CPU seconds reading and extracting (per-core throughput)
        self.chars = 0
        self.ok_files = 0

    def write(self, index: int, results: list[FileResult]) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        self._write(index, [r for r in results if r.error is None])
        self.busy_cpu += time.thread_time() - c0
        self.ok_files += sum(r.error is None for r in results)
        self.cpu += sum(r.cpu for r in results)
        self.chars += sum(len(r.text) for r in results)
        self.busy += time.perf_counter() - t0

    def _write(self, index: int, results: list[FileResult]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass


# ---------------------------------------------------------------- the ledger

class LedgerSink(Sink):
    """Streams results into the ledger on the driver: one transaction per speech, skipping
    content the ledger already has (so a rerun, or a partition Dask ran twice, adds nothing)."""

    def __init__(self, ledger, extractor: str, date: str | None, summary):
        super().__init__()
        from speechledger.ledger.aliases import UnitResolver
        self.ledger, self.extractor, self.date, self.summary = ledger, extractor, date, summary
        self.resolver = UnitResolver()

    def _write(self, index, results):
        from speechledger.ledger.db import LedgerError
        from speechledger.ledger.ingest import _Job, known_content, store_file
        for r in results:
            with self.ledger.session() as s:
                if known_content(s, r.source_key, r.content_hash):
                    self.summary.unchanged += 1
                    continue
            job = _Job(Path(r.path), r.source_key, r.text, r.encoding, r.content_hash)
            try:
                store_file(self.ledger, job, r.speeches, self.extractor, self.resolver, self.summary, self.date)
            except LedgerError as e:    # one line naming the file (never the SQL parameters); the batch goes on
                r.error = str(e)


# ---------------------------------------------------------------- files

class AtomicPath:
    """A temporary file or folder beside `path`, renamed onto it on commit."""

    def __init__(self, path: str | Path, folder: bool):
        self.path = Path(path)
        self.folder = folder
        if folder and self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} exists and is not a folder")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self._discard()
        if folder:
            self.tmp.mkdir()

    def _discard(self, p: Path | None = None) -> None:
        p = p or self.tmp
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()

    def commit(self) -> None:
        if self.folder and self.path.exists():
            old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
            self.path.rename(old)
            self.tmp.rename(self.path)
            self._discard(old)
        else:
            os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self._discard()


def _public(rec: dict) -> dict:
    """The §6 record exactly as `extract --format jsonl` has always printed it."""
    return {k: v for k, v in rec.items() if k not in SPEECH_SPAN}


class _InOrder:
    """Hands partitions on in input order whatever order the engine finishes them in."""

    def __init__(self, emit: Callable[[list[FileResult]], None]):
        self.emit, self.next, self.held = emit, 0, {}

    def __call__(self, index: int, results: list[FileResult]) -> None:
        self.held[index] = results
        while self.next in self.held:
            self.emit(self.held.pop(self.next))
            self.next += 1

    def flush(self) -> None:
        for i in sorted(self.held):
            self.emit(self.held.pop(i))


class JsonlSink(Sink):
    """§6 JSONL, one object per speech, files in the order given."""

    def __init__(self, output: str | Path | None, stdout):
        super().__init__()
        self.atomic = AtomicPath(output, folder=False) if output else None
        self.out = open(self.atomic.tmp, "w", encoding="utf-8") if self.atomic else stdout
        self.order = _InOrder(self._emit)

    def _emit(self, results):
        for r in results:
            for rec in r.speeches:
                # (check_circular off: records are trees of fresh dicts and lists, the same text 15% faster)
                self.out.write(json.dumps(_public(rec), ensure_ascii=False, check_circular=False) + "\n")
        self.out.flush()

    def _write(self, index, results):
        self.order(index, results)

    def commit(self):
        self.order.flush()
        if self.atomic:
            self.out.close()
            self.atomic.commit()

    def abort(self):
        if self.atomic:
            self.out.close()
            self.atomic.abort()


def _ns(d: dict) -> SimpleNamespace:
    return SimpleNamespace(**d)


class TableSink(JsonlSink):
    """The readable table of `extract` (output.print_table), from the same records."""

    def _emit(self, results):
        from speechledger.output import print_table
        for r in results:
            speeches = [SimpleNamespace(index=s["speech"], title=s["title"], date=s["date"], year=s.get("year"),
                                        tasks=[SimpleNamespace(**{**t, "units": list(map(_ns, t["units"])),
                                                                  "deadlines": list(map(_ns, t["deadlines"])),
                                                                  "targets": list(map(_ns, t["targets"]))})
                                               for t in s["tasks"]])
                        for s in r.speeches]
            print_table(SimpleNamespace(source=r.path, speeches=speeches), self.out)


# ---------------------------------------------------------------- Parquet

def parquet_schemas():
    import pyarrow as pa
    s, i32, i64, f64, b, d = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_(), pa.date32()
    rules = pa.list_(pa.string())
    where = [("speech_id", s), ("source", s), ("speech_date", d)]
    span = [("start", i64), ("end", i64), ("text", s)]
    return {
        "speeches": pa.schema([("speech_id", s), ("source", s), ("file_hash", s), ("speech_index", i32),
                               ("title", s), ("speech_date", d), ("year", i32), ("start", i64), ("end", i64),
                               ("encoding", s), ("n_tasks", i32)]),
        "tasks": pa.schema([("task_id", s), *where, ("task_index", i32), *span, ("modality", s),
                            ("specific", b), ("heading", s), ("extractor", s), ("confidence", f64),
                            ("rules", rules)]),
        "units": pa.schema([("task_id", s), *where, *span, ("role", s), ("rules", rules)]),
        "deadlines": pa.schema([("task_id", s), *where, *span, ("due", d), ("placeholder", b),
                                ("rules", rules)]),
        "targets": pa.schema([("task_id", s), *where, *span, ("metric", s), ("value", f64), ("unit", s),
                              ("comparator", s), ("placeholder", b), ("rules", rules)]),
    }


PARQUET_TABLES = ("speeches", "tasks", "units", "deadlines", "targets")


def parquet_rows(r: FileResult) -> dict[str, list[dict]]:
    """One file's rows per table. Ids are stable across runs and engines: a hash of the file's
    name and content, then the speech index, then the task index."""
    from speechledger.ledger.ingest import _date, _sha
    rows: dict[str, list[dict]] = {t: [] for t in PARQUET_TABLES}
    file_id = _sha(r.path, r.content_hash)[:16]
    for sp in r.speeches:
        sid = f"{file_id}-{sp['speech']}"
        when = _date(sp.get("date"))
        where = {"speech_id": sid, "source": r.path, "speech_date": when}
        heads = sp.get("headings") or []
        rows["speeches"].append({"speech_id": sid, "source": r.path, "file_hash": r.content_hash,
                                 "speech_index": sp["speech"], "title": sp.get("title") or "",
                                 "speech_date": when, "year": sp.get("year"), "start": sp["start"],
                                 "end": sp["end"], "encoding": r.encoding, "n_tasks": len(sp["tasks"])})
        for ti, t in enumerate(sp["tasks"]):
            tid = f"{sid}-{ti}"
            h = t.get("heading")
            rows["tasks"].append({"task_id": tid, **where, "task_index": ti, "start": t["start"],
                                  "end": t["end"], "text": t["text"], "modality": t.get("modality"),
                                  "specific": bool(t.get("specific")),
                                  "heading": heads[h]["text"] if h is not None and h < len(heads) else None,
                                  "extractor": t.get("extractor"), "confidence": t.get("confidence"),
                                  "rules": list(t.get("rules") or [])})
            item = {"task_id": tid, **where}
            for u in t.get("units", ()):
                rows["units"].append({**item, **_span(u), "role": u.get("role"), "rules": list(u.get("rules") or [])})
            for x in t.get("deadlines", ()):
                rows["deadlines"].append({**item, **_span(x), "due": _date(x.get("due")),
                                          "placeholder": bool(x.get("placeholder")),
                                          "rules": list(x.get("rules") or [])})
            for g in t.get("targets", ()):
                v = g.get("value")
                rows["targets"].append({**item, **_span(g), "metric": g.get("metric"),
                                        "value": float(v) if isinstance(v, (int, float)) else None,
                                        "unit": g.get("unit"), "comparator": g.get("comparator"),
                                        "placeholder": bool(g.get("placeholder")),
                                        "rules": list(g.get("rules") or [])})
    return rows


def _span(item: dict) -> dict:
    return {"start": item["start"], "end": item["end"], "text": item["text"]}


class ParquetSink(Sink):
    """A dataset folder: one sub-folder per table, each a set of part files (a new part every
    `speeches_per_part` speeches), readable as-is by pandas, pyarrow, DuckDB and Polars."""

    def __init__(self, output: str | Path, speeches_per_part: int = 20_000):
        super().__init__()
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise RuntimeError("--format parquet needs pyarrow: pip install 'speechledger[dask]'") from None
        self.atomic = AtomicPath(output, folder=True)
        self.schemas = parquet_schemas()
        self.per_part = speeches_per_part
        self.buf: dict[str, list[dict]] = {t: [] for t in PARQUET_TABLES}
        self.parts = 0
        self.rows = dict.fromkeys(PARQUET_TABLES, 0)

    def _write(self, index, results):
        for r in results:
            for table, rows in parquet_rows(r).items():
                self.buf[table] += rows
        if len(self.buf["speeches"]) >= self.per_part:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        for table in PARQUET_TABLES:
            folder = self.atomic.tmp / table
            folder.mkdir(exist_ok=True)
            tab = pa.Table.from_pylist(self.buf[table], schema=self.schemas[table])
            pq.write_table(tab, folder / f"part-{self.parts:05d}.parquet", compression="zstd")
            self.rows[table] += len(self.buf[table])
            self.buf[table] = []
        self.parts += 1

    def commit(self):
        if any(self.buf.values()) or self.parts == 0:   # an empty dataset still has its schema
            self._flush()
        self.atomic.commit()

    def abort(self):
        self.atomic.abort()
