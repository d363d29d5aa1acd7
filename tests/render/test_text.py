from __future__ import annotations

from syndicator.render import rich as rt
from syndicator.render.rich import Span
from syndicator.render.text import (
    ELLIPSIS,
    block,
    clean,
    cut,
    cut_points,
    html_to_rich,
    inline,
    looks_like_html,
    rich_from_field,
    summary_from,
)


def test_clean_removes_what_no_platform_accepts() -> None:
    assert clean("a\x00b\ud800c\ufeffd\ufffe\u202ee\u2066f\u00adg\r\nh") == "abcdefg\nh"
    assert clean("e\u0301") == "é"  # NFC
    assert clean("نیم\u200cفاصله \u200f") == "نیم\u200cفاصله \u200f"  # ZWNJ and RLM are text
    assert clean("Çfarë ëndrra") == "Çfarë ëndrra"


def test_inline_and_block_whitespace() -> None:
    assert inline("  a \t\n b\u00a0\u00a0c  ") == "a b c"
    assert block("p1 line\nmore\n\n\n\n  p2  ") == "p1 line more\n\np2"


def test_html_is_reduced_to_styled_text() -> None:
    value = html_to_rich(
        "<p>Hello <b>bold <i>both</i></b> &amp; <a href='/x?a=1&amp;b=2'>link</a></p>"
        "<script>bad()</script><figure><img src=x><figcaption>caption</figcaption></figure>"
        "<p>second<br>line &#128512; &nbsp; <a href='javascript:x'>js</a></p><unknown>?</unknown>",
        "https://site.org/en/post/",
    )
    assert rt.plain(value) == "Hello bold both & link\n\nsecond\nline 😀 js\n\n?"
    styles = {span.text: (span.marks, span.href) for span in value}
    assert styles["bold "] == (frozenset({"b"}), None)
    assert styles["both"] == (frozenset({"b", "i"}), None)
    assert styles["link"] == (frozenset(), "https://site.org/x?a=1&b=2")


def test_broken_html_never_raises() -> None:
    for markup in ("<p><b>unclosed", "</b></i>stray", "<a href=", "<![CDATA[x", "<!-- x", "a < b > c & d"):
        html_to_rich(markup)


def test_plain_fields_with_markup_are_reduced() -> None:
    assert looks_like_html("Tom &amp; Jerry")
    assert looks_like_html("<p>x</p>")
    assert not looks_like_html("AT&T <3 R&D; a < b")
    assert rt.plain(rich_from_field("Tom &amp; Jerry <b>x</b>", single_line=True)) == "Tom & Jerry x"
    assert rt.plain(rich_from_field("AT&T <3", single_line=True)) == "AT&T <3"


def test_cut_points_are_word_boundaries() -> None:
    value = rt.text_span("one two three")
    assert cut_points(value) == [0, 3, 7, 13]
    assert rt.plain(cut(value, 7)) == "one two" + ELLIPSIS
    assert cut(value, 0) == ()
    assert cut(value, 13) == value


def test_cut_strips_dangling_punctuation() -> None:
    value = rt.text_span("first, second: third")
    assert rt.plain(cut(value, 6)) == "first" + ELLIPSIS
    assert rt.plain(cut(value, 14)) == "first, second" + ELLIPSIS


def test_long_words_and_scripts_without_spaces_may_be_cut_inside() -> None:
    word = "x" * 30
    points = cut_points(rt.text_span("a " + word))
    assert 1 in points and 2 + 10 in points and 2 + 5 not in points
    chinese = cut_points(rt.text_span("中文没有空格"))
    assert chinese == [0, 1, 2, 3, 4, 5, 6]


def test_never_cut_inside_a_url_hashtag_or_grapheme() -> None:
    value = rt.text_span("see https://example.org/" + "a" * 60 + " #hashtag_long_name_here_really")
    points = cut_points(value)
    url_end = len("see https://example.org/" + "a" * 60)
    assert not [p for p in points if 4 < p < url_end]
    emoji = rt.text_span("👨\u200d👩\u200d👧" * 30)
    assert all(p % 5 == 0 for p in cut_points(emoji))


def test_ellipsis_after_an_atom_is_separate() -> None:
    value = (Span("https://x.org/a", atom=True), Span(" more words here"))
    assert cut(value, 15) == (Span("https://x.org/a", atom=True), Span(" " + ELLIPSIS))


def test_summary_from_feed_or_content() -> None:
    assert rt.plain(summary_from("Excerpt text […]", "", "", 0)) == "Excerpt text" + ELLIPSIS
    assert rt.plain(summary_from("Excerpt. Continue reading →", "", "", 0)) == "Excerpt." + ELLIPSIS
    from_content = summary_from("", "<p>First.</p><p>Second.</p>", "https://x.org/", 0)
    assert rt.plain(from_content) == "First.\n\nSecond."
    capped = summary_from("one two three four five", "", "", 10)
    assert rt.plain(capped) == "one two" + ELLIPSIS
