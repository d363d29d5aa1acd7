"""WebSub: the hub's verification (denials included) is only for the topic we asked for, with our callback token,
signatures never crash, and with several workers on one database exactly one asks the hub, with the secret and
token that are stored. Hostile callers: tests/security/test_push_hostile.py."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator import config
from syndicator.app import App
from syndicator.pushes import Pushes
from syndicator.sources import websub
from syndicator.store import Store
from syndicator.store import feeds as feed_store
from syndicator.store.feeds import Subscription

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOPIC = "https://example.org/feed/"
TOKEN = "tok-0123456789"
LEASE = timedelta(days=7)
SUB = Subscription("f", "https://hub.example/", TOPIC, "requested", "s3cret", NOW, None, None, TOKEN, True)


def intent(params: dict[str, str], *, sub: Subscription = SUB, token: str = TOKEN) -> websub.IntentAnswer:
    return websub.answer_intent(sub, params, token=token, now=NOW, max_lease=LEASE)


def test_a_denial_for_another_topic_is_refused() -> None:
    forged = intent({"hub.mode": "denied", "hub.topic": "https://evil.example/"})
    assert forged.status == 404 and not forged.denied
    missing = intent({"hub.mode": "denied"})
    assert missing.status == 404 and not missing.denied
    tokenless = intent({"hub.mode": "denied", "hub.topic": TOPIC}, token="")
    assert tokenless.status == 404 and not tokenless.denied


def test_a_denial_for_our_topic_is_taken() -> None:
    answer = intent({"hub.mode": "denied", "hub.topic": TOPIC, "hub.reason": "no"})
    assert answer.status == 200 and answer.denied


def test_subscribe_verification_still_echoes_the_challenge() -> None:
    params = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "c-1", "hub.lease_seconds": "600"}
    answer = intent(params)
    assert (answer.status, answer.body, answer.expires_at) == (200, "c-1", NOW + timedelta(seconds=600))


@pytest.mark.parametrize(
    ("given", "granted"),
    [("999999999", LEASE), ("604801", LEASE), ("3600", timedelta(hours=1)), ("", LEASE), ("-5", LEASE),
     ("1e9", LEASE), ("٣٦٠٠", LEASE), ("9" * 5000, LEASE)],
)  # fmt: skip
def test_the_lease_is_never_longer_than_we_asked(given: str, granted: timedelta) -> None:
    params = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "c", "hub.lease_seconds": given}
    assert intent(params).expires_at == NOW + granted


def test_a_verification_needs_our_token_and_a_pending_request() -> None:
    params = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "c", "hub.lease_seconds": "60"}
    assert intent(params, token="tok-0123456788").status == 404
    assert intent(params, token="").status == 404
    assert intent(params, token="é\udcff").status == 404  # not a crash
    tokenless = Subscription("f", "https://hub.example/", TOPIC, "active", "s3cret", NOW, None, None)
    assert intent(params, sub=tokenless, token="").status == 404
    settled = Subscription("f", "https://hub.example/", TOPIC, "active", "s3cret", NOW, None, None, TOKEN, False)
    assert intent(params, sub=settled).status == 404
    renewing = Subscription("f", "https://hub.example/", TOPIC, "active", "s3cret", NOW, None, None, TOKEN, True)
    assert intent(params, sub=renewing).status == 200
    assert intent({**params, "hub.mode": "unsubscribe"}).status == 404


@pytest.mark.parametrize("given", ["é" * 64, "ä" + "0" * 63, "\udcff", "ﬃ"])
def test_a_non_ascii_hub_signature_is_bad_not_a_crash(given: str) -> None:
    assert websub.signature_ok("s3cret", f"sha256={given}", b"<rss/>") is False


def test_a_good_hub_signature_passes() -> None:
    good = hmac.new(b"s3cret", b"<rss/>", hashlib.sha256).hexdigest()
    assert websub.signature_ok("s3cret", f"sha256={good.upper()}", b"<rss/>") is True


# ── several workers, one database ───────────────────────────────────────────────────────────────────────────
CONFIG = """
[store]
url = "{db}"

[webhook]
secret_env = "HOOK"
public_url = "https://syndicator.example.org"

[[feeds]]
name = "f"
url = "https://example.org/feed/"
targets = ["tg"]

[targets.tg]
platform = "telegram"
chat = "@c"
token_env = "TOK"
"""


def app_for(store_url: str) -> App:
    cfg = config.parse(CONFIG.format(db=store_url), environ={"TOK": "1:x", "HOOK": "hook-secret-0123456789abcdef"})
    return App(cfg, Store(cfg.store.url), clock=lambda: NOW)


def test_claim_subscription_request_is_a_compare_and_set(store_url: str) -> None:
    store = Store(store_url)
    feed_store.ensure_feeds(store, {"f": TOPIC})
    feed_store.remember_hub(store, "f", hub="https://hub.example/", topic=TOPIC)
    claim = feed_store.claim_subscription_request
    assert claim(store, "f", seen_requested_at=None, now=NOW, secret="one", token="t1", state="requested")
    assert not claim(store, "f", seen_requested_at=None, now=NOW, secret="two", token="t2", state="requested")
    sub = feed_store.subscription(store, "f")
    assert sub is not None and (sub.secret, sub.token, sub.state, sub.requested_at) == ("one", "t1", "requested", NOW)
    assert sub.pending
    later = NOW + timedelta(minutes=11)
    assert claim(store, "f", seen_requested_at=NOW, now=later, secret="three", token="t3", state="requested")
    assert not claim(store, "f", seen_requested_at=NOW, now=later, secret="four", token="t4", state="requested")
    sub = feed_store.subscription(store, "f")
    assert sub is not None and (sub.secret, sub.token, sub.requested_at) == ("three", "t3", later)
    # the first request's verification, arriving late, does not confirm the second one
    assert not feed_store.confirm_subscription(store, "f", token="t1", expires_at=later)
    assert feed_store.confirm_subscription(store, "f", token="t3", expires_at=later)
    sub = feed_store.subscription(store, "f")
    assert sub is not None and (sub.state, sub.pending, sub.expires_at) == ("active", False, later)
    assert not feed_store.confirm_subscription(store, "f", token="t3", expires_at=later)  # once


async def test_two_workers_renewing_at_once_send_one_request_with_the_stored_secret(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = app_for(store_url), app_for(store_url)
    feed_store.ensure_feeds(first.store, {"f": TOPIC})
    feed_store.remember_hub(first.store, "f", hub="https://hub.example/", topic=TOPIC)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(websub, "request_subscription", lambda **kw: sent.append(kw))
    # both workers read the subscription (due: never requested) before either asks the hub
    stale = feed_store.subscriptions(second.store)
    await Pushes(first).renew_due()
    monkeypatch.setattr(feed_store, "subscriptions", lambda store: stale)
    await Pushes(second).renew_due()
    assert len(sent) == 1
    monkeypatch.undo()
    sub = feed_store.subscription(first.store, "f")
    assert sub is not None and sub.secret == sent[0]["secret"] and sub.state == "requested"
    assert sub.token and sent[0]["callback"] == websub.callback_url("https://syndicator.example.org", "f", sub.token)
