"""Breakdown tables (issue 8): a table notice as label lines, as text rows and as a .docx table
each gives one task per item with its lead and support units, due date and targets."""
from __future__ import annotations

import pytest

from speechledger.api import Pipeline
from speechledger.extract.tables import column_of, table_rules
from speechledger.lexicon import Lexicon, load_yaml
from speechledger.normalize import norm_text
from speechledger.read import read_file

LEX = Lexicon.load()
COLUMNS, CELL_DEADLINES, NAME_PARTS = table_rules(LEX)
DATA = load_yaml("tables.yaml")

INTRO = "关于印发2025年数字基础设施重点任务分解方案的通知\n为推进全市数字基础设施建设，现将重点任务分解如下。\n"
HEADER = ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]
ROWS = [["1", "新建5G基站1200个，实现城区全覆盖", "市通信发展办", "市工信局、市住建局", "2025年11月底前"],
        ["2", "完成100个老旧小区改造", "市住建局", "市财政局", "全年"],
        ["3", "培育数字经济重点企业30家", "市工信局", "市科技局、市商务局", "2025年9月底前"]]
# what a supervisor needs of each row: lead, supports, due date, target value
EXPECTED = [({"市通信发展办"}, {"市工信局", "市住建局"}, "2025-11-30", 1200),
            ({"市住建局"}, {"市财政局"}, "2025-12-31", 100),
            ({"市工信局"}, {"市科技局", "市商务局"}, "2025-09-30", 30)]
LABELS = "".join(f"{r[0]}.{r[1]}。\n牵头单位：{r[2]}\n配合单位：{r[3]}\n完成时限：{r[4]}\n" for r in ROWS)


def _row(cells, sep=" | "):
    return "| " + " | ".join(cells) + " |" if sep == " | " else sep.join(cells)


@pytest.fixture(scope="module")
def pipe():
    return Pipeline(extractors="rules")


def _tasks(pipe, text, date="2025-02-20"):
    doc = pipe(text, date=date)
    tasks = [t for sp in doc.speeches for t in sp.tasks]
    for t in tasks:
        assert doc.text[t.start:t.end] == t.text
        for item in t.units + t.deadlines + t.targets:
            assert doc.text[item.start:item.end] == item.text
    return tasks


def _check_items(tasks):
    """One task per item, each with its fields; no header, label or intro task."""
    items = [t for t in tasks if any(r[1][:6] in t.text for r in ROWS)]
    assert len(items) == len(ROWS), [t.text for t in tasks]
    for t, (lead, support, due, value) in zip(items, EXPECTED):
        assert {u.text for u in t.units if u.role == "lead"} == lead, t.text
        assert {u.text for u in t.units if u.role == "support"} == support, t.text
        assert [d.due for d in t.deadlines] == [due], t.text
        assert [x.value for x in t.targets] == [value], t.text
        assert all("|" not in x.metric and x.text not in ("1", "2", "3") for x in t.targets)
    assert not any("牵头单位" in t.text and not any(r[1][:6] in t.text for r in ROWS) for t in tasks)
    assert not any("分解如下" in t.text for t in tasks)


# --- the data rows of tables.yaml ---------------------------------------------
COL_ROWS = [(c["id"], ex, True) for c in DATA["columns"] for ex in c.get("match", [])] + \
           [(c["id"], ex, False) for c in DATA["columns"] for ex in c.get("no_match", [])]


@pytest.mark.parametrize("rule,cell,should", COL_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in COL_ROWS])
def test_column_examples(rule, cell, should):
    # a row read beside another column (table.col_duty_beside_lead) is tried in a header holding it
    beside = next(c for c in DATA["columns"] if c["id"] == rule).get("beside")
    col = column_of(norm_text(cell), COLUMNS, ["牵头单位"] if beside else None)
    assert (col is not None and col.id == rule) is should


