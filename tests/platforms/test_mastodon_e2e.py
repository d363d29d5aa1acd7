"""Mastodon end to end: a Persian feed goes poll → render → publish through the REAL Mastodon.py to FakeMastodon,
by the commands operators use (`syndicator.cli.main`, in process): the instance's own limits and counting,
`language`, the image with its alt text, the delivery id as `Idempotency-Key` (a lost answer is retried and an
`unknown` delivery resent without a second status), edits on correction, delete on retract, `check`, `preview`,
a dry run; and in process, metrics and alerts by target.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicator import cli
from syndicator import config as config_mod
from syndicator import events as ev
from syndicator.alerts.conditions import Conditions
from syndicator.app import App
from syndicator.metrics import Metrics
from syndicator.polling import poll_feed
from syndicator.store import Store
from tests.e2e.helpers import Row, Site, deliveries, preserved_logging
from tests.fakes.images import flat
from tests.fakes.mastodon import TOKEN, FakeMastodon, instance_length
from tests.fakes.server import FakeServer, Request, Response

FEED = "/fa/feed/"
ENV = {"MASTODON_FA_TOKEN": TOKEN}
PHOTO = flat(64, 48, fmt="JPEG")  # a real picture: the publisher reads its size to fit it to the instance's limits


class ImageSite(Site):
    """The publisher's site, whose article images are real JPEGs."""

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/images/"):
            return Response(200, PHOTO, headers={"Content-Type": "image/jpeg"})
        return super().handle(request)


def persian_feed(site: Site, items: list[tuple[int, str, str]], *, now: datetime) -> bytes:
    """RSS of (post id, title, summary), newest first, each with a category and an image on the site."""
    out = []
    for i, (pid, title, summary) in enumerate(items):
        when = (now - timedelta(minutes=5 * (i + 1))).strftime("%a, %d %b %Y %H:%M:%S +0000")
        out.append(
            f"<item><title>{title}</title><link>https://www.nejatngo.org/fa/news-{pid}/</link>"
            f'<guid isPermaLink="false">https://www.nejatngo.org/fa/?p={pid}</guid><pubDate>{when}</pubDate>'
            f"<category>حقوق بشر</category><description>{summary}</description>"
            f'<media:content url="{site.url}/images/{pid}.jpg" medium="image"/></item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>نجات</title><link>https://www.nejatngo.org/fa/</link><language>fa-IR</language>"
        f"{''.join(out)}</channel></rss>"
    ).encode()


def config(site: Site, fake: FakeMastodon, db: str, *, dry_run: bool = False, **retry: str) -> str:
    retry_lines = "".join(f'{k} = "{v}"\n' for k, v in retry.items())
    return f"""
[store]
url = "{db}"

[outbound]
allow = ["{site.url.removeprefix("http://")}"]

[[feeds]]
name = "fa"
url = "{site.url_for(FEED)}"
every = "1h"
language = "fa"
first_run = "all"
targets = ["mastodon_fa"]

[targets.mastodon_fa]
platform = "mastodon"
instance = "{fake.url}"
token_env = "MASTODON_FA_TOKEN"
timeout = "2s"
dry_run = {"true" if dry_run else "false"}

[targets.mastodon_fa.limits]
min_spacing = "0s"
quotas = ["1000/1h"]

[targets.mastodon_fa.retry]
backoff = "0s"
{retry_lines}"""


