"""A fake WordPress site on 127.0.0.1, as the bot sees one: the RSS feed (10 items a page, `?paged=N`), the REST
API's posts (one by id, lists by page or by `include`, `_embed` with terms and the featured media and its
`alt_text`, the plugin's `meta`), media files, and status changes (a post unpublished is gone from the feed and the
lists, and answers as WordPress answers a visitor: 401 `rest_forbidden`, or 404 `rest_post_invalid_id` once
deleted)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from tests.fakes.server import FakeServer, Request, Response

PER_PAGE = 10  # WordPress's default "Syndication feeds show the most recent" setting


@dataclass
class WPPost:
    id: int
    title: str
    published: datetime
    excerpt: str = "A summary."
    status: str = "publish"  # publish | draft | private | trash | deleted
    tags: list[tuple[str, str]] = field(default_factory=list)  # (name, slug)
    meta: dict[str, Any] = field(default_factory=dict)
    image: bytes | None = None  # the featured image's file
    image_type: str = "image/jpeg"
    alt_text: str = ""


class FakeWordPress(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.posts: dict[int, WPPost] = {}
        self.per_page = PER_PAGE
        self.max_feed_pages = 1_000  # a site whose feed cannot be paged back answers 404 past this
        self.answers: dict[int, Response] = {}  # post id → what /posts/{id} answers instead (a CDN, a firewall)

    # ── the newsroom ──────────────────────────────────────────────────────────────────────────────────────────
    def publish(self, count: int, *, start: int = 1, now: datetime, step: timedelta = timedelta(minutes=1)) -> None:
        """`count` posts, ids start..start+count-1, the newest (highest id) published just before `now`."""
        for n, post_id in enumerate(range(start + count - 1, start - 1, -1)):
            self.posts[post_id] = WPPost(post_id, f"Story {post_id:03d}", now - step * (n + 1))

    def link(self, post_id: int) -> str:
        return f"{self.url}/2026/12/01/story-{post_id}/"

    def guid(self, post_id: int) -> str:
        return f"{self.url}/?p={post_id}"

    def _published(self) -> list[WPPost]:
        live = [p for p in self.posts.values() if p.status == "publish"]
        return sorted(live, key=lambda p: (p.published, p.id), reverse=True)

    # ── HTTP ──────────────────────────────────────────────────────────────────────────────────────────────────
    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/feed/":
            return self._feed(request)
        match = re.fullmatch(r"/wp-json/wp/v2/posts/(\d+)", path)
        if match:
            return self._post(int(match.group(1)))
        if path == "/wp-json/wp/v2/posts":
            return self._list(request)
        match = re.fullmatch(r"/media/(\d+)\.\w+", path)
        if match:
            post = self.posts.get(int(match.group(1)))
            if post is None or post.image is None:
                return Response(404, "not found")
            return Response(200, post.image, {"Content-Type": post.image_type})
        return Response(404, "not found")

    def _feed(self, request: Request) -> Response:
        page = int(request.query.get("paged", ["1"])[-1])
        posts = self._published()
        chunk = posts[(page - 1) * self.per_page : page * self.per_page]
        if page > 1 and (not chunk or page > self.max_feed_pages):
            return Response(404, "<html>Page not found</html>")  # WordPress: a paged feed past its end is a 404
        items = "".join(self._item(p) for p in chunk)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Example</title>'
            f"<link>{self.url}/</link><description>News</description>{items}</channel></rss>"
        )
        return Response(200, body.encode(), {"Content-Type": "application/rss+xml; charset=UTF-8"})

    def _item(self, post: WPPost) -> str:
        cats = "".join(f"<category><![CDATA[{name}]]></category>" for name, _ in post.tags)
        if post.image is not None:  # a featured-image-in-feed plugin's enclosure
            ext = "png" if post.image_type == "image/png" else "jpg"
            url = f"{self.url}/media/{post.id}.{ext}"
            cats += f'<enclosure url="{url}" length="{len(post.image)}" type="{post.image_type}"/>'
        return (
            f"<item><title>{escape(post.title)}</title><link>{self.link(post.id)}</link>"
            f'<guid isPermaLink="false">{self.guid(post.id)}</guid>'
            f"<pubDate>{format_datetime(post.published, usegmt=True)}</pubDate>{cats}"
            f"<description>{escape(post.excerpt)}</description></item>"
        )

    def document(self, post: WPPost) -> dict[str, Any]:
        embedded: dict[str, Any] = {
            "author": [{"name": "Desk"}],
            "wp:term": [[{"name": name, "slug": slug, "taxonomy": "post_tag"} for name, slug in post.tags]],
        }
        if post.image is not None:
            ext = "png" if post.image_type == "image/png" else "jpg"
            embedded["wp:featuredmedia"] = [
                {"id": 1000 + post.id, "source_url": f"{self.url}/media/{post.id}.{ext}", "alt_text": post.alt_text}
            ]
        return {
            "id": post.id,
            "status": post.status,
            "link": self.link(post.id),
            "guid": {"rendered": self.guid(post.id)},
            "date_gmt": post.published.astimezone(UTC).replace(tzinfo=None).isoformat(),
            "modified_gmt": post.published.astimezone(UTC).replace(tzinfo=None).isoformat(),
            "title": {"rendered": escape(post.title)},
            "excerpt": {"rendered": f"<p>{escape(post.excerpt)}</p>"},
            "content": {"rendered": f"<p>{escape(post.excerpt)}</p>"},
            "meta": post.meta,
            "_embedded": embedded,
        }

    def _post(self, post_id: int) -> Response:
        if post_id in self.answers:
            return self.answers[post_id]
        post = self.posts.get(post_id)
        if post is None or post.status == "deleted":
            return Response(404, {"code": "rest_post_invalid_id", "message": "Invalid post ID.", "data": {}})
        if post.status != "publish":
            return Response(401, {"code": "rest_forbidden", "message": "Sorry, you are not allowed to do that."})
        return Response(200, self.document(post))

    def _list(self, request: Request) -> Response:
        per_page = int(request.query.get("per_page", ["10"])[-1])
        page = int(request.query.get("page", ["1"])[-1])
        posts = self._published()
        include = request.query.get("include", [""])[-1]
        if include:
            wanted = {int(i) for i in include.split(",")}
            posts = [p for p in posts if p.id in wanted]
        pages = max(1, -(-len(posts) // per_page))
        if page > pages:
            return Response(400, {"code": "rest_post_invalid_page_number", "message": "Invalid page.", "data": {}})
        chunk = posts[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(posts)), "X-WP-TotalPages": str(pages)}
        return Response(200, [self.document(p) for p in chunk], headers)
