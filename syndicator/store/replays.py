"""Signed webhook calls already seen: one row per call, in the database every worker shares.

The freshness check (`max_skew`) bounds how long a signature is valid, so a row only has to outlive that:
a call stamped T is accepted while |now - T| <= max_skew, at most 2 x max_skew after it was first seen.
A row that old is dead weight and is purged; one that is younger proves a replay.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError, OperationalError

from syndicator.store import tables as t
from syndicator.store.engine import Store

KEEP_FACTOR = 2  # rows are kept for KEEP_FACTOR x the freshness window


class StoreReplayGuard:
    """`first_time(key)` is an INSERT: the unique key makes it atomic across workers, threads and restarts."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def first_time(self, key: str, *, now: datetime, window: timedelta) -> bool:
        # hashed: a fixed-size key whatever the caller sent, and no signature kept verbatim
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        keep = window * KEEP_FACTOR
        r = t.webhook_replays
        try:
            with self.store.engine.begin() as conn:
                conn.execute(insert(r).values(key=digest, seen_at=now))
        except IntegrityError:
            # a row older than any valid signature (not purged yet: no call came since) is not a replay
            with self.store.engine.begin() as conn:
                taken = conn.execute(update(r).where(r.c.key == digest, r.c.seen_at < now - keep).values(seen_at=now))
            if taken.rowcount != 1:
                return False
        self._purge(now - keep)
        return True

    def _purge(self, before: datetime) -> None:
        """Indexed and bounded by the webhook's own rate, so every accepted call does it; in a transaction of its
        own, never the INSERT's, so workers purging the same rows do not hold up each other's calls."""
        try:
            with self.store.engine.begin() as conn:
                conn.execute(delete(t.webhook_replays).where(t.webhook_replays.c.seen_at < before))
        except OperationalError:
            pass  # busy or a deadlock victim: the call is recorded either way, the next one purges
