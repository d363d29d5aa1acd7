"""Plain text of feed fields: HTML → text, double-escaping and mojibake repaired, WordPress boilerplate removed,
excerpts of a body cut at a word boundary, and the first real image of a fragment.

The HTML parse and the cut are the renderer's (`render.html_text`, `render.text.truncate`), so a stored summary
and a post read the same markup the same way; what only ingest needs is done here on top of them.
"""

from __future__ import annotations

import html
import re

from syndicator.render.html_text import COMMON_TAG, html_to_plain
from syndicator.render.text import truncate
from syndicator.sources.urls import absolute_url

SUMMARY_CHARS = 300
"""A summary made from an entry's content is cut at a word boundary near this many characters."""


_KNOWN_TAGS = COMMON_TAG  # decoded text holding one of these was markup escaped twice
_ENTITY_LIKE = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment, on one line: the text a reader sees (the shared parse, `html_to_plain`),
    then cp1252/UTF-8 mix-ups repaired."""
    return _repair(html_to_plain(value)) if value else ""


def _plain_or_html(value: str, is_html: bool) -> str:
    """A text field's plain text. HTML that was escaped twice (no real markup, but entities that decode to markup
    or to more entities) is decoded once more; plain text escaped once too often is decoded once."""
    if not value:
        return ""
    if is_html:
        text = html_to_text(value)
        if "<" not in value and ("&" in text or "<" in text):
            if "&" in text and _ENTITY_LIKE.search(text):
                text = html.unescape(text)
            if "<" in text and _KNOWN_TAGS.search(text):
                text = html_to_plain(text)
            text = " ".join(text.split())
        return text
    if "&" in value and _ENTITY_LIKE.search(value):
        value = html.unescape(value)
    return _repair(" ".join(value.split()))


# cp1252 bytes mis-decoded as Latin-1 show up as C1 control characters; UTF-8 read as cp1252/Latin-1 shows up as
# "â€™"-style sequences. Both are repaired in text fields (never in content_html).
_C1 = re.compile("[\x80-\x9f]")
_C1_TABLE = {i: bytes([i]).decode("cp1252", "ignore") or None for i in range(0x80, 0xA0)}
_CP1252_BYTES = {bytes([i]).decode("cp1252"): i for i in range(0x80, 0xA0) if i not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_CONT = "[\x80-\xbf" + "".join(_CP1252_BYTES) + "]"
_MOJIBAKE = re.compile(f"(?:[\xc2-\xdf]{_CONT}|[\xe0-\xef]{_CONT}{{2}}|[\xf0-\xf4]{_CONT}{{3}})+")
_MOJIBAKE_HINT = re.compile(f"[\xc2-\xf4]{_CONT}")  # a cheap first test: one character class, then another


def _unmojibake(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return bytes(_CP1252_BYTES.get(c, ord(c)) for c in run).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return run


def _repair(text: str) -> str:
    if text.isascii():
        return text
    if _MOJIBAKE_HINT.search(text):
        text = _MOJIBAKE.sub(_unmojibake, text)
    if _C1.search(text):
        text = text.translate(_C1_TABLE)
    return text


_THE_POST = re.compile(r"The post\s.{1,500}?\sappeared first on\s.{1,300}?\s*$", re.S)
_MORE_SUFFIXES = ("[…]", "[...]", "[ … ]", "[&hellip;]", "[&#8230;]")
_MORE_PHRASES = ("Continue reading", "Continue Reading", "Read more", "Read More", "Lire la suite")
_LINK_DECORATION = ("→", "»", "…", "...", ">", "›")
_SENTENCE_END = (".", "!", "?", "…", "؟", "۔", "。", '"', "”", "»", ")")


def _strip_boilerplate(text: str) -> str:
    """Remove WordPress's "The post X appeared first on Y." and a trailing "[…]" / "Continue reading →".

    Where a "more" marker said the text was cut, the excerpt ends with "…" so no post reads as if it stopped short.
    """
    cut = False
    at = text.rfind("The post ")
    if at >= 0 and _THE_POST.match(text, at):
        text = text[:at].rstrip()
    for _round in range(3):  # "… […] Continue reading →": a few layers at most (never a loop over hostile input)
        before = text
        if text.endswith(_MORE_SUFFIXES):
            text = text[: text.rfind("[")].rstrip()
            cut = True
        tail = text[-150:]
        for phrase in _MORE_PHRASES:
            found = tail.rfind(phrase)
            if found < 0 or (found > 0 and tail[found - 1].isalnum()):
                continue
            label = tail[found + len(phrase) :].strip()
            # "Continue reading", "Read more →", "Continue reading <post title> …": a link label, not prose.
            if not label or label.endswith(_LINK_DECORATION) or label.startswith(_LINK_DECORATION):
                text = text[: len(text) - len(tail) + found].rstrip()
                cut = True
                break
        if text == before:
            break
    if cut and text and not text.endswith(_SENTENCE_END):
        text = text.rstrip(" ,;:-–—") + "…"
    return text


def _excerpt(content_html: str, limit: int = SUMMARY_CHARS) -> str:
    """The first `limit` characters of an HTML body's text (then "…"), cut where a post would be cut."""
    size = 4096
    while True:
        whole = size >= len(content_html)
        chunk = content_html if whole else content_html[:size]
        if not whole:
            lt = chunk.rfind("<")
            if lt > chunk.rfind(">"):
                chunk = chunk[:lt]
        text = html_to_text(chunk)
        if whole:
            text = _strip_boilerplate(text)
        if whole or len(text) > limit + 50:
            return truncate(text, limit)
        size *= 4


_IMG = re.compile(r"<img\b[^<>]*>", re.I)
# a name starts only where no name character precedes it, and is taken whole (possessive): otherwise a long run
# of name characters is retried from each of its positions, quadratic in the length of a hostile <img> tag
_ATTR = re.compile(r"""(?<![-\w:.])([A-Za-z_:][-\w:.]*+)\s*+=\s*+(?:"([^"]*)"|'([^']*)'|([^\s"'<>]++))""")
_SKIP_IMG = re.compile(
    r"(?:s\.w\.org/images/core/emoji|stats\.wordpress\.com|feeds\.feedburner\.com/~r|/pixel\.|1x1\.)", re.I
)


def _first_img(markup: str, base: str) -> str:
    """The first real <img> in an HTML fragment (not an emoji, tracking pixel or data: placeholder), absolute."""
    if not markup or "<img" not in markup.lower():
        return ""
    for tag in _IMG.finditer(markup):
        attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(tag.group(0))}
        if "emoji" in attrs.get("class", "") or attrs.get("width") == "1" or attrs.get("height") == "1":
            continue
        src = attrs.get("src", "").strip()
        if not src or src.startswith("data:"):
            src = (attrs.get("data-lazy-src") or attrs.get("data-src") or attrs.get("data-orig-file") or "").strip()
        if not src or src.startswith("data:") or _SKIP_IMG.search(src):
            continue
        url = absolute_url(html.unescape(src), base)
        if url.startswith(("http://", "https://")):
            return url
    return ""
