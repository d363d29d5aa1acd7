"""Withdrawals seen by polling: with `wordpress` set, recently posted articles are asked about again, so an
article unpublished while the webhook was not set up (or its call was lost) does not keep its posts for ever.

Every `EVERY` (a worker service), for each feed with `wordpress`: its articles of the last `WINDOW` that are queued
or posted are listed by WordPress post id, `BATCH` at a time, with one `/wp-json/wp/v2/posts?include=…` request per
batch. A post that list shows is still published. A post it leaves out is asked about on its own
(`/wp-json/wp/v2/posts/{id}`), and only WordPress's own answer — gone (404 `rest_post_invalid_id`), not readable
(401/403 `rest_forbidden`) or another status — withdraws it, exactly as a webhook call would (`pushes.withdraw`:
unsent deliveries cancelled, posts deleted or a human told). A CDN page, a timeout or a wrong URL withdraws nothing.
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
WINDOW = timedelta(days=2)
BATCH = 50  # the REST API's per_page cap is 100; 50 keeps each answer small


def recheck_feed(app: App, feed: FeedSettings) -> int:
    """Ask WordPress about the feed's recent articles; returns how many were withdrawn."""
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
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
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
    log.info("recheck.done", feed=feed.name, checked=len(ids), withdrawn=withdrawn)
    return withdrawn


async def keep_rechecking(app: App, wake: Callable[[], None] | None = None) -> None:
    """A worker service: every `EVERY`, each feed with `wordpress` is re-checked (in a thread)."""
    feeds = [f for f in app.config.feeds if f.wordpress]
    if not feeds:
        return
    while True:
        await asyncio.sleep(EVERY.total_seconds())
        for feed in feeds:
            try:
                if await asyncio.to_thread(recheck_feed, app, feed) and wake is not None:
                    wake()  # deletions were queued: the delivery loop sends them
            except Exception as exc:  # the store away, a bug: the next round tries again
                log.error("recheck.error", feed=feed.name, error=f"{exc.__class__.__name__}: {exc}"[:300])
