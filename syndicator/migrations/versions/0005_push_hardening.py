"""Pushes that cannot be forged or replayed: signed webhook calls remembered in the store (shared by every
worker, kept across restarts); a WebSub subscription's callback token and whether we are waiting for its
verification.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_replays",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_webhook_replays_seen", "webhook_replays", ["seen_at"])
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("sub_token", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sub_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    # a subscription made before tokens cannot be told from a forged one (a stranger could verify anything):
    # forget it, so the feed is polled at its normal pace and subscribed again, with a token, at once
    op.execute(
        "UPDATE feeds SET sub_state = NULL, sub_expires_at = NULL, sub_requested_at = NULL WHERE sub_state IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("sub_pending")
        batch.drop_column("sub_token")
    op.drop_index("ix_webhook_replays_seen", table_name="webhook_replays")
    op.drop_table("webhook_replays")
