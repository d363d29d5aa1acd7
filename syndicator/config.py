"""TOML + environment → validated, typed settings. Secrets come only from environment variables the file names.

Every mistake becomes one ConfigError naming the file, the dotted key and what is wrong; the CLI turns it into
exit code 2 with that one line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from syndicator.alerts.settings import AlertSettings, parse_settings
from syndicator.desk.settings import DeskSettings
from syndicator.desk.settings import parse_settings as parse_desk
from syndicator.errors import ConfigError
from syndicator.files import read_text_file
from syndicator.platforms import registry
from syndicator.platforms.settings import PlatformSettings, Secrets, secret_env_names
from syndicator.render.options import RenderOptions
from syndicator.schema import build, shown

DEFAULT_CONFIG_PATH = Path("config/syndicator.toml")
CONFIG_FILE_CAP = 1024 * 1024
EMBEDDED = "<embedded defaults>"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


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
        if not _NAME.match(self.name):
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
    cost_per_post: float = 0.0  # what one post costs (X bills per post), for the spend shown in status
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


_TARGET_COMMON = {f.name for f in fields(TargetCommon)}


@dataclass(frozen=True, kw_only=True)
class TargetSettings(TargetCommon):
    """A target as the rest of the code sees it: common keys, its platform's keys, its resolved secrets."""

    name: str
    settings: PlatformSettings
    secrets: Secrets = field(default_factory=lambda: Secrets({}), compare=False, repr=False)


@dataclass(frozen=True)
class Config:
    source: str
    base_dir: Path
    store: StoreSettings
    http: HttpSettings
    log: LogSettings
    feeds: list[FeedSettings]
    targets: dict[str, TargetSettings]
    webhook: WebhookSettings | None = None  # None: no [webhook] section, the hook answers 404
    dry_run_all: bool = False  # --dry-run: show what would go out, record nothing as sent
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    alerts: AlertSettings | None = None  # None: no [alerts] section; secrets are read when the service starts
    desk: DeskSettings | None = None  # None: no [desk] section, /desk/ answers 404

    def feed(self, name: str) -> FeedSettings:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise ConfigError(f"no feed named {name!r} (feeds: {', '.join(f.name for f in self.feeds)})")

    def target(self, name: str) -> TargetSettings:
        if name not in self.targets:
            raise ConfigError(f"no target named {name!r} (targets: {', '.join(self.targets)})")
        return self.targets[name]


def load(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
    secrets: bool = True,
) -> Config:
    """Load and validate the configuration.

    Which file: `path`, else $SYNDICATOR_CONFIG, else config/syndicator.toml if it exists, else the embedded
    defaults (bundled sample feed, dry-run targets). With `dry_run`, every target is dry-run and needs no secret.
    With `secrets=False` (read-only commands: status, history, preview) a missing secret is no error.
    """
    env = os.environ if environ is None else environ
    chosen = path or env.get("SYNDICATOR_CONFIG")
    if chosen:
        file = Path(chosen)
        text = read_text_file(file, max_bytes=CONFIG_FILE_CAP, what="configuration file")
        source, base_dir = str(file), file.resolve().parent
    elif DEFAULT_CONFIG_PATH.exists():
        source, base_dir = str(DEFAULT_CONFIG_PATH), DEFAULT_CONFIG_PATH.resolve().parent
        text = read_text_file(DEFAULT_CONFIG_PATH, max_bytes=CONFIG_FILE_CAP, what="configuration file")
    else:
        data_dir = resources.files("syndicator") / "data"
        text = (data_dir / "default.toml").read_text(encoding="utf-8")
        source, base_dir = EMBEDDED, Path(str(data_dir))
    return parse(text, source=source, base_dir=base_dir, environ=env, dry_run=dry_run, secrets=secrets)