@dataclass
class World:
    """A feed site, a fake platform, a configuration file for them and the CLI on it (shared by the Bluesky
    end-to-end tests)."""

    site: Site
    fake: Any
    path: Path
    db: str
    capsys: pytest.CaptureFixture[str]
    make_config: Callable[..., str]

    def write(self, **kw: Any) -> None:
        self.path.write_text(self.make_config(self.site, self.fake, self.db, **kw), encoding="utf-8")

    def cli(self, *args: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = cli.main([*args, "--config", str(self.path)])
        return code, self.capsys.readouterr().out

    def rows(self) -> list[Row]:
        store = Store(self.db)
        try:
            return deliveries(store)
        finally:
            store.close()


@contextlib.contextmanager
def opened(
    fake: FakeServer, make_config: Callable[..., str], env: dict[str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], site_type: type[Site] = Site,
) -> Iterator[World]:  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("SYNDICATOR_DB_URL", "SYNDICATOR_CONFIG", "PORT"):
        monkeypatch.delenv(name, raising=False)
    with site_type() as site, fake, preserved_logging():
        w = World(site, fake, tmp_path / "syndicator.toml", f"sqlite:///{tmp_path}/s.db", capsys, make_config)
        w.write()
        yield w


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[World]:
    with opened(FakeMastodon(), config, ENV, tmp_path, monkeypatch, capsys, site_type=ImageSite) as w:
        yield w


def lose_the_next_answer(fake: FakeMastodon, *, delay: float = 0.0) -> None:
    """The next status POST is carried out (the status exists), and then its answer is lost: the connection
    drops, or (`delay`) it comes too late."""
    original = fake.handle
    lost: list[Request] = []

    def handle(request: Request) -> Response:
        answer = original(request)
        if request.path == "/api/v1/statuses" and request.method == "POST" and not lost:
            lost.append(request)
            if delay:
                return Response(answer.status, answer.body, answer.headers, delay=delay)
            return Response(drop=True)
        return answer

    fake.handle = handle  # type: ignore[method-assign]


def test_a_persian_feed_reaches_mastodon_and_the_commands_manage_it(world: World) -> None:
    fake, site = world.fake, world.site
    now = datetime.now(UTC)
    fake.max_characters = 1000
    long_summary = "گزارش " * 120  # 720 graphemes: fits this instance, not a stock one
    site.feeds[FEED] = persian_feed(site, [(1, "خبر اول 🇮🇷", "خلاصه کوتاه")], now=now)

    # check reads the instance's limits (and says who we post as)
    code, out = world.cli("check", "--json")
    result = json.loads(out)["targets"][0]
    assert code == 0 and result["ok"], out
    assert "@newsroom@127.0.0.1" in json.dumps(result) and "1000" in json.dumps(result)

    code, out = world.cli("poll")
    assert code == 0, out
    (status,) = fake.statuses.values()
    (row,) = world.rows()
    assert row.state == "sent" and row.remote_id == status["id"] and row.remote_url == status["url"]
    assert status["language"] == "fa" and status["text"] == row.post.text
    assert status["text"].startswith("خبر اول 🇮🇷") and "#حقوق_بشر" in status["text"]
    (attachment,) = status["media_attachments"]
    assert attachment["description"] == "خبر اول 🇮🇷"  # the feed has no alt text: the title describes the image
    assert fake.uploads[attachment["id"]].data == PHOTO  # within the instance's limits: uploaded as it came
    (sent,) = fake.calls("POST", "/api/v1/statuses")
    assert sent.headers["idempotency-key"].startswith(f"syndicator-{row.id}-")

    # a longer article uses the instance's 1000, counted the instance's way
    site.feeds[FEED] = persian_feed(site, [(2, "خبر دوم", long_summary), (1, "خبر اول 🇮🇷", "خلاصه کوتاه")], now=now)
    code, out = world.cli("poll")
    assert code == 0, out
    second = next(s for s in fake.statuses.values() if s["text"].startswith("خبر دوم"))
    assert 500 < instance_length(second["text"], 23) <= 1000

    # preview shows the post, its length and the instance's limit
    code, out = world.cli("preview", "--feed", "fa", "--target", "mastodon_fa")
    assert code == 0 and "1000" in out and "خبر دوم" in out, out

    # a correction edits the status in place
    site.feeds[FEED] = persian_feed(
        site, [(2, "خبر دوم (اصلاح شد)", long_summary), (1, "خبر اول 🇮🇷", "خلاصه کوتاه")], now=now
    )
    code, out = world.cli("poll")
    assert code == 0, out
    assert fake.calls("PUT", f"/api/v1/statuses/{second['id']}") and second["text"].startswith("خبر دوم (اصلاح شد)")
    assert len(fake.statuses) == 2 and fake.created == 2

    # retract deletes it
    article = next(r.article_id for r in world.rows() if r.remote_id == second["id"])
    code, out = world.cli("retract", f"a{article}", "--yes")
    assert code == 0, out
    assert second["id"] not in fake.statuses and fake.calls("DELETE", f"/api/v1/statuses/{second['id']}")


def test_a_lost_answer_is_retried_with_the_same_key_and_makes_one_status(world: World) -> None:
    fake, site = world.fake, world.site
    site.feeds[FEED] = persian_feed(site, [(7, "خبر", "خلاصه")], now=datetime.now(UTC))
    lose_the_next_answer(fake)
    code, out = world.cli("poll")
    (row,) = world.rows()
    assert code == 0 and row.state == "sent", (row.state, row.last_error, out)
    posts = fake.calls("POST", "/api/v1/statuses")
    assert len(posts) == 2 and len({p.headers["idempotency-key"] for p in posts}) == 1
    assert fake.created == 1 and row.remote_id == next(iter(fake.statuses))


def test_an_unknown_delivery_is_resent_safely(world: World) -> None:
    fake, site = world.fake, world.site
    world.write(call_deadline="1s")
    site.feeds[FEED] = persian_feed(site, [(8, "خبر", "خلاصه")], now=datetime.now(UTC))
    lose_the_next_answer(fake, delay=1.5)  # the status exists; the answer comes after the call deadline
    world.cli("poll")
    (row,) = world.rows()
    assert row.state == "unknown" and fake.created == 1
    code, out = world.cli("resend", f"a{row.article_id}", "--target", "mastodon_fa", "--yes")
    assert code == 0, out
    world.cli("poll")
    (row,) = world.rows()
    assert row.state == "sent" and fake.created == 1 and row.remote_id == next(iter(fake.statuses))


def test_a_dry_run_sends_nothing(world: World) -> None:
    dry_run_sends_nothing(world)


def dry_run_sends_nothing(world: World) -> None:
    """The target as a dry run: recorded as sent, nothing reaches the platform (the Bluesky tests use it too)."""
    world.write(dry_run=True)
    world.site.feeds[FEED] = persian_feed(world.site, [(9, "خبر", "خلاصه")], now=datetime.now(UTC))
    code, out = world.cli("poll")
    (row,) = world.rows()
    assert code == 0 and row.state == "sent" and str(row.remote_id).startswith("dry-run-"), out
    assert world.fake.requests == []


async def test_metrics_and_alerts_by_target(tmp_path: Path) -> None:
    with ImageSite() as site, FakeMastodon() as fake, preserved_logging():
        site.feeds[FEED] = persian_feed(site, [(11, "یک", "خلاصه"), (12, "دو", "خلاصه")], now=datetime.now(UTC))
        cfg = config_mod.parse(config(site, fake, f"sqlite:///{tmp_path}/m.db"), environ=ENV)
        app = App.open(cfg)
        seen: list[ev.Event] = []
        unsubscribe = ev.subscribe(seen.append)
        metrics = Metrics(app)
        metrics.attach()
        try:
            await asyncio.to_thread(poll_feed, app, cfg.feed("fa"))
            await app.dispatcher().run_once()
            body, _ = metrics.render()
            text = body.decode()
            assert 'syndicator_deliveries_sent_total{target="mastodon_fa"} 2.0' in text, text
            assert 'syndicator_target_info{dry_run="false",platform="mastodon",target="mastodon_fa"} 1.0' in text

            # the token is revoked: the delivery fails for authorization, the target pauses, an alert names it
            fake.fail_next(Response(401, {"error": "The access token was revoked"}))
            site.feeds[FEED] = persian_feed(site, [(13, "سه", "خلاصه"), (11, "یک", "خلاصه")], now=datetime.now(UTC))
            await asyncio.to_thread(poll_feed, app, cfg.feed("fa"))
            await app.dispatcher().run_once()
            paused = [e for e in seen if isinstance(e, ev.TargetPaused)]
            assert paused and paused[0].target == "mastodon_fa" and paused[0].reason == "authorization"
            conditions = Conditions(targets=cfg.targets, feeds=["fa"], feed_failing_after=timedelta(minutes=30),
                                    expiry_window=None, clock=app.clock)  # fmt: skip
            alerts = [a for e in seen for a in conditions.on_event(e, 0.0)]
            assert any(a.subject == "mastodon_fa" and "mastodon" in a.message() for a in alerts), alerts
            text = metrics.render()[0].decode()
            assert 'syndicator_delivery_errors_total{error_class="auth",target="mastodon_fa"} 1.0' in text
        finally:
            metrics.detach()
            unsubscribe()
            await app.aclose()


async def test_the_ratelimit_headers_pause_the_target_until_the_reset(tmp_path: Path) -> None:
    with ImageSite() as site, FakeMastodon() as fake, preserved_logging():
        # every request spends one: the instance lookup (4 left), image and status (2), image and status (0)
        fake.rate_remaining = 5
        site.feeds[FEED] = persian_feed(site, [(21, "یک", "خلاصه"), (22, "دو", "خلاصه"), (23, "سه", "خلاصه")],
                                        now=datetime.now(UTC))  # fmt: skip
        cfg = config_mod.parse(config(site, fake, f"sqlite:///{tmp_path}/r.db"), environ=ENV)
        app = App.open(cfg)
        seen: list[ev.Event] = []
        unsubscribe = ev.subscribe(seen.append)
        try:
            await asyncio.to_thread(poll_feed, app, cfg.feed("fa"))
            await app.dispatcher().run_once()
            waits = [e for e in seen if isinstance(e, ev.RateLimitWait) and e.target == "mastodon_fa"]
            assert waits and waits[0].until is not None and waits[0].until > datetime.now(UTC)
            assert fake.created == 2  # the budget was spent after the second status: the third waits for the reset
            rows = deliveries(app.store)
            assert sorted(r.state for r in rows) == ["pending", "sent", "sent"]
        finally:
            unsubscribe()
            await app.aclose()
