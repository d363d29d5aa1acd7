"""WordPress-native (issue 16): the newsroom's per-article choices (opt-out, per-platform skips, custom texts)
and the feed gaps a poll could not close.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editorial_choices",
        sa.Column("feed", sa.String(length=200), primary_key=True),
        sa.Column("ref", sa.String(length=500), primary_key=True),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "feed_gaps",
        sa.Column("feed", sa.String(length=200), primary_key=True),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("feed_gaps")
    op.drop_table("editorial_choices")
