"""One platform call of a started delivery: its kind becomes publish, edit or delete, under a wall-clock deadline,
with its lease renewed while it is in flight.

Every platform call runs under a wall-clock deadline (`call_deadline`, default DEADLINE_FACTOR × `timeout`;
the clients' own timeouts are per socket operation, so a server that drips its answer can outlast them by far).
A call past its deadline may have reached the platform: it ends like a call cut by a crash (`unknown`, or
retried where `on_unknown = "retry"`), never silently re-sent. The call is cancelled at its next await; a thread
it started (blocking clients) cannot be killed and runs on, but its answer has nobody left to record it: the
heartbeat that kept the lease stopped with the deadline, and only `delivery.late_answer` mentions it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any

from syndicator.article import DeliveryKind, DeliveryState, Receipt
from syndicator.clock import Clock
from syndicator.config import TargetSettings
from syndicator.errors import Permanent, Transient
from syndicator.health import report_store_failure
from syndicator.logs import get_logger, redactor
from syndicator.platforms.base import Publisher, with_delivery_key
from syndicator.store import Store
from syndicator.store import deliveries as outbox
from syndicator.store.deliveries import Delivery

log = get_logger("syndicator.dispatch")
# A publish is a few requests one after another (an image download, its upload, the post; a fallback post),
# each bounded by `timeout` per socket operation: four of them is generous for a live call, and bounds a stuck one.
DEADLINE_FACTOR = 4


def call_deadline(target: TargetSettings) -> timedelta:
    """The wall-clock limit on one platform call of this target, as a whole."""
    return target.retry.call_deadline or target.timeout * DEADLINE_FACTOR


def call_lease(target: TargetSettings) -> timedelta:
    """How long a call's `sending` mark holds: long enough for the call and its timeout; expiry means the process
    died mid-call."""
    return max(target.retry.call_lease, target.timeout * 4)


class PlatformCall:
    """Makes the calls of one worker (`worker_id`): its leases are renewed in `store` as `clock` goes."""

    def __init__(self, store: Store, *, worker_id: str, clock: Clock) -> None:
        self.store = store
        self.worker_id = worker_id
        self.clock = clock

    async def __call__(self, target: TargetSettings, publisher: Publisher, d: Delivery) -> Receipt:
        """The call, its receipt or its PublishError. A dry run is called as it is: nothing leaves the process, no
        lease to keep, no deadline to watch."""
        if target.dry_run:
            return await self._call(publisher, d)
        async with self._lease_kept(d.id, call_lease(target)):
            return await self._within_deadline(target, d, self._call(publisher, d))

    async def _call(self, publisher: Publisher, d: Delivery) -> Receipt:
        if d.kind == DeliveryKind.POST:
            return await publisher.publish(with_delivery_key(d.post, d.id))
        if d.parent_id is None:
            raise Permanent(f"{d.kind} without the post it applies to")
        parent, state = await asyncio.to_thread(outbox.parent_receipt, self.store, d.parent_id)
        if parent is None and state == DeliveryState.SENDING:
            raise Transient(f"cannot {d.kind} yet: the original post is still being sent", maybe_sent=False)
        if parent is None:
            raise Permanent(f"cannot {d.kind}: the original post has no receipt (state {state})")
        if d.kind == DeliveryKind.EDIT:
            return await publisher.edit(parent, d.post)
        await publisher.delete(parent)
        return parent

    @contextlib.asynccontextmanager
    async def _lease_kept(self, delivery_id: int, lease: timedelta) -> AsyncIterator[None]:
        """The call's lease is renewed while the block runs, and not a moment after (the outcome is recorded
        outside it)."""
        heartbeat = asyncio.ensure_future(self._keep_lease(delivery_id, lease))
        try:
            yield
        finally:
            heartbeat.cancel()

    async def _keep_lease(self, delivery_id: int, lease: timedelta) -> None:
        """While a call is in flight, renew its lease (a slow platform is not a dead worker)."""
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            until = self.clock() + lease
            try:
                await asyncio.to_thread(outbox.renew_lease, self.store, delivery_id, worker=self.worker_id, until=until)
            except Exception as exc:  # the next renewal may work; the call itself goes on either way
                report_store_failure(log, "renew", exc, delivery=delivery_id)

    async def _within_deadline(
        self, target: TargetSettings, d: Delivery, call: Coroutine[Any, Any, Receipt]
    ) -> Receipt:
        """Await `call` for at most the target's call deadline; past it, raise a maybe-sent Transient at once
        (asyncio.wait_for would wait for the cancelled call to give up, and a call may not)."""
        limit = call_deadline(target)
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=limit.total_seconds())
        except asyncio.CancelledError:
            task.cancel()
            task.add_done_callback(functools.partial(_late_answer, target, d))
            raise
        if task in done:
            return task.result()
        task.cancel()
        task.add_done_callback(functools.partial(_late_answer, target, d))
        raise Transient(
            f"no answer within the call deadline ({limit.total_seconds():g}s): the request may have reached "
            f"{target.platform}",
            code="deadline",
            maybe_sent=True,
        )


def _late_answer(target: TargetSettings, d: Delivery, task: asyncio.Task[Receipt]) -> None:
    """What a call cut by its deadline did after all. Never recorded: the delivery is `unknown` (or due
    again) already, and a person may be acting on that."""
    if task.cancelled():
        return
    exc = task.exception()
    ids: dict[str, object] = {"delivery": d.id, "article": d.article_id, "target": target.name}
    if exc is not None:
        log.info("delivery.late_answer", **ids, error=redactor(str(exc)))
        return
    receipt = task.result()
    log.error(
        "delivery.late_answer", **ids, remote_id=receipt.remote_id, url=receipt.url,
        hint="the platform answered after the call deadline: the post exists; do not resend it",
    )  # fmt: skip
