"""Claim → govern → publish → record. The only code path that ever sends a post.

Per target, deliveries go one after another (spacing and quotas are per target); different targets go
concurrently, so one article reaches its four platforms at once.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from dataclasses import asdict
from datetime import datetime, timedelta

from syndicator.app import App
from syndicator.article import DeliveryState, RateInfo, Receipt
from syndicator.config import TargetSettings
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.logs import get_logger, redactor
from syndicator.platforms.base import Publisher
from syndicator.store import deliveries as outbox
from syndicator.store.deliveries import Decision, Delivery

log = get_logger("syndicator.dispatch")
CLAIM_LEASE = timedelta(minutes=2)


class Dispatcher:
    def __init__(self, app: App, *, rng: random.Random | None = None, batch: int = 50) -> None:
        self.app = app
        self.rng = rng or random.Random()
        self.batch = batch
        self.stopping = False

    async def run_once(self) -> int:
        """Send what is due now; returns how many deliveries were attempted."""
        app = self.app
        now = app.clock()
        auto_retry = {n for n, t in app.config.targets.items() if t.retry.on_unknown == "retry"}
        for d in await asyncio.to_thread(outbox.expire_leases, app.store, now=now, auto_retry_targets=auto_retry):
            log.error(
                "delivery.unknown",
                delivery=d.id,
                article=d.article_id,
                target=d.target,
                feed=d.feed,
                auto_retry=d.target in auto_retry,
                hint="the worker stopped during the platform call; check the platform, then "
                "`syndicator resend ARTICLE --target T` if it is missing",
            )
        claimed = await asyncio.to_thread(
            outbox.claim_due,
            app.store,
            worker=app.worker_id,
            now=now,
            # a dead worker's claimed batch is free again when its calls' leases would have expired
            lease=min(CLAIM_LEASE, max(map(self._call_lease, app.config.targets.values()), default=CLAIM_LEASE)),
            limit=self.batch,
            targets=list(app.config.targets),
        )
        by_target: dict[str, list[Delivery]] = defaultdict(list)
        for d in claimed:
            by_target[d.target].append(d)
        results = await asyncio.gather(*(self._target_queue(t, ds) for t, ds in by_target.items()))
        return sum(results)

    async def _target_queue(self, name: str, queue: list[Delivery]) -> int:
        target = self.app.config.targets[name]
        sent = 0
        for i, delivery in enumerate(queue):
            if self.stopping:
                rest = [r.id for r in queue[i:]]
                await asyncio.to_thread(outbox.release, self.app.store, rest, worker=self.app.worker_id)
                break
            decision = await self._send(target, delivery)
            if decision is not None and not decision.allowed:
                # the target must wait: the rest go back, due when the governor says (nothing polls before then)
                rest = [r.id for r in queue[i + 1 :]]
                await asyncio.to_thread(
                    outbox.release, self.app.store, rest, worker=self.app.worker_id, not_before=decision.at,
                    reason=decision.reason,
                )  # fmt: skip
                break
            sent += 1
        return sent

    async def _send(self, target: TargetSettings, d: Delivery) -> Decision | None:
        app = self.app
        now = app.clock()
        fresh = self._freshness(target, d)
        if fresh and d.kind == "post" and not d.manual and d.published_at and now - d.published_at > fresh:
            await asyncio.to_thread(
                outbox.record_failure,
                app.store,
                d.id,
                now=now,
                error_class="stale",
                message=f"not posted: older than the freshness cut-off ({fresh})",
                retry_at=None,
            )
            log.warning("delivery.skipped", delivery=d.id, target=target.name, article=d.article_id, reason="stale")
            return None
        decision = await asyncio.to_thread(
            outbox.begin_send,
            app.store,
            d,
            worker=app.worker_id,
            now=now,
            lease=self._call_lease(target),
            lookback=app.governor.lookback(target.name),
            month_start=app.governor.month_start(target.name, now),
            decide=lambda h: app.governor.decide(target.name, h, now, breaking=d.priority > 0, kind=d.kind),
            history_limit=app.governor.history_limit(target.name),
        )
        if not decision.allowed:
            if decision.reason != "lease lost":
                log.info("ratelimit.wait", target=target.name, delivery=d.id, until=decision.at, reason=decision.reason)
            return decision
        attempt = d.attempts + 1
        publisher = app.publisher(target)
        lease = self._call_lease(target)
        heartbeat = asyncio.ensure_future(self._keep_lease(d.id, lease))
        try:
            receipt = await self._call(publisher, d)
        except PublishError as exc:
            await self._failed(target, d, exc, attempt)
            return decision
        except Exception as exc:
            # Not a mapped platform error: we cannot tell whether the post exists. Never re-send silently.
            reason = redactor(repr(exc))
            await asyncio.to_thread(
                outbox.mark_unknown, app.store, d.id, now=app.clock(), reason=reason, worker=app.worker_id
            )
            log.error("delivery.unknown", delivery=d.id, target=target.name, article=d.article_id, error=reason)
            return decision
        finally:
            heartbeat.cancel()
        done = app.clock()
        ours = await asyncio.to_thread(outbox.record_sent, app.store, d.id, receipt, now=done, worker=app.worker_id)
        if not ours:
            log.error(
                "delivery.possible_duplicate", delivery=d.id, target=target.name, article=d.article_id,
                remote_id=receipt.remote_id, url=receipt.url,
                hint="this call outlived its lease; another worker may have sent the post too: check the platform",
            )  # fmt: skip
        if d.kind != "post":
            await asyncio.to_thread(outbox.apply_to_parent, app.store, d, now=done)
        if receipt.rate:
            await self._note_rate(target, receipt.rate, done)
        fields: dict[str, object] = {
            "delivery": d.id,
            "article": d.article_id,
            "feed": d.feed,
            "target": target.name,
            "platform": target.platform,
            "attempt": attempt,
            "remote_id": receipt.remote_id,
            "url": receipt.url,
        }
        if d.recipient:
            fields["recipient"] = d.recipient
        if d.kind != "post":
            log.info("delivery.edited" if d.kind == "edit" else "delivery.retracted", parent=d.parent_id, **fields)
            return decision
        if d.published_at:
            fields["delay_seconds"] = round((done - d.published_at).total_seconds(), 3)
        if target.dry_run:
            fields.update(dry_run=True, length=d.post.length, limit=d.post.limit, text=d.post.text, link=d.post.link)
            if d.post.image_url:
                fields["image"] = d.post.image_url
        log.info("delivery.sent", **fields)
        return decision

    async def _keep_lease(self, delivery_id: int, lease: timedelta) -> None:
        """While a call is in flight, renew its lease (a slow platform is not a dead worker)."""
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            until = self.app.clock() + lease
            await asyncio.to_thread(
                outbox.renew_lease, self.app.store, delivery_id, worker=self.app.worker_id, until=until
            )

    async def _call(self, publisher: Publisher, d: Delivery) -> Receipt:
        if d.kind == "post":
            return await publisher.publish(d.post)
        if d.parent_id is None:
            raise Permanent(f"{d.kind} without the post it applies to")
        parent, state = await asyncio.to_thread(outbox.parent_receipt, self.app.store, d.parent_id)
        if parent is None and state == DeliveryState.SENDING:
            raise Transient(f"cannot {d.kind} yet: the original post is still being sent", maybe_sent=False)
        if parent is None:
            raise Permanent(f"cannot {d.kind}: the original post has no receipt (state {state})")
        if d.kind == "edit":
            return await publisher.edit(parent, d.post)
        await publisher.delete(parent)
        return parent

    def _freshness(self, target: TargetSettings, d: Delivery) -> timedelta:
        """How old an article may be when its post goes out: the target's cut-off, else its feed's max_age.

        A backlog (downtime, a quota, a burst of imports) drains newest first; what became too old while waiting
        is not posted — visibly (`failed`, error class `stale`, resendable) — rather than dumped hours late.
        """
        if target.limits.freshness:
            return target.limits.freshness
        feed = next((f for f in self.app.config.feeds if f.name == d.feed), None)
        return feed.max_age if feed else timedelta(0)

    def _call_lease(self, target: TargetSettings) -> timedelta:
        # long enough for the call and its timeout; expiry means the process died mid-call
        return max(target.retry.call_lease, target.timeout * 4)

    async def _failed(self, target: TargetSettings, d: Delivery, exc: PublishError, attempt: int) -> None:
        app = self.app
        now = app.clock()
        message = redactor(str(exc))
        fields: dict[str, object] = {
            "delivery": d.id, "article": d.article_id, "feed": d.feed, "target": target.name, "attempt": attempt,
            "error_class": exc.error_class, "error": message, "code": exc.code,
        }  # fmt: skip
        retry_at: datetime | None
        if isinstance(exc, RetryLater):
            retry_at = exc.retry_at if exc.retry_at and exc.retry_at > now else now + self._backoff(target, attempt)
            await asyncio.to_thread(
                outbox.pause_target, app.store, target.name, until=retry_at, reason=str(exc)[:300], now=now
            )
            log.warning("target.paused", target=target.name, reason="platform", until=retry_at, error=str(exc))
            event = "delivery.retry"
        elif isinstance(exc, Transient) and exc.maybe_sent and d.kind == "post" and target.retry.on_unknown == "hold":
            # the platform may have the post: like a crash mid-call, a person decides (or on_unknown = "retry")
            await asyncio.to_thread(outbox.mark_unknown, app.store, d.id, now=now, reason=message, worker=app.worker_id)
            hint = (
                "no answer after the request was sent; check the platform, then "
                f"`syndicator resend ARTICLE --target {target.name} --yes` if the post is missing"
            )
            log.error("delivery.unknown", **fields, hint=hint)
            return
        elif isinstance(exc, Transient):
            retry_at = None if attempt >= target.retry.max_attempts else now + self._backoff(target, attempt)
            event = "delivery.retry" if retry_at else "delivery.failed"
        else:
            retry_at = None
            event = "delivery.failed"
            if isinstance(exc, AuthError):
                await asyncio.to_thread(
                    outbox.pause_target, app.store, target.name, until=None, reason=f"authorization: {exc}",
                    auth=True, now=now,
                )  # fmt: skip
                log.error("target.paused", target=target.name, reason="authorization", error=str(exc))
        await asyncio.to_thread(
            outbox.record_failure, app.store, d.id, now=now, error_class=exc.error_class, message=message,
            retry_at=retry_at, worker=app.worker_id,
        )  # fmt: skip
        level = log.warning if event == "delivery.retry" else log.error
        level(event, **fields, retry_at=retry_at, permanent=isinstance(exc, Permanent))

    def _backoff(self, target: TargetSettings, attempt: int) -> timedelta:
        base = target.retry.backoff.total_seconds() * (2 ** max(0, attempt - 1))
        capped = min(base, target.retry.max_backoff.total_seconds())
        return timedelta(seconds=capped * self.rng.uniform(0.5, 1.0) + 0.001)  # jitter spreads a herd

    async def _note_rate(self, target: TargetSettings, rate: RateInfo, now: datetime) -> None:
        app = self.app
        payload = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(rate).items()}
        await asyncio.to_thread(outbox.save_rate, app.store, target.name, json.dumps(payload), now=now)
        until, reason = None, ""
        if rate.pause_until and rate.pause_until > now:
            until, reason = rate.pause_until, "the platform asked to stop"
        elif rate.remaining == 0 and rate.reset_at and rate.reset_at > now:
            until, reason = rate.reset_at, f"rate limit exhausted ({rate.limit}); resets then"
        elif rate.usage_percent is not None and rate.usage_percent >= 100:
            until, reason = now + timedelta(minutes=15), f"usage at {rate.usage_percent:.0f}%"
        elif rate.usage_percent is not None and rate.usage_percent >= target.limits.slow_down_at_percent:
            until, reason = now + timedelta(minutes=1), f"usage at {rate.usage_percent:.0f}%: slowing down"
        if until:
            await asyncio.to_thread(outbox.pause_target, app.store, target.name, until=until, reason=reason, now=now)
            log.info("ratelimit.wait", target=target.name, until=until, reason=reason)
