"""Time the 台账 page of the web app on a generated ledger of 30,000 tasks.

    python scripts/bench_web.py [--tasks 30000] [--requests 30]

Builds the ledger in a temp folder (hand-made records, no extractor), starts
`speechledger serve` in a subprocess, logs in, requests /tasks with a unit filter
(and a text search, and the overdue view) repeatedly and prints the medians;
exit status 1 when the unit-filter median is 300 ms or more.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNITS = ["区发改委", "区工信局", "区财政局", "区住建局", "区交通局", "区农业农村局", "区商务局", "区应急局",
         "区生态环境局", "区教育局", "区卫健委", "区民政局", "区人社局", "区自然资源局", "区水利局", "区文旅局",
         "区市场监管局", "区城管局", "区科技局", "区统计局"]
WORK = ["产业链规划编制", "老旧小区改造", "安全生产检查", "项目储备库建设", "营商环境评估", "高标准农田建设",
        "招商引资签约", "污染防治攻坚", "数字政府平台上线", "乡村振兴示范村创建"]


def build(url: str, n_tasks: int, per_speech: int = 100) -> None:
    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.ingest import ingest_records
    from speechledger.web.auth import add_user
    rnd = random.Random(12)
    ledger = open_ledger(url)
    for k in range(n_tasks // per_speech):
        lines, tasks, pos = [f"第{k + 1}次区政府常务会议讲话\n"], [], 0
        pos = len(lines[0])
        for i in range(per_speech):
            lead, sup = rnd.sample(UNITS, 2)
            month = rnd.randint(1, 12)
            year = rnd.choice((2024, 2025, 2026))
            deadline = f"{year}年{month}月底前"
            line = (f"{lead}牵头，{sup}配合，{deadline}完成第{i + 1}项{rnd.choice(WORK)}工作，"
                    f"新增投资{rnd.randint(1, 99)}亿元以上。\n")
            s = pos
            t = {"start": s, "end": s + len(line) - 1, "text": line[:-1], "modality": "should", "specific": True,
                 "segment": i, "units": [], "deadlines": [], "targets": []}
            for name, role in ((lead, "lead"), (sup, "support")):
                j = line.index(name)
                t["units"].append({"start": s + j, "end": s + j + len(name), "text": name, "role": role})
            j = line.index(deadline)
            last = (dt.date(year, month % 12 + 1, 1) if month < 12 else dt.date(year + 1, 1, 1)) - dt.timedelta(days=1)
            t["deadlines"].append({"start": s + j, "end": s + j + len(deadline), "text": deadline,
                                   "due": last.isoformat(), "placeholder": False})
            m = re.search(r"新增投资(\d+)亿元以上", line)
            t["targets"].append({"start": s + m.start(), "end": s + m.end(), "text": m.group(), "metric": "新增投资",
                                 "value": int(m.group(1)), "unit": "亿元", "comparator": ">=", "placeholder": False})
            tasks.append(t)
            lines.append(line)
            pos += len(line)
        text = "".join(lines)
        rec = {"speech": 0, "title": lines[0].strip(), "date": f"2024-{k % 12 + 1:02d}-01", "tasks": tasks}
        ingest_records(ledger, f"bench/meeting{k:04d}.txt", text, [rec])
    with ledger.session() as s:
        add_user(s, "bench", "supervisor", "bench-password")
    ledger.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere): the server's own cost per
    request, which a busy machine does not inflate the way it inflates wall-clock times."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=30000)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--db", help="keep the generated ledger in this SQLite file (reused when it exists)")
    args = ap.parse_args()
    import httpx
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.sqlite"
        url = f"sqlite:///{path}"
        if not path.exists():
            t0 = time.perf_counter()
            build(url, args.tasks)
            print(f"built a ledger of {args.tasks} tasks in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        env = {**os.environ, "SPEECHLEDGER_SECRET": "bench"}
        proc = subprocess.Popen([sys.executable, "-m", "speechledger", "serve", "--db", url, "--port", str(port),
                                 "--as-of", "2025-06-30"], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            c = httpx.Client(base_url=base, timeout=30)
            for _ in range(200):
                try:
                    r = c.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
            r = c.post("/login", data={"username": "bench", "password": "bench-password", "csrf_token": token})
            assert r.status_code in (200, 303), r.status_code
            views = {"unit=工信局": {"unit": "工信局"},
                     "unit=工信局&status=open&q=改造": {"unit": "工信局", "status": "open", "q": "改造"},
                     "overdue=1&as_of=2025-06-30": {"overdue": "1", "as_of": "2025-06-30"},
                     "no filter, page 20": {"page": "20"}}
            medians = {}
            for name, params in views.items():
                times = []
                cpu0 = cpu_seconds(proc.pid)
                for _ in range(args.requests + 2):
                    t = time.perf_counter()
                    r = c.get("/tasks", params=params)
                    times.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.status_code
                cpu = (cpu_seconds(proc.pid) - cpu0) / (args.requests + 2) * 1000
                times = times[2:]              # warm-up
                total = re.search(r'id="total">(\d+)<', r.text).group(1)
                medians[name] = statistics.median(times) * 1000
                print(f"GET /tasks?{name}: {total} matching tasks, median {medians[name]:.0f} ms, "
                      f"max {max(times) * 1000:.0f} ms over {len(times)} requests; "
                      f"server CPU {cpu:.0f} ms per request")
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ok = medians["unit=工信局"] < 300
    print(f"台账 page with a unit filter: median {medians['unit=工信局']:.0f} ms "
          f"({'under' if ok else 'NOT under'} 300 ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
