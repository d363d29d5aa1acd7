"""A `Post`'s text as HTML the way its platform shows it: Telegram's HTML subset, WhatsApp's `*bold*` markers, plain
text elsewhere; URLs become links isolated from the text around them (`dir="ltr"`), hashtags are marked.

Every character of the post is escaped here; only the tags this module writes reach the page, and only http(s)
URLs become links. The result is `Markup` for the templates (which autoescape everything else).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_BIDI_CONTROLS = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
URL = re.compile(rf"https?://[^\s<>\"{_BIDI_CONTROLS}]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\u060c\u061b\u06d4"  # punctuation after a URL is not part of it (Arabic comma, semicolon, stop)
HASHTAG = re.compile(r"(?<![\w&#])#[\w\u200c]+")
_WA_MARKS = (
    (re.compile(r"```(.+?)```", re.DOTALL), "code"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


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


def _split_urls(text: str) -> list[tuple[str, bool]]:
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


def _hashtags(escaped: str) -> str:
    return HASHTAG.sub(lambda m: f'<span class="tag">{m.group()}</span>', escaped)


def plain(text: str, *, hashtags: bool = True) -> Markup:
    """Plain text as X, Facebook and most platforms show it: links and hashtags marked, nothing else."""
    out = []
    for piece, is_url in _split_urls(text):
        if is_url:
            out.append(str(link(piece)))
        else:
            escaped = str(escape(piece))
            out.append(_hashtags(escaped) if hashtags else escaped)
    return Markup("".join(out))


def whatsapp(text: str) -> Markup:
    """WhatsApp's markers (`*bold*`, `_italic_`, `~strike~`, ```mono```) as it draws them; URLs are never styled."""
    out = []
    for piece, is_url in _split_urls(text):
        if is_url:
            out.append(str(link(piece)))
            continue
        escaped = str(escape(piece))
        for pattern, tag in _WA_MARKS:
            escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
        out.append(escaped)
    return Markup("".join(out))


_TG_TAGS = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s", "strike": "s", "del": "s",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-spoiler": "span", "span": "span",
    "tg-emoji": "span", "a": "a",
}  # fmt: skip


class _TelegramToHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ours = _TG_TAGS.get(tag)
        if ours is None:
            self.out.append(str(escape(self.get_starttag_text() or "")))
            return
        if ours == "a":
            href = safe_url(dict(attrs).get("href"))
            opening = (
                str(Markup('<a class="link" dir="auto" href="{}" rel="noopener noreferrer nofollow">').format(href))
                if href
                else '<a class="link" dir="auto">'
            )  # a URL shown as the link's text runs left to right, a Persian label right to left
        elif ours == "span":
            opening = '<span class="spoiler">' if tag != "tg-emoji" else "<span>"
        else:
            opening = f"<{ours}>"
        self.out.append(opening)
        self.stack.append(ours)

    def handle_endtag(self, tag: str) -> None:
        ours = _TG_TAGS.get(tag)
        if ours is None or ours not in self.stack:
            self.out.append(str(escape(f"</{tag}>")))
            return
        while self.stack:  # an unbalanced text (never rendered by us) is closed, not left open
            top = self.stack.pop()
            self.out.append(f"</{top}>")
            if top == ours:
                break

    def handle_data(self, data: str) -> None:
        # Telegram also makes bare URLs and #hashtags into links, except inside a link
        self.out.append(str(escape(data)) if "a" in self.stack else str(plain(data)))

    def close(self) -> None:
        super().close()
        while self.stack:
            self.out.append(f"</{self.stack.pop()}>")


def telegram(text: str, parse_mode: str | None) -> Markup:
    """A Telegram message: its HTML parse mode drawn with the same tags (escaped text, http(s) links only)."""
    if (parse_mode or "").upper() != "HTML":
        return plain(text)
    parser = _TelegramToHTML()
    parser.feed(text)
    parser.close()
    return Markup("".join(parser.out))


__all__ = ["HASHTAG", "URL", "host", "link", "plain", "safe_url", "telegram", "whatsapp"]
