"""The publish webhook's signature check never crashes on what a caller puts in its headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from syndicator.config import WebhookSettings
from syndicator.sources.webhook import PublishCall, Refusal, ReplayGuard, sign, verify

SECRET = "webhook-secret-TEST-not-real-0123456789"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = json.dumps({"feed": "en", "url": "https://example.org/a/", "nonce": "1"}).encode()


def check(signature: str, body: bytes = BODY) -> PublishCall | Refusal:
    stamp = int(NOW.timestamp())
    headers = {
        "content-type": "application/json",
        "x-syndicator-timestamp": str(stamp),
        "x-syndicator-signature": signature,
    }
    settings = WebhookSettings(secret=SECRET)
    return verify(settings, headers, body, now=NOW, guard=ReplayGuard(), feeds={"en"})


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
