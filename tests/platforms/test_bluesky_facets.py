"""Bluesky facets and length, property-tested: byte offsets stay right for Persian, Arabic and emoji, and the one
length number keeps both limits (300 graphemes, 3,000 bytes). The oracle is independent of the code under test:
the fake PDS's validator (facets checked on the encoded text, graphemes by the `regex` module's UAX #29)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicator.platforms.bluesky.facets import find_facets
from syndicator.platforms.bluesky.measure import bluesky_length
from tests.fakes.bluesky import FakeBluesky, grapheme_count

PERSIAN = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی‌۰۱۲۳"  # with ZWNJ and Persian digits
ARABIC = "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىيًٌٍَُِّْ٠١٢"  # with harakat
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "🇮🇷", "🏳️‍🌈", "❤️", "1️⃣", "🧑🏿‍🚀"]
LATIN = "abcXYZ019éü"

word = st.one_of(
    st.text(alphabet=PERSIAN, min_size=1, max_size=8),
    st.text(alphabet=ARABIC, min_size=1, max_size=8),
    st.text(alphabet=LATIN, min_size=1, max_size=8),
    st.lists(st.sampled_from(EMOJI), min_size=1, max_size=3).map("".join),
)
url = st.builds(
    lambda host, path: f"https://{host}.example/{path}x",  # ends in a letter: trailing punctuation is not a URL's
    st.text(alphabet="abcdefgh", min_size=1, max_size=8),
    st.text(alphabet="abc019-_/?=&%", max_size=20),
)
tag_body = st.one_of(
    st.text(alphabet=PERSIAN.replace("\u200c", "") + "_", min_size=1, max_size=10),
    st.text(alphabet=ARABIC[:28], min_size=1, max_size=10),
    st.text(alphabet="abcXYZ_", min_size=1, max_size=10),
).filter(lambda t: any(c.isalpha() for c in t))
piece = st.one_of(word, word, url.map(lambda u: ("url", u)), tag_body.map(lambda t: ("tag", t)))
separator = st.sampled_from([" ", "\n", "\n\n", " — ", "\u2066", "\u2069 "])


@st.composite
def posts(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """A text of words, URLs and hashtags in any script; with the URLs and tags it holds."""
    parts: list[str] = []
    urls: list[str] = []
    tags: list[str] = []
    for item in draw(st.lists(piece, min_size=1, max_size=12)):
        if parts:
            parts.append(draw(separator))
            if isinstance(item, tuple) and parts[-1].endswith("\u2066"):
                parts.append(" ")
        if isinstance(item, tuple) and item[0] == "url":
            urls.append(item[1])
            parts.append(item[1])
        elif isinstance(item, tuple):
            tags.append(item[1])
            parts.append("#" + item[1])
        else:
            parts.append(item)
    return "".join(parts), urls, tags


@settings(max_examples=300, deadline=None)
@given(posts())
def test_facets_cover_exactly_their_urls_and_tags_in_utf8_bytes(sample: tuple[str, list[str], list[str]]) -> None:
    text, urls, tags = sample
    facets = find_facets(text)
    data = text.encode("utf-8")
    assert [f.value for f in facets if f.kind == "link"] == urls
    assert [f.value for f in facets if f.kind == "tag"] == [t for t in tags if grapheme_count(t) <= 64]
    for facet in facets:
        covered = data[facet.byte_start : facet.byte_end].decode("utf-8")
        assert covered == (facet.value if facet.kind == "link" else "#" + facet.value)
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-05-01T12:00:00Z",
              "facets": [f.as_record() for f in facets]}  # fmt: skip
    problem = FakeBluesky.invalid(FakeBluesky.__new__(FakeBluesky), record)
    assert problem == "" or "longer than" in problem


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(word, st.sampled_from([" ", "\n"])), max_size=400).map("".join))
def test_one_length_keeps_both_limits(text: str) -> None:
    fits = grapheme_count(text) <= 300 and len(text.encode()) <= 3000
    assert (bluesky_length(text) <= 300) == fits


def test_character_offsets_would_be_wrong_and_byte_offsets_are_right() -> None:
    text = "فوری 👨‍👩‍👧 https://example.org/a #خبر"
    link, tag = find_facets(text)
    # 11 characters (14 UTF-16 units) before the link, but 28 bytes: only bytes are right
    assert text.index("https") == 11 and link.byte_start == 28 and link.byte_end == 49
    assert (tag.byte_start, tag.byte_end, tag.value) == (50, 57, "خبر")


def test_punctuation_bidi_marks_and_digits() -> None:
    text = "See https://example.org/a_(b)). And \u2066https://example.org/c\u2069, #123 #Human_Rights! #نیم‌فاصله"
    values = [(f.kind, f.value) for f in find_facets(text)]
    assert values == [
        ("link", "https://example.org/a_(b)"),
        ("link", "https://example.org/c"),
        ("tag", "Human_Rights"),
        ("tag", "نیم\u200cفاصله"),
    ]
    assert [f.kind for f in find_facets("a#notatag https://x")] == ["link"]