def parse(
    text: str,
    *,
    source: str = "<string>",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
    secrets: bool = True,
) -> Config:
    env = os.environ if environ is None else environ
    missing: list[tuple[str, str, str]] = []  # (variable, what it holds, key): every secret not set, at once
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {_toml_problem(exc)}", source=source) from None

    known = {"store", "http", "log", "feeds", "targets", "alerts", "webhook", "outbound", "desk"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown section (known: {', '.join(sorted(known))})", source=source, key=key)

    store = build(StoreSettings, raw.get("store", {}), source=source, where="store")
    if env.get("SYNDICATOR_DB_URL"):
        store = replace(store, url=env["SYNDICATOR_DB_URL"])
    base = base_dir or Path.cwd()
    store = replace(store, url=_resolve_sqlite(store.url, base))
    try:
        check_store_url(store.url)
    except ValueError as exc:
        from_env = bool(env.get("SYNDICATOR_DB_URL"))
        where, key = ("environment", "SYNDICATOR_DB_URL") if from_env else (source, "store.url")
        raise ConfigError(str(exc), source=where, key=key) from None
    http = build(HttpSettings, raw.get("http", {}), source=source, where="http")
    if env.get("PORT") and not http.listen:  # a PaaS's port: the worker listens on it (syndicator.web)
        try:
            check_listen(f":{env['PORT']}", "$PORT")
        except ValueError as exc:
            raise ConfigError(str(exc), source="environment", key="PORT") from None
    log = build(LogSettings, raw.get("log", {}), source=source, where="log")

    targets_raw = raw.get("targets", {})
    if not isinstance(targets_raw, dict):
        raise ConfigError("expected a table of targets", source=source, key="targets")
    targets = {
        name: _target(name, table, source=source, environ=env, dry_run=dry_run, base=base, missing=missing)
        for name, table in targets_raw.items()
    }

    feeds_raw = raw.get("feeds", [])
    if not isinstance(feeds_raw, list) or not feeds_raw:
        raise ConfigError("at least one [[feeds]] entry is required", source=source, key="feeds")
    feeds: list[FeedSettings] = []
    for i, table in enumerate(feeds_raw):
        where = f"feeds[{i}]"
        feed = build(FeedSettings, table, source=source, where=where)
        if any(f.name == feed.name for f in feeds):
            raise ConfigError(f"duplicate feed name {feed.name!r}", source=source, key=f"{where}.name")
        for t in feed.targets:
            if t not in targets:
                raise ConfigError(
                    f"unknown target {t!r} (defined: {', '.join(targets) or 'none'})",
                    source=source,
                    key=f"{where}.targets",
                )
        feeds.append(replace(feed, url=_resolve_local(feed.url, base)))

    webhook = None
    if "webhook" in raw:
        webhook = build(WebhookSettings, raw["webhook"], source=source, where="webhook")
        secret = env.get(webhook.secret_env, "")
        if not secret:
            missing.append((webhook.secret_env, "the webhook's shared secret", "webhook.secret_env"))
        elif len(secret) < 16 and secrets:
            raise ConfigError(
                f"the secret in {webhook.secret_env} is too short (use at least 16 random characters)",
                source=source,
                key="webhook.secret_env",
            )
        webhook = replace(webhook, secret=secret)
    if missing and secrets:
        if len(missing) == 1:
            var, holds, key = missing[0]
            raise ConfigError(f"environment variable {var} is not set (it holds {holds})", source=source, key=key)
        listed = "; ".join(f"{var} ({key})" for var, _, key in missing)
        raise ConfigError(f"{len(missing)} environment variables are not set: {listed}", source=source)
    alerts = parse_settings(raw["alerts"], source=source) if "alerts" in raw else None
    outbound = _outbound(raw.get("outbound", {}), source=source)
    sections = (store, http, log, feeds, targets)
    desk = parse_desk(raw["desk"], source=source) if "desk" in raw else None
    return Config(
        source, base, *sections, webhook=webhook, dry_run_all=dry_run, outbound=outbound, alerts=alerts, desk=desk
    )


def _outbound(table: Any, *, source: str) -> OutboundSettings:
    from syndicator.outbound import parse_rule

    settings = build(OutboundSettings, table, source=source, where="outbound")
    for i, entry in enumerate(settings.allow):
        try:
            parse_rule(entry)
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, key=f"outbound.allow[{i}]") from None
    return settings


