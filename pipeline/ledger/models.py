"""SQLAlchemy 2 ORM models of the ledger (the schema of issue 3).

Offsets in headings, tasks, units, deadlines and targets are `str` indices
into the decoded text of the document version the speech was read from
(`documents.text`), exactly as in the §6 extract contract.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("open", "in_progress", "done", "cancelled")
CLOSED = ("done", "cancelled")
# lengths checked before writing (same behaviour on SQLite, which does not enforce VARCHAR sizes)
MAX_AUTHOR = 100
MAX_NOTE = 2000
MAX_UNIT = 200


def _rules() -> Mapped[str]:
    # ids of the rule rows that produced the item, space-separated ("" for none / learned)
    return mapped_column(Text, default="", server_default="")


class Base(DeclarativeBase):
    pass


class Document(Base):
    """One version of an input file: its decoded text, stored once."""
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)                 # path as given
    source_key: Mapped[str] = mapped_column(Text, index=True)  # resolved path
    content_hash: Mapped[str] = mapped_column(String(64), index=True)   # sha256 of text + date override
    complete: Mapped[bool] = mapped_column(Boolean, default=False)     # all its speeches written
    encoding: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # the file's content as last ingested (one per source): what "unchanged" compares against
    current: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("uq_documents_current", "source_key", unique=True,
                            sqlite_where=sql("current"), postgresql_where=sql("current")),)


class Speech(Base):
    __tablename__ = "speeches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    source: Mapped[str] = mapped_column(Text)                 # path as given
    source_key: Mapped[str] = mapped_column(Text)             # resolved path: identity across versions
    speech_index: Mapped[int] = mapped_column(Integer)        # 0-based position in the file
    title: Mapped[str] = mapped_column(Text)
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))     # sha256 of the speech's own text + date
    version: Mapped[int] = mapped_column(Integer, default=1)
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("speeches.id"), nullable=True)
    extractor: Mapped[str] = mapped_column(String(32))
    ingested_at: Mapped[dt.datetime] = mapped_column(DateTime)

    document: Mapped[Document] = relationship()
    tasks: Mapped[list["Task"]] = relationship(back_populates="speech", order_by="Task.start")
    headings: Mapped[list["Heading"]] = relationship(order_by="Heading.position")

    __table_args__ = (Index("ix_speeches_source_key", "source_key", "speech_index"),
                      # one current version per speech: concurrent ingests cannot both add it
                      Index("uq_speeches_current", "source_key", "speech_index", unique=True,
                            sqlite_where=sql("current"), postgresql_where=sql("current")))


class Heading(Base):
    __tablename__ = "headings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    speech_id: Mapped[int] = mapped_column(ForeignKey("speeches.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)            # index in Speech.headings
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    level: Mapped[int] = mapped_column(Integer)
    marker: Mapped[str] = mapped_column(String(32))
    parent: Mapped[int | None] = mapped_column(Integer, nullable=True)   # position of the parent


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    speech_id: Mapped[int] = mapped_column(ForeignKey("speeches.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)            # index in Speech.tasks
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    modality: Mapped[str] = mapped_column(String(16), index=True)
    specific: Mapped[bool] = mapped_column(Boolean)
    segment: Mapped[int] = mapped_column(Integer)
    heading_id: Mapped[int | None] = mapped_column(ForeignKey("headings.id"), nullable=True)
    extractor: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    # earliest normalised deadline of the task (denormalised from `deadlines` for fast filters)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    # the same commitment across speech versions shares one lineage (the first task's id)
    lineage_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # current status, denormalised from the append-only `status_events`
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    status_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    rules: Mapped[str] = _rules()

    speech: Mapped[Speech] = relationship(back_populates="tasks")
    units: Mapped[list["TaskUnit"]] = relationship(order_by="TaskUnit.start")
    deadlines: Mapped[list["Deadline"]] = relationship(order_by="Deadline.start")
    targets: Mapped[list["Target"]] = relationship(order_by="Target.start")


class Unit(Base):
    """A responsible unit under its canonical name; surface forms live in `unit_aliases`."""
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class UnitAlias(Base):
    __tablename__ = "unit_aliases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(200), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    origin: Mapped[str] = mapped_column(String(16), default="seen")   # seed | user | seen


class TaskUnit(Base):
    __tablename__ = "task_units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    text: Mapped[str] = mapped_column(String(200))            # surface form as in the speech
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))             # lead | support
    rules: Mapped[str] = _rules()

    unit: Mapped[Unit] = relationship()


class Deadline(Base):
    __tablename__ = "deadlines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    placeholder: Mapped[bool] = mapped_column(Boolean)
    rules: Mapped[str] = _rules()


class Target(Base):
    __tablename__ = "targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(32))
    comparator: Mapped[str] = mapped_column(String(4))
    placeholder: Mapped[bool] = mapped_column(Boolean)
    rules: Mapped[str] = _rules()


class WriteLock(Base):
    """One row; SQLite writers update it first to take the database's write lock (db.write_lock)."""
    __tablename__ = "write_lock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class StatusEvent(Base):
    """Append-only status history (database triggers refuse UPDATE and DELETE).

    `tasks.status` mirrors the latest event of the lineage."""
    __tablename__ = "status_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    lineage_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    author: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)


