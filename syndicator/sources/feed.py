"""The feed source: fetch a feed document and parse it into `Article`s.

    result = fetch(url, etag=..., last_modified=...)      # FetchResult (status "ok" or "not_modified")
    parsed = parse(result.body, feed="en", base_url=result.final_url, content_type=result.content_type)

Both raise `FeedError` (see `fetch.py` and `parse/` for the reasons). URL canonicalisation lives in `urls.py`.
"""

from __future__ import annotations

from syndicator.sources.fetch import MAX_REDIRECTS, USER_AGENT, FetchResult, fetch
from syndicator.sources.parse import ParsedFeed, html_to_text, normalise_language, parse, parse_date
from syndicator.sources.urls import absolute_url, canonical_url, url_key

__all__ = [
    "MAX_REDIRECTS",
    "USER_AGENT",
    "FetchResult",
    "ParsedFeed",
    "absolute_url",
    "canonical_url",
    "fetch",
    "html_to_text",
    "normalise_language",
    "parse",
    "parse_date",
    "url_key",
]
