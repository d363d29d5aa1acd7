"""Read-only views for `status` and `history` — cheap on a store with millions of deliveries (indexed)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping

from syndicator.article import DeliveryKind as K
from syndicator.article import DeliveryState as S
from syndicator.store import tables as t
from syndicator.store.articles import SKIPPED
from syndicator.store.deliveries import COUNTED_STATES, Delivery, to_delivery
from syndicator.store.engine import Store
from syndicator.store.gaps import gap_lines


def feed_status(store: Store, *, now: datetime) -> list[dict[str, Any]]:
    f, a = t.feeds, t.articles
    with store.engine.connect() as conn:
        # a range on the first_seen_at index, counted here: grouping in SQL lets SQLite walk the feed index instead
        # new = queued for posting (or withdrawn since); a first run's skipped backlog and too-old items are not;
        # skipped = kept off by the newsroom (opt-out), counted apart: nothing waits for them
        recent = Counter(
            (feed, state)
            for feed, state in conn.execute(
                select(a.c.feed, a.c.state).where(
                    a.c.first_seen_at >= now - timedelta(hours=24), a.c.state.in_(("queued", "withdrawn", SKIPPED))
                )
            )
        )
        rows = conn.execute(select(f).order_by(f.c.name)).mappings().all()
    gaps = gap_lines(store, since=now - timedelta(hours=24))
    return [
        {
            "feed": r["name"],
            "url": r["url"],
            "last_poll": r["last_poll_at"],
            "result": r["last_status"],
            "error": r["last_error"] or gaps.get(r["name"]),  # a gap a poll could not close (syndicator/gaps.py)
            "gap": gaps.get(r["name"]),
            "failing_since": r["failing_since"],
            "next_poll": r["next_poll_at"],
            "items": r["last_items"],
            "articles_24h": int(recent.get((r["name"], "queued"), 0) + recent.get((r["name"], "withdrawn"), 0)),
            "skipped_24h": int(recent.get((r["name"], SKIPPED), 0)),
        }
        for r in rows
    ]


def skipped_articles(
    store: Store, *, since: datetime, feed: str | None = None, article_ids: list[int] | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Articles recorded since `since` that the newsroom kept off social media (state `skipped`), newest first,
    with why: `history` lists them beside the deliveries, which they have none of."""
    a = t.articles
    query = (
        select(a.c.id, a.c.feed, a.c.guid, a.c.url, a.c.title, a.c.published_at, a.c.first_seen_at, a.c.reason)
        .where(a.c.state == SKIPPED, a.c.first_seen_at >= since)
        .order_by(a.c.first_seen_at.desc(), a.c.id.desc())
        .limit(limit)
    )
    if feed:
        query = query.where(a.c.feed == feed)
    if article_ids is not None:
        query = query.where(a.c.id.in_(article_ids))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def target_counts(store: Store, targets: Iterable[str], *, now: datetime) -> dict[str, dict[str, Any]]:
    d, ts = t.deliveries, t.target_state
    out: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for target, state, count in conn.execute(
            select(d.c.target, d.c.state, func.count()).group_by(d.c.target, d.c.state)
        ):
            out.setdefault(target, {})[state] = int(count)
        for target in targets:  # one index range per target on (target, sending_at)
            # sent: the platform confirmed it (sent_at), and it is still there or was retracted since; `unknown`
            # and `sending` ones may or may not be on the platform and are counted apart
            out.setdefault(target, {})["sent_24h"] = int(
                conn.execute(
                    select(func.count()).where(
                        d.c.target == target,
                        d.c.sending_at >= now - timedelta(hours=24),
                        d.c.sent_at.is_not(None),
                        d.c.state.in_((S.SENT, S.RETRACTED)),
                    )
                ).scalar_one()
            )
        for row in conn.execute(select(ts)).mappings():
            entry = out.setdefault(row["target"], {})
            entry["paused_until"] = row["paused_until"] if row["paused_until"] and row["paused_until"] > now else None
            entry["pause_reason"] = row["pause_reason"] if entry["paused_until"] or row["auth_failed"] else None
            entry["auth_failed"] = bool(row["auth_failed"])
            entry["rate"] = row["rate"]
        for target, first, reason in conn.execute(
            select(d.c.target, func.min(d.c.created_at), func.max(d.c.wait_reason))
            .where(d.c.state.in_((S.PENDING, S.RETRY)))
            .group_by(d.c.target)
        ):
            out.setdefault(target, {})["oldest_waiting"] = first
            out[target]["waiting_because"] = reason
    return out


