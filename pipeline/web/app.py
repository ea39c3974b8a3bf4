"""The web app: routes, login, CSRF, roles. Pages are Jinja2 templates with autoescape on."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from speechledger.ledger.db import Ledger, LedgerError, open_ledger
from speechledger.ledger.export import STATUS_LABELS
from speechledger.ledger.models import CLOSED, STATUSES, Speech, Task
from speechledger.ledger.queries import TaskQuery, get_task_rows, list_speeches
from speechledger.web import auth, data

HERE = Path(__file__).resolve().parent
COOKIE = "sl_session"
LOGIN_COOKIE = "sl_login"
PER_PAGE = 50
FAIL_DELAY = 0.5          # seconds added to every failed login
STATUS_ALIASES = {**{v: k for k, v in STATUS_LABELS.items()}, "未开始": "open", "已销号": "done",
                  "销号": "done", "进行中": "in_progress", **{s: s for s in STATUSES}}
UPLOAD_SUFFIXES = (".txt", ".docx", ".doc", ".wps", ".pdf")


class HTTPError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Web:
    """State of one app instance: the ledger, the signer, the templates, the settings."""

    def __init__(self, ledger: Ledger, secret: str, soon_days: int, upload_dir: Path, as_of: dt.date | None):
        self.ledger = ledger
        self.signer = URLSafeSerializer(secret, salt="speechledger-session")
        self.soon_days = soon_days
        self.upload_dir = upload_dir
        self.fixed_as_of = as_of
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(STATUS_LABELS=STATUS_LABELS, COLOUR_LABELS=data.COLOUR_LABELS,
                                ROLE_LABELS=auth.ROLE_LABELS, COLOURS=data.COLOURS, STATUSES=STATUSES,
                                soon_days=soon_days)
        from speechledger.ledger.export import _names, format_target
        self.env.filters.update(names=_names, target=format_target)

    def as_of(self, given: str | None = None) -> dt.date:
        if given:
            return _date(given, "as_of")
        return self.fixed_as_of or dt.date.today()

    def render(self, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**ctx), status_code=status)


def _date(s: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise HTTPError(400, f"参数 {name} 应为日期 YYYY-MM-DD，收到“{s}”") from None


def _int(s: str | None, name: str, default: int | None = None) -> int | None:
    if s in (None, ""):
        return default
    try:
        return int(s)
    except ValueError:
        raise HTTPError(400, f"参数 {name} 应为整数，收到“{s}”") from None


def _ip(request: Request) -> str:
    return request.client.host if request.client else "?"


# ---------------------------------------------------------------- request plumbing

class Ctx:
    """One request: its session with the ledger, the logged-in user and the CSRF token."""

    def __init__(self, web: Web, request: Request, session, form=None):
        self.web, self.request, self.s, self.form = web, request, session, form
        self.user = None
        self.ws = None
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                token = web.signer.loads(raw)
            except BadSignature:
                token = None
            found = auth.session_user(session, token) if isinstance(token, str) else None
            if found:
                self.user, self.ws = found

    def need(self, *roles: str) -> None:
        if self.user is None:
            raise HTTPError(401, "请先登录")
        if roles and self.user.role not in roles:
            raise HTTPError(403, "无权进行此操作")

    def check_csrf(self) -> None:
        sent = (self.form or {}).get("csrf_token") or ""
        if self.ws is None or not secrets.compare_digest(str(sent), self.ws.csrf):
            raise HTTPError(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")

    @property
    def scope_unit(self) -> str | None:
        return self.user.unit if self.user is not None and self.user.role == "unit" else None

    def page(self, name: str, status: int = 200, **ctx) -> HTMLResponse:
        try:
            as_of = self.web.as_of(self.request.query_params.get("as_of") or None)
        except HTTPError:            # the error page of a bad as_of must still render
            as_of = self.web.as_of()
        base = {"user": self.user, "csrf": self.ws.csrf if self.ws else "", "path": self.request.url.path,
                "as_of": as_of}
        return self.web.render(name, {**base, **ctx}, status)


def handler(web: Web, fn: Callable[[Ctx], Response], post: bool = False):
    """Wrap a sync page function: ledger session, login, CSRF on POST, errors as pages."""
    async def endpoint(request: Request) -> Response:
        form = await request.form() if post else None
        return await run_in_threadpool(_run, web, fn, request, form, post)
    return endpoint


def _run(web: Web, fn, request: Request, form, post: bool) -> Response:
    api = request.url.path.startswith("/api/")
    try:
        with web.ledger.session() as s:
            ctx = Ctx(web, request, s, form)
            if post:
                ctx.need()
                ctx.check_csrf()
            return fn(ctx)
    except (HTTPError, LedgerError, data.ReviewError) as e:
        status, msg = (e.status, e.message) if isinstance(e, HTTPError) else (400, str(e))
    if status == 401 and not api:
        return RedirectResponse("/login?" + urlencode({"next": str(request.url.path)}), status_code=303)
    if api:
        return JSONResponse({"error": msg}, status_code=status)
    with web.ledger.session() as s:
        ctx = Ctx(web, request, s)
        return ctx.page("error.html", status=status, status_code=status, message=msg)


# ---------------------------------------------------------------- filters

FILTER_KEYS = ("unit", "status", "due_before", "overdue", "as_of", "speech", "q", "colour", "sort", "desc")


def parse_filters(web: Web, params) -> tuple[TaskQuery, dict[str, Any]]:
    q = TaskQuery()
    if params.get("unit"):
        q.unit = params["unit"].strip()
    for st in filter(None, re.split(r"[,，\s]+", params.get("status", ""))):
        if st not in STATUS_ALIASES:
            raise HTTPError(400, f"未知的状态“{st}”")
        q.status.append(STATUS_ALIASES[st])
    if params.get("due_before"):
        q.due_before = _date(params["due_before"], "due_before")
    as_of = web.as_of(params.get("as_of") or None)
    if params.get("overdue") in ("1", "true", "on"):
        q.overdue, q.as_of = True, as_of
    if params.get("speech"):
        q.speech = [_int(params["speech"], "speech")]
    q.search = [t for t in re.split(r"\s+", params.get("q", "").strip()) if t]
    extra = {"as_of": as_of, "colour": params.get("colour") or None,
             "sort": params.get("sort") if params.get("sort") in data.SORTS else "due",
             "desc": params.get("desc") == "1"}
    return q, extra


def query_url(params, **changes) -> str:
    """The current query string with some parameters changed (None removes one)."""
    kept = {k: v for k, v in params.items() if k in FILTER_KEYS + ("page",) and v != ""}
    for k, v in changes.items():
        if v is None:
            kept.pop(k, None)
        else:
            kept[k] = v
    return urlencode(kept)


# ---------------------------------------------------------------- pages

def build_routes(web: Web) -> list:
    def overview_page(c: Ctx) -> Response:
        c.need()
        as_of = web.as_of(c.request.query_params.get("as_of") or None)
        ov = data.overview(c.s, scope_unit=c.scope_unit, as_of=as_of, soon_days=web.soon_days)
        return c.page("overview.html", ov=ov, chart=data.month_chart(ov["months"], as_of), as_of=as_of,
                      pending=sum(data.pending_counts(c.s).values()))

    def tasks_page(c: Ctx) -> Response:
        c.need()
        params = c.request.query_params
        q, ex = parse_filters(web, params)
        page = data.task_page(c.s, q, scope_unit=c.scope_unit, as_of=ex["as_of"], soon_days=web.soon_days,
                              colour=ex["colour"], sort=ex["sort"], desc=ex["desc"],
                              page=_int(params.get("page"), "page", 1), per_page=PER_PAGE)
        speeches = data.speech_choices(c.s)
        return c.page("tasks.html", page=page, params=params, ex=ex, speeches=speeches,
                      url=lambda **kw: query_url(params, **kw))

    def export_tasks(c: Ctx) -> Response:
        c.need()
        from speechledger.ledger.export import write_csv, write_xlsx
        params = c.request.query_params
        fmt = c.request.path_params["fmt"]
        q, ex = parse_filters(web, params)
        rows = data.defused_rows(data.all_rows(c.s, q, scope_unit=c.scope_unit, as_of=ex["as_of"],
                                               soon_days=web.soon_days, colour=ex["colour"], sort=ex["sort"],
                                               desc=ex["desc"]))
        name = f"tasks-{ex['as_of'].isoformat()}.{fmt}"
        disp = {"Content-Disposition": f'attachment; filename="{name}"'}
        if fmt == "csv":
            buf = io.StringIO()
            write_csv(rows, buf)
            return Response(("\ufeff" + buf.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                            headers=disp)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            write_xlsx(rows, path)
            body = path.read_bytes()
        return Response(body, headers=disp,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def api_tasks(c: Ctx) -> Response:
        c.need()
        params = c.request.query_params
        q, ex = parse_filters(web, params)
        per = min(_int(params.get("per_page"), "per_page", 100), 1000)
        page = data.task_page(c.s, q, scope_unit=c.scope_unit, as_of=ex["as_of"], soon_days=web.soon_days,
                              colour=ex["colour"], sort=ex["sort"], desc=ex["desc"],
                              page=_int(params.get("page"), "page", 1), per_page=max(per, 1))
        return JSONResponse({"as_of": ex["as_of"].isoformat(), "total": page.total, "page": page.page,
                             "pages": page.pages, "colours": page.colours, "tasks": page.rows})

    def load_task(c: Ctx) -> Task:
        tid = _int(c.request.path_params["id"], "id")
        task = c.s.get(Task, tid)
        if task is None:
            raise HTTPError(404, f"没有编号为 {tid} 的任务")
        rv = data.review_state(c.s, tid)
        if rv is not None and rv.state != "confirmed" and c.user.role not in ("admin", "supervisor"):
            raise HTTPError(404, f"任务 {tid} 尚未发布")
        if c.scope_unit and not data.in_unit(c.s, tid, c.scope_unit):
            raise HTTPError(403, f"任务 {tid} 不属于 {c.scope_unit}，无权查看")
        return task

    def task_page(c: Ctx) -> Response:
        c.need()
        task = load_task(c)
        row = get_task_rows(c.s, [task.id])[0]
        as_of = web.as_of(c.request.query_params.get("as_of") or None)
        row["colour"] = data.colour_of(row, as_of, web.soon_days)
        speech = task.speech
        return c.page("task.html", t=row, speech=speech,
                      pieces=data.source_pieces(speech.document.text, speech, row),
                      hpath=data.heading_path(c.s, speech, task.heading_id),
                      events=data.task_events(c.s, task.id), review=data.review_state(c.s, task.id),
                      may_update=data.may_update(c.user, c.s, task.id),
                      choices=status_choices(c.user.role), flash=c.request.query_params.get("msg"))

    def status_choices(role: str) -> list[tuple[str, str]]:
        if role in ("admin", "supervisor"):
            return [("in_progress", "推进中"), ("done", "已完成（销号）"), ("open", "未开始"),
                    ("cancelled", "已取消")]
        return [("in_progress", "推进中"), ("open", "未开始"), ("close_request", "申请销号")]

    def post_status(c: Ctx) -> Response:
        from speechledger.ledger.status import set_status
        task = load_task(c)
        if c.user.role == "viewer" or not data.may_update(c.user, c.s, task.id):
            raise HTTPError(403, "只能报送本单位牵头或配合的任务进展")
        status = str(c.form.get("status", ""))
        note = str(c.form.get("note", "")).strip() or None
        if status not in dict(status_choices(c.user.role)):
            raise HTTPError(403 if status in STATUSES else 400, f"不能设为状态“{status}”"
                            + ("（销号须由督查室办理，可选择“申请销号”）" if status in CLOSED else ""))
        if status == "close_request":
            rv = data.review_state(c.s, task.id) or data.TaskReview(task_id=task.id, state="confirmed")
            rv.close_requested_by, rv.close_requested_at = c.user.name, data._now()
            c.s.add(rv)
            set_status(c.s, task.id, "in_progress", note="【申请销号】" + (note or ""), by=c.user.name)
            msg = "已提交销号申请"
        else:
            set_status(c.s, task.id, status, note=note, by=c.user.name)
            msg = "进展已记录"
        return RedirectResponse(f"/tasks/{task.id}?" + urlencode({"msg": msg}), status_code=303)

    def post_review(c: Ctx) -> Response:
        c.need("admin", "supervisor")
        task = load_task(c)
        action = str(c.form.get("action", ""))
        msg = data.review(c.s, task, action, c.user.name, {k: str(v) for k, v in c.form.items()})
        back = str(c.form.get("back") or "")
        dest = back if back.startswith("/speeches/") else f"/speeches/{task.speech_id}/review"
        return RedirectResponse(dest + "?" + urlencode({"msg": f"任务 {task.id}：{msg}"}), status_code=303)

    def post_review_all(c: Ctx) -> Response:
        c.need("admin", "supervisor")
        sp = load_speech(c)
        n = 0
        for t in sp.tasks:
            rv = data.review_state(c.s, t.id)
            if rv is not None and rv.state == "pending":
                data.review(c.s, t, "confirm", c.user.name, {})
                n += 1
        return RedirectResponse(f"/speeches/{sp.id}/review?" + urlencode({"msg": f"已确认 {n} 项待审核任务"}),
                                status_code=303)

    def speeches_page(c: Ctx) -> Response:
        c.need()
        return c.page("speeches.html", speeches=sorted(list_speeches(c.s), key=lambda sp: -sp["id"]),
                      pending=data.pending_counts(c.s), flash=c.request.query_params.get("msg"))

    def load_speech(c: Ctx) -> Speech:
        sid = _int(c.request.path_params["id"], "id")
        sp = c.s.get(Speech, sid)
        if sp is None:
            raise HTTPError(404, f"没有编号为 {sid} 的讲话")
        return sp

    def speech_page(c: Ctx) -> Response:
        c.need()
        sp = load_speech(c)
        as_of = web.as_of(c.request.query_params.get("as_of") or None)
        q = TaskQuery(speech=[sp.id], all_versions=True)
        rows = data.all_rows(c.s, q, scope_unit=c.scope_unit, as_of=as_of, soon_days=web.soon_days, sort="id")
        rows.sort(key=lambda r: r["start"])
        return c.page("speech.html", sp=sp, rows=rows, pending=data.pending_counts(c.s).get(sp.id, 0))

    def review_page(c: Ctx) -> Response:
        c.need("admin", "supervisor")
        sp = load_speech(c)
        rows = get_task_rows(c.s, [t.id for t in sp.tasks])
        rows.sort(key=lambda r: r["start"])
        states = {r["id"]: data.review_state(c.s, r["id"]) for r in rows}
        return c.page("review.html", sp=sp, rows=rows, states=states, flash=c.request.query_params.get("msg"))

    def upload(c: Ctx) -> Response:
        c.need("admin", "supervisor")
        from speechledger.batch import ingest
        f = c.form.get("file")
        if f is None or not getattr(f, "filename", ""):
            raise HTTPError(400, "请选择要上传的讲话文件")
        name = re.sub(r"[^\w.\-\u4e00-\u9fff]+", "_", Path(f.filename).name).lstrip(".") or "speech.txt"
        if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise HTTPError(400, f"不支持的文件类型“{Path(name).suffix}”，请上传 .txt、.docx、.doc、.wps 或 .pdf")
        date = str(c.form.get("date") or "").strip() or None
        if date:
            _date(date, "date")
        web.upload_dir.mkdir(parents=True, exist_ok=True)
        path = web.upload_dir / name
        path.write_bytes(f.file.read())
        before = data.last_speech_id(c.s)
        errors: list[str] = []
        summary = ingest(web.ledger, [path], date=date, progress=False, report=errors.append)
        if summary.errors:
            raise HTTPError(400, "导入失败：" + "；".join(summary.errors))
        with web.ledger.session() as s2:
            ids = data.speech_ids_of(s2, str(path.resolve()), before)
            n = data.mark_pending(s2, ids)
        data.refresh_statistics(web.ledger)
        if not ids:
            msg = f"{name} 的内容已在台账中，未重复导入"
        else:
            msg = f"已导入 {name}：{len(ids)} 篇讲话，{n} 项任务待审核"
        return RedirectResponse("/speeches?" + urlencode({"msg": msg}), status_code=303)

    def users_page(c: Ctx) -> Response:
        c.need("admin")
        return c.page("users.html", users=auth.list_users(c.s), flash=c.request.query_params.get("msg"))

    def users_post(c: Ctx) -> Response:
        c.need("admin")
        action = str(c.form.get("action", ""))
        name = str(c.form.get("name", "")).strip()
        if action == "disable":
            auth.disable_user(c.s, name)
            msg = f"已停用 {name}"
        else:
            auth.add_user(c.s, name, str(c.form.get("role", "")), str(c.form.get("password", "")),
                          unit=str(c.form.get("unit", "")) or None)
            msg = f"已添加 {name}"
        return RedirectResponse("/users?" + urlencode({"msg": msg}), status_code=303)

    return [
        Route("/", handler(web, overview_page)),
        Route("/tasks", handler(web, tasks_page)),
        Route("/tasks/export.{fmt:str}", _only_formats(handler(web, export_tasks))),
        Route("/tasks/{id}", handler(web, task_page)),
        Route("/tasks/{id}/status", handler(web, post_status, post=True), methods=["POST"]),
        Route("/tasks/{id}/review", handler(web, post_review, post=True), methods=["POST"]),
        Route("/speeches", handler(web, speeches_page)),
        Route("/speeches/upload", handler(web, upload, post=True), methods=["POST"]),
        Route("/speeches/{id}", handler(web, speech_page)),
        Route("/speeches/{id}/review", handler(web, review_page)),
        Route("/speeches/{id}/review", handler(web, post_review_all, post=True), methods=["POST"]),
        Route("/users", handler(web, users_page)),
        Route("/users", handler(web, users_post, post=True), methods=["POST"]),
        Route("/api/tasks", handler(web, api_tasks)),
        Route("/login", login_endpoint(web), methods=["GET", "POST"]),
        Route("/logout", handler(web, lambda c: logout(web, c), post=True), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]


def _only_formats(endpoint):
    async def wrapped(request: Request) -> Response:
        if request.path_params["fmt"] not in ("csv", "xlsx"):
            return JSONResponse({"error": "导出格式只能是 csv 或 xlsx"}, status_code=404)
        return await endpoint(request)
    return wrapped


def _cookie(resp: Response, request: Request, key: str, value: str, max_age: int | None = None,
            samesite: str = "lax") -> None:
    resp.set_cookie(key, value, max_age=max_age, httponly=True, samesite=samesite,
                    secure=request.url.scheme == "https", path="/")


def login_endpoint(web: Web):
    async def endpoint(request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        return await run_in_threadpool(_login, web, request, form)
    return endpoint


def _login(web: Web, request: Request, form) -> Response:
    nxt = request.query_params.get("next") or (form or {}).get("next") or "/"
    if not str(nxt).startswith("/") or str(nxt).startswith("//"):
        nxt = "/"

    def form_page(error: str | None = None, status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        resp = web.render("login.html", {"user": None, "csrf": token, "next": nxt, "error": error,
                                         "path": "/login"}, status)
        _cookie(resp, request, LOGIN_COOKIE, token, max_age=3600, samesite="strict")
        return resp

    if form is None:
        return form_page()
    sent, expected = str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_COOKIE) or ""
    if not expected or not secrets.compare_digest(sent, expected):
        return form_page("表单已过期（CSRF 校验失败），请重新登录", 403)
    name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    ip = _ip(request)
    with web.ledger.session() as s:
        if auth.locked(s, name, ip):
            return form_page(f"登录失败次数过多，请 {auth.LOCK_MINUTES} 分钟后再试", 429)
        ws = auth.login(s, name, password, ip)
        token = ws.token if ws else None
    if token is None:
        time.sleep(FAIL_DELAY)
        return form_page("用户名或密码错误", 401)
    resp = RedirectResponse(str(nxt), status_code=303)
    _cookie(resp, request, COOKIE, web.signer.dumps(token), max_age=auth.SESSION_HOURS * 3600)
    resp.delete_cookie(LOGIN_COOKIE, path="/")
    return resp


def logout(web: Web, c: Ctx) -> Response:
    auth.logout(c.s, c.ws.token)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


def create_app(db_url: str | None = None, *, secret: str | None = None, soon_days: int = 7,
               upload_dir: str | Path | None = None, as_of: dt.date | None = None,
               ledger: Ledger | None = None) -> Starlette:
    """The ASGI app over the ledger at `db_url` (opened and migrated here).

    `secret` signs the session cookie (default $SPEECHLEDGER_SECRET, else random per process, which logs
    everybody out at restart); `soon_days` is the yellow warning window; `as_of` fixes "today".
    """
    ledger = ledger or open_ledger(db_url)
    secret = secret or os.environ.get("SPEECHLEDGER_SECRET") or secrets.token_urlsafe(32)
    if upload_dir is None:
        db = ledger.engine.url.database if ledger.engine.url.get_backend_name() == "sqlite" else None
        upload_dir = (Path(db).resolve().parent if db and db != ":memory:" else Path("outputs")) / "uploads"
    data.refresh_statistics(ledger)
    web = Web(ledger, secret, soon_days, Path(upload_dir), as_of)
    app = Starlette(routes=build_routes(web))
    app.state.web = web
    return app


__all__ = ["create_app"]
