"""A fake publisher site: serves feed documents over real HTTP with ETag / Last-Modified and 304s."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.fakes.server import FakeServer, Request, Response

SITE = Path(__file__).resolve().parents[1] / "data" / "site"  # copies of the publisher's sample feeds


def fixture(name: str) -> bytes:
    return (SITE / name).read_bytes()


def refresh_dates(feed: bytes, *, now: datetime, step: timedelta = timedelta(minutes=10)) -> bytes:
    """Move every <pubDate> to just before `now`, keeping their order, so age limits do not hide the items."""
    count = 0

    def repl(_m: re.Match[bytes]) -> bytes:
        nonlocal count
        stamp = format_datetime(now - step * (count + 1), usegmt=True).encode()
        count += 1
        return b"<pubDate>" + stamp + b"</pubDate>"

    return re.sub(rb"<pubDate>[^<]*</pubDate>", repl, feed)


class FeedSite(FakeServer):
    """`site.feeds[path] = bytes` publishes a feed; GETs honour If-None-Match."""

    def __init__(self) -> None:
        super().__init__()
        self.feeds: dict[str, bytes] = {}
        self.status: dict[str, int] = {}  # path → an error status to answer instead
        self.content_type = "application/rss+xml; charset=UTF-8"

    def url_for(self, path: str) -> str:
        return self.url + path

    def handle(self, request: Request) -> Response:
        if request.path in self.status:
            return Response(self.status[request.path], "error")
        body = self.feeds.get(request.path)
        if body is None:
            return Response(404, "not found")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(datetime(2026, 1, 1, tzinfo=UTC), usegmt=True),
            "Content-Type": self.content_type,
        }
        if request.headers.get("if-none-match") == etag:
            return Response(304, None, headers)
        return Response(200, body, headers)
