"""The round-11 unit probe battery (tests/data/units11_probes.yaml), row by row: the units
(text, role) of the task covering each probe, with the rules and with the default pipeline
(hybrid when the models load); ANNOTATION.md §3, §8."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

DATA = yaml.safe_load((Path(__file__).parent / "data" / "units11_probes.yaml").read_text(encoding="utf-8"))
ROWS = DATA["rows"]



def probe_units(pipeline, row):
    """(a task covers the probe, [text, role] of its units)."""
    text = DATA["frames"][row["frame"]].format(line=row["line"])
    probe = row.get("probe") or row["line"].split("\n", 1)[0]
    at = text.rindex(probe)
    doc = pipeline(text, date="2026-03-10")
    task = next((t for sp in doc.speeches for t in sp.tasks if t.start <= at < t.end), None)
    return task is not None, [[u.text, u.role] for u in task.units] if task else None


def test_battery_is_broad():
    assert len(ROWS) >= 60
    assert sum(not r["units"] for r in ROWS) >= 12
    assert {r["frame"] for r in ROWS} == set(DATA["frames"])


def _params():
    for row in ROWS:
        marks = [pytest.mark.xfail(reason=row["xfail"], strict=True)] if "xfail" in row else []
        yield pytest.param(row, id=row["id"], marks=marks)


@pytest.mark.parametrize("row", list(_params()))
@pytest.mark.parametrize("which", ["rules", "default"])
def test_probe(row, which, rules_pipeline, default_pipeline):
    pipe = rules_pipeline if which == "rules" else default_pipeline
    is_task, units = probe_units(pipe, row)
    assert is_task == row.get("task", True), (row["id"], units)
    if is_task:
        assert units == row["units"], row["id"]
