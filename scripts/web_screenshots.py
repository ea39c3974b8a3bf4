"""Screenshots of each web page with Chinese data, for looking at the app and for the README.

    python scripts/web_screenshots.py OUT_DIR [--speech corpus/texts/speeches2024.txt] [--as-of 2024-10-01]

Ingests the speech into a temp ledger, confirms its tasks, records some progress,
serves the app on 127.0.0.1 and saves full-page PNGs with Debian's Chromium
(/usr/bin/chromium; fonts-noto-cjk for the Chinese text).
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
from pathlib import Path

PW = "screenshot-pass"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--speech", default="corpus/texts/speeches2024.txt")
    ap.add_argument("--as-of", default="2024-10-01")
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args()
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from speechledger.batch import ingest
    from speechledger.ledger.db import open_ledger
    from speechledger.ledger.models import Task
    from speechledger.ledger.status import set_status
    from speechledger.web import data
    from speechledger.web.app import create_app
    from speechledger.web.auth import add_user

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    as_of = dt.date.fromisoformat(args.as_of)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = open_ledger(f"sqlite:///{Path(tmp) / 'l.sqlite'}")
        ingest(ledger, [args.speech], progress=False)
        with ledger.session() as s:
            add_user(s, "督查室张三", "supervisor", PW)
            tasks = list(s.scalars(select(Task).order_by(Task.id)))
            with_unit = [t for t in tasks if t.units]
            for i, t in enumerate(tasks[:60]):
                if i % 5 == 1:
                    set_status(s, t.id, "in_progress", note="已制定工作方案，正在推进", by="督查室张三")
                elif i % 7 == 2:
                    set_status(s, t.id, "done", note="已完成，经核查予以销号", by="督查室张三")
            sid = tasks[-1].speech_id
            # the last speech's tasks wait for review, to show the review page
            data.mark_pending(s, [sid])
            first_speech = tasks[0].speech_id
            task_id = with_unit[0].id if with_unit else tasks[0].id
            unit_name = with_unit[0].units[0].unit.name if with_unit else ""
        if unit_name:
            with ledger.session() as s:
                add_user(s, "承办单位李四", "unit", PW, unit=unit_name)
        app = create_app(ledger=ledger, as_of=as_of, upload_dir=Path(tmp) / "up", secret="shots")
        with socket.socket() as so:
            so.bind(("127.0.0.1", 0))
            port = so.getsockname()[1]
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=srv.run, daemon=True).start()
        while not srv.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        pages = {"login": "/login", "overview": "/", "tasks": "/tasks",
                 "tasks-filtered": f"/tasks?unit={unit_name}&sort=due", "task": f"/tasks/{task_id}",
                 "speeches": "/speeches", "speech": f"/speeches/{first_speech}",
                 "review": f"/speeches/{sid}/review", "users": "/users"}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                              "--lang=zh-CN", "--disable-component-update", "--no-first-run"])
            page = browser.new_page(viewport={"width": args.width, "height": 800}, locale="zh-CN")
            page.goto(base + "/login")
            page.screenshot(path=str(out / "login.png"))
            page.fill("input[name=username]", "督查室张三")
            page.fill("input[name=password]", PW)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            for name, url in pages.items():
                if name == "login":
                    continue
                page.goto(base + url)
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                print(out / f"{name}.png")
            if unit_name:
                page2 = browser.new_page(viewport={"width": args.width, "height": 800}, locale="zh-CN")
                page2.goto(base + "/login")
                page2.fill("input[name=username]", "承办单位李四")
                page2.fill("input[name=password]", PW)
                page2.click("button[type=submit]")
                page2.wait_for_url(base + "/")
                page2.goto(base + f"/tasks/{task_id}")
                page2.screenshot(path=str(out / "task-unit.png"), full_page=True)
            browser.close()
        srv.should_exit = True
        ledger.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
