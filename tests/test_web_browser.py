"""Browser tests: the real server (uvicorn on 127.0.0.1) driven by Debian's Chromium through Playwright.

Never run `playwright install`: the tests use /usr/bin/chromium (apt-get install chromium). Under CI
they fail when it is missing; locally they skip.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SPEECHLEDGER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _need(what: str, ok: bool) -> None:
    if not ok:
        msg = f"browser tests need {what}"
        if os.environ.get("CI"):
            pytest.fail(msg + " (CI must install it)")
        pytest.skip(msg)


_need("pytest-playwright (pip install -e '.[test]')", __import__("importlib").util.find_spec("playwright") is not None)

from web_helpers import AS_OF, PASSWORD, make_ledger, task_ids  # noqa: E402


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    _need(f"Chromium at {CHROMIUM} (apt-get install -y chromium)", Path(CHROMIUM).exists())
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-default-apps"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from speechledger.web.app import create_app
    tmp = tmp_path_factory.mktemp("web")
    ledger = make_ledger(f"sqlite:///{tmp / 'ledger.sqlite'}")
    app = create_app(ledger=ledger, as_of=AS_OF, upload_dir=tmp / "uploads", secret="browser-test")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", ledger
    srv.should_exit = True
    thread.join(5)
    ledger.close()


def _login(page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_supervisor_filters_opens_task_and_reports_progress(server, page):
    base, ledger = server
    _login(page, base, "duban")
    page.click("nav >> text=台账")
    assert page.locator("#total").inner_text() == "3"
    page.fill("input[name=unit]", "工信局")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r".*unit=.*"))
    assert page.locator("#total").inner_text() == "1"
    page.click("table.ledger td.text a")
    assert page.locator(".source .unit-lead").first.inner_text() == "区工信局"
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=note]", "浏览器测试：规划初稿已完成")
    page.click(".progress-form button[type=submit]")
    history = page.locator("#history")
    assert "浏览器测试：规划初稿已完成" in history.inner_text()
    assert "duban" in history.inner_text()


def test_unit_user_is_refused_another_units_task(server, page):
    base, ledger = server
    ids = task_ids(ledger)
    _login(page, base, "gx")
    resp = page.goto(f"{base}/tasks/{ids['住建局']}")
    assert resp.status == 403
    assert "无权访问" in page.inner_text("h1")
    resp = page.goto(f"{base}/tasks/{ids['工信局']}")
    assert resp.status == 200 and page.locator(".progress-form").count() == 1
