"""The tasks/units guideline battery (tests/data/tasks_battery.yaml), row by row: composed
sentences in the forms real documents use (ANNOTATION.md §2, §3, §8; issue 8 classes 1-7)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROWS = yaml.safe_load((Path(__file__).parent / "data" / "tasks_battery.yaml").read_text(encoding="utf-8"))["rows"]


def covering(doc, pos):
    return next((t for sp in doc.speeches for t in sp.tasks if t.start <= pos < t.end), None)


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_battery_row(row, rules_pipeline):
    text = row["doc"]
    probe = row.get("probe") or text.rstrip("\n").rsplit("\n", 1)[-1]
    pos = text.index(probe)
    doc = rules_pipeline(text, date="2025-03-01")
    task = covering(doc, pos)
    assert (task is not None) == row["task"], (row["id"], task and task.text)
    if row["task"] and "units" in row:
        assert [[u.text, u.role] for u in task.units] == row["units"], row["id"]
    # a goal's figures and due date ride on its task (ANNOTATION.md §4, §5)
    if row["task"] and "targets" in row:
        assert [t.text for t in task.targets] == row["targets"], row["id"]
    if row["task"] and "deadlines" in row:
        assert [d.text for d in task.deadlines] == row["deadlines"], row["id"]
