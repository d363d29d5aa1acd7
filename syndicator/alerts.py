"""Alerts: tell a human when one is needed, once per condition, and once more when it is over.

Conditions, what raises them and what clears them (T a target, F a feed):

    auth:T     `target.paused` for authorization, the store's auth flag, or the daily credential check failing with
               an AuthError  →  the flag lifted (`syndicator check`) and the check passing, or a post sent to T
    unknown:T  `delivery.unknown`  →  no delivery of T left in state unknown (`resend --yes`, or resolved by hand)
    failed:T   `delivery.failed` (other than authorization, which auth:T covers)  →  a post sent to T
    limit:T    `ratelimit.wait` for a quota or a cost cap  →  a post sent to T
    feed:F     the feed failing for longer than `feed_failing_after` (the store's `failing_since`)  →  a good poll
    expiry:T   the daily credential check: the token expires within `token_expiry_days`  →  a later check that
               shows a renewed token

Alerting never blocks the pipeline: an events subscriber (`syndicator.events`) only puts events on a queue (it
may be called from worker threads); one task applies them to the condition state, one sends the messages, each
channel in a thread with a timeout (`asyncio.timeout`, not `wait_for`, which on Python 3.11 can swallow the
cancellation that stops the worker). A message that cannot be sent is logged as `alert.failed`, never raised.
Secrets (the bot token, the SMTP password, the webhook URL) go to the log redactor and are never part of a log line.

State lives in memory. It is rebuilt from the store at start: conditions the store shows (an auth pause, deliveries
in state unknown, a feed failing for long) are *adopted* silently — the previous process already announced them —
and still get their recovery message. Conditions seen only in events (failed deliveries, quota and cost caps) start
afresh after a restart: they are announced again only if they happen again. The credential check runs at start and
then daily, so a token that still expires soon is announced once more after a restart. Run alerts on one worker
only when several share a database: each worker alerts on what it sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests

from syndicator import events as ev
from syndicator.article import Identity
from syndicator.errors import AuthError, ConfigError, PublishError
from syndicator.limits import WaitKind
from syndicator.logs import get_logger, redactor
from syndicator.schema import build, format_duration

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.config import Config, TargetSettings
    from syndicator.worker import Worker

log = get_logger("syndicator.alerts")

TELEGRAM_API = "https://api.telegram.org"
WATCHED: tuple[type[ev.Event], ...] = (
    ev.TargetPaused,
    ev.DeliverySent,
    ev.DeliveryFailed,
    ev.DeliveryUnknown,
    ev.RateLimitWait,
    ev.FeedPolled,
)
LIMIT_KINDS = frozenset({WaitKind.QUOTA, WaitKind.COST_CAP})  # waits that raise limit:T
SHUTDOWN_WAIT = 5.0
Clock = Callable[[], datetime]
Service = Callable[["Worker"], Coroutine[Any, Any, None]]


# ── configuration ────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class AlertSettings:
    """The `[alerts]` table. Every channel is optional; with none, alerts are only log lines."""

    telegram_chat: str = ""  # @channel or numeric chat id the alert bot writes to
    telegram_token_env: str = ""  # environment variable holding the alert bot's token
    telegram_api_base: str = ""  # default https://api.telegram.org (a local Bot API server, a proxy, a test double)
    webhook_url: str = ""  # POSTed a JSON document per alert
    webhook_url_env: str = ""  # or: the environment variable holding the URL (when the URL carries a secret)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_from: str = ""
    smtp_to: list[str] | str = field(default_factory=list)  # one address or a list
    smtp_user_env: str = ""
    smtp_password_env: str = ""
    smtp_starttls: bool = True  # upgrade the connection with STARTTLS (port 587)
    smtp_ssl: bool = False  # TLS from the first byte (port 465); smtp_starttls does not apply then
    timeout: timedelta = timedelta(seconds=10)  # per message and channel
    feed_failing_after: timedelta = timedelta(minutes=30)
    token_expiry_days: int = 7  # 0: no token expiry alerts

    @property
    def recipients(self) -> list[str]:
        return [self.smtp_to] if isinstance(self.smtp_to, str) else list(self.smtp_to)


@dataclass(frozen=True)
class AlertConfig:
    """Validated settings plus the secrets resolved from the environment (never in a repr)."""

    settings: AlertSettings
    telegram_token: str = field(default="", repr=False)
    webhook_url: str = field(default="", repr=False)
    smtp_user: str = field(default="", repr=False)
    smtp_password: str = field(default="", repr=False)

    def channels(self) -> list[Channel]:
        s = self.settings
        timeout = s.timeout.total_seconds()
        out: list[Channel] = []
        if s.telegram_chat:
            out.append(
                TelegramChannel(s.telegram_api_base or TELEGRAM_API, self.telegram_token, s.telegram_chat, timeout)
            )
        if self.webhook_url:
            out.append(WebhookChannel(self.webhook_url, timeout))
        if s.smtp_host:
            out.append(
                SmtpChannel(
                    host=s.smtp_host,
                    port=s.smtp_port,
                    sender=s.smtp_from,
                    recipients=s.recipients,
                    user=self.smtp_user,
                    password=self.smtp_password,
                    starttls=s.smtp_starttls,
                    use_ssl=s.smtp_ssl,
                    timeout=timeout,
                )
            )
        return out


def load_settings(config: Config, environ: Mapping[str, str] | None = None) -> AlertConfig | None:
    """Validate `[alerts]` (None when the section is absent). Every mistake is a ConfigError naming the key."""
    raw = config.extra.get("alerts")
    if raw is None:
        return None
    env = os.environ if environ is None else environ
    source = config.source
    s = build(AlertSettings, raw, source=source, where="alerts")

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, source=source, key=f"alerts.{key}")

    def secret(key: str, holds: str) -> str:
        var = getattr(s, key)
        value = env.get(var, "") if var else ""
        if var and not value:
            raise fail(key, f"environment variable {var} is not set (it holds {holds})")
        return value

    if bool(s.telegram_chat) != bool(s.telegram_token_env):
        missing = "telegram_token_env" if s.telegram_chat else "telegram_chat"
        raise fail(missing, "telegram alerts need both telegram_chat and telegram_token_env")
    if s.telegram_api_base and not s.telegram_chat:
        raise fail("telegram_api_base", "set telegram_chat and telegram_token_env too, or remove this key")
    for key in ("telegram_api_base", "webhook_url"):
        value = getattr(s, key)
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise fail(key, "must be an http(s) URL")
    if s.webhook_url and s.webhook_url_env:
        raise fail("webhook_url_env", "set webhook_url or webhook_url_env, not both")
    smtp_keys = ("smtp_from", "smtp_to", "smtp_user_env", "smtp_password_env")
    if not s.smtp_host:
        for key in smtp_keys:
            if getattr(s, key):
                raise fail("smtp_host", f"missing: {key} is set, so mail alerts need an SMTP server")
    else:
        if not s.smtp_from:
            raise fail("smtp_from", "missing: the sender address of alert mails")
        if not s.recipients or any("@" not in r for r in s.recipients):
            raise fail("smtp_to", "one address or a list of addresses is required")
        if "@" not in s.smtp_from:
            raise fail("smtp_from", f"not an email address: {s.smtp_from!r}")
        if bool(s.smtp_user_env) != bool(s.smtp_password_env):
            raise fail("smtp_password_env" if s.smtp_user_env else "smtp_user_env", "set both, or neither")
        if not 0 < s.smtp_port < 65536:
            raise fail("smtp_port", "must be a TCP port (1-65535)")
    if s.feed_failing_after <= timedelta(0):
        raise fail("feed_failing_after", "must be positive")
    if s.token_expiry_days < 0:
        raise fail("token_expiry_days", "must be 0 (off) or more")
    if s.timeout <= timedelta(0):
        raise fail("timeout", "must be positive")

    token = secret("telegram_token_env", "the alert bot's token")
    password = secret("smtp_password_env", "the SMTP password")
    user = secret("smtp_user_env", "the SMTP user name")
    webhook = s.webhook_url or secret("webhook_url_env", "the alert webhook URL")
    if webhook and not re.match(r"^https?://[^/\s]+", webhook):
        raise fail("webhook_url_env", f"{s.webhook_url_env} must hold an http(s) URL")
    redactor.add([token, password, webhook])
    if webhook:  # a webhook URL's path is often its secret (Slack, Discord, ...): never log it, even in pieces
        parts = urlsplit(webhook)
        redactor.add([parts.path + ("?" + parts.query if parts.query else "")] if len(parts.path) > 8 else [])
    return AlertConfig(s, telegram_token=token, webhook_url=webhook, smtp_user=user, smtp_password=password)


# ── conditions ───────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Alert:
    """One message: a condition starting (`resolved` False) or ending."""

    condition: str  # "auth:x_en"
    kind: str  # auth | unknown | failed | limit | feed | expiry
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


# ── channels ─────────────────────────────────────────────────────────────────────────────────────────────────


class AlertDeliveryError(Exception):
    """A channel could not deliver an alert. The message is safe to log."""


class Channel(Protocol):
    name: str
    timeout: float

    def send(self, alert: Alert) -> None:
        """Blocking: deliver the alert or raise."""


def _describe(exc: BaseException, where: str) -> str:
    # a requests exception's text repeats the URL (Telegram's carries the token): name the failure, not the URL
    return f"{exc.__class__.__name__} ({where})"


class TelegramChannel:
    name = "telegram"

    def __init__(self, api_base: str, token: str, chat: str, timeout: float) -> None:
        self.api_base = api_base.rstrip("/")
        self._token = token
        self.chat = chat
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        url = f"{self.api_base}/bot{self._token}/sendMessage"
        payload = {"chat_id": self.chat, "text": alert.message()[:4096], "disable_web_page_preview": True}
        try:
            resp = requests.post(url, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AlertDeliveryError(_describe(exc, f"Telegram Bot API at {urlsplit(self.api_base).netloc}")) from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or not (isinstance(body, dict) and body.get("ok")):
            detail = body.get("description") if isinstance(body, dict) else None
            raise AlertDeliveryError(f"Telegram answered {resp.status_code}: {detail or 'no description'}")


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout: float) -> None:
        self._url = url
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        host = urlsplit(self._url).netloc
        try:
            resp = requests.post(self._url, json=alert.document(), timeout=self.timeout)
        except requests.RequestException as exc:
            raise AlertDeliveryError(_describe(exc, f"webhook at {host}")) from None
        if not 200 <= resp.status_code < 300:
            raise AlertDeliveryError(f"webhook at {host} answered {resp.status_code}")


class SmtpChannel:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        user: str = "",
        password: str = "",
        starttls: bool = True,
        use_ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = recipients
        self._user = user
        self._password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"[syndicator] {'RESOLVED' if alert.resolved else 'ALERT'}: {alert.title}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(alert.message())
        try:
            context = ssl.create_default_context()
            smtp: smtplib.SMTP
            if self.use_ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=context)
                if self._user:
                    smtp.login(self._user, self._password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            detail = str(exc)[:200] if isinstance(exc, smtplib.SMTPException) else exc.__class__.__name__
            raise AlertDeliveryError(f"SMTP {self.host}:{self.port}: {detail}") from None


# ── the service ──────────────────────────────────────────────────────────────────────────────────────────────


class AlertService:
    """Runs alongside the worker until cancelled: observes events, reads the store every `tick` seconds, checks
    credentials every `check_every` (by the app's clock, so tests move time instead of waiting)."""

    def __init__(
        self,
        app: App,
        config: AlertConfig,
        *,
        channels: list[Channel] | None = None,
        tick: float = 30.0,
        check_every: timedelta = timedelta(days=1),
    ) -> None:
        self.app = app
        self.config = config
        self.channels = config.channels() if channels is None else channels
        self.tick = tick
        self.check_every = check_every
        s = config.settings
        self.conditions = Conditions(
            targets=app.config.targets,
            feeds=[f.name for f in app.config.feeds],
            feed_failing_after=s.feed_failing_after,
            expiry_window=timedelta(days=s.token_expiry_days) if s.token_expiry_days else None,
            clock=app.clock,
        )
        self.next_check: datetime | None = None  # None: at start

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[Alert] = asyncio.Queue()

        def observer(event: ev.Event) -> None:
            if not isinstance(event, WATCHED):
                return
            item = ("event", (event, time.monotonic()))
            with contextlib.suppress(RuntimeError):  # the loop is closed: the worker is gone
                loop.call_soon_threadsafe(inbox.put_nowait, item)

        undo = ev.subscribe(observer)
        tasks = [
            asyncio.create_task(self._store_loop(inbox)),
            asyncio.create_task(self._check_loop(inbox)),
            asyncio.create_task(self._send_loop(outbox)),
        ]
        log.info("alerts.started", channels=[c.name for c in self.channels])
        try:
            while True:
                kind, payload = await inbox.get()
                try:
                    alerts = self._apply(kind, payload)
                except Exception as exc:  # a bug here must not end alerting
                    log.error("alert.error", error=repr(exc)[:300])
                    continue
                for alert in alerts:
                    outbox.put_nowait(alert)
        finally:
            undo()
            for task in tasks:
                task.cancel()
            # bounded: a worker's shutdown must never wait on an alert channel
            _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_WAIT)
            if stuck:
                log.warning("alerts.stop_incomplete", tasks=len(stuck))

    def _apply(self, kind: str, payload: Any) -> list[Alert]:
        if kind == "event":
            event, received = payload
            return self.conditions.on_event(event, received)
        if kind == "store":
            snap, adopt = payload
            return self.conditions.on_store(snap, adopt=adopt)
        target, result, now = payload
        return self.conditions.on_check(target, result, now)

    # -- the store, every tick --------------------------------------------------------------------------------

    def snapshot(self) -> StoreSnapshot:
        """Blocking: the store's view of the conditions (indexed queries, the same as `syndicator status`)."""
        from syndicator.store import reports

        started = time.monotonic()
        now = self.app.clock()
        counts = reports.target_counts(self.app.store, self.app.config.targets, now=now)
        feeds = reports.feed_status(self.app.store, now=now)
        return StoreSnapshot(
            started=started,
            now=now,
            auth_failed={t: str(c.get("pause_reason") or "") for t, c in counts.items() if c.get("auth_failed")},
            unknown={t: int(c.get("unknown", 0)) for t, c in counts.items()},
            feeds={f["feed"]: (f["failing_since"], f["error"]) for f in feeds},
        )

    async def _store_loop(self, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
        adopt = True  # the first view: what the store already shows was announced by the previous process
        while True:
            try:
                async with asyncio.timeout(max(self.tick, 10.0)):
                    snap = await asyncio.to_thread(self.snapshot)
            except Exception as exc:
                log.warning("alert.store_error", error=f"{exc.__class__.__name__}: {exc}"[:300])
            else:
                inbox.put_nowait(("store", (snap, adopt)))
                adopt = False
            await asyncio.sleep(self.tick)

    # -- credentials, daily -----------------------------------------------------------------------------------

    async def _check_loop(self, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
        while True:
            now = self.app.clock()
            if self.next_check is None or now >= self.next_check:
                self.next_check = now + self.check_every
                targets = [t for t in self.app.config.targets.values() if not t.dry_run]
                await asyncio.gather(*(self._check(t, inbox) for t in targets))
            await asyncio.sleep(self.tick)

    async def _check(self, target: TargetSettings, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
        now = self.app.clock()
        result: Identity | PublishError
        try:
            publisher = self.app.publisher(target)
            async with asyncio.timeout(target.timeout.total_seconds() * 2):
                result = await publisher.check()
        except PublishError as exc:
            log.warning("alert.check", target=target.name, ok=False, error_class=exc.error_class, error=str(exc))
            result = exc
        except Exception as exc:
            log.warning("alert.check", target=target.name, ok=False, error=f"{exc.__class__.__name__}: {exc}"[:300])
            return
        else:
            log.info("alert.check", target=target.name, ok=True, expires_at=result.expires_at)
        inbox.put_nowait(("check", (target.name, result, now)))

    # -- sending ----------------------------------------------------------------------------------------------

    async def _send_loop(self, outbox: asyncio.Queue[Alert]) -> None:
        while True:
            alert = await outbox.get()
            await asyncio.gather(*(self._deliver(channel, alert) for channel in self.channels))

    async def _deliver(self, channel: Channel, alert: Alert) -> None:
        try:
            async with asyncio.timeout(channel.timeout + 5):
                await asyncio.to_thread(channel.send, alert)
        except Exception as exc:
            error = str(exc) if isinstance(exc, AlertDeliveryError) else exc.__class__.__name__
            ev.emit(
                ev.AlertFailed(
                    channel=channel.name, condition=alert.condition, resolved=alert.resolved, error=redactor(error)
                )
            )
        else:
            ev.emit(ev.AlertSent(channel=channel.name, condition=alert.condition, resolved=alert.resolved))


# ── wiring ───────────────────────────────────────────────────────────────────────────────────────────────────


def ops_services(config: Config, environ: Mapping[str, str] | None = None) -> list[Service]:
    """The worker services of issue 7: metrics always, alerts when `[alerts]` is configured. Validates `[alerts]`
    now, so a mistake stops start-up with exit code 2 instead of ending a background task later."""
    from syndicator.metrics import run_metrics

    alerting = load_settings(config, environ)
    services: list[Service] = [run_metrics]
    if alerting is not None:
        settings = alerting

        async def run_alerts(worker: Worker) -> None:
            await AlertService(worker.app, settings).run()

        services.append(run_alerts)
    return services


__all__ = [
    "Alert",
    "AlertConfig",
    "AlertService",
    "AlertSettings",
    "Conditions",
    "SmtpChannel",
    "TelegramChannel",
    "WebhookChannel",
    "load_settings",
    "ops_services",
]
