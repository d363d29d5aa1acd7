from __future__ import annotations

import pytest
from twitter_text import parse_tweet

from syndicator.platforms.telegram.measure import telegram_length
from syndicator.platforms.twitter.measure import x_weighted_length
from syndicator.render.measure import utf16_length


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("سلام دنیا", 9),  # Arabic-script letters weigh 1
        ("ﷺ", 2),  # Arabic presentation forms weigh 2
        ("日本語", 6),
        ("😀", 2),
        ("👍🏽", 2),
        ("🇦🇱", 2),
        ("❤️", 2),
        ("1️⃣", 2),
        ("©", 2),  # an emoji to twitter-text even without U+FE0F
        ("“quotes” — …", 13),  # U+2026 is outside the weight-1 punctuation ranges
        ("e\u0301", 1),  # NFC first
        ("https://www.nejatngo.org/en/" + "x" * 200, 23),
        ("\u2066https://www.nejatngo.org/fa/%D8%A7/\u2069", 27),  # isolates weigh 2 each, the URL 23
        ("Booking.com and Amazon.co.uk", 51),  # URLs without a protocol count 23 too
        ("http://localhost:8000/x", 23),  # not a URL to twitter-text: counted by characters
        ("a.co,b.co", 47),
    ],
)
def test_x_weighted_length_matches_twitter_text(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected == parse_tweet(text).weightedLength


def test_zwj_sequences_are_counted_by_their_parts() -> None:
    family = "👨\u200d👩\u200d👧"
    assert parse_tweet(family).weightedLength == 2
    assert x_weighted_length(family) == 8  # safe side: never less than X counts


def test_telegram_counts_utf16_after_entity_parsing() -> None:
    assert telegram_length("<b>a</b>&amp;&lt;") == 3
    assert telegram_length('<a href="https://x.org/?a=1&amp;b=2">x</a>') == 1
    assert telegram_length("😀") == 2  # astral: two UTF-16 code units
    assert telegram_length("&#128512;") == 2
    assert utf16_length("ë😀") == 3
