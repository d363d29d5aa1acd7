"""The typed settings a configuration file becomes: one frozen dataclass per table (`[store]`, `[http]`, `[log]`,
`[webhook]`, `[outbound]`, `[[feeds]]`, `[targets.NAME]` with its `limits` and `retry`). Each checks its own
values in `__post_init__` (a ValueError, which `schema.build` turns into a ConfigError naming the key); checks
across tables (a feed's unknown target, a missing secret) are config.py's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Literal

from syndicator.platforms.settings import PlatformSettings, Secrets
from syndicator.render.options import RenderOptions

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # a feed's or a target's name


@dataclass(frozen=True)
class StoreSettings:
    url: str = "sqlite:///syndicator.db"


@dataclass(frozen=True)
class HttpSettings:
    listen: str = ""  # "127.0.0.1:9100"; empty: no HTTP listener (unless $PORT is set)

    def __post_init__(self) -> None:
        if self.listen:
            check_listen(self.listen, "listen")


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")  # a host name or an IPv4 address


def check_listen(value: str, what: str) -> None:
    """`host:port` (`[::1]:9100` for IPv6, `:9100` for every interface), the port 0-65535 (0: any free one, for
    tests): a ValueError saying what is wrong, so `syndicator check` catches it rather than the worker's start."""
    import ipaddress

    host, sep, port = value.rpartition(":")
    example = "e.g. '127.0.0.1:9100', '0.0.0.0:8080' or '[::1]:9100'"
    if not sep or not port.isdigit():
        raise ValueError(f"{what} must be host:port with a port number, {example}; got {value!r}")
    if int(port) > 65535:
        raise ValueError(f"{what}: port {int(port)} is out of range (1-65535)")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{what}: {host} is not an IPv6 address") from None
    elif ":" in host:
        raise ValueError(f"{what}: write an IPv6 address in brackets, e.g. '[::1]:9100'; got {value!r}")
    elif host and not _HOST.match(host):
        raise ValueError(f"{what}: {host!r} is not a host name or an IP address ({example})")


