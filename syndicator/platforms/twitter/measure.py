"""Length and validity as X counts them: twitter-text v3's `parseTweet` (config v3), the official library's loop.

NFC first; every URL X would link counts 23; every emoji sequence twemoji-parser finds (ZWJ families, keycaps,
flags, tag sequences, skin tones) weighs 2 as one; other code points in U+0000–U+10FF, U+2000–U+200D,
U+2010–U+201F, U+2032–U+2037 weigh 1, all others 2. A text is valid when it is not empty, weighs at most 280 and
holds none of U+FFFE, U+FEFF, U+FFFF (the directional controls U+202A–U+202E are allowed, as in the official
data). Offsets, like the library's, are UTF-16 code units.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from syndicator.platforms.twitter._emoji import EMOJI_UTF16, utf16_units
from syndicator.render.url_extract import extract_urls

X_LIMIT = 280
X_URL_WEIGHT = 23
X_INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")
_SCALE = 100


@dataclass(frozen=True, slots=True)
class XParse:
    """twitter-text's `parseTweet` result (ranges inclusive, in UTF-16 code units of the text as given)."""

    weighted_length: int
    valid: bool
    permillage: int
    valid_range_end: int
    display_range_end: int


def code_point_weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if cp <= 0x10FF or 0x2000 <= cp <= 0x200D or 0x2010 <= cp <= 0x201F or 0x2032 <= cp <= 0x2037 else 2


def _unit_offsets(text: str) -> list[int]:
    """UTF-16 offset of every code point of `text` (and of its end)."""
    offsets = [0] * (len(text) + 1)
    unit = 0
    for i, ch in enumerate(text):
        offsets[i] = unit
        unit += 2 if ord(ch) > 0xFFFF else 1
    offsets[len(text)] = unit
    return offsets


def x_parse(text: str) -> XParse:
    """What X makes of `text`: weighted length (limit 280) and validity."""
    normalized = unicodedata.normalize("NFC", text)
    units = utf16_units(normalized)
    urls: dict[int, int] = {}
    spans = extract_urls(normalized)
    if spans:
        offsets = _unit_offsets(normalized) if len(units) != len(normalized) else None
        for span in spans:
            start = offsets[span.start] if offsets else span.start
            urls[start] = len(utf16_units(span.url))
    emojis = {m.start(): m.end() - m.start() for m in EMOJI_UTF16.finditer(units)}
    weighted = 0
    valid = True
    valid_display = 0
    i = 0
    n = len(units)
    while i < n:
        if i in urls:
            weighted += X_URL_WEIGHT * _SCALE
            i += urls[i] - 1
        elif i in emojis:
            weighted += 2 * _SCALE
            i += emojis[i] - 1
        else:
            if i + 1 < n and "\ud800" <= units[i] <= "\udbff" and "\udc00" <= units[i + 1] <= "\udfff":
                i += 1
            weighted += code_point_weight(units[i]) * _SCALE
        if valid:
            valid = units[i] not in X_INVALID_CHARACTERS
        if valid and weighted <= X_LIMIT * _SCALE:
            valid_display = i
        i += 1
    length = weighted // _SCALE
    text_units = len(utf16_units(text))
    return XParse(
        weighted_length=length,
        valid=valid and 0 < length <= X_LIMIT,
        permillage=math.floor(length / X_LIMIT * 1000),
        valid_range_end=valid_display + text_units - n,
        display_range_end=text_units - 1 if text else 0,
    )


def x_weighted_length(text: str) -> int:
    """The weighted length X gives `text` (limit 280)."""
    return x_parse(text).weighted_length


def x_valid(text: str) -> bool:
    """Whether X accepts `text` as a post: not empty, at most 280, no invalid characters."""
    return x_parse(text).valid
