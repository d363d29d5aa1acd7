"""What parsing yields (`ParsedFeed`) and how long a raw field may be before it is turned into text."""

from __future__ import annotations

from dataclasses import dataclass

from syndicator.article import Article
from syndicator.sources import clean

# A field's raw value is clipped before it is turned into text, so nothing costly ever sees a megabyte title; the
# finished Article is then cleaned and capped by sources/clean.py. URLs and ids are clipped above their caps, so
# one that was too long still is (and is refused or hashed there, never silently cut here).
_RAW_TITLE = clean.TITLE_CHARS * clean.RAW_FACTOR
_RAW_SUMMARY = clean.SUMMARY_CHARS * clean.RAW_FACTOR
_RAW_AUTHOR = clean.AUTHOR_CHARS * clean.RAW_FACTOR
_RAW_CATEGORY = clean.CATEGORY_CHARS * clean.RAW_FACTOR
_RAW_ID = clean.ID_CHARS * clean.RAW_FACTOR
_RAW_URL = clean.URL_CHARS * 4
_RAW_ITEMS = 4 * clean.CATEGORIES  # categories or authors looked at per entry (duplicates are common)


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    language: str  # the `language` argument if given, else the feed's own, as a primary code ("en", "fa")
    link: str  # the site the feed belongs to (canonical), "" if the feed does not say
    hub: str | None  # WebSub hub (atom:link rel="hub")
    self_url: str | None  # the feed's own URL as it declares it (atom:link rel="self")
    articles: list[Article]
