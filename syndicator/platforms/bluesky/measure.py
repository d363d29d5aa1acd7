"""Length as Bluesky limits it: a post's text is at most 300 graphemes and 3,000 UTF-8 bytes.

The renderer fits one number, so both limits become one: `bluesky_length` is the larger of the grapheme count and
the byte count divided by ten (rounded up). It is at most 300 exactly when the text has at most 300 graphemes and at
most 3,000 bytes. Persian and Arabic letters take 2 bytes each, so graphemes decide there; long emoji sequences
(a family is 25 bytes in one grapheme) can make bytes decide.
"""

from __future__ import annotations

from syndicator.render.graphemes import graphemes

BLUESKY_GRAPHEMES = 300
BLUESKY_BYTES = 3000
BLUESKY_LIMIT = BLUESKY_GRAPHEMES  # of `bluesky_length`
_BYTES_PER_UNIT = BLUESKY_BYTES // BLUESKY_GRAPHEMES


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def grapheme_length(text: str) -> int:
    return len(graphemes(text))


def bluesky_length(text: str) -> int:
    """≤ 300 exactly when Bluesky takes `text`: ≤ 300 graphemes and ≤ 3,000 UTF-8 bytes."""
    return max(grapheme_length(text), -(-utf8_length(text) // _BYTES_PER_UNIT))
