"""Posting on publish: the signed webhook and WebSub tell the worker *which* feed or article changed; what
happens next is exactly what a poll would do (same store, outbox and governor), so a later poll adds nothing.

Also the withdrawal path: an article that is no longer public has its unsent deliveries cancelled and, if the
feed asks for it (`on_withdraw = "retract"`), its posts deleted where the platform allows — else a human is told.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.exc import SQLAlchemyError

from syndicator import editorial
from syndicator.app import App
from syndicator.article import DeliveryKind, DeliveryState, Post
from syndicator.config import FeedSettings, WebhookSettings
from syndicator.errors import FeedError
from syndicator.events import ArticleNew, emit
from syndicator.logs import get_logger
from syndicator.platforms import registry
from syndicator.polling import PollReport, identity_key, ingest
from syndicator.sources import webhook, websub
from syndicator.sources.urls import url_key
from syndicator.store import feeds as feed_store
from syndicator.store import manage
from syndicator.store.articles import row_to_article
from syndicator.store.replays import StoreReplayGuard
from syndicator.web.messages import HttpRequest, HttpResponse, Route

log = get_logger("syndicator.push")
BUSY_RETRIES = 20  # a scheduled poll of the same feed is running: wait for it, then poll again


def withdraw(
    app: App, feed: FeedSettings, refs: list[str], *, reason: str, post_id: int | None = None
) -> dict[str, Any]:
    """Cancel what has not gone out; queue deletions (or alert) for what has."""
    now = app.clock()
    summary: dict[str, Any] = {"articles": 0, "cancelled": 0, "deletes_queued": 0, "left": []}
    for row in _articles(app, feed, refs, post_id):
        summary["articles"] += 1
        summary["cancelled"] += manage.cancel_unsent(app.store, row["id"], now=now, reason=f"withdrawn: {reason}")
        for d in manage.sent_posts(app.store, row["id"]):  # every generation, in flight too
            target = app.config.targets.get(d.target)
            can_delete = target is not None and registry.get(target.platform).capabilities.delete
            deletable = d.state != DeliveryState.UNKNOWN and can_delete
            if feed.on_withdraw == "retract" and deletable:
                manage.queue_followup(app.store, d, kind=DeliveryKind.DELETE, post=d.post, now=now)
                summary["deletes_queued"] += 1
            else:
                summary["left"].append({"target": d.target, "url": d.remote_url, "remote_id": d.remote_id})
        manage.set_article_state(app.store, row["id"], "withdrawn", reason=reason)
        fields = {"feed": feed.name, "article": row["guid"], "url": row["url"], "reason": reason}
        log.warning("article.withdrawn", **fields, cancelled=summary["cancelled"], deletes=summary["deletes_queued"])
        if summary["left"]:
            # posts that stay up although the article is gone: a person decides (`syndicator retract`)
            log.error("article.withdrawn_posts_remain", **fields, posts=summary["left"], needs_human=True)
    return summary


def republish(app: App, feed: FeedSettings, refs: list[str], *, post_id: int | None = None) -> int:
    """An article published again after a withdrawal is queued again on every target it was withdrawn from."""
    from syndicator.polling import deliveries_for
    from syndicator.store.articles import skip_unposted, skipped_by

    now = app.clock()
    total = 0
    for row in _articles(app, feed, refs, post_id):
        if row["state"] != "withdrawn":
            continue
        withdrawn = {(d.target, d.recipient) for d in manage.reinstate(app.store, row["id"], now=now)}
        planned = deliveries_for(app, feed, row_to_article(row))
        queued = 0
        for new in planned:
            if (new.target, new.recipient) in withdrawn and new.error is None:
                manage.add_delivery(
                    app.store, article_id=row["id"], feed=feed.name, target=new.target, recipient=new.recipient,
                    post=Post.from_json(new.post_json), published_at=row["published_at"], now=now,
                )  # fmt: skip
                queued += 1
        reason = skipped_by(planned)
        if reason and not queued:
            # published again, but the newsroom now keeps it off everything (planning said so in its
            # article.skipped): recorded as such, not `queued` with nothing under it
            skip_unposted(app.store, row["id"], reason=reason)
        log.info("article.republished", feed=feed.name, article=row["guid"], url=row["url"], queued=queued)
        total += queued
    return total


def _articles(app: App, feed: FeedSettings, refs: list[str], post_id: int | None) -> list[Any]:
    rows = manage.find_wordpress_post(app.store, feed.name, post_id) if post_id else []
    for ref in refs:
        rows += manage.find_articles(app.store, ref, url_key(ref) if "://" in ref else identity_key(ref))
    return list({r["id"]: r for r in rows if r["feed"] == feed.name}.values())


class Pushes:
    """The push side of the worker: /hooks/publish, the WebSub callback, and keeping subscriptions alive.

    It takes what it uses: the app (store, config, clock, outbound guard), how to poll a feed now (the worker's
    poll, which wakes its delivery loop when something is new) and how to wake the delivery loop."""

    def __init__(
        self,
        app: App,
        *,
        poll: Callable[[FeedSettings], Awaitable[PollReport]] | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self._poll = poll
        self._wake = wake
        self.guard = StoreReplayGuard(self.app.store)  # in the store: every worker sees it, a restart keeps it
        self._tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> list[Route]:
        settings = self.app.config.webhook
        max_body = settings.max_body if settings is not None else WebhookSettings.max_body
        return [
            Route("POST", "/hooks/publish", self.publish_hook, max_body=max_body),
            Route("GET", "/hooks/websub", self.websub_verify, max_body=0),
            Route("POST", "/hooks/websub", self.websub_notify),  # a feed document: the default cap (1 MB)
        ]

    async def poll(self, feed: FeedSettings) -> PollReport:
        if self._poll is not None:
            return await self._poll(feed)
        from syndicator.worker import poll_safely

        return await poll_safely(self.app, feed)

    # ── /hooks/publish ────────────────────────────────────────────────────────────────────────────────────
    async def publish_hook(self, req: HttpRequest) -> HttpResponse:
        settings = self.app.config.webhook
        if settings is None:
            return HttpResponse.json(404, {"error": "the publish webhook is not configured ([webhook])"})
        try:
            result = await asyncio.to_thread(
                webhook.verify,
                settings,
                req.headers,
                req.body,
                now=self.app.clock(),
                guard=self.guard,
                feeds={f.name for f in self.app.config.feeds},
            )
        except SQLAlchemyError as exc:
            # without the replay record a call cannot be told from its copy: refuse it, the sender retries
            log.error("webhook.store_failed", error=exc.__class__.__name__, peer=req.peer)
            return HttpResponse.json(503, {"error": "store unavailable, try again"})
        if isinstance(result, webhook.Refusal):
            log.warning("webhook.refused", status=result.status, reason=result.reason, peer=req.peer)
            return HttpResponse.json(result.status, {"error": result.reason})
        log.info("webhook.accepted", feed=result.feed, url=result.url, post_id=result.post_id, status=result.status)
        self._spawn(self.handle(result))
        return HttpResponse.json(202, {"accepted": True, "feed": result.feed})

    async def handle(self, call: webhook.PublishCall) -> None:
        feed = self.app.config.feed(call.feed)
        refs = [call.url] if call.url else []
        if call.choices is not None:  # the plugin's panel: kept before anything is rendered for the article
            await asyncio.to_thread(editorial.told, self.app, feed, call.choices, url=call.url, post_id=call.post_id)
        if call.status and call.status != "publish":
            await asyncio.to_thread(
                withdraw, self.app, feed, refs, reason=f"post status is now {call.status!r}", post_id=call.post_id
            )
            self._wake()
            return
        await self.poll_now(feed)
        if feed.wordpress and call.post_id:
            # the hook itself says "publish": a WordPress API that disagrees is not a reason to withdraw
            await self._check_wordpress(feed, call.post_id, refs, may_withdraw=call.status != "publish")
        if call.status == "publish":
            await asyncio.to_thread(republish, self.app, feed, refs, post_id=call.post_id)
        self._wake()

    async def _check_wordpress(
        self, feed: FeedSettings, post_id: int, refs: list[str], *, may_withdraw: bool = True
    ) -> None:
        from syndicator.sources.wordpress import fetch_post

        try:
            state = await asyncio.to_thread(
                fetch_post,
                feed.wordpress,
                post_id,
                feed=feed.name,
                language=feed.language,
                timeout=feed.timeout.total_seconds(),
                outbound=self.app.outbound,
            )
        except FeedError as exc:
            log.warning("webhook.wordpress_failed", feed=feed.name, post_id=post_id, error=str(exc))
            return
        if not state.public:
            if not may_withdraw:
                log.warning("webhook.wordpress_disagrees", feed=feed.name, post_id=post_id, status=state.status)
                return
            await asyncio.to_thread(
                withdraw, self.app, feed, refs, reason=f"WordPress says {state.status}", post_id=post_id
            )
        elif state.article is not None:
            if state.choices is not None:
                await asyncio.to_thread(
                    editorial.told, self.app, feed, state.choices, url=state.article.url, post_id=post_id
                )
            # the feed may lag behind (caches): the article itself is enough to queue it; known ones are left
            # to the poll, so the feed and the API never fight over the text
            known = manage.find_articles(self.app.store, state.article.id, identity_key(state.article.id))
            if not known:
                outcome = await asyncio.to_thread(
                    ingest, self.app, feed, [state.article], now=self.app.clock(), push=True
                )
                for _, article in outcome.new:
                    emit(ArticleNew(feed=feed.name, article=article.id, url=article.url, via="wordpress"))

    async def poll_now(self, feed: FeedSettings) -> None:
        for _ in range(BUSY_RETRIES):
            report = await self.poll(feed)
            if report.status != "busy":
                return
            await asyncio.sleep(0.5)
        log.warning("webhook.poll_busy", feed=feed.name)

    # ── WebSub ────────────────────────────────────────────────────────────────────────────────────────────
    async def websub_verify(self, req: HttpRequest) -> HttpResponse:
        params = {k: v[-1] for k, v in parse_qs(req.query, keep_blank_values=True).items()}
        name, token = params.get("feed", ""), params.get("token", "")
        sub = await asyncio.to_thread(feed_store.subscription, self.app.store, name) if name else None
        settings = self.app.config.webhook
        lease = settings.websub_lease if settings is not None else timedelta(0)
        answer = websub.answer_intent(sub, params, token=token, now=self.app.clock(), max_lease=lease)
        if answer.status == 200 and sub is not None:
            if answer.denied:
                await asyncio.to_thread(feed_store.deny_subscription, self.app.store, name, token=token)
                log.warning("websub.denied", feed=name, reason=params.get("hub.reason", ""))
            else:
                expires = answer.expires_at or self.app.clock() + lease
                confirmed = await asyncio.to_thread(
                    feed_store.confirm_subscription, self.app.store, name, token=token, expires_at=expires
                )
                if not confirmed:  # another request replaced this one since we read it
                    log.warning("websub.verify_refused", feed=name, reason="superseded")
                    return HttpResponse(404, b"not expecting this", "text/plain; charset=utf-8")
                log.info("websub.active", feed=name, hub=sub.hub, expires=expires)
        else:
            log.warning("websub.verify_refused", feed=name, reason=answer.body, peer=req.peer)
        return HttpResponse(answer.status, answer.body.encode(), "text/plain; charset=utf-8")

    async def websub_notify(self, req: HttpRequest) -> HttpResponse:
        params = {k: v[-1] for k, v in parse_qs(req.query).items()}
        name, token = params.get("feed", ""), params.get("token", "")
        sub = await asyncio.to_thread(feed_store.subscription, self.app.store, name) if name else None
        # the token first: the signature only proves who knows the secret, the token that this is the callback
        # of the subscription we hold now (a caller without it learns nothing, not even whether the feed exists)
        if sub is None or not websub.token_ok(sub, token):
            log.warning("websub.notify_refused", feed=name, peer=req.peer)
            return HttpResponse.json(404, {"error": "unknown subscription"})
        if not websub.signature_ok(sub.secret, req.headers.get("x-hub-signature", ""), req.body):
            # WebSub says: acknowledge, but ignore the message
            log.warning("websub.bad_signature", feed=name, peer=req.peer)
            return HttpResponse.json(202, {"ignored": "bad signature"})
        log.info("websub.notified", feed=name)
        self._spawn(self._notified(name))
        return HttpResponse.json(202, {"accepted": True})

    async def _notified(self, name: str) -> None:
        await self.poll_now(self.app.config.feed(name))
        self._wake()

    async def keep_subscriptions(self, every: float = 60.0) -> None:
        """A worker service: subscribe where a hub is advertised, renew before the lease runs out; and re-check
        recent articles through the WordPress REST API, so a withdrawal the webhook missed is seen too."""
        from syndicator.recheck import keep_rechecking

        await asyncio.gather(self._keep_subscriptions(every), keep_rechecking(self.app, self._wake))

    async def _keep_subscriptions(self, every: float) -> None:
        settings = self.app.config.webhook
        if settings is None or not settings.public_url:
            return
        while True:
            try:
                await self.renew_due()
            except Exception as exc:
                log.error("websub.error", error=repr(exc))
            await asyncio.sleep(every)

    async def renew_due(self) -> None:
        settings = self.app.config.webhook
        assert settings is not None
        now = self.app.clock()
        known = {f.name for f in self.app.config.feeds}
        for sub in await asyncio.to_thread(feed_store.subscriptions, self.app.store):
            if sub.feed not in known:
                continue
            margin = max(timedelta(hours=1), settings.websub_lease / 10)
            due = _subscription_due(sub, now, margin)
            if not due:
                continue
            # a renewal keeps the callback (so the hub renews, not adds, a subscription) and its secret; anything
            # else, and a subscription made before tokens, starts afresh
            renewal = sub.state == "active" and bool(sub.secret) and bool(sub.token)
            secret = sub.secret if renewal and sub.secret else secrets.token_hex(24)
            token = sub.token if renewal and sub.token else websub.new_token()
            callback = websub.callback_url(settings.public_url, sub.feed, token)
            # several workers on one database: only the one whose claim lands asks the hub, so the secret the
            # hub keeps is the one stored
            claimed = await asyncio.to_thread(
                feed_store.claim_subscription_request,
                self.app.store,
                sub.feed,
                seen_requested_at=sub.requested_at,
                now=now,
                secret=secret,
                token=token,
                state="requested" if sub.state != "active" else "active",
            )
            if not claimed:
                log.debug("websub.claimed_elsewhere", feed=sub.feed)
                continue
            try:
                await asyncio.to_thread(
                    websub.request_subscription,
                    hub=sub.hub,
                    topic=sub.topic,
                    callback=callback,
                    secret=secret,
                    lease=settings.websub_lease,
                    outbound=self.app.outbound,
                )
                log.info("websub.requested", feed=sub.feed, hub=sub.hub, renewal=sub.state == "active")
            except FeedError as exc:
                await asyncio.to_thread(
                    feed_store.set_subscription, self.app.store, sub.feed, sub_state="failed", sub_pending=False
                )
                log.warning("websub.failed", feed=sub.feed, hub=sub.hub, error=str(exc))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("push.error", error=repr(task.exception()))

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _subscription_due(sub: feed_store.Subscription, now: datetime, margin: timedelta) -> bool:
    waited = now - sub.requested_at if sub.requested_at else None
    if sub.state is None:
        return True
    if sub.state == "failed":
        return waited is None or waited > timedelta(hours=1)
    if sub.state == "requested":  # the hub never verified: ask again
        return waited is None or waited > timedelta(minutes=10)
    renewing_recently = waited is not None and waited < timedelta(minutes=10)
    return sub.expires_at is not None and sub.expires_at - now < margin and not renewing_recently
