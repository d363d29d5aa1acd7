"""Which parts of a text are URLs as twitter-text v3's `extractUrlsWithIndices` finds them, regular expressions
included. Two platforms count each URL found so as a fixed length (23 in one's weighted length, the server's
`characters_reserved_per_url` in the other's): shared text machinery, so it lives here and not in either package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syndicator.render.tlds import CCTLDS, GTLDS

_DIRECTIONAL = "\u202a-\u202e\u061c\u200e\u200f\u2066\u2067\u2068\u2069"
_INVALID = "\ufffe\ufeff\uffff"
_SPACES = "\x09-\x0d\x20\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_PUNCT = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$/"
_LATIN_ACCENTS = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272"
    r"\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_CYRILLIC = r"\u0400-\u04FF"
_TLD_END = r"(?=[^0-9a-zA-Z@+-]|$)"
_GTLD = "(?:(?:" + "|".join(GTLDS.split()) + ")" + _TLD_END + ")"
_CCTLD = "(?:(?:" + "|".join(CCTLDS.split()) + ")" + _TLD_END + ")"
_PUNYCODE = r"(?:xn--[\-0-9a-z]+)"

_PRECEDING = rf"(?:[^A-Za-z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^)"
_DOMAIN_CHAR = rf"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_DOMAIN = rf"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}(?:{_GTLD}|{_CCTLD}|{_PUNYCODE}))"
_PATH_CHARS = rf"[a-z{_CYRILLIC}0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&{_LATIN_ACCENTS}]"
_BALANCED = rf"\((?:{_PATH_CHARS}+|(?:{_PATH_CHARS}*\({_PATH_CHARS}+\){_PATH_CHARS}*))\)"
_PATH_END = rf"[\+\-a-z{_CYRILLIC}0-9=_#\/{_LATIN_ACCENTS}]|(?:{_BALANCED})"
_PATH = rf"(?:(?:{_PATH_CHARS}*(?:{_BALANCED}{_PATH_CHARS}*)*{_PATH_END})|(?:@{_PATH_CHARS}+/))"
_QUERY_CHARS = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
_QUERY_END = r"[a-z0-9\-_&=#/]"

# The lookbehind: a domain never starts right after "x." — that start was already tried from the earlier
# label, and retrying it from every label made "a.a.a…" quadratic-to-cubic (1.5 s for a 1,000-character title).
_EXTRACT = re.compile(
    rf"(({_PRECEDING})((https?:\/\/)?(?<!{_DOMAIN_CHAR}\.)({_DOMAIN})(?::([0-9]+))?(\/{_PATH}*)?(\?{_QUERY_CHARS}*{_QUERY_END})?))",
    re.IGNORECASE,
)
_ASCII_DOMAIN = re.compile(
    rf"(?:(?:[\-a-z0-9{_LATIN_ACCENTS}]+)\.)+(?:{_GTLD}|{_CCTLD}|{_PUNYCODE})",
    re.IGNORECASE,
)
_INVALID_PRECEDING_NO_PROTOCOL = re.compile(r"[-_./]$")
_TCO = re.compile(rf"^https?:\/\/t\.co\/([a-z0-9]+)(?:\?{_QUERY_CHARS}*{_QUERY_END})?", re.IGNORECASE)
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG = 40


@dataclass(frozen=True, slots=True)
class UrlSpan:
    url: str
    start: int
    end: int


def extract_urls(text: str) -> list[UrlSpan]:
    """The URLs twitter-text would link in `text` (already NFC-normalised), with code point offsets."""
    if not text or "." not in text:
        return []
    found: list[UrlSpan] = []
    for match in _EXTRACT.finditer(text):
        _, before, url, protocol, domain, _, path, _ = match.groups()
        end = match.end()
        start = end - len(url)
        if not _valid_url(url, protocol or "https://", domain):
            continue
        if protocol is None:
            if _INVALID_PRECEDING_NO_PROTOCOL.search(before):
                continue
            last: UrlSpan | None = None
            for ascii_match in _ASCII_DOMAIN.finditer(domain):
                last = UrlSpan(ascii_match.group(0), start + ascii_match.start(), start + ascii_match.end())
                found.append(last)
            if last is None:
                continue
            if path:
                found[-1] = UrlSpan(url.replace(domain, last.url), last.start, end)
        else:
            tco = _TCO.search(url)
            if tco:
                if tco.group(1) and len(tco.group(1)) > _MAX_TCO_SLUG:
                    continue
                url = tco.group(0)
                end = start + len(url)
            found.append(UrlSpan(url, start, end))
    return found


_LABEL_SEPARATORS = re.compile("[\x2e\u3002\uff0e\uff61]")
_NON_ASCII = re.compile("[^\x00-\x7e]")
_MAX_LABEL_LENGTH = 63


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _punycode_label(label: str) -> str:
    """punycode.js `toASCII` of one label: each part with a non-ASCII character becomes `xn--…`."""
    parts = _LABEL_SEPARATORS.split(label)
    return ".".join("xn--" + p.encode("punycode").decode("ascii") if _NON_ASCII.search(p) else p for p in parts)


def _valid_url(url: str, protocol: str, domain: str) -> bool:
    """twitter-text's `isValidUrl` and `idna.toAscii`: every label, punycoded, is 1–63 characters long (no IDNA
    mapping or BIDI rule: `"…".encode("idna")` refused a domain right after Arabic letters), and the URL fits 4096."""
    if domain[:4] == "xn--" and not _ASCII_DOMAIN.search(domain):
        return False
    for label in domain.split("."):
        if not 1 <= _utf16_length(_punycode_label(label)) <= _MAX_LABEL_LENGTH:
            return False
    return _utf16_length(protocol) + _utf16_length(url) <= _MAX_URL_LENGTH
