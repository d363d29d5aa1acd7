"""The signed publish webhook: who may call it, and what the call says. Pure: no I/O, an injected clock.

Signature: `X-Syndicator-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}." + body)>` with
`X-Syndicator-Timestamp: <unix seconds>`. Timestamps further than `max_skew` from now are refused, and a
call already seen (its `nonce` when the body has one, else its signature) is refused too, so a captured request
cannot be replayed. What "already seen" means is the guard's business: the worker's lives in the store, so it
holds across workers and restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import parse_qs

from syndicator.config import WebhookSettings
from syndicator.editorial import Choices, from_meta

TIMESTAMP_HEADER = "x-syndicator-timestamp"
SIGNATURE_HEADER = "x-syndicator-signature"


@dataclass(frozen=True)
class PublishCall:
    feed: str
    url: str | None
    post_id: int | None
    status: str | None  # WordPress post status after the transition ("publish", "trash", "draft", ...)
    choices: Choices | None = None  # the plugin's post meta (`meta`), when the call carries it


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class ReplayGuard(Protocol):
    """Remembers calls for twice the freshness window; False when `key` was seen within it (a replay)."""

    def first_time(self, key: str, *, now: datetime, window: timedelta) -> bool: ...


def replay_key(signature: str, fields: dict[str, object]) -> str:
    """The nonce when the sender gives one (a call re-signed with a new timestamp is still the same call), else
    the signature, which covers timestamp and body."""
    nonce = fields.get("nonce")
    if isinstance(nonce, str | int) and not isinstance(nonce, bool) and str(nonce):
        return f"nonce:{nonce}"
    return f"signature:{signature}"


def verify(
    settings: WebhookSettings,
    headers: dict[str, str],
    body: bytes,
    *,
    now: datetime,
    guard: ReplayGuard,
    feeds: set[str],
) -> PublishCall | Refusal:
    """Check a request to /hooks/publish; headers are lower-cased."""
    if len(body) > settings.max_body:
        return Refusal(413, f"body larger than {settings.max_body} bytes")
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/json", "application/x-www-form-urlencoded"):
        return Refusal(415, "send application/json or application/x-www-form-urlencoded")
    stamp, signature = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not stamp or not signature:
        return Refusal(401, f"unsigned: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    try:
        timestamp = int(stamp)
    except ValueError:
        return Refusal(401, "bad timestamp")
    if abs(now.timestamp() - timestamp) > settings.max_skew.total_seconds():
        return Refusal(401, "stale timestamp")
    # bytes: compare_digest refuses str with non-ASCII characters (TypeError), and a header may carry any
    given = signature.strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(sign(settings.secret, timestamp, body).encode(), given):
        return Refusal(401, "bad signature")
    fields = _fields(ctype, body)
    if isinstance(fields, Refusal):
        return fields
    # recorded before the checks that read the configuration: a call refused for a feed not configured yet
    # cannot be replayed once it is
    if not guard.first_time(replay_key(signature.strip(), fields), now=now, window=settings.max_skew):
        return Refusal(409, "replayed request")
    feed = str(fields.get("feed") or "")
    if not feed:
        return Refusal(400, "'feed' is required")
    if feed not in feeds:
        return Refusal(404, f"unknown feed {feed!r}")
    url = str(fields.get("url") or "") or None
    raw_id = fields.get("post_id", fields.get("id"))
    post_id = None
    if raw_id not in (None, ""):
        try:
            post_id = int(str(raw_id))
        except ValueError:
            return Refusal(400, "'post_id' must be a number")
        if post_id <= 0:
            return Refusal(400, "'post_id' must be positive")
    if url is not None and not url.startswith(("http://", "https://")):
        return Refusal(400, "'url' must be an http(s) URL")
    if url is None and post_id is None:
        return Refusal(400, "give the article's 'url' or its WordPress 'post_id'")
    status = str(fields.get("status") or "") or None
    meta = fields.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return Refusal(400, "'meta' must be an object")
    return PublishCall(feed, url, post_id, status, from_meta(meta))


def _fields(ctype: str, body: bytes) -> dict[str, object] | Refusal:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    if ctype == "application/json":
        try:
            data = json.loads(text or "null")
        except ValueError:
            return Refusal(400, "body is not valid JSON")
        if not isinstance(data, dict):
            return Refusal(400, "body must be a JSON object")
        return data
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
