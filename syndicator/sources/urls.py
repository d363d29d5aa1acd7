"""URL canonicalisation: one spelling per article URL, and an identity key under which variants collide.

`canonical_url` is what gets stored and posted: absolute, tracking parameters and fragment removed, host lowercased,
default port dropped, percent-escapes normalised; the scheme is kept. `url_key` goes further for deduplication:
http/https and www/no-www spellings of one page give the same key.

WordPress's own query parameters (`?p=123`, `?page_id=`, `?lang=`) identify a post and are always kept; only
parameters known to be tracking noise are removed (see `TRACKING_PARAMS`).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "absolute_url", "canonical_url", "url_key"]

TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "fb_action_", "fb_ref", "fb_source")
"""Query parameter names starting with these (case-insensitive) are analytics noise."""

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "__hssc", "__hstc",
        "__hsfp", "hsctatrack", "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid", "vero_conv",
        "vero_id", "wickedid", "ref_src", "ref_url", "referrer", "spm", "scid", "cmpid", "icid", "ncid",
        "sr_share", "_branch_match_id", "action_object_map", "action_type_map", "action_ref_map",
    }
)  # fmt: skip
"""Exact query parameter names (case-insensitive) removed by `canonical_url`."""

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_INSIDE_WS = re.compile(r"[\t\r\n]")  # browsers drop these anywhere in a URL
_LOWER_ESCAPE = re.compile(r"%[0-9a-f][0-9A-Fa-f]|%[0-9A-F][a-f]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Characters left as they are in paths and queries; everything else (spaces, non-ASCII) is percent-encoded as UTF-8.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$&'()*+,;=-._~"


def canonical_url(url: str, base: str | None = None, *, keep_fragment: bool = False) -> str:
    """The one spelling of `url` to store and post (see the module docstring).

    Relative URLs are resolved against `base`; a relative URL without a base, and URLs that are not http(s)
    (`tag:`, `urn:`, `mailto:`), come back stripped but otherwise unchanged. A fragment is dropped unless it is a
    route (`#!/story/5`, `#/story/5`: the page itself) or `keep_fragment` (an id like `…/live/#post-101`).
    """
    return _normalise(url, base, strip_tracking=True, keep_fragment=keep_fragment)


def absolute_url(url: str, base: str | None = None) -> str:
    """Like `canonical_url` but the query is kept whole: for image and media URLs, whose CDNs need every parameter."""
    return _normalise(url, base, strip_tracking=False)


def url_key(url: str, *, keep_fragment: bool = False) -> str:
    """Identity key for deduplication: `canonical_url` without scheme, leading "www." and trailing "/"."""
    key = canonical_url(url, keep_fragment=keep_fragment)
    match = _SCHEME.match(key)
    if match:
        key = key[match.end() :]
    if key[:4].lower() == "www.":
        key = key[4:]
    return key.rstrip("/")


def _normalise(url: str, base: str | None, *, strip_tracking: bool, keep_fragment: bool = False) -> str:
    url = url.strip()
    if "\t" in url or "\n" in url or "\r" in url:
        url = _INSIDE_WS.sub("", url)
    if not url:
        return ""
    if base and not url.startswith(("http://", "https://")):
        try:
            url = urljoin(base.strip(), url)
        except ValueError:
            return url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        return url
    netloc = _netloc(parts.netloc, scheme)
    path = _escape(parts.path, _PATH_SAFE) or "/"
    query = parts.query
    if query:
        if strip_tracking:
            query = "&".join(p for p in query.split("&") if p and not _is_tracking(p))
        query = _escape(query, _QUERY_SAFE)
    fragment = parts.fragment if keep_fragment or parts.fragment.startswith(("!", "/")) else ""
    return urlunsplit((scheme, netloc, path, query, fragment))


def _netloc(netloc: str, scheme: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        host, rest = (hostport[: end + 1], hostport[end + 1 :]) if end >= 0 else (hostport, "")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    host = host.lower().rstrip(".")
    if port.isdigit():
        port = str(int(port))
        if port == _DEFAULT_PORTS[scheme]:
            port = ""
    out = f"{host}:{port}" if port else host
    return f"{userinfo}{at}{out}" if at else out


def _escape(part: str, safe: str) -> str:
    """Percent-encode what must be (non-ASCII, spaces) and upper-case existing escapes, so spellings converge."""
    if not part:
        return part
    if not part.isascii() or " " in part or '"' in part or "<" in part or ">" in part:
        part = quote(part, safe=safe)
    if "%" in part:
        part = _LOWER_ESCAPE.sub(lambda m: m.group(0).upper(), part)
    return part


def _is_tracking(pair: str) -> bool:
    name = pair.split("=", 1)[0]
    if "%" in name or "+" in name:
        name = unquote_plus(name)
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
