"""The outbox: claiming due deliveries under a lease, the `sending` mark, outcomes, leases that expire.

State machine (see DeliveryState): pending|retry → sending → sent | retry | failed | unknown. `sending` is
committed before the platform call; a `sending` row whose lease expired means the process died during the call,
so it becomes `unknown` (or `retry` where the target allows automatic resend) and is never silently re-sent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from syndicator.article import DeliveryKind as K
from syndicator.article import DeliveryState as S
from syndicator.article import Post, Receipt
from syndicator.limits import Decision, HistoryNeeds, TargetHistory, WaitKind
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


def claim_due(
    store: Store,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
    targets: Iterable[str] | None = None,
) -> list[Delivery]:
    """Take up to `limit` due deliveries, most urgent first (breaking, then newest), under a lease."""
    d = t.deliveries
    cond = [
        d.c.state.in_(DUE_STATES),
        d.c.not_before <= now,
        or_(d.c.lease_until.is_(None), d.c.lease_until < now),
    ]
    if targets is not None:
        cond.append(d.c.target.in_(list(targets)))
    pick = (
        select(d.c.id)
        .where(*cond)
        .order_by(d.c.priority.desc(), d.c.published_at.desc().nulls_last(), d.c.id)
        .limit(limit)
    )
    if store.is_postgres:
        pick = pick.with_for_update(skip_locked=True)
    # One statement. The pick is a materialized CTE: as `id IN (subquery)` PostgreSQL may run the subquery again
    # for the join, and each run skips the rows the last one locked, so one claim could take far more than `limit`.
    # The conditions again in the UPDATE, for a row another transaction changed meanwhile.
    picked = pick.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    claim = (
        update(d)
        .where(d.c.id == picked.c.id, *cond)
        .values(lease_owner=worker, lease_until=now + lease)
        .returning(*d.c)
    )
    with store.write() as conn:
        claimed = [to_delivery(r) for r in conn.execute(claim).mappings()]
    # most urgent first, as the SELECT ordered them (RETURNING keeps no order)
    claimed.sort(key=lambda x: (-x.priority, x.published_at is None, -_ts(x.published_at), x.id))
    return claimed


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


def begin_send(
    store: Store,
    delivery: Delivery,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    lookback: timedelta,
    month_start: datetime,
    decide: Callable[[TargetHistory], Decision],
    history_limit: int = 1000,
) -> Decision:
    """Ask the governor inside the target's lock and, if allowed, commit `sending` before the call.

    The lock (a row in target_state, FOR UPDATE on PostgreSQL; SQLite allows one writer anyway) makes the count of
    recent sends and the new `sending` mark one atomic step, so limits hold across several workers.
    """
    d = t.deliveries
    with store.write() as conn:
        history = _locked_history(store, conn, delivery.target, now - lookback, month_start, history_limit)
        decision = decide(history)
        still_ours = and_(d.c.id == delivery.id, d.c.lease_owner == worker, d.c.state.in_(DUE_STATES))
        if not decision.allowed:
            conn.execute(
                update(d)
                .where(still_ours)
                .values(
                    not_before=decision.at or now,
                    wait_reason=decision.reason,
                    lease_owner=None,
                    lease_until=None,
                    updated_at=now,
                )
            )
            return decision
        result = conn.execute(
            update(d)
            .where(still_ours)
            .values(
                state=S.SENDING,
                sending_at=now,
                attempts=d.c.attempts + 1,
                lease_until=now + lease,
                wait_reason=None,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            return Decision(False, None, "lease lost", WaitKind.LEASE_LOST)
        conn.execute(
            insert(t.attempts).values(
                delivery_id=delivery.id, number=delivery.attempts + 1, worker=worker, started_at=now
            )
        )
    return decision


def begin_wave(
    store: Store,
    target: str,
    wave: Sequence[Delivery],
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    needs: HistoryNeeds | None,
    plan: Callable[[TargetHistory | None], tuple[int, Decision | None]],
    keep: timedelta = timedelta(0),
) -> tuple[list[Delivery], Decision | None, int]:
    """Start a wave of a target's claimed deliveries: in one transaction the governor reads the target's history
    once (none when `needs` is None) and `plan` says how many may go now; those are marked `sending` in one
    statement, with their attempts, and committed before any call. The first one refused gets the governor's time
    and reason and is released. Returns the deliveries started (a delivery no longer this worker's is left out)
    and the refusal, if any, and how many the governor allowed (the refused one is `wave[allowed]`). A refusal
    that ends within `keep` leaves the refused one claimed: the caller waits that long and goes on."""
    d = t.deliveries
    with store.write() as conn:
        history = None
        if needs is not None:
            history = _locked_history(
                store, conn, target, now - needs.lookback, needs.month_start, needs.limit,
                sends=needs.sends, month=needs.month,
            )  # fmt: skip
        allowed, refusal = plan(history)
        go = list(wave[:allowed])
        started: list[Delivery] = []
        if go:
            rows = conn.execute(
                update(d)
                .where(d.c.id.in_([x.id for x in go]), d.c.lease_owner == worker, d.c.state.in_(DUE_STATES))
                .values(
                    state=S.SENDING, sending_at=now, attempts=d.c.attempts + 1, lease_until=now + lease,
                    wait_reason=None, updated_at=now,
                )
                .returning(d.c.id)
            )  # fmt: skip
            ours = {r.id for r in rows}
            started = [x for x in go if x.id in ours]
            if started:
                conn.execute(
                    insert(t.attempts),
                    [dict(delivery_id=x.id, number=x.attempts + 1, worker=worker, started_at=now) for x in started],
                )
        if refusal is not None and allowed < len(wave) and not is_short(refusal, now, keep):
            conn.execute(
                update(d)
                .where(d.c.id == wave[allowed].id, d.c.lease_owner == worker, d.c.state.in_(DUE_STATES))
                .values(
                    not_before=refusal.at or now, wait_reason=refusal.reason, lease_owner=None, lease_until=None,
                    updated_at=now,
                )
            )  # fmt: skip
    return started, refusal, allowed


def is_short(refusal: Decision, now: datetime, keep: timedelta) -> bool:
    """A refusal whose time comes within `keep` (a pace between recipients): the lane waits, it gives nothing back."""
    return refusal.at is not None and refusal.at - now <= keep


def ensure_target_row(store: Store, conn: Connection, target: str) -> None:
    """The target's state row exists (several workers may create it at once). On SQLite this write also takes the
    database's write lock, so what the transaction reads next cannot change under it."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert = postgresql.insert if store.is_postgres else sqlite.insert
    ts = t.target_state
    conn.execute(
        dialect_insert(ts).values(target=target, auth_failed=False).on_conflict_do_nothing(index_elements=["target"])
    )


def _locked_history(
    store: Store,
    conn: Connection,
    target: str,
    since: datetime,
    month_start: datetime,
    limit: int,
    *,
    sends: bool = True,
    month: bool = True,
) -> TargetHistory:
    ts = t.target_state
    ensure_target_row(store, conn, target)
    query = select(ts).where(ts.c.target == target)
    if store.is_postgres:
        query = query.with_for_update()
    row = conn.execute(query).mappings().one()
    d = t.deliveries
    # A post counts from the end of its call (sent_at), when there is one: the platform received it somewhere
    # between sending_at and then, so counting from sending_at could let the post one quota later reach the
    # platform less than a window after it.
    # only the newest `limit` sends matter (the largest quota or daily cap): the cost stays flat on big stores
    send_times = [] if not sends else sorted(
        (
            r.sent_at or r.sending_at
            for r in conn.execute(
                select(d.c.sending_at, d.c.sent_at)
                .where(
                    d.c.target == target,
                    d.c.sending_at >= since,
                    d.c.state.in_(COUNTED_STATES),
                    d.c.kind != K.DELETE,  # deletions are not posts: they never use up a quota
                )
                .order_by(d.c.sending_at.desc())
                .limit(limit + 1)
            )
        ),
        reverse=True,
    )
    month_count = 0 if not month else conn.execute(
        select(func.count())
        .select_from(d)
        .where(d.c.target == target, d.c.sending_at >= month_start, d.c.state.in_(COUNTED_STATES))
    ).scalar_one()
    return TargetHistory(
        target=target,
        send_times=send_times,
        month_count=int(month_count),
        paused_until=row["paused_until"],
        pause_reason=row["pause_reason"],
        auth_failed=bool(row["auth_failed"]),
    )


def _close_call(
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


def renew_lease(store: Store, delivery_id: int, *, worker: str, until: datetime) -> bool:
    """A call still in flight keeps its delivery: no other worker may take it for dead."""
    d = t.deliveries
    with store.write() as conn:
        return bool(
            conn.execute(
                update(d)
                .where(d.c.id == delivery_id, d.c.lease_owner == worker, d.c.state == S.SENDING)
                .values(lease_until=until)
            ).rowcount
        )


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
        return _close_call(
            conn, delivery_id, now=now, outcome=error_class, error=message[:2000], owner=worker,
            error_class=error_class, last_error=message[:2000],
            sending_at=None,  # nothing reached the platform: this attempt does not count against quotas
            **again,
        )  # fmt: skip


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


def release(
    store: Store, ids: list[int], *, worker: str, not_before: datetime | None = None, reason: str | None = None
) -> None:
    """Give back claimed deliveries that were not started (shutdown, or their target must wait until `not_before`)."""
    if not ids:
        return
    d = t.deliveries
    values: dict[str, object] = {"lease_owner": None, "lease_until": None}
    if not_before is not None:
        values.update(not_before=not_before, wait_reason=reason)
    with store.write() as conn:
        conn.execute(
            update(d).where(d.c.id.in_(ids), d.c.lease_owner == worker, d.c.state.in_(DUE_STATES)).values(**values)
        )


def expire_leases(
    store: Store, *, now: datetime, auto_retry_targets: set[str], alive: Collection[int] = ()
) -> list[Delivery]:
    """`sending` rows whose worker died mid-call → `unknown` (or `retry` for targets that allow it). `alive`: calls
    the caller has in flight itself, never taken for dead (its lanes run while it claims for other targets)."""
    d = t.deliveries
    with store.write() as conn:
        query = select(d).where(d.c.state == S.SENDING, d.c.lease_until < now)
        if alive:
            query = query.where(d.c.id.notin_(list(alive)))
        if store.is_postgres:
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).mappings().all()
        for row in rows:
            # editing or deleting twice is harmless; posting twice is not
            retry = row["target"] in auto_retry_targets or row["kind"] != K.POST
            _close_call(
                conn, row["id"], now=now, outcome="unknown", error="lease expired during the platform call",
                state=S.RETRY if retry else S.UNKNOWN, not_before=now, error_class="unknown",
                last_error="the worker stopped during the platform call; the post may or may not exist",
                **({"sending_at": None} if retry else {}),
            )  # fmt: skip
    return [to_delivery(r) for r in rows]


def mark_unknown(store: Store, delivery_id: int, *, now: datetime, reason: str, worker: str | None = None) -> bool:
    """The call ended in a way we cannot interpret: the post may exist. A person decides (resend)."""
    with store.write() as conn:
        return _close_call(
            conn, delivery_id, now=now, outcome="unknown", error=reason[:2000], owner=worker,
            state=S.UNKNOWN, error_class="unknown", last_error=reason[:2000],
        )  # fmt: skip


def parent_receipt(store: Store, parent_id: int) -> tuple[Receipt | None, str]:
    """The receipt and state of the post an edit/delete applies to."""
    d = t.deliveries
    with store.engine.connect() as conn:
        row = conn.execute(select(d.c.receipt, d.c.state).where(d.c.id == parent_id)).first()
    if row is None:
        return None, "missing"
    return (Receipt.from_json(row.receipt) if row.receipt else None), row.state


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


def pause_target(
    store: Store, target: str, *, until: datetime | None, reason: str, auth: bool = False, now: datetime
) -> None:
    ts = t.target_state
    values: dict[str, object] = {"paused_until": until, "pause_reason": reason, "updated_at": now}
    if auth:
        values["auth_failed"] = True
    with store.write() as conn:
        ensure_target_row(store, conn, target)
        conn.execute(update(ts).where(ts.c.target == target).values(**values))


def clear_auth_pause(store: Store, target: str, *, now: datetime) -> bool:
    """Lift an authorization pause; True if there was one."""
    ts = t.target_state
    with store.write() as conn:
        return bool(
            conn.execute(
                update(ts)
                .where(ts.c.target == target, ts.c.auth_failed.is_(True))
                .values(auth_failed=False, paused_until=None, pause_reason=None, updated_at=now)
            ).rowcount
        )


def save_rate(store: Store, target: str, rate_json: str, *, now: datetime) -> None:
    ts = t.target_state
    with store.write() as conn:
        ensure_target_row(store, conn, target)
        conn.execute(update(ts).where(ts.c.target == target).values(rate=rate_json, updated_at=now))
