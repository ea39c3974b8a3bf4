"""Ledger reads and writes the web pages need beyond ledger.queries/ledger.status.

Everything goes through SQLAlchemy expressions on the ledger models (no SQL text).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import matching_unit_ids
from speechledger.ledger.models import (
    CLOSED,
    Correction,
    Deadline,
    Heading,
    Speech,
    StatusEvent,
    Target,
    Task,
    TaskReview,
    TaskUnit,
    Unit,
)
from speechledger.ledger.queries import TaskQuery, get_task_rows, task_filter
from speechledger.referee.segments import split

COLOURS = ("red", "yellow", "green", "grey", "blue")
COLOUR_LABELS = {"red": "逾期", "yellow": "临期", "green": "已完成/销号", "grey": "无时限", "blue": "正常推进"}
SORTS = {"due": Task.due, "id": Task.id, "status": Task.status, "speech": Speech.date, "text": Task.text}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def colour_expr(as_of: dt.date, soon_days: int):
    """The 督查 three-colour warning of a task as a SQL CASE (plus blue for 'due later')."""
    return case((Task.status.in_(CLOSED), "green"), (Task.due.is_(None), "grey"),
                (Task.due < as_of, "red"), (Task.due <= as_of + dt.timedelta(days=soon_days), "yellow"),
                else_="blue")


def colour_of(row: dict, as_of: dt.date, soon_days: int) -> str:
    if row["status"] in CLOSED:
        return "green"
    if not row["due"]:
        return "grey"
    due = dt.date.fromisoformat(row["due"])
    if due < as_of:
        return "red"
    return "yellow" if due <= as_of + dt.timedelta(days=soon_days) else "blue"


def unpublished_exist(session: Session) -> bool:
    return session.scalar(select(TaskReview.task_id).where(TaskReview.state != "confirmed").limit(1)) is not None


def published():
    """Tasks visible in the 台账: no review row, or a confirmed one."""
    return Task.id.not_in(select(TaskReview.task_id).where(TaskReview.state != "confirmed"))


def unit_scope(session: Session, unit: str):
    """Tasks where `unit` (matched like --unit: aliases, level prefixes, both scripts) is lead or support."""
    return Task.id.in_(select(TaskUnit.task_id).where(TaskUnit.unit_id.in_(matching_unit_ids(session, unit))))


def _coloured(cond, col):
    """Subquery of the matching tasks with their colour (to group it with other tables)."""
    return (select(Task.id.label("id"), Task.status.label("status"), col.label("colour"))
            .join(Speech, Speech.id == Task.speech_id).where(cond).subquery())


@dataclass
class Page:
    rows: list[dict]
    total: int
    colours: dict[str, int]
    page: int
    pages: int


def task_page(session: Session, q: TaskQuery, *, scope_unit: str | None, as_of: dt.date, soon_days: int,
              colour: str | None = None, sort: str = "due", desc: bool = False, page: int = 1,
              per_page: int = 50) -> Page:
    """One page of the 台账 for the query, with the total and the counts per colour."""
    cond = [task_filter(q, matching_unit_ids(session, q.unit) if q.unit else None)]
    if unpublished_exist(session):
        cond.append(published())
    if scope_unit:
        cond.append(unit_scope(session, scope_unit))
    col = colour_expr(as_of, soon_days)
    base = and_(*cond)
    colours = dict.fromkeys(COLOURS, 0)
    for c, n in session.execute(select(col, func.count()).select_from(Task).join(Speech, Speech.id == Task.speech_id)
                                .where(base).group_by(col)):
        colours[c] = n
    if colour in COLOURS:
        base = and_(base, col == colour)
        total = colours[colour]
    else:
        total = sum(colours.values())
    key = SORTS.get(sort, Task.due)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ids = list(session.scalars(select(Task.id).join(Speech, Speech.id == Task.speech_id).where(base)
                               .order_by(key.is_(None), key.desc() if desc else key, Task.id)
                               .limit(per_page).offset((page - 1) * per_page)))
    by_id = {r["id"]: r for r in get_task_rows(session, ids)}
    rows = [by_id[i] for i in ids]
    for r in rows:
        r["colour"] = colour_of(r, as_of, soon_days)
    return Page(rows, total, colours, page, pages)


def all_rows(session: Session, q: TaskQuery, *, scope_unit: str | None, as_of: dt.date, soon_days: int,
             colour: str | None = None, sort: str = "due", desc: bool = False) -> list[dict]:
    """Every row of the current view (for exports)."""
    total = task_page(session, q, scope_unit=scope_unit, as_of=as_of, soon_days=soon_days, colour=colour,
                      per_page=1).total
    return task_page(session, q, scope_unit=scope_unit, as_of=as_of, soon_days=soon_days, colour=colour,
                     sort=sort, desc=desc, per_page=max(total, 1)).rows


def overview(session: Session, *, scope_unit: str | None, as_of: dt.date, soon_days: int) -> dict[str, Any]:
    """Counts by colour and status per unit, the overdue list, tasks due per month."""
    cond = [Speech.current.is_(True), published()]
    if scope_unit:
        cond.append(unit_scope(session, scope_unit))
    col = colour_expr(as_of, soon_days)
    per_unit: dict[str, Counter] = defaultdict(Counter)
    sub = _coloured(and_(*cond), col)
    stmt = (select(Unit.name, sub.c.colour, sub.c.status, func.count(func.distinct(sub.c.id)))
            .select_from(sub).join(TaskUnit, TaskUnit.task_id == sub.c.id).join(Unit, Unit.id == TaskUnit.unit_id)
            .group_by(Unit.name, sub.c.colour, sub.c.status))
    for name, c, status, n in session.execute(stmt):
        per_unit[name][c] += n
        per_unit[name]["status:" + status] += n
        per_unit[name]["total"] += n
    units = sorted(per_unit.items(), key=lambda kv: (-kv[1]["red"], -kv[1]["total"], kv[0]))
    totals = Counter()
    for c, status, n in session.execute(select(sub.c.colour, sub.c.status, func.count())
                                        .group_by(sub.c.colour, sub.c.status)):
        totals[c] += n
        totals["status:" + status] += n
        totals["total"] += n
    overdue_ids = list(session.scalars(select(Task.id).join(Speech, Speech.id == Task.speech_id)
                                       .where(*cond, col == "red").order_by(Task.due, Task.id).limit(15)))
    overdue = get_task_rows(session, overdue_ids)
    overdue.sort(key=lambda r: (r["due"], r["id"]))
    asked = list(session.scalars(select(Task.id).join(Speech, Speech.id == Task.speech_id)
                                 .join(TaskReview, TaskReview.task_id == Task.id)
                                 .where(*cond, TaskReview.close_requested_by.is_not(None), Task.status.not_in(CLOSED))
                                 .order_by(TaskReview.close_requested_at.desc()).limit(15)))
    close_requests = get_task_rows(session, asked)
    months = Counter()
    for due, n in session.execute(select(Task.due, func.count(Task.id)).join(Speech, Speech.id == Task.speech_id)
                                  .where(*cond, Task.due.is_not(None)).group_by(Task.due)):
        months[due.strftime("%Y-%m")] += n
    return {"units": units, "totals": totals, "overdue": overdue, "months": sorted(months.items()),
            "close_requests": close_requests}


def month_chart(months: list[tuple[str, int]], as_of: dt.date, width: int = 860, height: int = 220) -> dict:
    """Geometry of the 'due per month' bar chart (rendered as SVG by the template)."""
    counts = dict(months)
    if counts:                       # every month between the first and the last, empty ones too
        y, m = map(int, min(counts).split("-"))
        last = max(counts)
        filled = []
        while f"{y:04d}-{m:02d}" <= last:
            filled.append((f"{y:04d}-{m:02d}", counts.get(f"{y:04d}-{m:02d}", 0)))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        months = filled
    months = months[-36:]
    if not months:
        return {"bars": [], "width": width, "height": height, "max": 0}
    top = max(n for _, n in months)
    left, bottom, plot_h = 40, 40, height - 60
    step = (width - left - 10) / len(months)
    now = as_of.strftime("%Y-%m")
    bars = []
    for i, (m, n) in enumerate(months):
        h = plot_h * n / top if top else 0
        w = min(step * 0.7, 44)
        bars.append({"x": left + i * step + (step - w) / 2, "w": w, "y": height - bottom - h, "h": h,
                     "n": n, "label": m, "short": m[2:].replace("-", "."), "past": m < now,
                     "cx": left + i * step + step / 2, "show_label": len(months) <= 18 or i % 2 == 0})
    return {"bars": bars, "width": width, "height": height, "max": top, "base": height - bottom,
            "left": left, "top_y": height - bottom - plot_h}


# ---------------------------------------------------------------- one task

def may_update(user, session: Session, task_id: int) -> bool:
    if user.role in ("admin", "supervisor"):
        return True
    return user.role == "unit" and in_unit(session, task_id, user.unit)


def in_unit(session: Session, task_id: int, unit: str | None) -> bool:
    if not unit:
        return False
    return session.scalar(select(TaskUnit.id).where(TaskUnit.task_id == task_id,
                                                    TaskUnit.unit_id.in_(matching_unit_ids(session, unit)))
                          .limit(1)) is not None


def review_state(session: Session, task_id: int) -> TaskReview | None:
    return session.get(TaskReview, task_id)


def heading_path(session: Session, speech: Speech, heading_id: int | None) -> list[str]:
    if heading_id is None:
        return []
    by_pos = {h.position: h for h in speech.headings}
    h = session.get(Heading, heading_id)
    path = []
    seen = set()
    while h is not None and h.position not in seen:
        seen.add(h.position)
        path.append(h.text)
        h = by_pos.get(h.parent) if h.parent is not None else None
    return path[::-1]


_STOPS = "。！？；\n"


def source_pieces(text: str, speech: Speech, row: dict, margin: int = 160) -> list[tuple[str, str]]:
    """The task in its surrounding text as (piece, css classes); offsets index the stored document."""
    start, end = row["start"], row["end"]
    lo, hi = max(speech.start, start - margin), min(speech.end, end + margin)
    # cut at sentence ends so the context starts and stops at whole sentences
    cut = next((i + 1 for i in range(lo, start) if text[i] in _STOPS), lo) if lo > speech.start else lo
    lo = cut if cut < start else lo
    cut = next((i + 1 for i in range(hi - 1, end - 1, -1) if text[i] in _STOPS), hi) if hi < speech.end else hi
    hi = cut if cut > end else hi
    spans = [(start, end, "task")]
    spans += [(u["start"], u["end"], "unit-" + u["role"]) for u in row["units"]]
    spans += [(d["start"], d["end"], "deadline") for d in row["deadlines"]]
    spans += [(g["start"], g["end"], "target") for g in row["targets"]]
    cuts = sorted({lo, hi, *[p for s, e, _ in spans for p in (s, e) if lo < p < hi]})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        cls = " ".join(c for s, e, c in spans if s <= a and b <= e and s < e)
        out.append((text[a:b], cls))
    return out


def task_events(session: Session, task_id: int) -> list[dict]:
    from speechledger.ledger.status import history
    return history(session, task_id)["events"]


def note_event(session: Session, task: Task, note: str, by: str) -> None:
    """An entry in the append-only history that keeps the status and progress note (review actions)."""
    session.add(StatusEvent(task_id=task.id, lineage_id=task.lineage_id or task.id, status=task.status,
                            previous=task.status, note=note, author=by, at=_now()))


# ---------------------------------------------------------------- review

def mark_pending(session: Session, speech_ids: list[int]) -> int:
    """Put the tasks of newly ingested speeches in the review queue."""
    n = 0
    for tid in session.scalars(select(Task.id).where(Task.speech_id.in_(speech_ids))):
        if session.get(TaskReview, tid) is None:
            session.add(TaskReview(task_id=tid, state="pending"))
            n += 1
    return n


def pending_counts(session: Session) -> dict[int, int]:
    return dict(session.execute(select(Task.speech_id, func.count(Task.id))
                                .join(TaskReview, TaskReview.task_id == Task.id)
                                .where(TaskReview.state == "pending").group_by(Task.speech_id)).all())


def snapshot(session: Session, task: Task) -> dict[str, Any]:
    """The reviewable content of a task (as stored) for the before/after of a correction."""
    row = get_task_rows(session, [task.id])[0]
    return {"start": row["start"], "end": row["end"], "text": row["text"], "modality": row["modality"],
            "specific": row["specific"],
            "units": [{k: u[k] for k in ("start", "end", "text", "role")} for u in row["units"]],
            "deadlines": [{k: d[k] for k in ("start", "end", "text", "due", "placeholder")} for d in row["deadlines"]],
            "targets": [{k: g[k] for k in ("start", "end", "text", "metric", "value", "unit", "comparator",
                                           "placeholder")} for g in row["targets"]]}


class ReviewError(ValueError):
    pass


def _find(task_text: str, base: int, surface: str, used: Counter) -> tuple[int, int]:
    """Offsets of the next unused occurrence of `surface` in the task text."""
    k = used[surface]
    pos = -1
    for _ in range(k + 1):
        pos = task_text.find(surface, pos + 1)
        if pos < 0:
            raise ReviewError(f"“{surface}”不在任务原文中（第{k + 1}处）")
    used[surface] += 1
    return base + pos, base + pos + len(surface)


ROLE_WORDS = {"牵头": "lead", "lead": "lead", "配合": "support", "support": "support"}
CMP_WORDS = {">=": ">=", "≥": ">=", "以上": ">=", "<=": "<=", "≤": "<=", "以下": "<=", "~": "~", "约": "~",
             "=": "=", "": "="}


def parse_edit(task: Task, units: str, deadlines: str, targets: str) -> dict[str, list[dict]]:
    """Reviewer's edit lines -> units/deadlines/targets with offsets found in the task text.

    units: `原文 牵头|配合`; deadlines: `原文 [YYYY-MM-DD]`; targets: `原文|指标|数值|单位|比较(>=,<=,~,=)`.
    """
    text = task.text
    out: dict[str, list[dict]] = {"units": [], "deadlines": [], "targets": []}
    used: Counter = Counter()
    for line in filter(None, (raw.strip() for raw in units.splitlines())):
        parts = line.split()
        role = ROLE_WORDS.get(parts[-1]) if len(parts) > 1 else "lead"
        surface = " ".join(parts[:-1]) if len(parts) > 1 and role else line
        if role is None:
            raise ReviewError(f"单位“{line}”的角色应为 牵头 或 配合")
        s, e = _find(text, task.start, surface, used)
        out["units"].append({"start": s, "end": e, "text": surface, "role": role})
    used = Counter()
    for line in filter(None, (raw.strip() for raw in deadlines.splitlines())):
        parts = line.rsplit(None, 1)
        due = None
        if len(parts) == 2:
            try:
                due = dt.date.fromisoformat(parts[1])
                line = parts[0]
            except ValueError:
                due = None
        s, e = _find(text, task.start, line, used)
        out["deadlines"].append({"start": s, "end": e, "text": line, "due": due,
                                 "placeholder": due is None and ("X" in line or "x" in line)})
    used = Counter()
    for line in filter(None, (raw.strip() for raw in targets.splitlines())):
        f = [p.strip() for p in line.split("|")] + [""] * 5
        surface, metric, value, unit, cmp = f[:5]
        if cmp not in CMP_WORDS:
            raise ReviewError(f"目标“{surface}”的比较符应为 >=、<=、~ 或 =")
        try:
            num = float(value) if value and value.upper() != "X" else None
        except ValueError:
            raise ReviewError(f"目标“{surface}”的数值“{value}”不是数字") from None
        s, e = _find(text, task.start, surface, used)
        out["targets"].append({"start": s, "end": e, "text": surface, "metric": metric or surface,
                               "value": num, "unit": unit, "comparator": CMP_WORDS[cmp],
                               "placeholder": num is None})
    return out


def _replace_items(session: Session, task: Task, items: dict[str, list[dict]]) -> None:
    from speechledger.ledger.aliases import UnitResolver
    for model in (TaskUnit, Deadline, Target):
        for obj in session.scalars(select(model).where(model.task_id == task.id)):
            session.delete(obj)
    session.flush()
    resolver = UnitResolver()
    for u in items["units"]:
        session.add(TaskUnit(task_id=task.id, unit_id=resolver.unit_id(session, u["text"]), **u))
    for d in items["deadlines"]:
        session.add(Deadline(task_id=task.id, **d))
    for g in items["targets"]:
        session.add(Target(task_id=task.id, **g))
    dues = [d["due"] for d in items["deadlines"] if d["due"]]
    task.due = min(dues) if dues else None
    session.flush()


def _record(session: Session, task: Task, action: str, before, after, by: str) -> None:
    session.add(Correction(task_id=task.id, action=action,
                           before=json.dumps(before, ensure_ascii=False, default=str) if before is not None else None,
                           after=json.dumps(after, ensure_ascii=False, default=str) if after is not None else None,
                           by=by, at=_now()))


def _set_review(session: Session, task: Task, state: str, by: str, merged_into: int | None = None) -> None:
    rv = session.get(TaskReview, task.id) or TaskReview(task_id=task.id)
    rv.state, rv.by, rv.at, rv.merged_into = state, by, _now(), merged_into
    session.add(rv)


def review(session: Session, task: Task, action: str, by: str, form: dict[str, str]) -> str:
    """Apply a reviewer's action to a task; returns a message. Raises ReviewError on bad input."""
    before = snapshot(session, task)
    if action == "confirm":
        _set_review(session, task, "confirmed", by)
        _record(session, task, "confirm", before, before, by)
        note_event(session, task, "审核：确认发布", by)
        return "已确认"
    if action == "reject":
        _set_review(session, task, "rejected", by)
        _record(session, task, "reject", before, None, by)
        note_event(session, task, "审核：不是任务，已驳回", by)
        return "已驳回"
    if action == "edit":
        items = parse_edit(task, form.get("units", ""), form.get("deadlines", ""), form.get("targets", ""))
        _replace_items(session, task, items)
        after = snapshot(session, task)
        _set_review(session, task, "confirmed", by)
        _record(session, task, "edit", before, after, by)
        note_event(session, task, "审核修改：" + describe_change(before, after), by)
        return "已修改并确认"
    if action == "merge":
        nxt = session.scalar(select(Task).where(Task.speech_id == task.speech_id, Task.position > task.position)
                             .order_by(Task.position).limit(1))
        if nxt is None:
            raise ReviewError("这是本讲话的最后一项任务，没有可合并的下一项")
        other_before = snapshot(session, nxt)
        doc = task.speech.document.text
        task.start, task.end = min(task.start, nxt.start), max(task.end, nxt.end)
        task.text = doc[task.start:task.end]
        for model in (TaskUnit, Deadline, Target):
            for obj in session.scalars(select(model).where(model.task_id == nxt.id)):
                obj.task_id = task.id
        dues = [d for d in (task.due, nxt.due) if d]
        task.due = min(dues) if dues else None
        task.specific = task.specific or nxt.specific
        session.flush()
        session.expire(task)
        after = snapshot(session, task)
        _set_review(session, nxt, "merged", by, merged_into=task.id)
        _set_review(session, task, "confirmed", by)
        _record(session, task, "merge", {"task": before, "merged": other_before}, after, by)
        _record(session, nxt, "merge", other_before, {"merged_into": task.id}, by)
        note_event(session, task, f"审核：与任务 {nxt.id} 合并", by)
        note_event(session, nxt, f"审核：并入任务 {task.id}", by)
        return f"已与任务 {nxt.id} 合并"
    raise ReviewError(f"未知的审核操作 {action!r}")


