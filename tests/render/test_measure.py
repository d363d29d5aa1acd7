from __future__ import annotations

import pytest

from syndicator.platforms.telegram.measure import telegram_length
from syndicator.platforms.twitter.measure import x_parse, x_valid, x_weighted_length
from syndicator.render.measure import utf16_length
from tests.render import oracle


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
        ("©", 1),  # not an emoji to twitter-text without U+FE0F (twemoji-parser)
        ("©\ufe0f", 2),
        ("®", 1),
        ("\ufe0f", 2),  # a lone U+FE0F is an emoji to twemoji-parser
        ("👨\u200d👩\u200d👧", 2),  # a ZWJ sequence is one emoji
        ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", 2),  # England: a tag sequence
        ("👨\u200d👩\u200d👧" * 140, 280),
        ("سلامexample.com", 27),  # a domain right after Arabic letters is a URL
        ("گزارشt.co", 28),
        ("a\r\nb", 4),  # twitter-text does not fold CRLF
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
    assert x_weighted_length(text) == expected
    if oracle.available():
        assert oracle.run([text])[0]["parse"]["weightedLength"] == expected


@pytest.mark.parametrize("bad", ["\ufffe", "\uffff", "\ufeff"])
def test_invalid_characters_make_a_post_invalid(bad: str) -> None:
    assert x_valid("ok")
    assert not x_valid(f"ok {bad} ok")
    assert x_parse(f"ok {bad} ok").weighted_length == 8


def test_directional_controls_are_valid_as_in_the_official_data() -> None:
    assert all(x_valid(f"ok {chr(cp)} ok") for cp in range(0x202A, 0x202F))


def test_telegram_counts_utf16_after_entity_parsing() -> None:
    assert telegram_length("<b>a</b>&amp;&lt;") == 3
    assert telegram_length('<a href="https://x.org/?a=1&amp;b=2">x</a>') == 1
    assert telegram_length("😀") == 2  # astral: two UTF-16 code units
    assert telegram_length("&#128512;") == 2
    assert utf16_length("ë😀") == 3
