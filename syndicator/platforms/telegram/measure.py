"""Length as Telegram counts it: UTF-16 code units of the text after entity parsing.

The HTML parse-mode text is parsed (stdlib `html.parser`), as the Bot API parses it: only Telegram's tags, each
closed in order; `&lt;` `&gt;` `&amp;` `&quot;` and numeric references become one character. A text Telegram would
refuse ("can't parse entities") raises `TelegramHTMLError`: it has no length, and the renderer must never send it.

The check is strict where Telegram guesses: a `<` that does not start a supported tag, an `&` that does not start
one of those entities written in full (`AT&T`, `&nbsp;`, `&lt` without `;`) and an attribute without a value are
refused, even though Telegram shows some of them literally, because the stdlib parser and Telegram read them
differently (`&nbsp;` is one character to one and six to the other) and the renderer escapes all of them anyway.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from syndicator.render.measure import utf16_length

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

# the tags of the Bot API's HTML style (https://core.telegram.org/bots/api#html-style)
TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span",
     "blockquote", "tg-emoji"}
)  # fmt: skip
# an `&` must start one of these: what Telegram decodes, and what html.parser decodes the same way
_REFERENCE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class TelegramHTMLError(ValueError):
    """Telegram would refuse the text: "Bad Request: can't parse entities: …"."""


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.stack: list[str] = []
        self.tags = 0  # `<` characters the parser consumed as tags

    def _fail(self, message: str) -> None:
        line, column = self.getpos()
        raise TelegramHTMLError(f"{message} at line {line}, column {column}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
        if any(value is None for _, value in attrs):
            self._fail(f'Expected equal sign in declaration of an attribute of the tag "{tag}"')
        values = dict(attrs)
        if tag == "a" and not values.get("href"):
            self._fail('Tag "a" must have an attribute "href"')
        if tag == "span" and values.get("class") != "tg-spoiler":
            self._fail('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and not values.get("emoji-id"):
            self._fail('Tag "tg-emoji" must have an attribute "emoji-id"')
        self.tags += (self.get_starttag_text() or "").count("<")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f'Unexpected end tag "</{tag}>"')
        if self.stack[-1] != tag:
            self._fail(f'Unmatched end tag, expected "</{self.stack[-1]}>", found "</{tag}>"')
        self.stack.pop()
        self.tags += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self._fail("Unsupported start tag (a comment)")

    def handle_decl(self, decl: str) -> None:
        self._fail("Unsupported start tag (a declaration)")

    def handle_pi(self, data: str) -> None:
        self._fail("Unsupported start tag (a processing instruction)")

    def unknown_decl(self, data: str) -> None:
        self._fail("Unsupported start tag (a declaration)")


def _check_references(html_text: str) -> None:
    for at in (m.start() for m in re.finditer("&", html_text)):
        match = _REFERENCE.match(html_text, at)
        if match is None:
            raise TelegramHTMLError(f"Unsupported HTML entity at offset {at}")
        ref = match.group(0)
        if ref[1] == "#":
            code = int(ref[3:-1], 16) if ref[2] == "x" else int(ref[2:-1])
            # Telegram decodes 1..0x10FFFE; html.parser maps 0, C1 controls, surrogates and others elsewhere
            if not 0 < code < 0x10FFFF or 0xD800 <= code <= 0xDFFF or html.unescape(ref) != chr(code):
                raise TelegramHTMLError(f"Unsupported character reference {ref} at offset {at}")


def telegram_plain(html_text: str) -> str:
    """What Telegram shows for `html_text` in HTML parse mode; TelegramHTMLError if Telegram would refuse it."""
    _check_references(html_text)
    parser = _TelegramHTML()
    parser.feed(html_text)
    parser.close()
    if parser.stack:
        raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"')
    if parser.tags != html_text.count("<"):  # a `<` read as text: Telegram takes every `<` for a tag
        raise TelegramHTMLError("Unsupported start tag (a `<` that starts no tag)")
    return "".join(parser.text)


def telegram_valid(html_text: str) -> bool:
    try:
        telegram_plain(html_text)
    except TelegramHTMLError:
        return False
    return True


def telegram_length(html_text: str) -> int:
    """Telegram's length of an HTML-mode message: UTF-16 code units after entity parsing. TelegramHTMLError if
    Telegram would refuse the text."""
    return utf16_length(telegram_plain(html_text))
