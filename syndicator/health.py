"""Whether this worker's store can be written, for `/healthz`: a cached write probe, plus the store faults its own
polls and deliveries met (a full disk only shows there: the probe rewrites a row in place).

Store faults become one structured event each, never a traceback: `store.failed` (operation, cause, error and
the ids involved), or for a poll `feed.failed` with `reason = "store"`. `syndicator_store_errors_total` counts
both (metrics.py); `StoreHealth` subscribes to them (typed events, `syndicator.events`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syndicator.events import (
    DeliveryFailed,
    DeliveryRetry,
    DeliverySent,
    DeliveryUnknown,
    Event,
    FeedFailed,
    FeedPolled,
    StoreFailed,
    emit,
)
from syndicator.logs import EventLogger, get_logger, redactor
from syndicator.store.faults import StoreFault, store_fault

if TYPE_CHECKING:
    from syndicator.config import Config
    from syndicator.store import Store

log = get_logger("syndicator.health")
PROBE_TTL = 5.0  # seconds a probe's answer is reused: a storm of health checks costs one write per TTL
PROBE_TIMEOUT = 5.0  # a probe that has not answered by then counts as a store that does not answer
FAULT_TTL = 300.0  # a fault the pipeline met stands this long unless the same work succeeds sooner


def fault_of(exc: BaseException) -> StoreFault:
    """The store fault behind `exc`; anything else is reported by its class, never by a traceback."""
    found = store_fault(exc)
    return found or StoreFault("error", f"{type(exc).__name__}: {exc}"[:300])


_IDS = ("delivery", "article", "feed", "target")


def report_store_failure(logger: EventLogger | None, operation: str, exc: BaseException, **ids: Any) -> StoreFault:
    """One `store.failed` event for a failure of the store (or of code around it) during `operation`. `ids` are
    the ids involved (delivery, article, feed, target) and any other fields for the log line (a hint, a receipt's
    remote_id). `logger` is not used any more: the event is logged by the bus."""
    fault = fault_of(exc)
    named = {k: ids.pop(k) for k in _IDS if k in ids}
    emit(StoreFailed(operation=operation, cause=fault.cause, error=redactor(fault.message), extra=ids, **named))
    return fault


@dataclass(frozen=True)
class _Standing:
    operation: str
    subject: str
    fault: StoreFault
    at: float  # monotonic


class StoreHealth:
    """Observes store faults and the work that succeeds after them; probes the store's writability on demand."""

    def __init__(self, store: Store, config: Config, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.ttl = PROBE_TTL
        self.fault_ttl = FAULT_TTL
        self._feeds = {f.name for f in config.feeds}
        self._targets = set(config.targets)
        self._standing: dict[tuple[str, str], _Standing] = {}
        self._lock = threading.Lock()  # events arrive from worker threads too
        self._probed: tuple[float, StoreFault | None] | None = None
        self._probe: asyncio.Future[StoreFault | None] | None = None
        self._probe_thread_busy = threading.Event()
        self._last_reported: StoreFault | None = None

    # -- what the pipeline met ---------------------------------------------------------------------------------

    def failed(self, operation: str, subject: str, fault: StoreFault) -> None:
        with self._lock:
            self._standing[(operation, subject)] = _Standing(operation, subject, fault, self.clock())

    def ok(self, operation: str, subject: str = "") -> None:
        with self._lock:
            self._standing.pop((operation, subject), None)

    def __call__(self, event: Event) -> None:
        """An events subscriber; only this worker's feeds and targets count (other workers share the process in
        tests)."""
        feed, target = getattr(event, "feed", None), getattr(event, "target", None)
        ours_feed = isinstance(feed, str) and feed in self._feeds
        ours_target = isinstance(target, str) and target in self._targets
        if isinstance(event, FeedFailed) and event.reason == "store" and ours_feed:
            self.failed("poll", event.feed, StoreFault(event.cause or "error", event.error))
        elif isinstance(event, StoreFailed) and event.operation != "health":
            subject = str(target) if ours_target else str(feed) if ours_feed else ""
            if subject or (feed is None and target is None):
                self.failed(event.operation or "store", subject, StoreFault(event.cause, event.error))
        elif isinstance(event, FeedPolled) and ours_feed:
            self.ok("poll", event.feed)
        elif isinstance(event, DeliverySent | DeliveryRetry | DeliveryFailed | DeliveryUnknown) and ours_target:
            self.ok("deliver", str(target))

    def standing(self) -> list[str]:
        now = self.clock()
        with self._lock:
            for key, entry in list(self._standing.items()):
                if now - entry.at > self.fault_ttl:
                    del self._standing[key]
            entries = sorted(self._standing.values(), key=lambda e: e.at)
        return [f"store cannot be written: {e.fault.message} ({_what(e)}, {now - e.at:.0f}s ago)" for e in entries]

    # -- the probe ----------------------------------------------------------------------------------------------

    async def probe(self) -> StoreFault | None:
        """The write probe's answer, at most `ttl` seconds old; callers at the same moment share one probe."""
        if self._probed is not None and self.clock() - self._probed[0] < self.ttl:
            return self._probed[1]
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._run_probe())
        return await asyncio.shield(self._probe)

    async def _run_probe(self) -> StoreFault | None:
        fault: StoreFault | None
        if self._probe_thread_busy.is_set():
            # the last probe's thread is still stuck in the driver: do not pile up another one
            fault = StoreFault("unreachable", "the store has not answered the last write probe")
        else:
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    await asyncio.to_thread(self._probe_in_thread)
                fault = None
            except TimeoutError:
                fault = StoreFault("unreachable", f"no answer to a write within {PROBE_TIMEOUT:g}s")
            except Exception as exc:
                fault = fault_of(exc)
        self._probed = (self.clock(), fault)
        self._note(fault)
        return fault

    def _probe_in_thread(self) -> None:
        self._probe_thread_busy.set()
        try:
            self.store.probe_write()
        finally:
            self._probe_thread_busy.clear()

    def _note(self, fault: StoreFault | None) -> None:
        """Log changes only: a health check every second must not write a line every second."""
        before, self._last_reported = self._last_reported, fault
        if fault is not None and fault != before:
            emit(StoreFailed(operation="health", cause=fault.cause, error=redactor(fault.message)))
        elif fault is None and before is not None:
            log.info("store.recovered", operation="health")

    async def problems(self) -> list[str]:
        fault = await self.probe()
        found = self.standing()
        if fault is not None:
            prefix = "store unreachable" if fault.cause == "unreachable" else "store cannot be written"
            found.insert(0, f"{prefix}: {redactor(fault.message)}")
        return found


def _what(entry: _Standing) -> str:
    if entry.operation == "poll":
        return f"poll of feed {entry.subject}"
    if entry.subject:
        return f"{entry.operation} for {entry.subject}"
    return entry.operation


__all__ = ["StoreHealth", "fault_of", "report_store_failure"]
