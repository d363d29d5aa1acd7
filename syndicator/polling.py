"""One poll of one feed: fetch (conditional GET) → parse → record what is new → queue its deliveries.

A failing feed is logged with its reason and retried on its next turn; it never stops the other feeds.
"""

from __future__ import annotations

import functools
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection

from syndicator import editorial, gaps
from syndicator.app import App
from syndicator.article import Article, DeliveryState
from syndicator.config import FeedSettings, TargetSettings
from syndicator.errors import FeedError
from syndicator.events import ArticleNew, ArticleSkipped, Event, FeedFailed, FeedPolled, RenderFailed, emit
from syndicator.group_commit import GroupCommit
from syndicator.logs import get_logger
from syndicator.platforms import registry
from syndicator.render import Renderings
from syndicator.sources.clean import clean_article, clean_text, unstorable
from syndicator.sources.feed import fetch, parse
from syndicator.sources.urls import url_key
from syndicator.store.articles import FeedPolicy, Incoming, NewDelivery, Planned, PollOutcome, record_poll
from syndicator.store.engine import Store
from syndicator.store.faults import store_fault
from syndicator.store.feeds import FeedState, Finished, claim_feeds, finish_poll_in, finish_polls, remember_hub

log = get_logger("syndicator.poll")
POLL_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class PollReport:
    feed: str
    status: str  # ok | not_modified | failed | busy
    items: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    error: str | None = None


def identity_key(article_id: str) -> str:
    return url_key(article_id, keep_fragment=True) if "://" in article_id else article_id


def policy_of(feed: FeedSettings) -> FeedPolicy:
    return FeedPolicy(
        name=feed.name,
        latest_on_first_run=feed.latest_on_first_run,
        max_age=feed.max_age or None,
        hold_for=feed.hold_for,
        priority=1 if feed.priority == "breaking" else 0,
    )


def deliveries_for(app: App, feed: FeedSettings, article: Article) -> list[NewDelivery]:
    """One delivery per target of the feed (per recipient on a fan-out platform), each with its rendered post."""
    plan = editorial.plan(app, feed, article)  # the newsroom's opt-out, skips and custom texts
    out: list[NewDelivery] = Planned(skipped=plan.skipped(feed.targets))  # kept off everything: recorded skipped
    # targets that would render the same post (same platform, options and what the renderer reads; the same
    # article, so not one with its own editorial text) share one rendering and its JSON
    renderings = Renderings()
    payloads: dict[tuple[int, str], str] = {}
    for name in plan.targets(feed.targets):
        target = app.config.targets[name]
        try:
            post = renderings.render(plan.article_for(target), target)
        except Exception as exc:  # a renderer bug must not lose the article: the delivery fails visibly
            emit(RenderFailed(feed=feed.name, article=article.id, target=name, error=repr(exc)))
            out.append(NewDelivery(name, "", "{}", DeliveryState.FAILED, f"render failed: {exc!r}"))
            continue
        for recipient in recipients_of(target):
            payload = payloads.get((id(post), recipient))
            if payload is None:  # `renderings` holds every post, so an id here is never reused
                payload = payloads[id(post), recipient] = replace(post, recipient=recipient).to_json()
            out.append(NewDelivery(name, recipient, payload, delay=target.hold_for))
    return out


def editable_targets(app: App, feed: FeedSettings) -> frozenset[str]:
    """Targets whose sent posts are corrected when the article changes."""
    names = set()
    for name in feed.targets:
        target = app.config.targets[name]
        # the platform's own ability, also for a dry run (whose stand-in could "edit" anything)
        if target.edit_on_update and registry.get(target.platform).capabilities.edit:
            names.add(name)
    return frozenset(names)


def ingest(
    app: App,
    feed: FeedSettings,
    articles: list[Article],
    *,
    now: datetime,
    push: bool = False,
    then: Callable[[Connection], None] | None = None,
) -> PollOutcome:
    """Record articles seen by a poll (or pushed by a webhook/WebSub) and queue what is new or corrected.

    Every source passes here, so here every article is cleaned and capped (sources/clean.py) whatever its source
    did; an item that still cannot be stored is skipped, logged as `article.skipped` with its reason, and the
    rest go on. A push never marks the feed's first poll as done: only a full poll may decide what "already there"
    means. `then` runs at the end of the same transaction (a poll's own bookkeeping).
    """
    items, rejected = _admit(articles)
    outcome = record_poll(
        app.store,
        policy_of(feed),
        items,
        now=now,
        make_deliveries=lambda a: deliveries_for(app, feed, a),
        editable=editable_targets(app, feed),
        mark_initialized=not push,
        then=then,
    )
    outcome.rejected[:0] = rejected
    for article, reason in outcome.rejected:  # not stored at all: logged here, for polls and pushes alike
        emit(
            ArticleSkipped(
                feed=feed.name,
                article=clean_text(article.id, _LOGGED_CHARS),
                url=clean_text(article.url, _LOGGED_CHARS),
                reason=reason,
            )
        )
    for _, article in outcome.updated:
        log.info("article.updated", feed=feed.name, article=article.id, url=article.url, title=article.title)
    if outcome.corrections:
        log.info("article.corrected", feed=feed.name, edits_queued=outcome.corrections)
    return outcome


