"""fetch()'s kept-alive pool (issue 14): a feed's hops reuse one connection; what the pool would do differently
from a requests session (credentials in the URL, proxies, netrc) goes through a session, as before."""

from __future__ import annotations

import base64
import contextlib
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicator.errors import FeedError
from syndicator.sources import fetch as fetch_module
from syndicator.sources.feed import fetch
from tests.sources.httpserver import Handler, LocalServer

FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool decides once per process whether the environment routes requests: tests decide again."""
    monkeypatch.setattr(fetch_module, "_environment_routes", None)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "NETRC",
                 "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent-home-for-tests")  # no ~/.netrc


def counting(ports: list[int]) -> object:
    def route(handler: Handler) -> None:
        ports.append(handler.client_address[1])
        if handler.headers.get("If-None-Match") == '"v1"':
            handler.reply(304, b"", {"ETag": '"v1"'})
        else:
            handler.reply(200, FEED, {"ETag": '"v1"'})

    return route


def test_conditional_gets_and_bodies_reuse_one_kept_alive_connection(server: LocalServer) -> None:
    ports: list[int] = []
    server.routes["/feed/"] = counting(ports)  # type: ignore[assignment]
    assert fetch(server.url + "/feed/").body == FEED
    for _ in range(5):
        assert fetch(server.url + "/feed/", etag='"v1"').status == "not_modified"
    assert fetch(server.url + "/feed/").status == "ok"
    assert len(ports) == 7 and len(set(ports)) == 1


def test_a_same_host_redirect_is_followed_and_an_error_status_is_a_reason(server: LocalServer) -> None:
    server.routes["/old"] = lambda h: h.reply(301, b"moved", {"Location": "/feed/"})
    server.routes["/feed/"] = lambda h: h.reply(200, FEED)
    server.routes["/gone"] = lambda h: h.reply(410, b"gone")
    result = fetch(server.url + "/old")
    assert result.status == "ok" and result.final_url == server.url + "/feed/"
    with pytest.raises(FeedError) as err:
        fetch(server.url + "/gone")
    assert err.value.reason == "http_410"
    assert fetch(server.url + "/feed/").body == FEED  # the pool is still sound after an error's unread body


def test_credentials_in_the_url_are_sent_as_basic_auth(server: LocalServer) -> None:
    server.routes["/private/"] = lambda h: h.reply(200, FEED)
    host = server.url.split("://", 1)[1]
    assert fetch(f"http://reader:TEST-not-real@{host}/private/").body == FEED
    expected = "Basic " + base64.b64encode(b"reader:TEST-not-real").decode()
    assert server.requests[0][1]["authorization"] == expected


def test_a_proxy_in_the_environment_is_honoured(monkeypatch: pytest.MonkeyPatch, server: LocalServer) -> None:
    # the "proxy" is the test server itself: a proxied request carries the absolute URL in its request line
    seen: list[str] = []

    def proxy(handler: Handler) -> None:
        seen.append(handler.path)
        handler.reply(200, FEED)

    server.routes["http://feeds.example.test/feed/"] = proxy
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "")
    assert fetch("http://feeds.example.test/feed/").body == FEED
    assert seen == ["http://feeds.example.test/feed/"]


@pytest.fixture
def tls_feed(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    with LocalServer() as server:
        server.routes["/feed/"] = lambda h: h.reply(200, FEED)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        server._httpd.socket = context.wrap_socket(server._httpd.socket, server_side=True)
        yield server.url.replace("http://", "https://") + "/feed/", tmp_path / "cert.pem"


def test_https_feeds_are_verified_against_the_bundle_requests_used(
    tls_feed: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_feed
    monkeypatch.setattr(fetch_module, "_pool", None)
    with pytest.raises(FeedError) as err:  # a self-signed certificate is not in certifi's bundle
        fetch(url, timeout=5)
    assert err.value.reason == "unreachable"
    import certifi

    monkeypatch.setattr(certifi, "where", lambda: str(cert))  # a bundle that holds it: trusted
    monkeypatch.setattr(fetch_module, "_pool", None)
    assert fetch(url, timeout=5).body == FEED
    monkeypatch.setattr(fetch_module, "_pool", None)  # the next test gets a pool with the real bundle


def test_an_operators_own_ca_bundle_is_trusted_as_requests_trusted_it(
    tls_feed: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """REQUESTS_CA_BUNDLE (a private CA): the feed goes through requests, which reads it, not the certifi pool."""
    url, cert = tls_feed
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    assert fetch(url, timeout=5).body == FEED


def test_a_server_dripping_its_headers_is_cut_at_the_fetchs_deadline(server: LocalServer) -> None:
    """One header byte every 0.2 s never trips a per-read timeout; the fetch's one deadline (1 s) cuts it, where the
    drip would take 20 s. The connection stays usable for the next fetch."""
    import time

    def drip(handler: Handler) -> None:
        with contextlib.suppress(OSError):
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            handler.wfile.flush()
            for _ in range(100):
                handler.wfile.write(b"X")
                handler.wfile.flush()
                time.sleep(0.2)
        handler.close_connection = True

    server.routes["/drip/"] = drip
    server.routes["/feed/"] = lambda h: h.reply(200, FEED)
    started = time.monotonic()
    with pytest.raises(FeedError) as err:
        fetch(f"{server.url}/drip/", timeout=1)
    assert err.value.reason == "timeout"
    assert time.monotonic() - started < 6  # the drip alone: 20 s
    assert fetch(f"{server.url}/feed/", timeout=5).body == FEED
