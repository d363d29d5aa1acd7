"""Feed to outbox, end to end: a local HTTP site with ETag, the real poller, the store, dry-run delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from syndicator import config
from syndicator.app import App
from syndicator.polling import poll_feed
from syndicator.store import Store
from syndicator.store import tables as t
from syndicator.worker import poll_once
from tests.fakes.feeds import FeedSite, fixture, refresh_dates

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)

CONFIG = """
[store]
url = "{db}"

[[feeds]]
name = "en"
url = "{url}"
max_age = "0s"
targets = ["x", "tg", "fb", "wa"]

[[feeds]]
name = "healthy"
url = "{healthy}"
max_age = "0s"
targets = ["tg"]

[targets.x]
platform = "twitter"
dry_run = true

[targets.tg]
platform = "telegram"
chat = "@c"
dry_run = true

[targets.fb]
platform = "facebook"
page_id = "1"
dry_run = true

[targets.wa]
platform = "whatsapp"
phone_number_id = "2"
mode = "text"
recipients = ["15550000001", "15550000002"]
dry_run = true
"""


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as s:
        s.feeds["/en/feed/"] = fixture("front-page.rss")
        s.feeds["/healthy/feed/"] = fixture("front-page.rss")
        yield s


def make_app(site: FeedSite, store_url: str, clock: list[datetime]) -> App:
    text = CONFIG.format(db=store_url, url=site.url_for("/en/feed/"), healthy=site.url_for("/healthy/feed/"))
    cfg = config.parse(text, environ={})
    return App(cfg, Store(cfg.store.url), clock=lambda: clock[0])


def deliveries(app: App) -> list[dict[str, object]]:
    with app.store.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(t.deliveries.c.target, t.deliveries.c.recipient, t.deliveries.c.state, t.articles.c.url)
                .join(t.articles, t.articles.c.id == t.deliveries.c.article_id)
                .order_by(t.deliveries.c.id)
            ).mappings()
        ]


def test_sample_then_later_queues_exactly_the_five_newer_posts(site: FeedSite, store_url: str) -> None:
    clock = [NOW]
    app = make_app(site, store_url, clock)
    feed = app.config.feed("en")
    first = poll_feed(app, feed)
    assert (first.status, first.items, first.new) == ("ok", 10, 0)
    site.feeds["/en/feed/"] = fixture("front-page-later.rss")
    clock[0] += timedelta(minutes=2)
    second = poll_feed(app, feed)
    assert (second.status, second.new) == ("ok", 5)
    rows = deliveries(app)
    assert len(rows) == 5 * 5  # x, tg, fb + two WhatsApp recipients
    assert len({r["url"] for r in rows}) == 5
    assert all(r["state"] == "pending" for r in rows)
    # the third poll gets 304 and queues nothing
    third = poll_feed(app, feed)
    assert third.status == "not_modified"
    assert site.requests[-1].headers.get("if-none-match")
    # restarting the process (a new App on the same database) queues nothing either
    app2 = make_app(site, store_url, clock)
    site.feeds["/en/feed/"] = fixture("front-page-later.rss") + b"\n"  # new ETag, same items
    assert poll_feed(app2, app2.config.feed("en")).new == 0
    assert len(deliveries(app2)) == 25


def test_a_feed_with_200_new_items_queues_200(site: FeedSite, store_url: str) -> None:
    clock = [NOW]
    app = make_app(site, store_url, clock)
    poll_feed(app, app.config.feed("healthy"))
    items = "".join(
        f"<item><title>Story {i}</title><link>https://example.org/story-{i}/?utm_source=rss</link>"
        f"<guid isPermaLink='false'>https://example.org/?p={1000 + i}</guid></item>"
        for i in range(200)
    )
    site.feeds["/healthy/feed/"] = f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()
    report = poll_feed(app, app.config.feed("healthy"))
    assert report.new == 200 and len(deliveries(app)) == 200


def test_dry_run_delivery_sends_everything_once(site: FeedSite, store_url: str) -> None:
    clock = [NOW]
    app = make_app(site, store_url, clock)
    site.feeds["/en/feed/"] = refresh_dates(fixture("front-page.rss"), now=NOW)
    poll_feed(app, app.config.feed("en"))  # first poll: recorded, not posted
    site.feeds["/en/feed/"] = refresh_dates(fixture("front-page-later.rss"), now=NOW)
    asyncio.run(poll_once(app, ["en"]))
    rows = deliveries(app)
    assert len(rows) == 25 and {r["state"] for r in rows} == {"sent"}
    asyncio.run(poll_once(app, ["en"]))
    assert len(deliveries(app)) == 25


@pytest.mark.parametrize(
    ("name", "body", "status", "reason"),
    [
        ("truncated", b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>A", 200, ""),
        (
            "html",
            b"<!DOCTYPE html><html><head><title>Oops</title></head><body>Maintenance</body></html>",
            200,
            "not_a_feed",
        ),
        ("garbage", b"\x00\x01\x02 not xml at all", 200, ""),
        ("empty", b"", 200, ""),
        ("server_error", None, 500, "http_500"),
        ("missing", None, 404, "http_404"),
    ],
)
def test_broken_feeds_are_logged_and_do_not_affect_a_healthy_one(
    site: FeedSite, store_url: str, name: str, body: bytes | None, status: int, reason: str
) -> None:
    clock = [NOW]
    app = make_app(site, store_url, clock)
    if body is None:
        site.status["/en/feed/"] = status
    else:
        site.feeds["/en/feed/"] = body
    reports = asyncio.run(poll_once(app))
    by_feed = {r.feed: r for r in reports}
    assert by_feed["healthy"].status == "ok" and by_feed["healthy"].items == 10
    bad = by_feed["en"]
    if name == "truncated":
        assert bad.status in ("ok", "failed")  # a recovering parser may salvage the item; never a crash
    else:
        assert bad.status == "failed" and bad.error
        assert reason in (bad.error or "")
    with app.store.engine.connect() as conn:
        row = conn.execute(select(t.feeds).where(t.feeds.c.name == "en")).mappings().one()
        assert row["last_status"] == bad.status
        assert conn.execute(select(func.count()).select_from(t.feeds)).scalar_one() == 2
