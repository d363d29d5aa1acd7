"""WebSub (W3C) subscriber: ask a feed's hub to notify us, answer its verification, check its signatures.

The notification body is not trusted as content: a valid notification only tells the worker to poll that feed
now, exactly like the publish webhook, so what is posted always comes through the normal pipeline.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests

from syndicator.errors import FeedError
from syndicator.sources.fetch import USER_AGENT
from syndicator.store.feeds import Subscription

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def request_subscription(
    *, hub: str, topic: str, callback: str, secret: str, lease: timedelta, timeout: float = 15.0
) -> None:
    """Ask the hub; it answers 202 and then verifies our intent by calling `callback`."""
    data = {
        "hub.mode": "subscribe",
        "hub.topic": topic,
        "hub.callback": callback,
        "hub.secret": secret,
        "hub.lease_seconds": str(int(lease.total_seconds())),
    }
    try:
        response = requests.post(hub, data=data, timeout=timeout, headers={"User-Agent": USER_AGENT})
    except requests.RequestException as exc:
        raise FeedError(f"hub unreachable: {exc.__class__.__name__}", reason="unreachable") from None
    if response.status_code not in (202, 204):
        raise FeedError(f"hub refused the subscription: HTTP {response.status_code}", reason="hub_refused")


@dataclass(frozen=True)
class IntentAnswer:
    status: int
    body: str
    expires_at: datetime | None = None  # set when a subscription was confirmed
    denied: bool = False


def answer_intent(sub: Subscription | None, params: dict[str, str], *, now: datetime) -> IntentAnswer:
    """The hub's GET to our callback: echo the challenge only for a subscription we asked for."""
    mode = params.get("hub.mode", "")
    if sub is None:
        return IntentAnswer(404, "unknown subscription")
    if params.get("hub.topic") != sub.topic:  # a denial too: only for the topic we asked for
        return IntentAnswer(404, "topic mismatch")
    if mode == "denied":
        return IntentAnswer(200, "", denied=True)
    challenge = params.get("hub.challenge", "")
    if not challenge:
        return IntentAnswer(400, "missing hub.challenge")
    if mode == "subscribe" and sub.state in ("requested", "active"):
        try:
            lease = int(params.get("hub.lease_seconds", "0"))
        except ValueError:
            lease = 0
        expires = now + timedelta(seconds=lease) if lease > 0 else None
        return IntentAnswer(200, challenge, expires_at=expires)
    return IntentAnswer(404, "not expecting this")  # we never ask to unsubscribe: refuse forged unsubscriptions


def signature_ok(secret: str | None, header: str, body: bytes) -> bool:
    """`X-Hub-Signature: sha256=<hex>` over the raw body with the secret we gave the hub."""
    if not secret or "=" not in header:
        return False
    method, _, given = header.partition("=")
    algorithm = _ALGORITHMS.get(method.strip().lower())
    if algorithm is None:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest().encode()
    # bytes: compare_digest raises TypeError on a str with non-ASCII characters
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "surrogateescape"))
