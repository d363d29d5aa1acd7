"""The withdrawal check's store side (syndicator/recheck.py): the articles it asks WordPress about, and the cadence
every worker shares, so N workers make one round per interval between them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
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


# ── a cadence shared by every worker (the `cadences` table) ──────────────────────────────────────────────────
# One row per job. A worker takes a due round with one conditional UPDATE (due, and no live lease): on PostgreSQL
# a second worker's UPDATE waits for the first to commit, then finds the lease taken and changes nothing; SQLite
# has one writer. The holder renews its lease while it works and, when done, sets the next due time and lets go;
# a holder that died (SIGKILL) leaves its lease to run out, and the round is taken by whoever looks next.


def claim_round(store: Store, job: str, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Take `job`'s round if it is due and nobody holds it. A job never seen before is due now."""
    c = t.cadences
    with store.write() as conn:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(insert(c).values(job=job, due_at=now).on_conflict_do_nothing(index_elements=[c.c.job]))
        result = conn.execute(
            update(c)
            .where(c.c.job == job, c.c.due_at <= now, or_(c.c.lease_until.is_(None), c.c.lease_until <= now))
            .values(lease_owner=worker, lease_until=now + lease)
        )
        return result.rowcount == 1


def renew_round(store: Store, job: str, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Keep holding `job`'s round; False when another worker has taken it over (this one's lease ran out)."""
    c = t.cadences
    with store.write() as conn:
        result = conn.execute(
            update(c).where(c.c.job == job, c.c.lease_owner == worker).values(lease_until=now + lease)
        )
        return result.rowcount == 1


def finish_round(store: Store, job: str, *, worker: str, next_due: datetime, now: datetime) -> bool:
    """The round is over: the next is due at `next_due`, and the lease is let go. False if it was not ours."""
    c = t.cadences
    with store.write() as conn:
        result = conn.execute(
            update(c)
            .where(c.c.job == job, c.c.lease_owner == worker)
            .values(due_at=next_due, lease_owner=None, lease_until=None, last_done_at=now)
        )
        return result.rowcount == 1


def cadence(store: Store, job: str) -> RowMapping | None:
    """`job`'s row (due_at, lease_owner, lease_until, last_done_at), or None before its first round."""
    c = t.cadences
    with store.engine.connect() as conn:
        return conn.execute(select(c).where(c.c.job == job)).mappings().first()
