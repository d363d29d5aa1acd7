"""WebSub (W3C) subscriber: ask a feed's hub to notify us, answer its verification, check its signatures.

The notification body is not trusted as content: a valid notification only tells the worker to poll that feed
now, exactly like the publish webhook, so what is posted always comes through the normal pipeline.

Anyone can call our callback, so each subscription request carries a fresh random token in its callback URL
(only the hub we asked learns it). A verification counts only with that token, for the topic we asked, while
we wait for one (a first request or a renewal), and never for a longer lease than we asked; otherwise a
stranger could mark a subscription active for decades and slow the feed's polling down to the safety net.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from syndicator.errors import FeedError
from syndicator.outbound import MAX_ANSWER_BYTES, OutboundError, OutboundGuard
from syndicator.sources.fetch import USER_AGENT
from syndicator.store.feeds import Subscription

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def request_subscription(
    *,
    hub: str,
    topic: str,
    callback: str,
    secret: str,
    lease: timedelta,
    timeout: float = 15.0,
    outbound: OutboundGuard | None = None,
) -> None:
    """Ask the hub; it answers 202 and then verifies our intent by calling `callback`. The hub's URL comes from
    the feed, so the request goes through the outbound guard (public addresses or `[outbound] allow` only)."""
    data = {
        "hub.mode": "subscribe",
        "hub.topic": topic,
        "hub.callback": callback,
        "hub.secret": secret,
        "hub.lease_seconds": str(int(lease.total_seconds())),
    }
    guard = outbound or OutboundGuard()
    try:
        response = guard.fetch(
            hub,
            method="POST",
            body=urlencode(data).encode(),
            headers={"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"},
            timeout=timeout,
            max_bytes=MAX_ANSWER_BYTES,
            purpose="websub hub",
        )
    except OutboundError as exc:
        # the message names the hub's host at most: never the body, which holds hub.secret
        if exc.reason == "refused":
            raise FeedError(f"hub not allowed: {exc}", reason="refused") from None
        raise FeedError(f"hub unreachable: {exc}", reason="unreachable") from None
    if response.status not in (202, 204):
        raise FeedError(f"hub refused the subscription: HTTP {response.status}", reason="hub_refused")


@dataclass(frozen=True)
class IntentAnswer:
    status: int
    body: str
    expires_at: datetime | None = None  # set when a subscription was confirmed
    denied: bool = False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def callback_url(public_url: str, feed: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/hooks/websub?feed={quote(feed, safe='')}&token={token}"


def token_ok(sub: Subscription | None, given: str) -> bool:
    """The callback's token is the stored one (constant time). A subscription made before tokens has none: no
    call proves it is the hub's, so none passes here."""
    if sub is None or not sub.token or not given:
        return False
    # bytes: compare_digest raises TypeError on a str with non-ASCII characters
    return hmac.compare_digest(sub.token.encode(), given.encode("utf-8", "surrogateescape"))


def answer_intent(
    sub: Subscription | None, params: dict[str, str], *, token: str, now: datetime, max_lease: timedelta
) -> IntentAnswer:
    """The hub's GET to our callback: echo the challenge only for the request we are waiting for."""
    mode = params.get("hub.mode", "")
    if sub is None or not token_ok(sub, token):
        return IntentAnswer(404, "unknown subscription")  # the same answer: a guess learns nothing
    if params.get("hub.topic") != sub.topic:  # a denial too: only for the topic we asked for
        return IntentAnswer(404, "topic mismatch")
    if mode == "denied":
        return IntentAnswer(200, "", denied=True)
    challenge = params.get("hub.challenge", "")
    if not challenge:
        return IntentAnswer(400, "missing hub.challenge")
    if mode == "subscribe" and sub.pending:
        return IntentAnswer(200, challenge, expires_at=now + granted_lease(params, max_lease))
    return IntentAnswer(404, "not expecting this")  # we never ask to unsubscribe: refuse forged unsubscriptions


def granted_lease(params: dict[str, str], asked: timedelta) -> timedelta:
    """The hub's lease, never longer than the one we asked for; a verification without a usable lease (the spec
    requires one) is taken as granting ours, so the renewal is still scheduled."""
    raw = params.get("hub.lease_seconds", "")
    seconds = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else 0
    return min(timedelta(seconds=seconds), asked) if seconds > 0 else asked


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
