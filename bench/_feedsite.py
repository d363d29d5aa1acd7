"""A fast local publisher site for the polling benchmark: one asyncio process serving N WordPress-shaped feeds.

    python bench/_feedsite.py [--latency-ms 0]     # prints "PORT <n>" on stdout, serves until killed

It runs in its own process so serving does not compete with the poller for the GIL. HTTP/1.1 with keep-alive
(requests' pool reuses connections; urllib/feedparser closes each one), ETag + Last-Modified, 304 on
If-None-Match, no compression. `GET /feeds/<i>.rss` is feed i: 20 items, newest first, ~4 KB of content each
(the shape of the publisher's real front-page feed). `POST /_bump` publishes one new item in every feed (the
oldest drops off the end, as WordPress does), which changes every ETag. `GET /_stats` counts requests and
connections. Bodies are built per request from shared parts, so 10,000 feeds cost no memory here. With
--latency-ms every feed answer waits that long first, as a real site across a network would.
"""

from __future__ import annotations

import asyncio
import html
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

ITEMS = 20
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # the benchmark's injected clock reads the same instant
LAST_MODIFIED = format_datetime(NOW, usegmt=True).encode()

_SENTENCE = (
    "former members of the group said the camp in Albania families visited their children after years of "
    "separation and asked the authorities for access human rights organisations reported that"
)
_TEXT = _SENTENCE.split()


def _content() -> str:
    words = [_TEXT[j % len(_TEXT)] for j in range(560)]
    paragraphs = [" ".join(words[k : k + 70]).capitalize() + "." for k in range(0, 560, 70)]
    body = "\n".join(
        f'<p>{p} It&#8217;s the <a href="https://www.example.org/en/related-{n}/">story</a> &amp; more.</p>'
        for n, p in enumerate(paragraphs)
    )
    return (
        '<p><img src="https://www.example.org/en/wp-content/uploads/2025/12/photo-1024x576.jpg" alt="Photo" '
        f'width="1024" height="576" /></p>\n{body}'
    )


CONTENT = _content()
SUMMARY = html.escape(" ".join(_TEXT[:40])) + " [&#8230;]"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n<title>Example News {f}</title>\n'
    '<atom:link href="https://www.example.org/s{f}/feed/" rel="self" type="application/rss+xml" />\n'
    "<link>https://www.example.org/s{f}</link>\n<description>Edition {f}</description>\n<language>en-US</language>\n"
)


def item(feed: int, k: int) -> str:
    """Item k of a feed: k grows with time, so a higher k is newer."""
    when = format_datetime(NOW - timedelta(minutes=30) + timedelta(minutes=k), usegmt=True)
    return (
        "<item>\n"
        f"<title>Families of members ask for a visit &#8211; part {k}</title>\n"
        f"<link>https://www.example.org/s{feed}/families-ask-for-a-visit-{k}/</link>\n"
        "<dc:creator><![CDATA[Example Society]]></dc:creator>\n"
        f"<pubDate>{when}</pubDate>\n"
        "<category><![CDATA[Families]]></category>\n<category><![CDATA[Albania]]></category>\n"
        f'<guid isPermaLink="false">https://www.example.org/s{feed}/?p={30000 + k}</guid>\n'
        f"<description><![CDATA[{SUMMARY}]]></description>\n"
        f"<content:encoded><![CDATA[{CONTENT}]]></content:encoded>\n"
        "</item>\n"
    )


def feed_body(feed: int, version: int) -> bytes:
    """Version v holds items v .. v+ITEMS-1, newest first."""
    items = "".join(item(feed, k) for k in range(version + ITEMS - 1, version - 1, -1))
    return (HEAD.format(f=feed) + items + "</channel>\n</rss>\n").encode()


class Site:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency  # seconds before each feed answer: a network round trip and the server's own time
        self.version = 0
        self.requests = 0
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.split(b"\r\n")
                method, path, _ = lines[0].split(b" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get(b"content-length", b"0") or 0)
                if length:
                    await reader.readexactly(length)
                close = headers.get(b"connection", b"").lower() == b"close" or lines[0].endswith(b"HTTP/1.0")
                if self.latency and path.startswith(b"/feeds/"):
                    await asyncio.sleep(self.latency)
                writer.write(self.answer(method, path, headers, close))
                await writer.drain()
                if close:
                    return
        finally:
            writer.close()

    def answer(self, method: bytes, path: bytes, headers: dict[bytes, bytes], close: bool) -> bytes:
        self.requests += 1
        extra = b"Connection: close\r\n" if close else b""
        if method == b"POST" and path == b"/_bump":
            self.version += 1
            return b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n" + extra + b"\r\n"
        if method == b"GET" and path == b"/_stats":
            body = f"{self.requests - 1} requests on {self.connections} connections".encode()
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)
        if not (path.startswith(b"/feeds/") and path.endswith(b".rss")) or not path[7:-4].isdigit():
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n" + extra + b"\r\n"
        feed = int(path[7:-4])
        etag = b'"%d-%d"' % (feed, self.version)
        validators = b"ETag: %s\r\nLast-Modified: %s\r\n" % (etag, LAST_MODIFIED)
        if headers.get(b"if-none-match") == etag:
            return b"HTTP/1.1 304 Not Modified\r\n" + validators + extra + b"\r\n"
        body = feed_body(feed, self.version)
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=UTF-8\r\nContent-Length: %d\r\n%s%s\r\n%s"
            % (len(body), validators, extra, body)
        )


async def main() -> None:
    latency = float(sys.argv[sys.argv.index("--latency-ms") + 1]) / 1000 if "--latency-ms" in sys.argv else 0.0
    site = Site(latency)
    server = await asyncio.start_server(site.serve, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
