"""What a text field from outside may hold, and how long it may be: the one set of rules every source follows.

Everything a feed, a webhook or a WordPress answer says is untrusted. A lone surrogate (`"\\ud800"` in a JSON
Feed) cannot be encoded as UTF-8, so SQLite, PostgreSQL, hashing and JSON all fail on it; PostgreSQL refuses NUL in
text; control characters garble terminals and log readers; and an unbounded field makes every later step
(rendering, logging, storing, an index entry) pay for its size. So each field is cleaned — lone surrogates become
U+FFFD, NUL and the C0/C1 controls are removed (a multi-line field keeps its newlines and tabs, CR LF becomes LF) —
and capped:

    field               cap                          over the cap
    title               1,000 characters             cut, ends with "…"
    summary             5,000 characters             cut, ends with "…"
    content_html        200,000 characters           cut before a tag left open by the cut
    author              300 characters               cut, ends with "…"
    categories          50 of 200 characters each    extra ones dropped, long ones cut with "…"
    id (guid)           1,000 characters, 2,000 B    replaced by "sha256:" + a hash of the whole id
    url                 2,048 characters and bytes   the item is skipped (`unstorable`): a cut URL is a wrong link
    image_url           2,048 characters and bytes   dropped: the post goes without an image
    language            20 characters                dropped (unknown)
    published, updated  years 1900–2199              dropped (undated)

The limits are far above anything a real newsroom writes (platforms cut a post much shorter) and low enough that one
item costs milliseconds and a few kilobytes to render, store and log. Sources apply them twice: raw strings are
clipped (`clip`, `clip_markup`) before their expensive processing (HTML to text, mojibake repair), and the finished
`Article` goes through `clean_article`; `polling.ingest`, which every source passes before the store, applies
`clean_article` and `unstorable` once more so a new source cannot forget them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime

from syndicator.article import Article

__all__ = [
    "AUTHOR_CHARS",
    "CATEGORIES",
    "CATEGORY_CHARS",
    "CONTENT_CHARS",
    "ID_BYTES",
    "ID_CHARS",
    "LANGUAGE_CHARS",
    "RAW_FACTOR",
    "SUMMARY_CHARS",
    "TITLE_CHARS",
    "URL_CHARS",
    "clean_article",
    "clean_text",
    "clean_url",
    "clip",
    "clip_markup",
    "unstorable",
    "well_formed",
]

TITLE_CHARS = 1_000
SUMMARY_CHARS = 5_000
CONTENT_CHARS = 200_000
AUTHOR_CHARS = 300
CATEGORY_CHARS = 200
CATEGORIES = 50
ID_CHARS = 1_000
ID_BYTES = 2_000  # ids and URLs are indexed: a PostgreSQL B-tree entry must stay under ~2,700 bytes
URL_CHARS = 2_048
LANGUAGE_CHARS = 20  # the store's column
RAW_FACTOR = 8
"""Raw markup of a text field is clipped at this many times the field's cap: tags and entities shrink to text."""
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # far from datetime.max, so adding a delay or a window never overflows

ELLIPSIS = "…"

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 controls, DEL and C1 controls; a multi-line field keeps \t and \n (and \r, turned into \n below)
_CONTROLS_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROLS_ONE_LINE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = re.compile("[\t\n\x0b\x0c\r\x85\u2028\u2029]")  # a one-line field: a space, so words stay apart


def clean_text(value: str, limit: int, *, multiline: bool = False, ellipsis: bool = True) -> str:
    """`value` without lone surrogates (→ U+FFFD) and control characters, at most `limit` characters.

    A cut text ends with "…" unless `ellipsis` is false. Linear in `limit`, whatever the length of `value`.
    """
    if not value:
        return value
    # cleaning never makes a text longer, and rarely much shorter: the rest would be cut anyway
    value = well_formed(clip(value, 2 * limit + 16))
    if multiline:
        if "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if "\x85" in value:
            value = value.replace("\x85", "\n")  # NEL: a line break, as the renderer reads it
        if _CONTROLS_MULTILINE.search(value):
            value = _CONTROLS_MULTILINE.sub("", value)
    else:
        if _LINE_BREAKS.search(value):
            value = _LINE_BREAKS.sub(" ", value)
        if _CONTROLS_ONE_LINE.search(value):
            value = _CONTROLS_ONE_LINE.sub("", value)
    if len(value) <= limit:
        return value
    if not ellipsis:
        return value[:limit]
    return value[: limit - 1].rstrip() + ELLIPSIS


