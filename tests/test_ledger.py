"""The task ledger: ingest, idempotency, versioning, aliases, queries, exports, status, trend.

Assertions compare the ledger with what the pipeline returned for the same
file (extractor output changes as the rules improve); hand-made §6 records are
used where the test needs units, deadlines or targets of its own.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from speechledger.api import Pipeline
from speechledger.batch import ingest
from speechledger.cli import main
from speechledger.ledger.api import load_speech_record
from speechledger.ledger.db import LedgerError, open_ledger, resolve_url
from speechledger.ledger.export import STATUS_LABELS, read_csv, read_xlsx
from speechledger.ledger.ingest import ingest_records
from speechledger.ledger.models import Deadline, Speech, StatusEvent, Target, Task, TaskUnit, Unit
from speechledger.ledger.queries import TaskQuery, find_tasks, list_speeches
from speechledger.ledger.status import history, set_status
from speechledger.ledger.trend import metric_trend, unit_trend

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "texts" / "speeches2024.txt"

SPEECH = """在全市重点工作推进会上的讲话
（2024年3月1日）
一、要抓好产业链建设。
市工信局要牵头编制产业链发展规划，7月底前完成。
各县市区必须建立重点项目库。
二、要加强督查考核。
督查室要每月通报一次进展情况。
"""


# ---------------------------------------------------------------- fixtures and helpers

def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    url = os.environ.get("SPEECHLEDGER_PG_URL")
    if not url:
        if os.environ.get("SPEECHLEDGER_REQUIRE_PG"):
            pytest.fail("SPEECHLEDGER_REQUIRE_PG is set but no PostgreSQL server was started "
                        "(scripts/ci_postgres.sh prints why)")
        pytest.skip("SPEECHLEDGER_PG_URL is not set (scripts/ci_postgres.sh sets it)")
    _reset_postgres(url)
    return url


@pytest.fixture
def ledger(db_url):
    led = open_ledger(db_url)
    yield led
    led.close()


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    return Pipeline(extractors="rules")


def _task(text: str, start: int, units=(), deadlines=(), targets=(), modality="should", specific=True):
    return {"start": start, "end": start + len(text), "text": text, "modality": modality,
            "specific": specific, "segment": 0, "heading": None,
            "units": [{"start": start + text.index(u), "end": start + text.index(u) + len(u), "text": u,
                       "role": role} for u, role in units],
            "deadlines": [{"start": start, "end": start + 1, "text": t, "due": due, "placeholder": due is None}
                          for t, due in deadlines],
            "targets": [{"start": start, "end": start + 1, "text": t, "metric": m, "value": v, "unit": u,
                         "comparator": c, "placeholder": v is None} for t, m, v, u, c in targets]}


def _record(tasks, date="2024-03-01", title="测试讲话", index=0):
    return {"speech": index, "title": title, "date": date, "year": int(date[:4]) if date else None,
            "headings": [], "tasks": tasks}


def _speech_text(tasks_text: list[str]) -> tuple[str, list[int]]:
    starts, text = [], ""
    for t in tasks_text:
        starts.append(len(text))
        text += t + "\n"
    return text, starts


def _add_speech(ledger, name: str, specs: list[dict], date="2024-03-01", title="测试讲话"):
    """Store one speech of hand-made tasks; specs are _task keyword dicts (without start)."""
    text, starts = _speech_text([s["text"] for s in specs])
    tasks = [_task(start=st, **s) for s, st in zip(specs, starts)]
    ingest_records(ledger, Path("/virtual") / name, text, [_record(tasks, date, title)])
    with ledger.session() as s:
        return s.scalar(select(Speech.id).where(Speech.source == str(Path("/virtual") / name),
                                                Speech.current.is_(True)))


def _count(ledger, model) -> int:
    with ledger.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def _expected(pipe, path: Path) -> dict[str, int]:
    doc = pipe.run_file(path)
    ts = [t for sp in doc.speeches for t in sp.tasks]
    return {"speeches": len(doc.speeches), "tasks": len(ts), "units": sum(len(t.units) for t in ts),
            "deadlines": sum(len(t.deadlines) for t in ts), "targets": sum(len(t.targets) for t in ts)}


def _ledger_counts(ledger) -> dict[str, int]:
    return {"speeches": _count(ledger, Speech), "tasks": _count(ledger, Task),
            "units": _count(ledger, TaskUnit), "deadlines": _count(ledger, Deadline),
            "targets": _count(ledger, Target)}


# ---------------------------------------------------------------- ingest

def test_ingest_stores_what_the_pipeline_returns(ledger, pipe):
    summary = ingest(ledger, [CORPUS], extractors="rules", progress=False)
    expected = _expected(pipe, CORPUS)
    assert _ledger_counts(ledger) == expected
    assert (summary.speeches, summary.tasks, summary.targets) == \
        (expected["speeches"], expected["tasks"], expected["targets"])
    assert not summary.errors


def test_stored_offsets_point_into_the_stored_text(ledger):
    ingest(ledger, [CORPUS], extractors="rules", progress=False)
    with ledger.session() as s:
        sid = s.scalar(select(Speech.id).order_by(Speech.id).limit(1))
    rec = load_speech_record(ledger.url, sid)
    assert {"source", "speech", "title", "date", "tasks", "text"} <= set(rec)
    assert rec["text"] == CORPUS.read_text(encoding="utf-8")
    for t in rec["tasks"]:
        assert rec["text"][t["start"]:t["end"]] == t["text"]
        for item in t["units"] + t["deadlines"] + t["targets"]:
            assert rec["text"][item["start"]:item["end"]] == item["text"]


def test_ingest_same_content_twice_adds_nothing_and_keeps_status(ledger, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(CORPUS, folder / "sub" / "a.txt")
    (folder / "b.txt").write_text(SPEECH, encoding="utf-8")
    first = ingest(ledger, [folder], extractors="rules", progress=False)
    assert first.speeches >= 2 and first.files == 2
    before = _ledger_counts(ledger)
    with ledger.session() as s:
        tid = s.scalar(select(Task.id).order_by(Task.id).limit(1))
        set_status(s, tid, "in_progress", note="起草中", by="督查室")
    again = ingest(ledger, [folder], extractors="rules", progress=False)
    assert again.speeches == 0 and again.tasks == 0 and again.unchanged == 2
    assert _ledger_counts(ledger) == before
    with ledger.session() as s:
        assert s.get(Task, tid).status == "in_progress"


def test_changed_file_becomes_a_new_version_keeping_history(ledger, tmp_path, pipe):
    path = tmp_path / "speech.txt"
    path.write_text(SPEECH, encoding="utf-8")
    ingest(ledger, [path], extractors="rules", progress=False)
    with ledger.session() as s:
        old = s.scalars(select(Task).order_by(Task.position)).all()
        assert len(old) >= 2, "the sample speech should give at least two tasks"
        kept, changed = old[0], old[-1]
        kept_id, kept_text, changed_text, n_old = kept.id, kept.text, changed.text, len(old)
        set_status(s, kept_id, "in_progress", note="已启动", by="督查室")
        set_status(s, kept_id, "done", note="已完成规划编制", by="市工信局")
    new_text = SPEECH.replace(changed_text, changed_text.replace("督查室", "市委、市政府督查室"))
    assert new_text != SPEECH
    path.write_text(new_text, encoding="utf-8")
    summary = ingest(ledger, [path], extractors="rules", progress=False)
    assert summary.speeches == 1 and summary.versions == 1
    with ledger.session() as s:
        speeches = s.scalars(select(Speech).order_by(Speech.version)).all()
        assert [(sp.version, sp.current) for sp in speeches] == [(1, False), (2, True)]
        new_tasks = s.scalars(select(Task).where(Task.speech_id == speeches[1].id)).all()
        assert len(new_tasks) == _expected(pipe, path)["tasks"]
        same = [t for t in new_tasks if t.text == kept_text]
        assert same and same[0].status == "done" and same[0].status_note == "已完成规划编制"
        h = history(s, same[0].id)
        assert [e["status"] for e in h["events"]] == ["in_progress", "done"]
        assert [v["version"] for v in h["versions"]] == [1, 2]
        # the old id still works and points at the current version of the task
        assert history(s, kept_id)["current_task_id"] == same[0].id
        # queries list the current version only
        rows = find_tasks(s, TaskQuery())
        assert {r["speech_id"] for r in rows} == {speeches[1].id}
        assert len(find_tasks(s, TaskQuery(all_versions=True))) == n_old + len(new_tasks)


def test_bad_files_are_reported_and_the_batch_goes_on(ledger, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "1_empty.txt").write_bytes(b"")
    (folder / "2_binary.txt").write_bytes(bytes(range(256)) * 20)
    (folder / "3_good.txt").write_text(SPEECH, encoding="utf-8")
    (folder / "4_broken.docx").write_bytes(b"not a zip")
    messages = []
    summary = ingest(ledger, [folder, tmp_path / "missing.txt"], extractors="rules", progress=False,
                     report=messages.append)
    assert len(summary.errors) == 4 == len(messages)
    assert all(any(n in m for m in messages) for n in ("1_empty", "2_binary", "4_broken", "missing.txt"))
    assert summary.speeches == 1 and _count(ledger, Speech) == 1


def test_ingest_with_two_jobs_equals_one_job(tmp_path, pipe):
    folder = tmp_path / "par"
    folder.mkdir()
    for i in range(4):
        (folder / f"s{i}.txt").write_text(SPEECH + "\n" * i, encoding="utf-8")
    shutil.copy(CORPUS, folder / "c.txt")
    counts = []
    for jobs in (1, 2):
        with open_ledger(f"sqlite:///{tmp_path / f'j{jobs}.sqlite'}") as led:
            ingest(led, [folder], jobs=jobs, extractors="rules", progress=False)
            counts.append(_ledger_counts(led))
    assert counts[0] == counts[1]
    assert counts[0]["tasks"] == 4 * _expected(pipe, folder / "s0.txt")["tasks"] + _expected(pipe, CORPUS)["tasks"]


# ---------------------------------------------------------------- units and aliases

def test_aliases_merge_surface_forms_of_one_unit(ledger):
    _add_speech(ledger, "a.txt", [
        {"text": "市工信局要牵头编制规划。", "units": [("市工信局", "lead")]},
        {"text": "工信局要建立项目库。", "units": [("工信局", "lead")]},
        {"text": "市工业和信息化局要配合财政局开展调研。",
         "units": [("市工业和信息化局", "support"), ("财政局", "lead")]},
        {"text": "市统计局要做好监测。", "units": [("市统计局", "lead")]},
    ])
    with ledger.session() as s:
        units = {tu.unit.name for tu in s.scalars(select(TaskUnit))}
        assert "市工业和信息化局" in units and "市工信局" not in units and "工信局" not in units
        for term in ("工信局", "市工信局", "工信", "工业和信息化"):
            rows = find_tasks(s, TaskQuery(unit=term))
            assert len(rows) == 3, term
        assert len(find_tasks(s, TaskQuery(unit="工信局", role="lead"))) == 2
        assert len(find_tasks(s, TaskQuery(unit="统计"))) == 1
        assert find_tasks(s, TaskQuery(unit="不存在的单位")) == []


def test_user_alias_merges_a_unit_already_in_the_ledger(ledger):
    _add_speech(ledger, "b.txt", [
        {"text": "经信局要牵头推进技改。", "units": [("经信局", "lead")]},
        {"text": "工信局要抓好运行调度。", "units": [("工信局", "lead")]},
    ])
    with ledger.session() as s:
        assert len(find_tasks(s, TaskQuery(unit="工信局"))) == 1
    assert main(["ingest", "--db", ledger.url, "--alias", "经信局=市工业和信息化局"]) == 0
    with ledger.session() as s:
        assert len(find_tasks(s, TaskQuery(unit="市工业和信息化局"))) == 2
        assert s.scalar(select(func.count()).select_from(Unit).where(Unit.name == "经信局")) == 0


def test_alias_file_is_read(ledger, tmp_path):
    f = tmp_path / "aliases.tsv"
    f.write_text("# alias\tcanonical\n园区办\t市园区建设办公室\n", encoding="utf-8")
    _add_speech(ledger, "c.txt", [{"text": "园区办要牵头落实。", "units": [("园区办", "lead")]}])
    assert main(["ingest", "--db", ledger.url, "--aliases", str(f)]) == 0
    with ledger.session() as s:
        assert [u["canonical"] for u in find_tasks(s, TaskQuery(unit="园区建设"))[0]["units"]] == ["市园区建设办公室"]


# ---------------------------------------------------------------- due dates

@pytest.fixture
def dated(ledger):
    _add_speech(ledger, "d.txt", [
        {"text": "甲要7月底前完成。", "deadlines": [("7月底前", "2024-07-31")]},
        {"text": "乙要年底前完成。", "deadlines": [("年底前", "2024-12-31")]},
        {"text": "丙要X月底完成。", "deadlines": [("X月底", None)]},
        {"text": "丁要抓好落实。"},
        {"text": "戊要6月底和9月底分两步完成。", "deadlines": [("9月底", "2024-09-30"), ("6月底", "2024-06-30")]},
    ])
    return ledger


def _texts(ledger, **q) -> list[str]:
    with ledger.session() as s:
        return [r["text"][0] for r in find_tasks(s, TaskQuery(**q))]


@pytest.mark.parametrize("as_of, expected", [
    ("2024-06-30", []),                 # due today is not overdue
    ("2024-07-01", ["戊"]),
    ("2024-07-31", ["戊"]),
    ("2024-08-01", ["甲", "戊"]),        # the day after the deadline
    ("2025-01-01", ["甲", "乙", "戊"]),  # placeholders and undated tasks are never overdue
])
def test_overdue_at_date_boundaries(dated, as_of, expected):
    assert set(_texts(dated, overdue=True, as_of=dt.date.fromisoformat(as_of))) == set(expected)


def test_done_and_cancelled_tasks_are_not_overdue(dated):
    with dated.session() as s:
        rows = {r["text"][0]: r["id"] for r in find_tasks(s, TaskQuery())}
        set_status(s, rows["甲"], "done")
        set_status(s, rows["乙"], "cancelled")
    assert _texts(dated, overdue=True, as_of=dt.date(2025, 1, 1)) == ["戊"]
    assert _texts(dated, overdue=True, as_of=dt.date(2025, 1, 1), status=["done"]) == []


@pytest.mark.parametrize("as_of, days, expected", [
    ("2024-07-17", 14, ["甲"]),        # exactly 14 days ahead is inside the window
    ("2024-07-16", 14, []),
    ("2024-07-31", 0, ["甲"]),         # due today
    ("2024-06-30", 92, ["甲", "戊"]),   # window end 2024-09-30, inclusive
])
def test_due_within_window(dated, as_of, days, expected):
    assert set(_texts(dated, due_within=days, as_of=dt.date.fromisoformat(as_of))) == set(expected)


def test_due_before_and_after_are_inclusive(dated):
    assert set(_texts(dated, due_before=dt.date(2024, 7, 31))) == {"甲", "戊"}
    assert set(_texts(dated, due_after=dt.date(2024, 7, 31))) == {"乙", "甲"}
    assert _texts(dated, due_after=dt.date(2024, 8, 1), due_before=dt.date(2024, 12, 30)) == []


def test_overdue_without_as_of_is_refused_by_the_library(dated):
    with dated.session() as s, pytest.raises(LedgerError):
        find_tasks(s, TaskQuery(overdue=True))


def test_overdue_command_says_which_date_it_used(dated, capsys):
    assert main(["tasks", "--db", dated.url, "--overdue", "--format", "json"]) == 0
    assert "using today's date" in capsys.readouterr().err


# ---------------------------------------------------------------- other filters

def test_filters_by_status_speech_modality_specific_and_text(ledger):
    s1 = _add_speech(ledger, "e.txt", [
        {"text": "必须完成产业链规划编制。", "modality": "must"},
        {"text": "要认真领会。", "specific": False},
    ])
    s2 = _add_speech(ledger, "f.txt", [{"text": "力争新增规上企业10家。", "modality": "strive"}])
    with ledger.session() as s:
        assert len(find_tasks(s, TaskQuery(speech=[s1]))) == 2
        assert len(find_tasks(s, TaskQuery(speech=[s2]))) == 1
        assert [r["modality"] for r in find_tasks(s, TaskQuery(modality=["must", "strive"]))] == ["must", "strive"]
        assert len(find_tasks(s, TaskQuery(specific=True))) == 2
        assert len(find_tasks(s, TaskQuery(specific=False))) == 1
        assert len(find_tasks(s, TaskQuery(search=["产业链", "规划"]))) == 1
        assert find_tasks(s, TaskQuery(search=["100%"])) == []
        tid = find_tasks(s, TaskQuery(speech=[s2]))[0]["id"]
        set_status(s, tid, "in_progress")
        assert [r["id"] for r in find_tasks(s, TaskQuery(status=["in_progress"]))] == [tid]
        assert len(find_tasks(s, TaskQuery(status=["open"]))) == 2


# ---------------------------------------------------------------- exports

@pytest.fixture
def exportable(ledger):
    _add_speech(ledger, "g.txt", [
        {"text": "市工信局要牵头，财政局配合，7月底前编制完成规划，带逗号,和\"引号\"。",
         "units": [("市工信局", "lead"), ("财政局", "support")], "deadlines": [("7月底前", "2024-07-31")],
         "targets": [("15%以上", "规模工业增加值", 15, "%", ">=")]},
        {"text": "各县市区要新增“四上”企业X家以上。\n（多行）", "units": [("各县市区", "lead")],
         "targets": [("X家以上", "新增“四上”企业", None, "家", ">=")]},
    ], title="在全市工业经济运行调度会议上的讲话")
    with ledger.session() as s:
        first = find_tasks(s, TaskQuery())[0]["id"]
        set_status(s, first, "done", note="已完成规划编制", by="督查室")
        return ledger, find_tasks(s, TaskQuery())


COLUMNS = ["序号", "任务内容", "牵头单位", "配合单位", "完成时限", "剩余或逾期天数", "预警", "目标值", "来源讲话",
           "状态", "进展"]


def _check_ledger_rows(read_back: list[dict], rows: list[dict]) -> None:
    assert len(read_back) == len(rows)
    for n, (got, row) in enumerate(zip(read_back, rows), 1):
        assert list(got)[:11] == COLUMNS
        assert str(got["序号"]) == str(n)
        assert str(got["任务ID"]) == str(row["id"])
        assert got["任务内容"] == row["text"]
        assert got["状态"] == STATUS_LABELS[row["status"]]
        assert (got["进展"] or "") == (row["progress"] or "")
        assert got["牵头单位"] == "、".join(u["canonical"] for u in row["units"] if u["role"] == "lead")
    assert read_back[0]["配合单位"] == "市财政局"
    assert "2024-07-31" in str(read_back[0]["完成时限"])
    assert "15" in read_back[0]["目标值"] and "X" in read_back[1]["目标值"]
    assert "在全市工业经济运行调度会议上的讲话" in read_back[0]["来源讲话"]


def test_csv_round_trip(exportable, tmp_path):
    ledger, rows = exportable
    out = tmp_path / "tasks.csv"
    assert main(["tasks", "--db", ledger.url, "--format", "csv", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")      # BOM: Excel reads it as UTF-8
    _check_ledger_rows(read_csv(out), rows)


def test_xlsx_round_trip(exportable, tmp_path):
    ledger, rows = exportable
    out = tmp_path / "overdue.xlsx"
    assert main(["tasks", "--db", ledger.url, "--format", "xlsx", "-o", str(out)]) == 0
    _check_ledger_rows(read_xlsx(out), rows)


def test_json_is_an_array_of_task_objects_with_ids(exportable, capsys):
    ledger, rows = exportable
    assert main(["tasks", "--db", ledger.url, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and [d["id"] for d in data] == [r["id"] for r in rows]
    for d in data:
        assert {"start", "end", "text", "modality", "specific", "units", "deadlines", "targets",
                "status", "speech_id"} <= set(d)
    assert data[1]["targets"][0]["value"] is None and data[1]["targets"][0]["placeholder"] is True


def test_xlsx_needs_an_output_file(exportable):
    assert main(["tasks", "--db", exportable[0].url, "--format", "xlsx"]) == 2


# ---------------------------------------------------------------- status and history

def test_status_history_is_append_only_and_shown(ledger, capsys):
    _add_speech(ledger, "h.txt", [{"text": "要完成规划编制。"}])
    with ledger.session() as s:
        tid = s.scalar(select(Task.id))
    assert main(["status", str(tid), "in_progress", "--note", "已完成初稿", "--by", "市工信局",
                 "--db", ledger.url]) == 0
    assert main(["status", str(tid), "done", "--note", "已完成规划编制", "--by", "督查室", "--db", ledger.url]) == 0
    capsys.readouterr()
    assert main(["history", str(tid), "--db", ledger.url]) == 0
    out = capsys.readouterr().out
    assert out.index("open -> in_progress") < out.index("in_progress -> done")
    assert "已完成规划编制" in out and "督查室" in out
    assert _count(ledger, StatusEvent) == 2
    with ledger.session() as s:
        assert s.get(Task, tid).status == "done"


def test_status_of_unknown_task_is_a_clear_error(ledger, capsys):
    assert main(["status", "999", "done", "--by", "督查室", "--db", ledger.url]) == 2
    assert "no task with id 999" in capsys.readouterr().err
    with ledger.session() as s, pytest.raises(LedgerError):
        set_status(s, 1, "finished")


# ---------------------------------------------------------------- trend

def test_unit_trend_follows_speech_dates(ledger, tmp_path):
    _add_speech(ledger, "late.txt", [
        {"text": "工信局要牵头抓好运行。", "units": [("工信局", "lead")], "deadlines": [("年底", "2024-12-31")]},
        {"text": "工信局要配合做好调度。", "units": [("工信局", "support")]},
    ], date="2024-07-04")
    _add_speech(ledger, "early.txt", [{"text": "市工信局要编制规划。", "units": [("市工信局", "lead")]}],
                date="2023-02-01")
    _add_speech(ledger, "other.txt", [{"text": "财政局要保障资金。", "units": [("财政局", "lead")]}],
                date="2023-06-01")
    with ledger.session() as s:
        rows = unit_trend(s, "工信局")
    assert [(r["date"], r["tasks"], r["lead"], r["support"], r["with_deadline"]) for r in rows] == \
        [("2023-02-01", 1, 1, 0, 0), ("2024-07-04", 2, 1, 1, 1)]
    png = tmp_path / "unit.png"
    assert main(["trend", "--unit", "工信局", "--db", ledger.url, "--plot", str(png), "--format", "csv",
                 "-o", str(tmp_path / "u.csv")]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(read_csv(tmp_path / "u.csv")) == 2


def test_metric_trend_lists_targets_in_date_order(ledger, tmp_path, capsys):
    _add_speech(ledger, "m2.txt", [{"text": "规模工业增加值增长X%以上。",
                                    "targets": [("X%以上", "规模工业增加值", None, "%", ">=")]}], date="2024-07-04")
    _add_speech(ledger, "m1.txt", [{"text": "规模工业增加值增长15%以上。",
                                    "targets": [("15%以上", "规模工业增加值", 15, "%", ">=")]}], date="2023-01-10")
    with ledger.session() as s:
        rows = metric_trend(s, "工业增加值")
    assert [(r["date"], r["value"], r["placeholder"]) for r in rows] == [("2023-01-10", 15, False),
                                                                         ("2024-07-04", None, True)]
    png = tmp_path / "metric.png"
    assert main(["trend", "--metric", "增加值", "--db", ledger.url, "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert "2023-01-10" in capsys.readouterr().out


# ---------------------------------------------------------------- commands and defaults

def test_commands_end_to_end(db_url, tmp_path, capsys):
    src = tmp_path / "s.txt"
    src.write_text(SPEECH, encoding="utf-8")
    assert main(["ingest", str(src), "--db", db_url, "--jobs", "1"]) == 0
    assert "1 speech (" in capsys.readouterr().err
    assert main(["speeches", "--db", db_url, "--format", "json"]) == 0
    speeches = json.loads(capsys.readouterr().out)
    assert len(speeches) == 1 and speeches[0]["tasks"] == len(Pipeline().run_file(src).speeches[0].tasks)
    assert main(["tasks", "--db", db_url, "--speech", str(speeches[0]["id"])]) == 0
    assert main(["tasks", "--db", db_url, "--status", "open", "--unit", "工信局", "--due-before", "2024-12-31"]) == 0
    assert main(["trend", "--unit", "工信局", "--db", db_url]) == 0


def test_ledger_url_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("SPEECHLEDGER_DB", raising=False)
    assert resolve_url(None) == "sqlite:///outputs/ledger.sqlite"
    assert resolve_url("x/l.sqlite") == "sqlite:///x/l.sqlite"
    monkeypatch.setenv("SPEECHLEDGER_DB", f"sqlite:///{tmp_path}/env/l.sqlite")
    assert resolve_url(None).endswith("/env/l.sqlite")
    with open_ledger() as led:       # the folder is created
        with led.session() as s:
            assert list_speeches(s) == []
    assert (tmp_path / "env" / "l.sqlite").exists()


def test_task_list_view_is_readable(ledger):
    _add_speech(ledger, "v.txt", [{"text": "市工信局要7月底前完成。", "units": [("市工信局", "lead")],
                                   "deadlines": [("7月底前", "2024-07-31")]}])
    with ledger.session() as s:
        row = s.execute(text("SELECT task, lead_units, due, status FROM task_list")).one()
    assert row[0] == "市工信局要7月底前完成。" and row[1] == "市工业和信息化局"
    assert str(row[2]) == "2024-07-31" and row[3] == "open"


def test_alembic_schema_matches_the_models(ledger):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from speechledger.ledger.models import Base
    with ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


# ---------------------------------------------------------------- property: round trip

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=60)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.text(max_size=10).filter(lambda s: "\x00" not in s and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)),
       task=_TEXT, unit=_TEXT)
def test_any_text_round_trips_through_the_ledger(tmp_path_factory, before, task, unit):
    text = before + task + unit
    start = len(before)
    rec = _record([{"start": start, "end": start + len(task), "text": task, "modality": "should",
                    "specific": False, "segment": 0, "heading": None,
                    "units": [{"start": start + len(task), "end": len(text), "text": unit, "role": "lead"}],
                    "deadlines": [], "targets": []}])
    db = tmp_path_factory.mktemp("rt") / "l.sqlite"
    with open_ledger(f"sqlite:///{db}") as led:
        ingest_records(led, "/virtual/rt.txt", text, [rec])
        with led.session() as s:
            sid = s.scalar(select(Speech.id))
    got = load_speech_record(f"sqlite:///{db}", sid)
    assert got["text"] == text
    (t,) = got["tasks"]
    assert got["text"][t["start"]:t["end"]] == t["text"] == task
    assert t["units"][0]["text"] == unit.strip() or t["units"][0]["text"] == unit
