"""The article link: made ASCII (so every platform links all of it) and tagged with UTM parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

# everything RFC 3986 allows to appear literally, plus '%' so existing escapes are kept as they are
_SAFE = "!#$%&'()*+,/:;=?@[]~-._"
_UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")


def is_http_url(url: str) -> bool:
    return bool(re.match(r"^https?://[^/\s?#]+", url, re.IGNORECASE))


def clean_url(url: str) -> str:
    """IRI → URI: non-ASCII and unsafe characters percent-encoded (UTF-8), the host IDNA-encoded. A URL that is
    already ASCII is returned unchanged apart from characters no URL may contain literally (space, quotes, <>)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return quote(url, safe=_SAFE)
    netloc = parts.netloc
    if not netloc.isascii():
        netloc = _idna_netloc(netloc)
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            quote(parts.path, safe=_SAFE),
            quote(parts.query, safe=_SAFE),
            quote(parts.fragment, safe=_SAFE),
        )
    )


def _idna_netloc(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    try:
        host = host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        host = quote(host, safe=_SAFE)
    return f"{quote(userinfo, safe=_SAFE)}{at}{host}{colon}{quote(port, safe=_SAFE)}"


def _encode_value(value: str) -> str:
    # '.' and '~' are legal but would end a link early when last; encode everything but letters, digits, -_
    return quote(value, safe="-_").replace(".", "%2E").replace("~", "%7E")


def add_params(url: str, params: Mapping[str, str]) -> str:
    """`url` with query parameters set: existing ones of the same name replaced, the rest of the query and the
    fragment kept byte for byte."""
    wanted = {k: v for k, v in params.items() if v}
    if not wanted:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in wanted]
    added = [f"{quote(k, safe='-_')}={_encode_value(v)}" for k, v in wanted.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept + added), parts.fragment))


def utm_params(source: str, medium: str, campaign: str, values: Mapping[str, str]) -> dict[str, str]:
    """The three UTM parameters with their {placeholders} filled from `values`."""
    out: dict[str, str] = {}
    for key, template in zip(_UTM_KEYS, (source, medium, campaign), strict=True):
        if template:
            out[key] = template.format_map(values).strip()
    return out
