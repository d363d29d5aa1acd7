"""The long-running process: APScheduler wakes feed polls; a delivery loop sends what is due; SIGTERM/SIGINT stop
it cleanly (in-flight platform calls finish and are recorded, claimed-but-unsent work is released).

The scheduler holds no truth (PLATFORMS.md: never share its job store): feeds' state and the outbox are in the
database, so a restart or a second worker picks up exactly where things stand.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from syndicator.app import App
from syndicator.config import FeedSettings
from syndicator.dispatch import Dispatcher
from syndicator.logs import get_logger
from syndicator.polling import PollReport, poll_feed
from syndicator.pushes import Pushes
from syndicator.store.deliveries import next_due
from syndicator.store.feeds import ensure_feeds, subscription

log = get_logger("syndicator.worker")
WORKER_THREADS = 16
IDLE = 5.0  # seconds between outbox checks when nothing wakes the loop sooner
MIN_IDLE = 0.05  # never spin: something due but not ours to take is looked at again after this
SHUTDOWN_GRACE = 30.0


class Worker:
    def __init__(self, app: App) -> None:
        self.app = app
        self.dispatcher = Dispatcher(app)
        self.stop_event = asyncio.Event()
        self.wake = asyncio.Event()
        self.scheduler_alive = False
        self.extra_services: list[Callable[[Worker], Coroutine[Any, Any, None]]] = []
        self.pushes = Pushes(self)
        self.exit_code = 0

    async def poll(self, feed: FeedSettings) -> PollReport:
        report = await asyncio.to_thread(poll_feed, self.app, feed)
        if report.new:
            self.wake.set()
        return report

    async def scheduled_poll(self, feed: FeedSettings) -> PollReport | None:
        """The interval job. While a WebSub lease is active, pushes do the work and polling slows to a safety net."""
        webhook = self.app.config.webhook
        if webhook is not None and webhook.public_url:
            sub = await asyncio.to_thread(subscription, self.app.store, feed.name)
            now = self.app.clock()
            if (
                sub is not None
                and sub.state == "active"
                and (sub.expires_at is None or sub.expires_at > now)
                and sub.last_poll_at is not None
                and now - sub.last_poll_at < webhook.websub_poll_every
            ):
                return None
        return await self.poll(feed)

    async def run(self, *, handle_signals: bool = True) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        app = self.app
        await asyncio.to_thread(ensure_feeds, app.store, {f.name: f.url for f in app.config.feeds})
        scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}, timezone="UTC"
        )
        for feed in app.config.feeds:
            scheduler.add_job(
                self.scheduled_poll,
                "interval",
                args=[feed],
                seconds=feed.every.total_seconds(),
                id=f"poll:{feed.name}",
                replace_existing=True,
                next_run_time=app.clock(),
            )
        loop = asyncio.get_running_loop()
        # polls and blocking clients wait on the network, not the CPU: more threads than asyncio's default (cores + 4)
        loop.set_default_executor(ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="syndicator"))
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self.stop)
        scheduler.start()
        self.scheduler_alive = True
        log.info("worker.started", worker=app.worker_id, feeds=len(app.config.feeds), targets=len(app.config.targets))
        services = [asyncio.create_task(service(self)) for service in self.extra_services]
        services.append(asyncio.create_task(self.pushes.keep_subscriptions()))
        for task in services:
            task.add_done_callback(self._service_done)
        try:
            await self._delivery_loop()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            self.scheduler_alive = False
            scheduler.shutdown(wait=False)
            for task in services:
                task.cancel()
            await asyncio.gather(*services, return_exceptions=True)
            await self.pushes.drain()
            await app.aclose()
            log.info("worker.stopped", worker=app.worker_id)

    def _service_done(self, task: asyncio.Task[None]) -> None:
        """A service that dies (the HTTP port is taken, say) stops the worker loudly rather than leaving it half up."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("service.failed", error=repr(task.exception()), hint="the worker stops; fix the cause and restart")
        self.exit_code = 1
        self.stop()

    def stop(self) -> None:
        if not self.stop_event.is_set():
            log.info("worker.stopping", worker=self.app.worker_id)
        self.stop_event.set()
        self.dispatcher.stopping = True
        self.wake.set()

    async def _delivery_loop(self) -> None:
        while not self.stop_event.is_set():
            # a round runs to completion even when a stop arrives: calls in flight are recorded, not abandoned
            round_task = asyncio.ensure_future(self._round())
            try:
                await asyncio.shield(round_task)
            except asyncio.CancelledError:
                await asyncio.wait_for(round_task, SHUTDOWN_GRACE)
                raise
            if self.stop_event.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), await idle_seconds(self.app))
            self.wake.clear()

    async def _round(self) -> None:
        try:
            while await self.dispatcher.run_once() and not self.stop_event.is_set():
                pass
        except Exception as exc:  # the store may be briefly unreachable: log, wait, go on
            log.error("dispatch.error", error=repr(exc))
            await asyncio.sleep(IDLE)


async def idle_seconds(app: App) -> float:
    """How long the delivery loop may sleep: until the next delivery is due (a retry, a quota window, the end of a
    cancel window), at most IDLE seconds, never so little that it spins."""
    try:
        due = await asyncio.to_thread(next_due, app.store, app.config.targets)
    except Exception:
        return IDLE
    if due is None:
        return IDLE
    return min(IDLE, max(MIN_IDLE, (due - app.clock()).total_seconds()))


def show_due(app: App) -> None:
    """--dry-run: log what is due now, as it would be posted, and leave it queued for the real run."""
    from syndicator.store.reports import due_posts

    for d in due_posts(app.store, now=app.clock(), targets=list(app.config.targets)):
        log.info(
            "delivery.preview", delivery=d.id, article=d.article_id, feed=d.feed, target=d.target,
            recipient=d.recipient or None, kind=d.kind, length=d.post.length, limit=d.post.limit, text=d.post.text,
            link=d.post.link, image=d.post.image_url, dry_run=True,
        )  # fmt: skip


async def poll_once(app: App, feed_names: list[str] | None = None) -> list[PollReport]:
    """`syndicator poll`: one poll of the feeds, then deliver what is due, then return."""
    await asyncio.to_thread(ensure_feeds, app.store, {f.name: f.url for f in app.config.feeds})
    feeds = [f for f in app.config.feeds if feed_names is None or f.name in feed_names]
    reports = list(await asyncio.gather(*(asyncio.to_thread(poll_feed, app, f) for f in feeds)))
    if app.config.dry_run_all:
        await asyncio.to_thread(show_due, app)
        return reports
    dispatcher = Dispatcher(app)
    while await dispatcher.run_once():
        pass
    return reports


__all__ = ["Worker", "poll_once"]
