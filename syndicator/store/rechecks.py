"""The articles the withdrawal check (syndicator/recheck.py) asks WordPress about."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from syndicator.store import tables as t
from syndicator.store.engine import Store

LIMIT = 2_000  # a day's worth for a very busy newsroom; the newest first


def recent_live(store: Store, feed: str, *, since: datetime) -> list[RowMapping]:
    """Articles of `feed` first seen since `since` that are queued or posted (not withdrawn, not skipped)."""
    a = t.articles
    query = (
        select(a.c.id, a.c.guid, a.c.url)
        .where(a.c.feed == feed, a.c.state == "queued", a.c.first_seen_at >= since)
        .order_by(a.c.first_seen_at.desc())
        .limit(LIMIT)
    )
    with store.engine.connect() as conn:
        return list(conn.execute(query).mappings())
