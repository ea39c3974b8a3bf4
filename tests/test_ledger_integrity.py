"""Ledger integrity (issue 10): bad input, limits, append-only history, wildcards, drivers,
files changed back, re-ingest of edited sources (issue 11), and the full record round trip
(issue 9 point 4). Concurrency lives in test_ledger_concurrency.py."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from test_ledger import _add_speech, _record, _task, db_url, ledger  # noqa: F401  (fixtures)

from speechledger.api import Pipeline, records
from speechledger.batch import ingest
from speechledger.ledger import ingest as ingest_mod
from speechledger.ledger.api import speech_record
from speechledger.ledger.db import LedgerError, open_ledger
from speechledger.ledger.ingest import ingest_records
from speechledger.ledger.models import Speech, StatusEvent, Task
from speechledger.ledger.queries import TaskQuery, find_tasks
from speechledger.ledger.status import history, set_status
from speechledger.records import FIELDS

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "texts" / "speeches2024.txt"


def _current_tasks(ledger, name: str) -> list:
    with ledger.session() as s:
        return s.execute(select(Task.id, Task.text, Task.status, Task.lineage_id)
                         .join(Speech, Speech.id == Task.speech_id)
                         .where(Speech.source == str(Path("/virtual") / name), Speech.current)
                         .order_by(Task.position)).all()


def _ingest_text(ledger, name, lines):
    text = "".join(line + "\n" for line in lines)
    starts = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]
    return ingest_records(ledger, Path("/virtual") / name, text,
                          [_record([_task(t, st) for t, st in zip(lines, starts)])])


# ---------------------------------------------------------------- point 2: A -> B -> A -> B

def test_file_changed_back_and_forth_always_holds_the_current_content(ledger):
    a = ["市工信局要牵头编制产业链发展规划。", "各县市区必须建立重点项目库。"]
    b = ["市工信局要牵头编制产业链发展规划。", "督查室要每月通报一次进展情况。"]
    for content in (a, b, a, b, a):
        _ingest_text(ledger, "flip.txt", content)
        assert [t.text for t in _current_tasks(ledger, "flip.txt")] == content


# ---------------------------------------------------------------- point 10, 11: checks before writing

def test_nul_character_is_one_error_naming_the_file_and_the_batch_goes_on(ledger, tmp_path):
    bad = tmp_path / "utf16.txt"
    bad.write_text("一、要抓好产业链建设。\x00市工信局要牵头编制规划。\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(CORPUS.read_text(encoding="utf-8")[:3000], encoding="utf-8")
    summary = ingest(ledger, [bad, good], extractors="rules", progress=False, report=lambda m: None)
    assert len(summary.errors) == 1
    assert str(bad) in summary.errors[0] and "NUL" in summary.errors[0]
    assert "\n" not in summary.errors[0]
    with ledger.session() as s:
        sources = set(s.scalars(select(Speech.source)))
    assert str(good) in sources and str(bad) not in sources


def test_over_long_unit_name_is_refused_before_anything_is_written(ledger):
    long_unit = "市" * 150 + "工信局" * 20
    with pytest.raises(LedgerError, match="at most 200"):
        _add_speech(ledger, "long.txt", [dict(text=f"{long_unit}要牵头编制规划。", units=[(long_unit, "lead")])])
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(Speech)) == 0


@pytest.mark.parametrize("field,value", [("by", "张" * 101), ("note", "进" * 2001), ("note", "a\x00b")])
def test_status_note_and_name_limits_are_the_same_on_every_backend(ledger, field, value):
    sid = _add_speech(ledger, "s.txt", [dict(text="市工信局要牵头编制规划。", units=[("市工信局", "lead")])])
    with ledger.session() as s:
        tid = s.scalar(select(Task.id).where(Task.speech_id == sid))
    with pytest.raises(LedgerError):
        with ledger.session() as s:
            set_status(s, tid, "done", **{field: value})
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(StatusEvent)) == 0
        set_status(s, tid, "done", note="进" * 2000, by="张" * 100)    # the limits themselves are fine


def test_status_history_is_append_only_in_the_database(ledger):
    sid = _add_speech(ledger, "s.txt", [dict(text="市工信局要牵头编制规划。")])
    with ledger.session() as s:
        tid = s.scalar(select(Task.id).where(Task.speech_id == sid))
        set_status(s, tid, "done", note="完成", by="办公室")
    for sql in ("UPDATE status_events SET status = 'open'", "DELETE FROM status_events"):
        with pytest.raises(Exception, match="append-only"):
            with ledger.engine.begin() as conn:
                conn.execute(text(sql))
    with ledger.session() as s:
        assert [e.status for e in s.scalars(select(StatusEvent))] == ["done"]


# ---------------------------------------------------------------- point 11: wildcards, driver

def test_unit_wildcards_are_literal(ledger):
    _add_speech(ledger, "u.txt", [dict(text="市工信局要牵头编制规划。", units=[("市工信局", "lead")]),
                                  dict(text="市财政局要保障资金。", units=[("市财政局", "lead")])])
    with ledger.session() as s:
        assert find_tasks(s, TaskQuery(unit="%")) == []
        assert find_tasks(s, TaskQuery(unit="_")) == []
        assert len(find_tasks(s, TaskQuery(unit="工信"))) == 1


def test_postgres_url_without_a_driver_names_the_extra(monkeypatch):
    for mod in ("psycopg2", "psycopg"):
        monkeypatch.setitem(sys.modules, mod, None)     # import fails as when not installed
    with pytest.raises(LedgerError) as e:
        open_ledger("postgresql://user@127.0.0.1:1/none")
    assert "pip install 'speechledger[postgres]'" in str(e.value)
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------- issue 11: edited sources

def test_reworded_task_keeps_lineage_and_status_and_summary_lists_changes(ledger):
    old = ["全年新增规模以上工业企业150家。", "各县市区必须建立重点项目库。", "督查室要每月通报一次进展情况。"]
    new = ["全年新增规模以上工业企业160家。", "各县市区必须建立重点项目库。"]
    _ingest_text(ledger, "edit.txt", old)
    before = _current_tasks(ledger, "edit.txt")
    with ledger.session() as s:
        set_status(s, before[0].id, "done", note="已完成", by="办公室")
        set_status(s, before[2].id, "in_progress", by="督查室")
    summary = _ingest_text(ledger, "edit.txt", new)
    after = _current_tasks(ledger, "edit.txt")
    assert after[0].lineage_id == before[0].lineage_id and after[0].status == "done"
    assert [c.old_task_id for c in summary.carried_over] == [before[0].id]
    assert summary.carried_over[0].task_id == after[0].id
    assert [c.old_task_id for c in summary.dropped] == [before[2].id]
    assert summary.reopened == []
    assert any("dropped" in line for line in summary.status_changes())
    with ledger.session() as s:
        h = history(s, after[0].id)
    assert [e["status"] for e in h["events"]] == ["done"]


def test_a_task_reworded_beyond_the_keep_threshold_is_reopened_with_an_event(ledger, monkeypatch):
    _ingest_text(ledger, "re.txt", ["全年新增规模以上工业企业150家。"])
    (t,) = _current_tasks(ledger, "re.txt")
    with ledger.session() as s:
        set_status(s, t.id, "done", by="办公室")
    monkeypatch.setattr(ingest_mod, "KEEP_STATUS", 1.01)
    summary = _ingest_text(ledger, "re.txt", ["全年新增规模以上工业企业160家。"])
    (n,) = _current_tasks(ledger, "re.txt")
    assert n.lineage_id == t.lineage_id and n.status == "open"
    assert [c.old_task_id for c in summary.reopened] == [t.id]
    with ledger.session() as s:
        events = history(s, n.id)["events"]
    assert [(e["status"], e["previous"]) for e in events] == [("done", "open"), ("open", "done")]


# ---------------------------------------------------------------- issue 9.4: every field round-trips

def _strip_ledger(rec: dict) -> dict:
    rec = {k: v for k, v in rec.items() if k not in ("id", "version", "text")}
    rec["tasks"] = [{k: v for k, v in t.items() if k not in ("id", "status")} for t in rec["tasks"]]
    return rec


def test_extract_ledger_export_gives_back_every_field(ledger):
    pipe = Pipeline(extractors="rules")
    doc = pipe.run_file(CORPUS)
    want = records(doc)
    summary = ingest(ledger, [CORPUS], extractors="rules", progress=False)
    assert not summary.errors
    with ledger.session() as s:
        speeches = list(s.scalars(select(Speech).where(Speech.current).order_by(Speech.speech_index)))
        got = [_strip_ledger(speech_record(s, sp)) for sp in speeches]
    assert len(got) == len(want) > 0
    assert any(t["segment"] > 0 for r in got for t in r["tasks"])
    assert any(h["marker"] for r in got for h in r["headings"])
    for g, w in zip(got, want):
        assert set(g) == set(FIELDS["speech"])
        assert all(set(t) == set(FIELDS["task"]) for t in g["tasks"])
        w = dict(w, source=str(CORPUS))
        assert g == w


def test_rule_ids_of_every_item_round_trip(ledger):
    t = _task("市工信局要牵头编制规划，7月底前完成，新增企业10家。", 0, units=[("市工信局", "lead")],
              deadlines=[("7月底前", "2024-07-31")], targets=[("10家", "新增企业", 10, "家", ">=")])
    t["rules"] = ["task.yao", "task.verb"]
    t["units"][0]["rules"] = ["unit.lex"]
    t["deadlines"][0]["rules"] = ["deadline.month_end"]
    t["targets"][0]["rules"] = ["target.count"]
    ingest_records(ledger, "/virtual/rules.txt", t["text"] + "\n", [_record([t])])
    with ledger.session() as s:
        (task,) = speech_record(s, s.scalar(select(Speech).where(Speech.current)))["tasks"]
    assert task["rules"] == ["task.yao", "task.verb"]
    assert [x["rules"] for k in ("units", "deadlines", "targets") for x in task[k]] == [
        ["unit.lex"], ["deadline.month_end"], ["target.count"]]
