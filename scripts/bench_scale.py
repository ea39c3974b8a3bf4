#!/usr/bin/env python3
"""Scale benchmark: a 120-file batch (about 4 million characters) ingested with 1 and 2 workers.

    python scripts/bench_scale.py                       # Dask LocalCluster, 1 and 2 workers
    python scripts/bench_scale.py --engine local        # the serial path and --jobs 2 instead
    python scripts/bench_scale.py --files 40            # a quick run

The batch is built in a temporary folder from the seed corpus (sections drawn at
random, numbers and unit names varied; see bench_ingest.py) so every file is new
content. For each setting it prints wall time, throughput, the time the driver
spent writing the ledger, and the workers' CPU time; then the 2-vs-1 ratio and a
projection from the measured per-core throughput to hours for 100,000 documents
on K workers. The machine's load average is printed too: on a shared machine the
wall-clock ratio is only as good as the cores that were free.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import PLACES, TOPICS, corpus_sections, vary  # noqa: E402

DOCS = 100_000
DOC_CHARS = 20_000            # a county work report: 2 billion characters / 100,000 documents


def build_batch(folder: Path, files: int, chars: int, seed: int = 11) -> int:
    """`files` files of about chars/files characters, each a few dated speeches; total characters."""
    rng = random.Random(seed)
    sections = corpus_sections()
    folder.mkdir(parents=True, exist_ok=True)
    per_file, total = chars // files, 0
    for i in range(files):
        parts = []
        size = 0
        while size < per_file:
            year = rng.randint(2019, 2025)
            title = (f"在{rng.choice(PLACES)}{rng.choice(TOPICS)}会议上的讲话 "
                     f"（{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日）")
            body = "\n".join(vary(s, rng) for s in rng.sample(sections, rng.randint(4, 9)))
            parts.append(title + "\n" + body + "\n")
            size += len(parts[-1])
        text = "\n".join(parts)
        (folder / f"report{i:04d}.txt").write_text(text, encoding="utf-8")
        total += len(text)
    return total


def run(corpus: Path, db: Path, engine: str, workers: int, extractors: str):
    from speechledger.batch import ingest
    from speechledger.ledger.db import open_ledger
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    with open_ledger(f"sqlite:///{db}") as led:
        return ingest(led, [corpus], engine=engine, jobs=workers, extractors=extractors, progress=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=120)
    ap.add_argument("--chars", type=int, default=4_000_000, help="total characters (default 4,000,000)")
    ap.add_argument("--engine", choices=("dask", "local"), default="dask")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--extractors", default="rules", choices=("rules", "ml", "hybrid"))
    ap.add_argument("--keep", metavar="DIR", help="build in DIR and keep the batch and ledgers")
    args = ap.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="speechledger-scale-"))
    try:
        corpus = work / "batch"
        if corpus.exists():
            shutil.rmtree(corpus)
        chars = build_batch(corpus, args.files, args.chars)
        print(f"batch: {args.files} files, {chars / 1e6:.2f} M characters ({corpus}); "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; extractors {args.extractors}")
        results = {}
        for w in args.workers:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            s = run(corpus, work / f"ledger-{args.engine}-{w}.sqlite", args.engine, w, args.extractors)
            wall = time.perf_counter() - t0
            results[w] = (wall, s)
            print(f"{args.engine} {w} worker(s): {wall:6.1f}s wall, {chars / wall / 1e3:7.0f} k chars/s, "
                  f"{s.speeches} speeches, {s.tasks} tasks, {len(s.errors)} errors; "
                  f"driver writing {s.writer_seconds:.1f}s "
                  f"({s.writer_seconds / wall:.0%} of wall, {s.writer_cpu:.1f} CPU-s); "
                  f"workers' CPU {s.extract_cpu:.1f}s = {s.chars / max(s.extract_cpu, 1e-9) / 1e3:.0f} k chars/CPU-s "
                  f"[load {load:.1f}]")
        if 1 in results and 2 in results:
            ratio = results[1][0] / results[2][0]
            print(f"ratio 2 vs 1 worker(s): {ratio:.2f}x (aim >= 1.5x)")
        runs = [s for _, s in results.values()]
        per_core = max(s.chars / max(s.extract_cpu, 1e-9) for s in runs)   # chars per CPU-second of extraction
        write_rate = max(s.chars / max(s.writer_cpu, 1e-9) for s in runs)  # chars the driver stores per CPU-second
        feedable = write_rate / per_core
        print(f"per-core extraction {per_core / 1e3:.0f} k chars/s; driver ledger writes {write_rate / 1e3:.0f} k "
              f"chars/CPU-s, so one driver keeps up with about {feedable:.0f} workers on SQLite")
        total = DOCS * DOC_CHARS
        print(f"projection for {DOCS:,} documents x {DOC_CHARS:,} characters ({total / 1e9:.0f} G characters):")
        for k in (1, 2, 4, 8, 16, 32, 64):
            hours = total / (per_core * k) / 3600
            limit = "  (more than one driver's ledger writes keep up with)" if k > feedable else ""
            print(f"  K={k:3d} workers: {hours:6.2f} h of extraction{limit}")
        print(f"  the driver's ledger writes alone: {total / write_rate / 3600:.2f} h (CPU)")
        w = max(args.workers)
        from speechledger.batch import PipelineSpec, extract
        t0 = time.perf_counter()
        st = extract([corpus], fmt="parquet", output=str(work / "out.parquet"), engine=args.engine, jobs=w,
                     spec=PipelineSpec(args.extractors), progress=False)
        wall = time.perf_counter() - t0
        print(f"extract --format parquet, {w} worker(s): {wall:.1f}s wall; driver writing Parquet "
              f"{st.writer_cpu:.1f} CPU-s = {st.writer_cpu / max(st.extract_cpu, 1e-9):.2f} CPU-s per CPU-s "
              f"of extraction (ledger: {s.writer_cpu / max(s.extract_cpu, 1e-9):.2f})")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
