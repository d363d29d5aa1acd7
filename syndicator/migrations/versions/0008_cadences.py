"""A cadence shared by every worker (issue 16, point 4): one row per periodic job (the WordPress withdrawal
re-check of a feed, `recheck:FEED`), with when it is next due and which worker holds it now, so N workers on one
database run one round per interval between them, and a round whose worker died is taken over when its lease ends.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cadences",
        sa.Column("job", sa.String(length=300), primary_key=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_done_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("cadences")
