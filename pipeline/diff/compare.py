"""diff_speeches: pair the tasks of two §6 speech records and classify every pair."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from speechledger.diff.align import THRESHOLD, Item, align
from speechledger.diff.classify import CHANGE_TYPES, classify, status
from speechledger.diff.mask import fold

SPEECH_FIELDS = ("source", "speech", "title", "date", "year")


@dataclass
class Pair:
    old: dict[str, Any]
    new: dict[str, Any]
    similarity: float
    changes: list[str]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return status(self.changes, self.details)

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "similarity": round(self.similarity, 4),
                "changes": list(self.changes), "details": self.details}


@dataclass
class Row:
    """One line of a rendered diff, in reading order: a pair, an added or a dropped task."""
    kind: str                       # "pair" | "added" | "dropped"
    heading: str                    # parent heading text ("" at the top of the speech)
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    pair: Pair | None = None


@dataclass
class DiffResult:
    """Pairs, added and dropped tasks between an OLD and a NEW speech."""
    old: dict[str, Any]
    new: dict[str, Any]
    pairs: list[Pair]
    added: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    rows: list[Row] = field(default_factory=list, repr=False)
    old_text: str | None = field(default=None, repr=False)
    new_text: str | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """{"old": speech, "new": speech, "pairs": [...], "added": [task], "dropped": [task]}."""
        return {"old": self.old, "new": self.new, "pairs": [p.to_json() for p in self.pairs],
                "added": self.added, "dropped": self.dropped}

    def counts(self) -> dict[str, int]:
        """Number of pairs per change type, plus unchanged, reworded, added and dropped."""
        c = {"unchanged": sum(1 for p in self.pairs if not p.changes),
             "reworded": sum(1 for p in self.pairs if p.changes == ["wording"])}
        for t in CHANGE_TYPES:
            c[t] = sum(1 for p in self.pairs if t in p.changes)
        c["added"], c["dropped"] = len(self.added), len(self.dropped)
        return c


def speech_info(record: dict[str, Any]) -> dict[str, Any]:
    """The speech object of the diff JSON: the §6 record without its tasks and headings."""
    out = {k: record.get(k) for k in SPEECH_FIELDS}
    for k in ("id", "version"):      # ledger records
        if k in record:
            out[k] = record[k]
    out["tasks"] = len(record.get("tasks") or [])
    return out


def task_heading(record: dict[str, Any], task: dict[str, Any]) -> dict[str, Any] | None:
    """The parent heading of a task: the extractor's `heading` index, else the innermost
    heading that starts before the task (a heading task's parent is the enclosing one)."""
    heads = record.get("headings") or []
    idx = task.get("heading")
    if isinstance(idx, int) and 0 <= idx < len(heads):
        h = heads[idx]
        if h.get("start") != task.get("start"):
            return h
        parent = h.get("parent")
        return heads[parent] if isinstance(parent, int) and 0 <= parent < len(heads) else None
    best = None
    for h in heads:
        if h["start"] > task["start"]:
            break
        if h["start"] == task["start"]:
            parent = h.get("parent")
            return heads[parent] if isinstance(parent, int) and 0 <= parent < len(heads) else None
        best = h
    return best


def items(record: dict[str, Any]) -> list[Item]:
    """The aligner's view of a record's tasks."""
    tasks = record.get("tasks") or []
    if not tasks:
        return []
    lo = min(t["start"] for t in tasks)
    span = max(1, max(t["end"] for t in tasks) - lo)
    out = []
    for t in tasks:
        h = task_heading(record, t)
        out.append(Item(fold(t["text"]), fold(h["text"]) if h else "", (t["start"] - lo) / span))
    return out


def diff_speeches(old_record: dict[str, Any], new_record: dict[str, Any],
                  old_text: str | None = None, new_text: str | None = None,
                  threshold: float = THRESHOLD) -> DiffResult:
    """Pair the tasks of two §6 speech records one-to-one by meaning and classify the changes."""
    old_tasks = list(old_record.get("tasks") or [])
    new_tasks = list(new_record.get("tasks") or [])
    matches = align(items(old_record), items(new_record), threshold=threshold)
    pairs: list[Pair] = []
    by_new: dict[int, Pair] = {}
    paired_old: dict[int, int] = {}
    for m in matches:
        changes, details = classify(old_tasks[m.old], new_tasks[m.new])
        p = Pair(old_tasks[m.old], new_tasks[m.new], m.similarity, changes, details)
        pairs.append(p)
        by_new[m.new] = p
        paired_old[m.old] = m.new
    pairs.sort(key=lambda p: p.new["start"])
    added = [t for j, t in enumerate(new_tasks) if j not in by_new]
    dropped = [t for i, t in enumerate(old_tasks) if i not in paired_old]
    result = DiffResult(speech_info(old_record), speech_info(new_record), pairs, added, dropped,
                        old_text=old_text, new_text=new_text)
    result.rows = _rows(old_record, new_record, by_new, paired_old)
    return result


def _heading_text(record, task) -> str:
    """The group a task is shown under: itself when it is a heading, else its parent heading."""
    for h in record.get("headings") or []:
        if h["start"] == task["start"]:
            return h["text"].strip()
    h = task_heading(record, task)
    return h["text"].strip() if h else ""


def _rows(old_record, new_record, by_new: dict[int, Pair], paired_old: dict[int, int]) -> list[Row]:
    """Merge the two speeches into reading order: new order, dropped tasks after the pair
    that precedes them in the old speech."""
    old_tasks = old_record.get("tasks") or []
    new_tasks = new_record.get("tasks") or []
    keyed: list[tuple[float, int, Row]] = []
    for j, t in enumerate(new_tasks):
        p = by_new.get(j)
        row = Row("pair" if p else "added", _heading_text(new_record, t), p.old if p else None, t, p)
        keyed.append((float(j), 0, row))
    anchor = -1.0
    for i, t in enumerate(old_tasks):
        if i in paired_old:
            anchor = float(paired_old[i])
            continue
        keyed.append((anchor + 0.5, i + 1, Row("dropped", _heading_text(old_record, t), t, None)))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [r for _, _, r in keyed]
