"""What an editor does by hand: find an article, queue it again, record a retraction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import RowMapping

from syndicator.article import DeliveryKind as K
from syndicator.article import DeliveryState as S
from syndicator.article import Post
from syndicator.store import tables as t
from syndicator.store.articles import SKIPPED
from syndicator.store.deliveries import Delivery, insert_delivery, to_delivery
from syndicator.store.engine import Store


def find_articles(store: Store, ref: str, ref_key: str | None) -> list[RowMapping]:
    """By row id, by the feed's id (guid), or by URL (any http/https/www/tracking variant)."""
    a = t.articles
    cond = [a.c.guid == ref, a.c.url == ref]
    if ref.isdigit():
        cond.append(a.c.id == int(ref))
    if ref_key:
        cond += [a.c.url_key == ref_key, a.c.key == ref_key]
    with store.engine.connect() as conn:
        return list(conn.execute(select(a).where(or_(*cond)).order_by(a.c.id)).mappings())


def find_wordpress_post(store: Store, feed: str, post_id: int) -> list[RowMapping]:
    """By WordPress post id: guids look like `https://host/path/?p=123`, whatever host the site has today."""
    a = t.articles
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(a).where(
                a.c.feed == feed, or_(a.c.guid.like(f"%?p={int(post_id)}"), a.c.guid.like(f"%&p={int(post_id)}"))
            )
        ).mappings()
        return list(rows)


def latest_deliveries(store: Store, article_id: int) -> list[Delivery]:
    """The newest generation of each (target, recipient) for an article."""
    d = t.deliveries
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(d)
            .where(d.c.article_id == article_id, d.c.kind == K.POST)
            .order_by(d.c.target, d.c.recipient, d.c.generation.desc())
        ).mappings()
        seen: set[tuple[str, str]] = set()
        out = []
        for row in rows:
            key = (row["target"], row["recipient"])
            if key not in seen:
                seen.add(key)
                out.append(to_delivery(row))
        return out


def requeue(store: Store, delivery_id: int, *, now: datetime, post: Post | None = None) -> bool:
    """failed/unknown/held → pending, due now, with a fresh count of attempts (an editor's resend gets the
    target's full retries again). Returns False if the delivery was not in such a state."""
    d = t.deliveries
    values: dict[str, Any] = {
        "state": S.PENDING,
        "attempts": 0,
        "not_before": now,
        "updated_at": now,
        "error_class": None,
        "last_error": None,
        "wait_reason": None,
        "sending_at": None,
        "lease_owner": None,
        "lease_until": None,
        "manual": True,
    }
    if post is not None:
        values["post"] = post.to_json()
    with store.engine.begin() as conn:
        result = conn.execute(
            update(d).where(d.c.id == delivery_id, d.c.state.in_((S.FAILED, S.UNKNOWN, S.HELD))).values(**values)
        )
        return bool(result.rowcount)


def add_delivery(
    store: Store,
    *,
    article_id: int,
    feed: str,
    target: str,
    recipient: str,
    post: Post,
    published_at: datetime | None,
    now: datetime,
) -> int:
    """A new delivery for (article, target, recipient): the next generation, so a forced resend is a new row.

    An editor's resend overrides the newsroom's opt-out: a `skipped` article becomes `queued` in the same
    transaction, so what watches queued articles (the withdrawal re-check, status) sees it."""
    a = t.articles
    with store.engine.begin() as conn:
        conn.execute(update(a).where(a.c.id == article_id, a.c.state == SKIPPED).values(state="queued", reason=None))
        return insert_delivery(
            conn, article_id=article_id, feed=feed, target=target, recipient=recipient, post_json=post.to_json(),
            published_at=published_at, now=now, manual=True,
        )  # fmt: skip


def mark_retracted(store: Store, delivery_id: int, *, now: datetime) -> None:
    d = t.deliveries
    with store.engine.begin() as conn:
        conn.execute(update(d).where(d.c.id == delivery_id).values(state=S.RETRACTED, updated_at=now))


def set_article_state(store: Store, article_id: int, state: str, *, reason: str | None = None) -> None:
    a = t.articles
    with store.engine.begin() as conn:
        conn.execute(update(a).where(a.c.id == article_id).values(state=state, reason=reason))


def hold(store: Store, article_id: int, *, now: datetime, reason: str) -> int:
    """Stop what has not gone out yet (pending/retry) for an article. Returns how many were held."""
    d = t.deliveries
    with store.engine.begin() as conn:
        result = conn.execute(
            update(d)
            .where(d.c.article_id == article_id, d.c.state.in_((S.PENDING, S.RETRY)))
            .values(state=S.HELD, wait_reason=reason, updated_at=now, lease_owner=None, lease_until=None)
        )
        return int(result.rowcount)


def release(store: Store, article_id: int, *, now: datetime) -> int:
    d = t.deliveries
    with store.engine.begin() as conn:
        result = conn.execute(
            update(d)
            .where(d.c.article_id == article_id, d.c.state == S.HELD)
            .values(state=S.PENDING, not_before=now, wait_reason=None, updated_at=now)
        )
        return int(result.rowcount)


def queue_followup(store: Store, parent: Delivery, *, kind: K, post: Post, now: datetime) -> int:
    """An edit or a delete of a post that was sent: a delivery of its own, so it is governed, retried, recorded."""
    with store.engine.begin() as conn:
        return insert_delivery(
            conn, article_id=parent.article_id, feed=parent.feed, target=parent.target, recipient=parent.recipient,
            post_json=post.to_json(), published_at=parent.published_at, now=now, kind=kind, parent_id=parent.id,
            priority=parent.priority,
        )  # fmt: skip


def cancel_unsent(
    store: Store, article_id: int, *, now: datetime, reason: str, targets: list[str] | None = None
) -> int:
    """Deliveries that never went out are cancelled for good, in one statement: a worker about to send one finds
    it no longer due (its `sending` mark needs the row still pending), so nothing slips through."""
    d = t.deliveries
    where = [d.c.article_id == article_id, d.c.state.in_((S.PENDING, S.RETRY, S.HELD))]
    if targets:
        where.append(d.c.target.in_(targets))
    with store.engine.begin() as conn:
        result = conn.execute(
            update(d)
            .where(*where)
            .values(
                state=S.RETRACTED, error_class="withdrawn", last_error=reason, updated_at=now,
                lease_owner=None, lease_until=None,
            )
        )  # fmt: skip
        return int(result.rowcount)


def sent_posts(store: Store, article_id: int) -> list[Delivery]:
    """Every post of an article that is (or may be) on a platform: all generations, sent, sending or unknown."""
    d = t.deliveries
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(d)
            .where(
                d.c.article_id == article_id,
                d.c.kind == K.POST,
                d.c.state.in_((S.SENT, S.SENDING, S.UNKNOWN)),
            )
            .order_by(d.c.id)
        ).mappings()
        return [to_delivery(r) for r in rows]


def reinstate(store: Store, article_id: int, *, now: datetime) -> list[Delivery]:
    """An article published again after a withdrawal: it is queued again. Returns the withdrawn posts, newest
    generation per (target, recipient), for the caller to queue anew."""
    a = t.articles
    with store.engine.begin() as conn:
        conn.execute(
            update(a).where(a.c.id == article_id, a.c.state == "withdrawn").values(state="queued", reason=None)
        )
    return [d for d in latest_deliveries(store, article_id) if d.state == S.RETRACTED]
