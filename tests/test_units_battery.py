"""The units guideline battery (tests/data/units_battery.yaml), row by row: composed sentences
in the unit forms ANNOTATION.md §3 and §8 name (doers, roles, collectives, breakdown labels,
tables, reports, both scripts); the rows use tasks_battery.yaml's format."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_battery import covering

ROWS = yaml.safe_load((Path(__file__).parent / "data" / "units_battery.yaml").read_text(encoding="utf-8"))["rows"]


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_units_battery_row(row, rules_pipeline):
    text = row["doc"]
    probe = row.get("probe") or text.rstrip("\n").rsplit("\n", 1)[-1]
    doc = rules_pipeline(text, date="2025-03-01")
    task = covering(doc, text.index(probe))
    assert task is not None, (row["id"], "no task covers the probe")
    assert [[u.text, u.role] for u in task.units] == row["units"], row["id"]
