"""The Telegram ops chat as an alert channel: one Bot API `sendMessage` per alert (plain text, ≤ 4096)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import requests

from syndicator.alerts.channels import AlertDeliveryError, describe_failure
from syndicator.alerts.conditions import Alert
from syndicator.platforms.telegram.alert_settings import TELEGRAM_API, TelegramAlertSettings


class TelegramChannel:
    name = "telegram"

    def __init__(self, api_base: str, token: str, chat: str, timeout: float) -> None:
        self.api_base = api_base.rstrip("/")
        self._token = token
        self.chat = chat
        self.timeout = timeout

    @classmethod
    def configure(
        cls, settings: TelegramAlertSettings, secrets: Mapping[str, str], timeout: float
    ) -> TelegramChannel | None:
        if not settings.telegram_chat:
            return None
        api = settings.telegram_api_base or TELEGRAM_API
        return cls(api, secrets.get("telegram_token", ""), settings.telegram_chat, timeout)

    def send(self, alert: Alert) -> None:
        url = f"{self.api_base}/bot{self._token}/sendMessage"
        payload = {"chat_id": self.chat, "text": alert.message()[:4096], "disable_web_page_preview": True}
        try:
            resp = requests.post(url, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            where = f"Telegram Bot API at {urlsplit(self.api_base).netloc}"
            raise AlertDeliveryError(describe_failure(exc, where)) from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or not (isinstance(body, dict) and body.get("ok")):
            detail = body.get("description") if isinstance(body, dict) else None
            raise AlertDeliveryError(f"Telegram answered {resp.status_code}: {detail or 'no description'}")
