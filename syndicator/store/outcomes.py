"""Outcomes: what a call's end writes to its delivery row and its attempt row — a receipt (one, or a wave's in
one executemany), a failure (retry or failed for good), `unknown`, and what an edit or a deletion does to the
post it applies to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from syndicator.article import DeliveryKind as K
from syndicator.article import DeliveryState as S
from syndicator.article import Receipt
from syndicator.store import tables as t
from syndicator.store.delivery_rows import Delivery
from syndicator.store.engine import Store


def close_call(
    conn: Connection,
    delivery_id: int,
    *,
    now: datetime,
    outcome: str,
    error: str | None,
    owner: str | None = None,
    **values: object,
) -> bool:
    """End a call: the delivery's new state and values, its lease released, its attempt row finished.

    With `owner`, only while that worker still holds the delivery; returns whether the row was changed."""
    d = t.deliveries
    where = [d.c.id == delivery_id]
    if owner is not None:
        where += [d.c.lease_owner == owner]
    changed = conn.execute(
        update(d).where(*where).values(lease_owner=None, lease_until=None, updated_at=now, **values)
    ).rowcount
    if not changed:
        return False
    a = t.attempts
    last = conn.execute(
        select(func.max(a.c.id)).where(a.c.delivery_id == delivery_id, a.c.finished_at.is_(None))
    ).scalar()
    if last is not None:
        conn.execute(update(a).where(a.c.id == last).values(finished_at=now, outcome=outcome, error=error))
    return True


_D, _A = t.deliveries, t.attempts
# Built once, run as one executemany for a wave's receipts (a statement costs more to build than to run)
_SENT = (
    update(_D)
    .where(_D.c.id == bindparam("b_id"))
    .values(
        state=S.SENT, sent_at=bindparam("b_now"), remote_id=bindparam("b_remote_id"), remote_url=bindparam("b_url"),
        receipt=bindparam("b_receipt"), error_class=None, last_error=None, lease_owner=None, lease_until=None,
        updated_at=bindparam("b_now"),
    )
)  # fmt: skip
_ATTEMPT_DONE = (
    update(_A)
    .where(
        _A.c.id
        == select(func.max(_A.c.id))
        .where(_A.c.delivery_id == bindparam("b_id"), _A.c.finished_at.is_(None))
        .scalar_subquery()
    )
    .values(finished_at=bindparam("b_now"), outcome="sent", error=None)
)


def record_sent(store: Store, delivery_id: int, receipt: Receipt, *, now: datetime, worker: str | None = None) -> bool:
    """Always recorded, even if the lease was lost meanwhile: we know it was posted. Returns False when the
    delivery was no longer this worker's `sending` one (another worker may have sent it again: a human checks)."""
    return delivery_id in record_sent_many(store, [(delivery_id, receipt, now)], worker=worker)


def record_sent_many(
    store: Store, sent: Sequence[tuple[int, Receipt, datetime]], *, worker: str | None = None
) -> set[int]:
    """Record receipts in one transaction (always, like `record_sent`); returns the ids that were still this
    worker's `sending` deliveries."""
    if not sent:
        return set()
    ids = [i for i, _, _ in sent]
    with store.write() as conn:
        rows = conn.execute(select(_D.c.id, _D.c.state, _D.c.lease_owner).where(_D.c.id.in_(ids)))
        ours = {r.id for r in rows if r.state == S.SENDING and (worker is None or r.lease_owner == worker)}
        params = [
            {"b_id": i, "b_now": when, "b_remote_id": r.remote_id, "b_url": r.url, "b_receipt": r.to_json()}
            for i, r, when in sent
        ]
        conn.execute(_SENT, params)
        conn.execute(_ATTEMPT_DONE, [{"b_id": i, "b_now": when} for i, _, when in sent])
    return ours


def record_failure(
    store: Store,
    delivery_id: int,
    *,
    now: datetime,
    error_class: str,
    message: str,
    retry_at: datetime | None,
    worker: str | None = None,
) -> bool:
    """`retry_at` None: the delivery is failed for good; else it is due again then. With `worker`: only if that
    worker still holds it (a lost lease means another worker may be handling it now)."""
    again: dict[str, object] = {"state": S.FAILED} if retry_at is None else {"state": S.RETRY, "not_before": retry_at}
    with store.write() as conn:
        return close_call(
            conn, delivery_id, now=now, outcome=error_class, error=message[:2000], owner=worker,
            error_class=error_class, last_error=message[:2000],
            sending_at=None,  # nothing reached the platform: this attempt does not count against quotas
            **again,
        )  # fmt: skip


def mark_unknown(store: Store, delivery_id: int, *, now: datetime, reason: str, worker: str | None = None) -> bool:
    """The call ended in a way we cannot interpret: the post may exist. A person decides (resend)."""
    with store.write() as conn:
        return close_call(
            conn, delivery_id, now=now, outcome="unknown", error=reason[:2000], owner=worker,
            state=S.UNKNOWN, error_class="unknown", last_error=reason[:2000],
        )  # fmt: skip


def apply_to_parent(store: Store, delivery: Delivery, *, now: datetime) -> None:
    """After a successful edit the parent carries the new text; after a delete it is retracted."""
    d = t.deliveries
    if delivery.parent_id is None:
        return
    values: dict[str, object] = {"updated_at": now}
    if delivery.kind == K.EDIT:
        values["post"] = delivery.post.to_json()
    elif delivery.kind == K.DELETE:
        values["state"] = S.RETRACTED
    with store.write() as conn:
        conn.execute(update(d).where(d.c.id == delivery.parent_id).values(**values))