# The readable 台账 view, one row per task of the current speech versions.
# `{agg}` is the dialect's string aggregate (group_concat / string_agg).
TASK_LIST_VIEW = """
CREATE VIEW task_list AS
SELECT t.id AS task_id,
       s.id AS speech_id,
       s.title AS speech_title,
       s.date AS speech_date,
       s.source AS source,
       t.text AS task,
       t.modality AS modality,
       t.specific AS specific,
       (SELECT {agg_lead} FROM task_units tu JOIN units u ON u.id = tu.unit_id
         WHERE tu.task_id = t.id AND tu.role = 'lead') AS lead_units,
       (SELECT {agg_support} FROM task_units tu JOIN units u ON u.id = tu.unit_id
         WHERE tu.task_id = t.id AND tu.role <> 'lead') AS support_units,
       t.due AS due,
       (SELECT {agg_deadline} FROM deadlines d WHERE d.task_id = t.id) AS deadlines,
       (SELECT {agg_target} FROM targets g WHERE g.task_id = t.id) AS targets,
       t.status AS status,
       t.status_note AS progress
FROM tasks t JOIN speeches s ON s.id = t.speech_id
WHERE s.current
"""


def task_list_view_sql(dialect: str) -> str:
    """CREATE VIEW statement for `task_list` in the given SQLAlchemy dialect name."""
    if dialect == "postgresql":
        def agg(expr: str) -> str:
            return f"string_agg({expr}, '、')"
        target = "g.metric || ' ' || g.comparator || ' ' || COALESCE(CAST(g.value AS TEXT), 'X') || g.unit"
    else:
        def agg(expr: str) -> str:
            return f"group_concat({expr}, '、')"
        target = "g.metric || ' ' || g.comparator || ' ' || COALESCE(g.value, 'X') || g.unit"
    return TASK_LIST_VIEW.format(agg_lead=agg("u.name"), agg_support=agg("u.name"),
                                 agg_deadline=agg("d.text"), agg_target=agg(target))


# ---------------------------------------------------------------- web app (issue 12)

ROLES = ("admin", "supervisor", "unit", "viewer")
REVIEW_STATES = ("pending", "confirmed", "rejected", "merged")


class User(Base):
    """A web app account; the password is kept only as an argon2 hash."""
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(200), nullable=True)   # for role "unit"
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class WebSession(Base):
    """A login; the signed cookie carries `token`, so logout or disabling a user ends it."""
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class TaskReview(Base):
    """Review state of a task before publishing; tasks without a row are published."""
    __tablename__ = "task_reviews"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)      # REVIEW_STATES
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)
    by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    close_requested_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    close_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Correction(Base):
    """One reviewer correction of an extracted task: who, when, before -> after (JSON)."""
    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))        # confirm | edit | merge | reject
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