def _target(
    name: str,
    table: Any,
    *,
    source: str,
    environ: Mapping[str, str],
    dry_run: bool,
    base: Path,
    missing: list[tuple[str, str, str]],
) -> TargetSettings:
    where = f"targets.{name}"
    if not _NAME.match(name):
        raise ConfigError("target names may use letters, digits, '_', '-' and '.' only", source=source, key=where)
    if not isinstance(table, dict):
        raise ConfigError("expected a table", source=source, key=where)
    platforms = registry.names()
    if "platform" not in table:
        raise ConfigError(
            f"missing required key (one of: {', '.join(platforms)})", source=source, key=f"{where}.platform"
        )
    platform = table["platform"]
    if platform not in platforms:
        choices = ", ".join(repr(p) for p in platforms)
        raise ConfigError(f"must be one of {choices}, got {shown(platform)}", source=source, key=f"{where}.platform")
    common = build(TargetCommon, {k: v for k, v in table.items() if k in _TARGET_COMMON}, source=source, where=where)
    spec = registry.get(common.platform)
    platform_keys = {k: v for k, v in table.items() if k not in _TARGET_COMMON}
    settings = build(spec.settings, platform_keys, source=source, where=where)
    if spec.validate is not None:
        settings = _validated(spec.validate, settings, base, source=source, where=where)
    is_dry = dry_run or common.dry_run
    secret_values: dict[str, str] = {}
    for secret, var in secret_env_names(settings).items():
        value = environ.get(var, "")
        if not value and not is_dry and secret not in spec.optional_secrets:
            missing.append((var, f"this target's {secret}", f"{where}.{secret}_env"))
        if value:
            secret_values[secret] = value
    if common.api_base and not re.match(r"^https?://", common.api_base):
        raise ConfigError("must be an http(s) URL", source=source, key=f"{where}.api_base")
    values = {f.name: getattr(common, f.name) for f in fields(TargetCommon)}
    values.update(dry_run=is_dry, api_base=common.api_base.rstrip("/"))
    return TargetSettings(name=name, settings=settings, secrets=Secrets(secret_values), **values)


def _validated(check: Any, settings: Any, base: Path, *, source: str, where: str) -> Any:
    """A platform's config-time hook. Its ConfigError names a key relative to the target (or none: the target),
    or a file of its own and a line there, which is passed on as it is."""
    try:
        return check(settings, base)
    except ConfigError as exc:
        if exc.source and exc.source != source and exc.key:
            raise
        key = f"{where}.{exc.key}" if exc.key else where
        raise ConfigError(exc.reason, source=source, key=key) from None
    except ValueError as exc:
        raise ConfigError(str(exc), source=source, key=where) from None


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message with what it quotes from the file (a key, a character) cut out: what and where only.
    'Cannot declare ('feeds', 'x') twice (at line 9, column 1)' → 'Cannot declare … twice (at line 9, column 1)'."""
    text = str(exc).splitlines()[0] if str(exc) else "parse error"
    match = re.match(r"^(.*?)(\s*\((?:at line \d+, column \d+|at end of document)\))?$", text)
    body, where = (match.group(1), match.group(2) or "") if match else (text, "")
    quoted = [i for i, c in enumerate(body) if c in "('\""]
    if quoted and not re.fullmatch(r"Expected '[=\]}\[,.]'.*", body):  # the parser's own '=', not the file's
        last = max((i for i, c in enumerate(body) if c in ")'\""), default=-1)
        body = body[: quoted[0]] + "…" + body[last + 1 :] if last > quoted[0] else body[: quoted[0]] + "…"
    return body.strip() + where


STORE_EXAMPLES = "sqlite:///syndicator.db or postgresql://user@host/dbname"


def check_store_url(url: str) -> None:
    """A URL the store can open, or a ValueError with the cause and what to do (never the driver's traceback):
    not a URL at all, a database other than SQLite or PostgreSQL, a driver that is not installed, an SQLite file
    in a directory that does not exist. Whether the server answers is `check`'s and the worker's business."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown_url = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)  # never a password
    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    except ArgumentError:
        raise ValueError(f"{shown_url!r} is not a database URL; use e.g. {STORE_EXAMPLES}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{backend} is not supported: the store is SQLite or PostgreSQL ({STORE_EXAMPLES})")
    if backend == "postgresql" and parsed.get_driver_name() in ("psycopg2", "default"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # what the store connects with (store/engine.py)
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ValueError(f"unknown database driver {parsed.drivername!r}; use e.g. {STORE_EXAMPLES}") from None
    except ImportError as exc:
        module = exc.name or parsed.get_driver_name()
        raise ValueError(
            f"the {module} driver for {parsed.drivername} is not installed (pip install {module})"
        ) from None
    database = parsed.database or ""
    if backend == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():
            raise ValueError(
                f"the SQLite database's directory {folder} does not exist: create it (mkdir -p {folder}) "
                "or point the URL elsewhere"
            )


def _resolve_local(url: str, base: Path) -> str:
    """Relative paths in the file are relative to the file, so the config works from any directory."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) or url.startswith("file:"):
        return url
    path = Path(url)
    return str(path if path.is_absolute() else (base / path).resolve())


def _resolve_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        rel = url[len(prefix) :]
        # a `file:` URI (`sqlite:///file:/path/db?mode=ro&uri=true`) names its own path
        if rel and not rel.startswith("file:") and not Path(rel).is_absolute():
            # the database lives where the command runs, not inside the package or the config dir
            return prefix + str(Path.cwd() / rel)
    return url