@dataclass(frozen=True)
class LogSettings:
    format: Literal["auto", "json", "text"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class WebhookSettings:
    """`[webhook]`: the signed publish hook and WebSub, served on the [http] listener."""

    secret_env: str = "SYNDICATOR_WEBHOOK_SECRET"  # shared HMAC-SHA256 secret with the WordPress site
    max_skew: timedelta = timedelta(minutes=5)  # older (or future) timestamps are refused: no replays
    max_body: int = 64 * 1024
    public_url: str = ""  # how hubs reach this worker, e.g. "https://syndicator.example.org"; empty: no WebSub
    websub_lease: timedelta = timedelta(days=7)
    websub_poll_every: timedelta = timedelta(minutes=30)  # the safety-net poll while a WebSub lease is active
    secret: str = field(default="", repr=False, compare=False, metadata={"internal": True})


@dataclass(frozen=True)
class OutboundSettings:
    """`[outbound]`: URLs from content (images, WebSub hubs, redirects) reach public addresses only; `allow`
    lists the exceptions: addresses, CIDR networks, host names, each optionally with :port (syndicator.outbound)."""

    allow: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FeedSettings:
    name: str
    url: str
    targets: list[str]
    every: timedelta = timedelta(minutes=2)
    language: str = ""  # empty: the feed's own <language>
    first_run: str = "skip"  # "skip" | "all" | "latest:N"
    max_age: timedelta = timedelta(days=2)  # older items are recorded, not posted; 0 = no limit
    timeout: timedelta = timedelta(seconds=20)
    max_bytes: int = 10 * 1024 * 1024
    priority: Literal["normal", "breaking"] = "normal"
    hold_for: timedelta = timedelta(0)  # cancel window between detection and posting
    on_withdraw: Literal["alert", "retract"] = "alert"  # an unpublished article: delete its posts, or tell a human
    wordpress: str = ""  # the WordPress site's base URL, for the REST API (webhook by post id, withdrawals)
    opt_out: list[str] = field(default_factory=lambda: ["no-social"])  # tags/categories never posted

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValueError(f"feed name {self.name!r} may use letters, digits, '_', '-' and '.' only")
        if self.every < timedelta(seconds=5):
            raise ValueError("'every' must be at least 5s")
        if self.max_bytes <= 0:
            raise ValueError("'max_bytes' must be positive")
        if not self.targets:
            raise ValueError(f"feed {self.name!r} has no targets: list at least one in 'targets'")
        scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", self.url)
        if scheme and len(scheme.group(1)) > 1 and scheme.group(1).lower() not in ("http", "https", "file"):
            raise ValueError(f"feed {self.name!r}: url must be http(s)://, file: or a path, got {self.url!r}")
        if self.wordpress and not re.match(r"^https?://", self.wordpress):
            raise ValueError(f"feed {self.name!r}: 'wordpress' must be the site's http(s) URL")
        first_run_latest(self.first_run)

    @property
    def latest_on_first_run(self) -> int | None:
        """None: post everything on the first poll; 0: post nothing; N: post the N newest."""
        return first_run_latest(self.first_run)


def first_run_latest(value: str) -> int | None:
    if value == "skip":
        return 0
    if value == "all":
        return None
    match = re.fullmatch(r"latest:(\d+)", value)
    if not match:
        raise ValueError(f"first_run must be 'skip', 'all' or 'latest:N', got {value!r}")
    return int(match.group(1))


@dataclass(frozen=True)
class LimitsSettings:
    """When a target may post: `[targets.NAME.limits]`. Empty values take the platform's defaults."""

    min_spacing: timedelta | None = None
    quotas: list[str] = field(default_factory=list)  # "17/24h", "20/1m": at most N posts per window
    quiet_hours: str = ""  # "23:00-07:00" in `timezone`; breaking feeds ignore it
    timezone: str = "UTC"
    max_posts_per_day: int = 0  # cost caps (0 = none)
    max_posts_per_month: int = 0
    cost_per_post: float = 0.0  # what one post costs (where a platform bills per post), for the spend shown in status
    cost_per_post_with_link: float = 0.0
    freshness: timedelta = timedelta(0)  # an article older than this at send time is not posted; 0: the feed's max_age
    slow_down_at_percent: float = 80.0  # Meta usage headers: space posts out above this

    def __post_init__(self) -> None:
        from syndicator.limits import parse_quiet_hours, parse_quota, zone

        for quota in self.quotas:
            parse_quota(quota)
        parse_quiet_hours(self.quiet_hours)
        zone(self.timezone)


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    on_unknown: Literal["hold", "retry"] = "hold"  # after a crash mid-call: wait for a human, or resend
    # How long a worker's hold on a delivery lasts if the worker dies: a call in flight turns `unknown` after
    # max(call_lease, 4 × timeout), claimed work is free again after at most that. Lower it only to recover faster
    # (tests); 4 × timeout always remains, so a live call never loses its lease.
    call_lease: timedelta = timedelta(seconds=60)
    # The wall-clock limit on one platform call as a whole (image download, upload, post); empty: 4 × timeout.
    # A call that overruns it may have reached the platform: it ends as `unknown` (on_unknown decides).
    call_deadline: timedelta | None = None

    def __post_init__(self) -> None:
        if self.call_lease <= timedelta(0):
            raise ValueError("call_lease must be positive")
        if self.call_deadline is not None and self.call_deadline <= timedelta(0):
            raise ValueError("call_deadline must be positive")


@dataclass(frozen=True)
class TargetCommon:
    """The keys every `[targets.NAME]` table accepts, whatever its platform."""

    platform: str  # one of the registry's platform names (checked in `_target`)
    dry_run: bool = False
    api_base: str = ""
    timeout: timedelta = timedelta(seconds=30)
    edit_on_update: bool = True  # correct sent posts when the article changes (where the platform can edit)
    hold_for: timedelta = timedelta(0)  # cancel window for this target (the longer of feed's and target's wins)
    render: RenderOptions = field(default_factory=RenderOptions)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    retry: RetrySettings = field(default_factory=RetrySettings)


TARGET_COMMON = {f.name for f in fields(TargetCommon)}


@dataclass(frozen=True, kw_only=True)
class TargetSettings(TargetCommon):
    """A target as the rest of the code sees it: common keys, its platform's keys, its resolved secrets."""

    name: str
    settings: PlatformSettings
    secrets: Secrets = field(default_factory=lambda: Secrets({}), compare=False, repr=False)
