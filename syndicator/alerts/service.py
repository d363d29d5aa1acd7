"""The alert service: runs beside the worker, turns events, store snapshots and credential checks into messages
and sends them on every channel, never blocking the pipeline; and `ops_services`, the worker's ops wiring."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from syndicator import events as ev
from syndicator.alerts.channels import AlertDeliveryError, Channel
from syndicator.alerts.conditions import Alert, Conditions, StoreSnapshot
from syndicator.alerts.settings import AlertConfig, load_settings
from syndicator.article import DeliveryState, Identity
from syndicator.errors import PublishError
from syndicator.gaps import FeedGap
from syndicator.logs import get_logger, redactor

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.config import Config, TargetSettings
    from syndicator.worker import Worker

log = get_logger("syndicator.alerts")

WATCHED: tuple[type[ev.Event], ...] = (
    ev.TargetPaused,
    ev.DeliverySent,
    ev.DeliveryFailed,
    ev.DeliveryUnknown,
    ev.RateLimitWait,
    ev.FeedPolled,
    FeedGap,
)
SHUTDOWN_WAIT = 5.0
Service = Callable[["Worker"], Coroutine[Any, Any, None]]


class AlertService:
    """Runs alongside the worker until cancelled: observes events, reads the store every `tick` seconds, checks
    credentials every `check_every` (by the app's clock, so tests move time instead of waiting)."""

    def __init__(
        self,
        app: App,
        config: AlertConfig,
        *,
        channels: list[Channel] | None = None,
        tick: float = 30.0,
        check_every: timedelta = timedelta(days=1),
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.wake = wake  # the worker's delivery loop: deliveries a resumed target held are due now
        # the first store view is applied: what was firing before the restart is adopted, so a resume after it
        # is announced as resolved (a resume before it would leave the old alert firing for ever)
        self.first_view = asyncio.Event()
        self.config = config
        self.channels = config.channels() if channels is None else channels
        self.tick = tick
        self.check_every = check_every
        s = config.settings
        self.conditions = Conditions(
            targets=app.config.targets,
            feeds=[f.name for f in app.config.feeds],
            feed_failing_after=s.feed_failing_after,
            expiry_window=timedelta(days=s.token_expiry_days) if s.token_expiry_days else None,
            clock=app.clock,
        )
        self.next_check: datetime | None = None  # None: at start
        # progress counters: let a caller (the tests) wait for ticks and deliveries instead of for time
        self.store_views = 0
        self.unsent = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[Alert] = asyncio.Queue()

        def observer(event: ev.Event) -> None:
            if not isinstance(event, WATCHED):
                return
            item = ("event", (event, time.monotonic()))
            with contextlib.suppress(RuntimeError):  # the loop is closed: the worker is gone
                loop.call_soon_threadsafe(inbox.put_nowait, item)

        undo = ev.subscribe(observer)
        tasks = [
            asyncio.create_task(self._store_loop(inbox)),
            asyncio.create_task(self._check_loop(inbox)),
            asyncio.create_task(self._send_loop(outbox)),
        ]
        log.info("alerts.started", channels=[c.name for c in self.channels])
        try:
            while True:
                kind, payload = await inbox.get()
                try:
                    alerts = self._apply(kind, payload)
                except Exception as exc:  # a bug here must not end alerting
                    log.error("alert.error", error=repr(exc)[:300])
                    continue
                for alert in alerts:
                    self.unsent += 1
                    outbox.put_nowait(alert)
        finally:
            undo()
            for task in tasks:
                task.cancel()
            # bounded: a worker's shutdown must never wait on an alert channel
            _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_WAIT)
            if stuck:
                log.warning("alerts.stop_incomplete", tasks=len(stuck))

    def _apply(self, kind: str, payload: Any) -> list[Alert]:
        if kind == "event":
            event, received = payload
            return self.conditions.on_event(event, received)
        if kind == "store":
            snap, adopt = payload
            try:
                return self.conditions.on_store(snap, adopt=adopt)
            finally:
                self.store_views += 1
                self.first_view.set()
        target, result, now = payload
        return self.conditions.on_check(target, result, now)

    # -- the store, every tick --------------------------------------------------------------------------------

    def snapshot(self) -> StoreSnapshot:
        """Blocking: the store's view of the conditions (indexed queries, the same as `syndicator status`)."""
        from syndicator.store import reports
        from syndicator.store.gaps import open_gaps

        started = time.monotonic()
        now = self.app.clock()
        counts = reports.target_counts(self.app.store, self.app.config.targets, now=now)
        feeds = reports.feed_status(self.app.store, now=now)
        return StoreSnapshot(
            started=started,
            now=now,
            auth_failed={t: str(c.get("pause_reason") or "") for t, c in counts.items() if c.get("auth_failed")},
            unknown={t: int(c.get(DeliveryState.UNKNOWN, 0)) for t, c in counts.items()},
            feeds={f["feed"]: (f["failing_since"], f["error"]) for f in feeds},
            gaps=open_gaps(self.app.store),
        )

    async def _store_loop(self, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
        adopt = True  # the first view: what the store already shows was announced by the previous process
        while True:
            try:
                async with asyncio.timeout(max(self.tick, 10.0)):
                    snap = await asyncio.to_thread(self.snapshot)
            except Exception as exc:
                log.warning("alert.store_error", error=f"{exc.__class__.__name__}: {exc}"[:300])
            else:
                inbox.put_nowait(("store", (snap, adopt)))
                adopt = False
            await asyncio.sleep(self.tick)

    # -- credentials, daily -----------------------------------------------------------------------------------

    async def _check_loop(self, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
        while True:
            now = self.app.clock()
            if self.next_check is None or now >= self.next_check:
                self.next_check = now + self.check_every
                targets = [t for t in self.app.config.targets.values() if not t.dry_run]
                await asyncio.gather(*(self._check(t, inbox) for t in targets))
            await asyncio.sleep(self.tick)

    async def _check(self, target: TargetSettings, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
        now = self.app.clock()
        result: Identity | PublishError
        try:
            publisher = self.app.publisher(target)
            async with asyncio.timeout(target.timeout.total_seconds() * 2):
                result = await publisher.check()
        except PublishError as exc:
            log.warning("alert.check", target=target.name, ok=False, error_class=exc.error_class, error=str(exc))
            result = exc
        except Exception as exc:
            log.warning("alert.check", target=target.name, ok=False, error=f"{exc.__class__.__name__}: {exc}"[:300])
            return
        else:
            log.info("alert.check", target=target.name, ok=True, expires_at=result.expires_at)
            await self._resume(target.name)
        inbox.put_nowait(("check", (target.name, result, now)))

    async def _resume(self, target: str) -> None:
        """The credentials work: an authorization pause is lifted and what it held goes out now (issue 15)."""
        from syndicator.store.recovery import resume_after_auth

        with contextlib.suppress(TimeoutError):  # bounded: a store that cannot be read must not stop recovery
            await asyncio.wait_for(self.first_view.wait(), max(self.tick * 10, 5.0))
        try:
            resumed = await asyncio.to_thread(resume_after_auth, self.app.store, target, now=self.app.clock())
        except Exception as exc:  # the store is briefly away: the next check tries again
            log.warning("alert.store_error", error=f"{exc.__class__.__name__}: {exc}"[:300])
            return
        if resumed is not None:
            log.info("target.resumed", target=target, reason="credentials checked", requeued=resumed.requeued,
                     unblocked=resumed.unblocked)  # fmt: skip
            if self.wake is not None:
                self.wake()

    # -- sending ----------------------------------------------------------------------------------------------

    async def _send_loop(self, outbox: asyncio.Queue[Alert]) -> None:
        while True:
            alert = await outbox.get()
            try:
                await asyncio.gather(*(self._deliver(channel, alert) for channel in self.channels))
            finally:
                self.unsent -= 1

    async def _deliver(self, channel: Channel, alert: Alert) -> None:
        try:
            async with asyncio.timeout(channel.timeout + 5):
                await asyncio.to_thread(channel.send, alert)
        except Exception as exc:
            error = str(exc) if isinstance(exc, AlertDeliveryError) else exc.__class__.__name__
            ev.emit(
                ev.AlertFailed(
                    channel=channel.name, condition=alert.condition, resolved=alert.resolved, error=redactor(error)
                )
            )
        else:
            ev.emit(ev.AlertSent(channel=channel.name, condition=alert.condition, resolved=alert.resolved))


def ops_services(config: Config, environ: Mapping[str, str] | None = None) -> list[Service]:
    """The worker services of issue 7: metrics always, alerts when `[alerts]` is configured. Validates `[alerts]`
    now, so a mistake stops start-up with exit code 2 instead of ending a background task later."""
    from syndicator.metrics import run_metrics

    alerting = load_settings(config, environ)
    services: list[Service] = [run_metrics]
    if alerting is not None:
        settings = alerting

        async def run_alerts(worker: Worker) -> None:
            await AlertService(worker.app, settings, wake=worker.wake.set).run()

        services.append(run_alerts)
    return services
