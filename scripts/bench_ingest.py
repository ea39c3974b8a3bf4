#!/usr/bin/env python3
"""Benchmark ledger ingest and queries on a synthetic corpus built from the bundled texts.

    python scripts/bench_ingest.py                 # 2,000 speeches, --jobs 1 and --jobs 2
    python scripts/bench_ingest.py --n 200         # a quick run
    python scripts/bench_ingest.py --jobs 2 --keep out/   # one setting; keep corpus and ledgers

Each synthetic speech is a title with a date, then 3-7 sections drawn at random
from the corpus texts (split at their section headings), shuffled, with the
numbers varied and unit names swapped among real aliases, so the ledger sees
new text, varied targets and merged units. Everything is written to a temporary
folder. Reports speeches/s and tasks/s per --jobs setting, the SQLite file size,
and the latency of typical `tasks` queries on the resulting ledger.
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADING = re.compile(r"^\s*(第[一二三四五六七八九十]+[，,、]|[一二三四五六七八九十]+[、是要]|"
                     r"（[一二三四五六七八九十]+）)")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
UNITS = ["市工信局", "工信局", "市工业和信息化局", "市发改委", "发改委", "市财政局", "财政局", "市商务局",
         "市人社局", "人社局", "市住建局", "市自然资源局", "市生态环境局", "市市场监管局", "市科技局",
         "市应急局", "市交通局", "市统计局", "各县市区", "市产业链推进办", "经开区管委会", "市税务局"]
UNIT_IN_TEXT = re.compile("|".join(sorted(map(re.escape, UNITS), key=len, reverse=True)))
PLACES = ["全市", "全县", "全区", "经开区", "高新区"]
TOPICS = ["工业经济运行调度", "产业链建设推进", "招商引资", "安全生产", "优化营商环境", "项目建设", "园区建设"]


def corpus_sections() -> list[str]:
    """Sections of every bundled text, split at section headings."""
    files = sorted((ROOT / "corpus").rglob("texts/*.txt"))
    if not files:
        sys.exit("bench_ingest: no corpus texts under corpus/*/texts")
    sections: list[str] = []
    for f in files:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        cur: list[str] = []
        for line in lines[1:]:
            if HEADING.match(line) and cur:
                sections.append("\n".join(cur))
                cur = []
            if line.strip():
                cur.append(line)
        if cur:
            sections.append("\n".join(cur))
    return [s for s in sections if 40 <= len(s) <= 4000]


def vary(section: str, rng: random.Random) -> str:
    def num(m: re.Match) -> str:
        s = m.group(0)
        if "." in s:
            return f"{float(s) * rng.uniform(0.5, 1.5):.1f}"
        v = int(s)
        if 1990 <= v <= 2035:          # keep years plausible
            return str(rng.randint(2019, 2026))
        return str(max(1, int(v * rng.uniform(0.5, 1.8))))
    section = NUMBER.sub(num, section)
    return UNIT_IN_TEXT.sub(lambda m: rng.choice(UNITS), section)


def build_corpus(folder: Path, n: int, seed: int = 7) -> int:
    """Write n synthetic speeches into folder; returns total characters."""
    rng = random.Random(seed)
    sections = corpus_sections()
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(n):
        year = rng.randint(2019, 2025)
        title = (f"在{rng.choice(PLACES)}{rng.choice(TOPICS)}会议上的讲话 "
                 f"（{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日）")
        body = [vary(s, rng) for s in rng.sample(sections, rng.randint(3, 7))]
        text = title + "\n" + "\n".join(body) + "\n"
        (folder / f"{i // 500:02d}" / f"speech{i:05d}.txt").parent.mkdir(exist_ok=True)
        (folder / f"{i // 500:02d}" / f"speech{i:05d}.txt").write_text(text, encoding="utf-8")
        total += len(text)
    return total


def db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def time_queries(url: str, repeat: int = 7) -> list[tuple[str, float, int]]:
    import datetime as dt

    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.queries import TaskQuery, find_tasks
    queries = {
        "--unit 工信局 --due-before 2024-12-31 --status open":
            TaskQuery(unit="工信局", due_before=dt.date(2024, 12, 31), status=["open"]),
        "--overdue --as-of 2024-08-01": TaskQuery(overdue=True, as_of=dt.date(2024, 8, 1)),
        "--due-within 14 --as-of 2024-08-01": TaskQuery(due_within=14, as_of=dt.date(2024, 8, 1)),
        "--unit 财政 --status open --limit 200": TaskQuery(unit="财政", status=["open"], limit=200),
        "--search 产业链 --specific --limit 200": TaskQuery(search=["产业链"], specific=True, limit=200),
    }
    out = []
    with open_ledger(url) as led:
        for name, q in queries.items():
            times, n = [], 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                with led.session() as s:
                    n = len(find_tasks(s, q))
                times.append(time.perf_counter() - t0)
            out.append((name, statistics.median(times) * 1000, n))
    return out


def writer_only(corpus: Path, work: Path, extractors: str) -> str:
    """Extraction and ledger writes timed apart (same records): which one bounds the ingest."""
    from speechledger.api import Pipeline, records
    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.ingest import ingest_records
    from speechledger.reader import read_file
    pipe = Pipeline(extractors=extractors)
    files = sorted(corpus.rglob("*.txt"))
    texts = [(f, read_file(f)[0]) for f in files]
    t0 = time.perf_counter()
    recs = [records(pipe(text, source=str(f))) for f, text in texts]
    t_extract = time.perf_counter() - t0
    db = work / "ledger-writer.sqlite"
    for p in work.glob(db.name + "*"):
        p.unlink()
    speeches = tasks = 0
    with open_ledger(f"sqlite:///{db}") as led:
        t0 = time.perf_counter()
        for (f, text), rs in zip(texts, recs):
            s = ingest_records(led, f, text, rs)
            speeches += s.speeches
            tasks += s.tasks
        t_write = time.perf_counter() - t0
    return (f"writer alone: {speeches} speeches, {tasks} tasks written in {t_write:.1f}s = "
            f"{speeches / t_write:.0f} speeches/s, {tasks / t_write:.0f} tasks/s "
            f"(extraction of the same files on one core: {t_extract:.1f}s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="number of synthetic speeches (default 2000)")
    ap.add_argument("--jobs", type=int, action="append", help="--jobs settings to run (default: 1 and 2)")
    ap.add_argument("--extractors", default="rules", choices=("rules", "ml", "hybrid"))
    ap.add_argument("--keep", metavar="DIR", help="build in DIR and keep corpus and ledgers")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--writer", action="store_true",
                    help="also time the ledger writes alone (records extracted beforehand)")
    args = ap.parse_args()
    jobs_list = args.jobs or [1, 2]

    from speechledger.batch import ingest
    from speechledger.ledger.db import open_ledger

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="speechledger-bench-"))
    try:
        corpus = work / "corpus"
        if corpus.exists():
            shutil.rmtree(corpus)
        t0 = time.perf_counter()
        chars = build_corpus(corpus, args.n, args.seed)
        print(f"synthetic corpus: {args.n} speeches, {chars / 1e6:.1f} M characters, "
              f"built in {time.perf_counter() - t0:.1f}s ({corpus})")
        if args.writer:
            print(writer_only(corpus, work, args.extractors))
        last_url = None
        for jobs in jobs_list:
            db = work / f"ledger-jobs{jobs}.sqlite"
            for p in work.glob(db.name + "*"):
                p.unlink()
            url = f"sqlite:///{db}"
            with open_ledger(url) as led:
                s = ingest(led, [corpus], jobs=jobs, extractors=args.extractors, progress=False)
            status = "OK" if s.seconds < 180 * args.n / 2000 else "SLOW"
            print(f"--jobs {jobs}: {s.speeches} speeches, {s.tasks} tasks in {s.seconds:.1f}s = "
                  f"{s.speeches / s.seconds:.1f} speeches/s, {s.tasks / s.seconds:.0f} tasks/s "
                  f"({s.units} units, {s.deadlines} deadlines, {s.targets} targets, {len(s.errors)} errors) "
                  f"[{status}: budget 180 s per 2,000 speeches]")
            print(f"           SQLite size {db_size(db) / 1e6:.1f} MB")
            last_url = url
        print("tasks query latency (median of 7, library call, on the last ledger):")
        for name, ms, n in time_queries(last_url):
            print(f"  {ms:7.1f} ms  {n:6d} tasks  speechledger tasks {name}"
                  f"{'' if ms < 200 else '  [SLOW: budget 200 ms]'}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
