"""The speech's reference date from its own text (tests/data/reference_dates.tsv), row by row.

Relative deadlines (年底前, 本月底前, 下半年) are resolved against it (ANNOTATION.md §4), so a
heading, date line, minutes' 时间 line, 落款 or news dateline it misses leaves every relative due
null, and a body date it mistakes for it shifts them all.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from speechledger.api import Pipeline

ROWS = Path(__file__).parent / "data" / "reference_dates.tsv"


def _rows():
    for n, line in enumerate(ROWS.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            text, date, year, what = line.split("\t")
            yield pytest.param(text.replace("\\n", "\n"), None if date == "-" else date,
                               None if year == "-" else int(year), id=f"{n}:{what}")


@pytest.fixture(scope="module")
def pipe():
    return Pipeline()


@pytest.mark.parametrize("text,date,year", list(_rows()))
def test_reference_date(pipe, text, date, year):
    sp = pipe(text, source="composed.txt").speeches[0]
    assert (sp.date, sp.ref_year) == (date, year)


def test_relative_deadlines_count_from_the_heading_date(pipe):
    text = ("在全縣農業農村工作會議上的講話\n（二〇二三年十二月十二日）\n同志們：\n"
            "各鄉鎮要在年底前全部驗收，明年一季度完成結算。")
    dues = [(d.text, d.due) for t in pipe(text, source="composed.txt").speeches[0].tasks for d in t.deadlines]
    assert dues == [("年底前", "2023-12-31"), ("明年一季度", "2024-03-31")]
