"""Cron mode: one `poll` delivers everything whose wait is short before it exits.

A target's spacing (a few seconds), a fan-out pace of 50 ms between recipients or a platform's short
retry-after would otherwise leave all but one post for the next cron run. So after each round the poll looks at
when the outbox next has work (`next_due`): within `max_wait` it waits (by the app's clock and the given sleep,
so tests move a fake clock instead of sleeping) and delivers again; a longer wait — a quota window, quiet hours,
a cost cap, an authorization pause — is left queued and said why. `max_time` bounds the whole poll's waiting.

Everything goes through the Dispatcher's public API (`run_once`), so the rules are the worker's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syndicator import events as ev
from syndicator.app import App
from syndicator.clock import Clock, utcnow

DEFAULT_MAX_WAIT = timedelta(seconds=60)
DEFAULT_MAX_TIME = timedelta(minutes=5)

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Runtime:
    """The clock and the sleep `syndicator poll` uses: the real ones; tests put a fake clock here (whose sleep
    moves it), so the CLI runs as it is and no test waits for real time."""

    clock: Clock = utcnow
    sleep: Sleep = asyncio.sleep


RUNTIME = Runtime()


@dataclass
class TargetRun:
    """What happened to one target's deliveries during this poll, and what is left queued."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0
    retrying: set[int] = field(default_factory=set)  # went to retry and not sent since
    errors: list[str] = field(default_factory=list)
    auth_paused: bool = False
    queued: int = 0
    next_due: datetime | None = None
    reason: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "unknown": self.unknown,
            "retry": len(self.retrying),
            "errors": self.errors[:5],
            "auth_paused": self.auth_paused,
            "queued": self.queued,
            "next_due": self.next_due,
            "reason": self.reason,
        }


@dataclass
class DrainReport:
    targets: dict[str, TargetRun]
    waited_seconds: float = 0.0
    stopped_by: str | None = None  # None | "max_wait" | "max_time": why queued work was left

    @property
    def not_delivered(self) -> bool:
        return any(r.failed or r.unknown or r.retrying for r in self.targets.values())

    @property
    def auth_paused(self) -> bool:
        return any(r.auth_paused for r in self.targets.values())


class _Tally:
    def __init__(self, names: list[str]) -> None:
        self.runs = {name: TargetRun() for name in names}

    def __call__(self, event: ev.Event) -> None:
        run = self.runs.get(getattr(event, "target", None) or "")
        if run is None:
            return
        if isinstance(event, ev.DeliverySent):
            run.sent += 1
            run.retrying.discard(event.delivery)
        elif isinstance(event, ev.DeliveryRetry):
            run.retrying.add(event.delivery)
            run.errors.append(f"{event.error_class}: {event.error}")
        elif isinstance(event, ev.DeliveryFailed):
            run.failed += 1
            run.retrying.discard(event.delivery)
            run.errors.append(f"{event.error_class}: {event.error}")
        elif isinstance(event, ev.DeliveryUnknown):
            run.unknown += 1
            run.retrying.discard(event.delivery)


async def deliver_due(
    app: App,
    *,
    max_wait: timedelta = DEFAULT_MAX_WAIT,
    max_time: timedelta = DEFAULT_MAX_TIME,
    sleep: Sleep = asyncio.sleep,
) -> DrainReport:
    """Deliver what is due, and what becomes due within `max_wait`, for at most `max_time` of waiting."""
    from syndicator.store import reports
    from syndicator.store.deliveries import next_due

    names = list(app.config.targets)
    tally = _Tally(names)
    dispatcher = app.dispatcher()
    started = app.clock()
    stopped_by: str | None = None
    unsubscribe = ev.subscribe(tally)
    try:
        while True:
            while await dispatcher.run_once():
                pass
            due = await asyncio.to_thread(next_due, app.store, names)
            if due is None:
                break
            now = app.clock()
            wait = max(0.0, (due - now).total_seconds())
            if wait > max_wait.total_seconds():
                stopped_by = "max_wait"
                break
            if now + timedelta(seconds=wait) - started > max_time:
                stopped_by = "max_time"
                break
            await sleep(wait)
    finally:
        unsubscribe()
    left = await asyncio.to_thread(reports.waiting, app.store, names)
    counts = await asyncio.to_thread(reports.target_counts, app.store, names, now=app.clock())
    for name, run in tally.runs.items():
        queued = left.get(name)
        if queued:
            run.queued, run.next_due, run.reason = queued["queued"], queued["next_due"], queued["reason"]
        run.auth_paused = bool(counts.get(name, {}).get("auth_failed"))
    return DrainReport(tally.runs, (app.clock() - started).total_seconds(), stopped_by)
