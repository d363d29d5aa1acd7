"""Events are values: what the poller and the dispatcher did, as frozen dataclasses on a tiny in-process bus.

    emit(DeliverySent(delivery=12, target="x_en", ...))      # the producer
    unsubscribe = subscribe(handler)                          # handler(event) for every event emitted
    with captured() as seen: ...                              # tests: the events emitted in the block

Logging is one subscriber (always on): each event becomes exactly the log line it always was — its `name` is the
log event name, its logged fields (`fields()`, in declaration order; optional ones only when set) are the line's
fields. Metrics and alerts are other subscribers: they read the typed attributes (a wait's `kind` is a
`WaitKind`, never a reason to parse), so rewording a message can change a log line but never a metric or an alert.

Many sends, one line: a dry run's deliveries and a fan-out's messages are each still one `DeliverySent` (metrics
and alerts count every one), logged at debug (`batched`); their lane sums them up in one `DeliveriesSent` line
(`delivery.sent_batch`, syndicator/sent_summary.py). A real post has its own `delivery.sent` line, as ever.

A handler may be called from worker threads (`asyncio.to_thread`): it must be quick and thread-safe (put the event
on a queue, move a Prometheus counter). A handler that raises is logged and the others still run.

    Event
    ├── FeedPolled, FeedFailed, ArticleNew, ArticleSkipped, RenderFailed          (polling)
    ├── DeliverySent, DeliveriesSent, DeliveryChanged, DeliveryRetry, DeliveryFailed,
    │   DeliveryUnknown, DeliverySkipped, RateLimitWait, TargetPaused              (dispatch)
    ├── StoreFailed                                                               (any store operation)
    └── AlertSent, AlertFailed                                                    (alerts)
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from syndicator.limits import WaitKind
from syndicator.logs import get_logger

__all__ = [
    "AlertFailed",
    "AlertSent",
    "ArticleNew",
    "ArticleSkipped",
    "DeliveriesSent",
    "DeliveryChanged",
    "DeliveryFailed",
    "DeliveryRetry",
    "DeliverySent",
    "DeliverySkipped",
    "DeliveryUnknown",
    "Event",
    "FeedFailed",
    "FeedPolled",
    "FeedsUnchanged",
    "Handler",
    "RateLimitWait",
    "RenderFailed",
    "StoreFailed",
    "TargetPaused",
    "captured",
    "emit",
    "subscribe",
]

DEBUG, INFO, WARNING, ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR

_OPTIONAL = {"optional": True}  # logged only when not None
_HIDDEN = {"hidden": True}  # never logged (how the line is logged, not what happened)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something the pipeline did. Subclasses set `name` (the log event name) and `level`."""

    name: ClassVar[str] = "event"
    level: ClassVar[int] = INFO
    extra: dict[str, Any] = field(default_factory=dict, metadata=_HIDDEN)  # more log-only fields (hints, ids)

    def log_level(self) -> int:
        return self.level

    def fields(self) -> dict[str, Any]:
        """The log line's fields, in declaration order, then `extra`."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("hidden"):
                continue
            value = getattr(self, f.name)
            if value is None and f.metadata.get("optional"):
                continue
            out[f.name] = value
        out.update(self.extra)
        return out


# ── polling ──────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, kw_only=True)
class FeedPolled(Event):
    name: ClassVar[str] = "feed.polled"
    feed: str
    items: int
    new: int
    updated: int | None = field(default=None, metadata=_OPTIONAL)
    skipped: int | None = field(default=None, metadata=_OPTIONAL)
    rejected: int | None = field(default=None, metadata=_OPTIONAL)
    first_poll: bool | None = field(default=None, metadata=_OPTIONAL)
    not_modified: bool = False
    duration_seconds: float | None = field(default=None, metadata=_OPTIONAL)
    # told in its set poll's FeedsUnchanged line, so its own line is a debug one (a 304 of many)
    batched: bool = field(default=False, metadata=_HIDDEN)

    def log_level(self) -> int:
        return DEBUG if self.batched else INFO


@dataclass(frozen=True, kw_only=True)
class FeedsUnchanged(Event):
    """Many feeds of one set poll answered 304 (`feed.unchanged_batch`): one line for them, each also a
    `FeedPolled` of its own (logged at debug; metrics and health count every one)."""

    name: ClassVar[str] = "feed.unchanged_batch"
    feeds: int
    names: str  # the first NAMES_SHOWN feed names, then "… +N more"
    duration_seconds_max: float | None = field(default=None, metadata=_OPTIONAL)


@dataclass(frozen=True, kw_only=True)
class FeedFailed(Event):
    name: ClassVar[str] = "feed.failed"
    feed: str
    error: str
    reason: str | None = field(
        default=None, metadata=_OPTIONAL
    )  # "store" (then `cause` is a store/faults.py word), "internal"; None: the feed's
    cause: str | None = field(default=None, metadata=_OPTIONAL)
    retry_at: datetime | None = field(default=None, metadata=_OPTIONAL)
    duration_seconds: float | None = field(default=None, metadata=_OPTIONAL)
    severe: bool = field(default=False, metadata=_HIDDEN)  # logged as an error (the poll itself could not run)

    def log_level(self) -> int:
        return ERROR if self.severe else WARNING


@dataclass(frozen=True, kw_only=True)
class ArticleNew(Event):
    name: ClassVar[str] = "article.new"
    feed: str
    article: str
    url: str
    title: str | None = field(default=None, metadata=_OPTIONAL)
    published: datetime | None = field(default=None, metadata=_OPTIONAL)
    via: str | None = field(default=None, metadata=_OPTIONAL)


@dataclass(frozen=True, kw_only=True)
class ArticleSkipped(Event):
    name: ClassVar[str] = "article.skipped"
    feed: str
    article: str
    url: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RenderFailed(Event):
    name: ClassVar[str] = "render.failed"
    level: ClassVar[int] = ERROR
    feed: str
    article: str
    target: str
    error: str


# ── delivery ─────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, kw_only=True)
class DeliverySent(Event):
    """A post reached its platform (`delivery.sent`)."""

    name: ClassVar[str] = "delivery.sent"
    delivery: int
    article: int
    feed: str
    target: str
    platform: str
    attempt: int
    remote_id: str | None
    url: str | None
    recipient: str | None = field(default=None, metadata=_OPTIONAL)
    delay_seconds: float | None = field(default=None, metadata=_OPTIONAL)  # publication → post
    # told in its lane's DeliveriesSent line, so its own line is a debug one (a dry run, a fan-out message)
    batched: bool = field(default=False, metadata=_HIDDEN)

    def log_level(self) -> int:
        return DEBUG if self.batched else INFO


@dataclass(frozen=True, kw_only=True)
class DeliveriesSent(Event):
    """Many sends of one target told in one line (`delivery.sent_batch`): a dry run's deliveries, or a fan-out's
    messages (one per recipient), each of which is also a `DeliverySent` of its own (logged at debug)."""

    name: ClassVar[str] = "delivery.sent_batch"
    target: str
    platform: str
    sent: int
    deliveries: str  # their ids as ranges, "1201-1250,1260"
    articles: str  # the same for their articles
    recipients: int | None = field(default=None, metadata=_OPTIONAL)  # fan-out: distinct recipients reached
    dry_run: bool | None = field(default=None, metadata=_OPTIONAL)
    seconds: float  # from the first send's end to the last one's
    delay_seconds_max: float | None = field(default=None, metadata=_OPTIONAL)  # publication → post, the longest


@dataclass(frozen=True, kw_only=True)
class DeliveryChanged(Event):
    """An edit or a deletion reached its platform (`delivery.edited` / `delivery.retracted`)."""

    parent: int | None
    delivery: int
    article: int
    feed: str
    target: str
    platform: str
    attempt: int
    remote_id: str | None
    url: str | None
    recipient: str | None = field(default=None, metadata=_OPTIONAL)
    deleted: bool = field(default=False, metadata=_HIDDEN)

    @property
    def name(self) -> str:  # type: ignore[override]
        return "delivery.retracted" if self.deleted else "delivery.edited"

    def fields(self) -> dict[str, Any]:
        out = super().fields()
        return {"parent": out.pop("parent"), **out}


@dataclass(frozen=True, kw_only=True)
class _Failure(Event):
    delivery: int
    article: int
    feed: str
    target: str
    attempt: int
    error_class: str  # retry_later | transient | permanent | auth
    error: str
    code: str | None
    retry_at: datetime | None = None
    permanent: bool = False


@dataclass(frozen=True, kw_only=True)
class DeliveryRetry(_Failure):
    name: ClassVar[str] = "delivery.retry"
    level: ClassVar[int] = WARNING


@dataclass(frozen=True, kw_only=True)
class DeliveryFailed(_Failure):
    name: ClassVar[str] = "delivery.failed"
    level: ClassVar[int] = ERROR


@dataclass(frozen=True, kw_only=True)
class DeliveryUnknown(Event):
    """A call that may or may not have reached the platform: a person (or `on_unknown = "retry"`) decides."""

    name: ClassVar[str] = "delivery.unknown"
    level: ClassVar[int] = ERROR
    delivery: int
    target: str
    article: int
    feed: str | None = field(default=None, metadata=_OPTIONAL)
    attempt: int | None = field(default=None, metadata=_OPTIONAL)
    error_class: str | None = field(default=None, metadata=_OPTIONAL)
    error: str | None = field(default=None, metadata=_OPTIONAL)
    code: str | None = field(default=None, metadata=_OPTIONAL)
    auto_retry: bool | None = field(default=None, metadata=_OPTIONAL)
    hint: str | None = field(default=None, metadata=_OPTIONAL)


@dataclass(frozen=True, kw_only=True)
class DeliverySkipped(Event):
    name: ClassVar[str] = "delivery.skipped"
    level: ClassVar[int] = WARNING
    delivery: int
    target: str
    article: int
    reason: str  # a label value: "stale"


@dataclass(frozen=True, kw_only=True)
class RateLimitWait(Event):
    """The target must wait until `until`; `kind` says why (a metric label), `reason` says it to people."""

    name: ClassVar[str] = "ratelimit.wait"
    target: str
    delivery: int | None = field(default=None, metadata=_OPTIONAL)
    until: datetime | None
    reason: str
    kind: WaitKind = field(metadata=_HIDDEN)


@dataclass(frozen=True, kw_only=True)
class TargetPaused(Event):
    name: ClassVar[str] = "target.paused"
    target: str
    reason: str  # "platform" | "authorization" (a label value)
    until: datetime | None = field(default=None, metadata=_OPTIONAL)
    error: str = ""

    def log_level(self) -> int:
        return ERROR if self.reason == "authorization" else WARNING


@dataclass(frozen=True, kw_only=True)
class StoreFailed(Event):
    """The store refused an operation; `cause` is a store/faults.py word."""

    name: ClassVar[str] = "store.failed"
    level: ClassVar[int] = ERROR
    operation: str  # poll | claim | deliver | renew | health | …
    cause: str
    error: str
    delivery: int | None = field(default=None, metadata=_OPTIONAL)
    article: int | str | None = field(default=None, metadata=_OPTIONAL)
    feed: str | None = field(default=None, metadata=_OPTIONAL)
    target: str | None = field(default=None, metadata=_OPTIONAL)


# ── alerts ───────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, kw_only=True)
class AlertSent(Event):
    name: ClassVar[str] = "alert.sent"
    channel: str
    condition: str
    resolved: bool


@dataclass(frozen=True, kw_only=True)
class AlertFailed(Event):
    name: ClassVar[str] = "alert.failed"
    level: ClassVar[int] = ERROR
    channel: str
    condition: str
    resolved: bool
    error: str


# ── the bus ──────────────────────────────────────────────────────────────────────────────────────────────────

Handler = Callable[[Event], None]
_handlers: list[Handler] = []
_lock = threading.Lock()
_log = get_logger("syndicator.events")


def subscribe(handler: Handler) -> Callable[[], None]:
    """Call `handler(event)` for every event from now on. Returns the unsubscribe (idempotent)."""
    with _lock:
        _handlers.append(handler)

    def unsubscribe() -> None:
        with _lock:
            if handler in _handlers:
                _handlers.remove(handler)

    return unsubscribe


def subscribers() -> int:
    with _lock:
        return len(_handlers)


def emit(event: Event) -> None:
    """Log the event, then hand it to every subscriber. Never raises for a subscriber's bug."""
    level = event.log_level()
    if _log.wants(level):  # a debug line nobody reads costs nothing but this test
        _log.log(level, event.name, event.fields())
    with _lock:
        handlers = list(_handlers)
    for handler in handlers:
        try:
            handler(event)
        except Exception:  # a subscriber's bug must never break the pipeline
            logging.getLogger("syndicator.events").exception("event handler failed on %s", event.name)


@contextlib.contextmanager
def captured() -> Iterator[list[Event]]:
    """The events emitted while the block runs (tests: like structlog's `capture_logs`)."""
    seen: list[Event] = []
    undo = subscribe(seen.append)
    try:
        yield seen
    finally:
        undo()
