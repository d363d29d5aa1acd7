"""Telegram: Bot API messages to a channel or chat through python-telegram-bot.

HTML parse mode, ≤ 4096 (text) or ≤ 1024 (photo caption) UTF-16 code units after entity parsing (`measure.py`);
edits on correction; delete on retract.
"""

from __future__ import annotations

import re
from datetime import timedelta

from syndicator.limits import Quota
from syndicator.platforms.spec import AlertChannelSpec, Capabilities, PlatformSpec, SecretPattern
from syndicator.platforms.telegram.alert_settings import SECRETS, TelegramAlertSettings, validate_alert_settings
from syndicator.platforms.telegram.desk import LOOK
from syndicator.platforms.telegram.measure import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, telegram_length
from syndicator.platforms.telegram.render import DEFAULT_TEMPLATE, render_telegram
from syndicator.platforms.telegram.settings import TelegramSettings
from syndicator.redaction import MARK

__all__ = ["SPEC", "TelegramSettings"]

SPEC = PlatformSpec(
    name="telegram",
    title="Telegram",
    order=20,
    settings=TelegramSettings,
    render=render_telegram,
    default_template=DEFAULT_TEMPLATE,
    limits={"text": TELEGRAM_TEXT_LIMIT, "caption": TELEGRAM_CAPTION_LIMIT},
    measure=telegram_length,
    counting="UTF-16 code units after entity parsing",
    spacing=timedelta(seconds=3),  # ~1 message/s per chat; leave room for edits
    quotas=(Quota(20, timedelta(minutes=1)),),
    capabilities=Capabilities(edit=True, delete=True, media=True),
    publisher="syndicator.platforms.telegram.publisher:TelegramPublisher",
    desk=LOOK,
    loggers=("telegram",),
    alert_channel=AlertChannelSpec(
        channel="syndicator.platforms.telegram.alert:TelegramChannel",
        settings=TelegramAlertSettings,
        secrets=SECRETS,
        validate=validate_alert_settings,
    ),
    secret_patterns=(
        # a bot token: /bot<id>:<secret> in Bot API URLs, any length; anywhere else the real shape (id:35 characters)
        SecretPattern(re.compile(r"(?<=/bot)\d{1,20}:[A-Za-z0-9_-]+"), MARK, ("/bot",)),
        SecretPattern(re.compile(r"(?<![0-9])\d{5,20}:[A-Za-z0-9_-]{30,}"), MARK, (":",)),
    ),
)