CELL_ROWS = [(c["id"], ex, True) for c in DATA["cell_deadlines"] for ex in c.get("match", [])] + \
            [(c["id"], ex, False) for c in DATA["cell_deadlines"] for ex in c.get("no_match", [])]


@pytest.mark.parametrize("rule,cell,should", CELL_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in CELL_ROWS])
def test_cell_deadline_examples(rule, cell, should):
    row = next(c for c in CELL_DEADLINES if c.id == rule)
    assert bool(row.pattern.fullmatch(norm_text(cell))) is should


NAME_ROWS = [(c["id"], ex, True) for c in DATA["unit_name_parts"] for ex in c.get("match", [])] + \
            [(c["id"], ex, False) for c in DATA["unit_name_parts"] for ex in c.get("no_match", [])]


@pytest.mark.parametrize("rule,cell,should", NAME_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in NAME_ROWS])
def test_unit_name_examples(rule, cell, should):
    row = next(c for c in NAME_PARTS if c.id == rule)
    assert bool(row.pattern.fullmatch(norm_text(cell))) is should


# --- the three forms of one notice --------------------------------------------
def test_label_lines_give_one_task_per_item(pipe):
    _check_items(_tasks(pipe, INTRO + "\n" + LABELS))


def test_table_rows_as_text_give_one_task_per_row(pipe):
    text = INTRO + "\n" + "\n".join(_row(r) for r in [HEADER] + ROWS) + "\n"
    tasks = _tasks(pipe, text)
    _check_items(tasks)
    assert len(tasks) == len(ROWS)
    for t in tasks:
        assert t.text.startswith("| ") and t.text.endswith(" |") and "\n" not in t.text
        assert "table.row" in t.rules and "table.col_lead" in t.rules
        assert all("table.col_lead" in u.rules for u in t.units if u.role == "lead")


def test_traditional_tab_separated_rows(pipe):
    def trad(s):
        return s.translate(str.maketrans("号点务头单位时限设现个资办门进", "號點務頭單位時限設現個資辦門進"))
    text = "現將重點任務分解如下。\n\n" + "\n".join("\t".join(trad(c) for c in r) for r in [HEADER] + ROWS[:1]) + "\n"
    tasks = _tasks(pipe, text)
    assert len(tasks) == 1
    t = tasks[0]
    assert [u.role for u in t.units] == ["lead", "support", "support"]
    assert [d.due for d in t.deadlines] == ["2025-11-30"]


def test_rows_without_header_fall_back_to_cells(pipe):
    text = "各单位要按照分工抓好落实。\n" + "\n".join(_row(r) for r in ROWS) + "\n"
    tasks = [t for t in _tasks(pipe, text) if t.text.startswith("|")]
    assert len(tasks) == len(ROWS)
    assert {u.text for u in tasks[0].units if u.role == "lead"} == {"市通信发展办"}
    assert {u.text for u in tasks[0].units if u.role == "support"} == {"市工信局", "市住建局"}
    assert [x.value for x in tasks[2].targets] == [30]


