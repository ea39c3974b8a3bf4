"""HTTP-level tests of the web app: login, roles, CSRF, escaping, 403, the JSON API, exports, review."""
from __future__ import annotations

import io
import json
import re

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402
from web_helpers import AS_OF, PASSWORD, make_ledger, task_ids  # noqa: E402


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """The sample ledger built once (argon2 hashing and migrations are slow); each test gets a copy."""
    path = tmp_path_factory.mktemp("tpl") / "ledger.sqlite"
    make_ledger(f"sqlite:///{path}").close()
    return path


@pytest.fixture()
def ledger(template_db, tmp_path):
    import shutil

    from speechledger.ledger.db import open_ledger
    shutil.copy(template_db, tmp_path / "ledger.sqlite")
    led = open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    yield led
    led.close()


@pytest.fixture()
def app(ledger, tmp_path):
    from speechledger.web.app import create_app
    return create_app(ledger=ledger, as_of=AS_OF, upload_dir=tmp_path / "uploads", secret="test-secret")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def client(app, name: str | None = None, password: str = PASSWORD) -> TestClient:
    c = TestClient(app)
    if name:
        r = c.get("/login")
        r = c.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(r.text)},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
    return c


def test_pages_need_login(app):
    c = client(app)
    r = c.get("/tasks", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert c.get("/api/tasks").status_code == 401


def test_session_cookie_is_httponly_and_lax(app):
    c = TestClient(app)
    r = c.get("/login")
    r = c.post("/login", data={"username": "duban", "password": PASSWORD, "csrf_token": csrf_of(r.text)},
               follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "sl_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_login_needs_csrf_and_locks_after_failures(app):
    c = TestClient(app)
    c.get("/login")
    assert c.post("/login", data={"username": "duban", "password": PASSWORD}).status_code == 403
    for _ in range(5):
        r = c.get("/login")
        assert c.post("/login", data={"username": "duban", "password": "wrong-password",
                                      "csrf_token": csrf_of(r.text)}).status_code == 401
    r = c.get("/login")
    r = c.post("/login", data={"username": "duban", "password": PASSWORD, "csrf_token": csrf_of(r.text)})
    assert r.status_code == 429 and "分钟后再试" in r.text


def test_ledger_filters_counts_and_colours(app, ledger):
    c = client(app, "look")
    r = c.get("/tasks")
    assert r.status_code == 200 and 'id="total">3<' in r.text
    assert "台账" in r.text and "逾期" in r.text          # Chinese interface, legend
    r = c.get("/tasks", params={"unit": "工信局"})
    assert 'id="total">1<' in r.text and "产业链规划编制" in r.text and "老旧小区" not in r.text
    r = c.get("/tasks", params={"overdue": "1", "as_of": "2024-07-01"})
    assert 'id="total">1<' in r.text and "row-red" in r.text
    r = c.get("/tasks", params={"q": "安全生产检查"})
    assert 'id="total">1<' in r.text and "row-grey" in r.text
    assert c.get("/tasks", params={"due_before": "2024-13-01"}).status_code == 400
    r = c.get("/tasks", params={"as_of": "2024-02-30"})
    assert r.status_code == 400 and "as_of" in r.text


def test_speech_text_is_escaped(app, ledger):
    c = client(app, "duban")
    tid = task_ids(ledger)["住建局"]
    for page in (f"/tasks/{tid}", "/tasks"):
        html = c.get(page).text
        assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.get(f"/tasks/{tid}").text


def test_task_page_highlights_the_source(app, ledger):
    c = client(app, "duban")
    html = c.get(f"/tasks/{task_ids(ledger)['工信局']}").text
    assert '<span class="task unit-lead">区工信局</span>' in html
    assert '<span class="task deadline">6月底前</span>' in html
    assert '<span class="task target">新增规上企业10家以上</span>' in html
    assert "一、抓好产业发展" in html                          # heading path


def test_unit_user_reports_progress_only_on_its_tasks(app, ledger):
    ids = task_ids(ledger)
    c = client(app, "gx")
    page = c.get(f"/tasks/{ids['工信局']}")
    assert page.status_code == 200
    token = csrf_of(page.text)
    r = c.post(f"/tasks/{ids['工信局']}/status", data={"status": "in_progress", "note": "规划初稿已完成",
                                                       "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert "规划初稿已完成" in c.get(f"/tasks/{ids['工信局']}").text
    # another unit's task: 403 on the page and on the form
    assert c.get(f"/tasks/{ids['住建局']}").status_code == 403
    assert c.post(f"/tasks/{ids['住建局']}/status", data={"status": "in_progress", "note": "x",
                                                         "csrf_token": token}).status_code == 403
    # a unit cannot close (销号), but may ask for it
    assert c.post(f"/tasks/{ids['工信局']}/status", data={"status": "done", "csrf_token": token}).status_code == 403
    c.post(f"/tasks/{ids['工信局']}/status", data={"status": "close_request", "note": "已完成",
                                                  "csrf_token": token})
    from speechledger.ledger.status import history
    with ledger.session() as s:
        h = history(s, ids["工信局"])
    assert h["status"] == "in_progress"
    assert [(e["by"], e["status"]) for e in h["events"]] == [("gx", "in_progress"), ("gx", "in_progress")]
    assert "申请销号" in h["events"][-1]["note"]
    # the supervisor finds the request on the overview
    assert "申请销号" in client(app, "duban").get("/").text
    # the unit's 台账 and API show only its tasks
    assert c.get("/api/tasks").json()["total"] == 1


def test_supervisor_closes_and_history_has_the_name(app, ledger):
    tid = task_ids(ledger)["住建局"]
    c = client(app, "duban")
    token = csrf_of(c.get(f"/tasks/{tid}").text)
    c.post(f"/tasks/{tid}/status", data={"status": "done", "note": "已验收", "csrf_token": token})
    from speechledger.ledger.status import history
    with ledger.session() as s:
        ev = history(s, tid)["events"][-1]
    assert (ev["status"], ev["by"], ev["note"]) == ("done", "duban", "已验收")


def test_viewer_cannot_post(app, ledger):
    tid = task_ids(ledger)["应急局"]
    c = client(app, "look")
    page = c.get(f"/tasks/{tid}")
    assert page.status_code == 200 and "报送进展" not in page.text
    r = c.post(f"/tasks/{tid}/status", data={"status": "done", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 403


def test_post_without_csrf_is_refused(app, ledger):
    tid = task_ids(ledger)["应急局"]
    c = client(app, "duban")
    assert c.post(f"/tasks/{tid}/status", data={"status": "done"}).status_code == 403
    assert c.post(f"/tasks/{tid}/status", data={"status": "done", "csrf_token": "forged"}).status_code == 403
    from speechledger.ledger.status import history
    with ledger.session() as s:
        assert history(s, tid)["events"] == []


def test_json_api_filters(app, ledger):
    c = client(app, "look")
    body = c.get("/api/tasks", params={"unit": "住建局"}).json()
    assert body["total"] == 1 and body["tasks"][0]["due"] == "2024-09-30"
    assert body["tasks"][0]["units"][0]["canonical"].endswith("住建局")
    body = c.get("/api/tasks", params={"overdue": "1", "as_of": "2024-07-01"}).json()
    assert [t["text"][:4] for t in body["tasks"]] == ["区工信局"] and body["colours"]["red"] == 1
    assert c.get("/api/tasks", params={"status": "nope"}).status_code == 400


def test_export_current_view_without_live_formulas(app, ledger):
    from speechledger.ledger.status import set_status
    tid = task_ids(ledger)["工信局"]
    with ledger.session() as s:
        set_status(s, tid, "in_progress", note="=HYPERLINK(\"http://x\",\"y\")", by="t")
    c = client(app, "look")
    r = c.get("/tasks/export.csv", params={"unit": "工信局"})
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert "产业链规划编制" in text and "老旧小区" not in text and "'=HYPERLINK" in text
    r = c.get("/tasks/export.xlsx", params={"unit": "工信局"})
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("产业链规划编制" in v for v in values)
    assert not any(v.startswith("=") for v in values)


def test_overview_page(app):
    c = client(app, "look")
    html = c.get("/").text
    assert "每月到期任务" in html and "<svg" in html and "逾期任务" in html and "区工信局" in html


def test_speeches_and_outline(app, ledger):
    c = client(app, "look")
    assert "2024年全区工业工作会议讲话" in c.get("/speeches").text
    with ledger.session() as s:
        from speechledger.ledger.queries import list_speeches
        sid = list_speeches(s)[0]["id"]
    html = c.get(f"/speeches/{sid}").text
    assert "二、抓好安全生产" in html and "产业链规划编制" in html


def test_upload_review_and_corrections_export(app, ledger, tmp_path, capsys):
    c = client(app, "duban")
    token = csrf_of(c.get("/speeches").text)
    src = "市长在全市经济工作会议上的讲话\n一、稳增长\n市发改委要在12月底前完成项目储备库建设。\n".encode()
    r = c.post("/speeches/upload", data={"csrf_token": token, "date": "2024-05-01"},
               files={"file": ("经济会议.txt", src, "text/plain")})
    assert r.status_code == 200 and "待审核" in r.text, r.text
    from sqlalchemy import select

    from speechledger.ledger.models import Task, TaskReview
    with ledger.session() as s:
        pending = list(s.scalars(select(TaskReview.task_id).where(TaskReview.state == "pending")))
        speech_id = s.get(Task, pending[0]).speech_id
    assert pending
    # pending tasks are not published
    assert c.get("/api/tasks", params={"speech": speech_id}).json()["total"] == 0
    # same upload again: idempotent
    r = c.post("/speeches/upload", data={"csrf_token": token, "date": "2024-05-01"},
               files={"file": ("经济会议.txt", src, "text/plain")})
    assert "未重复导入" in r.text
    # a unit user may not review
    u = client(app, "gx")
    assert u.post(f"/tasks/{pending[0]}/review", data={"action": "confirm",
                                                     "csrf_token": csrf_of(u.get("/tasks").text)}).status_code == 403
    tid = pending[0]
    page = c.get(f"/speeches/{speech_id}/review").text
    with ledger.session() as s:
        text = s.get(Task, tid).text
    assert "项目储备库" in text
    r = c.post(f"/tasks/{tid}/review", data={"action": "edit", "csrf_token": csrf_of(page),
                                            "units": "市发改委 配合", "deadlines": "12月底前 2024-12-31",
                                            "targets": ""})
    assert r.status_code == 200
    body = c.get("/api/tasks", params={"speech": speech_id}).json()
    assert body["total"] == 1 and body["tasks"][0]["due"] == "2024-12-31"
    assert [(u["text"], u["role"]) for u in body["tasks"][0]["units"]] == [("市发改委", "support")]
    # a unit not in the text is refused, nothing changes
    r = c.post(f"/tasks/{tid}/review", data={"action": "edit", "csrf_token": csrf_of(page),
                                            "units": "市财政局 牵头", "deadlines": "", "targets": ""})
    assert r.status_code == 400 and "不在任务原文中" in r.text
    from speechledger.cli import main
    out = tmp_path / "gold.jsonl"
    assert main(["corrections", "export", "-o", str(out), "--db", ledger.url]) == 0
    gold = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(gold) == 1
    g = gold[0]
    assert g["doc"] == "经济会议" and g["units"] == [{"text": "市发改委", "role": "support", "occ": 0}]
    assert g["deadlines"][0]["text"] == "12月底前" and g["deadlines"][0]["due"] == "2024-12-31"
    with ledger.session() as s:
        from speechledger.ledger.models import Document
        doc = s.scalars(select(Document).order_by(Document.id.desc())).first().text
    assert doc[g["start"]:g["end"]] == text
    # `seg` and the span are the referee's segment, so score.py reads the export as gold
    from speechledger.referee.segments import split
    seg = split(doc)[g["seg"]]
    assert (seg.start, seg.end) == (g["start"], g["end"])
    assert main(["corrections", "list", "--db", ledger.url]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["action"], x["by"]) for x in lines] == [("edit", "duban")]
    assert [(u["text"], u["role"]) for u in lines[0]["after"]["units"]] == [("市发改委", "support")]
    assert lines[0]["before"] != lines[0]["after"]


def test_review_reject_and_merge(app, ledger):
    from sqlalchemy import select

    from speechledger.ledger.models import Task
    from speechledger.web.data import mark_pending
    with ledger.session() as s:
        sid = s.scalars(select(Task.speech_id)).first()
        mark_pending(s, [sid])
    ids = task_ids(ledger)
    c = client(app, "duban")
    assert c.get("/api/tasks").json()["total"] == 0
    token = csrf_of(c.get(f"/speeches/{sid}/review").text)
    c.post(f"/tasks/{ids['工信局']}/review", data={"action": "merge", "csrf_token": token})
    c.post(f"/tasks/{ids['应急局']}/review", data={"action": "reject", "csrf_token": token})
    tasks = c.get("/api/tasks").json()["tasks"]
    assert [t["id"] for t in tasks] == [ids["工信局"]]
    merged = tasks[0]
    assert "产业链" in merged["text"] and "老旧小区" in merged["text"]
    assert {u["text"] for u in merged["units"]} == {"区工信局", "区发改委", "区住建局"}
    with ledger.session() as s:
        doc = s.get(Task, merged["id"]).speech.document.text
    assert doc[merged["start"]:merged["end"]] == merged["text"]
    for u in merged["units"]:
        assert doc[u["start"]:u["end"]] == u["text"]


def test_users_command(tmp_path, capsys, monkeypatch):
    from speechledger.cli import main
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "gx", "--role", "unit", "--unit", "工信局", "--password-stdin", "--db", db]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "x", "--role", "viewer", "--password-stdin", "--db", db]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "y", "--role", "unit", "--password-stdin", "--db", db]) == 2
    assert main(["users", "disable", "gx", "--db", db]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "gx\tunit\t工信局\tdisabled" in out
    from sqlalchemy import select

    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.models import User
    with open_ledger(db) as led, led.session() as s:
        h = s.scalars(select(User.password_hash)).one()
    assert h.startswith("$argon2") and "a-long-password" not in h


def test_disabled_user_is_logged_out(app, ledger):
    c = client(app, "look")
    assert c.get("/api/tasks").status_code == 200
    from speechledger.web.auth import disable_user
    with ledger.session() as s:
        disable_user(s, "look")
    assert c.get("/api/tasks").status_code == 401


def test_confirm_all_pending_tasks_of_a_speech(app, ledger):
    from sqlalchemy import select

    from speechledger.ledger.models import Correction, Task
    from speechledger.web.data import mark_pending
    with ledger.session() as s:
        sid = s.scalars(select(Task.speech_id)).first()
        mark_pending(s, [sid])
    c = client(app, "duban")
    assert c.get("/api/tasks").json()["total"] == 0
    page = c.get(f"/speeches/{sid}/review").text
    assert "确认全部待审核任务（3 项）" in page
    c.post(f"/speeches/{sid}/review", data={"csrf_token": csrf_of(page)})
    assert c.get("/api/tasks").json()["total"] == 3
    with ledger.session() as s:
        assert [x.by for x in s.scalars(select(Correction))] == ["duban"] * 3


@pytest.mark.postgres
def test_ledger_pages_on_postgresql(tmp_path):
    import os
    url = os.environ.get("SPEECHLEDGER_PG_URL")
    if not url:
        if os.environ.get("SPEECHLEDGER_REQUIRE_PG"):
            pytest.fail("SPEECHLEDGER_PG_URL is not set")
        pytest.skip("SPEECHLEDGER_PG_URL is not set (scripts/ci_postgres.sh sets it)")
    from sqlalchemy import create_engine, text
    eng = create_engine(url)
    with eng.begin() as conn:          # a fresh schema for this test
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()
    from speechledger.web.app import create_app
    led = make_ledger(url)
    try:
        app = create_app(ledger=led, as_of=AS_OF, upload_dir=tmp_path, secret="pg")
        c = client(app, "duban")
        assert 'id="total">3<' in c.get("/tasks").text
        body = c.get("/api/tasks", params={"overdue": "1", "as_of": "2024-07-01"}).json()
        assert body["total"] == 1 and body["colours"]["red"] == 1
        assert "每月到期任务" in c.get("/").text
        tid = task_ids(led)["工信局"]
        c.post(f"/tasks/{tid}/status", data={"status": "done", "note": "完成",
                                            "csrf_token": csrf_of(c.get(f"/tasks/{tid}").text)})
        assert c.get("/api/tasks", params={"status": "done"}).json()["total"] == 1
    finally:
        led.close()
