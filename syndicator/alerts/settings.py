"""The `[alerts]` table: its settings class, its validation (at config load), and the secrets it names, read from
the environment (when the alert service starts)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from syndicator.errors import ConfigError
from syndicator.logs import redactor
from syndicator.schema import build

if TYPE_CHECKING:
    from syndicator.alerts.channels import Channel
    from syndicator.config import Config
    from syndicator.platforms.spec import PlatformSpec


@dataclass(frozen=True)
class AlertSettings:
    """The `[alerts]` table. Every channel is optional; with none, alerts are only log lines.

    The keys of a platform that can carry alerts (its spec's `alert_channel`) are named `<platform>_...`; they are
    read as that platform's settings (`platforms[name]`) and are attributes of this object too."""

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
    # platform name → its alert settings (a spec's `alert_channel.settings`); filled by `parse_settings`
    platforms: Mapping[str, Any] = field(default_factory=dict, metadata={"internal": True})

    @property
    def recipients(self) -> list[str]:
        return [self.smtp_to] if isinstance(self.smtp_to, str) else list(self.smtp_to)

    def __getattr__(self, name: str) -> Any:
        # a platform's key (`<platform>_...`), read from its settings
        for settings in self.__dict__.get("platforms", {}).values():
            if name in {f.name for f in fields(settings)}:
                return getattr(settings, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@dataclass(frozen=True)
class AlertConfig:
    """Validated settings plus the secrets resolved from the environment (never in a repr)."""

    settings: AlertSettings
    webhook_url: str = field(default="", repr=False)
    smtp_user: str = field(default="", repr=False)
    smtp_password: str = field(default="", repr=False)
    # the platforms' alert secrets: `<platform>_..._env` key without `_env` → value ("" when the key is unset)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __getattr__(self, name: str) -> Any:
        secrets = self.__dict__.get("secrets", {})
        if name in secrets:
            return secrets[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def channels(self) -> list[Channel]:
        from syndicator.alerts.channels import channels_for

        return channels_for(self)


def _alert_specs() -> list[PlatformSpec]:
    """The platforms that can carry alerts; each one's keys must carry its prefix (a programming error if not)."""
    from syndicator.platforms import registry

    found = []
    for spec in registry.specs():
        if spec.alert_channel is None:
            continue
        prefix = f"{spec.name}_"
        for key in _keys(spec):
            if not key.startswith(prefix):
                raise RuntimeError(f"{spec.name}: [alerts] key {key!r} does not start with {prefix!r}")
        found.append(spec)
    return found


def _keys(spec: PlatformSpec) -> set[str]:
    assert spec.alert_channel is not None
    return {f.name for f in fields(spec.alert_channel.settings)}


def parse_settings(raw: object, *, source: str) -> AlertSettings:
    """Build and check the `[alerts]` table (config loading calls this). Every mistake is a ConfigError naming the
    key; the secrets the table names are read later, by `load_settings`."""
    specs = _alert_specs()
    own: object = raw
    parts: dict[str, dict[str, Any]] = {}
    if isinstance(raw, Mapping):
        owned = {spec.name: _keys(spec) for spec in specs}
        accepted = {f.name for f in fields(AlertSettings) if f.init and not f.metadata.get("internal")}
        accepted = accepted.union(*owned.values())
        for key in raw:
            if key not in accepted:
                known = ", ".join(sorted(accepted))
                raise ConfigError(f"unknown key (known keys: {known})", source=source, key=f"alerts.{key}")
        own = {k: v for k, v in raw.items() if not any(k in keys for keys in owned.values())}
        parts = {name: {k: v for k, v in raw.items() if k in keys} for name, keys in owned.items()}

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, source=source, key=f"alerts.{key}")

    platforms: dict[str, Any] = {}
    for spec in specs:
        assert spec.alert_channel is not None
        table = parts.get(spec.name, {})
        platforms[spec.name] = build(spec.alert_channel.settings, table, source=source, where="alerts")
    s = build(AlertSettings, own, source=source, where="alerts")  # type: ignore[arg-type]
    for spec in specs:
        assert spec.alert_channel is not None
        if spec.alert_channel.validate is not None:
            try:
                spec.alert_channel.validate(platforms[spec.name])
            except ConfigError as exc:
                raise fail(exc.key or "", exc.reason) from None
    if s.webhook_url and not re.match(r"^https?://[^/\s]+", s.webhook_url):
        raise fail("webhook_url", "must be an http(s) URL")
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
    return replace(s, platforms=platforms)


def load_settings(config: Config, environ: Mapping[str, str] | None = None) -> AlertConfig | None:
    """The checked `[alerts]` settings (`config.alerts`, None when the section is absent) plus the secrets they
    name, read from the environment. A secret that is not set is a ConfigError naming the key."""
    s = config.alerts
    if s is None:
        return None
    env = os.environ if environ is None else environ
    source = config.source

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, source=source, key=f"alerts.{key}")

    def secret(table: object, key: str, holds: str) -> str:
        var = getattr(table, key)
        value = env.get(var, "") if var else ""
        if var and not value:
            raise fail(key, f"environment variable {var} is not set (it holds {holds})")
        return value

    secrets: dict[str, str] = {}
    for spec in _alert_specs():
        assert spec.alert_channel is not None
        table = s.platforms.get(spec.name) or spec.alert_channel.settings()
        for key in sorted(k for k in _keys(spec) if k.endswith("_env")):
            holds = spec.alert_channel.secrets.get(key, f"the {spec.title} alert secret")
            secrets[key.removesuffix("_env")] = secret(table, key, holds)
    password = secret(s, "smtp_password_env", "the SMTP password")
    user = secret(s, "smtp_user_env", "the SMTP user name")
    webhook = s.webhook_url or secret(s, "webhook_url_env", "the alert webhook URL")
    if webhook and not re.match(r"^https?://[^/\s]+", webhook):
        raise fail("webhook_url_env", f"{s.webhook_url_env} must hold an http(s) URL")
    redactor.add([*secrets.values(), password, webhook])
    if webhook:  # a webhook URL's path is often its secret (Slack, Discord, ...): never log it, even in pieces
        parts = urlsplit(webhook)
        redactor.add([parts.path + ("?" + parts.query if parts.query else "")] if len(parts.path) > 8 else [])
    return AlertConfig(s, webhook_url=webhook, smtp_user=user, smtp_password=password, secrets=secrets)
