"""A target's state row (target_state): its pauses (a platform's 429, an authorization failure), its last rate
headers, and its send history read under the row's lock, which makes the governor's count and a new `sending`
mark one atomic step across workers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from syndicator.article import DeliveryKind as K
from syndicator.limits import TargetHistory
from syndicator.store import tables as t
from syndicator.store.delivery_rows import COUNTED_STATES
from syndicator.store.engine import Store


def ensure_target_row(store: Store, conn: Connection, target: str) -> None:
    """The target's state row exists (several workers may create it at once). On SQLite this write also takes the
    database's write lock, so what the transaction reads next cannot change under it."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert = postgresql.insert if store.is_postgres else sqlite.insert
    ts = t.target_state
    conn.execute(
        dialect_insert(ts).values(target=target, auth_failed=False).on_conflict_do_nothing(index_elements=["target"])
    )


def locked_history(
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
    send_times = (
        []
        if not sends
        else sorted(
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
    )
    month_count = (
        0
        if not month
        else conn.execute(
            select(func.count())
            .select_from(d)
            .where(d.c.target == target, d.c.sending_at >= month_start, d.c.state.in_(COUNTED_STATES))
        ).scalar_one()
    )
    return TargetHistory(
        target=target,
        send_times=send_times,
        month_count=int(month_count),
        paused_until=row["paused_until"],
        pause_reason=row["pause_reason"],
        auth_failed=bool(row["auth_failed"]),
    )


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