def describe_change(before: dict, after: dict) -> str:
    parts = []
    for key, label, fmt in (("units", "单位", lambda u: f"{u['text']}({'牵头' if u['role'] == 'lead' else '配合'})"),
                            ("deadlines", "时限", lambda d: f"{d['text']}{'→' + str(d['due']) if d['due'] else ''}"),
                            ("targets", "目标", lambda g: g["text"])):
        b = "、".join(map(fmt, before[key])) or "无"
        a = "、".join(map(fmt, after[key])) or "无"
        if a != b:
            parts.append(f"{label} {b} → {a}")
    return "；".join(parts) or "无变化"


def corrections(session: Session) -> list[dict[str, Any]]:
    out = []
    for c, speech_id in session.execute(select(Correction, Task.speech_id).join(Task, Task.id == Correction.task_id)
                                        .order_by(Correction.at, Correction.id)):
        out.append({"id": c.id, "task_id": c.task_id, "speech_id": speech_id, "action": c.action, "by": c.by,
                    "at": c.at.isoformat(timespec="seconds"),
                    "before": json.loads(c.before) if c.before else None,
                    "after": json.loads(c.after) if c.after else None})
    return out


def gold_lines(session: Session) -> list[dict[str, Any]]:
    """Reviewed tasks (confirmed, edited, merged; not rejected or merged away) as ANNOTATION.md §7 gold lines.

    `doc` is the source file's stem; offsets index that file's decoded text, as the gold's do.
    """
    from pathlib import PurePath
    reviewed = select(Correction.task_id).distinct()
    stmt = (select(Task).join(TaskReview, TaskReview.task_id == Task.id)
            .where(Task.id.in_(reviewed), TaskReview.state == "confirmed").order_by(Task.speech_id, Task.start))
    out = []
    segs_of: dict[int, list] = {}
    for task in session.scalars(stmt):
        snap = snapshot(session, task)
        stem = PurePath(task.speech.source.replace("\\", "/")).stem
        doc = task.speech.document
        if doc.id not in segs_of:   # the referee's segments, so `seg` ids match what score.py counts
            segs_of[doc.id] = split(doc.text)
        segs = segs_of[doc.id]
        # the segments the task covers for at least half (as the referee credits it, ANNOTATION.md §6)
        # and those holding one of its units, deadlines or targets
        items = [it for kind in ("units", "deadlines", "targets") for it in snap[kind]]
        covered = [s for s in segs
                   if 2 * (min(s.end, task.end) - max(s.start, task.start)) >= s.end - s.start > 0
                   or any(s.start <= it["start"] < s.end for it in items)]
        if not covered:
            covered = [max(segs, key=lambda s: min(s.end, task.end) - max(s.start, task.start))]
        for seg in covered:
            def inside(items: list[dict], keys: tuple[str, ...], seg=seg) -> list[dict]:
                res = []
                for it in items:
                    if seg.start <= it["start"] < seg.end:
                        rel = it["start"] - seg.start
                        n = sum(1 for i in range(rel) if seg.text.startswith(it["text"], i))
                        res.append({**{k: it[k] for k in keys}, "occ": n})
                return res

            out.append({"doc": stem, "seg": seg.id, "start": seg.start, "end": seg.end,
                        "modality": task.modality, "specific": bool(task.specific),
                        "units": inside(snap["units"], ("text", "role")),
                        "deadlines": inside(snap["deadlines"], ("text", "due", "placeholder")),
                        "targets": inside(snap["targets"], ("text", "metric", "value", "unit", "comparator",
                                                            "placeholder"))})
    return out


