"""Property-based tests: for arbitrary titles, summaries, HTML and categories, every post is one its platform
accepts. The oracles are independent of the renderer: for X the official twitter-text rules (our measure, which
runs the official conformance suite, and the official library through node when tests/oracle/ is installed), a
separate Telegram HTML checker.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicator.article import Article, Post
from syndicator.platforms.twitter.measure import x_parse
from syndicator.render import render
from syndicator.render.bidi import BIDI_MARKS
from syndicator.render.text import ELLIPSIS, inline
from syndicator.render.url_extract import extract_urls
from tests.render import oracle
from tests.render.helpers import target, telegram_problems, utf16

# Deterministic and quick by default. For a deeper, random search:
#   RENDER_EXAMPLES=5000 RENDER_RANDOM=1 .venv/bin/pytest tests/render/test_properties.py
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("RENDER_EXAMPLES", "80")),
    deadline=None,
    derandomize=not os.environ.get("RENDER_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_SPECIAL = (
    "<>&*_~`#@\"' \n\t\u00a0"
    "\u0301\u0308\u064b\u0651\u200c\u200d\u200e\u200f\u2066\u2069\u202e\ufe0f\u20e3\ufeff\ufffe"
    "ëçÇËéá"
    "سلامعربیفارسیگزارشنیمفاصله۱۴۰۲٣"
    "中文字日本語ไทย한국"
    "😀👍🏽❤👨👩👧🇮🇷🇦🇱🔴"
    "…—–-.,:;!?()[]"
)
_WORDS = st.sampled_from(
    [
        "Apple",
        "iPhone",
        "15",
        "Pro",
        "MEK",
        "Tiranë",
        "çështje",
        "گزارش",
        "نیم‌فاصله",
        "سازمان",
        "الأمم",
        "المتحدة",
        "2024",
        "۱۴۰۲",
        "&",
        "<b>",
        "*x*",
        "_y_",
        "e\u0301",
        "👨‍👩‍👧",
        "🇦🇱",
        "example.com",
        "https://t.co/abc",
        "#tag",
        "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3,
        "中文没有空格的句子很长很长",
    ]
)
_CHARS = st.one_of(st.characters(), st.sampled_from(_SPECIAL))
TEXT = st.one_of(
    st.text(_CHARS, max_size=60),
    st.text(_CHARS, min_size=200, max_size=700),
    st.lists(st.one_of(_WORDS, st.text(_CHARS, max_size=8)), min_size=20, max_size=150).map(" ".join),
)
_HTML_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<strong>",
        "<i>",
        "</em>",
        "<br>",
        "<br/>",
        "<a href='https://example.org/a?b=1&c=2'>",
        '<a href="/relative/path">',
        "<a href='javascript:alert(1)'>",
        "</a>",
        "<ul><li>",
        "</li>",
        "<script>x<y</script>",
        "<img src=x>",
        "&amp;",
        "&lt;",
        "&gt;",
        "&quot;",
        "&nbsp;",
        "&hellip;",
        "&#128512;",
        "&#xD800;",
        "&bogus;",
        "<",
        ">",
        "&",
        "<!--",
        "-->",
        "<![CDATA[",
        "<pre>a\n b</pre>",
        "<code>",
        "</code>",
        "<tg-spoiler>",
    ]
)
LONG = st.one_of(
    st.lists(st.one_of(_WORDS, st.text(_CHARS, max_size=12)), min_size=150, max_size=600).map(" ".join),
    st.text(_CHARS, min_size=1000, max_size=4500),
)
HTML = st.lists(st.one_of(_HTML_PIECES, st.text(_CHARS, max_size=40), _WORDS), max_size=60).map("".join)
URLS = st.sampled_from(
    [
        "https://www.nejatngo.org/en/the-story-of-torabi-family-torn-apart-by-the-mek/",
        "https://www.nejatngo.org/en/?p=20100",
        "https://www.nejatngo.org/fa/گزارش-نیم‌فاصله/?a=1&b=دو#بخش",
        "https://www.nejatngo.org/ar/%d8%aa%d9%82%d8%b1%d9%8a%d8%b1/",
        "https://example.org/path_(with)_parens?x=1&y=2#frag",
        "http://news.example.co.uk/" + "very-long-slug-" * 40,
        "https://www.nejatngo.org/sq/?p=1&utm_source=old&q=ë",
    ]
)
ARTICLES = st.builds(
    Article,
    id=st.just("x"),
    feed=st.sampled_from(["en", "fa", "ar", "sq", "news*_feed"]),
    url=URLS,
    title=st.one_of(TEXT, HTML),
    summary=st.one_of(st.just(""), TEXT, HTML, LONG),
    content_html=st.one_of(st.just(""), HTML),
    categories=st.lists(st.one_of(TEXT, _WORDS), max_size=22).map(tuple),
    language=st.sampled_from(["en", "ar", "fa", "sq", "", "en-US", "fa_IR"]),
    author=st.one_of(st.just(""), st.text(_CHARS, max_size=30)),
    image_url=st.one_of(st.none(), st.sampled_from(["https://example.org/i.jpg", "/wp/i.png", "data:x", ""])),
)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "template": st.sampled_from(
            [
                "{title}\n\n{url}\n\n{hashtags}",
                "{title:bold,link} — {author}\n{summary:italic}\n{url}\n{hashtags}\n{categories} {feed} {date}",
                "🔴 {title}: {summary} {url} {hashtags}",
                "{summary}\n{title}\n{url}",
            ]
        ),
        "cut_first": st.sampled_from(["summary", "title"]),
        "hashtag_style": st.sampled_from(["underscore", "camel"]),
        "max_hashtags": st.integers(0, 30),
        "bidi": st.booleans(),
        "utm_source": st.sampled_from(["", "x", "tele gram", "{feed}.{language}"]),
        "summary_max_chars": st.sampled_from([0, 50, 300]),
    },
)


def _uses_url(post: Post, options: dict[str, Any]) -> bool:
    return "{url}" in options.get("template", "{url}")


def _strip_marks(text: str) -> str:
    return "".join(ch for ch in text if ch not in BIDI_MARKS)


_NEVER_AFTER_CUT = frozenset("\u200d\ufe0f\ufe0e\u20e3")


def _check_title_cut(shown_first_line: str, title: str) -> None:
    """If the title was cut, it was cut at a grapheme boundary (checked without the renderer's segmenter)."""
    line = _strip_marks(shown_first_line)
    original = _strip_marks(inline(title))
    if not line.endswith(ELLIPSIS) or original.endswith(ELLIPSIS) or not original:
        return
    kept = line[: -len(ELLIPSIS)]
    if not original.startswith(kept) or len(kept) >= len(original):
        return  # a custom template put something else first
    following = original[len(kept)]
    assert unicodedata.category(following)[0] != "M", (kept, following)
    assert following not in _NEVER_AFTER_CUT and not 0x1F3FB <= ord(following) <= 0x1F3FF, (kept, following)
    assert not kept.endswith("\u200d"), kept
    if 0x1F1E6 <= ord(following) <= 0x1F1FF:
        trailing = len(kept) - len(kept.rstrip("".join(chr(c) for c in range(0x1F1E6, 0x1F200))))
        assert trailing % 2 == 0, kept


def _check_common(post: Post) -> None:
    post.text.encode("utf-8")  # no lone surrogate
    assert post.text.strip()
    assert post.length <= post.limit
    for tag in post.extra.get("hashtags", ()):
        assert tag in post.text
        _assert_x_hashtag(tag)


def _assert_x_hashtag(tag: str) -> None:
    """twitter-text's hashtag rule, restated: letters/marks/digits/_/ZWNJ/ZWJ, at least one letter or mark."""
    assert tag.startswith("#") and len(tag) > 1, tag
    body = tag[1:]
    cats = [unicodedata.category(ch) for ch in body]
    assert all(c[0] in "LM" or c == "Nd" or ch in "_\u200c\u200d" for ch, c in zip(body, cats, strict=True)), tag
    assert any(c[0] in "LM" for c in cats), tag


@PROPERTY_SETTINGS
@given(article=ARTICLES, options=OPTIONS)
def test_x_posts_fit_and_keep_the_url(article: Article, options: dict[str, Any]) -> None:
    post = render(article, target("twitter", **options))
    _check_common(post)
    parsed = x_parse(post.text)
    assert parsed.valid, (post.text, parsed)
    assert parsed.weighted_length == post.length <= 280
    if _uses_url(post, options):
        assert post.link and post.link in post.text
        assert post.link in [span.url for span in extract_urls(unicodedata.normalize("NFC", post.text))], (
            "X must link the whole URL"
        )
    if "template" not in options:
        _check_title_cut(post.text.split("\n")[0], article.title)


@PROPERTY_SETTINGS
@given(article=ARTICLES, options=OPTIONS, button=st.sampled_from(["", "Read more", "بیشتر بخوانید"]))
def test_telegram_posts_are_valid_html_within_the_limit(article: Article, options: dict[str, Any], button: str) -> None:
    post = render(article, target("telegram", settings={"read_more_button": button}, **options))
    _check_common(post)
    problems, shown = telegram_problems(post.text)
    assert not problems, (post.text, problems)
    assert utf16(shown) == post.length <= post.limit
    assert post.limit == (1024 if post.image_url else 4096)
    assert post.parse_mode == "HTML"
    if _uses_url(post, options):
        assert post.link and post.link in shown
    if button:
        assert post.buttons and post.buttons[0].url == post.link
    if "template" not in options:
        _check_title_cut(shown.split("\n")[0], article.title)


@PROPERTY_SETTINGS
@given(article=ARTICLES, options=OPTIONS, mode=st.sampled_from(["template", "text"]))
def test_whatsapp_text_and_template_parameters(article: Article, options: dict[str, Any], mode: str) -> None:
    post = render(article, target("whatsapp", settings={"mode": mode}, **options))
    _check_common(post)
    assert utf16(post.text) == post.length <= 4096
    assert post.extra["channel_text"] == post.text
    assert post.extra["share_url"].startswith("https://wa.me/?text=")
    if _uses_url(post, options):
        assert post.link and post.link in post.text
    if mode == "template":
        template = post.extra["template"]
        assert template["name"] == "new_article" and template["language"]
        assert len(template["parameters"]) == 2
        for parameter in template["parameters"]:
            assert parameter.strip() and utf16(parameter) <= 1024
            assert "\n" not in parameter and "\t" not in parameter and "     " not in parameter
        assert template["parameters"][1] == post.link


@PROPERTY_SETTINGS
@given(article=ARTICLES, options=OPTIONS, post_as=st.sampled_from(["link", "photo"]))
def test_facebook_posts(article: Article, options: dict[str, Any], post_as: str) -> None:
    post = render(article, target("facebook", settings={"post_as": post_as}, **options))
    _check_common(post)
    assert utf16(post.text) == post.length <= 63206
    assert post.link
    if post.image_url:
        assert post_as == "photo" and options.get("image", True)


_EMOJI_HEAVY = st.text(
    st.one_of(
        st.sampled_from("😀👍🏽🏻❤☝✌©®™‼#*1\ufe0f\u20e3\u200d👨👩👧🇮🇷🇦🇱🇺🇸🇦🇦🏴\U000e0067\U000e0062\U000e007f a.\n"),
        st.characters(),
    ),
    max_size=80,
)


_NO_SURROGATES = st.one_of(_EMOJI_HEAVY, TEXT).map(lambda t: "".join(c for c in t if not 0xD800 <= ord(c) <= 0xDFFF))
_ARABIC_DOMAINS = st.tuples(
    st.text(st.sampled_from("سلامگزارشعربیفارسی ۱۴٣"), max_size=6),
    st.sampled_from(["example.com", "t.co", "bbc.co.uk", "x.ir", "www.nejatngo.org/fa/", "a.b"]),
    st.text(st.sampled_from("سلام 😀 .,"), max_size=4),
).map("".join)


@pytest.mark.skipif(not oracle.available(), reason=oracle.REASON)
@settings(
    max_examples=int(os.environ.get("ORACLE_BATCHES", "10")),
    derandomize=not os.environ.get("RENDER_RANDOM"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(texts=st.lists(st.one_of(_NO_SURROGATES, _ARABIC_DOMAINS), min_size=1, max_size=40))
def test_x_measure_equals_the_official_library(texts: list[str]) -> None:
    """Against twitter-text 3.1.0 itself (node), up to 40 texts a call: weighted length, validity, URLs.
    A deep search: ORACLE_BATCHES=500 RENDER_RANDOM=1."""
    for text, official in zip(texts, oracle.run(texts), strict=True):
        ours = x_parse(text)
        assert (ours.weighted_length, ours.valid) == (
            official["parse"]["weightedLength"],
            official["parse"]["valid"],
        ), text
        normalized = unicodedata.normalize("NFC", text)
        if normalized == text:
            assert [span.url for span in extract_urls(text)] == [u["url"] for u in official["urls"]], text
