"""Arguments and helpers shared by the ledger commands (light: no SQLAlchemy import here)."""
from __future__ import annotations

import argparse
import datetime as dt
import sys

DB_HELP = ("ledger database: an SQLAlchemy URL or a SQLite file path "
           "(default: $SPEECHLEDGER_DB, else sqlite:///outputs/ledger.sqlite)")


def add_db_argument(p) -> None:
    p.add_argument("--db", metavar="URL", default=None, help=DB_HELP)


def iso_date(s: str) -> dt.date:
    """argparse type: YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {s!r}") from None


def as_of_or_today(as_of: dt.date | None, needed: bool) -> dt.date | None:
    """The reference date; today only when none is given, and then say so on stderr."""
    if as_of is None and needed:
        as_of = dt.date.today()
        print(f"speechledger: no --as-of given; using today's date {as_of.isoformat()}", file=sys.stderr)
    return as_of


def fail(msg: str, code: int = 2) -> int:
    print(f"speechledger: error: {msg}", file=sys.stderr)
    return code
