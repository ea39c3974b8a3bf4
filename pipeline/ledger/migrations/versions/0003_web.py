"""Web app tables: users, login sessions, login attempts, task review state, reviewer corrections.

Revision ID: 0003_web
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_web"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(200), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False))
    op.create_table(
        "web_sessions", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False))
    op.create_table(
        "login_attempts", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, index=True),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False, index=True))
    op.create_table(
        "task_reviews",
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("merged_into", sa.Integer, nullable=True),
        sa.Column("by", sa.String(100), nullable=True),
        sa.Column("at", sa.DateTime, nullable=True),
        sa.Column("close_requested_by", sa.String(100), nullable=True),
        sa.Column("close_requested_at", sa.DateTime, nullable=True))
    op.create_table(
        "corrections", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False))


def downgrade() -> None:
    for name in ("corrections", "task_reviews", "login_attempts", "web_sessions", "users"):
        op.drop_table(name)
