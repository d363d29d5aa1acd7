"""The WordPress REST API, for pushes: is post N still published, and what is it now?

`GET {site}/wp-json/wp/v2/posts/{id}?_embed=1` — 404/410 (deleted), 401/403 (draft, private, trashed) or a status
other than "publish" all mean the article is no longer public. A published post becomes an `Article` whose id is
WordPress's guid (`…/?p=N`), the same identity the feed gives it, so a push and a later poll are one article.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from syndicator.article import Article
from syndicator.errors import FeedError
from syndicator.sources.fetch import USER_AGENT
from syndicator.sources.parse import html_to_text
from syndicator.sources.urls import absolute_url, canonical_url

MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class PostStatus:
    public: bool
    status: str  # "publish", "draft", "trash", "gone", ...
    article: Article | None = None


def fetch_post(site: str, post_id: int, *, feed: str, language: str, timeout: float = 15.0) -> PostStatus:
    url = f"{site.rstrip('/')}/wp-json/wp/v2/posts/{int(post_id)}"
    try:
        response = requests.get(
            url, params={"_embed": "1"}, timeout=timeout, headers={"User-Agent": USER_AGENT}, stream=True
        )
    except requests.Timeout:
        raise FeedError(f"WordPress API timed out for post {post_id}", reason="timeout") from None
    except requests.RequestException as exc:
        raise FeedError(f"WordPress API unreachable: {exc.__class__.__name__}", reason="unreachable") from None
    with response:
        if response.status_code in (404, 410):
            return PostStatus(False, "gone")
        if response.status_code in (401, 403):
            return PostStatus(False, "not_public")
        if response.status_code != 200:
            raise FeedError(f"WordPress API answered {response.status_code}", reason=f"http_{response.status_code}")
        body = response.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(body) > MAX_BYTES:
        raise FeedError("WordPress API response too large", reason="too_large")
    try:
        data = json.loads(body)
    except ValueError:
        raise FeedError("WordPress API did not answer JSON", reason="malformed") from None
    if not isinstance(data, dict):
        raise FeedError("WordPress API answered an unexpected document", reason="malformed")
    status = str(data.get("status") or "")
    if status != "publish":
        return PostStatus(False, status or "unknown")
    return PostStatus(True, status, to_article(data, feed=feed, language=language))


def to_article(data: dict[str, Any], *, feed: str, language: str) -> Article:
    link = str(data.get("link") or "")
    guid = _rendered(data.get("guid")) or link
    embedded = data.get("_embedded") or {}
    categories: list[str] = []
    for group in embedded.get("wp:term") or []:
        for term in group or []:
            name = html_to_text(str(term.get("name") or "")) if isinstance(term, dict) else ""
            if name and name not in categories:
                categories.append(name)
    authors = embedded.get("author") or []
    author = str(authors[0].get("name") or "") if authors and isinstance(authors[0], dict) else ""
    media = embedded.get("wp:featuredmedia") or []
    image = media[0].get("source_url") if media and isinstance(media[0], dict) else None
    summary = html_to_text(_rendered(data.get("excerpt")))
    if summary.endswith("[…]"):
        summary = summary[:-3].rstrip()
    return Article(
        id=canonical_url(guid) if "://" in guid else guid,
        feed=feed,
        url=canonical_url(link),
        title=html_to_text(_rendered(data.get("title"))),
        summary=summary,
        content_html=_rendered(data.get("content")),
        categories=tuple(categories),
        language=language,
        author=html_to_text(author),
        published=_gmt(data.get("date_gmt")),
        updated=_gmt(data.get("modified_gmt")),
        image_url=absolute_url(str(image), link) if image else None,
    )


def _rendered(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("rendered") or "")
    return str(value or "")


def _gmt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        return None