def well_formed(value: str) -> str:
    """`value` with each lone surrogate replaced by U+FFFD (the one thing that makes a `str` unencodable)."""
    if _SURROGATE.search(value):
        # a high and a low surrogate side by side are the character they encode; one alone is an error
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def clip(value: str, limit: int) -> str:
    """A raw string cut to `limit` characters, before anything costly is done with it."""
    return value if len(value) <= limit else value[:limit]


def clip_markup(value: str, limit: int) -> str:
    """Raw HTML cut to `limit` characters, without the tag the cut may have left open (`<a href="…`)."""
    if len(value) <= limit:
        return value
    value = value[:limit]
    lt = value.rfind("<")
    if lt > value.rfind(">"):
        value = value[:lt]
    return value


def clean_id(value: str) -> str:
    """An id as text on one line; one too long to index is replaced by a stable hash of itself."""
    ident = clean_text(value, 4 * ID_CHARS, ellipsis=False).strip()
    if len(ident) > ID_CHARS or len(ident.encode("utf-8")) > ID_BYTES:
        # the whole cleaned id, so long ids that differ only at the end stay distinct
        whole = clean_text(value, len(value), ellipsis=False).strip()
        return "sha256:" + hashlib.sha256(whole.encode("utf-8")).hexdigest()[:32]
    return ident


def _url(value: str) -> str:
    # control characters in a URL are noise (browsers drop tabs and newlines anywhere in one)
    return clean_text(value, 4 * URL_CHARS, ellipsis=False).strip() if value else value


def clean_url(value: str | None) -> str:
    """A URL cleaned, or "" when it is longer than `URL_CHARS` (a cut URL would be a wrong one)."""
    url = _url(value or "")
    return url if _url_fits(url) else ""


def _url_fits(url: str) -> bool:
    return len(url) <= URL_CHARS and len(url.encode("utf-8")) <= URL_CHARS


def _date(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value if EARLIEST <= value < LATEST else None


def clean_article(article: Article) -> Article:
    """The article with every field cleaned and within its cap (see the module docstring). Idempotent.

    The article URL is cleaned but never cut: `unstorable` says when it is too long to keep.
    """
    categories: list[str] = []
    for category in article.categories[: 4 * CATEGORIES]:
        name = clean_text(category, CATEGORY_CHARS).strip()
        if name and name not in categories:
            categories.append(name)
            if len(categories) == CATEGORIES:
                break
    image = clean_url(article.image_url)
    language = clean_text(article.language, 4 * LANGUAGE_CHARS).strip()
    return replace(
        article,
        id=clean_id(article.id),
        url=_url(article.url),
        title=clean_text(article.title, TITLE_CHARS),
        summary=clean_text(article.summary, SUMMARY_CHARS, multiline=True),
        content_html=clip_markup(
            clean_text(article.content_html, CONTENT_CHARS + 1, multiline=True, ellipsis=False), CONTENT_CHARS
        ),
        categories=tuple(categories),
        language=language if len(language) <= LANGUAGE_CHARS else "",
        author=clean_text(article.author, AUTHOR_CHARS),
        published=_date(article.published),
        updated=_date(article.updated),
        image_url=image or None,
    )


def unstorable(article: Article) -> str | None:
    """Why a cleaned article cannot be stored (then it is skipped, and the rest of its feed goes on), or None."""
    if not article.id:
        return "no id: neither a guid nor a URL"
    if not _url_fits(article.url):
        return f"url longer than {URL_CHARS} characters ({len(article.url)})"
    return None
