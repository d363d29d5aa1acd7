"""canonical_url / url_key: one spelling per article, variants collide."""

from __future__ import annotations

import pytest

from syndicator.sources.urls import absolute_url, canonical_url, url_key


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://www.example.org/en/post/", None, "https://www.example.org/en/post/"),
        ("https://WWW.Example.ORG/en/Post/", None, "https://www.example.org/en/Post/"),  # path case kept
        ("https://www.example.org:443/a/", None, "https://www.example.org/a/"),
        ("http://www.example.org:80/a/", None, "http://www.example.org/a/"),
        ("http://www.example.org:8080/a/", None, "http://www.example.org:8080/a/"),
        ("https://www.example.org/a/#respond", None, "https://www.example.org/a/"),
        ("https://www.example.org", None, "https://www.example.org/"),
        ("http://example.org/a/", None, "http://example.org/a/"),  # the scheme is kept
        (
            "https://www.example.org/a/?utm_source=rss&utm_medium=rss&utm_campaign=x&fbclid=1&gclid=2&mc_cid=3"
            "&mc_eid=4&igshid=5&_ga=6&ref_src=7&UTM_Content=8",
            None,
            "https://www.example.org/a/",
        ),
        ("https://www.example.org/en/?p=20100&utm_source=rss", None, "https://www.example.org/en/?p=20100"),
        ("https://www.example.org/?page_id=7&fbclid=tw&lang=fa", None, "https://www.example.org/?page_id=7&lang=fa"),
        ("https://www.example.org/read?ref=11", None, "https://www.example.org/read?ref=11"),  # may be the article
        ("https://www.example.org/#!/story/5", None, "https://www.example.org/#!/story/5"),  # a route is the page
        ("https://www.example.org/?s=a+b&q=%2F", None, "https://www.example.org/?s=a+b&q=%2F"),
        ("/en/post/", "https://www.example.org/en/feed/", "https://www.example.org/en/post/"),
        ("post/?utm_source=x", "https://www.example.org/en/", "https://www.example.org/en/post/"),
        ("//cdn.example.org/a.jpg", "https://www.example.org/", "https://cdn.example.org/a.jpg"),
        ("  https://www.example.org/a/\n", None, "https://www.example.org/a/"),
        ("https://www.example.org/fa/زنان/", None, "https://www.example.org/fa/%D8%B2%D9%86%D8%A7%D9%86/"),
        ("https://www.example.org/fa/%d8%b2/", None, "https://www.example.org/fa/%D8%B2/"),
        ("https://www.example.org/a b/", None, "https://www.example.org/a%20b/"),
        ("tag:example.org,2025:1", None, "tag:example.org,2025:1"),
        ("mailto:x@example.org", None, "mailto:x@example.org"),
        ("/relative/without/base", None, "/relative/without/base"),
        ("", "https://www.example.org/", ""),
        ("https://[::1]:443/a", None, "https://[::1]/a"),
        ("https://user@www.Example.org/a", None, "https://user@www.example.org/a"),
    ],
)
def test_canonical_url(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base) == expected


def test_canonical_url_is_idempotent() -> None:
    for url in ("https://WWW.example.org:443/fa/زنان/?utm_source=x&p=3#c", "http://example.org", "/x"):
        once = canonical_url(url)
        assert canonical_url(once) == once


def test_absolute_url_keeps_the_query() -> None:
    assert absolute_url("/img.jpg?resize=1200%2C630&ssl=1&ref=x#f", "https://www.Example.org/feed/") == (
        "https://www.example.org/img.jpg?resize=1200%2C630&ssl=1&ref=x"
    )


def test_url_key_makes_variants_collide() -> None:
    variants = [
        "https://www.example.org/en/post/",
        "http://www.example.org/en/post/",
        "https://example.org/en/post",
        "HTTPS://WWW.EXAMPLE.ORG:443/en/post/?utm_source=twitter#comments",
        "http://example.org/en/post/?fbclid=abc",
    ]
    assert {url_key(v) for v in variants} == {"example.org/en/post"}
    assert url_key("https://www.example.org/en/?p=20100") == "example.org/en/?p=20100"
    assert url_key("https://www.example.org/en/?p=20100") != url_key("https://www.example.org/en/?p=20101")
    assert url_key("https://www.example.org/") == "example.org"
    assert url_key("tag:example.org,2025:1") == "tag:example.org,2025:1"
