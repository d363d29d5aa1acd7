"""Length as a Mastodon server counts it (its StatusLengthValidator): grapheme clusters of the text, where every
URL counts the instance's `characters_reserved_per_url` (23 on a stock server) whatever its length, and a mention
`@user@server` counts as `@user`.

Mastodon finds URLs with twitter-text's extractor, URLs with a scheme only (`extract_url_without_protocol: false`);
`syndicator.render.url_extract` is that extractor (a pure module: no client library comes with it).
"""

from __future__ import annotations

import re

from syndicator.render.graphemes import graphemes
from syndicator.render.url_extract import extract_urls

STOCK_URL_LENGTH = 23
_MENTION = re.compile(r"(?<![\w@/])@(\w+)@[\w.-]*\w")


def mastodon_length(text: str, reserved_per_url: int = STOCK_URL_LENGTH) -> int:
    """Mastodon's length of `text` (limit: the instance's max_characters, 500 on a stock server)."""
    spans = [s for s in extract_urls(text) if s.url.lower().startswith(("http://", "https://"))]
    parts: list[str] = []
    at = 0
    for span in spans:
        parts += [text[at : span.start], "x" * reserved_per_url]
        at = span.end
    parts.append(text[at:])
    countable = _MENTION.sub(lambda m: "@" + m.group(1), "".join(parts))
    return len(graphemes(countable))