def oldest_waiting(store: Store) -> dict[str, Any] | None:
    """The delivery that has waited longest (pending or retry), and why it waits."""
    d = t.deliveries
    with store.engine.connect() as conn:
        row = (
            conn.execute(
                select(d.c.id, d.c.target, d.c.created_at, d.c.not_before, d.c.wait_reason, d.c.last_error)
                .where(d.c.state.in_((S.PENDING, S.RETRY)))
                .order_by(d.c.created_at, d.c.id)
                .limit(1)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def send_times(store: Store, target: str, since: datetime) -> list[datetime]:
    d = t.deliveries
    with store.engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                select(d.c.sending_at)
                .where(d.c.target == target, d.c.sending_at >= since, d.c.state.in_(COUNTED_STATES))
                .order_by(d.c.sending_at.desc())
            )
        ]


def posts_with_links(store: Store, target: str, since: datetime) -> tuple[int, int]:
    """(posts with a link, posts without) that reached `target` since then: a platform may price them differently."""
    d = t.deliveries
    with_link = without = 0
    with store.engine.connect() as conn:
        for (post,) in conn.execute(
            select(d.c.post).where(
                d.c.target == target, d.c.sending_at >= since, d.c.state.in_(COUNTED_STATES), d.c.kind != K.DELETE
            )
        ):
            if json.loads(post).get("link"):
                with_link += 1
            else:
                without += 1
    return with_link, without


def history(
    store: Store,
    *,
    since: datetime | None = None,
    target: str | None = None,
    state: str | None = None,
    feed: str | None = None,
    article_ids: list[int] | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    d, a = t.deliveries, t.articles
    query = (
        select(
            d.c.id,
            d.c.article_id,
            d.c.feed,
            d.c.target,
            d.c.recipient,
            d.c.generation,
            d.c.kind,
            d.c.parent_id,
            d.c.state,
            d.c.attempts,
            d.c.created_at,
            d.c.updated_at,
            d.c.sent_at,
            d.c.not_before,
            d.c.remote_id,
            d.c.remote_url,
            d.c.error_class,
            d.c.last_error,
            d.c.wait_reason,
            a.c.guid,
            a.c.url,
            a.c.title,
            a.c.published_at,
        )
        .join(a, a.c.id == d.c.article_id)
        .order_by(d.c.updated_at.desc(), d.c.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(d.c.updated_at >= since)
    if target:
        query = query.where(d.c.target == target)
    if state:
        query = query.where(d.c.state == state)
    if feed:
        query = query.where(d.c.feed == feed)
    if article_ids is not None:
        query = query.where(d.c.article_id.in_(article_ids))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def waiting(store: Store, targets: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per target, what is queued (pending or retry): how many, when the first is due and why it waits."""
    d = t.deliveries
    names = list(targets)
    out: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for target, count, due in conn.execute(
            select(d.c.target, func.count(), func.min(d.c.not_before))
            .where(d.c.state.in_((S.PENDING, S.RETRY)), d.c.target.in_(names))
            .group_by(d.c.target)
        ):
            reason = conn.execute(
                select(d.c.wait_reason, d.c.last_error)
                .where(d.c.target == target, d.c.state.in_((S.PENDING, S.RETRY)), d.c.not_before == due)
                .limit(1)
            ).first()
            why = (reason.wait_reason or reason.last_error) if reason else None
            out[target] = {"queued": int(count), "next_due": due, "reason": why}
    return out


def article_rows(store: Store, ids: list[int]) -> list[RowMapping]:
    a = t.articles
    with store.engine.connect() as conn:
        return list(conn.execute(select(a).where(a.c.id.in_(ids)).order_by(a.c.id)).mappings())


def delivery_by_id(store: Store, delivery_id: int) -> Delivery | None:
    d = t.deliveries
    with store.engine.connect() as conn:
        row = conn.execute(select(d).where(d.c.id == delivery_id)).mappings().first()
    return to_delivery(row) if row else None


def due_posts(store: Store, *, now: datetime, targets: list[str], limit: int = 500) -> list[Delivery]:
    """What would go out now (a dry run shows it without claiming anything)."""
    d = t.deliveries
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(d)
            .where(d.c.state.in_((S.PENDING, S.RETRY)), d.c.not_before <= now, d.c.target.in_(targets))
            .order_by(d.c.priority.desc(), d.c.published_at.desc(), d.c.id)
            .limit(limit)
        ).mappings()
        return [to_delivery(r) for r in rows]
