"""Initial ledger schema: documents, speeches, headings, tasks, units, aliases, links,
deadlines, targets, status events, and the `task_list` view.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _span() -> list[sa.Column]:
    return [sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "documents", _id(),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_key", sa.Text, nullable=False, index=True),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("encoding", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("ingested_at", sa.DateTime, nullable=False))
    op.create_table(
        "speeches", _id(),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False, index=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("speech_index", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("date", sa.Date, nullable=True),
        sa.Column("year", sa.Integer, nullable=True),
        *_span(),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("current", sa.Boolean, nullable=False, index=True),
        sa.Column("previous_id", sa.Integer, sa.ForeignKey("speeches.id"), nullable=True),
        sa.Column("extractor", sa.String(32), nullable=False),
        sa.Column("ingested_at", sa.DateTime, nullable=False))
    op.create_index("ix_speeches_source_key", "speeches", ["source_key", "speech_index"])
    op.create_table(
        "headings", _id(),
        sa.Column("speech_id", sa.Integer, sa.ForeignKey("speeches.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        *_span(),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("marker", sa.String(32), nullable=False),
        sa.Column("parent", sa.Integer, nullable=True))
    op.create_table(
        "tasks", _id(),
        sa.Column("speech_id", sa.Integer, sa.ForeignKey("speeches.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        *_span(),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("modality", sa.String(16), nullable=False, index=True),
        sa.Column("specific", sa.Boolean, nullable=False),
        sa.Column("segment", sa.Integer, nullable=False),
        sa.Column("heading_id", sa.Integer, sa.ForeignKey("headings.id"), nullable=True),
        sa.Column("extractor", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("due", sa.Date, nullable=True, index=True),
        sa.Column("lineage_id", sa.Integer, nullable=True, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("status_note", sa.Text, nullable=True))
    op.create_table(
        "units", _id(),
        sa.Column("name", sa.String(200), nullable=False, unique=True))
    op.create_table(
        "unit_aliases", _id(),
        sa.Column("alias", sa.String(200), nullable=False, unique=True),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
        sa.Column("origin", sa.String(16), nullable=False))
    op.create_table(
        "task_units", _id(),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
        sa.Column("text", sa.String(200), nullable=False),
        *_span(),
        sa.Column("role", sa.String(16), nullable=False))
    op.create_table(
        "deadlines", _id(),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        *_span(),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("due", sa.Date, nullable=True, index=True),
        sa.Column("placeholder", sa.Boolean, nullable=False))
    op.create_table(
        "targets", _id(),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        *_span(),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("comparator", sa.String(4), nullable=False),
        sa.Column("placeholder", sa.Boolean, nullable=False))
    op.create_table(
        "status_events", _id(),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False, index=True),
        sa.Column("lineage_id", sa.Integer, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("previous", sa.String(16), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("at", sa.DateTime, nullable=False))
    from speechledger.ledger.models import task_list_view_sql
    op.execute(task_list_view_sql(op.get_bind().dialect.name))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS task_list")
    for name in ("status_events", "targets", "deadlines", "task_units", "unit_aliases", "units",
                 "tasks", "headings", "speeches", "documents"):
        op.drop_table(name)
