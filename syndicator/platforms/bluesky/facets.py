"""Rich-text facets: Bluesky links nothing by itself, so every URL and hashtag of a post is declared as a facet
over a range of the text given in UTF-8 **byte** offsets (`byteStart` inclusive, `byteEnd` exclusive).

Offsets in characters (code points or UTF-16 units, what Python and JavaScript index by) are the classic bug: they
are right for ASCII and wrong for Persian, Arabic (2 bytes a letter) and emoji (4 bytes and more), where the link
then covers the wrong words. Everything here is counted on the encoded text.

Links: `http(s)://` up to white space, a bidi control (the renderer isolates Latin runs in right-to-left posts) or
an angle bracket/quote; trailing sentence punctuation is not part of it (a `)` only when unbalanced). Hashtags: `#`
at the start or after white space, then letters, marks, digits, `_` and ZWNJ/ZWJ (a Persian word keeps its
half-space), at least one letter (or emoji), at most 64 graphemes; the facet's `tag` is the text without `#`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from syndicator.render.graphemes import graphemes

TAG_MAX_GRAPHEMES = 64
TAG_MAX_BYTES = 640
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"

_BIDI = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
_URL = re.compile(rf"https?://[^\s<>\"{_BIDI}]+")
_URL_TRAILING = ".,;:!?'\"»«“”‘’…"
_TAG = re.compile(rf"(?:^|(?<=[\s{_BIDI}]))[#＃]([^\s#＃{_BIDI}]+)")


@dataclass(frozen=True, slots=True)
class Facet:
    byte_start: int
    byte_end: int
    kind: Literal["link", "tag"]
    value: str  # the URI, or the tag without '#'

    def as_record(self) -> dict[str, Any]:
        """The facet as the record's JSON has it (app.bsky.richtext.facet)."""
        feature = {"$type": LINK, "uri": self.value} if self.kind == "link" else {"$type": TAG, "tag": self.value}
        return {"index": {"byteStart": self.byte_start, "byteEnd": self.byte_end}, "features": [feature]}


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILING:
        url = url[:-1]
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    return url


def _tag_body(token: str) -> str:
    """The hashtag a `#token` carries: up to the first character a tag cannot hold, trailing `_`-less
    punctuation removed; "" when it is no tag."""
    end = 0
    for i, ch in enumerate(token):
        category = unicodedata.category(ch)
        if category[0] in "LMN" or ch in "_\u200c\u200d" or category == "So":
            end = i + 1
            continue
        break
    body = token[:end].rstrip("\u200c\u200d")
    if not body or not any(unicodedata.category(c)[0] == "L" or unicodedata.category(c) == "So" for c in body):
        return ""
    if len(graphemes(body)) > TAG_MAX_GRAPHEMES or len(body.encode("utf-8")) > TAG_MAX_BYTES:
        return ""
    return body


def find_facets(text: str) -> list[Facet]:
    """Every link and hashtag of `text`, in order, with UTF-8 byte offsets."""
    spans: list[tuple[int, int, Literal["link", "tag"], str]] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        if len(url) > len("https://"):
            spans.append((match.start(), match.start() + len(url), "link", url))
    for match in _TAG.finditer(text):
        body = _tag_body(match.group(1))
        start = match.start()
        if body and not any(s <= start < e for s, e, _, _ in spans):
            spans.append((start, match.start(1) + len(body), "tag", body))
    spans.sort()
    return [Facet(_byte_offset(text, s), _byte_offset(text, e), kind, value) for s, e, kind, value in spans]


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))
