"""Bluesky end to end: a Persian feed goes poll → render → publish through the REAL atproto SDK to FakeBluesky, by
the commands operators use (`syndicator.cli.main`, in process): records within 300 graphemes and 3,000 bytes, link
and hashtag facets at the right UTF-8 byte offsets, `langs`, the link card with the article image as thumb, one
session for a whole poll, no edits on correction, delete on retract, a lost answer left `unknown` (Bluesky has no
idempotency key), `check`, `preview`, a dry run; and in process, metrics by target.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicator import config as config_mod
from syndicator.app import App
from syndicator.metrics import Metrics
from syndicator.polling import poll_feed
from tests.e2e.helpers import Site, preserved_logging
from tests.fakes.bluesky import DID, HANDLE, PASSWORD, FakeBluesky, grapheme_count
from tests.fakes.server import Response
from tests.fakes.twitter import JPEG
from tests.platforms.test_mastodon_e2e import FEED, World, dry_run_sends_nothing, opened, persian_feed

ENV = {"BLUESKY_FA_APP_PASSWORD": PASSWORD}


def config(site: Site, fake: FakeBluesky, db: str, *, dry_run: bool = False) -> str:
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
targets = ["bluesky_fa"]

[targets.bluesky_fa]
platform = "bluesky"
handle = "{HANDLE}"
app_password_env = "BLUESKY_FA_APP_PASSWORD"
api_base = "{fake.url}"
timeout = "2s"
dry_run = {"true" if dry_run else "false"}

[targets.bluesky_fa.limits]
min_spacing = "0s"
quotas = ["1000/1h"]
"""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[World]:
    with opened(FakeBluesky(), config, ENV, tmp_path, monkeypatch, capsys) as w:
        yield w


def test_a_persian_feed_reaches_bluesky_and_the_commands_manage_it(world: World) -> None:
    fake, site = world.fake, world.site
    now = datetime.now(UTC)
    long_title = "گزارش ویژه 👨‍👩‍👧 " * 40  # far over 300 graphemes: cut to fit
    items = [(1, "خبر اول 🇮🇷", "خلاصه کوتاه"), (2, long_title, "خلاصه"), (3, "خبر سوم", "خلاصه")]
    site.feeds[FEED] = persian_feed(site, items, now=now)

    code, out = world.cli("check")
    assert code == 0 and f"@{HANDLE}" in out, out

    code, out = world.cli("poll")
    assert code == 0, out
    rows = world.rows()
    assert len(rows) == 3 and {r.state for r in rows} == {"sent"}, [(r.state, r.last_error) for r in rows]
    assert fake.logins == 2  # one for `check`, one for the whole poll: never one per post
    for row in rows:
        stored = fake.posts[str(row.remote_id).rsplit("/", 1)[-1]]
        record = stored.record
        text = record["text"]
        assert text == row.post.text and grapheme_count(text) <= 300 and len(text.encode()) <= 3000
        assert record["langs"] == ["fa"]
        data = text.encode()
        covered = {data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in record["facets"]}
        assert row.post.link in covered
        assert ("#حقوق_بشر" in covered) == ("حقوق_بشر" in text)  # the long one had no room for its hashtag
        external = record["embed"]["external"]
        assert external["uri"] == row.post.link and external["thumb"]["size"] == len(JPEG)
        assert row.remote_url == f"https://bsky.app/profile/{HANDLE}/post/{stored.rkey}"
        assert str(row.remote_id).startswith(f"at://{DID}/app.bsky.feed.post/")

    code, out = world.cli("preview", "--feed", "fa", "--target", "bluesky_fa")
    assert code == 0 and "300" in out, out

    # a correction: Bluesky cannot edit, so nothing is sent
    site.feeds[FEED] = persian_feed(site, [(1, "خبر اول (اصلاح شد)", "خلاصه کوتاه"), *items[1:]], now=now)
    before = len(fake.requests)
    code, out = world.cli("poll")
    assert code == 0 and not [r for r in fake.requests[before:] if "createRecord" in r.path], out

    first = next(r for r in rows if r.post.text.startswith("خبر اول"))
    code, out = world.cli("retract", f"a{first.article_id}", "--yes")
    assert code == 0, out
    assert str(first.remote_id).rsplit("/", 1)[-1] not in fake.posts and len(fake.posts) == 2


def test_a_lost_answer_is_unknown_never_resent_blindly(world: World) -> None:
    world.site.feeds[FEED] = persian_feed(world.site, [(5, "خبر", "خلاصه")], now=datetime.now(UTC))
    original = world.fake.handle

    def create_then_drop(request: Any) -> Response:
        answer = original(request)
        return Response(drop=True) if request.path.endswith("createRecord") else answer

    world.fake.handle = create_then_drop  # type: ignore[method-assign]
    world.cli("poll")
    (row,) = world.rows()
    assert row.state == "unknown" and len(world.fake.posts) == 1
    assert len(world.fake.calls("com.atproto.repo.createRecord")) == 1


def test_a_dry_run_sends_nothing(world: World) -> None:
    dry_run_sends_nothing(world)


async def test_metrics_by_target(tmp_path: Path) -> None:
    with Site() as site, FakeBluesky() as fake, preserved_logging():
        site.feeds[FEED] = persian_feed(site, [(11, "یک", "خلاصه"), (12, "دو", "خلاصه")], now=datetime.now(UTC))
        cfg = config_mod.parse(config(site, fake, f"sqlite:///{tmp_path}/m.db"), environ=ENV)
        app = App.open(cfg)
        metrics = Metrics(app)
        metrics.attach()
        try:
            await asyncio.to_thread(poll_feed, app, cfg.feed("fa"))
            await app.dispatcher().run_once()
            text = metrics.render()[0].decode()
            assert 'syndicator_deliveries_sent_total{target="bluesky_fa"} 2.0' in text, text
            assert 'syndicator_target_info{dry_run="false",platform="bluesky",target="bluesky_fa"} 1.0' in text
        finally:
            metrics.detach()
            await app.aclose()
