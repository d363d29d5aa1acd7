"""The WordPress REST API decides a withdrawal only in WordPress's own words: a CDN's 403, a wrong base URL's 404
or a plugin that shuts anonymous REST out prove nothing about the post."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from syndicator.errors import FeedError
from syndicator.sources.wordpress import PostStatus, fetch_post
from tests.fakes.server import FakeServer, Request, Response


class Site(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.answer = Response(404)

    def handle(self, request: Request) -> Response:
        return self.answer


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


def wp_error(status: int, code: str) -> Response:
    return Response(status, {"code": code, "message": "…", "data": {"status": status}})


def fetch(site: Site, answer: Response) -> PostStatus:
    site.answer = answer
    return fetch_post(site.url + "/en", 42, feed="en", language="en", timeout=5)


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (wp_error(404, "rest_post_invalid_id"), "gone"),  # deleted (or never a post)
        (wp_error(410, "rest_post_invalid_id"), "gone"),
        (wp_error(401, "rest_forbidden"), "not_public"),  # draft, private or trashed, asked anonymously
        (wp_error(403, "rest_forbidden"), "not_public"),
        (wp_error(401, "rest_cannot_read"), "not_public"),
        (Response(200, {"id": 42, "status": "draft"}), "draft"),
    ],
)
def test_wordpress_own_answers_are_conclusive(site: Site, answer: Response, status: str) -> None:
    result = fetch(site, answer)
    assert not result.public and result.status == status
    assert site.requests[-1].path == "/en/wp-json/wp/v2/posts/42"


HTML = {"Content-Type": "text/html"}
BIG: dict[str, Any] = {"code": "rest_post_invalid_id", "message": "x" * 70_000}


@pytest.mark.parametrize(
    "answer",
    [
        Response(403, b"<html>Access denied</html>", HTML),  # a WAF or CDN refusing python-requests
        Response(404, b"<html>Not Found</html>", HTML),  # a wrong base URL
        Response(401, b"", HTML),
        Response(410, "Gone"),
        wp_error(401, "rest_not_logged_in"),  # a security plugin: no anonymous REST at all
        wp_error(403, "rest_login_required"),
        wp_error(404, "rest_no_route"),  # WordPress, but not this route (wrong path, REST disabled)
        wp_error(404, "rest_forbidden"),  # a code that does not fit the status
        wp_error(401, "rest_post_invalid_id"),
        Response(404, {"code": "rest_post_invalid_id"}),  # not the shape of a WP_Error
        Response(404, ["rest_post_invalid_id"]),
        Response(404, BIG),
        Response(200, {"title": "a JSON page that is not a post"}),
        Response(200, {"status": 3}),
    ],
)
def test_anything_else_is_inconclusive(site: Site, answer: Response) -> None:
    with pytest.raises(FeedError) as caught:
        fetch(site, answer)
    assert caught.value.reason == "inconclusive"


def test_other_failures_keep_their_reason(site: Site) -> None:
    with pytest.raises(FeedError) as caught:
        fetch(site, Response(500, "oops"))
    assert caught.value.reason == "http_500"
    with pytest.raises(FeedError) as caught:
        fetch(site, Response(200, b"<html>", HTML))
    assert caught.value.reason == "malformed"


def test_a_published_post_is_an_article(site: Site) -> None:
    doc = {
        "id": 42,
        "status": "publish",
        "link": "https://example.org/en/story/",
        "guid": {"rendered": "https://example.org/en/?p=42"},
        "title": {"rendered": "Story"},
    }
    result = fetch(site, Response(200, doc))
    assert result.public and result.article is not None and result.article.title == "Story"
