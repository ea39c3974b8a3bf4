"""Open a ledger: resolve the URL, create the SQLite folder, run migrations, hand out sessions."""
from __future__ import annotations

import os
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
LOCK_TIMEOUT = 30.0     # seconds a writer waits for another writer's lock, per try
_MIGRATE_LOCK = 0x5EEC4  # advisory lock key of schema migration (PostgreSQL)


class LedgerError(Exception):
    """A ledger problem the user can act on (bad URL, unknown id, ...)."""


class LedgerBusy(LedgerError):
    """Another writer held the ledger's lock for longer than the bounded wait."""


def _driver_hint(e: BaseException, url: str) -> str | None:
    """What to install when the URL's database driver is missing."""
    if isinstance(e, ModuleNotFoundError) and make_url(url).get_backend_name() == "postgresql":
        return (f"cannot open ledger {make_url(url).render_as_string()}: the PostgreSQL driver "
                f"({e.name}) is not installed; install it with: pip install 'speechledger[postgres]'")
    return None


def resolve_url(url: str | None = None) -> str:
    """--db, else $SPEECHLEDGER_DB, else sqlite:///outputs/ledger.sqlite; a bare path means SQLite."""
    url = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def _sqlite_pragmas(timeout: float):
    def connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")      # readers never block the ingest writer
        cur.execute("PRAGMA synchronous=NORMAL")    # WAL + NORMAL: a crash loses no committed speech
        cur.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cur.close()
    return connect


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _with_driver(url: str) -> str:
    """postgresql:// names no driver: use the one installed (the postgres extra brings psycopg2)."""
    u = make_url(url)
    if u.drivername == "postgresql":
        for driver in ("psycopg2", "psycopg"):
            if _importable(driver):
                return u.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)
    return url


def make_engine(url: str, lock_timeout: float = LOCK_TIMEOUT) -> Engine:
    # hide_parameters: a failed statement's message must never carry a whole speech text
    url = _with_driver(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas(lock_timeout))
        return engine
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    event.listen(engine, "connect", _pg_lock_timeout(lock_timeout))
    return engine


def _pg_lock_timeout(timeout: float):
    def connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"SET lock_timeout = {int(timeout * 1000)}")
        cur.close()
        dbapi_conn.commit()
    return connect


def write_lock(session: Session, key: str) -> None:
    """Take the ledger's write lock for `key` (a source) until the session's transaction ends.

    Every check-then-write (is this speech already there? which task is current?)
    runs after it, so concurrent writers see each other's committed work.
    SQLite has one writer at a time: a first write statement takes the database
    lock now, waiting up to the busy timeout (pysqlite begins the transaction on
    it, so the reads after it are inside). PostgreSQL: a transaction-scoped
    advisory lock per key.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    else:
        conn.execute(text("UPDATE write_lock SET n = n + 1 WHERE id = 1"))


def is_lock_timeout(e: BaseException) -> bool:
    """A writer gave up waiting for another writer's lock (SQLite busy, PostgreSQL lock_timeout)."""
    msg = str(getattr(e, "orig", e))
    return "database is locked" in msg or "lock timeout" in msg or "LockNotAvailable" in type(
        getattr(e, "orig", e)).__name__


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

    def current(conn) -> str | None:
        if inspect(conn).has_table("alembic_version"):
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None

    with engine.connect() as conn:
        if current(conn) == head:
            return
    with engine.begin() as conn:
        # two processes opening a new ledger at once: the second waits, then finds it migrated
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATE_LOCK})"))
        else:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS write_lock (id INTEGER NOT NULL PRIMARY KEY, "
                                 "n INTEGER NOT NULL)")
            conn.exec_driver_sql("INSERT OR IGNORE INTO write_lock (id, n) VALUES (1, 0)")  # takes the lock
        if current(conn) == head:
            return
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

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_ledger(url: str | None = None, migrate_schema: bool = True,
                lock_timeout: float = LOCK_TIMEOUT) -> Ledger:
    """Open (and create or upgrade) the ledger at `url`; see `resolve_url` for the default.

    `lock_timeout`: seconds a write waits for another writer before giving up (per try).
    """
    url = resolve_url(url)
    try:
        engine = make_engine(url, lock_timeout)
    except Exception as e:  # bad URL, missing driver
        raise LedgerError(_driver_hint(e, url) or f"cannot open ledger {url!r}: {e}") from None
    if migrate_schema:
        try:
            migrate(engine)
        except Exception as e:
            engine.dispose()
            raise LedgerError(_driver_hint(e, url) or
                              f"cannot open ledger {make_url(url).render_as_string()}: "
                              f"{e.__class__.__name__}: {str(e).splitlines()[0]}") from None
        from speechledger.ledger.aliases import seed_aliases
        with Ledger(url, engine, sessionmaker(engine)).session() as s:
            write_lock(s, "unit_aliases")
            seed_aliases(s)
    return Ledger(url, engine, sessionmaker(engine))
