"""The publish webhook's signature check never crashes on what a caller puts in its headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from syndicator.config import WebhookSettings
from syndicator.sources.webhook import PublishCall, Refusal, replay_key, sign, verify

SECRET = "webhook-secret-TEST-not-real-0123456789"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = json.dumps({"feed": "en", "url": "https://example.org/a/", "nonce": "1"}).encode()


class Remembers:
    """The guard's contract without a store (the store's own guard: tests/security/test_push_hostile.py)."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def first_time(self, key: str, *, now: datetime, window: timedelta) -> bool:
        if key in self.keys:
            return False
        self.keys.append(key)
        return True


def check(signature: str, body: bytes = BODY) -> PublishCall | Refusal:
    stamp = int(NOW.timestamp())
    headers = {
        "content-type": "application/json",
        "x-syndicator-timestamp": str(stamp),
        "x-syndicator-signature": signature,
    }
    settings = WebhookSettings(secret=SECRET)
    return verify(settings, headers, body, now=NOW, guard=Remembers(), feeds={"en"})


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "é" * 64,  # latin-1 bytes, as the listener decodes headers
        "sha256=ä" + sign(SECRET, int(NOW.timestamp()), BODY)[8:],
        "sha256=\udcff\udcfe",  # undecodable bytes kept as surrogates
        "ﬃ",
    ],
)
def test_a_non_ascii_signature_is_a_bad_signature_not_a_crash(signature: str) -> None:
    assert check(signature) == Refusal(401, "bad signature")


def test_the_right_signature_still_passes() -> None:
    result = check(sign(SECRET, int(NOW.timestamp()), BODY))
    assert result == PublishCall("en", "https://example.org/a/", None, None)


def test_the_replay_key_is_the_nonce_when_there_is_one_else_the_signature() -> None:
    assert replay_key("sha256=ab", {"nonce": "n-1"}) == "nonce:n-1"
    assert replay_key("sha256=ab", {"nonce": 7}) == "nonce:7"
    odd: list[dict[str, object]] = [{}, {"nonce": ""}, {"nonce": None}, {"nonce": True}, {"nonce": ["n"]}]
    for fields in odd:
        assert replay_key("sha256=ab", fields) == "signature:sha256=ab"


def test_a_second_call_with_the_same_nonce_is_a_replay_even_signed_again() -> None:
    guard, settings = Remembers(), WebhookSettings(secret=SECRET)
    results = []
    for stamp in (int(NOW.timestamp()), int(NOW.timestamp()) + 1):  # the same call, re-signed a second later
        headers = {
            "content-type": "application/json",
            "x-syndicator-timestamp": str(stamp),
            "x-syndicator-signature": sign(SECRET, stamp, BODY),
        }
        results.append(verify(settings, headers, BODY, now=NOW, guard=guard, feeds={"en"}))
    assert isinstance(results[0], PublishCall) and results[1] == Refusal(409, "replayed request")
