"""Feed gaps (syndicator/gaps.py): one row per feed, the newest gap a poll could not close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update

from syndicator.store import tables as t
from syndicator.store.engine import Store


def open_gap(store: Store, feed: str, *, reason: str, now: datetime) -> None:
    g = t.feed_gaps
    values = {"open": True, "detected_at": now, "reason": reason[:500], "closed_at": None}
    with store.engine.begin() as conn:
        if conn.execute(update(g).where(g.c.feed == feed).values(**values)).rowcount == 0:
            conn.execute(insert(g).values(feed=feed, **values))


def close_gap(store: Store, feed: str, *, now: datetime) -> bool:
    """True when an open gap was closed now."""
    g = t.feed_gaps
    with store.engine.begin() as conn:
        result = conn.execute(update(g).where(g.c.feed == feed, g.c.open.is_(True)).values(open=False, closed_at=now))
        return bool(result.rowcount)


def recent_gaps(store: Store, *, since: datetime) -> dict[str, dict[str, Any]]:
    """Feed → its gap detected since `since` (open or not): what `status` shows."""
    g = t.feed_gaps
    with store.engine.connect() as conn:
        rows = conn.execute(select(g).where(g.c.detected_at >= since)).mappings()
        return {r["feed"]: dict(r) for r in rows}


def open_gaps(store: Store) -> dict[str, tuple[datetime, str]]:
    """Feed → (detected_at, reason) of its gap still open: what the `gap:FEED` alert is derived from, so a
    restarted worker alerts on it as the one that saw it did."""
    g = t.feed_gaps
    with store.engine.connect() as conn:
        rows = conn.execute(select(g.c.feed, g.c.detected_at, g.c.reason).where(g.c.open.is_(True))).all()
    return {r.feed: (r.detected_at, r.reason) for r in rows}


def gap_lines(store: Store, *, since: datetime) -> dict[str, str]:
    """Feed → one line about its gap detected since `since`, for `status` (a closed one says when it closed)."""
    return {feed: _line(gap) for feed, gap in recent_gaps(store, since=since).items()}


def _line(gap: dict[str, Any]) -> str:
    closed = gap["closed_at"]
    when = f" (closed {closed:%Y-%m-%d %H:%M} UTC)" if not gap["open"] and closed is not None else ""
    return f"gap at {gap['detected_at']:%Y-%m-%d %H:%M} UTC{when}: {gap['reason']}"


def known_keys(store: Store, feed: str, keys: list[str], url_keys: list[str]) -> set[str]:
    """Which of `keys` (identity keys) and `url_keys` the feed has recorded, in one indexed query."""
    a = t.articles
    if not keys and not url_keys:
        return set()
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(a.c.key, a.c.url_key).where(a.c.feed == feed, or_(a.c.key.in_(keys), a.c.url_key.in_(url_keys)))
        ).all()
    return {r.key for r in rows} | {r.url_key for r in rows}


def skipped_fingerprints(store: Store, feed: str, keys: list[str]) -> dict[str, str]:
    """Identity key → stored fingerprint of those of `keys` the feed recorded as `skipped` (one indexed query)."""
    a = t.articles
    if not keys:
        return {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(a.c.key, a.c.fingerprint).where(a.c.feed == feed, a.c.key.in_(keys), a.c.state == "skipped")
        ).all()
    return {r.key: r.fingerprint for r in rows}
