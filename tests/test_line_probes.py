"""The round-11 and round-12 line probe batteries, row by row, through the rules pipeline and the default one
(hybrid when models are installed): tests/data/dt11_probes.yaml (deadlines and targets in context),
tests/data/nums11_probes.yaml (ranges, bare 十, relative days, unit lists) and tests/data/tgt12_probes.yaml
(targets and deadlines as plans write them: long noun phrases, compound units, goal lists, tables). Each row checks the
deadlines [text, due], targets [value, unit, comparator] and, where given, unit texts of the tasks
covering the probed line. A found deadline span may differ from the expected one by a word at either
end (到, 前), as the scorer matches spans by overlap; due, placeholder, value, unit, comparator and
unit texts are exact."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from speechledger.normalize import norm_text

# battery -> the least number of rows it must keep (a battery that shrinks hides failures)
BATTERIES = {"dt11_probes": 80, "nums11_probes": 40, "tgt12_probes": 240}
DATA = {name: yaml.safe_load((Path(__file__).parent / "data" / f"{name}.yaml").read_text(encoding="utf-8"))
        for name in BATTERIES}
ROWS = [(name, r) for name, d in DATA.items() for r in d["rows"]]
IDS = [f"{name[:-7]}:{r['id']}" for name, r in ROWS]


def probe_doc(frames: dict, row) -> tuple[str, str | None, str]:
    """The framed text of a row, its date and the probed line (`probe`, else the row's last line)."""
    date = row.get("date", "2026-03-10")       # null: an undated text (frame `undated`)
    shown = ""
    if date is not None:
        date = str(date)
        y, m, d = (int(x) for x in date.split("-"))
        shown = f"{y}年{m}月{d}日"
    text = frames[row.get("frame", "speech")].format(date=shown, line=row["line"])
    return text, date, row.get("probe") or row["line"].rsplit("\n", 1)[-1]


def probe_outcome(pipeline, frames: dict, row):
    """(task covers the probed line, its deadlines as (text, due or X),
    its targets as (value or X, unit, comparator), its units' texts)."""
    text, date, line = probe_doc(frames, row)
    at = text.rindex(line)
    doc = pipeline(text, date=date)
    tasks = [t for sp in doc.speeches for t in sp.tasks if t.start < at + len(line) and t.end > at]
    deadlines = [(d.text, "X" if d.placeholder else d.due) for t in tasks for d in t.deadlines]
    targets = [("X" if t.placeholder else t.value, norm_text(t.unit), t.comparator)
               for task in tasks for t in task.targets]
    units = [u.text for t in tasks for u in t.units]
    return bool(tasks), deadlines, targets, units


def check(pipeline, battery: str, row, xfail_key: str):
    reason = row.get(xfail_key) or row.get("xfail")
    if reason:
        pytest.xfail(reason)
    is_task, deadlines, targets, units = probe_outcome(pipeline, DATA[battery]["frames"], row)
    if "task" in row:
        assert is_task == row["task"], (row["id"], deadlines, targets)
    if "deadlines" in row:
        want = [(t, None if d is None else str(d)) for t, d in row["deadlines"]]
        assert [d for _, d in deadlines] == [d for _, d in want], (row["id"], deadlines)
        for (got, _), (span, _) in zip(deadlines, want):
            assert span in got or got in span, (row["id"], got, span)
    if "targets" in row:
        assert targets == [(v, norm_text(u), c) for v, u, c in row["targets"]], (row["id"], targets)
    if "units" in row:
        assert units == row["units"], (row["id"], units)



@pytest.mark.parametrize("battery,row", ROWS, ids=IDS)
def test_probe_rules(battery, row, rules_pipeline):
    check(rules_pipeline, battery, row, "xfail_rules")


@pytest.mark.parametrize("battery,row", ROWS, ids=IDS)
def test_probe_default(battery, row, default_pipeline):
    check(default_pipeline, battery, row, "xfail_default")


@pytest.mark.parametrize("battery", BATTERIES)
def test_battery_is_broad(battery):
    rows = DATA[battery]["rows"]
    assert len(rows) >= BATTERIES[battery] and len({r["id"] for r in rows}) == len(rows)
