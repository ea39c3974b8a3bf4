"""Integrity and full records: one current version per speech and per document, an
append-only status history enforced by the database, the write lock row (SQLite),
and the rule ids of every extracted item.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# status_events is append-only: the database refuses changes, not only the code
SQLITE_TRIGGERS = [
    """CREATE TRIGGER status_events_no_update BEFORE UPDATE ON status_events
       BEGIN SELECT RAISE(ABORT, 'status_events is append-only'); END""",
    """CREATE TRIGGER status_events_no_delete BEFORE DELETE ON status_events
       BEGIN SELECT RAISE(ABORT, 'status_events is append-only'); END""",
]
PG_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION status_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'status_events is append-only'; END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER status_events_no_change BEFORE UPDATE OR DELETE ON status_events
       FOR EACH ROW EXECUTE FUNCTION status_events_append_only()""",
    """CREATE TRIGGER status_events_no_truncate BEFORE TRUNCATE ON status_events
       FOR EACH STATEMENT EXECUTE FUNCTION status_events_append_only()""",
]
RULES_TABLES = ("tasks", "task_units", "deadlines", "targets")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    with op.batch_alter_table("documents") as b:
        b.add_column(sa.Column("current", sa.Boolean, nullable=False, server_default=sa.false()))
    # the newest complete document of each source is its current content
    op.execute("""UPDATE documents SET current = TRUE WHERE id IN (
                    SELECT MAX(id) FROM documents WHERE complete GROUP BY source_key)""")
    op.create_index("uq_documents_current", "documents", ["source_key"], unique=True,
                    sqlite_where=sa.text("current"), postgresql_where=sa.text("current"))
    # speeches duplicated by concurrent ingests before this revision: keep the oldest current copy
    op.execute("""UPDATE speeches SET current = FALSE WHERE current AND id NOT IN (
                    SELECT MIN(id) FROM speeches WHERE current GROUP BY source_key, speech_index)""")
    op.create_index("uq_speeches_current", "speeches", ["source_key", "speech_index"], unique=True,
                    sqlite_where=sa.text("current"), postgresql_where=sa.text("current"))
    for table in RULES_TABLES:
        with op.batch_alter_table(table) as b:
            b.add_column(sa.Column("rules", sa.Text, nullable=False, server_default=""))
    if not sa.inspect(bind).has_table("write_lock"):
        op.create_table("write_lock", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("n", sa.Integer, nullable=False))
    op.execute("INSERT INTO write_lock (id, n) SELECT 1, 0 WHERE NOT EXISTS "
               "(SELECT 1 FROM write_lock WHERE id = 1)")
    for sql in (PG_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS):
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS status_events_no_change ON status_events")
        op.execute("DROP TRIGGER IF EXISTS status_events_no_truncate ON status_events")
        op.execute("DROP FUNCTION IF EXISTS status_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS status_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS status_events_no_delete")
    op.drop_table("write_lock")
    for table in RULES_TABLES:
        with op.batch_alter_table(table) as b:
            b.drop_column("rules")
    op.drop_index("uq_speeches_current", "speeches")
    op.drop_index("uq_documents_current", "documents")
    with op.batch_alter_table("documents") as b:
        b.drop_column("current")
