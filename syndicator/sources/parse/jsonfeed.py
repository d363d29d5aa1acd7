"""JSON Feed (https://jsonfeed.org/version/1.1) → `ParsedFeed`."""

from __future__ import annotations

import hashlib
import html
import json
from typing import Any

from syndicator.article import Article
from syndicator.errors import FeedError
from syndicator.sources import clean
from syndicator.sources.clean import clip, clip_markup, well_formed
from syndicator.sources.parse.dates import parse_date
from syndicator.sources.parse.model import (
    _RAW_AUTHOR,
    _RAW_CATEGORY,
    _RAW_ID,
    _RAW_ITEMS,
    _RAW_SUMMARY,
    _RAW_TITLE,
    _RAW_URL,
    ParsedFeed,
)
from syndicator.sources.parse.normalise import _clean_feed, _collect, _unique, normalise_language
from syndicator.sources.parse.text import _excerpt, _first_img, _plain_or_html
from syndicator.sources.urls import absolute_url, canonical_url


def _parse_json(body: bytes, *, feed: str, base_url: str, language: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"the document is not valid JSON: {exc}", reason="malformed") from None
    if not isinstance(doc, dict) or "jsonfeed.org" not in _str(doc.get("version")):
        raise FeedError("the document is JSON but not a JSON Feed", reason="not_a_feed")
    feed_lang = normalise_language(_str(doc.get("language")))
    lang = language or feed_lang
    base = base_url or _str(doc.get("feed_url"))
    hubs = doc.get("hubs")
    hub = (
        next((_str(h.get("url")) for h in hubs if isinstance(h, dict) and h.get("url")), None)
        if isinstance(hubs, list)
        else None
    )
    articles: list[Article | None] = []
    items = doc.get("items")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            articles.append(_json_item(item, feed=feed, base=base, language=lang))
    home = _str(doc.get("home_page_url"))
    return _clean_feed(
        ParsedFeed(
            title=_plain_or_html(_str(doc.get("title"), _RAW_TITLE), False),
            language=lang,
            link=canonical_url(home, base) if home else "",
            hub=absolute_url(hub, base) if hub else None,
            self_url=absolute_url(_str(doc.get("feed_url")), base) or None,
            articles=_collect(articles),
        )
    )


def _str(value: object, limit: int = _RAW_URL) -> str:
    """A JSON value as a string, clipped to `limit`: JSON may carry lone surrogates ("\\ud800"), which become
    U+FFFD here, before anything hashes, percent-encodes or stores them."""
    if isinstance(value, str):
        return well_formed(clip(value, limit))
    return str(value) if isinstance(value, int | float) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_item(item: dict[str, Any], *, feed: str, base: str, language: str) -> Article | None:
    link = _str(item.get("url")) or _str(item.get("external_url"))
    url = canonical_url(link, base) if link else ""
    ident = _str(item.get("id"), _RAW_ID).strip()
    title = _plain_or_html(_str(item.get("title"), _RAW_TITLE), False)
    content = _str(item.get("content_html"), clean.CONTENT_CHARS) or html.escape(
        _str(item.get("content_text"), clean.CONTENT_CHARS), quote=False
    )
    content = clip_markup(content, clean.CONTENT_CHARS)
    summary = _plain_or_html(_str(item.get("summary"), _RAW_SUMMARY), False)
    summary = summary or (_excerpt(content) if content else "")
    if ident:
        article_id = canonical_url(ident) if ident[:4].lower() == "http" else ident
    elif url:
        article_id = url
    elif title or content:
        seed = f"{title}\x1f{_str(item.get('date_published'))}"
        article_id = "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    else:
        return None
    authors = _list(item.get("authors"))[:_RAW_ITEMS] or [item.get("author")]
    names = [_str(a.get("name"), _RAW_AUTHOR) for a in authors if isinstance(a, dict)]
    tags = _list(item.get("tags"))[:_RAW_ITEMS]
    image = _str(item.get("image")) or _str(item.get("banner_image"))
    if not image:
        attachments = _list(item.get("attachments"))
        image = next(
            (
                _str(a.get("url"))
                for a in attachments
                if isinstance(a, dict) and _str(a.get("mime_type")).startswith("image/")
            ),
            "",
        )
    image = absolute_url(image, base) if image else _first_img(content, base)
    return clean.clean_article(
        Article(
            id=article_id,
            feed=feed,
            url=url,
            title=title,
            summary=summary,
            content_html=content,
            categories=tuple(_unique(" ".join(_str(t, _RAW_CATEGORY).split()) for t in tags)),
            language=language or normalise_language(_str(item.get("language"))),
            author=", ".join(_unique(n.strip() for n in names if n.strip())),
            published=parse_date(_str(item.get("date_published"))),
            updated=parse_date(_str(item.get("date_modified"))),
            image_url=image or None,
        )
    )
