"""Indexes for finding an article by the feed's guid or its URL (resend, retract, webhook pushes).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_guid", "articles", ["guid"])
    op.create_index("ix_articles_url", "articles", ["url"])


def downgrade() -> None:
    op.drop_index("ix_articles_url", table_name="articles")
    op.drop_index("ix_articles_guid", table_name="articles")