def _docx(path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for line in INTRO.strip().split("\n"):
        d.add_paragraph(line)
    table = d.add_table(rows=len(ROWS) + 1, cols=len(HEADER))
    for i, r in enumerate([HEADER] + ROWS):
        for j, c in enumerate(r):
            table.cell(i, j).text = c
    d.add_paragraph("请各单位认真抓好落实。")
    d.save(path)
    return path


def test_docx_table_gives_one_task_per_row(pipe, tmp_path):
    text, _enc = read_file(_docx(tmp_path / "分解方案.docx"))
    _check_items(_tasks(pipe, text))


def test_docx_table_in_the_ledger(tmp_path):
    from speechledger.batch import ingest
    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.queries import TaskQuery, find_tasks
    path = _docx(tmp_path / "分解方案.docx")
    led = open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    try:
        ingest(led, [path], date="2025-02-20", extractors="rules", progress=False)
        with led.session() as s:
            found = find_tasks(s, TaskQuery(unit="工信局"))
            texts = [t["text"] for t in found]
            assert len(texts) == 2, texts            # row 1 supports, row 3 leads; no label task
            assert all(t.startswith("|") and ("培育" in t or "新建5G" in t) for t in texts)
            rows = find_tasks(s, TaskQuery(search="老旧小区"))
            assert len(rows) == 1 and str(rows[0]["due"]) == "2025-12-31"
            assert {u["role"] for u in rows[0]["units"]} == {"lead", "support"}
            assert [x["value"] for x in rows[0]["targets"]] == [100]
    finally:
        led.close()


def test_header_row_never_joins_the_sentence_before(pipe):
    text = "各单位要按照以下分工抓好落实：\n" + "\n".join(_row(r) for r in [HEADER] + ROWS) + "\n"
    tasks = _tasks(pipe, text)
    assert not any("序号" in t.text for t in tasks)
    assert not any(u.text in ("牵头单位", "配合单位") for t in tasks for u in t.units)
    assert len([t for t in tasks if t.text.startswith("|")]) == len(ROWS)


def test_figures_table_without_header_is_not_taken_over(pipe):
    text = "一、2024年工作回顾\n| 地区生产总值 | 26.7亿元 | 13.3% |\n| 一般公共预算收入 | 3.1亿元 | 4.1% |\n"
    assert not any("table.row_no_header" in t.rules for t in _tasks(pipe, text))


# --- a table pasted one cell a line (Word/PDF) ---------------------------------
def _cell_lines(rows, header=HEADER):
    return "\n".join(c for r in [header] + rows for c in r) + "\n"


def test_cell_per_line_table_gives_one_task_per_row(pipe):
    text = INTRO + _cell_lines(ROWS) + "请各单位认真抓好落实。\n"
    tasks = _tasks(pipe, text)
    _check_items(tasks)
    rows = [t for t in tasks if "table.cell_lines" in t.rules]
    assert len(rows) == len(ROWS)
    assert not any(t.text in HEADER for t in tasks)                 # no header-cell task
    assert not any(t.text.strip() in ("市住建局", "市工信局") for t in tasks)   # no bare unit-cell task
    assert all(t.text.startswith(r[0] + "\n") for t, r in zip(rows, ROWS))


def test_cell_per_line_table_without_index_column(pipe):
    header = HEADER[1:]
    text = INTRO + _cell_lines([r[1:] for r in ROWS], header) + "\n请各单位认真抓好落实。\n"
    _check_items(_tasks(pipe, text))


def test_cell_per_line_row_with_a_wrapped_cell_reads_cells_by_content(pipe):
    rows = [ROWS[0], ["2", "完成100个老旧小区改造", "市住建局", "市财政局", "全年", "（含加装电梯）"], ROWS[2]]
    tasks = [t for t in _tasks(pipe, INTRO + _cell_lines(rows)) if "table.cell_lines" in t.rules]
    assert len(tasks) == 3
    assert {u.text for u in tasks[1].units if u.role == "lead"} == {"市住建局"}
    assert {u.text for u in tasks[1].units if u.role == "support"} == {"市财政局"}
    assert [x.value for x in tasks[1].targets] == [100]


def test_label_lines_are_no_cell_per_line_header(pipe):
    text = "1.完成老旧小区改造200个。\n牵头单位：市住建局\n配合单位：市财政局\n完成时限：2025年11月底前\n"
    assert not any("table.cell_lines" in t.rules for t in _tasks(pipe, text))


def test_docx_table_pasted_as_paragraphs(pipe, tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for line in INTRO.strip().split("\n") + [c for r in [HEADER] + ROWS for c in r] + ["请各单位认真抓好落实。"]:
        d.add_paragraph(line)
    d.save(tmp_path / "分解方案.docx")
    text, _enc = read_file(tmp_path / "分解方案.docx")
    _check_items(_tasks(pipe, text))
