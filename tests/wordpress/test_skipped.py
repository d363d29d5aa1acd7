"""An opted-out article is recorded as `skipped`, with why (issue 16, point 1): visible in `status`, `history`
and the desk, never counted as waiting; and when the opt-out goes (the tag removed, the plugin's box unticked) it
is queued then, if it is still within `max_age`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicator import editorial
from syndicator.cli import main
from syndicator.events import ArticleNew, ArticleSkipped
from syndicator.polling import poll_feed
from syndicator.status import collect_status
from syndicator.store import reports
from tests.wordpress.fake import FakeWordPress
from tests.wordpress.helpers import NOW, Clock, article_rows, config_text, events, make_app, posts

NO_SOCIAL = [("no-social", "no-social")]


@pytest.fixture
def wp() -> Iterator[FakeWordPress]:
    with FakeWordPress() as site:
        site.publish(3, now=NOW - timedelta(hours=1))
        yield site


def started(wp: FakeWordPress, store_url: str, **kw: object):  # type: ignore[no-untyped-def]
    clock = Clock()
    app = make_app(wp, store_url, clock, **kw)  # type: ignore[arg-type]
    assert poll_feed(app, app.config.feed("en")).status == "ok"  # the first poll: recorded, not posted
    return app, clock


def targets_of(app, wp: FakeWordPress, post_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {target: v["state"] for (guid, target), v in posts(app).items() if guid == wp.guid(post_id)}


def test_an_opted_out_article_is_skipped_and_nothing_counts_it_as_waiting(wp: FakeWordPress, store_url: str) -> None:
    app, _ = started(wp, store_url)
    wp.publish(2, start=10, now=NOW)
    wp.posts[10].tags = NO_SOCIAL
    poll_feed(app, app.config.feed("en"))
    row = article_rows(app)[wp.guid(10)]
    assert (row.state, row.reason) == ("skipped", "opted out: tagged 'no-social'")
    status = collect_status(app)
    assert [(f["articles_24h"], f["skipped_24h"]) for f in status["feeds"]] == [(1, 1)]
    assert {t["target"]: t["queued"] for t in status["targets"]} == {"x": 1, "telegram": 1}  # post 11 only
    assert reports.oldest_waiting(app.store) is not None
    skipped = reports.skipped_articles(app.store, since=NOW - timedelta(hours=1))
    assert [(r["guid"], r["reason"]) for r in skipped] == [(wp.guid(10), "opted out: tagged 'no-social'")]
    from syndicator.store.rechecks import recent_live

    assert wp.guid(10) not in {r["guid"] for r in recent_live(app.store, "en", since=NOW - timedelta(days=1))}


def test_every_target_kept_off_is_skipped_too(wp: FakeWordPress, store_url: str) -> None:
    app, _ = started(wp, store_url)
    wp.publish(1, start=10, now=NOW)
    wp.posts[10].tags = [("social-skip-x", "social-skip-x"), ("social-skip-telegram", "social-skip-telegram")]
    poll_feed(app, app.config.feed("en"))
    row = article_rows(app)[wp.guid(10)]
    assert row.state == "skipped" and row.reason.startswith("kept off every target: x: tagged 'social-skip-x'")


def test_removing_the_tag_later_posts_it_within_max_age(wp: FakeWordPress, store_url: str) -> None:
    app, clock = started(wp, store_url)
    feed = app.config.feed("en")
    wp.publish(2, start=10, now=NOW)
    wp.posts[10].tags = wp.posts[11].tags = NO_SOCIAL
    poll_feed(app, feed)
    clock.now += timedelta(hours=1)
    wp.posts[10].tags = [("Politics", "politics")]  # the editor changed their mind: the item changes in the feed
    with events() as got:
        report = poll_feed(app, feed)
    assert report.new == 1
    assert targets_of(app, wp, 10) == {"x": "pending", "telegram": "pending"}
    assert (article_rows(app)[wp.guid(10)].state, article_rows(app)[wp.guid(10)].reason) == ("queued", None)
    assert [e.article for e in got if isinstance(e, ArticleNew)] == [wp.guid(10)]
    assert article_rows(app)[wp.guid(11)].state == "skipped"  # unchanged, still tagged: nothing happens
    assert poll_feed(app, feed).new == 0  # nothing twice


def test_removing_the_tag_after_max_age_posts_nothing_and_says_why(wp: FakeWordPress, store_url: str) -> None:
    app, clock = started(wp, store_url)
    feed = app.config.feed("en")
    wp.publish(1, start=10, now=NOW)
    wp.posts[10].tags = NO_SOCIAL
    poll_feed(app, feed)
    clock.now += timedelta(days=3)  # the feed's max_age is 2 days
    wp.posts[10].tags = []
    with events() as got:
        assert poll_feed(app, feed).new == 0
    row = article_rows(app)[wp.guid(10)]
    assert row.state == "skipped" and "older than max_age" in row.reason
    assert targets_of(app, wp, 10) == {}
    assert any(isinstance(e, ArticleSkipped) and "opt-out was lifted" in e.reason for e in got)


def test_tagged_after_queueing_cancels_what_has_not_gone_out(wp: FakeWordPress, store_url: str) -> None:
    app, _ = started(wp, store_url, feed_extra='hold_for = "10m"\n')
    feed = app.config.feed("en")
    wp.publish(1, start=10, now=NOW)
    poll_feed(app, feed)
    assert targets_of(app, wp, 10) == {"x": "pending", "telegram": "pending"}
    wp.posts[10].tags = NO_SOCIAL
    poll_feed(app, feed)
    assert targets_of(app, wp, 10) == {"x": "retracted", "telegram": "retracted"}
    row = article_rows(app)[wp.guid(10)]
    assert (row.state, row.reason) == ("skipped", "opted out: tagged 'no-social'")
    assert collect_status(app)["targets"][0]["queued"] == 0


def test_the_plugin_box_ticked_then_unticked(wp: FakeWordPress, store_url: str) -> None:
    app, clock = started(wp, store_url)
    feed = app.config.feed("en")
    wp.publish(1, start=10, now=NOW)
    editorial.told(app, feed, editorial.Choices(opt_out=True), url=wp.link(10), post_id=10)
    poll_feed(app, feed)
    assert article_rows(app)[wp.guid(10)].state == "skipped" and targets_of(app, wp, 10) == {}
    clock.now += timedelta(minutes=30)
    with events() as got:
        editorial.told(app, feed, editorial.Choices(), url=wp.link(10), post_id=10)  # unticked: the webhook says
    assert article_rows(app)[wp.guid(10)].state == "queued"
    assert targets_of(app, wp, 10) == {"x": "pending", "telegram": "pending"}
    assert [e.via for e in got if isinstance(e, ArticleNew)] == ["editorial"]
    editorial.told(app, feed, editorial.Choices(), url=wp.link(10), post_id=10)  # told again: nothing twice
    assert len(targets_of(app, wp, 10)) == 2


def test_the_plugin_box_ticked_on_a_queued_article_skips_it(wp: FakeWordPress, store_url: str) -> None:
    app, _ = started(wp, store_url, feed_extra='hold_for = "10m"\n')
    feed = app.config.feed("en")
    wp.publish(1, start=10, now=NOW)
    poll_feed(app, feed)
    with events() as got:
        editorial.told(app, feed, editorial.Choices(opt_out=True), url=wp.link(10), post_id=10)
    assert article_rows(app)[wp.guid(10)].state == "skipped"
    assert [e.reason for e in got if isinstance(e, ArticleSkipped)] == [
        "opted out: the editor ticked \"don't post this\" (WordPress)"
    ]


def as_json(result: tuple[int, str]) -> Any:
    assert result[0] == 0
    return json.loads(result[1])


def test_history_and_status_show_skipped_articles(
    wp: FakeWordPress, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'syndicator.db'}"
    app, _ = started(wp, db)
    wp.publish(2, start=10, now=NOW)
    wp.posts[10].tags = NO_SOCIAL
    poll_feed(app, app.config.feed("en"))
    app.store.close()
    cfg = tmp_path / "syndicator.toml"
    cfg.write_text(config_text(wp, db))

    def cli(*args: str) -> tuple[int, str]:
        code = main(["--config", str(cfg), "--log-format", "json", *args])
        return code, capsys.readouterr().out

    code, out = cli("history", "--since", "36500d")
    assert code == 0 and "Skipped (kept off social media by the newsroom)" in out
    assert "opted out: tagged 'no-social'" in out and "Story 010" in out
    doc = as_json(cli("history", "--since", "36500d", "--json"))
    assert [(r["guid"], r["reason"]) for r in doc["skipped_articles"]] == [
        (wp.guid(10), "opted out: tagged 'no-social'")
    ]
    assert not as_json(cli("history", "--since", "36500d", "--target", "x", "--json"))["skipped_articles"]
    code, out = cli("status")
    assert code == 0 and "SKIPPED 24H" in out
    assert as_json(cli("status", "--json"))["feeds"][0]["skipped_24h"] == 1


def test_with_wordpress_set_a_slug_only_opt_out_removed_on_the_site_is_seen(wp: FakeWordPress, store_url: str) -> None:
    app, clock = started(wp, store_url, wordpress=True)
    feed = app.config.feed("en")
    wp.publish(1, start=10, now=NOW)
    wp.posts[10].tags = [("Kein Social", "no-social")]  # only WordPress's slug (REST API) says opt-out
    poll_feed(app, feed)
    assert article_rows(app)[wp.guid(10)].state == "skipped"
    before = [r for r in wp.requests if r.path == "/wp-json/wp/v2/posts"]
    poll_feed(app, feed)  # unchanged: its choices are not asked for again
    assert [r for r in wp.requests if r.path == "/wp-json/wp/v2/posts"] == before
    clock.now += timedelta(minutes=10)
    wp.posts[10].tags = []
    assert poll_feed(app, feed).new == 1
    assert targets_of(app, wp, 10) == {"x": "pending", "telegram": "pending"}


def test_told_again_while_still_opted_out_changes_nothing_and_says_nothing_new(
    wp: FakeWordPress, store_url: str
) -> None:
    app, clock = started(wp, store_url)
    feed = app.config.feed("en")
    wp.publish(1, start=10, now=NOW)
    wp.posts[10].tags = NO_SOCIAL
    poll_feed(app, feed)
    clock.now += timedelta(days=3)  # past max_age, and the tag is still on the post
    with events() as got:
        editorial.told(app, feed, editorial.Choices(), url=wp.link(10), post_id=10)
    assert article_rows(app)[wp.guid(10)].state == "skipped" and targets_of(app, wp, 10) == {}
    assert not [e for e in got if isinstance(e, ArticleSkipped | ArticleNew)]


def test_an_editors_resend_of_a_skipped_article_queues_it(wp: FakeWordPress, store_url: str) -> None:
    """The editor overrides the newsroom's opt-out: the article is queued again (so the withdrawal re-check and
    status see it), not left `skipped` with deliveries waiting under it."""
    from syndicator import actions

    app, _ = started(wp, store_url)
    wp.publish(1, start=10, now=NOW)
    wp.posts[10].tags = NO_SOCIAL
    poll_feed(app, app.config.feed("en"))
    assert article_rows(app)[wp.guid(10)].state == "skipped"
    report = actions.resend(app, wp.guid(10), ["x"], force=False, confirm_unknown=False)
    assert len(report.done) == 1 and report.done[0].endswith(": queued"), report.done
    row = article_rows(app)[wp.guid(10)]
    assert (row.state, row.reason) == ("queued", None)
    assert targets_of(app, wp, 10) == {"x": "pending"}


def test_published_again_while_opted_out_is_skipped_not_queued_with_nothing(
    wp: FakeWordPress, store_url: str
) -> None:
    """An article withdrawn after posting (it had been tagged `no-social` meanwhile) and published again: the
    newsroom still keeps it off everything, so it is recorded `skipped`, not `queued` with nothing under it."""
    from syndicator.pushes import republish
    from syndicator.store import manage

    app, _ = started(wp, store_url)
    wp.publish(1, start=10, now=NOW)
    wp.posts[10].tags = NO_SOCIAL
    poll_feed(app, app.config.feed("en"))
    row = article_rows(app)[wp.guid(10)]
    manage.set_article_state(app.store, row.id, "withdrawn")  # as a withdrawal after its posts went out leaves it
    with events() as got:
        assert republish(app, app.config.feed("en"), [wp.guid(10)]) == 0
    row = article_rows(app)[wp.guid(10)]
    assert (row.state, row.reason) == ("skipped", "opted out: tagged 'no-social'")
    assert [e.reason for e in got if isinstance(e, ArticleSkipped)] == ["opted out: tagged 'no-social'"]
