"""Claims and leases: taking due deliveries under a lease, the `sending` mark committed before any call (one
delivery, or a wave in one transaction with the governor's history read once), renewing a call's lease, giving
claimed work back, and turning the calls of a worker that died into `unknown`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update

from syndicator.article import DeliveryKind as K
from syndicator.article import DeliveryState as S
from syndicator.limits import Decision, HistoryNeeds, TargetHistory, WaitKind
from syndicator.store import tables as t
from syndicator.store.delivery_rows import DUE_STATES, Delivery, to_delivery
from syndicator.store.engine import Store
from syndicator.store.outcomes import close_call
from syndicator.store.target_state import locked_history


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
        history = locked_history(store, conn, delivery.target, now - lookback, month_start, history_limit)
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
            history = locked_history(
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
            close_call(
                conn, row["id"], now=now, outcome="unknown", error="lease expired during the platform call",
                state=S.RETRY if retry else S.UNKNOWN, not_before=now, error_class="unknown",
                last_error="the worker stopped during the platform call; the post may or may not exist",
                **({"sending_at": None} if retry else {}),
            )  # fmt: skip
    return [to_delivery(r) for r in rows]
