"""Authorization works again: what the failure held back goes out at once.

An AuthError pauses its target (`auth_failed`) and leaves the delivery that hit it `failed` (error class `auth`);
the deliveries queued behind it are put off ten minutes at a time with the pause's reason. When a credential
check passes (`syndicator check`, or the worker's periodic check), `resume_after_auth` lifts the pause, queues
the auth failures again and makes the waiting ones due now with the stale reason cleared, in one transaction.
Nothing is posted twice: an authorization failure means the platform refused the call, so nothing was posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from syndicator.article import DeliveryState as S
from syndicator.errors import AuthError
from syndicator.store import tables as t
from syndicator.store.engine import Store

AUTH_WAIT = "paused: authorization"  # how the governor's reason for an authorization pause begins


@dataclass(frozen=True)
class Resumed:
    requeued: int  # deliveries the authorization failure had left failed, queued again
    unblocked: int  # deliveries that waited behind the pause, due now


def resume_after_auth(store: Store, target: str, *, now: datetime) -> Resumed | None:
    """Lift `target`'s authorization pause and release what it held. None: the target was not paused for
    authorization (nothing changes)."""
    ts, d = t.target_state, t.deliveries
    with store.engine.begin() as conn:
        lifted = conn.execute(
            update(ts)
            .where(ts.c.target == target, ts.c.auth_failed.is_(True))
            .values(auth_failed=False, paused_until=None, pause_reason=None, updated_at=now)
        ).rowcount
        if not lifted:
            return None
        requeued = conn.execute(
            update(d)
            .where(d.c.target == target, d.c.state == S.FAILED, d.c.error_class == AuthError.error_class)
            .values(
                state=S.PENDING, not_before=now, updated_at=now, error_class=None, last_error=None, wait_reason=None,
                lease_owner=None, lease_until=None, sending_at=None,
            )
        ).rowcount  # fmt: skip
        unblocked = conn.execute(
            update(d)
            .where(
                d.c.target == target,
                d.c.state.in_((S.PENDING, S.RETRY)),
                d.c.wait_reason.like(f"{AUTH_WAIT}%"),
            )
            .values(not_before=now, wait_reason=None, updated_at=now)
        ).rowcount
    return Resumed(int(requeued), int(unblocked))
