"""The alert state machine: typed events, store snapshots and credential checks in; messages to send out.

Pure and synchronous: one task of the service feeds it. It reads events' attributes (`RateLimitWait.kind`, a
`WaitKind`), never a log line or a reason's wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from syndicator import events as ev
from syndicator.article import Identity
from syndicator.clock import Clock
from syndicator.errors import AuthError, PublishError
from syndicator.gaps import FeedGap
from syndicator.limits import WaitKind
from syndicator.logs import get_logger
from syndicator.schema import format_duration

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

log = get_logger("syndicator.alerts")
LIMIT_KINDS = frozenset({WaitKind.QUOTA, WaitKind.COST_CAP})  # waits that raise limit:T


@dataclass(frozen=True)
class Alert:
    """One message: a condition starting (`resolved` False) or ending."""

    condition: str  # "auth:x_en"
    kind: str  # auth | unknown | failed | limit | feed | gap | expiry
    subject: str  # the target or feed
    resolved: bool
    title: str
    text: str
    at: datetime

    @property
    def state(self) -> str:
        return "resolved" if self.resolved else "firing"

    def message(self) -> str:
        head = f"{'✅ RESOLVED' if self.resolved else '🔴 ALERT'}: {self.title}"
        return f"{head}\n\n{self.text}"

    def document(self) -> dict[str, Any]:
        return {
            "status": self.state,
            "condition": self.condition,
            "kind": self.kind,
            "subject": self.subject,
            "title": self.title,
            "text": self.text,
            "at": _iso(self.at),
        }


@dataclass(frozen=True)
class StoreSnapshot:
    """What the store says, read in a thread. `started` (monotonic) orders it against events."""

    started: float
    now: datetime
    auth_failed: dict[str, str]  # target → pause reason
    unknown: dict[str, int]  # target → deliveries in state unknown
    feeds: dict[str, tuple[datetime | None, str | None]]  # feed → (failing_since, last error)
    gaps: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # feed → (detected_at, reason): open gaps


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _ago(delta: timedelta) -> str:
    return format_duration(max(delta, timedelta(0)))


class Conditions:
    """The alert state machine: pure, synchronous, fed by one task. Returns the messages to send."""

    def __init__(
        self,
        *,
        targets: Mapping[str, TargetSettings],
        feeds: Iterable[str],
        feed_failing_after: timedelta,
        expiry_window: timedelta | None,
        clock: Clock,
    ) -> None:
        self.targets = targets
        self.feeds = set(feeds)
        self.feed_failing_after = feed_failing_after
        self.expiry_window = expiry_window
        self.clock = clock
        self.active: dict[str, datetime] = {}  # condition → since
        self._auth: dict[str, set[str]] = {}  # target → what says its credentials fail: "store", "check"
        self._marks: dict[str, float] = {}  # condition → monotonic time an event last decided it

    # -- transitions ------------------------------------------------------------------------------------------

    def _raise(self, key: str, subject: str, title: str, text: str, *, adopt: bool = False) -> list[Alert]:
        if key in self.active:
            return []
        now = self.clock()
        self.active[key] = now
        if adopt:
            log.warning("alert.adopted", condition=key, title=title)
            return []
        alert = Alert(key, key.split(":", 1)[0], subject, False, title, text, now)
        log.warning("alert.raised", condition=key, subject=subject, title=title, text=text)
        return [alert]

    def _clear(self, key: str, subject: str, title: str, text: str) -> list[Alert]:
        since = self.active.pop(key, None)
        if since is None:
            return []
        now = self.clock()
        text = f"{text} (after {_ago(now - since)})"
        log.info("alert.resolved", condition=key, subject=subject, title=title, text=text)
        return [Alert(key, key.split(":", 1)[0], subject, True, title, text, now)]

    def _platform(self, target: str) -> str:
        return self.targets[target].platform

    def _auth_raise(self, target: str, source: str, text: str, *, title: str, adopt: bool = False) -> list[Alert]:
        sources = self._auth.setdefault(target, set())
        sources.add(source)
        return self._raise(f"auth:{target}", target, title, text, adopt=adopt)

    def _auth_drop(self, target: str, sources: Iterable[str], text: str) -> list[Alert]:
        held = self._auth.setdefault(target, set())
        held.difference_update(sources)
        if held:
            return []
        return self._clear(f"auth:{target}", target, f"{target}: authorization works again", text)

    # -- inputs -----------------------------------------------------------------------------------------------

    def on_event(self, event: ev.Event, received: float) -> list[Alert]:
        if isinstance(event, ev.FeedPolled):
            feed = event.feed
            if feed not in self.feeds:
                return []
            self._marks[f"feed:{feed}"] = received
            return self._clear(
                f"feed:{feed}", feed, f"feed {feed}: polled successfully again", "The feed is read again."
            )
        if isinstance(event, FeedGap) and event.feed in self.feeds:
            key, feed = f"gap:{event.feed}", event.feed
            self._marks[key] = received
            if event.closed:
                return self._clear(key, feed, f"feed {feed}: no gap now", "The feed meets articles it knows again.")
            return self._raise(
                key,
                feed,
                f"feed {feed}: articles may have been missed",
                f"A poll of {feed} found only new items and paging back could not reach a known one "
                f"({event.reason}); {event.found} older item(s) were found. Articles published in between may "
                "not be posted: check the site's posts of that time against `syndicator history`.",
            )
        target = getattr(event, "target", None)
        if not isinstance(target, str) or target not in self.targets:
            return []
        platform = self._platform(target)
        if isinstance(event, ev.TargetPaused) and event.reason == "authorization":
            self._marks[f"auth:{target}"] = received
            return self._auth_raise(
                target,
                "store",
                f"{platform} rejected the credentials of {target}: {event.error or 'authorization failed'}. "
                f"Deliveries to {target} wait. Fix the credentials, then run `syndicator check` to resume.",
                title=f"{target}: authorization failed, posting paused",
            )
        if isinstance(event, ev.DeliverySent):
            for kind in ("auth", "failed", "limit"):
                self._marks[f"{kind}:{target}"] = received
            posted = f"A post went out to {target}."
            out = self._auth_drop(target, ("store", "check"), posted)
            out += self._clear(f"failed:{target}", target, f"{target}: deliveries are going out again", posted)
            out += self._clear(f"limit:{target}", target, f"{target}: posting again after the limit", posted)
            return out
        if isinstance(event, ev.DeliveryFailed):
            if event.error_class == "auth":
                return []  # auth:T says it, with what to do
            attempts = event.attempt
            return self._raise(
                f"failed:{target}",
                target,
                f"{target}: a delivery failed",
                f"Delivery {event.delivery} (article {event.article}) to {target} failed"
                + (f" after {attempts} attempt(s)" if attempts else "")
                + f" [{event.error_class or 'error'}]: {event.error or 'no detail'}. "
                f"`syndicator history --target {target} --state failed` lists failed deliveries; "
                f"`syndicator resend ARTICLE --target {target}` queues one again.",
            )
        if isinstance(event, ev.DeliveryUnknown):
            self._marks[f"unknown:{target}"] = received
            article = event.article
            return self._raise(
                f"unknown:{target}",
                target,
                f"{target}: a delivery's outcome is unknown",
                f"Delivery {event.delivery} (article {article}) to {target} may or may not be on {platform}"
                + (f": {event.error}" if event.error else " (the worker stopped during the call)")
                + f". Look on {platform}; if the post is missing, run "
                f"`syndicator resend {article} --target {target} --yes`.",
            )
        if isinstance(event, ev.RateLimitWait):
            if event.kind not in LIMIT_KINDS:
                return []
            until = event.until
            return self._raise(
                f"limit:{target}",
                target,
                f"{target}: {event.reason}",
                f"Posting to {target} waits"
                + (f" until {_when(until)}" if isinstance(until, datetime) else "")
                + ". Nothing is lost: queued deliveries go out when the limit allows.",
            )
        return []

    def on_store(self, snap: StoreSnapshot, *, adopt: bool) -> list[Alert]:
        out: list[Alert] = []

        def fresh(key: str) -> bool:  # an event decided this condition after the snapshot was taken
            return self._marks.get(key, float("-inf")) < snap.started

        for target in self.targets:
            platform = self._platform(target)
            if fresh(f"auth:{target}"):
                if target in snap.auth_failed:
                    out += self._auth_raise(
                        target,
                        "store",
                        f"Target {target} ({platform}) is paused for authorization: "
                        f"{snap.auth_failed[target] or 'authorization failed'}. "
                        "Fix the credentials, then run `syndicator check` to resume.",
                        title=f"{target}: authorization failed, posting paused",
                        adopt=adopt,
                    )
                else:
                    out += self._auth_drop(target, ("store",), "The authorization pause was lifted.")
            key = f"unknown:{target}"
            if fresh(key):
                count = snap.unknown.get(target, 0)
                if count:
                    out += self._raise(
                        key,
                        target,
                        f"{target}: a delivery's outcome is unknown",
                        f"{count} deliveries to {target} are in state unknown: they may or may not be on {platform}. "
                        f"`syndicator history --target {target} --state unknown` lists them.",
                        adopt=adopt,
                    )
                else:
                    out += self._clear(
                        key, target, f"{target}: no delivery in an unknown state", "Every unknown delivery is settled."
                    )
        for feed, (since, error) in snap.feeds.items():
            key = f"feed:{feed}"
            if feed not in self.feeds or not fresh(key):
                continue
            if since is None:
                out += self._clear(key, feed, f"feed {feed}: polled successfully again", "The feed is read again.")
            elif snap.now - since >= self.feed_failing_after:
                out += self._raise(
                    key,
                    feed,
                    f"feed {feed}: failing for {_ago(snap.now - since)}",
                    f"Polls of feed {feed} have failed since {_when(since)}: {error or 'no detail'}. "
                    "New articles of this feed are not picked up until it is read again.",
                    adopt=adopt,
                )
        for feed in sorted(self.feeds):
            # the store's open gaps (feed_gaps): a gap seen before a restart still alerts, and clears when a poll
            # closes it (it meets known items again) on whichever worker
            key = f"gap:{feed}"
            if not fresh(key):
                continue
            if feed in snap.gaps:
                detected, reason = snap.gaps[feed]
                out += self._raise(
                    key,
                    feed,
                    f"feed {feed}: articles may have been missed",
                    f"Since {_when(detected)} a poll of {feed} found only new items and paging back could not reach "
                    f"a known one ({reason}). Articles published in between may not be posted: check the site's "
                    "posts of that time against `syndicator history`.",
                    adopt=adopt,
                )
            else:
                out += self._clear(key, feed, f"feed {feed}: no gap now", "The feed meets articles it knows again.")
        return out

    def on_check(self, target: str, result: Identity | PublishError, now: datetime) -> list[Alert]:
        if target not in self.targets:
            return []
        platform = self._platform(target)
        if isinstance(result, AuthError):
            return self._auth_raise(
                target,
                "check",
                f"The credential check of {target} ({platform}) failed: {result}. Posting will fail until the "
                "credentials are fixed; then run `syndicator check`.",
                title=f"{target}: credential check failed",
            )
        if not isinstance(result, Identity):
            return []  # transient trouble proves nothing either way
        out = self._auth_drop(target, ("check",), "The credential check passes again.")
        key = f"expiry:{target}"
        expires = result.expires_at
        if self.expiry_window is not None and expires is not None and expires - now <= self.expiry_window:
            left = expires - now
            when = f"in {left.total_seconds() / 86400:.1f} days" if left > timedelta(0) else "already"
            out += self._raise(
                key,
                target,
                f"{target}: access token expires {_when(expires)}",
                f"The {platform} token of {target} expires at {_when(expires)} ({when}). Renew it and update its "
                "environment variable before then, or posting stops.",
            )
        else:
            renewed = f"expires {_when(expires)}" if expires else "does not expire"
            out += self._clear(key, target, f"{target}: access token renewed", f"The token now {renewed}.")
        return out
