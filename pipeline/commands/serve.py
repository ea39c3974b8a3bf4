"""speechledger serve: the 督查台账 web app over the ledger."""
from __future__ import annotations

HELP = "run the 督查台账 web app (tasks, progress, review) over the ledger"
DESCRIPTION = """Serve the supervisor web app over the ledger (log in with an account from `users add`).

  speechledger users add admin --role admin --password-stdin
  speechledger serve                                  # http://127.0.0.1:8000, loopback only
  speechledger serve --db sqlite:///team.sqlite --port 8080 --due-soon 14
  speechledger serve --host 0.0.0.0                   # reachable from other machines

Set SPEECHLEDGER_SECRET to keep logins valid across restarts (otherwise a
random key signs the session cookies and a restart logs everybody out).
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument, iso_date
    add_db_argument(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--due-soon", type=int, default=7, metavar="DAYS",
                   help="yellow warning for tasks due within DAYS days (default 7)")
    p.add_argument("--as-of", type=iso_date, default=None, help="reference date instead of today (YYYY-MM-DD)")
    p.add_argument("--upload-dir", default=None,
                   help="where uploaded speeches are kept (default: uploads/ beside the ledger)")


def run(args) -> int:
    import sys

    from speechledger.commands._ledgerargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger

    if args.due_soon < 0:
        return fail("--due-soon takes a number of days >= 0")
    try:
        import uvicorn

        from speechledger.web.app import create_app
        ledger = open_ledger(args.db)
    except LedgerError as e:
        return fail(str(e))
    from speechledger.web.auth import list_users
    with ledger.session() as s:
        if not list_users(s):
            print("speechledger: the ledger has no users yet; add one first: "
                  "speechledger users add NAME --role admin --password-stdin", file=sys.stderr)
    app = create_app(ledger=ledger, soon_days=args.due_soon, upload_dir=args.upload_dir, as_of=args.as_of)
    where = ("loopback only: reachable from this machine alone; use --host 0.0.0.0 to open it to the network"
             if args.host in ("127.0.0.1", "localhost", "::1") else
             f"listening on {args.host}: reachable from other machines")
    print(f"speechledger: ledger {ledger.engine.url.render_as_string()}", file=sys.stderr)
    print(f"speechledger: serving http://{args.host}:{args.port}/ ({where})", file=sys.stderr)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        ledger.close()
    return 0
