"""The round-10 target probe battery (tests/data/targets10_probes.yaml), row by row: a target
statement is a task carrying its targets; a review's or a description's figures are not."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from speechledger.normalize import norm_text

DATA = yaml.safe_load((Path(__file__).parent / "data" / "targets10_probes.yaml").read_text(encoding="utf-8"))
ROWS = DATA["rows"]


def probe_doc(row) -> tuple[str, str, str]:
    """The framed text of a row, its date and the probed line."""
    date = str(row.get("date", "2026-03-10"))
    y, m, d = (int(x) for x in date.split("-"))
    text = DATA["frames"][row.get("frame", "speech")].format(date=f"{y}年{m}月{d}日", line=row["line"])
    return text, date, row["line"].rsplit("\n", 1)[-1]


def probe_outcome(pipeline, row):
    """(task covers the probed line, its targets as (value, unit, comparator))."""
    text, date, line = probe_doc(row)
    at = text.rindex(line)
    doc = pipeline(text, date=date)
    tasks = [t for sp in doc.speeches for t in sp.tasks if t.start < at + len(line) and t.end > at]
    targets = [(t.value, norm_text(t.unit), t.comparator) for task in tasks for t in task.targets]
    return bool(tasks), targets


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_probe(row, rules_pipeline):
    is_task, targets = probe_outcome(rules_pipeline, row)
    assert is_task == row["task"], (row["id"], targets)
    if row["task"] and "targets" in row:
        assert targets == [(v, norm_text(u), c) for v, u, c in row["targets"]], row["id"]
