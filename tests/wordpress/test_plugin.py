"""The WordPress plugin (deploy/wordpress/syndicator/), run by the distribution's php-cli with a few WordPress
functions stubbed (tests/wordpress/php/harness.php): every file is valid PHP, its meta is registered for the REST
API, and the calls it signs are accepted by the bot's own check — then do what the editor chose."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicator.config import WebhookSettings
from syndicator.pushes import Pushes
from syndicator.sources import webhook
from tests.wordpress.fake import FakeWordPress
from tests.wordpress.helpers import NOW, Clock, make_app, posts

PHP = shutil.which("php")
pytestmark = pytest.mark.skipif(PHP is None, reason="php-cli is not installed (apt-get install php-cli)")
REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "deploy" / "wordpress" / "syndicator"
HARNESS = Path(__file__).parent / "php" / "harness.php"
SECRET = "TEST-not-real-webhook-secret-0123456789"


class Guard:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def first_time(self, key: str, *, now: datetime, window: timedelta) -> bool:
        fresh = key not in self.seen
        self.seen.add(key)
        return fresh


def run_plugin(scenario: dict[str, Any], *, url: str = "https://bot.example.org") -> dict[str, Any]:
    env = {**os.environ, "SYNDICATOR_URL": url, "SYNDICATOR_SECRET": SECRET, "SYNDICATOR_FEED": "en"}
    done = subprocess.run(
        [str(PHP), str(HARNESS), json.dumps(scenario)], capture_output=True, env=env, timeout=30, check=True
    )
    assert done.stderr == b""
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def verified(sent: dict[str, Any], *, now: datetime) -> webhook.PublishCall:
    headers = {k.lower(): str(v) for k, v in sent["args"]["headers"].items()}
    body = sent["args"]["body"].encode()
    settings = WebhookSettings(secret=SECRET)
    call = webhook.verify(settings, headers, body, now=now, guard=Guard(), feeds={"en"})
    assert isinstance(call, webhook.PublishCall), call
    return call


@pytest.mark.parametrize("path", sorted(str(p.relative_to(REPO)) for p in PLUGIN.rglob("*.php")))
def test_every_plugin_file_is_valid_php(path: str) -> None:
    done = subprocess.run([str(PHP), "-l", str(REPO / path)], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_meta_is_registered_for_the_rest_api() -> None:
    out = run_plugin({"posts": {}, "events": []})
    assert out["registered"]["syndicator_no_social"] is True
    assert all(out["registered"][f"syndicator_{kind}_{p}"] for kind in ("skip", "text") for p in ("x", "telegram"))


def test_publish_update_unpublish_and_delete_are_signed_calls_the_bot_accepts() -> None:
    meta = {"syndicator_skip_telegram": True, "syndicator_text_x": 'Ünïcode "quotes" & <b>tags</b> 🎉'}
    scenario = {
        "posts": {
            "5": {"status": "publish", "meta": meta},
            "6": {"status": "trash", "meta": {}},
            "7": {"status": "draft", "meta": {}},
        },
        "events": [
            ["save", 5, "draft"],  # published
            ["save", 5, "publish"],  # updated
            ["save", 6, "publish"],  # trashed
            ["save", 7, "draft"],  # a draft saved: nothing
            ["delete", 6, None],
        ],
    }
    out = run_plugin(scenario)
    sent = out["sent"]
    assert [s["url"] for s in sent] == ["https://bot.example.org/hooks/publish"] * 4  # the draft sends nothing
    assert all(s["args"]["blocking"] is False and s["args"]["timeout"] == 5 for s in sent)
    now = datetime.fromtimestamp(int(sent[0]["args"]["headers"]["X-Syndicator-Timestamp"]), UTC)
    calls = [verified(s, now=now) for s in sent]
    assert [(c.post_id, c.status) for c in calls] == [(5, "publish"), (5, "publish"), (6, "trash"), (6, "deleted")]
    assert calls[0].url == "https://www.example.org/en/2026/12/01/story-5/"
    choices = calls[0].choices
    assert choices is not None and choices.skip == {"telegram"} and not choices.opt_out
    assert choices.texts == {"x": 'Ünïcode "quotes" & <b>tags</b> 🎉'}
    nonces = {json.loads(s["args"]["body"])["nonce"] for s in sent}
    assert len(nonces) == 4  # each call its own: two in one second are not a replay


def test_a_tampered_body_or_another_secret_is_refused() -> None:
    out = run_plugin({"posts": {"5": {"status": "publish", "meta": {}}}, "events": [["save", 5, "draft"]]})
    sent = out["sent"][0]
    headers = {k.lower(): str(v) for k, v in sent["args"]["headers"].items()}
    now = datetime.fromtimestamp(int(headers["x-syndicator-timestamp"]), UTC)
    body = sent["args"]["body"].replace('"publish"', '"trash"').encode()
    refused = webhook.verify(WebhookSettings(secret=SECRET), headers, body, now=now, guard=Guard(), feeds={"en"})
    assert isinstance(refused, webhook.Refusal) and refused.status == 401
    other = WebhookSettings(secret="TEST-not-real-another-secret-000")
    body = sent["args"]["body"].encode()
    refused = webhook.verify(other, headers, body, now=now, guard=Guard(), feeds={"en"})
    assert isinstance(refused, webhook.Refusal) and refused.status == 401


def test_the_panel_escapes_what_it_shows_and_the_feed_carries_the_skips() -> None:
    meta = {"syndicator_no_social": True, "syndicator_skip_x": True, "syndicator_text_x": '</textarea><script>"'}
    events = [["panel", 5, None], ["feed", 5, None]]
    out = run_plugin({"posts": {"5": {"status": "publish", "meta": meta}}, "events": events})
    panel = out["panel"]
    assert "<script>" not in panel and "&lt;/textarea&gt;&lt;script&gt;&quot;" in panel
    assert 'name="syndicator_no_social" value="1" checked="checked"' in panel
    assert 'name="syndicator_panel_nonce"' in panel
    tags = ["<category><![CDATA[no-social]]></category>", "<category><![CDATA[social-skip-x]]></category>"]
    assert out["feed"]["5"].split() == tags


@pytest.fixture
def wp() -> Iterator[FakeWordPress]:
    with FakeWordPress() as site:
        site.publish(3, now=NOW - timedelta(hours=1))
        yield site


def test_a_call_signed_by_the_plugin_posts_with_the_editors_choices(wp: FakeWordPress, store_url: str) -> None:
    clock = Clock()
    hook = '\n[webhook]\nsecret_env = "HOOK"\n'
    app = make_app(wp, store_url, clock, sections=hook, environ={"HOOK": SECRET})
    feed = app.config.feed("en")
    pushes = Pushes(app)
    asyncio.run(pushes.poll_now(feed))  # the first poll: what is there is not posted
    wp.publish(1, start=10, now=NOW)
    meta = {"syndicator_text_x": "The editor's words for X", "syndicator_skip_telegram": True}
    out = run_plugin({"posts": {"10": {"status": "publish", "meta": meta}}, "events": [["save", 10, "draft"]]})
    sent = out["sent"][0]
    call = verified(sent, now=datetime.fromtimestamp(int(sent["args"]["headers"]["X-Syndicator-Timestamp"]), UTC))
    call = webhook.PublishCall(call.feed, wp.link(10), call.post_id, call.status, call.choices)  # this site's URL
    asyncio.run(pushes.handle(call))
    queued = posts(app)
    assert set(queued) == {(wp.guid(10), "x")}
    assert queued[(wp.guid(10), "x")]["text"].startswith("The editor's words for X")


def test_the_block_editor_gets_the_sidebar_panel_and_the_classic_editor_the_box() -> None:
    out = run_plugin({"posts": {}, "events": [["editor", 0, None]]})
    (box,) = out["editor"]["boxes"]
    assert box[0] == "syndicator" and box[4] == "side" and box[6] == {"__back_compat_meta_box": True}
    (script,) = out["editor"]["scripts"]
    assert script[0] == "syndicator-sidebar" and script[1].endswith("/assets/sidebar.js")
    assert {"wp-plugins", "wp-edit-post", "wp-data"} <= set(script[2])
    (inline,) = out["editor"]["inline"]
    assert inline[0] == "syndicator-sidebar" and inline[2] == "before"
    config = json.loads(inline[1].removeprefix("window.syndicatorSidebar = ").removesuffix(";"))
    assert config["platforms"]["x"] == "X" and "mastodon" in config["platforms"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_sidebar_script_is_valid_javascript() -> None:
    done = subprocess.run(["node", "--check", str(PLUGIN / "assets" / "sidebar.js")], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_meta_that_is_not_an_object_is_refused() -> None:
    body = json.dumps({"feed": "en", "post_id": 5, "status": "publish", "meta": ["syndicator_no_social"]}).encode()
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    stamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "x-syndicator-timestamp": str(stamp),
        "x-syndicator-signature": webhook.sign(SECRET, stamp, body),
    }
    refused = webhook.verify(WebhookSettings(secret=SECRET), headers, body, now=now, guard=Guard(), feeds={"en"})
    assert isinstance(refused, webhook.Refusal) and refused.status == 400 and "meta" in refused.reason
