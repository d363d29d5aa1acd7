from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicator.render.graphemes import boundaries, graphemes, is_boundary, next_boundary


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("abc", ["a", "b", "c"]),
        ("e\u0301x", ["e\u0301", "x"]),  # combining mark
        ("\r\nx", ["\r\n", "x"]),
        ("👨\u200d👩\u200d👧!", ["👨\u200d👩\u200d👧", "!"]),  # ZWJ sequence
        ("🇮🇷🇦🇱🇺", ["🇮🇷", "🇦🇱", "🇺"]),  # regional-indicator pairs
        ("👍🏽👍", ["👍🏽", "👍"]),  # skin-tone modifier
        ("❤\ufe0f1\ufe0f\u20e3", ["❤\ufe0f", "1\ufe0f\u20e3"]),  # variation selector, keycap
        (
            "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            ["🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"],
        ),
        ("مُحَمَّد", ["مُ", "حَ", "مَّ", "د"]),  # Arabic harakat
        ("نیم\u200cفاصله", ["ن", "ی", "م\u200c", "ف", "ا", "ص", "ل", "ه"]),  # ZWNJ stays with its letter
        ("\u1100\u1161\u11a8한", ["\u1100\u1161\u11a8", "한"]),  # Hangul jamo
        ("क्षि", ["क्षि"]),  # Devanagari conjunct (GB9c) with a vowel sign
        ("\u0600١٢", ["\u0600١", "٢"]),  # prepended concatenation mark
        ("Ëç", ["Ë", "ç"]),
    ],
)
def test_known_clusters(text: str, clusters: list[str]) -> None:
    assert graphemes(text) == clusters


@settings(max_examples=200, derandomize=True)
@given(st.text())
def test_segmentation_covers_the_text(text: str) -> None:
    b = boundaries(text)
    assert b[0] == 0 and b[-1] == len(text) and b == sorted(set(b))
    assert "".join(graphemes(text)) == text
    for offset in range(len(text) + 1):
        if is_boundary(text, offset):
            assert offset in b
    for offset in b:
        assert is_boundary(text, offset)
        assert next_boundary(text, offset) == offset