_LOGGED_CHARS = 300  # an id or URL in the log line of a refused item (a refused URL may be longer than it should)


def _admit(articles: list[Article]) -> tuple[list[Incoming], list[tuple[Article, str]]]:
    """The articles cleaned and keyed, and those that cannot be stored, each with why."""
    items: list[Incoming] = []
    rejected: list[tuple[Article, str]] = []
    for raw in articles:
        try:
            article = clean_article(raw)
        except Exception as exc:  # a source that built an Article of the wrong types: that item only
            rejected.append((_stand_in(raw), clean_text(f"cannot be cleaned: {exc!r}", 200)))
            continue
        reason = unstorable(article)
        if reason is None:
            try:
                items.append(Incoming(article, identity_key(article.id), url_key(article.url)))
                continue
            except Exception as exc:  # a URL canonicalisation cannot cope with: that item only
                reason = clean_text(f"cannot be keyed: {exc.__class__.__name__}: {exc}", 200)
        rejected.append((article, reason))
    return items, rejected


def _stand_in(article: Article) -> Article:
    """Enough of an article that could not be cleaned to name it in a log line."""
    return Article(
        id=clean_text(str(article.id), _LOGGED_CHARS),
        feed=article.feed,
        url=clean_text(str(article.url), _LOGGED_CHARS),
        title="",
    )


def recipients_of(target: TargetSettings) -> list[str]:
    """One entry per delivery: a fan-out platform's recipients (its spec says who), else one empty recipient."""
    return registry.get(target.platform).recipients_of(target.settings)


def poll_lease(feed: FeedSettings) -> timedelta:
    """A poll lasts at most about twice the fetch timeout; a worker that died mid-poll frees the feed soon after."""
    return max(POLL_LEASE, feed.timeout * 3)


@dataclass(frozen=True)
class Pending:
    """A poll whose whole result is its feed's row (not modified, or failed): the caller writes `finished`, alone
    or with other polls' in one batch (store.feeds.finish_polls), then emits `event`."""

    finished: Finished
    event: Event
    report: PollReport


def poll_feed(app: App, feed: FeedSettings) -> PollReport:
    now = app.clock()
    started = time.monotonic()
    claims, finishes = _group_writers(app.store)
    # the claim and a 304's result are one-row writes: polls in flight at once write theirs together
    state = claims(_Claim(feed.name, app.worker_id, now, poll_lease(feed)))
    if state is None:
        return PollReport(feed.name, "busy")
    got = poll_claimed(app, feed, state, now=now, started=started)
    if isinstance(got, PollReport):
        return got
    finishes((app.worker_id, got.finished))
    emit(got.event)
    return got.report


@dataclass(frozen=True)
class _Claim:
    feed: str
    worker: str
    now: datetime
    lease: timedelta


_Writers = tuple[GroupCommit[_Claim, FeedState | None], GroupCommit[tuple[str, Finished], None]]
_writers: weakref.WeakKeyDictionary[Store, _Writers] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _group_writers(store: Store) -> _Writers:
    with _writers_lock:
        got = _writers.get(store)
        if got is None:
            ref = weakref.ref(store)  # not the store itself: the writers must not keep their key alive
            got = _writers[store] = (
                GroupCommit(lambda claims: _claim_many(_alive(ref), claims)),
                GroupCommit(lambda rows: _finish_many(_alive(ref), rows)),
            )
        return got


def _alive(ref: weakref.ref[Store]) -> Store:
    store = ref()
    if store is None:  # only a caller holding the store calls its writers
        raise RuntimeError("the store is gone")
    return store


def _claim_many(store: Store, claims: Sequence[_Claim]) -> list[FeedState | None]:
    """The claims of one group write: one statement per (worker, lease) among them (usually one). A feed asked
    for twice in one group (a push and a scheduled poll at once) is given to the first only."""
    states: dict[tuple[str, timedelta], dict[str, FeedState]] = {}
    for worker, lease in {(c.worker, c.lease) for c in claims}:
        mine = [c for c in claims if (c.worker, c.lease) == (worker, lease)]
        names = list(dict.fromkeys(c.feed for c in mine))
        now = min(c.now for c in mine)  # the earliest: a lease is never thought free before it ends
        states[worker, lease] = claim_feeds(store, names, worker=worker, now=now, lease=lease)
    given: set[str] = set()
    out: list[FeedState | None] = []
    for c in claims:
        state = states[c.worker, c.lease].get(c.feed)
        out.append(state if state is not None and c.feed not in given else None)
        if state is not None:
            given.add(c.feed)
    return out


