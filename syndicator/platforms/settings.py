"""Per-platform keys of a `[targets.NAME]` table. Pure data: no client library is imported here.

Keys ending in `_env` name the environment variable that holds a secret; the secret itself never appears in the
configuration file. `Secrets` keeps resolved values out of every repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Literal


@dataclass(frozen=True)
class TwitterSettings:
    api_key_env: str = "X_API_KEY"
    api_secret_env: str = "X_API_SECRET"
    access_token_env: str = "X_ACCESS_TOKEN"
    access_token_secret_env: str = "X_ACCESS_TOKEN_SECRET"
    handle: str = ""  # for public post URLs; looked up with get_me when empty
    upload_base: str | None = None  # v2 media upload host; defaults to api_base or https://api.x.com


@dataclass(frozen=True)
class TelegramSettings:
    chat: str = ""  # @channelusername or numeric id
    token_env: str = "TELEGRAM_BOT_TOKEN"
    silent: bool = False  # disable_notification
    link_preview: bool = True
    preview_above_text: bool = False
    read_more_button: str = ""  # button label; empty: no button

    def __post_init__(self) -> None:
        if not self.chat:
            raise ValueError("telegram target needs 'chat' (@channel or numeric id)")


@dataclass(frozen=True)
class FacebookSettings:
    page_id: str = ""
    token_env: str = "FACEBOOK_PAGE_TOKEN"
    graph_version: str = "v26.0"
    post_as: Literal["link", "photo"] = "link"
    app_id_env: str = ""  # with app_secret_env: lets `check` call debug_token for the token's expiry
    app_secret_env: str = ""

    def __post_init__(self) -> None:
        if not self.page_id:
            raise ValueError("facebook target needs 'page_id'")


@dataclass(frozen=True)
class WhatsAppSettings:
    phone_number_id: str = ""
    token_env: str = "WHATSAPP_TOKEN"
    graph_version: str = "v26.0"
    mode: Literal["template", "text"] = "template"
    template: str = ""  # approved template name (mode = "template")
    template_language: str = ""  # defaults to the article's language
    recipients: list[str] = field(default_factory=list)  # opted-in numbers, E.164 without '+'
    recipients_file: str = ""  # or one number per line
    pace: timedelta = timedelta(milliseconds=50)  # between recipients: ~20/s, well under 80/s per number

    def __post_init__(self) -> None:
        if not self.phone_number_id:
            raise ValueError("whatsapp target needs 'phone_number_id'")
        if self.mode == "template" and not self.template:
            raise ValueError("whatsapp target in template mode needs 'template' (an approved template name)")


PlatformSettings = TwitterSettings | TelegramSettings | FacebookSettings | WhatsAppSettings

SETTINGS_BY_PLATFORM: dict[str, type[PlatformSettings]] = {
    "twitter": TwitterSettings,
    "telegram": TelegramSettings,
    "facebook": FacebookSettings,
    "whatsapp": WhatsAppSettings,
}


def secret_env_names(settings: PlatformSettings) -> dict[str, str]:
    """Field name → environment variable name, for every secret this platform needs."""
    names = {}
    for f in fields(settings):
        if f.name.endswith("_env"):
            value = getattr(settings, f.name)
            if value:
                names[f.name.removesuffix("_env")] = value
    return names


class Secrets:
    """Resolved secret values; never printed."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def get(self, name: str, default: str = "") -> str:
        return self._values.get(name, default)

    def values(self) -> list[str]:
        return list(self._values.values())

    def __repr__(self) -> str:
        return f"Secrets({', '.join(sorted(self._values))}: ***)"
