"""No article falls through a gap: a poll that finds every item new pages back until it meets one it knows.

A WordPress feed lists the newest 10 posts. When more than that were published between two polls, every item of
the poll is new and the rest are not in the document at all. So, before the poll's items are recorded
(`before_ingest`, called by `polling.poll_feed`), when the feed has been polled before and none of the items is
known, older items are fetched: the REST API's post list when `wordpress` is set (it also carries the plugin's
meta), else the feed itself with `?paged=2`, `?paged=3`, … (WordPress serves older posts that way). Paging stops at
the first known item, at an item older than `max_age` (it would not be posted anyway), at the end of the feed (a
page shorter than the poll's, or the REST API's last page), or after `MAX_PAGES`.

A gap that cannot be closed that way (the pages ran out, the site refused a page, paging is not supported) is
never silent: a `feed.gap` event (an error line), an alert (`gap:FEED`) and a line in `syndicator status` for a
day. When the feed meets a known item again, a `feed.gap` event with `closed = true` clears the alert.

With `wordpress` set, new items of any poll also have the plugin's choices read from the REST API in one request
(`include=`), so custom texts and skips apply to what the feed found, without the webhook; so do known items the
newsroom kept off (`skipped`) whose feed item changed, so an opt-out removed on the site is seen.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from syndicator.article import Article
from syndicator.events import ERROR, INFO, Event, emit
from syndicator.logs import get_logger

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.config import FeedSettings

log = get_logger("syndicator.gaps")
MAX_PAGES = 10  # 100 feed items, or 500 REST posts, behind the poll's own: a burst bigger than that is an event
REST_PER_PAGE = 50
SHOWN_FOR = timedelta(hours=24)  # how long `status` shows a gap


@dataclass(frozen=True, kw_only=True)
class FeedGap(Event):
    """A poll found only new items. `closed`: paging back reached a known item (or max_age, or the feed's end);
    else articles between `found` and the last known one may be missing, for `reason`."""

    name: ClassVar[str] = "feed.gap"
    feed: str
    closed: bool
    pages: int  # pages fetched beyond the poll's own
    found: int  # items the paging added
    reason: str

    def log_level(self) -> int:
        return INFO if self.closed else ERROR


@dataclass(frozen=True)
class Paged:
    articles: list[Article]
    pages: int
    closed: bool
    reason: str


def before_ingest(app: App, feed: FeedSettings, articles: Sequence[Article], *, first_poll: bool) -> list[Article]:
    """The poll's items, plus older ones when the feed window overflowed. Never raises: a failure here is a gap
    (reported), never a lost poll."""
    items = list(articles)
    if first_poll or not items:
        return items
    try:
        known = _known(app, feed, items)
        if known:
            _overlaps_again(app, feed)
        else:
            paged = _page_back(app, feed, items)
            extra = _new_only(items, paged.articles)
            items += extra
            _report(app, feed, paged, len(extra))
        if feed.wordpress:
            seen = [a for a in items if a.id in known]
            _read_choices(app, feed, [a for a in items if a.id not in known] + _changed_skipped(app, feed, seen))
    except Exception as exc:  # a bug or a store failure here must not cost the poll
        log.error("feed.gap_check_failed", feed=feed.name, error=f"{exc.__class__.__name__}: {exc}"[:300])
    return items


def _known(app: App, feed: FeedSettings, items: Sequence[Article]) -> set[str]:
    """The ids of `items` the feed has recorded (by identity or by URL, as the store matches them)."""
    from syndicator.polling import identity_key
    from syndicator.sources.urls import url_key
    from syndicator.store.gaps import known_keys

    keyed = []
    for article in items:
        try:
            keyed.append((article.id, identity_key(article.id), url_key(article.url)))
        except ValueError:  # an URL the store would refuse too: never known
            continue
    found = known_keys(app.store, feed.name, [k for _, k, _ in keyed], [u for _, _, u in keyed])
    return {ident for ident, key, url in keyed if key in found or url in found}


def _changed_skipped(app: App, feed: FeedSettings, seen: Sequence[Article]) -> list[Article]:
    """Known items kept off by the newsroom (`skipped`) that changed in the feed: their choices are read again,
    so a term WordPress matched only by its slug (kept from the REST API) that was removed no longer holds them."""
    from syndicator.polling import identity_key
    from syndicator.sources.clean import clean_article
    from syndicator.store.gaps import skipped_fingerprints

    keyed = {}
    for article in seen:
        try:
            keyed[identity_key(article.id)] = article
        except ValueError:
            continue
    changed = []
    for key, stored in skipped_fingerprints(app.store, feed.name, list(keyed)).items():
        try:
            if clean_article(keyed[key]).fingerprint() != stored:  # as the store will compare it
                changed.append(keyed[key])
        except Exception:  # an item the poll will refuse anyway
            continue
    return changed


def _too_old(article: Article, feed: FeedSettings, now: datetime) -> bool:
    return bool(feed.max_age) and article.published is not None and article.published < now - feed.max_age


def _page_back(app: App, feed: FeedSettings, items: Sequence[Article]) -> Paged:
    now = app.clock()
    if any(_too_old(a, feed, now) for a in items):
        return Paged([], 0, True, "the poll already reaches back past max_age")
    found: list[Article] = []
    seen = {a.id for a in items}
    # the poll holds the feed for 3x its timeout and used one: paging gets at most the rest, less a margin
    deadline = time.monotonic() + 1.5 * feed.timeout.total_seconds()
    for page in range(1, MAX_PAGES + 1):
        if time.monotonic() > deadline:
            return Paged(found, page - 1, False, f"paging back took longer than {1.5 * feed.timeout}")
        try:
            batch, last = _page(app, feed, page, len(items))
        except Exception as exc:
            where = f"REST API page {page}" if feed.wordpress else f"feed page ?paged={page + 1}"
            return Paged(found, page - 1, False, f"{where} could not be read: {exc}"[:300])
        fresh = [a for a in batch if a.id not in seen]
        seen.update(a.id for a in fresh)
        known = _known(app, feed, fresh)
        for article in fresh:
            if article.id in known:
                return Paged(found, page, True, "reached a known item")
            if _too_old(article, feed, now):
                return Paged(found, page, True, f"reached max_age ({feed.max_age})")
            found.append(article)
        if last:
            return Paged(found, page, True, "reached the end of the feed")
    return Paged(found, MAX_PAGES, False, f"no known item within {MAX_PAGES} pages")


def _page(app: App, feed: FeedSettings, page: int, page_size: int) -> tuple[list[Article], bool]:
    """One page back: (its articles, whether it was the last). Page 1 of the REST API is the newest posts; page
    1 of the feed is the poll itself, so the feed starts at `paged=2`."""
    if feed.wordpress:
        from syndicator.editorial import refs_of, remember
        from syndicator.sources.wordpress import list_posts

        listed = list_posts(
            feed.wordpress, feed=feed.name, language=feed.language, page=page, per_page=REST_PER_PAGE,
            timeout=feed.timeout.total_seconds(), outbound=app.outbound,
        )  # fmt: skip
        for post_id, article, choices in listed.posts:
            if choices is not None:
                remember(app.store, feed.name, choices, refs_of(post_id=post_id, url=article.url), now=app.clock())
        return [a for _, a, _ in listed.posts], page >= listed.total_pages or not listed.posts
    from syndicator.sources.feed import fetch, parse

    # a 404 is not taken for the end of the feed: a site that does not page its feed answers so too, and the
    # posts behind the window would be lost without a word; a page shorter than the first is the end
    result = fetch(
        paged_url(feed.url, page + 1), timeout=feed.timeout.total_seconds(), max_bytes=feed.max_bytes,
        outbound=app.outbound,
    )  # fmt: skip
    parsed = parse(result.body, feed=feed.name, base_url=result.final_url, language=feed.language,
                   content_type=result.content_type)  # fmt: skip
    return list(parsed.articles), len(parsed.articles) < page_size


def paged_url(url: str, page: int) -> str:
    """The feed URL asking for page `page` (WordPress's `paged` query parameter), its other parameters kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "paged"]
    query.append(("paged", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _new_only(items: Sequence[Article], extra: Sequence[Article]) -> list[Article]:
    ids = {a.id for a in items}
    return [a for a in extra if a.id not in ids]


def _report(app: App, feed: FeedSettings, paged: Paged, found: int) -> None:
    if not paged.closed:
        from syndicator.store import gaps as gap_store

        # in the store before the event: an alert view of the store taken after the event must find it open
        gap_store.open_gap(app.store, feed.name, reason=paged.reason, now=app.clock())
    emit(FeedGap(feed=feed.name, closed=paged.closed, pages=paged.pages, found=found, reason=paged.reason))


def _overlaps_again(app: App, feed: FeedSettings) -> None:
    """The feed meets a known item: an open gap is over (the articles it may have lost stay lost: the event
    said so)."""
    from syndicator.store import gaps as gap_store

    if gap_store.close_gap(app.store, feed.name, now=app.clock()):
        emit(FeedGap(feed=feed.name, closed=True, pages=0, found=0, reason="the feed overlaps known items again"))


def _read_choices(app: App, feed: FeedSettings, new: Sequence[Article]) -> None:
    """The plugin's meta for the poll's new posts, in one REST request, kept before they are rendered."""
    from syndicator.editorial import post_id_of, refs_of, remember
    from syndicator.errors import FeedError
    from syndicator.sources.wordpress import list_posts

    ids = [i for i in (post_id_of(a.id) for a in new) if i is not None]
    if not ids:
        return
    try:
        for chunk in range(0, len(ids), REST_PER_PAGE):
            result = list_posts(
                feed.wordpress, feed=feed.name, language=feed.language, per_page=REST_PER_PAGE,
                include=ids[chunk : chunk + REST_PER_PAGE], timeout=feed.timeout.total_seconds(),
                outbound=app.outbound,
            )  # fmt: skip
            for post_id, article, choices in result.posts:
                if choices is not None:
                    remember(app.store, feed.name, choices, refs_of(post_id=post_id, url=article.url), now=app.clock())
    except FeedError as exc:
        # the feed's own tags still apply (the plugin echoes "don't post" and skips there)
        log.warning("editorial.rest_failed", feed=feed.name, error=str(exc))
