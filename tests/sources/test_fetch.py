"""fetch(): conditional GET, redirects, limits of time and size, gzip, files. All against 127.0.0.1."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from syndicator import __version__
from syndicator.errors import FeedError
from syndicator.sources.feed import USER_AGENT, fetch
from tests.sources.httpserver import Handler, LocalServer, Route

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "site" / "front-page.rss"
FEED = FIXTURE.read_bytes()
MB = 1024 * 1024


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def feed_route(handler: Handler) -> None:
    headers = {"ETag": '"v1"', "Last-Modified": "Mon, 03 Jan 2022 18:00:00 GMT"}
    if (
        handler.headers.get("If-None-Match") == '"v1"'
        or handler.headers.get("If-Modified-Since") == headers["Last-Modified"]
    ):
        handler.reply(304, b"", headers)
        return
    handler.reply(200, FEED, headers)


def test_ok_returns_body_validators_and_sends_user_agent(server: LocalServer) -> None:
    server.routes["/feed/"] = feed_route
    result = fetch(server.url + "/feed/")
    assert result.status == "ok"
    assert result.body == FEED
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 03 Jan 2022 18:00:00 GMT"
    assert result.final_url == server.url + "/feed/"
    assert result.content_type == "application/rss+xml; charset=UTF-8"
    _, headers = server.requests[0]
    assert headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"Syndicator/{__version__} (+https://github.com/")
    assert "gzip" in headers["accept-encoding"]
    assert "if-none-match" not in headers and "if-modified-since" not in headers


def test_conditional_get_with_etag_is_not_modified(server: LocalServer) -> None:
    server.routes["/feed/"] = feed_route
    result = fetch(server.url + "/feed/", etag='"v1"')
    assert result.status == "not_modified"
    assert result.body == b""
    assert result.etag == '"v1"'
    assert server.requests[0][1]["if-none-match"] == '"v1"'


def test_conditional_get_with_last_modified_is_not_modified(server: LocalServer) -> None:
    server.routes["/feed/"] = feed_route
    result = fetch(server.url + "/feed/", last_modified="Mon, 03 Jan 2022 18:00:00 GMT")
    assert result.status == "not_modified"
    assert result.last_modified == "Mon, 03 Jan 2022 18:00:00 GMT"


def test_stale_validators_get_the_new_body(server: LocalServer) -> None:
    server.routes["/feed/"] = feed_route
    result = fetch(server.url + "/feed/", etag='"v0"', last_modified="Sun, 02 Jan 2022 18:00:00 GMT")
    assert result.status == "ok" and result.body == FEED and result.etag == '"v1"'


def redirect(to: str, status: int = 301) -> Route:
    def route(handler: Handler) -> None:
        handler.reply(status, b"", {"Location": to})

    return route


def test_follows_redirects_and_reports_final_url(server: LocalServer) -> None:
    server.routes["/old"] = redirect("/older", 301)
    server.routes["/older"] = redirect(server.url + "/feed/", 302)
    server.routes["/feed/"] = feed_route
    result = fetch(server.url + "/old", etag='"v1"')
    assert result.status == "not_modified"  # validators travel with the redirected request
    assert result.final_url == server.url + "/feed/"
    assert [path for path, _ in server.requests] == ["/old", "/older", "/feed/"]


def test_five_redirects_are_fine_six_are_not(server: LocalServer) -> None:
    for i in range(6):
        server.routes[f"/r{i}"] = redirect(f"/r{i + 1}", 307)
    server.routes["/r6"] = feed_route
    assert fetch(server.url + "/r1").final_url == server.url + "/r6"
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/r0")
    assert err.value.reason == "redirects"


def test_redirect_loop(server: LocalServer) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/a")
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/a")
    assert err.value.reason == "redirects"
    assert len(server.requests) == 2


def test_redirect_to_a_file_url_is_refused(server: LocalServer) -> None:
    server.routes["/evil"] = redirect("file:///etc/passwd")
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/evil")
    assert err.value.reason == "redirects"


@pytest.mark.parametrize("status", [400, 403, 404, 410, 429, 500, 503])
def test_non_2xx_is_http_status(server: LocalServer, status: int) -> None:
    server.routes["/feed/"] = lambda h: h.reply(status, b"<html>error</html>")
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/feed/")
    assert err.value.reason == f"http_{status}"


def test_no_answer_times_out(server: LocalServer) -> None:
    def slow(handler: Handler) -> None:
        time.sleep(3)
        handler.reply(200, FEED)

    server.routes["/slow"] = slow
    start = time.monotonic()
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/slow", timeout=0.5)
    assert err.value.reason == "timeout"
    assert time.monotonic() - start < 2


def test_a_dripping_body_cannot_outlast_the_deadline(server: LocalServer) -> None:
    def drip(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(10_000))
        handler.end_headers()
        for _ in range(10_000):  # one byte every 20 ms: each read is quick, the whole would take 200 s
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.02)

    server.routes["/drip"] = drip
    start = time.monotonic()
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/drip", timeout=0.5)
    assert err.value.reason == "timeout"
    assert time.monotonic() - start < 2


def test_gzip_body_is_decoded(server: LocalServer) -> None:
    server.routes["/gz"] = lambda h: h.reply(200, gzip.compress(FEED), {"Content-Encoding": "gzip"})
    server.routes["/deflate"] = lambda h: h.reply(200, zlib.compress(FEED), {"Content-Encoding": "deflate"})
    assert fetch(server.url + "/gz").body == FEED
    assert fetch(server.url + "/deflate").body == FEED


def test_chunked_body(server: LocalServer) -> None:
    def chunked(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(FEED), 7000):
            piece = FEED[start : start + 7000]
            handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    server.routes["/chunked"] = chunked
    assert fetch(server.url + "/chunked").body == FEED


def stream_zeros(total: int, *, declare_length: bool) -> Route:
    """50 MB produced lazily (the server never holds it), counting what it managed to send."""

    def route(handler: Handler) -> None:
        handler.send_response(200)
        if declare_length:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Connection", "close")  # body delimited by closing the connection
            handler.close_connection = True
        handler.end_headers()
        block = b"<" * (256 * 1024)
        sent = 0
        while sent < total:
            handler.wfile.write(block)
            sent += len(block)
            handler.server.owner.sent = sent

    return route


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "streamed"])
def test_50_mb_body_is_too_large_and_never_held_in_memory(server: LocalServer, declare_length: bool) -> None:
    server.routes["/huge"] = stream_zeros(50 * MB, declare_length=declare_length)
    tracemalloc.start()
    try:
        with pytest.raises(FeedError) as err:
            fetch(server.url + "/huge")  # default cap: 10 MB
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.reason == "too_large"
    assert peak < 24 * MB  # at most the cap plus a chunk, never the 50 MB
    if declare_length:
        assert server.sent < 20 * MB  # refused on the Content-Length, before the body


def test_gzip_bomb_is_too_large_without_inflating_it(server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * (50 * MB), compresslevel=9)  # ~50 KB on the wire
    assert len(bomb) < MB
    server.routes["/bomb"] = lambda h: h.reply(200, bomb, {"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(FeedError) as err:
            fetch(server.url + "/bomb", max_bytes=2 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.reason == "too_large"
    assert peak < 8 * MB


def test_broken_gzip_is_a_bad_response(server: LocalServer) -> None:
    server.routes["/bad"] = lambda h: h.reply(200, b"this is not gzip at all", {"Content-Encoding": "gzip"})
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/bad")
    assert err.value.reason == "bad_response"


def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FeedError) as err:
        fetch(f"http://127.0.0.1:{port}/feed/", timeout=2)
    assert err.value.reason == "unreachable"


def test_connection_dropped_mid_body_is_unreachable(server: LocalServer) -> None:
    def cut(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(FEED)))
        handler.end_headers()
        handler.wfile.write(FEED[:1000])
        handler.close_connection = True

    server.routes["/cut"] = cut
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/cut", timeout=3)
    assert err.value.reason == "unreachable"


def test_uses_the_given_session(server: LocalServer) -> None:
    server.routes["/feed/"] = feed_route
    with requests.Session() as session:
        session.headers["X-Test"] = "yes"
        assert fetch(server.url + "/feed/", session=session).status == "ok"
    assert server.requests[0][1]["x-test"] == "yes"


def test_local_path_and_file_url(tmp_path: Path) -> None:
    path = tmp_path / "feed file.rss"
    path.write_bytes(FEED)
    for ref in (str(path), path.as_uri()):
        result = fetch(ref)
        assert result.status == "ok"
        assert result.body == FEED
        assert result.etag is None and result.last_modified is None and result.content_type is None
        assert result.final_url == path.as_uri()


def test_local_file_size_cap_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "big.rss"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(FeedError) as err:
        fetch(str(path), max_bytes=1000)
    assert err.value.reason == "too_large"
    with pytest.raises(FeedError) as err:
        fetch(str(tmp_path / "missing.rss"))
    assert err.value.reason == "not_found"


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "gopher://x/", ""])
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(FeedError) as err:
        fetch(url)
    assert err.value.reason == "invalid_url"


def test_error_messages_hide_credentials_and_query_tokens(server: LocalServer) -> None:
    server.routes["/private"] = lambda h: h.reply(401, b"no")
    url = server.url.replace("http://", "http://editor:s3cret@") + "/private?token=abc123"
    with pytest.raises(FeedError) as err:
        fetch(url)
    assert err.value.reason == "http_401"
    assert "s3cret" not in str(err.value) and "abc123" not in str(err.value)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FeedError) as err:
        fetch(f"http://editor:s3cret@127.0.0.1:{port}/feed/?token=abc123", timeout=2)
    assert err.value.reason == "unreachable"
    assert "s3cret" not in str(err.value) and "abc123" not in str(err.value)
