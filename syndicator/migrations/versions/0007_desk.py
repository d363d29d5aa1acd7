"""The editors' desk (issue 17): its users (argon2 hashes), sessions (token hashes), failed logins (rate limiting
shared by every worker), the audit trail, and editors' texts for posts that have not gone out.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_users",
        sa.Column("name", sa.String(length=100), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "desk_sessions",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column(
            "username", sa.String(length=100), sa.ForeignKey("desk_users.name", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_desk_sessions_user", "desk_sessions", ["username"])
    op.create_table(
        "desk_logins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_desk_logins_at", "desk_logins", ["at"])
    op.create_table(
        "desk_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_desk_audit_article", "desk_audit", ["article_id"])
    op.create_index("ix_desk_audit_at", "desk_audit", ["at"])
    op.create_table(
        "desk_edits",
        sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("desk_edits")
    op.drop_index("ix_desk_audit_at", table_name="desk_audit")
    op.drop_index("ix_desk_audit_article", table_name="desk_audit")
    op.drop_table("desk_audit")
    op.drop_index("ix_desk_logins_at", table_name="desk_logins")
    op.drop_table("desk_logins")
    op.drop_index("ix_desk_sessions_user", table_name="desk_sessions")
    op.drop_table("desk_sessions")
    op.drop_table("desk_users")
