"""Per-feed polling state: HTTP validators, last result, next poll, and the poll lease for several workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from syndicator.store import tables as t
from syndicator.store.engine import Store


@dataclass(frozen=True)
class FeedState:
    name: str
    etag: str | None
    last_modified: str | None
    initialized: bool


def ensure_feeds(store: Store, names_urls: dict[str, str]) -> None:
    with store.engine.begin() as conn:
        existing = {r.name for r in conn.execute(select(t.feeds.c.name))}
        for name, url in names_urls.items():
            if name not in existing:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(t.feeds).values(name=name, url=url, initialized=False, last_items=0))
                    continue
                except IntegrityError:
                    pass  # another worker starting at the same moment created it
            conn.execute(update(t.feeds).where(t.feeds.c.name == name).values(url=url))


def claim_feed(store: Store, name: str, *, worker: str, now: datetime, lease: timedelta) -> FeedState | None:
    """Take the poll lease for a feed; None if another worker is polling it right now."""
    with store.engine.begin() as conn:
        if conn.execute(select(t.feeds.c.name).where(t.feeds.c.name == name)).first() is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(t.feeds).values(name=name, url="", initialized=False, last_items=0))
            except IntegrityError:
                pass  # another worker created it a moment ago
        result = conn.execute(
            update(t.feeds)
            .where(
                t.feeds.c.name == name,
                or_(
                    t.feeds.c.lease_until.is_(None),
                    t.feeds.c.lease_until < now,
                    t.feeds.c.lease_owner == worker,
                ),
            )
            .values(lease_owner=worker, lease_until=now + lease)
        )
        if result.rowcount == 0:
            return None
        row = conn.execute(select(t.feeds).where(t.feeds.c.name == name)).mappings().one()
        return FeedState(name, row["etag"], row["last_modified"], bool(row["initialized"]))


def finish_poll(
    store: Store,
    name: str,
    *,
    worker: str,
    now: datetime,
    next_poll: datetime,
    status: str,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    items: int | None = None,
) -> None:
    values: dict[str, object] = {
        "last_poll_at": now,
        "last_status": status,
        "next_poll_at": next_poll,
        "lease_owner": None,
        "lease_until": None,
    }
    if status == "failed":
        values["last_error"] = error
    else:
        values.update(last_ok_at=now, last_error=None, failing_since=None)
        if status == "ok":
            values.update(etag=etag, last_modified=last_modified)
        if items is not None:
            values["last_items"] = items
    with store.engine.begin() as conn:
        conn.execute(
            update(t.feeds)
            .where(t.feeds.c.name == name, or_(t.feeds.c.lease_owner == worker, t.feeds.c.lease_owner.is_(None)))
            .values(**values)
        )
        if status == "failed":
            conn.execute(
                update(t.feeds)
                .where(and_(t.feeds.c.name == name, t.feeds.c.failing_since.is_(None)))
                .values(failing_since=now)
            )


def remember_hub(store: Store, name: str, *, hub: str, topic: str) -> None:
    """The WebSub hub a feed advertises; a change of hub or topic means a new subscription."""
    f = t.feeds
    with store.engine.begin() as conn:
        conn.execute(
            update(f)
            .where(f.c.name == name, or_(f.c.hub.is_(None), f.c.hub != hub, f.c.topic != topic))
            .values(hub=hub, topic=topic, sub_state=None, sub_expires_at=None, sub_token=None, sub_pending=False)
        )


@dataclass(frozen=True)
class Subscription:
    feed: str
    hub: str
    topic: str
    state: str | None
    secret: str | None = field(repr=False)
    requested_at: datetime | None
    expires_at: datetime | None
    last_poll_at: datetime | None
    token: str | None = field(default=None, repr=False)  # in our callback URL; None: made before tokens
    pending: bool = False  # we asked the hub and wait for its verification (a first request or a renewal)


def subscriptions(store: Store) -> list[Subscription]:
    f = t.feeds
    with store.engine.connect() as conn:
        rows = conn.execute(select(f).where(f.c.hub.is_not(None), f.c.topic.is_not(None))).mappings().all()
    return [
        Subscription(
            r["name"],
            r["hub"],
            r["topic"],
            r["sub_state"],
            r["sub_secret"],
            r["sub_requested_at"],
            r["sub_expires_at"],
            r["last_poll_at"],
            r["sub_token"],
            bool(r["sub_pending"]),
        )
        for r in rows
    ]


def subscription(store: Store, feed: str) -> Subscription | None:
    return next((s for s in subscriptions(store) if s.feed == feed), None)


def set_subscription(store: Store, feed: str, **values: object) -> None:
    """sub_state / sub_secret / sub_token / sub_pending / sub_requested_at / sub_expires_at."""
    f = t.feeds
    with store.engine.begin() as conn:
        conn.execute(update(f).where(f.c.name == feed).values(**values))


def claim_subscription_request(
    store: Store,
    feed: str,
    *,
    seen_requested_at: datetime | None,
    now: datetime,
    secret: str,
    token: str,
    state: str,
) -> bool:
    """Take the right to send the next (re)subscription request for a feed, with the secret and callback token
    it will carry; from now on the hub's verification is expected.

    Compare-and-set on `sub_requested_at`: it succeeds only if nobody requested since this worker read the
    subscription, so with several workers on one database exactly one asks the hub, and the secret stored is the
    one that worker sends.
    """
    f = t.feeds
    seen = f.c.sub_requested_at.is_(None) if seen_requested_at is None else f.c.sub_requested_at == seen_requested_at
    with store.engine.begin() as conn:
        result = conn.execute(
            update(f)
            .where(f.c.name == feed, seen)
            .values(sub_requested_at=now, sub_secret=secret, sub_token=token, sub_state=state, sub_pending=True)
        )
    return result.rowcount == 1


def confirm_subscription(store: Store, feed: str, *, token: str, expires_at: datetime) -> bool:
    """The hub verified the request we are waiting for. Conditional on the token still being the stored one:
    a new request made meanwhile (new token, new secret) is not confirmed by the old one's verification."""
    f = t.feeds
    with store.engine.begin() as conn:
        result = conn.execute(
            update(f)
            .where(f.c.name == feed, f.c.sub_token == token, f.c.sub_pending.is_(True))
            .values(sub_state="active", sub_expires_at=expires_at, sub_pending=False)
        )
    return result.rowcount == 1


def deny_subscription(store: Store, feed: str, *, token: str) -> bool:
    f = t.feeds
    with store.engine.begin() as conn:
        result = conn.execute(
            update(f)
            .where(f.c.name == feed, f.c.sub_token == token)
            .values(sub_state="failed", sub_expires_at=None, sub_pending=False)
        )
    return result.rowcount == 1
