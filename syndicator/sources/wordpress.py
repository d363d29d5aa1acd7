"""The WordPress REST API, for pushes: is post N still published, and what is it now?

`GET {site}/wp-json/wp/v2/posts/{id}?_embed=1` — WordPress's own 404 `rest_post_invalid_id` (deleted), its 401/403
`rest_forbidden` (draft, private, trashed) or a post whose status is not "publish" mean the article is no longer
public. Any other 401/403/404/410 (a WAF or CDN page, a wrong base URL, a plugin that shuts anonymous REST out) proves
nothing and raises FeedError(reason="inconclusive"): a withdrawal deletes posts, so it needs WordPress's word.
A published post becomes an `Article` whose id is WordPress's guid (`…/?p=N`), the same identity the feed gives it,
so a push and a later poll are one article.

The site is the operator's (`wordpress` in the feed's settings) and is fetched wherever it is; a redirect to
another host goes through the outbound guard like any URL from outside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from syndicator.article import Article
from syndicator.editorial import Choices, merge_terms
from syndicator.editorial import from_meta as editorial_meta
from syndicator.errors import FeedError
from syndicator.outbound import OutboundError, OutboundGuard, host_of
from syndicator.sources import clean
from syndicator.sources.clean import clip, clip_markup, well_formed
from syndicator.sources.fetch import USER_AGENT
from syndicator.sources.parse import html_to_text
from syndicator.sources.urls import absolute_url, canonical_url

MAX_BYTES = 5 * 1024 * 1024
ALT_CHARS = 1_000  # the most alt text any platform takes
ERROR_BYTES = 64 * 1024
# WordPress REST error codes that do say something about the post (WP_REST_Posts_Controller::get_post and the
# server's answer to a failed read permission check); others, like rest_no_route or a plugin's
# rest_not_logged_in / rest_login_required, do not
GONE_CODES = {404: {"rest_post_invalid_id"}, 410: {"rest_post_invalid_id"}}
NOT_PUBLIC_CODES = {"rest_forbidden", "rest_cannot_read"}


@dataclass(frozen=True)
class PostStatus:
    public: bool
    status: str  # "publish", "draft", "trash", "gone", ...
    article: Article | None = None
    choices: Choices | None = None  # the plugin's meta and the post's control terms (None: nothing said)


def fetch_post(
    site: str,
    post_id: int,
    *,
    feed: str,
    language: str,
    timeout: float = 15.0,
    outbound: OutboundGuard | None = None,
) -> PostStatus:
    url = f"{site.rstrip('/')}/wp-json/wp/v2/posts/{int(post_id)}?_embed=1"
    response = _get(site, url, timeout=timeout, outbound=outbound, what=f"post {post_id}")
    http_status = response.status
    if http_status in (401, 403, 404, 410):
        code = _rest_error_code(response.body)
        if code in GONE_CODES.get(http_status, set()):
            return PostStatus(False, "gone")
        if http_status in (401, 403) and code in NOT_PUBLIC_CODES:
            return PostStatus(False, "not_public")
        raise FeedError(
            f"WordPress API answered {http_status} without a WordPress error"
            f" ({code or 'not WordPress REST JSON'}): not a withdrawal",
            reason="inconclusive",
        )
    if http_status != 200:
        raise FeedError(f"WordPress API answered {http_status}", reason=f"http_{http_status}")
    body = response.body
    try:
        data = json.loads(body)
    except ValueError:
        raise FeedError("WordPress API did not answer JSON", reason="malformed") from None
    if not isinstance(data, dict):
        raise FeedError("WordPress API answered an unexpected document", reason="malformed")
    status = data.get("status")
    if not isinstance(status, str) or not status:
        # not a WordPress post document (a wrong base URL, a proxy's JSON): proves nothing
        raise FeedError("WordPress API answered without a post status", reason="inconclusive")
    if status != "publish":
        return PostStatus(False, status)
    return PostStatus(True, status, to_article(data, feed=feed, language=language), choices_of(data))


@dataclass(frozen=True)
class PostPage:
    """One page of `/wp-json/wp/v2/posts`: the published posts on it, newest first, and whether more follow."""

    posts: list[tuple[int, Article, Choices | None]]
    total_pages: int


def list_posts(
    site: str,
    *,
    feed: str,
    language: str,
    page: int = 1,
    per_page: int = 20,
    include: list[int] | None = None,
    timeout: float = 15.0,
    outbound: OutboundGuard | None = None,
) -> PostPage:
    """Published posts, newest first (`page` of them), or those of `include` that are still published.

    Only published posts are listed to a visitor, so a post missing from the answer is *not* WordPress's word that
    it is gone (a cache, a plugin, a page size): callers ask `fetch_post` about each before they act on it."""
    query = f"per_page={int(per_page)}&page={int(page)}&orderby=date&order=desc&_embed=1"
    if include:
        query += "&include=" + ",".join(str(int(i)) for i in include)
    url = f"{site.rstrip('/')}/wp-json/wp/v2/posts?{query}"
    response = _get(site, url, timeout=timeout, outbound=outbound, what=f"posts page {page}")
    if response.status == 400 and _rest_error_code(response.body) == "rest_post_invalid_page_number":
        return PostPage([], page - 1)  # past the last page: WordPress says so
    if response.status != 200:
        raise FeedError(f"WordPress API answered {response.status} for the post list", reason=f"http_{response.status}")
    try:
        data = json.loads(response.body)
    except ValueError:
        raise FeedError("WordPress API did not answer JSON", reason="malformed") from None
    if not isinstance(data, list):
        raise FeedError("WordPress API answered an unexpected document", reason="malformed")
    posts: list[tuple[int, Article, Choices | None]] = []
    for doc in data:
        doc = _dict(doc)
        post_id = doc.get("id")
        if not isinstance(post_id, int) or isinstance(post_id, bool) or doc.get("status", "publish") != "publish":
            continue
        posts.append((post_id, to_article(doc, feed=feed, language=language), choices_of(doc)))
    try:
        total = int(response.headers.get("x-wp-totalpages", "") or page)
    except ValueError:
        total = page
    return PostPage(posts, total)


def _get(site: str, url: str, *, timeout: float, outbound: OutboundGuard | None, what: str) -> Any:
    guard = outbound or OutboundGuard()
    try:
        return guard.fetch(
            url,
            timeout=timeout,
            max_bytes=MAX_BYTES,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            trusted=(host_of(site),),
            purpose="wordpress",
        )
    except OutboundError as exc:
        if exc.reason == "timeout":
            raise FeedError(f"WordPress API timed out for {what}", reason="timeout") from None
        if exc.reason == "too_large":
            raise FeedError("WordPress API response too large", reason="too_large") from None
        if exc.reason == "refused":
            raise FeedError(f"WordPress API redirected where it may not: {exc}", reason="refused") from None
        raise FeedError(f"WordPress API unreachable: {exc}", reason="unreachable") from None


def choices_of(data: dict[str, Any]) -> Choices | None:
    """The plugin's meta (`meta.syndicator_*`), with the post's control terms matched by their WordPress slug
    (a tag named anything whose slug is `social-skip-x`); None when the post says nothing either way."""
    choices = editorial_meta(_dict(data).get("meta"))
    media = _list(_dict(data.get("_embedded")).get("wp:featuredmedia"))
    alt = html_to_text(_raw(_dict(media[0]).get("alt_text"), _RAW_SUMMARY)) if media else ""
    if alt.strip():
        choices = replace(choices or Choices(), image_alt=clean.clean_text(alt, ALT_CHARS).strip())
    slugs = []
    for group in _list(_dict(data.get("_embedded")).get("wp:term")):
        for term in _list(group):
            value = _raw(_dict(term).get("slug"), _RAW_CATEGORY)
            if value:
                slugs.append(value)
    if not slugs:
        return choices
    return merge_terms(choices, slugs)


def _rest_error_code(body: bytes) -> str | None:
    """The `code` of a WordPress REST error document (`{"code": ..., "message": ..., "data": {...}}`), else None."""
    if len(body) > ERROR_BYTES:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str) or "message" not in data:
        return None
    return str(data["code"])


def to_article(data: dict[str, Any], *, feed: str, language: str) -> Article:
    """A REST post document → Article, under the same rules as a feed item (sources/clean.py): every string is
    clipped and made well-formed before it is parsed or canonicalised, and the result is cleaned and capped."""
    link = _raw(data.get("link"), _RAW_URL)
    guid = _raw(_rendered(data.get("guid")), _RAW_URL) or link
    embedded = _dict(data.get("_embedded"))
    categories: list[str] = []
    for group in _list(embedded.get("wp:term")):
        for term in _list(group):
            name = html_to_text(_raw(_dict(term).get("name"), _RAW_CATEGORY))
            if name and name not in categories and len(categories) < clean.CATEGORIES:
                categories.append(name)
    authors = _list(embedded.get("author"))
    author = _raw(_dict(authors[0]).get("name"), _RAW_AUTHOR) if authors else ""
    media = _list(embedded.get("wp:featuredmedia"))
    image = _raw(_dict(media[0]).get("source_url"), _RAW_URL) if media else ""
    alt = html_to_text(_raw(_dict(media[0]).get("alt_text"), _RAW_SUMMARY)) if media else ""
    summary = html_to_text(clip_markup(_raw(_rendered(data.get("excerpt"))), _RAW_SUMMARY))
    if summary.endswith("[…]"):
        summary = summary[:-3].rstrip()
    return clean.clean_article(
        Article(
            id=canonical_url(guid) if "://" in guid else guid,
            feed=feed,
            url=canonical_url(link),
            title=html_to_text(clip_markup(_raw(_rendered(data.get("title"))), _RAW_TITLE)),
            summary=summary,
            content_html=clip_markup(_raw(_rendered(data.get("content"))), clean.CONTENT_CHARS),
            categories=tuple(categories),
            language=language,
            author=html_to_text(author),
            published=_gmt(data.get("date_gmt")),
            updated=_gmt(data.get("modified_gmt")),
            image_url=absolute_url(image, link) if image else None,
            image_alt=clean.clean_text(alt, ALT_CHARS) if image else "",
        )
    )


# raw strings are clipped before HTML is turned into text (URLs above their cap, so a long one is still refused)
_RAW_TITLE = clean.TITLE_CHARS * clean.RAW_FACTOR
_RAW_SUMMARY = clean.SUMMARY_CHARS * clean.RAW_FACTOR
_RAW_AUTHOR = clean.AUTHOR_CHARS * clean.RAW_FACTOR
_RAW_CATEGORY = clean.CATEGORY_CHARS * clean.RAW_FACTOR
_RAW_URL = clean.URL_CHARS * 4


def _raw(value: Any, limit: int = clean.CONTENT_CHARS) -> str:
    """A JSON value as a string: clipped, lone surrogates replaced (they break hashing, URLs and the store)."""
    if value is None or isinstance(value, dict | list):
        return ""
    return well_formed(clip(str(value), limit))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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
