"""The helpers a platform's desk look (`PlatformSpec.desk`) draws a post's text with: URLs become links isolated
from the text around them (`dir="ltr"`), hashtags (and, where the platform links them, mentions) are marked.

Every character of the post is escaped here; only the tags these helpers write reach the page, and only http(s)
URLs become links. The result is `Markup` for the templates (which autoescape everything else). How a platform's
own markup is drawn lives in its package (`platforms/<name>/desk.py`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_BIDI_CONTROLS = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
URL = re.compile(rf"https?://[^\s<>\"{_BIDI_CONTROLS}]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\u060c\u061b\u06d4"  # punctuation after a URL is not part of it (Arabic comma, semicolon, stop)
HASHTAG = re.compile(r"(?<![\w&#])#[\w\u200c]+")
# @user, or @user@server.example: a mention as the federated platforms link it (never an e-mail address's middle)
MENTION = re.compile(r"(?<![\w@/.])@[A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?(?![\w@])")


def safe_url(url: object) -> str | None:
    """`url` when it is an http(s) URL a page may link to, else None (no `javascript:`, no `data:`)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def host(url: object) -> str:
    good = safe_url(url)
    if good is None:
        return ""
    name = urlsplit(good).hostname or ""
    return name.removeprefix("www.")


def link(url: str, label: str | None = None) -> Markup:
    good = safe_url(url)
    shown = escape(label if label is not None else url)
    if good is None:
        return Markup('<span class="link" dir="ltr">{}</span>').format(shown)
    return Markup('<a class="link" dir="ltr" href="{}" rel="noopener noreferrer nofollow">{}</a>').format(good, shown)


def split_urls(text: str) -> list[tuple[str, bool]]:
    """(piece, is_url) in order."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for match in URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        out.append((text[pos : match.start()], False))
        out.append((url, True))
        pos = match.start() + len(url)
    out.append((text[pos:], False))
    return [(piece, is_url) for piece, is_url in out if piece]


def _marked(escaped: str, pattern: re.Pattern[str], css: str) -> str:
    return pattern.sub(lambda m: f'<span class="{css}">{m.group()}</span>', escaped)


def plain(text: str, *, hashtags: bool = True, mentions: bool = False) -> Markup:
    """Plain text as most platforms show it: links and hashtags (and mentions, if asked) marked, nothing else."""
    out = []
    for piece, is_url in split_urls(text):
        if is_url:
            out.append(str(link(piece)))
            continue
        escaped = str(escape(piece))  # neither pattern matches across an escaped '&', '<' or '"'
        if hashtags:
            escaped = _marked(escaped, HASHTAG, "tag")
        if mentions:
            escaped = _marked(escaped, MENTION, "mention")
        out.append(escaped)
    return Markup("".join(out))


__all__ = ["HASHTAG", "MENTION", "URL", "host", "link", "plain", "safe_url", "split_urls"]
