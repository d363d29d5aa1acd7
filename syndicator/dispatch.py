"""Claim → govern → publish → record. The only code path that ever sends a post.

Per target, deliveries go one after another (spacing and quotas are per target); different targets go
concurrently, so one article reaches its four platforms at once. Two ways to drive it:

* `run_once()`: claim what is due for every target, send it, return when all is done (`syndicator poll`, tests);
* `start_lanes()`: the worker's way. Each target with due work and no lane running gets a *lane*, a task that
  sends its claimed queue and ends; the worker claims again for a target as soon as its lane ends. A target
  whose call is slow holds back only itself: the other targets go on claiming and sending, also the deliveries
  of articles that arrive meanwhile.

Each call is made by platform_call.py (its deadline, its lease kept while in flight); what its end means is
recorded by delivery_outcomes.py. This module decides what goes when: claims, lanes, waves, the governor's word.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from syndicator import events
from syndicator.article import DeliveryKind
from syndicator.clock import Clock, utcnow
from syndicator.config import FeedSettings, TargetSettings
from syndicator.delivery_outcomes import Outcomes, Reported, Sent
from syndicator.desk import edits as desk_edits
from syndicator.errors import PublishError, Transient
from syndicator.events import DeliverySkipped, DeliveryUnknown, Event, RateLimitWait
from syndicator.governor import Governor
from syndicator.health import report_store_failure
from syndicator.limits import Decision, WaitKind
from syndicator.logs import get_logger, redactor
from syndicator.platform_call import DEADLINE_FACTOR, PlatformCall, call_deadline, call_lease
from syndicator.platforms.base import Publisher
from syndicator.sent_summary import SentBatch
from syndicator.store import Store
from syndicator.store import deliveries as outbox
from syndicator.store.deliveries import Delivery
from syndicator.store.faults import store_fault

log = get_logger("syndicator.dispatch")
CLAIM_LEASE = timedelta(minutes=2)
# Dry-run deliveries claimed in one statement, over all idle dry-run targets: each sends its share as one wave
DRY_RUN_BATCH = 1000
# A fan-out target (one message per recipient) has this many calls in flight at once when its governor
# lets them all go now: each is its own message, committed `sending` before the wave's calls start, and a crash
# mid-wave leaves at most these `unknown`. With spacing (`pace`) set, the governor lets one go at a time. Fewer
# than requests' 10 pooled connections per host, which a blocking publisher's session shares between threads.
FANOUT_WAVE = 8
# A governor's "not before" this close (a pace between recipients) is waited out in the lane, claim kept
SHORT_WAIT = timedelta(seconds=1)


class Dispatcher:
    """Sends one worker's deliveries. It takes what it uses, built by the composition root (`App.dispatcher`):
    the store, the targets and feeds, the governor, a publisher per target, the worker's id, the clock, and
    where events go."""

    def __init__(
        self,
        store: Store,
        *,
        targets: Mapping[str, TargetSettings],
        feeds: Iterable[FeedSettings],
        governor: Governor,
        publisher: Callable[[TargetSettings], Publisher],
        worker_id: str,
        clock: Clock = utcnow,
        emit: Callable[[Event], None] = events.emit,
        rng: random.Random | None = None,
        batch: int = 50,
    ) -> None:
        self.store = store
        self.targets = targets
        self.feeds = {f.name: f for f in feeds}  # by name, for the freshness cut-off
        self.governor = governor
        self.publisher = publisher
        self.worker_id = worker_id
        self.clock = clock
        self.emit = emit
        self.rng = rng or random.Random()
        self.call = PlatformCall(store, worker_id=worker_id, clock=clock)
        self.outcomes = Outcomes(store, worker_id=worker_id, clock=clock, emit=emit, rng=self.rng)
        self.batch = batch
        self.stopping = False
        self.lanes: dict[str, asyncio.Task[int]] = {}  # target → its lane, while one runs
        self.in_flight: set[int] = set()  # deliveries this process is sending, until their outcome is recorded
        self.on_lane_done: Callable[[], None] | None = None  # the worker's wake-up: that target may claim again

    async def run_once(self) -> int:
        """Send what is due now, every target at once, and wait for all; returns how many deliveries were
        attempted. A target with a lane running is left to its lane."""
        by_target = await self.claim(self.idle_targets())
        results = await asyncio.gather(*(self._target_queue(t, ds) for t, ds in by_target.items()))
        return sum(results)

    def idle_targets(self) -> list[str]:
        return [name for name in self.targets if name not in self.lanes]

    async def start_lanes(self) -> int:
        """Start a lane for each idle target with due deliveries; returns how many started. Store failures of the
        claim raise (the caller reports them); a lane reports its own and never raises."""
        idle = self.idle_targets()
        if self.stopping or not idle:
            return 0
        by_target = await self.claim(idle)
        for name, queue in by_target.items():
            lane = asyncio.create_task(self._target_queue(name, queue), name=f"lane:{name}")
            self.lanes[name] = lane
            lane.add_done_callback(functools.partial(self._lane_done, name))
        return len(by_target)

    def _lane_done(self, name: str, lane: asyncio.Task[int]) -> None:
        if self.lanes.get(name) is lane:
            del self.lanes[name]
        if not lane.cancelled() and lane.exception() is not None:  # a bug: _target_queue reports what it meets
            log.error("dispatch.error", target=name, error=redactor(repr(lane.exception())))
        if self.on_lane_done is not None:
            self.on_lane_done()

    async def drain(self, grace: float) -> None:
        """At shutdown (`stopping` set, so lanes start no new call): wait up to `grace` seconds for the calls in
        flight to end and be recorded. A lane still busy then is cancelled; its call is recorded as cut short."""
        lanes = list(self.lanes.values())
        if not lanes:
            return
        _, pending = await asyncio.wait(lanes, timeout=grace)
        if pending:
            busy = sorted(name for name, lane in self.lanes.items() if lane in pending)
            log.error(
                "dispatch.stop_timeout", targets=busy, grace_seconds=grace,
                hint="these calls were still in flight at shutdown: they are recorded as unknown",
            )  # fmt: skip
            for lane in pending:
                lane.cancel()
            await asyncio.wait(pending, timeout=5.0)

    async def claim(self, targets: list[str]) -> dict[str, list[Delivery]]:
        """Turn calls whose worker died into `unknown`, then claim due deliveries of `targets`, by target."""
        now = self.clock()
        auto_retry = {n for n, t in self.targets.items() if t.retry.on_unknown == "retry"}
        for d in await asyncio.to_thread(
            outbox.expire_leases, self.store, now=now, auto_retry_targets=auto_retry, alive=frozenset(self.in_flight)
        ):
            self.emit(
                DeliveryUnknown(
                    delivery=d.id,
                    article=d.article_id,
                    target=d.target,
                    feed=d.feed,
                    auto_retry=d.target in auto_retry,
                    hint="the worker stopped during the platform call; check the platform, then "
                    "`syndicator resend ARTICLE --target T` if it is missing",
                )
            )
        by_target: dict[str, list[Delivery]] = defaultdict(list)
        if not targets:
            return by_target
        # a dead worker's claimed batch is free again when its calls' leases would have expired
        lease = min(CLAIM_LEASE, max(map(call_lease, self.targets.values()), default=CLAIM_LEASE))
        dry = [n for n in targets if self.targets[n].dry_run]
        real = [n for n in targets if not self.targets[n].dry_run]
        claimed: list[Delivery] = []
        # dry runs in large batches (nothing leaves the process, one wave each); real targets in batches that leave
        # work for the other workers
        for names, limit in ((dry, DRY_RUN_BATCH), (real, self.batch)):
            if names:
                claimed += await asyncio.to_thread(
                    outbox.claim_due,
                    self.store,
                    worker=self.worker_id,
                    now=now,
                    lease=lease,
                    limit=limit,
                    targets=names,
                )
        claimed = await asyncio.to_thread(desk_edits.applied, self.store, claimed)  # editors' texts from the desk
        for d in claimed:
            by_target[d.target].append(d)
        return by_target

    async def _target_queue(self, name: str, queue: list[Delivery]) -> int:
        """A lane: send a target's claimed queue; its batched sends (dry runs, fan-out messages) are told in one
        `delivery.sent_batch` line when it ends, or sooner (sent_summary.py)."""
        target = self.targets[name]
        batch = SentBatch(target)
        try:
            return await self._send_queue(target, queue, batch)
        finally:
            self._tell(batch)

    def _tell(self, batch: SentBatch) -> None:
        line = batch.take()
        if line is not None:
            self.emit(line)

    async def _send_queue(self, target: TargetSettings, queue: list[Delivery], batch: SentBatch) -> int:
        """Send a target's claimed queue in order, a wave at a time. A failure of the store ends the queue with one
        `store.failed` line; the deliveries not started go back (or their claim runs out)."""
        attempted = 0
        i = 0
        while i < len(queue):
            if self.stopping:
                await self._give_back(queue[i:])
                break
            wave = self._next_wave(target, queue[i:])
            i += len(wave)
            try:
                count, refusal, held = await self._send_wave(target, wave, batch)
            except Exception as exc:
                self._report(exc, wave[0])
                await self._give_back(queue[i:])
                break
            attempted += count
            if batch.due(self.clock()):
                self._tell(batch)
            if refusal is None:
                continue
            if refusal.at is not None and outbox.is_short(refusal, self.clock(), SHORT_WAIT):
                # a pace between recipients: wait here with the claim kept, rather than give back and claim again
                await asyncio.sleep(max(0.0, (refusal.at - self.clock()).total_seconds()))
                if self.clock() >= refusal.at and not self.stopping:
                    queue, i = held + queue[i:], 0
                    continue
            self._waiting(target, held[0] if held else wave[0], refusal)
            # the target must wait: the rest go back, due when the governor says (nothing polls before then)
            await self._give_back(held + queue[i:], not_before=refusal.at, reason=refusal.reason)
            break
        return attempted

    def _waiting(self, target: TargetSettings, d: Delivery, refusal: Decision) -> None:
        if refusal.kind is not WaitKind.LEASE_LOST:
            kind = refusal.kind or WaitKind.PLATFORM
            self.emit(
                RateLimitWait(target=target.name, delivery=d.id, until=refusal.at, reason=refusal.reason, kind=kind)
            )

    def _next_wave(self, target: TargetSettings, rest: list[Delivery]) -> list[Delivery]:
        """The deliveries started together (one transaction marks them `sending`, one records their receipts):
        a dry run's whole queue (no call leaves the process); a fan-out target's next FANOUT_WAVE messages, sent
        at once as far as the governor allows; otherwise one. An edit or a deletion goes alone."""
        first = rest[0]
        if first.kind != DeliveryKind.POST:
            return [first]
        size = len(rest) if target.dry_run else FANOUT_WAVE if first.recipient else 1
        wave = [first]
        for d in rest[1:size]:
            if d.kind != DeliveryKind.POST:
                break
            wave.append(d)
        return wave

    async def _give_back(
        self, rest: list[Delivery], *, not_before: datetime | None = None, reason: str | None = None
    ) -> None:
        if not rest:
            return
        # a store that just failed may refuse this too: then their claim runs out (CLAIM_LEASE at most), and the
        # failure was reported once already
        with contextlib.suppress(Exception):
            await asyncio.to_thread(
                outbox.release, self.store, [r.id for r in rest], worker=self.worker_id,
                not_before=not_before, reason=reason,
            )  # fmt: skip

    def _report(self, exc: Exception, d: Delivery) -> None:
        ids: dict[str, object] = {"delivery": d.id, "article": d.article_id, "feed": d.feed, "target": d.target}
        if isinstance(exc, Reported):
            return
        if store_fault(exc) is not None:
            report_store_failure(log, "deliver", exc, **ids)
        else:
            log.error("dispatch.error", **ids, error=redactor(repr(exc)))

    async def _send_wave(
        self, target: TargetSettings, wave: list[Delivery], batch: SentBatch
    ) -> tuple[int, Decision | None, list[Delivery]]:
        """Govern, mark `sending` (committed before any call), call, record: for a wave of one target's claimed
        deliveries. Returns how many were attempted (stale ones included), the governor's refusal if it held some
        back, and those held back behind the refused one (to be given back)."""
        now = self.clock()
        live: list[Delivery] = []
        stale = 0
        for d in wave:
            if self._stale(target, d, now):
                fresh = self._freshness(target, d)
                await asyncio.to_thread(
                    outbox.record_failure, self.store, d.id, now=now, error_class="stale",
                    message=f"not posted: older than the freshness cut-off ({fresh})", retry_at=None,
                )  # fmt: skip
                self.emit(DeliverySkipped(delivery=d.id, target=target.name, article=d.article_id, reason="stale"))
                stale += 1
            else:
                live.append(d)
        if not live:
            return stale, None, []
        ids = [d.id for d in live]
        self.in_flight.update(ids)  # before `sending` is committed: a claim meanwhile must not take them for dead
        try:
            governor = self.governor
            kinds = [(d.priority > 0, d.kind) for d in live]
            started, refusal, allowed = await asyncio.to_thread(
                outbox.begin_wave, self.store, target.name, live, worker=self.worker_id, now=now,
                lease=call_lease(target), needs=governor.needs(target.name, now),
                plan=lambda history: governor.plan(target.name, history, now, kinds), keep=SHORT_WAIT,
            )  # fmt: skip
            receipts: list[Sent] = []
            try:
                # every call runs to its end, whatever another raises (the store refusing its failure): the
                # wave's receipts are all recorded before that error goes on, none left `sending` to turn unknown
                results = await asyncio.gather(
                    *(self._call_one(target, d, receipts) for d in started), return_exceptions=True
                )
            finally:
                await self.outcomes.receipts(target, receipts, batch)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        finally:
            self.in_flight.difference_update(ids)
        # held back: the refused one first (still claimed when its wait is short), then those behind it
        return stale + len(started), refusal, (live[allowed:] if refusal is not None else [])

    def _stale(self, target: TargetSettings, d: Delivery, now: datetime) -> bool:
        fresh = self._freshness(target, d)
        return bool(
            fresh and d.kind == DeliveryKind.POST and not d.manual and d.published_at and now - d.published_at > fresh
        )

    async def _call_one(self, target: TargetSettings, d: Delivery, receipts: list[Sent]) -> None:
        """One platform call of a started delivery. A receipt joins `receipts` (recorded with the wave's); a
        failure is recorded here, at once."""
        attempt = d.attempts + 1
        try:
            publisher = self.publisher(target)
        except Exception as exc:  # before any call: nothing left, so it is retried, not unknown
            why = Transient(
                f"the publisher could not be made: {redactor(repr(exc))}", code="publisher", maybe_sent=False
            )
            await self.outcomes.failed(target, d, why, attempt)
            return
        try:
            receipt = await self.call(target, publisher, d)
        except PublishError as exc:
            await self.outcomes.failed(target, d, exc, attempt)
            return
        except asyncio.CancelledError:
            # the worker stops and cannot wait for this call any longer: what a crash would leave, said at once
            stopped = Transient("the worker stopped during the platform call", code="stopped", maybe_sent=True)
            await self.outcomes.failed(target, d, stopped, attempt)
            raise
        except Exception as exc:
            await self.outcomes.unknown(target, d, exc)
            return
        receipts.append((d, receipt, self.clock()))

    def _freshness(self, target: TargetSettings, d: Delivery) -> timedelta:
        """How old an article may be when its post goes out: the target's cut-off, else its feed's max_age.

        A backlog (downtime, a quota, a burst of imports) drains newest first; what became too old while waiting
        is not posted — visibly (`failed`, error class `stale`, resendable) — rather than dumped hours late.
        """
        if target.limits.freshness:
            return target.limits.freshness
        feed = self.feeds.get(d.feed)
        return feed.max_age if feed else timedelta(0)


__all__ = [
    "CLAIM_LEASE", "DEADLINE_FACTOR", "DRY_RUN_BATCH", "FANOUT_WAVE", "SHORT_WAIT", "Dispatcher", "call_deadline",
]  # fmt: skip
