"""The long-running process: APScheduler wakes feed polls; a delivery loop gives each target with due work its own
lane (dispatch.py), so a slow platform holds back only itself; SIGTERM/SIGINT stop it cleanly (polls and platform
calls in flight finish and are recorded within SHUTDOWN_GRACE, claimed-but-unsent work is released).

The scheduler holds no truth (PLATFORMS.md: never share its job store): feeds' state and the outbox are in the
database, so a restart or a second worker picks up exactly where things stand. Its jobs never raise: APScheduler
would log a traceback; a failure is one structured event instead (`feed.failed`, `store.failed`, `job.failed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from syndicator.app import App
from syndicator.config import FeedSettings
from syndicator.events import FeedFailed, emit, subscribe
from syndicator.health import StoreHealth, fault_of, report_store_failure
from syndicator.logs import get_logger, redactor
from syndicator.poll_set import poll_feeds
from syndicator.polling import PollReport, poll_feed
from syndicator.pushes import Pushes
from syndicator.store.deliveries import next_due
from syndicator.store.faults import store_fault
from syndicator.store.feeds import ensure_feeds, subscription

log = get_logger("syndicator.worker")
WORKER_THREADS = 16
IDLE = 5.0  # seconds between outbox checks when nothing wakes the loop sooner
MIN_IDLE = 0.05  # never spin: something due but not ours to take is looked at again after this
SHUTDOWN_GRACE = 30.0


class Worker:
    def __init__(self, app: App) -> None:
        self.app = app
        self.dispatcher = app.dispatcher()
        self.stop_event = asyncio.Event()
        self.wake = asyncio.Event()
        self.scheduler_alive = False
        self.scheduler: Any = None  # the AsyncIOScheduler while `run` runs (tests move its jobs' next run time)
        self.extra_services: list[Callable[[Worker], Coroutine[Any, Any, None]]] = []
        self.pushes = Pushes(app, poll=lambda feed: self.poll(feed), wake=self.wake.set)  # late-bound
        self.exit_code = 0
        self.store_health = StoreHealth(app.store, app.config)
        self.dispatcher.on_lane_done = self.wake.set
        self._polls: set[asyncio.Task[None]] = set()  # scheduled polls in flight: a stop lets them finish
        self._stop_at: float | None = None  # monotonic time of the stop request: the grace counts from there

    async def poll(self, feed: FeedSettings) -> PollReport:
        report = await poll_safely(self.app, feed)
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
        scheduler = self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}, timezone="UTC"
        )
        for feed in app.config.feeds:
            scheduler.add_job(
                self._scheduled,
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
        unobserve = subscribe(self.store_health)
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
            self.stop()  # also when cancelled: lanes start no new call
            self.scheduler_alive = False
            scheduler.shutdown(wait=False)  # no new polls; the ones in flight finish below
            for task in services:
                task.cancel()
            await asyncio.gather(*services, return_exceptions=True)
            grace = self._grace_left()
            await asyncio.gather(self.dispatcher.drain(grace), self._drain_polls(grace))
            await self.pushes.drain()
            # only now: a second SIGTERM while calls finish must not kill the process with them half recorded
            for sig in signals:
                loop.remove_signal_handler(sig)
            unobserve()
            await app.aclose()
            log.info("worker.stopped", worker=app.worker_id)

    async def _scheduled(self, feed: FeedSettings) -> None:
        """The scheduler's job. Never raises, and a stop does not cut the poll: the scheduler's shutdown cancels
        this wrapper, not the poll, which finishes and is recorded while the worker stops (`_drain_polls`)."""
        task = asyncio.ensure_future(self._poll_job(feed))
        self._polls.add(task)
        task.add_done_callback(self._polls.discard)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    async def _poll_job(self, feed: FeedSettings) -> None:
        try:
            await self.scheduled_poll(feed)
        except Exception as exc:  # the WebSub check read the store and failed; poll() itself never raises
            if store_fault(exc) is not None:
                _poll_store_failed(feed, exc)
            else:
                log.error("job.failed", job=f"poll:{feed.name}", feed=feed.name, error=redactor(repr(exc)))

    async def _drain_polls(self, grace: float) -> None:
        polls = list(self._polls)
        if not polls:
            return
        _, pending = await asyncio.wait(polls, timeout=grace)
        if pending:
            # their threads cannot be stopped; what they record is recorded, the rest is seen again next poll
            log.warning("worker.stop_timeout", polls=len(pending), grace_seconds=grace)

    def _grace_left(self) -> float:
        if self._stop_at is None:
            return SHUTDOWN_GRACE
        return max(0.0, self._stop_at + SHUTDOWN_GRACE - time.monotonic())

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
            self._stop_at = time.monotonic()
        self.stop_event.set()
        self.dispatcher.stopping = True
        self.wake.set()

    async def _delivery_loop(self) -> None:
        """Start lanes for the targets that have due work and none running; sleep until a lane ends, new work
        arrives or the next delivery is due. The lanes of a stop are drained by `run`."""
        dispatcher = self.dispatcher
        while not self.stop_event.is_set():
            self.wake.clear()  # before claiming: a wake-up that arrives meanwhile is not lost
            try:
                started = await dispatcher.start_lanes()
            except Exception as exc:  # the store may be briefly unreachable: one line, wait, go on
                if store_fault(exc) is not None:
                    report_store_failure(log, "claim", exc)
                else:
                    log.error("dispatch.error", error=redactor(repr(exc)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_event.wait(), IDLE)
                continue
            self.store_health.ok("claim")
            if started:
                continue  # the other idle targets may have work beyond this batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), await idle_seconds(self.app, dispatcher.idle_targets()))


async def idle_seconds(app: App, targets: Iterable[str] | None = None) -> float:
    """How long the delivery loop may sleep: until the next delivery of an idle target is due (a retry, a quota
    window, the end of a cancel window), at most IDLE seconds, never so little that it spins. A busy target's
    due work waits for its lane to end, which wakes the loop."""
    names = list(app.config.targets if targets is None else targets)
    if not names:
        return IDLE
    try:
        due = await asyncio.to_thread(next_due, app.store, names)
    except Exception:
        return IDLE
    if due is None:
        return IDLE
    return min(IDLE, max(MIN_IDLE, (due - app.clock()).total_seconds()))


def show_due(app: App) -> None:
    """--dry-run: log what is due now, as it would be posted, and leave it queued for the real run."""
    from syndicator.platforms.registry import preview_extra
    from syndicator.store.reports import due_posts

    for d in due_posts(app.store, now=app.clock(), targets=list(app.config.targets)):
        log.info(
            "delivery.preview", delivery=d.id, article=d.article_id, feed=d.feed, target=d.target,
            recipient=d.recipient or None, kind=d.kind, length=d.post.length, limit=d.post.limit, text=d.post.text,
            link=d.post.link, image=d.post.image_url, dry_run=True,
            **preview_extra(d.post),
        )  # fmt: skip


async def poll_safely(app: App, feed: FeedSettings) -> PollReport:
    """One poll, in a thread. What escapes `poll_feed` (the store refusing the poll's own bookkeeping: its lease,
    its result) becomes one `feed.failed` line, never an exception."""
    try:
        return await asyncio.to_thread(poll_feed, app, feed)
    except Exception as exc:
        if store_fault(exc) is not None:
            return _poll_store_failed(feed, exc)
        error = redactor(f"internal: {exc!r}")[:500]
        emit(FeedFailed(feed=feed.name, reason="internal", error=error, severe=True))
        return PollReport(feed.name, "failed", error=error)


def _poll_store_failed(feed: FeedSettings, exc: BaseException) -> PollReport:
    fault = fault_of(exc)
    error = redactor(f"store: {fault.message}")
    emit(FeedFailed(feed=feed.name, reason="store", cause=fault.cause, error=error, severe=True))
    return PollReport(feed.name, "failed", error=error)


async def poll_once(app: App, feed_names: list[str] | None = None) -> list[PollReport]:
    """`syndicator poll`: one poll of the feeds, then deliver what is due, then return."""
    await asyncio.to_thread(ensure_feeds, app.store, {f.name: f.url for f in app.config.feeds})
    feeds = [f for f in app.config.feeds if feed_names is None or f.name in feed_names]
    reports = await asyncio.to_thread(poll_feeds, app, feeds)  # as a set: chunked claims, batched 304s
    if app.config.dry_run_all:
        await asyncio.to_thread(show_due, app)
        return reports
    dispatcher = app.dispatcher()
    while await dispatcher.run_once():
        pass
    return reports


__all__ = ["Worker", "idle_seconds", "poll_once", "poll_safely"]
