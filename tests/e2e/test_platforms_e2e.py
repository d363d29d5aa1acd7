"""Issue 5 end to end: the sample feed goes poll → render → publish to X, Telegram, a Facebook Page and WhatsApp
(two recipients) through the REAL client libraries and the commands operators use (`syndicator.cli.main`, in
process): each fake receives exactly the expected requests; receipts are stored; `history --json` shows the remote
URLs; `retract` deletes on each platform (WhatsApp cannot: skipped); `resend` obeys its rules; `check` names who
we post as and exits 1 when a token has expired.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator import cli
from syndicator.store import Store
from syndicator.store import deliveries as outbox
from tests.e2e.helpers import (
    CHAT,
    ENV,
    RECIPIENTS,
    X_HANDLE,
    Fakes,
    Row,
    config_text,
    deliveries,
    local_images,
    preserved_logging,
    started_fakes,
    whatsapp_key,
)
from tests.fakes.feeds import fixture, refresh_dates
from tests.fakes.images import flat
from tests.fakes.server import Request, Response
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FEED = "/en/feed/"
PHOTO = "/images/pregnancy-was-taboo.jpg"  # served by the fake site
MISSING = "/images-gone/meps.jpg"  # 404 on the fake site; Telegram cannot fetch it either
NEWEST = "https://www.nejatngo.org/en/pregnancy-was-taboo-in-the-mek/"  # has the photo
SECOND = "https://www.nejatngo.org/en/meps-who-lack-awareness-about-the-meks-nature/"  # its image is gone
THIRD = "https://www.nejatngo.org/en/why-did-massoud-rajavi-enforce-divorces-in-the-mek/"  # no image
PHOTO_JPEG = flat(64, 48, fmt="JPEG")  # a real picture: Telegram's publisher reads it to fit it to the photo limits


@dataclass
class World:
    fakes: Fakes
    config: Path
    db: str
    capsys: pytest.CaptureFixture[str]

    def cli(self, *args: str, config: Path | None = None) -> tuple[int, str]:
        self.capsys.readouterr()
        code = cli.main([*args, "--config", str(config or self.config)])
        return code, self.capsys.readouterr().out

    def rows(self) -> list[Row]:
        store = Store(self.db)
        try:
            return deliveries(store)
        finally:
            store.close()


def later_feed(fakes: Fakes, now: datetime) -> bytes:
    """front-page-later.rss with an image on its two newest items: one the site serves, one it does not."""
    feed = refresh_dates(fixture("front-page-later.rss"), now=now)
    for guid, path in (("31400", PHOTO), ("31391", MISSING)):
        anchor = f"?p={guid}</guid>".encode()
        media = f'\n      <media:content url="{fakes.site.url}{path}" medium="image"/>'.encode()
        feed = feed.replace(anchor, anchor + media)
    return local_images(feed, fakes.site)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[World]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("SYNDICATOR_DB_URL", "SYNDICATOR_CONFIG", "PORT"):
        monkeypatch.delenv(name, raising=False)
    with started_fakes() as fakes, preserved_logging():
        serve = fakes.site.handle

        def handle(request: Request) -> Response:
            if request.path == PHOTO:
                return Response(200, PHOTO_JPEG, headers={"Content-Type": "image/jpeg"})
            return serve(request)

        fakes.site.handle = handle  # type: ignore[method-assign]
        db = f"sqlite:///{tmp_path}/syndicator.db"
        text = config_text(
            fakes,
            db=db,
            feed_url=fakes.site.url_for(FEED),
            whatsapp_mode="template",
            extra={"telegram": {"read_more_button": "Read more"}},
        )
        path = tmp_path / "syndicator.toml"
        path.write_text(text, encoding="utf-8")
        yield World(fakes, path, db, capsys)


def test_sample_feed_reaches_all_four_platforms_and_the_commands_manage_it(world: World) -> None:
    fakes = world.fakes
    now = datetime.now(UTC)
    fakes.site.feeds[FEED] = local_images(refresh_dates(fixture("front-page.rss"), now=now), fakes.site)

    # first poll: the feed's current items are recorded as seen, nothing is posted
    code, out = world.cli("poll")
    assert code == 0 and "10 items, 0 new" in out
    assert all(not fake.post_arrivals() for fake in fakes.platforms().values())

    # the later feed has five new articles: 5 × (X, Telegram, Facebook, WhatsApp × 2 recipients)
    fakes.site.feeds[FEED] = later_feed(fakes, now)
    code, out = world.cli("poll")
    assert code == 0 and "5 new" in out, out
    rows = world.rows()
    assert len(rows) == 25 and {r.state for r in rows} == {"sent"}, [(r.target, r.state, r.last_error) for r in rows]
    check_x(fakes, [r for r in rows if r.target == "x"])
    check_telegram(fakes, [r for r in rows if r.target == "telegram"])
    check_facebook(fakes, [r for r in rows if r.target == "facebook"])
    check_whatsapp(fakes, [r for r in rows if r.target == "whatsapp"])

    # history --json: one JSON document with every delivery and its remote URL
    code, out = world.cli("history", "--json")
    assert code == 0
    history = {d["id"]: d for d in json.loads(out)["deliveries"]}
    assert set(history) == {r.id for r in rows}
    for r in rows:
        assert history[r.id]["state"] == "sent"
        assert history[r.id]["remote_url"] == r.remote_url
        assert history[r.id]["remote_id"] == r.remote_id
    assert {history[r.id]["remote_url"] for r in rows if r.target != "whatsapp"} >= {
        f"https://x.com/{X_HANDLE}/status/{next(iter(fakes.x.tweets))}"
    }

    retract_newest(world, rows)
    resend_rules(world)
    check_command(world)


# ── what each platform received ──────────────────────────────────────────────────────────────────────────────
def check_x(fakes: Fakes, rows: list[Row]) -> None:
    bodies = fakes.x.tweet_bodies()
    assert sorted(b["text"] for b in bodies) == sorted(r.post.text for r in rows)
    uploads = fakes.x.calls("POST", "/2/media/upload")
    assert len(uploads) == 1, "only the reachable image is uploaded"
    assert list(fakes.x.media.values()) == [PHOTO_JPEG]
    for r in rows:
        body = next(b for b in bodies if b["text"] == r.post.text)
        assert r.remote_url == f"https://x.com/{X_HANDLE}/status/{r.remote_id}"
        assert fakes.x.tweets[str(r.remote_id)].text == r.post.text
        assert r.post.link and r.post.link.split("?")[0] in r.post.text
        if r.post.image_url and r.post.image_url.endswith(PHOTO):
            assert body["media"]["media_ids"] == list(fakes.x.media)
        else:
            assert "media" not in body  # no image, or it could not be downloaded: posted without it
    assert sum(1 for r in rows if r.post.image_url) == 2
    # the image downloads went to the publisher's site, once per uploading platform (X, Telegram): the photo, and
    # the missing one (404)
    assert Counter(r.path for r in fakes.site.requests if r.path in (PHOTO, MISSING)) == {PHOTO: 2, MISSING: 2}
    # every call carried OAuth 1.0a for our keys; no secret in a URL
    for request in fakes.x.requests:
        if request.path.startswith("/2/"):
            assert f'oauth_consumer_key="{ENV["X_API_KEY"]}"' in request.headers["authorization"]


def check_telegram(fakes: Fakes, rows: list[Row]) -> None:
    sent = {m.raw: m for m in fakes.telegram.messages.values()}
    assert sorted(sent) == sorted(r.post.text for r in rows)
    assert len(fakes.telegram.calls("sendMessage")) + len(fakes.telegram.calls("sendPhoto")) == 5  # no retries
    for r in rows:
        message = sent[r.post.text]
        params = message.params
        assert params["chat_id"] == CHAT and params["parse_mode"] == "HTML"
        assert json.loads(params["reply_markup"]) == {"inline_keyboard": [[{"text": "Read more", "url": r.post.link}]]}
        assert r.remote_id == str(message.message_id)
        assert r.remote_url == f"https://t.me/{CHAT[1:]}/{message.message_id}"
        if r.post.image_url and r.post.image_url.endswith(PHOTO):
            assert message.kind == "photo" and message.photo == PHOTO_JPEG  # uploaded: Telegram fetched no URL of ours
        else:
            assert message.kind == "text"  # no image, or it could not be downloaded: posted as text
            assert json.loads(params["link_preview_options"])["url"] == r.post.link


def check_facebook(fakes: Fakes, rows: list[Row]) -> None:
    calls = fakes.facebook.calls("POST", f"/{fakes.facebook.page_id}/feed")
    assert len(calls) == 5
    for request in calls:
        assert request.headers["authorization"] == f"Bearer {ENV['FACEBOOK_PAGE_TOKEN']}"
        assert "access_token" not in request.query and "access_token" not in request.form()
    for r in rows:
        post = fakes.facebook.posts[str(r.remote_id)]
        assert post == {"message": r.post.text, "link": r.post.link}
        assert r.remote_url == f"https://www.facebook.com/{r.remote_id}"


def check_whatsapp(fakes: Fakes, rows: list[Row]) -> None:
    messages = fakes.whatsapp.messages
    assert len(messages) == 10
    assert Counter(m["to"] for m in messages) == Counter({RECIPIENTS[0]: 5, RECIPIENTS[1]: 5})
    by_id = {m["id"]: m for m in messages}
    for r in rows:
        message = by_id[str(r.remote_id)]
        assert message["to"] == r.recipient and r.remote_url is None
        assert message["type"] == "template"
        template = message["template"]
        assert template["name"] == "new_article" and template["language"] == {"code": "en"}
        title, link = (p["text"] for p in template["components"][0]["parameters"])
        assert link == r.post.link and title
        assert whatsapp_key(message) == (r.recipient, f"{title}|{link}")


# ── the editor commands ──────────────────────────────────────────────────────────────────────────────────────
def retract_newest(world: World, rows: list[Row]) -> None:
    fakes = world.fakes
    mine = {r.target + r.recipient: r for r in rows if r.post.link and r.post.link.startswith(NEWEST)}
    assert len(mine) == 5
    code, out = world.cli("retract", NEWEST, "--yes")
    assert code == 0, out
    assert f"retracted  x: deleted {mine['x'].remote_url}" in out
    assert f"retracted  telegram: deleted {mine['telegram'].remote_url}" in out
    assert f"retracted  facebook: deleted {mine['facebook'].remote_url}" in out
    for recipient in RECIPIENTS:
        assert f"skipped    whatsapp → {recipient}: whatsapp posts cannot be deleted through the API" in out
    assert fakes.x.calls("DELETE", f"/2/tweets/{mine['x'].remote_id}")
    assert mine["x"].remote_id not in fakes.x.tweets
    assert len(fakes.telegram.calls("deleteMessage")) == 1
    assert all(str(m.message_id) != mine["telegram"].remote_id for m in fakes.telegram.messages.values())
    assert [r.path for r in fakes.facebook.calls("DELETE")] == [f"/v26.0/{mine['facebook'].remote_id}"]
    assert mine["facebook"].remote_id not in fakes.facebook.posts
    assert len(fakes.whatsapp.messages) == 10  # nothing can be taken back there
    states = {r.target + r.recipient: r.state for r in world.rows() if r.id in {m.id for m in mine.values()}}
    assert states == {
        "x": "retracted",
        "telegram": "retracted",
        "facebook": "retracted",
        **{f"whatsapp{n}": "sent" for n in RECIPIENTS},
    }


def resend_rules(world: World) -> None:
    """`resend` without --force: only failed, never-made and (with --yes) unknown deliveries; --force: a new post."""
    fakes = world.fakes
    rows = [r for r in world.rows() if r.post.link and r.post.link.startswith(THIRD)]
    by_key = {r.target + r.recipient: r for r in rows}
    # make the three cases: Facebook failed, one WhatsApp recipient unknown, a target added since (never made)
    store = Store(world.db)
    try:
        outbox.record_failure(
            store,
            by_key["facebook"].id,
            now=datetime.now(UTC),
            error_class="permanent",
            message="(#100) rejected",
            retry_at=None,
        )
        outbox.mark_unknown(store, by_key[f"whatsapp{RECIPIENTS[1]}"].id, now=datetime.now(UTC), reason="crash")
    finally:
        store.close()
    fakes.facebook.posts.pop(str(by_key["facebook"].remote_id))  # as if it had never been made
    wider = world.config.with_name("wider.toml")
    text = world.config.read_text(encoding="utf-8")
    text = text.replace('"whatsapp"]\n', '"whatsapp", "telegram_ar"]\n', 1)
    text += (
        f'[targets.telegram_ar]\nplatform = "telegram"\napi_base = "{fakes.telegram.url}"\nchat = "-1001000000002"\n'
    )
    text += '[targets.telegram_ar.limits]\nmin_spacing = "0s"\n'
    wider.write_text(text, encoding="utf-8")

    before = {name: len(fake.post_arrivals()) for name, fake in fakes.platforms().items()}
    code, out = world.cli("resend", THIRD, config=wider)
    assert code == 2, out  # not a terminal: nothing is queued without --yes
    code, out = world.cli("resend", THIRD, "--yes", config=wider)
    assert code == 0, out
    lines = sorted(out.splitlines())
    assert "queued   facebook: queued again (was failed)" in lines
    assert "queued   telegram_ar: queued" in lines
    assert "skipped  x: sent; use --force to post it again" in lines
    assert "skipped  telegram: sent; use --force to post it again" in lines
    assert f"skipped  whatsapp → {RECIPIENTS[0]}: sent; use --force to post it again" in lines
    assert f"queued   whatsapp → {RECIPIENTS[1]}: queued again (was unknown)" in lines

    code, out = world.cli("poll", config=wider)
    assert code == 0, out
    after = {name: len(fake.post_arrivals()) for name, fake in fakes.platforms().items()}
    # X untouched; Telegram the new target's chat only; Facebook once more; WhatsApp the unknown recipient only
    assert {n: after[n] - before[n] for n in after} == {"x": 0, "telegram": 1, "facebook": 1, "whatsapp": 1}
    assert fakes.telegram.calls("sendMessage")[-1]["chat_id"] == "-1001000000002"
    assert fakes.whatsapp.messages[-1]["to"] == RECIPIENTS[1]
    latest = {r.target + r.recipient: r for r in world.rows() if r.post.link and r.post.link.startswith(THIRD)}
    assert {k: r.state for k, r in latest.items()} == dict.fromkeys(latest, "sent")
    assert len(latest) == 6

    # --force posts again even where it was sent: Telegram shows it twice; X refuses the same text as a duplicate
    code, out = world.cli("resend", THIRD, "--force", "--target", "telegram", "--target", "x", "--yes", config=wider)
    assert code == 0
    queued = sorted(line for line in out.splitlines() if line.startswith("queued"))
    assert queued == ["queued   telegram: queued (forced)", "queued   x: queued (forced)"]
    code, out = world.cli("poll", config=wider)
    final = {name: len(fake.post_arrivals()) for name, fake in fakes.platforms().items()}
    assert {n: final[n] - after[n] for n in final} == {"x": 1, "telegram": 1, "facebook": 0, "whatsapp": 0}
    texts = Counter(m.raw for m in fakes.telegram.messages.values() if m.chat_id == FakeTelegram.PUBLIC.id)
    assert texts[by_key["telegram"].post.text] == 2
    forced = [r for r in world.rows() if r.post.link and r.post.link.startswith(THIRD) and r.id not in
              {x.id for x in rows}]  # fmt: skip
    states = {r.target: (r.state, r.last_error or "") for r in forced if r.target in ("x", "telegram")}
    assert states["telegram"][0] == "sent"
    assert states["x"][0] == "failed" and "duplicate" in states["x"][1]


def check_command(world: World) -> None:
    fakes = world.fakes
    code, out = world.cli("check")
    assert code == 0, out
    assert re.search(r"^ok +x \(twitter\): @example_news$", out, re.M), out
    assert re.search(r"^ok +telegram \(telegram\): @example_bot$", out, re.M), out
    assert re.search(r"^ok +facebook \(facebook\): Example News$", out, re.M), out
    assert re.search(r"^ok +whatsapp \(whatsapp\): Example News$", out, re.M), out

    fakes.facebook.expire_token()
    code, out = world.cli("check")
    assert code == 1, out
    assert re.search(r"^PROBLEM +facebook \(facebook\): auth: .*expired", out, re.M), out
    assert len(re.findall(r"^ok ", out, re.M)) == 3


def test_check_reports_a_rejected_bot_token(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "654321:TEST-another-token-not-real")
    code, out = world.cli("check")
    assert code == 1
    assert re.search(r"^PROBLEM +telegram \(telegram\): auth: Telegram rejected the bot token$", out, re.M), out
    assert "654321" not in out and "another-token" not in out
