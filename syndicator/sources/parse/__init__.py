"""Feed documents → `Article`s: RSS 2.0/0.9x, RSS 1.0 (RDF), Atom 1.0/0.3, and JSON Feed, with libxml2 (lxml).

How a document is read, safest and fastest first:

1. The bytes go to a strict lxml parser that resolves no entities, loads no DTD and never touches the network (so
   "billion laughs" and XXE are inert: an undefined or declared entity stays an unexpanded reference node).
2. If that fails (ill-formed XML, wrong declared encoding, HTML entities, control characters, leading blank lines,
   a DOCTYPE that declares entities, a single-byte encoding declared for UTF-8 bytes), the bytes are decoded with
   the first encoding that fits (BOM, declaration, HTTP charset, UTF-8; else UTF-8 with stray bytes read as
   cp1252), cleaned (forbidden control
   characters removed, DOCTYPE removed, its simple internal entities substituted within a budget, HTML named
   entities turned into character references, stray "&" escaped) and parsed strictly again, then with the
   recovering parser. A recovered document keeps what is usable; an item cut off by truncation is dropped.

Nothing here does I/O. Text fields of an `Article` are plain text (tags stripped, entities decoded, whitespace
collapsed); `content_html` is the entry's raw HTML.

Modules: `load` (bytes → tree), `elements` (names, text constructs, xml:base), `rss_atom`, `jsonfeed`, `text` (HTML →
plain text, excerpts), `dates`, `normalise` (languages, duplicates), `model` (`ParsedFeed`, raw field limits).
"""

from __future__ import annotations

from syndicator.errors import FeedError
from syndicator.sources.parse.dates import parse_date
from syndicator.sources.parse.elements import _kind
from syndicator.sources.parse.jsonfeed import _parse_json
from syndicator.sources.parse.load import _load, _strip_leading
from syndicator.sources.parse.model import ParsedFeed
from syndicator.sources.parse.normalise import normalise_language
from syndicator.sources.parse.rss_atom import _parse_atom, _parse_rss
from syndicator.sources.parse.text import SUMMARY_CHARS, html_to_text

__all__ = ["SUMMARY_CHARS", "ParsedFeed", "html_to_text", "normalise_language", "parse", "parse_date"]


def parse(
    data: bytes, *, feed: str, base_url: str = "", language: str = "", content_type: str | None = None
) -> ParsedFeed:
    """Parse one feed document. Raises FeedError (reason "empty", "not_a_feed" or "malformed") when nothing usable.

    `base_url` (normally the URL the document was fetched from) resolves relative links; `content_type` is the HTTP
    Content-Type, whose charset is tried when the document's own encoding is wrong; `language` overrides the feed's.
    A feed with no items is not an error: it parses to an empty list.
    """
    body = _strip_leading(data)
    if not body.strip():
        raise FeedError("the feed document is empty", reason="empty")
    override = normalise_language(language) if language else ""
    if body[:1] == b"{":
        return _parse_json(body, feed=feed, base_url=base_url, language=override)
    root, cleaned = _load(body, content_type)
    kind = _kind(root)
    if kind == "atom":
        return _parse_atom(root, cleaned, feed=feed, base_url=base_url, language=override)
    return _parse_rss(root, cleaned, feed=feed, base_url=base_url, language=override)


# --------------------------------------------------------------------------------------------------------------
# Reading the document safely
