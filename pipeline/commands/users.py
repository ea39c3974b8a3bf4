"""speechledger users: accounts of the web app."""
from __future__ import annotations

HELP = "manage web app accounts (add, list, disable)"
DESCRIPTION = """Accounts of the 督查台账 web app (`speechledger serve`).

  echo 'a-long-password' | speechledger users add admin --role admin --password-stdin
  speechledger users add gx --role unit --unit 工信局 --password-stdin
  speechledger users list
  speechledger users disable gx

Roles: viewer reads; unit reports progress on tasks where its unit leads or
supports and may ask for closing; supervisor updates and closes (销号) any task
and reviews extraction; admin also manages users.
"""


def add_arguments(p) -> None:
    from speechledger.commands._ledgerargs import add_db_argument
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = sub.add_parser("add", help="add an account")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=("admin", "supervisor", "unit", "viewer"))
    a.add_argument("--unit", help="the unit of a `unit` account, e.g. 工信局 (matched like `tasks --unit`)")
    a.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (else it is asked for)")
    add_db_argument(a)
    ls = sub.add_parser("list", help="list accounts")
    add_db_argument(ls)
    d = sub.add_parser("disable", help="disable an account and end its sessions")
    d.add_argument("name")
    add_db_argument(d)


def run(args) -> int:
    import sys

    from speechledger.commands._ledgerargs import fail
    from speechledger.ledger.db import LedgerError, open_ledger
    from speechledger.web import auth

    try:
        if args.action == "add":
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                import getpass
                password = getpass.getpass(f"password for {args.name}: ")
                if getpass.getpass("again: ") != password:
                    return fail("the passwords differ")
        ledger = open_ledger(args.db)
        with ledger, ledger.session() as s:
            if args.action == "add":
                u = auth.add_user(s, args.name, args.role, password, unit=args.unit)
                print(f"added {u.name} ({u.role}{', ' + u.unit if u.unit else ''})")
            elif args.action == "disable":
                auth.disable_user(s, args.name)
                print(f"disabled {args.name}")
            else:
                for u in auth.list_users(s):
                    print(f"{u['name']}\t{u['role']}\t{u['unit'] or '-'}\t{'active' if u['active'] else 'disabled'}"
                          f"\t{u['created_at']}")
    except LedgerError as e:
        return fail(str(e))
    return 0
