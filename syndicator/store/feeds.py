"""Per-feed polling state: HTTP validators, last result, next poll, and the poll lease for several workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from syndicator.store import tables as t
from syndicator.store.engine import Store


@dataclass(frozen=True)
class FeedState:
    name: str
    etag: str | None
    last_modified: str | None
    initialized: bool
    hub: str | None = None  # the WebSub hub and topic last remembered: a poll that sees the same writes nothing
    topic: str | None = None


def ensure_feeds(store: Store, names_urls: dict[str, str]) -> None:
    """Every configured feed has its row, with its configured URL; rows already so are not written again."""
    f = t.feeds
    with store.engine.connect() as conn:
        existing = {r.name: r.url for r in conn.execute(select(f.c.name, f.c.url))}
    missing = {n: u for n, u in names_urls.items() if n not in existing}
    moved = [{"n": n, "u": u} for n, u in names_urls.items() if n in existing and existing[n] != u]
    if not missing and not moved:
        return
    with store.write() as conn:
        for name, url in missing.items():
            try:
                with conn.begin_nested():
                    conn.execute(insert(f).values(name=name, url=url, initialized=False, last_items=0))
                continue
            except IntegrityError:
                moved.append({"n": name, "u": url})  # another worker starting at the same moment created it
        if moved:
            conn.execute(update(f).where(f.c.name == bindparam("n")).values(url=bindparam("u")), moved)


_F = t.feeds
# Built once: these run for every poll of every feed (constructing a statement costs more than running it)
_CLAIM = (
    update(_F)
    .where(
        _F.c.name == bindparam("n"),
        or_(_F.c.lease_until.is_(None), _F.c.lease_until < bindparam("now"), _F.c.lease_owner == bindparam("w")),
    )
    .values(lease_owner=bindparam("w"), lease_until=bindparam("until"))
    .returning(_F.c.etag, _F.c.last_modified, _F.c.initialized, _F.c.hub, _F.c.topic)
)


def claim_feed(store: Store, name: str, *, worker: str, now: datetime, lease: timedelta) -> FeedState | None:
    """Take the poll lease for a feed (one statement); None if another worker is polling it right now."""
    params = {"n": name, "now": now, "w": worker, "until": now + lease}
    with store.write() as conn:
        row = conn.execute(_CLAIM, params).first()
        if row is None:
            if conn.execute(select(_F.c.name).where(_F.c.name == name)).first() is not None:
                return None  # another worker holds it
            try:  # a feed added since the worker started
                with conn.begin_nested():
                    conn.execute(insert(_F).values(name=name, url="", initialized=False, last_items=0))
            except IntegrityError:
                pass  # another worker created it a moment ago
            row = conn.execute(_CLAIM, params).first()
            if row is None:
                return None
    return FeedState(name, row.etag, row.last_modified, bool(row.initialized), row.hub, row.topic)


def claim_feeds(
    store: Store, names: list[str], *, worker: str, now: datetime, lease: timedelta
) -> dict[str, FeedState]:
    """Take the poll lease of many feeds in one statement; the feeds another worker is polling (or, on PostgreSQL,
    claiming this very moment) are left out. A feed with no row yet (added since the worker started) is claimed
    one by one, as `claim_feed` does."""
    if not names:
        return {}
    free = or_(_F.c.lease_until.is_(None), _F.c.lease_until < now, _F.c.lease_owner == worker)
    pick = select(_F.c.name).where(_F.c.name.in_(names), free)
    if store.is_postgres:
        # rows another worker's claim holds are skipped, not waited for: two claims of overlapping sets can
        # neither deadlock nor take a feed twice (the conditions again in the UPDATE, as claim_due does)
        pick = pick.with_for_update(skip_locked=True)
    picked = pick.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    claim = (
        update(_F)
        .where(_F.c.name == picked.c.name, free)
        .values(lease_owner=worker, lease_until=now + lease)
        .returning(_F.c.name, _F.c.etag, _F.c.last_modified, _F.c.initialized, _F.c.hub, _F.c.topic)
    )
    with store.write() as conn:
        rows = conn.execute(claim).all()
        got = {r.name: FeedState(r.name, r.etag, r.last_modified, bool(r.initialized), r.hub, r.topic) for r in rows}
        missing = [n for n in names if n not in got]
        known = set(conn.execute(select(_F.c.name).where(_F.c.name.in_(missing))).scalars()) if missing else set()
    for name in missing:
        if name not in known:  # rare: a feed without its row
            state = claim_feed(store, name, worker=worker, now=now, lease=lease)
            if state is not None:
                got[name] = state
    return got


# One statement each, built once, run with executemany for a whole set of polls (`finish_polls`)
_OURS = or_(_F.c.lease_owner == bindparam("w"), _F.c.lease_owner.is_(None))
_FINISHED_UNCHANGED = (
    update(_F)
    .where(_F.c.name == bindparam("n"), _OURS)
    .values(
        last_poll_at=bindparam("now"), last_status=bindparam("status"), next_poll_at=bindparam("next"),
        lease_owner=None, lease_until=None, last_ok_at=bindparam("now"), last_error=None, failing_since=None,
    )
)  # fmt: skip
_FINISHED_FAILED = (
    update(_F)
    .where(_F.c.name == bindparam("n"), _OURS)
    .values(
        last_poll_at=bindparam("now"), last_status="failed", next_poll_at=bindparam("next"),
        lease_owner=None, lease_until=None, last_error=bindparam("error"),
        failing_since=func.coalesce(_F.c.failing_since, bindparam("now")),
    )
)  # fmt: skip


@dataclass(frozen=True)
class Finished:
    """A poll's result that writes nothing but the feed's own row: not modified, or failed with `error`."""

    name: str
    now: datetime  # when the poll began (its claim)
    next_poll: datetime
    error: str | None = None  # None: not modified


def finish_polls(store: Store, results: list[Finished], *, worker: str) -> None:
    """Many polls' results and their leases released, in one transaction (an executemany per kind): exactly what
    `finish_poll` writes for each, with status not_modified or failed."""
    unchanged = [{"n": r.name, "w": worker, "now": r.now, "next": r.next_poll, "status": "not_modified"}
                 for r in results if r.error is None]  # fmt: skip
    failed = [{"n": r.name, "w": worker, "now": r.now, "next": r.next_poll, "error": r.error}
              for r in results if r.error is not None]  # fmt: skip
    if not results:
        return
    with store.write() as conn:
        if unchanged:
            conn.execute(_FINISHED_UNCHANGED, unchanged)
        if failed:
            conn.execute(_FINISHED_FAILED, failed)


def finish_poll(store: Store, name: str, **result: Any) -> None:
    """The poll's result (`finish_poll_in`'s keywords) in a transaction of its own."""
    with store.write() as conn:
        finish_poll_in(conn, name, **result)


def finish_poll_in(
    conn: Connection,
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
    """The poll's result and the lease released, in one statement of the caller's transaction."""
    values: dict[str, object] = {
        "last_poll_at": now,
        "last_status": status,
        "next_poll_at": next_poll,
        "lease_owner": None,
        "lease_until": None,
    }
    if status == "failed":
        values.update(last_error=error, failing_since=func.coalesce(_F.c.failing_since, now))
    else:
        values.update(last_ok_at=now, last_error=None, failing_since=None)
        if status == "ok":
            values.update(etag=etag, last_modified=last_modified)
        if items is not None:
            values["last_items"] = items
    ours = or_(_F.c.lease_owner == worker, _F.c.lease_owner.is_(None))
    conn.execute(update(_F).where(_F.c.name == name, ours).values(**values))


def remember_hub(store: Store, name: str, *, hub: str, topic: str) -> None:
    """The WebSub hub a feed advertises; a change of hub or topic means a new subscription."""
    f = t.feeds
    with store.write() as conn:
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
