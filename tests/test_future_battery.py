"""The future-action battery (tests/data/future_battery.yaml), row by row: composed
sentences of future actions without 要 (news reports, minutes, work reports, speeches)
and the negatives a loose rule would take (ANNOTATION.md §2, §3, §8)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DATA = yaml.safe_load((Path(__file__).parent / "data" / "future_battery.yaml").read_text(encoding="utf-8"))
ROWS = DATA["rows"]


def iso(date: str) -> str:
    y, m, d = map(int, re.findall(r"\d+", date))
    return f"{y:04d}-{m:02d}-{d:02d}"


def test_battery_is_broad():
    assert len(ROWS) >= 40
    assert sum(not r["task"] for r in ROWS) >= 15
    assert {r["frame"] for r in ROWS} == set(DATA["frames"])


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_future_row(row, rules_pipeline):
    text = DATA["frames"][row["frame"]].format(date=row["date"], line=row["line"])
    pos = text.rindex(row["line"])
    doc = rules_pipeline(text, date=iso(row["date"]))
    task = next((t for sp in doc.speeches for t in sp.tasks if t.start <= pos < t.end), None)
    assert (task is not None) == row["task"], (row["id"], task and task.text)
    if row["task"] and "units" in row:
        assert [[u.text, u.role] for u in task.units] == row["units"], row["id"]
