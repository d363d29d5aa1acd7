from __future__ import annotations

import pytest

from syndicator.render.links import add_params, clean_url, is_http_url, utm_params


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.org/a/", "https://x.org/a/?utm_source=x"),
        ("https://x.org/a/?p=1", "https://x.org/a/?p=1&utm_source=x"),
        ("https://x.org/a/?p=1#top", "https://x.org/a/?p=1&utm_source=x#top"),
        ("https://x.org/a/#top", "https://x.org/a/?utm_source=x#top"),
        ("https://x.org/a/?utm_source=old&p=%20", "https://x.org/a/?p=%20&utm_source=x"),
    ],
)
def test_utm_keeps_query_and_fragment(url: str, expected: str) -> None:
    assert add_params(url, {"utm_source": "x", "utm_medium": ""}) == expected


def test_utm_values_are_encoded_and_templated() -> None:
    params = utm_params(
        "{feed}", "social media", "{target}.{language}", {"feed": "fa", "target": "t", "language": "fa"}
    )
    assert params == {"utm_source": "fa", "utm_medium": "social media", "utm_campaign": "t.fa"}
    url = add_params("https://x.org/", params)
    assert url == "https://x.org/?utm_source=fa&utm_medium=social%20media&utm_campaign=t%2Efa"


def test_no_utm_by_default() -> None:
    assert add_params("https://x.org/a?b=1", utm_params("", "", "", {})) == "https://x.org/a?b=1"


def test_iri_becomes_ascii_uri() -> None:
    assert clean_url("https://x.org/fa/گزارش/?q=ë#بخش") == (
        "https://x.org/fa/%DA%AF%D8%B2%D8%A7%D8%B1%D8%B4/?q=%C3%AB#%D8%A8%D8%AE%D8%B4"
    )
    assert clean_url("https://bücher.de/a b") == "https://xn--bcher-kva.de/a%20b"
    assert clean_url("https://x.org/already%20encoded?a=1&b=2") == "https://x.org/already%20encoded?a=1&b=2"


def test_is_http_url() -> None:
    assert is_http_url("https://x.org")
    assert not is_http_url("javascript:alert(1)")
    assert not is_http_url("/relative")