def last_speech_id(session: Session) -> int:
    return session.scalar(select(func.max(Speech.id))) or 0


def speech_choices(session: Session) -> list[dict[str, Any]]:
    """Current speeches for the 台账's speech filter (id, title, date), newest first."""
    return [{"id": i, "title": t, "date": d.isoformat() if d else None}
            for i, t, d in session.execute(select(Speech.id, Speech.title, Speech.date)
                                           .where(Speech.current.is_(True))
                                           .order_by(Speech.date.is_(None), Speech.date.desc(), Speech.id.desc()))]


def refresh_statistics(ledger) -> None:
    """Let SQLite's planner know the table sizes (ANALYZE): without statistics it drives the filtered
    台账 queries from the wrong table and a 30,000-task page takes seconds. Other databases keep their own."""
    if ledger.engine.dialect.name == "sqlite":
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def speech_ids_of(session: Session, source_key: str, after_id: int) -> list[int]:
    """Current speeches of a source written after speech `after_id` (i.e. by the last ingest)."""
    return list(session.scalars(select(Speech.id).where(Speech.source_key == source_key, Speech.current.is_(True),
                                                        Speech.id > after_id)))


def defuse(value):
    """A spreadsheet cell that cannot run as a formula (=, +, -, @, tab, CR prefixes get a quote)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def defused_rows(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        r = dict(r)
        for k in ("text", "progress", "speech_title", "source", "heading"):
            r[k] = defuse(r.get(k))
        r["units"] = [{**u, "text": defuse(u["text"]), "canonical": defuse(u["canonical"])} for u in r["units"]]
        r["deadlines"] = [{**d, "text": defuse(d["text"])} for d in r["deadlines"]]
        r["targets"] = [{**g, "text": defuse(g["text"]), "metric": defuse(g["metric"])} for g in r["targets"]]
        out.append(r)
    return out


