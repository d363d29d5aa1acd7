"""The values that flow through the pipeline: Article → Post → Receipt, and the delivery states."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Article:
    """One feed entry, normalised. Times are timezone-aware UTC; text fields are plain text except `content_html`."""

    id: str  # stable: WordPress post id / guid, else the canonical URL
    feed: str
    url: str  # canonical: tracking parameters and fragment removed
    title: str
    summary: str = ""
    content_html: str = ""
    categories: tuple[str, ...] = ()
    language: str = ""
    author: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    image_url: str | None = None
    image_alt: str = ""  # the image's alt text (WordPress media `alt_text`), for platforms that take it
    # set per target at render time only (syndicator/editorial.py): the newsroom's own text for this platform,
    # in place of the template's title and summary
    social_text: str = ""

    def fingerprint(self) -> str:
        """Changes when anything a post is made of changes; used to tell an edit from a new article."""
        parts = [self.url, self.title, self.summary, self.image_url or "", "\x1f".join(self.categories)]
        return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()[:32]

    def with_feed(self, feed: str, language: str | None = None) -> Article:
        return replace(self, feed=feed, language=language or self.language)


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Post:
    """What one target will publish, rendered and measured; the only input a publisher gets.

    `text` is final: already escaped for `parse_mode` (e.g. "HTML"), or plain text. `length` is measured by the
    platform's own rule (its spec's `measure`: a weighted length, UTF-16 units after entity parsing, ...) and is
    <= `limit`.
    """

    platform: str
    text: str
    length: int
    limit: int
    link: str | None = None  # the article URL (with UTM) the post points to
    image_url: str | None = None  # attach as photo/media when set
    parse_mode: str | None = None
    buttons: tuple[Button, ...] = ()
    recipient: str = ""  # a fan-out platform: one recipient (e.g. a phone number) per delivery
    extra: Mapping[str, Any] = field(default_factory=dict)  # platform specifics, e.g. message template params

    def to_json(self) -> str:
        data = asdict(self)
        data["extra"] = dict(self.extra)
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Post:
        data = json.loads(raw)
        data["buttons"] = tuple(Button(**b) for b in data.get("buttons", ()))
        return cls(**data)


@dataclass(frozen=True, slots=True)
class RateInfo:
    """What a platform told us about its limits in a response; the governor turns it into pauses."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None  # when `remaining` refills
    usage_percent: float | None = None  # Meta usage headers: the highest of the reported percentages
    pause_until: datetime | None = None  # the platform explicitly asked us to stop until then


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of a post: enough to find, edit or delete it later."""

    remote_id: str
    url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. chat id, media type
    rate: RateInfo | None = None

    def to_json(self) -> str:
        return json.dumps(
            {"remote_id": self.remote_id, "url": self.url, "extra": dict(self.extra)},
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, raw: str) -> Receipt:
        data = json.loads(raw)
        return cls(remote_id=data["remote_id"], url=data.get("url"), extra=data.get("extra") or {})


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a target posts as, from the platform's cheapest credential call."""

    name: str
    id: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)  # scopes, token expiry, ...
    expires_at: datetime | None = None


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its time (governor, not_before)
    SENDING = "sending"  # committed just before the platform call, under a lease
    RETRY = "retry"  # a retryable failure; due again at not_before
    SENT = "sent"
    FAILED = "failed"  # permanent/auth error or retries exhausted
    UNKNOWN = "unknown"  # the process died during the call: maybe posted, never silently re-sent
    HELD = "held"  # an editor stopped it (or the article was withdrawn before posting)
    RETRACTED = "retracted"  # posted, then deleted on the platform


class DeliveryKind(enum.StrEnum):
    """What a delivery does on the platform (`deliveries.kind`)."""

    POST = "post"  # the article, first time
    EDIT = "edit"  # a correction of a sent post (parent_id: the post)
    DELETE = "delete"  # a withdrawal: the sent post is deleted (parent_id: the post)
