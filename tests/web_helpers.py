"""A small ledger for the web tests: one speech with hand-made records (no extractor run)."""
from __future__ import annotations

import datetime as dt
import re

TEXT = """2024年全区工业工作会议讲话
（2024年3月1日）
一、抓好产业发展
区工信局牵头，区发改委配合，6月底前完成产业链规划编制，新增规上企业10家以上。
区住建局要在9月底前完成老旧小区改造<script>alert(1)</script>任务。
二、抓好安全生产
区应急局要持续开展安全生产检查。
"""
AS_OF = dt.date(2024, 7, 1)
PASSWORD = "secret-pass-1"
USERS = {"admin": ("admin", None), "duban": ("supervisor", None), "gx": ("unit", "工信局"),
         "zj": ("unit", "住建局"), "look": ("viewer", None)}


def _span(text: str, s: str, within: tuple[int, int] = (0, 10**9)) -> tuple[int, int]:
    i = text.index(s, within[0])
    assert i + len(s) <= within[1], s
    return i, i + len(s)


def records(text: str = TEXT) -> list[dict]:
    lines = [m for m in re.finditer(r"[^\n]+", text)]
    t1 = next(m for m in lines if m.group().startswith("区工信局"))
    t2 = next(m for m in lines if m.group().startswith("区住建局"))
    t3 = next(m for m in lines if m.group().startswith("区应急局"))
    h1, h2 = _span(text, "一、抓好产业发展"), _span(text, "二、抓好安全生产")

    def task(m, units, deadlines, targets, seg):
        span = (m.start(), m.end())
        return {"start": m.start(), "end": m.end(), "text": m.group(), "modality": "should", "specific": True,
                "segment": seg, "heading": 0 if m.start() < h2[0] else 1,
                "units": [dict(zip(("start", "end"), _span(text, u, span)), text=u, role=r) for u, r in units],
                "deadlines": [dict(zip(("start", "end"), _span(text, d, span)), text=d, due=due, placeholder=False)
                              for d, due in deadlines],
                "targets": [dict(zip(("start", "end"), _span(text, g, span)), text=g, metric=mt, value=v, unit=un,
                                 comparator=">=", placeholder=False) for g, mt, v, un in targets]}

    return [{"speech": 0, "title": "2024年全区工业工作会议讲话", "date": "2024-03-01", "start": 0, "end": len(text),
             "headings": [{"start": h1[0], "end": h1[1], "text": "一、抓好产业发展", "level": 1, "parent": None},
                          {"start": h2[0], "end": h2[1], "text": "二、抓好安全生产", "level": 1, "parent": None}],
             "tasks": [task(t1, [("区工信局", "lead"), ("区发改委", "support")], [("6月底前", "2024-06-30")],
                            [("新增规上企业10家以上", "新增规上企业", 10, "家")], 3),
                       task(t2, [("区住建局", "lead")], [("9月底前", "2024-09-30")], [], 4),
                       task(t3, [("区应急局", "lead")], [], [], 6)]}]


def make_ledger(url: str, source: str = "speeches/工业会议.txt"):
    """Open a ledger at `url` holding the sample speech and the USERS; returns the Ledger."""
    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.ingest import ingest_records
    from speechledger.web.auth import add_user
    ledger = open_ledger(url)
    ingest_records(ledger, source, TEXT, records())
    with ledger.session() as s:
        for name, (role, unit) in USERS.items():
            add_user(s, name, role, PASSWORD, unit=unit)
    return ledger


def task_ids(ledger) -> dict[str, int]:
    """Task ids by the unit that leads them (工信局, 住建局, 应急局)."""
    from sqlalchemy import select

    from speechledger.ledger.models import Task
    with ledger.session() as s:
        out = {}
        for t in s.scalars(select(Task).order_by(Task.position)):
            for key in ("工信局", "住建局", "应急局"):
                if key in t.text[:6]:
                    out[key] = t.id
        return out
