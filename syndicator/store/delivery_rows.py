"""A delivery row: the value the outbox hands out, how one row is written, and the reads made outside a claim.

One row per (article, target, recipient, kind, generation); its state machine is drawn in store/deliveries.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, insert, select
from sqlalchemy.engine import Connection, RowMapping

from syndicator.article import DeliveryKind as K
from syndicator.article import DeliveryState as S
from syndicator.article import Post, Receipt
from syndicator.store import tables as t
from syndicator.store.engine import Store

DUE_STATES = (S.PENDING, S.RETRY)
COUNTED_STATES = (
    S.SENDING,
    S.SENT,
    S.UNKNOWN,
    S.RETRACTED,
)  # what reached (or may have reached) the platform


@dataclass(frozen=True)
class Delivery:
    id: int
    article_id: int
    feed: str
    target: str
    recipient: str
    generation: int
    state: S
    priority: int
    post: Post
    published_at: datetime | None
    not_before: datetime
    attempts: int
    created_at: datetime
    remote_id: str | None
    remote_url: str | None
    receipt: Receipt | None
    kind: K = K.POST
    parent_id: int | None = None
    manual: bool = False  # queued by an editor (resend): the freshness cut-off does not apply


def to_delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        article_id=row["article_id"],
        feed=row["feed"],
        target=row["target"],
        recipient=row["recipient"],
        generation=row["generation"],
        state=S(row["state"]),
        priority=row["priority"],
        post=Post.from_json(row["post"]),
        published_at=row["published_at"],
        not_before=row["not_before"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        remote_id=row["remote_id"],
        remote_url=row["remote_url"],
        receipt=Receipt.from_json(row["receipt"]) if row["receipt"] else None,
        kind=K(row["kind"]),
        parent_id=row["parent_id"],
        manual=bool(row["manual"]),
    )


def insert_delivery(
    conn: Connection,
    *,
    article_id: int,
    feed: str,
    target: str,
    recipient: str,
    post_json: str,
    published_at: datetime | None,
    now: datetime,
    not_before: datetime | None = None,
    kind: K = K.POST,
    parent_id: int | None = None,
    priority: int = 0,
    manual: bool = False,
    state: str = S.PENDING,
    generation: int | None = None,
    error_class: str | None = None,
    last_error: str | None = None,
) -> int:
    """One row of the outbox. Without `generation`: the next one for (article, target, recipient, kind), so a
    forced resend or a second correction is a new row and the uniqueness of the first one still holds."""
    d = t.deliveries
    if generation is None:
        generation = conn.execute(
            select(func.coalesce(func.max(d.c.generation) + 1, 0)).where(
                d.c.article_id == article_id, d.c.target == target, d.c.recipient == recipient, d.c.kind == kind
            )
        ).scalar_one()
    result = conn.execute(
        insert(d).values(
            article_id=article_id, feed=feed, target=target, recipient=recipient, generation=int(generation),
            kind=kind, parent_id=parent_id, state=state, priority=priority, manual=manual, post=post_json,
            published_at=published_at, not_before=not_before or now, attempts=0, created_at=now, updated_at=now,
            error_class=error_class, last_error=last_error,
        )
    )  # fmt: skip
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def next_due(store: Store, targets: Iterable[str]) -> datetime | None:
    """When the outbox next has something for these targets: the earliest due delivery (not before another
    worker's claim on it runs out) or expiring call lease."""
    d = t.deliveries
    names = list(targets)
    ready = case((d.c.lease_until > d.c.not_before, d.c.lease_until), else_=d.c.not_before)
    with store.engine.connect() as conn:
        due = conn.execute(select(func.min(ready)).where(d.c.state.in_(DUE_STATES), d.c.target.in_(names))).scalar()
        lease = conn.execute(
            select(func.min(d.c.lease_until)).where(d.c.state == S.SENDING, d.c.target.in_(names))
        ).scalar()
    times = [x for x in (due, lease) if x is not None]
    return min(times) if times else None


def parent_receipt(store: Store, parent_id: int) -> tuple[Receipt | None, str]:
    """The receipt and state of the post an edit/delete applies to."""
    d = t.deliveries
    with store.engine.connect() as conn:
        row = conn.execute(select(d.c.receipt, d.c.state).where(d.c.id == parent_id)).first()
    if row is None:
        return None, "missing"
    return (Receipt.from_json(row.receipt) if row.receipt else None), row.state
