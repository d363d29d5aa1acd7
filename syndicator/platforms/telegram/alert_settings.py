"""Telegram as an ops-alert channel: its `[alerts]` keys and their checks (pure: config loading imports this;
the channel that sends is `alert.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from syndicator.errors import ConfigError

TELEGRAM_API = "https://api.telegram.org"


@dataclass(frozen=True)
class TelegramAlertSettings:
    telegram_chat: str = ""  # @channel or numeric chat id the alert bot writes to
    telegram_token_env: str = ""  # environment variable holding the alert bot's token
    telegram_api_base: str = ""  # default https://api.telegram.org (a local Bot API server, a proxy, a test double)


SECRETS = {"telegram_token_env": "the alert bot's token"}


def validate_alert_settings(s: TelegramAlertSettings) -> None:
    if bool(s.telegram_chat) != bool(s.telegram_token_env):
        missing = "telegram_token_env" if s.telegram_chat else "telegram_chat"
        raise ConfigError("telegram alerts need both telegram_chat and telegram_token_env", key=missing)
    if s.telegram_api_base and not s.telegram_chat:
        raise ConfigError("set telegram_chat and telegram_token_env too, or remove this key", key="telegram_api_base")
    if s.telegram_api_base and not re.match(r"^https?://[^/\s]+", s.telegram_api_base):
        raise ConfigError("must be an http(s) URL", key="telegram_api_base")
