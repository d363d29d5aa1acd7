"""Corrections and withdrawals as deliveries of their own kind; WebSub subscription state per feed.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="post"))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_deliveries_once", type_="unique")
        batch.create_unique_constraint(
            "uq_deliveries_once", ["article_id", "target", "recipient", "kind", "generation"]
        )
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("hub", sa.Text(), nullable=True))
        batch.add_column(sa.Column("topic", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sub_state", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("sub_secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sub_requested_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sub_expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for name in ("sub_expires_at", "sub_requested_at", "sub_secret", "sub_state", "topic", "hub"):
            batch.drop_column(name)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_once", type_="unique")
        batch.create_unique_constraint("uq_deliveries_once", ["article_id", "target", "recipient", "generation"])
        batch.drop_column("parent_id")
        batch.drop_column("kind")
