"""Length as X counts it: twitter-text v3 weighted length.

NFC first; every URL X would link counts 23; code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F,
U+2032–U+2037 weigh 1, all others 2; an emoji sequence weighs 2. Emoji ZWJ and tag sequences are counted by their
parts (an over-estimate, never an under-estimate).
"""

from __future__ import annotations

import re
import unicodedata

from syndicator.platforms.twitter._emoji import FLAGS, MODIFIER_BASES, PRESENTATION_BASES
from syndicator.platforms.twitter.xurls import extract_urls
from syndicator.render.graphemes import RangeSet

X_LIMIT = 280
X_URL_WEIGHT = 23

_KEYCAP_BASES = frozenset("#*0123456789")
_VS16 = "\ufe0f"
_KEYCAP = "\u20e3"


_PRESENTATION = RangeSet(PRESENTATION_BASES)
_MODIFIABLE = RangeSet(MODIFIER_BASES)


def code_point_weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if cp <= 0x10FF or 0x2000 <= cp <= 0x200D or 0x2010 <= cp <= 0x201F or 0x2032 <= cp <= 0x2037 else 2


def _emoji_length(text: str, i: int) -> int:
    """Code points of the emoji sequence X counts as one at text[i], or 0."""
    ch = text[i]
    cp = ord(ch)
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if 0x1F1E6 <= cp <= 0x1F1FF and nxt and 0x1F1E6 <= ord(nxt) <= 0x1F1FF:
        region = chr(cp - 0x1F1E6 + 65) + chr(ord(nxt) - 0x1F1E6 + 65)
        return 2 if region in FLAGS else 0
    if ch in _KEYCAP_BASES:
        if nxt == _KEYCAP:
            return 2
        if nxt == _VS16 and text[i + 2 : i + 3] == _KEYCAP:
            return 3
        return 0
    if nxt == _VS16 and cp in _PRESENTATION:
        return 2
    if nxt and 0x1F3FB <= ord(nxt) <= 0x1F3FF and cp in _MODIFIABLE:
        return 2
    if cp in (0xA9, 0xAE):  # (C) and (R) are emoji to twitter-text even without U+FE0F
        return 1
    return 0


def x_weighted_length(text: str) -> int:
    """The weighted length X gives `text` (limit 280)."""
    normalized = re.sub(r"\r\n|\r", "\n", unicodedata.normalize("NFC", text))
    urls = {span.start: span for span in extract_urls(normalized)}
    total = 0
    i = 0
    n = len(normalized)
    while i < n:
        url = urls.get(i)
        if url is not None:
            total += X_URL_WEIGHT
            i += max(len(url.url), 1)
            continue
        emoji = _emoji_length(normalized, i)
        if emoji:
            total += 2
            i += emoji
            continue
        total += code_point_weight(normalized[i])
        i += 1
    return total
