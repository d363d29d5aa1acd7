"""No gaps (issue 16, point 3): 30 articles between two polls of a 10-item feed are all posted — paged back with
`?paged=N`, or through the REST API when `wordpress` is set — and a gap that cannot be closed is an event, an
alert and a line in `status`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from syndicator.alerts.conditions import Conditions
from syndicator.gaps import FeedGap, paged_url
from syndicator.polling import poll_feed
from syndicator.store import reports
from tests.wordpress.fake import FakeWordPress
from tests.wordpress.helpers import NOW, Clock, events, make_app, posts


@pytest.fixture
def wp() -> Iterator[FakeWordPress]:
    with FakeWordPress() as site:
        site.publish(12, now=NOW - timedelta(hours=1))
        yield site


def queued_ids(app, wp: FakeWordPress) -> set[int]:  # type: ignore[no-untyped-def]
    return {int(guid.rsplit("=", 1)[1]) for guid, target in posts(app) if target == "x"}


@pytest.mark.parametrize("wordpress", [False, True], ids=["paged-feed", "rest-api"])
def test_a_burst_bigger_than_the_feed_is_paged_back_to_the_last_known_item(
    wp: FakeWordPress, store_url: str, wordpress: bool
) -> None:
    clock = Clock()
    app = make_app(wp, store_url, clock, wordpress=wordpress)
    feed = app.config.feed("en")
    poll_feed(app, feed)  # first poll: the newest 10 of 12 recorded
    wp.publish(30, start=100, now=NOW)
    with events() as got:
        report = poll_feed(app, feed)
    assert report.status == "ok"
    assert queued_ids(app, wp) == set(range(100, 130))  # all 30, none of the old ones
    gap = [e for e in got if isinstance(e, FeedGap)]
    assert len(gap) == 1 and gap[0].closed and gap[0].found == 20 and gap[0].reason == "reached a known item"
    paths = [(r.path, r.query) for r in wp.requests]
    if wordpress:
        assert any(p == "/wp-json/wp/v2/posts" and q.get("page") == ["1"] for p, q in paths)
        assert not any("paged" in q for _, q in paths)
    else:
        assert [q["paged"] for p, q in paths if "paged" in q] == [["2"], ["3"], ["4"]]
    assert poll_feed(app, feed).new == 0  # nothing twice


def test_paging_stops_at_max_age(wp: FakeWordPress, store_url: str) -> None:
    wp.posts.clear()
    wp.publish(12, now=NOW - timedelta(days=4))
    clock = Clock()
    app = make_app(wp, store_url, clock)
    feed = app.config.feed("en")
    poll_feed(app, feed)
    wp.publish(25, start=100, now=NOW, step=timedelta(hours=3))  # 3 h apart: beyond 2 days after 16 of them
    with events() as got:
        poll_feed(app, feed)
    gap = [e for e in got if isinstance(e, FeedGap)]
    assert gap[0].closed and gap[0].reason.startswith("reached max_age")
    assert len(queued_ids(app, wp)) == 16  # 2 days / 3 h, the rest is too old to post anyway


def test_a_gap_that_cannot_be_closed_is_an_event_an_alert_and_a_status_line(
    wp: FakeWordPress, store_url: str
) -> None:
    clock = Clock()
    app = make_app(wp, store_url, clock)
    feed = app.config.feed("en")
    poll_feed(app, feed)
    wp.max_feed_pages = 2  # this site's feed answers 404 from page 3
    wp.publish(35, start=100, now=NOW)
    with events() as got:
        report = poll_feed(app, feed)
    assert report.status == "ok" and len(queued_ids(app, wp)) == 20  # what could be read is posted
    gap = [e for e in got if isinstance(e, FeedGap)]
    assert len(gap) == 1 and not gap[0].closed and "?paged=3 could not be read" in gap[0].reason
    conditions = Conditions(
        targets=app.config.targets, feeds=["en"], feed_failing_after=timedelta(minutes=10), expiry_window=None,
        clock=clock,
    )  # fmt: skip
    alerts = conditions.on_event(gap[0], 0.0)
    assert [(a.condition, a.resolved) for a in alerts] == [("gap:en", False)]
    line = next(f for f in reports.feed_status(app.store, now=clock.now) if f["feed"] == "en")
    assert line["gap"] and "?paged=3 could not be read" in line["error"]
    # the next poll meets known items: the gap is over, the alert resolved; the status line stays a day
    wp.publish(2, start=200, now=NOW + timedelta(minutes=5))
    clock.now += timedelta(minutes=10)
    with events() as got:
        poll_feed(app, feed)
    closed = [e for e in got if isinstance(e, FeedGap)]
    assert len(closed) == 1 and closed[0].closed
    assert [(a.condition, a.resolved) for a in conditions.on_event(closed[0], 1.0)] == [("gap:en", True)]
    assert next(f for f in reports.feed_status(app.store, now=clock.now) if f["feed"] == "en")["gap"]
    clock.now += timedelta(days=1, minutes=1)
    assert next(f for f in reports.feed_status(app.store, now=clock.now) if f["feed"] == "en")["gap"] is None


def test_a_quiet_poll_pages_nothing(wp: FakeWordPress, store_url: str) -> None:
    clock = Clock()
    app = make_app(wp, store_url, clock)
    feed = app.config.feed("en")
    poll_feed(app, feed)
    wp.publish(3, start=100, now=NOW)
    with events() as got:
        assert poll_feed(app, feed).new == 3
    assert not [e for e in got if isinstance(e, FeedGap)]
    assert not [r for r in wp.requests if "paged" in r.query]


def test_paged_url_keeps_other_parameters() -> None:
    assert paged_url("https://e.org/feed/?cat=3&paged=9", 2) == "https://e.org/feed/?cat=3&paged=2"
    assert paged_url("https://e.org/en/feed/", 3) == "https://e.org/en/feed/?paged=3"
