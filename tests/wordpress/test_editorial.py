"""The newsroom decides per article (issue 16, points 1 and 2, the bot's side): `no-social` keeps an article off
everything, `social-skip-x` off X, and the plugin's meta (webhook body or REST API) says the same and gives a
platform its own text — still measured and cut by that platform's rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from syndicator import editorial
from syndicator.events import ArticleSkipped
from syndicator.platforms.twitter.measure import x_weighted_length
from syndicator.polling import poll_feed
from syndicator.sources.webhook import PublishCall
from tests.wordpress.fake import FakeWordPress
from tests.wordpress.helpers import NOW, Clock, article_rows, events, make_app, posts


@pytest.fixture
def wp() -> Iterator[FakeWordPress]:
    with FakeWordPress() as site:
        site.publish(3, now=NOW - timedelta(hours=1))
        yield site


def first_poll(wp: FakeWordPress, store_url: str, **kw: object):  # type: ignore[no-untyped-def]
    clock = Clock()
    app = make_app(wp, store_url, clock, **kw)  # type: ignore[arg-type]
    assert poll_feed(app, app.config.feed("en")).status == "ok"  # the first poll: recorded, not posted
    return app, clock


def test_no_social_in_any_case_or_as_slug_is_recorded_never_posted(wp: FakeWordPress, store_url: str) -> None:
    app, _ = first_poll(wp, store_url)
    wp.publish(4, start=10, now=NOW)
    wp.posts[10].tags = [("No Social", "no-social")]
    wp.posts[11].tags = [("NO_SOCIAL", "no_social")]
    wp.posts[12].tags = [("Politics", "politics")]
    wp.posts[13].tags = [("no-social", "no-social")]
    with events() as got:
        report = poll_feed(app, app.config.feed("en"))
    assert (report.new, report.skipped) == (1, 3)
    sent = posts(app)
    rows = article_rows(app)
    for post_id in (10, 11, 13):
        guid = wp.guid(post_id)
        assert not [k for k in sent if k[0] == guid]
        assert rows[guid].state == "skipped"  # recorded: a later poll does not find it new, nothing waits for it
        assert rows[guid].reason.startswith("opted out: tagged")
    assert rows[wp.guid(12)].state == "queued" and rows[wp.guid(12)].reason is None
    assert {k[1] for k in sent if k[0] == wp.guid(12)} == {"x", "telegram"}
    skipped = [e for e in got if isinstance(e, ArticleSkipped)]
    assert sorted(e.article for e in skipped) == sorted(wp.guid(i) for i in (10, 11, 13))
    assert all(e.reason.startswith("opted out: tagged") for e in skipped)
    assert poll_feed(app, app.config.feed("en")).new == 0


def test_the_opt_out_list_is_configurable(wp: FakeWordPress, store_url: str) -> None:
    app, _ = first_poll(wp, store_url, feed_extra='opt_out = ["Embargo", "internal only"]\n')
    wp.publish(3, start=10, now=NOW)
    wp.posts[10].tags = [("embargo", "embargo")]
    wp.posts[11].tags = [("Internal-Only", "internal-only")]
    wp.posts[12].tags = [("no-social", "no-social")]  # not on this feed's list: posted, and not as a hashtag
    poll_feed(app, app.config.feed("en"))
    assert {k[0] for k in posts(app)} == {wp.guid(12)}


def test_social_skip_keeps_it_off_one_platform_and_is_never_a_hashtag(wp: FakeWordPress, store_url: str) -> None:
    app, _ = first_poll(wp, store_url)
    wp.publish(2, start=10, now=NOW)
    wp.posts[10].tags = [("social-skip-x", "social-skip-x"), ("Elections", "elections")]
    wp.posts[11].tags = [("Social Skip Telegram", "social-skip-telegram")]
    with events() as got:
        poll_feed(app, app.config.feed("en"))
    sent = posts(app)
    assert {k[1] for k in sent if k[0] == wp.guid(10)} == {"telegram"}
    assert {k[1] for k in sent if k[0] == wp.guid(11)} == {"x"}
    telegram = sent[(wp.guid(10), "telegram")]
    assert "Elections" in telegram["text"] and "skip" not in telegram["text"].lower()
    reasons = [e.reason for e in got if isinstance(e, ArticleSkipped)]
    assert "not posted to x: tagged 'social-skip-x'" in reasons


def test_plugin_meta_from_the_webhook_body(wp: FakeWordPress, store_url: str) -> None:
    app, _ = first_poll(wp, store_url)
    wp.publish(3, start=10, now=NOW)
    feed = app.config.feed("en")
    custom = "Our own words for X: the council voted 7-2. " * 3
    for post_id, meta in (
        (10, {"syndicator_no_social": True}),
        (11, {"syndicator_skip_telegram": True, "syndicator_text_x": custom}),
        (12, {"syndicator_text_x": "Долгий текст " * 60}),  # far over X's limit: cut by X's own rule
    ):
        choices = editorial.from_meta(meta)
        assert choices is not None
        call = PublishCall("en", wp.link(post_id), post_id, "publish", choices)
        editorial.told(app, feed, call.choices or editorial.Choices(), url=call.url, post_id=call.post_id)
    with events() as got:
        poll_feed(app, feed)
    sent = posts(app)
    assert not [k for k in sent if k[0] == wp.guid(10)]
    assert {k[1] for k in sent if k[0] == wp.guid(11)} == {"x"}
    x11 = sent[(wp.guid(11), "x")]
    assert x11["text"].startswith(custom.strip()[:40]) and "Story 011" not in x11["text"]
    assert wp.link(11) in x11["text"]  # the template's link stays
    x12 = sent[(wp.guid(12), "x")]
    assert x12["length"] <= x12["limit"] == 280 and x_weighted_length(x12["text"]) == x12["length"]
    assert x12["text"].startswith("Долгий текст") and "…" in x12["text"]
    assert sent[(wp.guid(12), "telegram")]["text"].startswith("<b>Story 012</b>")  # only X has its own text
    assert any(isinstance(e, ArticleSkipped) and "don't post this" in e.reason for e in got)


def test_an_opt_out_after_queueing_cancels_what_has_not_gone_out(wp: FakeWordPress, store_url: str) -> None:
    app, _ = first_poll(wp, store_url, feed_extra='hold_for = "5m"\n')
    wp.publish(1, start=10, now=NOW)
    feed = app.config.feed("en")
    poll_feed(app, feed)
    assert {v["state"] for v in posts(app).values()} == {"pending"}
    editorial.told(app, feed, editorial.Choices(skip=frozenset({"x"})), url=wp.link(10), post_id=10)
    assert {k[1]: v["state"] for k, v in posts(app).items()} == {"x": "retracted", "telegram": "pending"}
    editorial.told(app, feed, editorial.Choices(opt_out=True), url=wp.link(10), post_id=10)
    assert {v["state"] for v in posts(app).values()} == {"retracted"}


def test_meta_is_untrusted_input() -> None:
    assert editorial.from_meta(["not", "an", "object"]) is None
    choices = editorial.from_meta(
        {
            "syndicator_no_social": "0",
            "syndicator_skip_x": "1",
            "syndicator_skip_../../etc": True,
            "syndicator_text_telegram": "a\x00b\ud800" + "c" * 10_000,
            "syndicator_text_facebook": 42,
        }
    )
    assert choices is not None and not choices.opt_out
    assert choices.skip == {"x"}
    assert set(choices.texts) == {"telegram"}
    assert choices.texts["telegram"].startswith("ab\ufffd") and len(choices.texts["telegram"]) <= 5_000


def test_with_wordpress_set_a_poll_reads_the_meta_and_term_slugs_from_the_rest_api(
    wp: FakeWordPress, store_url: str
) -> None:
    app, _ = first_poll(wp, store_url, wordpress=True)
    wp.publish(3, start=10, now=NOW)
    wp.posts[10].meta = {"syndicator_text_x": "Said differently on X", "syndicator_skip_telegram": True}
    wp.posts[11].tags = [("Kein Social", "no-social")]  # the name says nothing; WordPress's slug does
    wp.posts[12].meta = {"syndicator_no_social": True}
    poll_feed(app, app.config.feed("en"))  # no webhook: the feed, then one REST request for the new posts
    sent = posts(app)
    assert set(sent) == {(wp.guid(10), "x")}
    assert sent[(wp.guid(10), "x")]["text"].startswith("Said differently on X")
    lists = [r for r in wp.requests if r.path == "/wp-json/wp/v2/posts"]
    assert len(lists) == 1 and sorted(lists[0].query["include"][0].split(",")) == ["10", "11", "12"]
