"""Pieces shared by the commands: which ledger (--db, SPEECHLEDGER_DB, speechledger.toml), dates, errors."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys

DB_HELP = ("ledger database: an SQLAlchemy URL or a SQLite file path (default: $SPEECHLEDGER_DB, "
           "else `db` in speechledger.toml, else outputs/ledger.sqlite)")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_db_argument(p) -> None:
    p.add_argument("--db", metavar="URL", default=None, help=DB_HELP)


def parse_date(s: str) -> dt.date:
    """A calendar date written YYYY-MM-DD; ValueError with a readable reason otherwise."""
    s = (s or "").strip()
    if not _ISO.fullmatch(s):
        raise ValueError(f"invalid date {s!r}: expected YYYY-MM-DD, e.g. 2024-07-04")
    try:
        return dt.date.fromisoformat(s)
    except ValueError as e:
        raise ValueError(f"invalid date {s!r}: {e} (expected a real calendar date YYYY-MM-DD)") from None


def iso_date(s: str) -> dt.date:
    """argparse type: YYYY-MM-DD, a real calendar date (2023-02-30 is rejected)."""
    try:
        return parse_date(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def iso_date_str(s: str) -> str:
    """argparse type for commands that pass the date on as text (extract, diff): validated, normalised."""
    return iso_date(s).isoformat()


def as_of_or_today(as_of: dt.date | None, needed: bool) -> dt.date | None:
    """The reference date; today only when none is given, and then say so on stderr."""
    if as_of is None and needed:
        as_of = dt.date.today()
        print(f"speechledger: no --as-of given; using today's date {as_of.isoformat()}", file=sys.stderr)
    return as_of


def fail(msg: str, code: int = 2) -> int:
    print(f"speechledger: error: {msg}", file=sys.stderr)
    return code


# ---------------------------------------------------------------- which ledger

def choose_ledger(db: str | None = None, cwd=None) -> tuple[str, str]:
    """(URL, where it came from): --db, else $SPEECHLEDGER_DB, else speechledger.toml, else the default."""
    from speechledger.config import load_config
    from speechledger.ledger.db import DEFAULT_URL, ENV_VAR
    if db:
        url, origin = db, "--db"
    elif os.environ.get(ENV_VAR):
        url, origin = os.environ[ENV_VAR], f"${ENV_VAR}"
    else:
        cfg = load_config(cwd)
        if cfg.get("db"):
            url, origin = cfg.get("db"), str(cfg.path)
        else:
            url, origin = DEFAULT_URL, "default"
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url, origin


def display_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def open_chosen_ledger(db: str | None = None, create: bool = False, quiet: bool = False):
    """Open the ledger `choose_ledger` picks and say on stderr which one it is.

    Only create=True (ingest) makes a new ledger; otherwise a ledger that does not
    exist is a LedgerError, so a query in the wrong folder never reports an empty ledger.
    """
    from sqlalchemy.engine import make_url

    from speechledger.ledger.db import LedgerError, open_ledger
    url, origin = choose_ledger(db)
    if not quiet:
        print(f"speechledger: ledger {display_url(url)} (from {origin})", file=sys.stderr)
    if not create:
        try:
            u = make_url(url)
        except Exception as e:
            raise LedgerError(f"cannot open ledger {url!r}: {e}") from None
        if u.get_backend_name() == "sqlite":
            if not u.database or u.database == ":memory:" or not os.path.isfile(u.database):
                raise LedgerError(f"no ledger at {u.database or url} ({origin}); `speechledger ingest` "
                                  "creates one, or point --db, $SPEECHLEDGER_DB or speechledger.toml at yours")
        elif not _has_schema(url):
            raise LedgerError(f"no ledger in {display_url(url)} ({origin}); `speechledger ingest` creates one")
    return open_ledger(url)


def _has_schema(url: str) -> bool:
    from sqlalchemy import inspect

    from speechledger.ledger.db import LedgerError, make_engine
    try:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                return inspect(conn).has_table("alembic_version")
        finally:
            engine.dispose()
    except Exception as e:
        raise LedgerError(f"cannot open ledger {display_url(url)}: {e.__class__.__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}") from None


def config_value(key: str, default=None):
    """A value of speechledger.toml (None/default when there is no such file or key)."""
    from speechledger.config import load_config
    return load_config().get(key, default)
