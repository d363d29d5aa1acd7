"""Withdrawals by polling (issue 16, point 4): with `wordpress` set, recent articles are re-checked through the
REST API in batches; only WordPress's own word withdraws."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from syndicator import recheck
from syndicator.polling import poll_feed
from tests.fakes.server import Response
from tests.wordpress.fake import FakeWordPress
from tests.wordpress.helpers import NOW, Clock, article_rows, make_app, posts


@pytest.fixture
def wp() -> Iterator[FakeWordPress]:
    with FakeWordPress() as site:
        site.publish(2, now=NOW - timedelta(hours=1))
        yield site


def states(app, wp: FakeWordPress, post_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    return {v["state"] for (guid, _), v in posts(app).items() if guid == wp.guid(post_id)}


def test_unpublished_deleted_and_inconclusive(
    wp: FakeWordPress, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recheck, "BATCH", 2)  # three batches for five articles
    clock = Clock()
    app = make_app(wp, store_url, clock, wordpress=True, feed_extra='hold_for = "1h"\n')
    feed = app.config.feed("en")
    poll_feed(app, feed)
    wp.publish(5, start=10, now=NOW)
    poll_feed(app, feed)
    assert all(states(app, wp, i) == {"pending"} for i in range(10, 15))
    wp.posts[10].status = "draft"  # WordPress: 401 rest_forbidden
    wp.posts[11].status = "deleted"  # WordPress: 404 rest_post_invalid_id
    wp.posts[12].status = "private"
    wp.answers[12] = Response(403, b"<html>Access denied</html>", {"Content-Type": "text/html"})  # a CDN
    assert recheck.recheck_feed(app, feed) == 2
    assert states(app, wp, 10) == states(app, wp, 11) == {"retracted"}
    assert states(app, wp, 12) == states(app, wp, 13) == states(app, wp, 14) == {"pending"}
    rows = article_rows(app)
    assert rows[wp.guid(10)].state == "withdrawn" and rows[wp.guid(12)].state == "queued"
    lists = [r for r in wp.requests if r.path == "/wp-json/wp/v2/posts" and "include" in r.query]
    assert len(lists) >= 3 and all(len(r.query["include"][0].split(",")) <= 2 for r in lists[-3:])
    singles = {r.path for r in wp.requests if r.path.startswith("/wp-json/wp/v2/posts/")}
    assert singles == {f"/wp-json/wp/v2/posts/{i}" for i in (10, 11, 12)}  # only those the list left out


def test_old_articles_and_feeds_without_wordpress_are_not_asked_about(wp: FakeWordPress, store_url: str) -> None:
    clock = Clock()
    app = make_app(wp, store_url, clock, wordpress=True)
    feed = app.config.feed("en")
    poll_feed(app, feed)
    wp.publish(1, start=10, now=NOW)
    poll_feed(app, feed)
    clock.now += recheck.WINDOW + timedelta(minutes=1)
    wp.posts[10].status = "draft"
    before = len(wp.requests)
    assert recheck.recheck_feed(app, feed) == 0
    assert len(wp.requests) == before  # nothing recent: no request at all
