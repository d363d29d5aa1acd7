"""Withdrawals seen by polling: with `wordpress` set, recently posted articles are asked about again, so an
article unpublished while the webhook was not set up (or its call was lost) does not keep its posts for ever.

Every `EVERY` (a worker service), for each feed with `wordpress`: its articles of the last `WINDOW` that are queued
or posted are listed by WordPress post id, `BATCH` at a time, with one `/wp-json/wp/v2/posts?include=…` request per
batch. A post that list shows is still published. A post it leaves out is asked about on its own
(`/wp-json/wp/v2/posts/{id}`), and only WordPress's own answer — gone (404 `rest_post_invalid_id`), not readable
(401/403 `rest_forbidden`) or another status — withdraws it, exactly as a webhook call would (`pushes.withdraw`:
unsent deliveries cancelled, posts deleted or a human told). A CDN page, a timeout or a wrong URL withdraws nothing.

The cadence is shared by every worker on the database (`cadences`, store/rechecks.py): each worker looks every
`TICK` whether a feed's round is due, and only the one whose claim lands runs it; N workers make one round per
`EVERY` between them, not N. The holder keeps a lease (`LEASE`, renewed as it works); a worker killed mid-round
leaves the lease to run out and the next worker to look takes the round over. The times are the app's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from syndicator.editorial import post_id_of
from syndicator.errors import FeedError
from syndicator.logs import get_logger

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.config import FeedSettings

log = get_logger("syndicator.recheck")
EVERY = timedelta(minutes=15)  # modest: a withdrawal is rare, and the webhook is the fast path
TICK = 60.0  # seconds between a worker's looks at the shared due time: one conditional UPDATE per feed
LEASE = timedelta(minutes=2)  # renewed at half-time while a round works; at least 3 of the feed's timeouts
WINDOW = timedelta(days=2)
BATCH = 50  # the REST API's per_page cap is 100; 50 keeps each answer small


def job_of(feed: FeedSettings) -> str:
    return f"recheck:{feed.name}"


class Lease:
    """The round's lease, renewed before a REST call once half of it has run; False once another worker has it."""

    def __init__(self, app: App, job: str, lease: timedelta) -> None:
        self.app, self.job, self.lease = app, job, lease
        self.until = app.clock() + lease

    def __call__(self) -> bool:
        from syndicator.store.rechecks import renew_round

        now = self.app.clock()
        if now < self.until - self.lease / 2:
            return True
        if not renew_round(self.app.store, self.job, worker=self.app.worker_id, now=now, lease=self.lease):
            return False
        self.until = now + self.lease
        return True


def recheck_due(app: App) -> dict[str, int]:
    """One look (blocking): every feed with `wordpress` whose round is due and free is re-checked by this worker.
    Returns feed → articles withdrawn, for the rounds run here. A failing feed is logged; the others go on."""
    from syndicator.store.rechecks import claim_round, finish_round

    done: dict[str, int] = {}
    for feed in app.config.feeds:
        if not feed.wordpress:
            continue
        job, started = job_of(feed), app.clock()
        lease = max(LEASE, feed.timeout * 3)
        try:
            if not claim_round(app.store, job, worker=app.worker_id, now=started, lease=lease):
                continue
        except Exception as exc:  # the store away: the next look tries again
            log.error("recheck.error", feed=feed.name, error=f"{exc.__class__.__name__}: {exc}"[:300])
            continue
        try:
            done[feed.name] = recheck_feed(app, feed, lease=Lease(app, job, lease))
        except Exception as exc:  # a bug, the store away: the next round tries again
            log.error("recheck.error", feed=feed.name, error=f"{exc.__class__.__name__}: {exc}"[:300])
        finally:
            # the next round counts from this one's start, also after a failure (never a round per look)
            try:
                finish_round(app.store, job, worker=app.worker_id, next_due=started + EVERY, now=app.clock())
            except Exception as exc:  # the lease runs out instead
                log.error("recheck.error", feed=feed.name, error=f"{exc.__class__.__name__}: {exc}"[:300])
    return done


def recheck_feed(app: App, feed: FeedSettings, *, lease: Callable[[], bool] | None = None) -> int:
    """Ask WordPress about the feed's recent articles; returns how many were withdrawn. `lease` is asked before
    each REST call: False (another worker has taken the round over) ends the round here."""
    from syndicator.pushes import withdraw
    from syndicator.sources.wordpress import fetch_post, list_posts
    from syndicator.store.rechecks import recent_live

    rows = recent_live(app.store, feed.name, since=app.clock() - WINDOW)
    by_id = {}
    for row in rows:
        post_id = post_id_of(row["guid"])
        if post_id is not None:
            by_id[post_id] = row
    ids = sorted(by_id)
    timeout = feed.timeout.total_seconds()
    withdrawn = 0

    def held() -> bool:
        if lease is None or lease():
            return True
        log.warning("recheck.lease_lost", feed=feed.name, worker=app.worker_id, withdrawn=withdrawn)
        return False

    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        if not held():
            return withdrawn
        try:
            listed = list_posts(
                feed.wordpress, feed=feed.name, language=feed.language, per_page=BATCH, include=chunk,
                timeout=timeout, outbound=app.outbound,
            )  # fmt: skip
        except FeedError as exc:
            log.warning("recheck.failed", feed=feed.name, error=str(exc))
            return withdrawn
        present = {post_id for post_id, _, _ in listed.posts}
        for post_id in chunk:
            if post_id in present:
                continue
            if not held():
                return withdrawn
            try:
                state = fetch_post(
                    feed.wordpress, post_id, feed=feed.name, language=feed.language, timeout=timeout,
                    outbound=app.outbound,
                )  # fmt: skip
            except FeedError as exc:  # not WordPress's word: nothing is withdrawn
                log.warning("recheck.inconclusive", feed=feed.name, post_id=post_id, error=str(exc))
                continue
            if state.public:
                continue
            row = by_id[post_id]
            withdraw(app, feed, [row["url"]], reason=f"WordPress says {state.status} (re-check)", post_id=post_id)
            withdrawn += 1
    log.info("recheck.done", feed=feed.name, checked=len(ids), withdrawn=withdrawn, worker=app.worker_id)
    return withdrawn


async def keep_rechecking(app: App, wake: Callable[[], None] | None = None, *, tick: float = TICK) -> None:
    """A worker service: every `tick` seconds, look whether a feed's round is due (shared by all workers)."""
    if not any(f.wordpress for f in app.config.feeds):
        return
    while True:
        try:
            done = await asyncio.to_thread(recheck_due, app)  # each feed's failure is logged there
        except Exception as exc:  # a bug: the service goes on
            log.error("recheck.error", error=f"{exc.__class__.__name__}: {exc}"[:300])
            done = {}
        if any(done.values()) and wake is not None:
            wake()  # deletions were queued: the delivery loop sends them
        await asyncio.sleep(tick)
