"""The document probe batteries, line by line, through the default pipeline and the rules:
tests/data/sections11_probes.yaml (round 11: short whole documents of each kind, so that the
turns between review, plan, goals, labels, problems, minutes and news reports are tested) and
tests/data/neg12_probes.yaml (round 12: look-alikes of tasks that are none, and numbers that are
no targets or deadlines). A line's expectation: + (a task covers it) or - (none does) or ? (not
checked); after +, optionally N (targets), dM (deadlines), uK (units) of the covering tasks."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

# battery -> the least number of documents it must keep (a battery that shrinks hides failures)
BATTERIES = {"sections11_probes": 60, "neg12_probes": 140}
DATA = {name: yaml.safe_load((Path(__file__).parent / "data" / f"{name}.yaml").read_text(encoding="utf-8"))["docs"]
        for name in BATTERIES}
DOCS = [(name, d) for name, docs in DATA.items() for d in docs]
IDS = [f"{name[:-7]}:{d['id']}" for name, d in DOCS]
WANT = re.compile(r"([+?-])(?:(\d+)?(?:d(\d+))?(?:u(\d+))?)$")


def test_batteries_keep_their_size():
    for name, least in BATTERIES.items():
        assert len(DATA[name]) >= least, name


def parse(doc) -> tuple[str, list[tuple[int, int, str]]]:
    """The document's text without the expectations, and (start, end, expectation) per line."""
    lines, spans, pos = [], [], 0
    for raw in doc["text"].rstrip("\n").split("\n"):
        want, _, line = raw.partition(" ")
        m = WANT.fullmatch(want)
        assert m and (m[1] == "+" or want == m[1]), (doc["id"], raw)
        lines.append(line)
        spans.append((pos, pos + len(line), want))
        pos += len(line) + 1
    return "\n".join(lines) + "\n", spans


def covering(pipeline, doc):
    """Per line: (expectation, the tasks covering it)."""
    text, spans = parse(doc)
    out = pipeline(text, date=str(doc.get("date", "2026-03-10")))
    tasks = [t for sp in out.speeches for t in sp.tasks]
    return [(want, [t for t in tasks if t.start < e and t.end > s]) for s, e, want in spans]


def outcome(want: str, cover) -> str:
    """The outcome written as the expectation is (+N / dM / uK only where the expectation has them)."""
    if not cover:
        return "-"
    _, n, d, u = WANT.fullmatch(want).groups() if want[:1] == "+" else (None,) * 4
    got = "+"
    if n is not None:
        got += str(sum(len(t.targets) for t in cover))
    if d is not None:
        got += "d" + str(sum(len(t.deadlines) for t in cover))
    if u is not None:
        got += "u" + str(sum(len(t.units) for t in cover))
    return got


def outcomes(pipeline, doc) -> list[tuple[str, str]]:
    """(expectation, outcome) per checked line."""
    return [(want, outcome(want, cover)) for want, cover in covering(pipeline, doc) if want != "?"]


def check(pipeline, doc, which: str):
    notes = {**(doc.get("xfail") or {}), **(doc.get("xfail_" + which) or {})}
    xfail = {int(k) for k in notes}
    _, spans = parse(doc)
    checked = [i for i, (_, _, w) in enumerate(spans, 1) if w != "?"]
    bad = [(i, want, got) for i, (want, got) in zip(checked, outcomes(pipeline, doc)) if want != got]
    wrong = [b for b in bad if b[0] not in xfail]
    assert not wrong, (doc["id"], "line, expected, got:", wrong)
    if xfail:
        fixed = xfail - {b[0] for b in bad}
        if fixed:
            pytest.fail(f"{doc['id']}: lines {sorted(fixed)} marked xfail now pass")
        pytest.xfail(f"{doc['id']}: lines {sorted(xfail)}: " + "; ".join(notes.values()))


@pytest.mark.parametrize("doc", [d for _, d in DOCS], ids=IDS)
def test_rules(doc, rules_pipeline):
    check(rules_pipeline, doc, "rules")


@pytest.mark.parametrize("doc", [d for _, d in DOCS], ids=IDS)
def test_default(doc, default_pipeline):
    check(default_pipeline, doc, "default")
