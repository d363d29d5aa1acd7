"""Length as Telegram counts it: UTF-16 code units of the text after entity parsing (tags removed, entities
decoded)."""

from __future__ import annotations

import html
import re

from syndicator.render.measure import utf16_length

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

_TAG = re.compile(r"<[^>]*>")


def telegram_plain(html_text: str) -> str:
    """What Telegram shows for `html_text` in HTML parse mode: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", html_text))


def telegram_length(html_text: str) -> int:
    """Telegram's length of an HTML-mode message: UTF-16 code units after entity parsing."""
    return utf16_length(telegram_plain(html_text))
