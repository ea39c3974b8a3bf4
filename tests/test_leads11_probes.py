"""The leads batteries of rounds 11 and 12 (tests/data/leads11_probes.yaml, leads12_probes.yaml),
row by row, through the rules
pipeline and the default one (hybrid when models are installed): whether a task covers the probed
line, the units [text, role], deadlines [text, due] and targets [value, unit, comparator] of those
tasks, and whether the line opens an outline heading. A deadline span may differ from the expected
one by a word at either end, as the scorer matches spans by overlap."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from speechledger.normalize import norm_text

BATTERIES = {name: yaml.safe_load((Path(__file__).parent / "data" / f"{name}_probes.yaml").read_text(encoding="utf-8"))
             for name in ("leads11", "leads12")}
# every row keeps the frames of its own file
ROWS = [dict(row, frames=data["frames"], battery=name) for name, data in BATTERIES.items() for row in data["rows"]]


def probe_doc(row) -> tuple[str, str | None, str]:
    """The framed text of a row, its date (null: undated) and the probed line (`probe`, else the
    row's last line)."""
    date = row.get("date", "2026-01-20")
    date = None if date is None else str(date)
    shown = "" if date is None else "{}年{}月{}日".format(*map(int, date.split("-")))
    line = row["line"]
    return row["frames"][row.get("frame", "speech")].format(date=shown, line=line), date, \
        row.get("probe") or line.rsplit("\n", 1)[-1]


def probe_outcome(pipeline, row):
    text, date, line = probe_doc(row)
    at = text.rindex(line)
    doc = pipeline(text, date=date)
    tasks = [t for sp in doc.speeches for t in sp.tasks if t.start < at + len(line) and t.end > at]
    heading = any(h.start == at for sp in doc.speeches for h in sp.headings)
    units = [(u.text, u.role) for t in tasks for u in t.units]
    deadlines = [(d.text, "X" if d.placeholder else d.due) for t in tasks for d in t.deadlines]
    targets = [("X" if t.placeholder else t.value, norm_text(t.unit), t.comparator)
               for task in tasks for t in task.targets]
    return bool(tasks), heading, units, deadlines, targets


def _deadlines_match(got, want) -> bool:
    """Dues exact, spans by overlap (a word more or less at either end)."""
    return [d for _, d in got] == [None if d is None else str(d) for _, d in want] and \
        all(span in text or text in span for (text, _), (span, _) in zip(got, want))


# each field of a row: how to read the expected value and compare it with the outcome
_FIELDS = {
    "task": lambda got, want: got == want,
    "heading": lambda got, want: got == want,
    "units": lambda got, want: got == [tuple(u) for u in want],
    "deadlines": _deadlines_match,
    "targets": lambda got, want: got == [(v, norm_text(u), c) for v, u, c in want],
}


@pytest.fixture(scope="module")
def pipelines(rules_pipeline, default_pipeline):
    return {"rules": rules_pipeline, "default": default_pipeline}


@pytest.mark.parametrize("mode", ["rules", "default"])
@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_probe(row, mode, pipelines):
    reason = row.get("xfail_" + mode) or row.get("xfail")
    if reason:
        pytest.xfail(reason)
    outcome = dict(zip(("task", "heading", "units", "deadlines", "targets"), probe_outcome(pipelines[mode], row)))
    wrong = {k: outcome[k] for k, same in _FIELDS.items() if k in row and not same(outcome[k], row[k])}
    assert not wrong, (row["id"], wrong)


def test_battery_is_broad():
    for name, data in BATTERIES.items():
        assert len(data["rows"]) >= 40, name
    assert len({r["id"] for r in ROWS}) == len(ROWS)
