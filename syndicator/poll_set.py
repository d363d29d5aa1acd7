"""Feeds polled as a set (issue 14, "the store works in sets"): the due feeds are claimed a chunk per statement,
fetched by a bounded pool of threads, and the polls whose whole result is their feed's row (304s, failures) are
written in batches, one transaction each; a changed feed is recorded by its own poll, in one transaction with its
items, as `polling.poll_feed` does.

The guarantees are poll_feed's: a feed is polled by one worker at a time (the lease, taken in the claim), what a
poll records is committed before its lease is released, and a worker killed mid-cycle leaves leases that expire.
A lease here covers the time a claimed feed may wait for a thread: at most MAX_WAITING polls are claimed and not
yet finished, so a claimed poll starts within (MAX_WAITING // FETCHES) fetch timeouts, and its batch is written
within FLUSH_AFTER seconds of its end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime, timedelta

from syndicator.app import App
from syndicator.config import FeedSettings
from syndicator.events import Event, FeedFailed, FeedPolled, FeedsUnchanged, emit
from syndicator.health import fault_of
from syndicator.logs import redactor
from syndicator.polling import Pending, PollReport, poll_claimed, poll_lease
from syndicator.store.faults import store_fault
from syndicator.store.feeds import FeedState, Finished, claim_feed, claim_feeds, finish_polls

FETCHES = 16  # polls in flight at once: network-bound, as the worker's threads (worker.WORKER_THREADS)
CHUNK = FETCHES  # feeds claimed per statement
MAX_WAITING = 2 * FETCHES  # claimed, not finished: a new chunk is claimed only below this
FLUSH_EVERY = 128  # finished rows written per batch at most
FLUSH_AFTER = 0.5  # seconds a finished row waits for its batch at most
NAMES_SHOWN = 20  # feed names a batch's feed.unchanged_batch line lists; the rest are counted


def poll_feeds(app: App, feeds: Sequence[FeedSettings], *, fetches: int = FETCHES) -> list[PollReport]:
    """Poll `feeds` as one set; a report per feed, in order. Never raises: a store that refuses a claim or a
    batch makes those feeds' reports failed, each with one `feed.failed` line, as `worker.poll_safely` does."""
    reports: dict[str, PollReport] = {}
    queue = list(feeds)
    chunk = max(1, min(CHUNK, fetches))
    waiting_limit = max(chunk, 2 * fetches)
    rounds = -(-(waiting_limit + chunk) // fetches)  # how many fetches a claimed poll may wait behind
    batch: list[Pending] = []
    oldest = 0.0
    with ThreadPoolExecutor(max_workers=fetches, thread_name_prefix="syndicator-poll") as pool:
        running: set[Future[PollReport | Pending]] = set()
        while queue or running:
            while queue and len(running) < waiting_limit:
                part, queue = queue[:chunk], queue[chunk:]
                running |= _claim_and_start(app, pool, part, rounds, reports)
            if running:
                done, running = wait(running, timeout=FLUSH_AFTER, return_when=FIRST_COMPLETED)
                for future in done:
                    got = future.result()  # _guarded never raises
                    if isinstance(got, Pending):
                        if not batch:
                            oldest = time.monotonic()
                        batch.append(got)
                    else:
                        reports[got.feed] = got
            if batch and (len(batch) >= FLUSH_EVERY or not running or time.monotonic() - oldest >= FLUSH_AFTER):
                _flush(app, batch, reports)
                batch = []
    return [reports[f.name] for f in feeds]


def _claim_and_start(
    app: App,
    pool: ThreadPoolExecutor,
    feeds: list[FeedSettings],
    rounds: int,
    reports: dict[str, PollReport],
) -> set[Future[PollReport | Pending]]:
    now = app.clock()
    started = time.monotonic()
    longest = max(f.timeout for f in feeds)
    lease = max(poll_lease(f) for f in feeds) + longest * (rounds - 1)
    try:
        states = claim_feeds(app.store, [f.name for f in feeds], worker=app.worker_id, now=now, lease=lease)
    except Exception as exc:
        for feed in feeds:
            reports[feed.name] = _store_failed(feed.name, exc)
        return set()
    out: set[Future[PollReport | Pending]] = set()
    for feed in feeds:
        state = states.get(feed.name)
        if state is None:
            reports[feed.name] = PollReport(feed.name, "busy")
        else:
            out.add(pool.submit(_guarded, app, feed, state, now, started, lease))
    return out


def _guarded(
    app: App, feed: FeedSettings, state: FeedState, now: datetime, started: float, lease: timedelta
) -> PollReport | Pending:
    """poll_claimed, and what escapes it (the store refusing what it records outside its own transaction, a
    bug) as one feed.failed line, as worker.poll_safely does for a poll on its own; the lease then expires.

    A poll that waited for a thread so long (slow feeds ahead of it) that what is left of its lease would not
    cover the poll itself takes its lease again first; if another worker took the feed meanwhile, it is busy."""
    try:
        waited = timedelta(seconds=time.monotonic() - started)
        if lease - waited < poll_lease(feed):
            retaken = claim_feed(app.store, feed.name, worker=app.worker_id, now=app.clock(), lease=poll_lease(feed))
            if retaken is None:
                return PollReport(feed.name, "busy")
            state = retaken
        return poll_claimed(app, feed, state, now=now, started=started)
    except Exception as exc:
        if store_fault(exc) is not None:
            return _store_failed(feed.name, exc)
        error = redactor(f"internal: {exc!r}")[:500]
        emit(FeedFailed(feed=feed.name, reason="internal", error=error, severe=True))
        return PollReport(feed.name, "failed", error=error)


def _flush(app: App, batch: list[Pending], reports: dict[str, PollReport]) -> None:
    rows: list[Finished] = [p.finished for p in batch]
    try:
        finish_polls(app.store, rows, worker=app.worker_id)
    except Exception as exc:  # nothing of the batch is written: the leases expire, the feeds are polled again
        for pending in batch:
            reports[pending.finished.name] = _store_failed(pending.finished.name, exc)
        return
    unchanged = [p.event for p in batch if isinstance(p.event, FeedPolled) and p.event.not_modified]
    summed = len(unchanged) > 1  # one 304 keeps its own line; many are one line (each still its own event)
    for pending in batch:
        event = pending.event
        if summed and isinstance(event, FeedPolled) and event.not_modified:
            event = replace(event, batched=True)
        emit(event)
        reports[pending.finished.name] = pending.report
    if summed:
        emit(_unchanged_line(unchanged))


def _unchanged_line(polled: list[FeedPolled]) -> FeedsUnchanged:
    names = [e.feed for e in polled]
    shown = ",".join(names[:NAMES_SHOWN]) + (f",… +{len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")
    durations = [e.duration_seconds for e in polled if e.duration_seconds is not None]
    return FeedsUnchanged(feeds=len(polled), names=shown, duration_seconds_max=max(durations) if durations else None)


def _store_failed(name: str, exc: BaseException) -> PollReport:
    fault = fault_of(exc)
    error = redactor(f"store: {fault.message}")
    event: Event = FeedFailed(feed=name, reason="store", cause=fault.cause, error=error, severe=True)
    emit(event)
    return PollReport(name, "failed", error=error)


__all__ = ["FETCHES", "poll_feeds"]
