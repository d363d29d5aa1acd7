"""Feeds polled as a set (issue 14): one claim per chunk, a bounded pool of fetches, 304s and failures written in
batches — with poll_feed's results: every feed's row, lease released, events, nothing polled by two workers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from syndicator import config, poll_set
from syndicator.app import App
from syndicator.events import Event, FeedFailed, FeedPolled, subscribe
from syndicator.poll_set import poll_feeds
from syndicator.store import tables as t
from syndicator.store.feeds import claim_feed, ensure_feeds
from tests.sources.httpserver import Handler, LocalServer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def rss(feed: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title>Feed {feed} story {i}</title><link>https://example.org/{feed}/{i}</link>"
        f"<guid>https://example.org/{feed}/{i}</guid><pubDate>Tue, 01 Dec 2026 11:{i:02d}:00 GMT</pubDate></item>"
        for i in range(items)
    )
    return f"<rss version='2.0'><channel><title>f{feed}</title>{entries}</channel></rss>".encode()


class Site:
    def __init__(self, server: LocalServer, feeds: int) -> None:
        self.items = dict.fromkeys(range(feeds), 3)
        for i in range(feeds):
            server.routes[f"/feeds/{i}.rss"] = self.route(i)
        server.routes["/broken.rss"] = lambda h: h.reply(503, b"down")

    def route(self, i: int) -> Any:
        def answer(handler: Handler) -> None:
            etag = f'"{self.items[i]}"'
            if handler.headers.get("If-None-Match") == etag:
                handler.reply(304, b"", {"ETag": etag})
            else:
                handler.reply(200, rss(i, self.items[i]), {"ETag": etag})

        return answer


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def make_app(server: LocalServer, db: str, feeds: int, clock: list[datetime], worker: str = "w1") -> App:
    text = f'[store]\nurl = "{db}"\n\n'
    for i in range(feeds):
        text += (
            f'[[feeds]]\nname = "f{i}"\nurl = "{server.url}/feeds/{i}.rss"\nmax_age = "30d"\n'
            f'first_run = "skip"\ntargets = ["x"]\n\n'
        )
    text += f'[[feeds]]\nname = "broken"\nurl = "{server.url}/broken.rss"\ntargets = ["x"]\n\n'
    text += '[targets.x]\nplatform = "twitter"\ndry_run = true\n'
    app = App.open(config.parse(text, environ={}), clock=lambda: clock[0])
    app.worker_id = worker  # type: ignore[misc]
    return app


def rows(app: App) -> dict[str, Any]:
    with app.store.engine.connect() as conn:
        return {r.name: r for r in conn.execute(select(t.feeds)).all()}


def test_a_set_poll_writes_what_poll_feed_writes(
    server: LocalServer, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poll_set, "CHUNK", 4)  # several claims and several batches for 13 feeds
    monkeypatch.setattr(poll_set, "FLUSH_EVERY", 3)
    site = Site(server, 12)
    clock = [NOW]
    app = make_app(server, store_url, 12, clock)
    ensure_feeds(app.store, {f.name: f.url for f in app.config.feeds})
    first = poll_feeds(app, app.config.feeds, fetches=3)
    assert [r.status for r in first] == ["ok"] * 12 + ["failed"]
    assert first[-1].error and "http_503" in first[-1].error

    # another worker is polling f5 right now: its lease is not taken
    assert claim_feed(app.store, "f5", worker="w2", now=NOW, lease=timedelta(minutes=5)) is not None
    site.items[0] = 4  # one new story in f0; the others answer 304
    clock[0] = NOW + timedelta(minutes=1)
    got: list[Event] = []
    undo = subscribe(got.append)
    try:
        reports = {r.feed: r for r in poll_feeds(app, app.config.feeds, fetches=3)}
    finally:
        undo()
    assert reports["f0"].status == "ok" and reports["f0"].new == 1
    assert reports["f5"].status == "busy"
    assert {reports[f"f{i}"].status for i in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11)} == {"not_modified"}
    assert reports["broken"].status == "failed"
    polled = {e.feed for e in got if isinstance(e, FeedPolled)}
    assert polled == {f"f{i}" for i in range(12)} - {"f5"}
    failed = [e for e in got if isinstance(e, FeedFailed)]
    assert [e.feed for e in failed] == ["broken"] and failed[0].retry_at is not None

    state = rows(app)
    for name in [f"f{i}" for i in range(12) if i != 5] + ["broken"]:
        row = state[name]
        assert row.lease_owner is None and row.lease_until is None, name
        assert row.last_poll_at is not None and row.next_poll_at is not None
    assert state["f1"].last_status == "not_modified" and state["f1"].etag == '"3"'
    assert state["f0"].last_status == "ok" and state["f0"].etag == '"4"'
    assert state["broken"].last_status == "failed" and state["broken"].failing_since is not None
    assert state["broken"].last_error and "503" in state["broken"].last_error
    assert state["f5"].lease_owner == "w2"  # untouched
    with app.store.engine.connect() as conn:
        assert conn.execute(select(t.deliveries.c.id)).all() and len(conn.execute(select(t.deliveries)).all()) == 1


def test_a_store_that_refuses_a_batch_fails_those_feeds_and_keeps_nothing_half_written(
    server: LocalServer, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Site(server, 3)
    clock = [NOW]
    app = make_app(server, store_url, 3, clock)
    ensure_feeds(app.store, {f.name: f.url for f in app.config.feeds})
    poll_feeds(app, app.config.feeds)

    def refuse(*_: object, **__: object) -> None:
        raise RuntimeError("disk full (test)")

    monkeypatch.setattr(poll_set, "finish_polls", refuse)
    clock[0] = NOW + timedelta(minutes=1)
    reports = poll_feeds(app, app.config.feeds)
    assert {r.status for r in reports} == {"failed"}
    state = rows(app)
    assert all(state[f"f{i}"].lease_owner == app.worker_id for i in range(3))  # held until it expires
    # the lease expires; the next cycle polls them again
    monkeypatch.undo()
    with app.store.write() as conn:
        conn.execute(update(t.feeds).values(lease_until=NOW))
    clock[0] = NOW + timedelta(minutes=10)
    assert {r.status for r in poll_feeds(app, app.config.feeds)[:3]} == {"not_modified"}


@pytest.mark.postgres
def test_two_workers_polling_the_same_set_record_every_article_once(server: LocalServer, pg_database: str) -> None:
    import threading

    Site(server, 40)
    clock = [NOW]
    one = make_app(server, pg_database, 40, clock, worker="w1")
    two = make_app(server, pg_database, 40, clock, worker="w2")
    ensure_feeds(one.store, {f.name: f.url for f in one.config.feeds})
    results: dict[str, list[str]] = {}

    def run(app: App) -> None:
        reports = poll_feeds(app, app.config.feeds, fetches=4)
        results[app.worker_id] = [r.feed for r in reports if r.status != "busy"]

    threads = [threading.Thread(target=run, args=(a,)) for a in (one, two)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # a feed one worker finished may be polled again by the other (its lease is free): never at the same time,
    # and what is recorded is recorded once
    assert set(results["w1"]) | set(results["w2"]) == {f.name for f in one.config.feeds}
    with one.store.engine.connect() as conn:
        articles = conn.execute(select(t.articles.c.guid)).scalars().all()
        deliveries = conn.execute(select(t.deliveries.c.article_id, t.deliveries.c.target)).all()
        leased = conn.execute(select(t.feeds.c.name).where(t.feeds.c.lease_owner.is_not(None))).all()
    assert len(articles) == len(set(articles)) == 40 * 3
    assert len(deliveries) == len(set(deliveries))
    assert leased == []


def test_polls_in_flight_at_once_share_their_writes_with_poll_feeds_results(
    server: LocalServer, store_url: str
) -> None:
    import threading

    from syndicator.polling import _Claim, _claim_many, poll_feed

    site = Site(server, 12)
    clock = [NOW]
    app = make_app(server, store_url, 12, clock)
    ensure_feeds(app.store, {f.name: f.url for f in app.config.feeds})
    poll_feeds(app, app.config.feeds)
    site.items[3] = 4
    clock[0] = NOW + timedelta(minutes=1)
    reports: dict[str, str] = {}

    def poll(feed: Any) -> None:
        reports[feed.name] = poll_feed(app, feed).status

    threads = [threading.Thread(target=poll, args=(f,)) for f in app.config.feeds]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert reports == {**{f"f{i}": "not_modified" for i in range(12) if i != 3}, "f3": "ok", "broken": "failed"}
    state = rows(app)
    assert all(r.lease_owner is None for r in state.values())
    assert state["f3"].etag == '"4"' and state["f4"].last_status == "not_modified"

    # one feed asked for twice in one group write (a push and a scheduled poll at once): the first gets it
    later = NOW + timedelta(minutes=2)
    lease = timedelta(minutes=1)
    got = _claim_many(app.store, [_Claim("f1", "w1", later, lease), _Claim("f1", "w1", later, lease)])
    assert got[0] is not None and got[1] is None


def test_a_servers_unstorable_status_text_does_not_fail_the_feeds_batched_with_it(
    server: LocalServer, store_url: str
) -> None:
    """A reason phrase with a NUL (PostgreSQL refuses it in text) is cleaned before it reaches a row: the other
    feeds of the batch are written and their leases released."""
    Site(server, 2)

    def nul(handler: Handler) -> None:
        handler.wfile.write(b"HTTP/1.1 500 bad\x00reason\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        handler.close_connection = True

    server.routes["/broken.rss"] = nul
    clock = [NOW]
    app = make_app(server, store_url, 2, clock)
    ensure_feeds(app.store, {f.name: f.url for f in app.config.feeds})
    poll_feeds(app, app.config.feeds)
    clock[0] = NOW + timedelta(minutes=1)
    reports = {r.feed: r for r in poll_feeds(app, app.config.feeds)}
    assert (reports["f0"].status, reports["f1"].status, reports["broken"].status) == ("not_modified",) * 2 + ("failed",)
    assert "\x00" not in (reports["broken"].error or "")
    state = rows(app)
    assert state["f0"].last_status == "not_modified" and state["broken"].last_status == "failed"
    assert all(r.lease_owner is None for r in state.values())


def test_a_poll_that_waited_past_its_lease_takes_it_again_or_leaves_the_feed_to_its_new_holder(
    server: LocalServer, store_url: str
) -> None:
    import time

    from syndicator.store.feeds import FeedState

    Site(server, 2)
    clock = [NOW]
    app = make_app(server, store_url, 2, clock)
    ensure_feeds(app.store, {f.name: f.url for f in app.config.feeds})
    f0, f1 = app.config.feed("f0"), app.config.feed("f1")
    lease = timedelta(seconds=60)
    for feed in (f0, f1):
        assert claim_feed(app.store, feed.name, worker=app.worker_id, now=NOW, lease=lease) is not None
    clock[0] = NOW + timedelta(minutes=5)  # both leases ran out while the polls waited for a thread
    assert claim_feed(app.store, "f1", worker="w2", now=clock[0], lease=lease) is not None  # another worker took f1
    long_ago = time.monotonic() - 300
    state0, state1 = (FeedState(n, None, None, False, None, None) for n in ("f0", "f1"))
    assert poll_set._guarded(app, f1, state1, NOW, long_ago, lease).status == "busy"  # type: ignore[union-attr]
    assert rows(app)["f1"].lease_owner == "w2"
    got = poll_set._guarded(app, f0, state0, NOW, long_ago, lease)  # nobody took f0: its lease is taken again
    assert isinstance(got, poll_set.PollReport) and got.status == "ok"
    assert (rows(app)["f0"].last_status, rows(app)["f0"].lease_owner) == ("ok", None)  # polled, released


def test_many_304s_are_one_line_each_still_its_own_event(server: LocalServer, store_url: str) -> None:
    """A set poll's unchanged feeds are told in one `feed.unchanged_batch` line; each 304 is still a FeedPolled
    (metrics and health count every one), logged at debug."""
    from syndicator.events import FeedsUnchanged

    Site(server, 5)
    clock = [NOW]
    app = make_app(server, store_url, 5, clock)
    ensure_feeds(app.store, {f.name: f.url for f in app.config.feeds})
    poll_feeds(app, app.config.feeds)
    clock[0] = NOW + timedelta(minutes=1)
    got: list[Event] = []
    undo = subscribe(got.append)
    try:
        poll_feeds(app, app.config.feeds)
    finally:
        undo()
    polled = [e for e in got if isinstance(e, FeedPolled)]
    assert sorted(e.feed for e in polled) == [f"f{i}" for i in range(5)]
    assert all(e.not_modified and e.batched and e.log_level() < 20 for e in polled)
    lines = [e for e in got if isinstance(e, FeedsUnchanged)]
    assert sum(e.feeds for e in lines) == 5 and all(e.log_level() == 20 for e in lines)
    assert sorted(",".join(e.names for e in lines).split(",")) == [f"f{i}" for i in range(5)]
    assert [e.feed for e in got if isinstance(e, FeedFailed)] == ["broken"]  # a failure keeps its own line


def test_the_unchanged_line_counts_past_the_names_it_shows() -> None:
    polled = [
        FeedPolled(feed=f"feed{i}", items=0, new=0, not_modified=True, duration_seconds=i / 100) for i in range(25)
    ]
    line = poll_set._unchanged_line(polled)
    assert line.feeds == 25 and line.names.endswith(",… +5 more") and line.duration_seconds_max == 0.24
