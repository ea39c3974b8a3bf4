"""Open a ledger: resolve the URL, create the SQLite folder, run migrations, hand out sessions."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///outputs/ledger.sqlite"
ENV_VAR = "SPEECHLEDGER_DB"
HERE = Path(__file__).resolve().parent


class LedgerError(Exception):
    """A ledger problem the user can act on (bad URL, unknown id, ...)."""


def resolve_url(url: str | None = None) -> str:
    """--db, else $SPEECHLEDGER_DB, else sqlite:///outputs/ledger.sqlite; a bare path means SQLite."""
    url = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")      # readers never block the ingest writer
    cur.execute("PRAGMA synchronous=NORMAL")    # WAL + NORMAL: a crash loses no committed speech
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str):
    from alembic.config import Config
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision(cfg) -> str:
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(cfg).get_current_head()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (cheap when it already is)."""
    from alembic import command
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    head = head_revision(cfg)
    with engine.connect() as conn:
        if inspect(conn).has_table("alembic_version"):
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if current == head:
                return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@dataclass
class Ledger:
    url: str
    engine: Engine
    sessions: sessionmaker

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self.sessions() as s:
            with s.begin():
                yield s

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_ledger(url: str | None = None, migrate_schema: bool = True) -> Ledger:
    """Open (and create or upgrade) the ledger at `url`; see `resolve_url` for the default."""
    url = resolve_url(url)
    try:
        engine = make_engine(url)
    except Exception as e:  # bad URL, missing driver
        raise LedgerError(f"cannot open ledger {url!r}: {e}") from None
    if migrate_schema:
        try:
            migrate(engine)
        except Exception as e:
            engine.dispose()
            raise LedgerError(f"cannot open ledger {make_url(url).render_as_string()}: "
                              f"{e.__class__.__name__}: {str(e).splitlines()[0]}") from None
        from speechledger.ledger.aliases import seed_aliases
        with Ledger(url, engine, sessionmaker(engine)).session() as s:
            seed_aliases(s)
    return Ledger(url, engine, sessionmaker(engine))


def warn(msg: str) -> None:
    print(f"speechledger: {msg}", file=sys.stderr)