def _finish_many(store: Store, rows: Sequence[tuple[str, Finished]]) -> list[None]:
    for worker in {w for w, _ in rows}:
        finish_polls(store, [f for w, f in rows if w == worker], worker=worker)
    return [None] * len(rows)


def poll_claimed(
    app: App, feed: FeedSettings, state: FeedState, *, now: datetime, started: float
) -> PollReport | Pending:
    """The poll of a feed whose lease this worker holds (claimed at `now`). A changed feed is recorded here, its
    result in the transaction that records its items; a 304 or a failure is answered as Pending, for the caller
    to write."""
    next_poll = now + feed.every
    try:
        result = fetch(
            feed.url,
            etag=state.etag,
            last_modified=state.last_modified,
            timeout=feed.timeout.total_seconds(),
            max_bytes=feed.max_bytes,
            outbound=app.outbound,
        )
        if result.status == "not_modified":
            duration = round(time.monotonic() - started, 4)
            return Pending(
                Finished(feed.name, now, next_poll),
                FeedPolled(feed=feed.name, not_modified=True, items=0, new=0, duration_seconds=duration),
                PollReport(feed.name, "not_modified"),
            )
        parsed = parse(
            result.body,
            feed=feed.name,
            base_url=result.final_url,
            language=feed.language,
            content_type=result.content_type,
        )
    except FeedError as exc:
        return _failed(feed, now, next_poll, f"{exc.reason}: {exc}", started=started)
    except Exception as exc:  # a parser bug on a hostile feed must not stop the worker
        log.debug("feed.internal_error", feed=feed.name, trace=traceback.format_exc())
        return _failed(feed, now, next_poll, f"internal: {exc!r}", started=started)

    items = parsed.articles
    finish = functools.partial(
        finish_poll_in, name=feed.name, worker=app.worker_id, now=now, next_poll=next_poll, status="ok",
        etag=result.etag, last_modified=result.last_modified, items=len(items),
    )  # fmt: skip
    try:
        # a window that overflowed is paged back (syndicator/gaps.py); never raises
        articles = gaps.before_ingest(app, feed, items, first_poll=not state.initialized)
        # the poll's result is written in the transaction that records its items: one commit per changed feed
        outcome = ingest(app, feed, articles, now=now, then=finish)
        if parsed.hub and parsed.self_url and (parsed.hub, parsed.self_url) != (state.hub, state.topic):
            remember_hub(app.store, feed.name, hub=parsed.hub, topic=parsed.self_url)
    except Exception as exc:  # nothing was recorded (one transaction): the next poll sees the same items again
        log.debug("feed.internal_error", feed=feed.name, trace=traceback.format_exc())
        fault = store_fault(exc)  # the database refused (locked, disk full, read-only): its cause, not its SQL
        if fault is not None:
            error = f"store: {fault.message}"
            return _failed(feed, now, next_poll, error, started=started, reason="store", cause=fault.cause)
        return _failed(feed, now, next_poll, f"store: {exc.__class__.__name__}: {exc}", started=started)
    _log_outcome(feed, outcome, len(items), time.monotonic() - started)
    skipped = len(outcome.skipped) + len(outcome.opted_out)  # opted out: editorial.plan logged each
    return PollReport(feed.name, "ok", len(items), len(outcome.new), len(outcome.updated), skipped)


ERROR_CHARS = 500  # a feed's last error as kept in its row, logged and shown by `status`


def _failed(
    feed: FeedSettings,
    now: datetime,
    next_poll: datetime,
    error: str,
    *,
    started: float,
    reason: str | None = None,
    cause: str | None = None,
) -> Pending:
    # what a server or a library said is text from outside: no NUL, control character or lone surrogate the store
    # cannot hold (a batch of polls' rows is written in one transaction: one unstorable error would fail them all)
    error = clean_text(error, ERROR_CHARS)
    event = FeedFailed(
        feed=feed.name,
        error=error,
        retry_at=next_poll,
        duration_seconds=round(time.monotonic() - started, 4),
        reason=reason,
        cause=cause,
    )
    return Pending(Finished(feed.name, now, next_poll, error), event, PollReport(feed.name, "failed", error=error))


def _log_outcome(feed: FeedSettings, outcome: PollOutcome, items: int, duration: float) -> None:
    for _, article in outcome.new:
        emit(
            ArticleNew(
                feed=feed.name,
                article=article.id,
                url=article.url,
                title=article.title,
                extra={"published": article.published},  # logged even when None, as always
            )
        )
    for article, reason in outcome.skipped:
        emit(ArticleSkipped(feed=feed.name, article=article.id, url=article.url, reason=reason))
    emit(
        FeedPolled(
            feed=feed.name,
            items=items,
            new=len(outcome.new),
            updated=len(outcome.updated),
            skipped=len(outcome.skipped) + len(outcome.opted_out),
            rejected=len(outcome.rejected),
            first_poll=outcome.first_poll,
            not_modified=False,
            duration_seconds=round(duration, 4),
        )
    )
