"""The `[alerts]` table: its settings class, its validation (at config load), and the secrets it names, read from
the environment (when the alert service starts)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syndicator.errors import ConfigError
from syndicator.logs import redactor
from syndicator.schema import build

if TYPE_CHECKING:
    from syndicator.alerts.channels import Channel
    from syndicator.config import Config


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
        from syndicator.alerts.channels import channels_for

        return channels_for(self)


def parse_settings(raw: object, *, source: str) -> AlertSettings:
    """Build and check the `[alerts]` table (config loading calls this). Every mistake is a ConfigError naming the
    key; the secrets the table names are read later, by `load_settings`."""
    s = build(AlertSettings, raw, source=source, where="alerts")  # type: ignore[arg-type]

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, source=source, key=f"alerts.{key}")

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
    return s


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

    def secret(key: str, holds: str) -> str:
        var = getattr(s, key)
        value = env.get(var, "") if var else ""
        if var and not value:
            raise fail(key, f"environment variable {var} is not set (it holds {holds})")
        return value

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
