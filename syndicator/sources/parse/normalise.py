"""Normalising what a feed says: language tags, duplicate values and entries, the feed's own fields."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from syndicator.article import Article
from syndicator.sources import clean
from syndicator.sources.parse.model import ParsedFeed

_LANGUAGE_ALIASES = {
    "eng": "en", "english": "en", "ara": "ar", "arabic": "ar", "عربي": "ar", "العربية": "ar",
    "fas": "fa", "per": "fa", "persian": "fa", "farsi": "fa", "فارسی": "fa", "sqi": "sq", "alb": "sq",
    "albanian": "sq", "shqip": "sq", "fre": "fr", "fra": "fr", "french": "fr", "ger": "de", "deu": "de",
    "german": "de", "spa": "es", "spanish": "es", "rus": "ru", "russian": "ru", "tur": "tr", "turkish": "tr",
    "urd": "ur", "urdu": "ur", "kur": "ku", "kurdish": "ku", "heb": "he", "hebrew": "he", "iw": "he",
}  # fmt: skip
_LANGUAGE = re.compile(r"[a-z]{2,3}")


def normalise_language(value: str) -> str:
    """A language tag or name → its lowercase primary code: "en-US" → "en", "fa_IR" → "fa", "per" → "fa"."""
    value = value.strip().lower()
    if not value:
        return ""
    if value in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[value]
    primary = value.replace("_", "-").split("-", 1)[0].split(",", 1)[0].strip()
    primary = _LANGUAGE_ALIASES.get(primary, primary)
    return primary if _LANGUAGE.fullmatch(primary) else ""


def _clean_feed(parsed: ParsedFeed) -> ParsedFeed:
    """The feed's own fields under the same rules as its items' (the hub and self URL are stored)."""
    return replace(
        parsed,
        title=clean.clean_text(parsed.title, clean.TITLE_CHARS),
        link=clean.clean_url(parsed.link),
        hub=clean.clean_url(parsed.hub) or None,
        self_url=clean.clean_url(parsed.self_url) or None,
    )


def _collect(entries: Iterable[Article | None]) -> list[Article]:
    seen: set[str] = set()
    out: list[Article] = []
    for article in entries:
        if article is not None and article.id not in seen:
            seen.add(article.id)
            out.append(article)
    return out


def _unique(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        folded = value.casefold()
        if value and folded not in seen:
            seen.add(folded)
            out.append(value)
    return out
