"""What the end of a platform call means, recorded and said: a wave's receipts in one transaction (then parents,
rate headers, `delivery.sent`), a failure classified into retry (with backoff and jitter), failed for good,
`unknown` (the platform may have the post) or a paused target, and a platform's rate headers turned into a pause.

The outbox's rows are the truth; the events emitted here (syndicator.events) are what logging, metrics and alerts
see of it, each after its row is committed.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta

from syndicator.article import DeliveryKind, RateInfo, Receipt
from syndicator.clock import Clock
from syndicator.config import TargetSettings
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.events import (
    DeliveryChanged,
    DeliveryFailed,
    DeliveryRetry,
    DeliverySent,
    DeliveryUnknown,
    Event,
    RateLimitWait,
    TargetPaused,
)
from syndicator.health import report_store_failure
from syndicator.limits import WaitKind
from syndicator.logs import get_logger, redactor
from syndicator.platforms.registry import preview_extra
from syndicator.sent_summary import SentBatch, batched
from syndicator.store import Store
from syndicator.store import deliveries as outbox
from syndicator.store.deliveries import Delivery

log = get_logger("syndicator.dispatch")

Sent = tuple[Delivery, Receipt, datetime]  # a delivery, its receipt, when its call ended


class Reported(Exception):
    """A failure already logged where it happened, with what only that place knew (the receipt of a post the
    store could not record): the caller must not report it again."""


class Outcomes:
    """Records the outcomes of one worker's (`worker_id`) calls in `store` and emits what they mean."""

    def __init__(
        self,
        store: Store,
        *,
        worker_id: str,
        clock: Clock,
        emit: Callable[[Event], None],
        rng: random.Random,
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.clock = clock
        self.emit = emit
        self.rng = rng

    async def receipts(self, target: TargetSettings, receipts: list[Sent], batch: SentBatch | None = None) -> None:
        """A wave's receipts, in one transaction; then what each one means (parents, rates, events). A store that
        refuses them raises `Reported`, each post logged with its receipt. The sends `batch` sums up in one line
        (sent_summary.py) are logged at debug each."""
        if not receipts:
            return
        try:
            ours = await asyncio.to_thread(
                outbox.record_sent_many, self.store, [(d.id, r, done) for d, r, done in receipts],
                worker=self.worker_id,
            )  # fmt: skip
        except Exception as exc:
            # the posts exist but the rows stay `sending`: once their leases run out they show as unknown
            for d, receipt, _ in receipts:
                report_store_failure(
                    log, "deliver", exc, delivery=d.id, article=d.article_id, feed=d.feed, target=target.name,
                    remote_id=receipt.remote_id, url=receipt.url,
                    hint="posted, but the store could not record it: do not resend; the delivery will show as unknown",
                )  # fmt: skip
            raise Reported from exc
        for d, receipt, done in receipts:
            await self._sent(target, d, receipt, done, ours=d.id in ours, batch=batch)

    async def _sent(
        self, target: TargetSettings, d: Delivery, receipt: Receipt, done: datetime, *, ours: bool,
        batch: SentBatch | None,
    ) -> None:  # fmt: skip
        if not ours:
            log.error(
                "delivery.possible_duplicate", delivery=d.id, target=target.name, article=d.article_id,
                remote_id=receipt.remote_id, url=receipt.url,
                hint="this call outlived its lease; another worker may have sent the post too: check the platform",
            )  # fmt: skip
        if d.kind != DeliveryKind.POST:
            await asyncio.to_thread(outbox.apply_to_parent, self.store, d, now=done)
        if receipt.rate:
            await self._note_rate(target, receipt.rate, done)
        ids = {
            "delivery": d.id,
            "article": d.article_id,
            "feed": d.feed,
            "target": target.name,
            "platform": target.platform,
            "attempt": d.attempts + 1,
            "remote_id": receipt.remote_id,
            "url": receipt.url,
            "recipient": d.recipient or None,
        }
        if d.kind != DeliveryKind.POST:
            self.emit(DeliveryChanged(parent=d.parent_id, deleted=d.kind == DeliveryKind.DELETE, **ids))  # type: ignore[arg-type]
            return
        preview: dict[str, object] = {}
        if target.dry_run:
            preview.update(dry_run=True, length=d.post.length, limit=d.post.limit, text=d.post.text, link=d.post.link)
            if d.post.image_url:
                preview["image"] = d.post.image_url
            preview.update(preview_extra(d.post))
        delay = round((done - d.published_at).total_seconds(), 3) if d.published_at else None
        summed = False
        if batch is not None and batched(target, d) and not batch.shows_alone(d):
            batch.add(d, done, delay)
            summed = True
        self.emit(DeliverySent(delay_seconds=delay, extra=preview, batched=summed, **ids))  # type: ignore[arg-type]

    async def unknown(self, target: TargetSettings, d: Delivery, exc: Exception) -> None:
        """Not a mapped platform error: we cannot tell whether the post exists. Never re-sent silently."""
        reason = redactor(repr(exc))
        await asyncio.to_thread(
            outbox.mark_unknown, self.store, d.id, now=self.clock(), reason=reason, worker=self.worker_id
        )
        self.emit(DeliveryUnknown(delivery=d.id, target=target.name, article=d.article_id, error=reason))

    async def failed(self, target: TargetSettings, d: Delivery, exc: PublishError, attempt: int) -> None:
        store, now = self.store, self.clock()
        message = redactor(str(exc))
        fields: dict[str, object] = {
            "delivery": d.id, "article": d.article_id, "feed": d.feed, "target": target.name, "attempt": attempt,
            "error_class": exc.error_class, "error": message, "code": exc.code,
        }  # fmt: skip
        retry_at: datetime | None
        if isinstance(exc, RetryLater):
            retry_at = exc.retry_at if exc.retry_at and exc.retry_at > now else now + self.backoff(target, attempt)
            await asyncio.to_thread(
                outbox.pause_target, store, target.name, until=retry_at, reason=str(exc)[:300], now=now
            )
            self.emit(TargetPaused(target=target.name, reason="platform", until=retry_at, error=str(exc)))
            failure: type[DeliveryRetry | DeliveryFailed] = DeliveryRetry
        elif (
            isinstance(exc, Transient)
            and exc.maybe_sent
            and d.kind == DeliveryKind.POST
            and target.retry.on_unknown == "hold"
        ):
            # the platform may have the post: like a crash mid-call, a person decides (or on_unknown = "retry")
            await asyncio.to_thread(outbox.mark_unknown, store, d.id, now=now, reason=message, worker=self.worker_id)
            hint = (
                "no answer after the request was sent; check the platform, then "
                f"`syndicator resend ARTICLE --target {target.name} --yes` if the post is missing"
            )
            self.emit(DeliveryUnknown(**fields, hint=hint))  # type: ignore[arg-type]
            return
        elif isinstance(exc, Transient):
            retry_at = None if attempt >= target.retry.max_attempts else now + self.backoff(target, attempt)
            failure = DeliveryRetry if retry_at else DeliveryFailed
        else:
            retry_at = None
            failure = DeliveryFailed
            if isinstance(exc, AuthError):
                await asyncio.to_thread(
                    outbox.pause_target, store, target.name, until=None, reason=f"authorization: {exc}",
                    auth=True, now=now,
                )  # fmt: skip
                self.emit(TargetPaused(target=target.name, reason="authorization", error=str(exc)))
        await asyncio.to_thread(
            outbox.record_failure, store, d.id, now=now, error_class=exc.error_class, message=message,
            retry_at=retry_at, worker=self.worker_id,
        )  # fmt: skip
        self.emit(failure(**fields, retry_at=retry_at, permanent=isinstance(exc, Permanent)))  # type: ignore[arg-type]

    def backoff(self, target: TargetSettings, attempt: int) -> timedelta:
        base = target.retry.backoff.total_seconds() * (2 ** max(0, attempt - 1))
        capped = min(base, target.retry.max_backoff.total_seconds())
        return timedelta(seconds=capped * self.rng.uniform(0.5, 1.0) + 0.001)  # jitter spreads a herd

    async def _note_rate(self, target: TargetSettings, rate: RateInfo, now: datetime) -> None:
        payload = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(rate).items()}
        await asyncio.to_thread(outbox.save_rate, self.store, target.name, json.dumps(payload), now=now)
        until, reason, kind = None, "", WaitKind.PLATFORM
        if rate.pause_until and rate.pause_until > now:
            until, reason = rate.pause_until, "the platform asked to stop"
        elif rate.remaining == 0 and rate.reset_at and rate.reset_at > now:
            until, reason = rate.reset_at, f"rate limit exhausted ({rate.limit}); resets then"
        elif rate.usage_percent is not None and rate.usage_percent >= 100:
            until, reason, kind = now + timedelta(minutes=15), f"usage at {rate.usage_percent:.0f}%", WaitKind.USAGE
        elif rate.usage_percent is not None and rate.usage_percent >= target.limits.slow_down_at_percent:
            until, kind = now + timedelta(minutes=1), WaitKind.USAGE
            reason = f"usage at {rate.usage_percent:.0f}%: slowing down"
        if until:
            await asyncio.to_thread(outbox.pause_target, self.store, target.name, until=until, reason=reason, now=now)
            self.emit(RateLimitWait(target=target.name, until=until, reason=reason, kind=kind))
