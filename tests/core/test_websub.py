"""WebSub: the hub's verification (denials included) is only for the topic we asked for, signatures never crash,
and with several workers on one database exactly one asks the hub, with the secret that is stored."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
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
SUB = Subscription("f", "https://hub.example/", TOPIC, "requested", "s3cret", NOW, None, None)


def test_a_denial_for_another_topic_is_refused() -> None:
    forged = websub.answer_intent(SUB, {"hub.mode": "denied", "hub.topic": "https://evil.example/"}, now=NOW)
    assert forged.status == 404 and not forged.denied
    missing = websub.answer_intent(SUB, {"hub.mode": "denied"}, now=NOW)
    assert missing.status == 404 and not missing.denied


def test_a_denial_for_our_topic_is_taken() -> None:
    answer = websub.answer_intent(SUB, {"hub.mode": "denied", "hub.topic": TOPIC, "hub.reason": "no"}, now=NOW)
    assert answer.status == 200 and answer.denied


def test_subscribe_verification_still_echoes_the_challenge() -> None:
    params = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "c-1", "hub.lease_seconds": "600"}
    answer = websub.answer_intent(SUB, params, now=NOW)
    assert (answer.status, answer.body, answer.expires_at) == (200, "c-1", NOW + timedelta(seconds=600))


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
    assert claim(store, "f", seen_requested_at=None, now=NOW, secret="one", state="requested")
    assert not claim(store, "f", seen_requested_at=None, now=NOW, secret="two", state="requested")
    sub = feed_store.subscription(store, "f")
    assert sub is not None and (sub.secret, sub.state, sub.requested_at) == ("one", "requested", NOW)
    later = NOW + timedelta(minutes=11)
    assert claim(store, "f", seen_requested_at=NOW, now=later, secret="three", state="requested")
    assert not claim(store, "f", seen_requested_at=NOW, now=later, secret="four", state="requested")
    sub = feed_store.subscription(store, "f")
    assert sub is not None and (sub.secret, sub.requested_at) == ("three", later)


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
    await Pushes(SimpleNamespace(app=first)).renew_due()  # type: ignore[arg-type]
    monkeypatch.setattr(feed_store, "subscriptions", lambda store: stale)
    await Pushes(SimpleNamespace(app=second)).renew_due()  # type: ignore[arg-type]
    assert len(sent) == 1
    monkeypatch.undo()
    sub = feed_store.subscription(first.store, "f")
    assert sub is not None and sub.secret == sent[0]["secret"] and sub.state == "requested"
