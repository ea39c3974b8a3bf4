"""The targets guideline battery (tests/data/targets_battery.tsv), row by row.

Each row is a composed sentence in a form real documents use (counts with measure words,
money, areas, 百分之N, 成, 翻番, 百分点, ranges, comparators, X placeholders, Chinese and
full-width numerals, PDF spaces, traditional script, goals lists, breakdown items, news
reports) or a number that is not a target (review figures, base values, dates, document
numbers, ordinals, names), with the targets ANNOTATION.md §5/§8 gives it.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from speechledger.extract.targets import find_targets
from speechledger.lexicon import Lexicon
from speechledger.normalize import norm_text

BATTERY = Path(__file__).parent / "data" / "targets_battery.tsv"
LEX = Lexicon.load()


def _rows() -> list[dict]:
    lines = [ln for ln in BATTERY.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


ROWS = _rows()


def _expected(spec: str) -> list[tuple]:
    if spec == "-":
        return []
    out = []
    for item in spec.split(";"):
        value, unit, comparator = item.split("|")
        v = None if value == "X" else float(value)
        out.append((v, norm_text(unit), comparator))
    return out


def _key(value, unit, comparator) -> tuple:
    return (None if value is None else float(value), norm_text(unit), comparator)


def test_battery_is_large_and_varied():
    assert len(ROWS) >= 80
    assert {r["mode"] for r in ROWS} == {"seg", "goals", "doc"}
    assert sum(r["expect"] == "-" for r in ROWS) >= 15        # non-targets are part of the guideline


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_battery_row(row, rules_pipeline):
    if (row.get("note") or "").startswith("xfail:"):
        pytest.xfail(row["note"][6:].strip())
    text = row["text"].replace("\\n", "\n")
    if row["mode"] == "doc":
        doc = rules_pipeline(text, date="2025-02-10")
        found = [(t, doc.text) for sp in doc.speeches for task in sp.tasks for t in task.targets]
        for t, src in found:
            assert src[t.start:t.end] == t.text
        got = [_key(t.value, t.unit, t.comparator) for t, _ in found]
    else:
        norm = norm_text(text)
        got = [_key(t["value"], t["unit"], t["comparator"])
               for t in find_targets(norm, 0, len(norm), LEX, goals=row["mode"] == "goals")]
    assert got == _expected(row["expect"]), text
