#!/usr/bin/env python3
"""Stress the ledger's writers with real processes; prints the figures (and JSON with --json).

    python scripts/stress_ledger.py --db sqlite:///tmp/s.sqlite            # both parts
    python scripts/stress_ledger.py --db "$SPEECHLEDGER_PG_URL" --ingesters 4 --rounds 300

1. Concurrent ingests: N processes open the same (new) ledger and ingest the same
   folder at once; the ledger must equal the one a single ingest leaves (a
   reference ingest into a fresh SQLite file), with no errors.
2. Racing status updates: M updater processes each update one task per round
   while another process re-ingests the source (alternating two contents, so
   every round makes a new version of the speech); after each round every task's
   current status and note must be those of its lineage's latest event. An update
   that landed on a superseded copy, or a re-ingest that carried over a stale
   status, counts as lost.

The database given by --db is emptied first (SQLite file removed; PostgreSQL
schema `public` dropped), so point it at a throw-away ledger.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "/virtual/stress.txt"
TASKS = ["市工信局要牵头编制产业链发展规划，7月底前完成。", "各县市区必须建立重点项目库。",
         "督查室要每月通报一次进展情况。", "市财政局要统筹安排专项资金。", "市商务局要抓好招商引资。",
         "市人社局要做好稳就业工作。", "市住建局要加快保障性住房建设。", "市科技局要培育高新技术企业。"]
EXTRA = ["全年新增规模以上工业企业150家。", "全年新增规模以上工业企业160家。"]


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(u.database + suffix).unlink(missing_ok=True)
        return
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    eng.dispose()


def fingerprint(url: str) -> dict:
    """What a ledger holds, independent of ids and backend."""
    from sqlalchemy import func, select

    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.models import Deadline, Document, Speech, Target, Task, TaskUnit, Unit
    with open_ledger(url) as led, led.session() as s:
        def n(model, *where):
            return s.scalar(select(func.count()).select_from(model).where(*where))
        return {"documents": n(Document), "speeches": n(Speech), "current_speeches": n(Speech, Speech.current),
                "tasks": n(Task), "task_units": n(TaskUnit), "deadlines": n(Deadline), "targets": n(Target),
                "units": n(Unit),
                "current_speech_keys": sorted(f"{k}#{i}" for k, i in s.execute(
                    select(Speech.source_key, Speech.speech_index).where(Speech.current)))}


# ---------------------------------------------------------------- part 1

def _ingester(url: str, folder: str, barrier, out) -> None:
    from speechledger.api import Pipeline  # noqa: F401  (imported before the start line)
    from speechledger.batch import ingest
    from speechledger.ledger.db import open_ledger
    barrier.wait()
    try:
        with open_ledger(url) as led:
            s = ingest(led, [folder], extractors="rules", progress=False, report=lambda m: None)
        out.put({"errors": s.errors, "speeches": s.speeches})
    except Exception as e:  # reported, not raised: the parent counts it
        out.put({"errors": [f"{e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''}"],
                 "speeches": 0})


def concurrent_ingests(url: str, folder: Path, n: int, timeout: float, fresh: bool = False) -> dict:
    reset(url)
    if not fresh:       # a ledger that exists already (--fresh: the processes create it at once)
        from speechledger.ledger.db import open_ledger
        open_ledger(url).close()
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_ingester, args=(url, str(folder), barrier, out)) for _ in range(n)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = []
    for _ in procs:
        try:
            results.append(out.get(timeout=timeout))
        except Exception:
            results.append({"errors": ["timed out"], "speeches": 0})
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
    seconds = time.perf_counter() - t0
    got = fingerprint(url)
    with tempfile.TemporaryDirectory() as tmp:
        ref_url = f"sqlite:///{Path(tmp) / 'ref.sqlite'}"
        from speechledger.batch import ingest
        from speechledger.ledger.db import open_ledger
        with open_ledger(ref_url) as led:
            ingest(led, [str(folder)], extractors="rules", progress=False, report=lambda m: None)
        want = fingerprint(ref_url)
    errors = [e for r in results for e in r["errors"]]
    return {"ingesters": n, "files": len(list(folder.glob("*.txt"))), "errors": errors,
            "equal_to_single_ingest": got == want, "got": got, "want": want,
            "seconds": round(seconds, 1)}


# ---------------------------------------------------------------- part 2

def _content(round_no: int) -> tuple[str, list[dict]]:
    lines = TASKS + [EXTRA[round_no % 2]]
    text, tasks, pos = "", [], 0
    for line in lines:
        tasks.append({"start": pos, "end": pos + len(line), "text": line, "modality": "should",
                      "specific": True, "segment": len(tasks), "heading": None, "units": [],
                      "deadlines": [], "targets": []})
        text += line + "\n"
        pos += len(line) + 1
    return text, [{"speech": 0, "title": "压力测试讲话", "date": "2024-03-01", "year": 2024,
                   "headings": [], "tasks": tasks}]


def _reingester(url: str, rounds: int, start, end) -> None:
    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.ingest import ingest_records
    with open_ledger(url) as led:
        for r in range(1, rounds + 1):
            start.wait()
            text, recs = _content(r)
            ingest_records(led, SOURCE, text, recs)
            end.wait()


def _updater(url: str, task_id: int, who: str, rounds: int, start, end, out) -> None:
    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.status import set_status
    failed = 0
    with open_ledger(url) as led:
        for r in range(1, rounds + 1):
            start.wait()
            try:
                with led.session() as s:
                    set_status(s, task_id, ("in_progress", "done", "open")[r % 3], note=f"{who}-{r}", by=who)
            except Exception:
                failed += 1
            end.wait()
    out.put(failed)


def racing_updates(url: str, updaters: int, rounds: int, timeout: float) -> dict:
    from sqlalchemy import select

    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.ingest import ingest_records
    from speechledger.ledger.models import Speech, StatusEvent, Task
    reset(url)
    with open_ledger(url) as led:
        ingest_records(led, SOURCE, *_content(0))
        with led.session() as s:
            ids = list(s.scalars(select(Task.id).join(Speech, Speech.id == Task.speech_id)
                                 .where(Speech.current).order_by(Task.position)))[:updaters]
    ctx = mp.get_context("spawn")
    start, end, out = ctx.Barrier(updaters + 2), ctx.Barrier(updaters + 2), ctx.Queue()
    procs = [ctx.Process(target=_reingester, args=(url, rounds, start, end))]
    procs += [ctx.Process(target=_updater, args=(url, tid, f"u{i}", rounds, start, end, out))
              for i, tid in enumerate(ids)]
    for p in procs:
        p.start()
    lost = updates = 0
    t0 = time.perf_counter()
    with open_ledger(url) as led:
        for _ in range(rounds):
            start.wait(timeout)
            end.wait(timeout)
            with led.session() as s:
                for tid in ids:
                    lineage = s.scalar(select(Task.lineage_id).where(Task.id == tid))
                    cur = s.execute(select(Task.status, Task.status_note).join(Speech, Speech.id == Task.speech_id)
                                    .where(Task.lineage_id == lineage, Speech.current)).first()
                    last = s.execute(select(StatusEvent.status, StatusEvent.note)
                                     .where(StatusEvent.lineage_id == lineage)
                                     .order_by(StatusEvent.id.desc()).limit(1)).first()
                    updates += 1
                    if cur is None or last is None or (cur.status, cur.status_note) != (last.status, last.note):
                        lost += 1
    failed = sum(out.get(timeout=timeout) for _ in ids)
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    return {"updaters": len(ids), "rounds": rounds, "updates": updates, "failed": failed, "lost": lost,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="a throw-away ledger URL (it is emptied)")
    ap.add_argument("--ingesters", type=int, default=4)
    ap.add_argument("--files", type=int, default=6, help="files in the ingested folder")
    ap.add_argument("--fresh", action="store_true", help="the ingesters also create the ledger at once")
    ap.add_argument("--updaters", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--part", choices=("all", "ingest", "updates"), default="all")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = {}
    if args.part in ("all", "ingest"):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "corpus"
            folder.mkdir()
            for f in sorted((ROOT / "corpus").rglob("texts/*.txt"))[:args.files]:
                shutil.copy(f, folder / f"{f.parent.parent.name}-{f.name}")
            report["ingest"] = concurrent_ingests(args.db, folder, args.ingesters, args.timeout, args.fresh)
        r = report["ingest"]
        print(f"concurrent ingests{' (new ledger)' if args.fresh else ''}: "
              f"{r['ingesters']} processes x {r['files']} files in {r['seconds']}s: "
              f"{'equal to' if r['equal_to_single_ingest'] else 'DIFFERENT from'} a single ingest, "
              f"{len(r['errors'])} errors", file=sys.stderr)
        if not r["equal_to_single_ingest"]:
            print(f"  got  {r['got']}\n  want {r['want']}", file=sys.stderr)
        for e in r["errors"][:5]:
            print(f"  error: {e}", file=sys.stderr)
    if args.part in ("all", "updates"):
        report["updates"] = r = racing_updates(args.db, args.updaters, args.rounds, args.timeout)
        print(f"racing updates: {r['updaters']} updaters x {r['rounds']} rounds against a re-ingest per round "
              f"in {r['seconds']}s: {r['updates']} updates, {r['lost']} lost, {r['failed']} failed",
              file=sys.stderr)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    ok = (report.get("ingest", {}).get("equal_to_single_ingest", True)
          and not report.get("ingest", {}).get("errors")
          and not report.get("updates", {}).get("lost") and not report.get("updates", {}).get("failed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
