"""The Telegram keys of a `[targets.NAME]` table. Pure data: no client library is imported here."""

from __future__ import annotations

from dataclasses import dataclass


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
