"""The outbound guard: a URL from content (an image, a WebSub hub, a redirect) reaches public addresses only,
whatever its spelling, at every redirect hop, on the address that was checked, within one deadline and size cap.

Everything runs against real HTTP servers on 127.0.0.1. Names are answered by an injected resolver (the suite
forbids real DNS), which is also how a public name that points inside, or answers differently the second time
(DNS rebinding), is simulated. The operator's allowlist (`[outbound] allow`) is what lets a test reach 127.0.0.1.
"""

from __future__ import annotations

import gzip
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from syndicator import config
from syndicator.app import App
from syndicator.article import Post
from syndicator.cli import main
from syndicator.config import TargetSettings
from syndicator.errors import ConfigError, FeedError
from syndicator.logs import observe
from syndicator.outbound import OutboundError, OutboundGuard, Refused, address_problem, parse_rule
from syndicator.platforms.base import make_publisher
from syndicator.platforms.settings import Secrets
from syndicator.platforms.twitter.publisher import TwitterPublisher
from syndicator.platforms.twitter.settings import TwitterSettings
from syndicator.sources import websub
from syndicator.sources.fetch import fetch
from syndicator.sources.wordpress import fetch_post
from syndicator.store import Store
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.twitter import JPEG, FakeX
from tests.sources.httpserver import Handler, LocalServer

X_SECRETS = {
    "api_key": "X-API-KEY-not-real",
    "api_secret": "X-API-SECRET-not-real",
    "access_token": "1-X-ACCESS-TOKEN-not-real",
    "access_token_secret": "X-ACCESS-SECRET-not-real",
}
X_ENV = {
    "X_API_KEY": X_SECRETS["api_key"],
    "X_API_SECRET": X_SECRETS["api_secret"],
    "X_ACCESS_TOKEN": X_SECRETS["access_token"],
    "X_ACCESS_TOKEN_SECRET": X_SECRETS["access_token_secret"],
}


class Names:
    """An injected getaddrinfo: each name answers its list of addresses; a list of lists answers one list per
    call (the last one repeats), which is what a rebinding DNS server does. An unknown name fails the test."""

    def __init__(self, answers: dict[str, Sequence[str] | Sequence[Sequence[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        answer = self.answers[host]
        if answer and not isinstance(answer[0], str):
            rounds = [list(a) for a in answer]
            addresses = rounds[min(self.calls.count(host), len(rounds)) - 1]
        else:
            addresses = [str(a) for a in answer]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]


@pytest.fixture
def events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    undo = observe(lambda event, fields: seen.append((event, dict(fields))))
    yield seen
    undo()


def refusals(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [fields for event, fields in events if event == "outbound.refused"]


def image(handler: Handler) -> None:
    handler.reply(200, JPEG, {"Content-Type": "image/jpeg"})


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        srv.routes["/image.jpg"] = image
        yield srv


def port_of(srv: LocalServer | FakeServer) -> int:
    return int(srv.url.rsplit(":", 1)[1])


def local(srv: LocalServer | FakeServer) -> str:
    """The allowlist entry for exactly this test server."""
    return f"127.0.0.1:{port_of(srv)}"


# -- addresses: every spelling of an inside address is refused, before any connection -----------------------

INSIDE = [
    "http://127.0.0.1:{port}/image.jpg",
    "http://127.8.9.10:{port}/image.jpg",
    "http://localhost:{port}/image.jpg",
    "http://LOCALHOST.:{port}/image.jpg",
    "http://[::1]:{port}/image.jpg",
    "http://[::ffff:127.0.0.1]:{port}/image.jpg",
    "http://[::ffff:7f00:1]:{port}/image.jpg",
    "http://[::127.0.0.1]:{port}/image.jpg",
    "http://2130706433:{port}/image.jpg",
    "http://0x7f000001:{port}/image.jpg",
    "http://0x7f.0.0.1:{port}/image.jpg",
    "http://0177.0.0.1:{port}/image.jpg",
    "http://127.1:{port}/image.jpg",
    "http://127.0.1:{port}/image.jpg",
    "http://0:{port}/image.jpg",
    "http://0.0.0.0:{port}/image.jpg",
    "http://[::]:{port}/image.jpg",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://192.0.0.8/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250:1900/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata service
    "http://[::ffff:169.254.169.254]/",
    "https://127.0.0.1:{port}/image.jpg",
]


@pytest.mark.parametrize("template", INSIDE)
def test_every_spelling_of_an_inside_address_is_refused(
    server: LocalServer, template: str, events: list[tuple[str, dict[str, Any]]]
) -> None:
    url = template.format(port=port_of(server))
    guard = OutboundGuard()  # the real resolver: the suite lets it answer localhost only

    with pytest.raises(Refused) as refused:
        guard.fetch(url, timeout=2, max_bytes=1000, purpose="image")

    assert server.requests == []
    (logged,) = refusals(events)
    assert logged["purpose"] == "image" and logged["reason"] == str(refused.value)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("100.100.1.1", "CGNAT"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.1.2.3", "reserved"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
        ("::10.0.0.1", "IPv4-compatible"),
        ("2002:0a00:0001::1", "6to4"),
        ("64:ff9b::c0a8:0101", "NAT64"),
        ("fe80::1%eth0", "link-local"),
        ("fd00::1", "unique-local"),
        ("ff05::2", "multicast"),
        ("100::1", "discard"),
        ("3fff::1", "documentation"),  # 3fff::/20, documentation since 2024 (not global, whatever the Python)
    ],
)
def test_address_problem_names_what_is_wrong(address: str, problem: str) -> None:
    found = address_problem(ipaddress.ip_address(address))
    assert found is not None
    if problem != "documentation":  # older Pythons only know it as not global
        assert problem.lower() in found.lower()


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_a_public_name_that_resolves_inside_is_refused(server: LocalServer) -> None:
    names = Names(
        {
            "images.example.org": ["127.0.0.1"],
            "meta.example.org": ["169.254.169.254"],
            "mixed.example.org": ["93.184.216.34", "10.0.0.5"],  # one inside address refuses the name
            "v6.example.org": ["::ffff:127.0.0.1"],
        }
    )
    guard = OutboundGuard(resolver=names)
    for host in names.answers:
        with pytest.raises(Refused, match=re.escape(f"{host} resolves to")):
            guard.fetch(f"http://{host}:{port_of(server)}/image.jpg", timeout=2, max_bytes=1000)
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "ftp://images.example.org/a.jpg",
        "//images.example.org/a.jpg",
        "http://user:hunter2@images.example.org/a.jpg",
        "http://images.example.org@127.0.0.1/a.jpg",
        "http://images.example.org:@127.0.0.1/a.jpg",
    ],
)
def test_other_schemes_and_userinfo_are_refused(url: str) -> None:
    guard = OutboundGuard(resolver=Names({}))
    with pytest.raises(Refused) as refused:
        guard.fetch(url, timeout=1, max_bytes=1000)
    assert "hunter2" not in str(refused.value) and "hunter2" not in refused.value.url


@pytest.mark.parametrize(
    "url", ["http:///a.jpg", "http://exa mple.org/", "http://[::1/", "http://[fe80::1%25eth0]/", "http://a\x00b/"]
)
def test_urls_that_cannot_be_fetched_are_invalid(url: str) -> None:
    with pytest.raises(OutboundError) as caught:
        OutboundGuard(resolver=Names({})).fetch(url, timeout=1, max_bytes=1000)
    assert caught.value.reason == "invalid_url"


# -- the allowlist ------------------------------------------------------------------------------------------


def test_the_allowlist_is_the_only_way_in(server: LocalServer) -> None:
    url = f"{server.url}/image.jpg"
    with pytest.raises(Refused):
        OutboundGuard().fetch(url, timeout=2, max_bytes=1000)
    with pytest.raises(Refused):
        OutboundGuard([f"127.0.0.1:{port_of(server) + 1}"]).fetch(url, timeout=2, max_bytes=1000)  # another port

    for entry in ("127.0.0.1", "127.0.0.0/8", local(server), f"127.0.0.0/8:{port_of(server)}"):
        got = OutboundGuard([entry]).fetch(url, timeout=2, max_bytes=1000, content_types=("image/",))
        assert (got.status, got.body, got.content_type) == (200, JPEG, "image/jpeg")


def test_a_host_name_entry_allows_that_name_only(server: LocalServer) -> None:
    names = Names({"cdn.internal": ["127.0.0.1"], "other.internal": ["127.0.0.1"]})
    guard = OutboundGuard([f"cdn.internal:{port_of(server)}"], resolver=names)

    got = guard.fetch(f"http://CDN.internal.:{port_of(server)}/image.jpg", timeout=2, max_bytes=1000)
    assert got.body == JPEG
    assert server.requests[-1][1]["host"] == f"cdn.internal:{port_of(server)}"
    with pytest.raises(Refused):
        guard.fetch(f"http://other.internal:{port_of(server)}/image.jpg", timeout=2, max_bytes=1000)
    with pytest.raises(Refused):  # the name, not the address, was allowed
        guard.fetch(f"{server.url}/image.jpg", timeout=2, max_bytes=1000)


@pytest.mark.parametrize(
    "entry",
    ["", "10.1.2.3/24", "10.0.0.0/33", "0.0.0.0/0", "::/0", "127.1", "2130706433", "*.cdn.internal",
     "cdn.internal:0", "cdn.internal:99999", "fd00::1:8080x", "[10.0.0.1]:80", "bad host", "::ffff:10.0.0.1"],
)  # fmt: skip
def test_bad_allowlist_entries_are_configuration_errors(entry: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        parse_rule(entry)
    text = f'[outbound]\nallow = ["10.9.0.0/16", {entry!r}]\n'.replace("'", '"')
    file = tmp_path / "s.toml"
    file.write_text(text + '[[feeds]]\nname = "en"\nurl = "feed.xml"\ntargets = ["t"]\n'
                    '[targets.t]\nplatform = "telegram"\nchat = "@x"\ndry_run = true\n')  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        config.load(file, environ={})
    assert caught.value.key == "outbound.allow[1]"
    assert main(["--config", str(file), "check", "--offline"]) == 2


def test_good_allowlist_entries_parse() -> None:
    for entry in ("127.0.0.1", "10.1.2.0/24", "cdn.internal", "cdn.internal:8080", "10.1.2.0/24:443",
                  "[fd00::7]:8080", "fd00::/8", "[fd00::/8]", "bücher.internal"):  # fmt: skip
        parse_rule(entry)


# -- redirects: every hop is checked again --------------------------------------------------------------------


def redirect(to: str, status: int = 302) -> Callable[[Handler], None]:
    return lambda h: h.reply(status, b"", {"Location": to})


def test_a_redirect_to_inside_is_refused_at_the_hop(
    server: LocalServer, events: list[tuple[str, dict[str, Any]]]
) -> None:
    # news.example.org stands for a public host: the allowlist lets the test reach it, by name only
    names = Names({"news.example.org": ["127.0.0.1"], "localhost": ["127.0.0.1"]})
    guard = OutboundGuard([f"news.example.org:{port_of(server)}"], resolver=names)
    base = f"http://news.example.org:{port_of(server)}"
    targets = {
        "/to-ip": f"{server.url}/secret",
        "/to-localhost": f"http://localhost:{port_of(server)}/secret",
        "/to-decimal": f"http://2130706433:{port_of(server)}/secret",
        "/to-mapped": f"http://[::ffff:127.0.0.1]:{port_of(server)}/secret",
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-file": "file:///etc/passwd",
    }
    server.routes["/secret"] = lambda h: h.reply(200, b"internal", {"Content-Type": "image/png"})
    for path, location in targets.items():
        server.routes[path] = redirect(location)
        with pytest.raises(Refused):
            guard.fetch(base + path, timeout=2, max_bytes=1000)

    assert [p for p, _ in server.requests] == list(targets), "the inside URL was never requested"
    assert len(refusals(events)) == len(targets)
    assert all(f["reason"] for f in refusals(events))


def test_a_redirect_on_an_allowed_host_is_followed(server: LocalServer) -> None:
    server.routes["/a"] = redirect("/b", 301)
    server.routes["/b"] = redirect(f"{server.url}/image.jpg", 307)
    got = OutboundGuard([local(server)]).fetch(f"{server.url}/a", timeout=2, max_bytes=1000)
    assert got.body == JPEG and got.url == f"{server.url}/image.jpg"


def test_redirect_limits(server: LocalServer) -> None:
    guard = OutboundGuard([local(server)], max_redirects=2)
    server.routes["/loop1"] = redirect("/loop2")
    server.routes["/loop2"] = redirect("/loop1")
    for i in range(4):
        server.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    server.routes["/r4"] = image
    server.routes["/nowhere"] = lambda h: h.reply(302, b"")
    for path in ("/loop1", "/r0", "/nowhere"):
        with pytest.raises(OutboundError) as caught:
            guard.fetch(server.url + path, timeout=2, max_bytes=1000)
        assert caught.value.reason == "redirects", path
    assert guard.fetch(f"{server.url}/r2", timeout=2, max_bytes=1000).body == JPEG


def test_rebinding_cannot_move_the_connection(server: LocalServer) -> None:
    """The name is resolved once per hop and the connection goes to that answer; a second lookup (which would
    answer 10.0.0.7 here, or reach the suite's real-DNS tripwire) never happens."""
    names = Names({"rebind.example.org": [["127.0.0.1"], ["10.0.0.7"]]})
    guard = OutboundGuard([local(server)], resolver=names)

    got = guard.fetch(f"http://rebind.example.org:{port_of(server)}/image.jpg", timeout=2, max_bytes=1000)

    assert got.body == JPEG
    assert names.calls == ["rebind.example.org"]
    assert server.requests[-1][1]["host"] == f"rebind.example.org:{port_of(server)}"


def test_rebinding_between_hops_is_caught_at_the_next_hop(server: LocalServer) -> None:
    names = Names({"rebind.example.org": [["127.0.0.1"], ["169.254.169.254"]]})
    guard = OutboundGuard([local(server)], resolver=names)
    server.routes["/start"] = redirect(f"http://rebind.example.org:{port_of(server)}/image.jpg")

    with pytest.raises(Refused, match=re.escape("resolves to 169.254.169.254")):
        guard.fetch(f"http://rebind.example.org:{port_of(server)}/start", timeout=2, max_bytes=1000)
    assert [p for p, _ in server.requests] == ["/start"]


def test_environment_proxies_are_not_used(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")
    assert OutboundGuard([local(server)]).fetch(f"{server.url}/image.jpg", timeout=2, max_bytes=1000).body == JPEG


# -- a wall-clock deadline, a size cap, a content type --------------------------------------------------------


def drip_body(handler: Handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "image/jpeg")
    handler.send_header("Content-Length", "200")
    handler.end_headers()
    for _ in range(200):
        handler.wfile.write(b"x")
        time.sleep(0.05)


def drip_headers(handler: Handler) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nX-Padding: " + b"a" * 200:
        handler.wfile.write(bytes([byte]))
        time.sleep(0.05)


def silent(handler: Handler) -> None:
    time.sleep(1.0)


@pytest.mark.parametrize("route", [drip_body, drip_headers, silent])
def test_a_dripping_or_silent_server_is_cut_at_the_deadline(server: LocalServer, route: Any) -> None:
    server.routes["/slow.jpg"] = route
    started = time.monotonic()
    with pytest.raises(OutboundError) as caught:
        OutboundGuard([local(server)]).fetch(f"{server.url}/slow.jpg", timeout=0.5, max_bytes=10_000)
    elapsed = time.monotonic() - started
    assert caught.value.reason == "timeout"
    assert 0.45 <= elapsed < 0.95, elapsed  # the server holds for 1 s or more: cut before it, with slack for load


def test_a_slow_resolver_counts_against_the_deadline() -> None:
    def slow(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        time.sleep(1.0)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    started = time.monotonic()
    with pytest.raises(OutboundError) as caught:
        OutboundGuard(resolver=slow).fetch("http://slow-dns.example.org/a.jpg", timeout=0.3, max_bytes=10)
    assert caught.value.reason == "timeout" and time.monotonic() - started < 0.9  # the resolver takes 1 s


def test_the_size_cap_holds_with_or_without_a_declared_length(server: LocalServer) -> None:
    big = b"\xff" * 5000

    def undeclared(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/jpeg")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(big)

    bomb = gzip.compress(b"\0" * 5_000_000)
    server.routes["/declared.jpg"] = lambda h: h.reply(200, big, {"Content-Type": "image/jpeg"})
    server.routes["/undeclared.jpg"] = undeclared
    gzipped = {"Content-Type": "image/jpeg", "Content-Encoding": "gzip"}
    server.routes["/bomb.jpg"] = lambda h: h.reply(200, bomb, gzipped)
    guard = OutboundGuard([local(server)])
    for path in ("/declared.jpg", "/undeclared.jpg", "/bomb.jpg"):
        with pytest.raises(OutboundError) as caught:
            guard.fetch(server.url + path, timeout=2, max_bytes=1000)
        assert caught.value.reason == "too_large", path
    assert len(guard.fetch(server.url + "/declared.jpg", timeout=2, max_bytes=5000).body) == 5000


def test_a_2xx_must_have_an_accepted_content_type(server: LocalServer) -> None:
    server.routes["/page"] = lambda h: h.reply(200, b"<html>secret</html>", {"Content-Type": "text/html"})
    server.routes["/bare"] = lambda h: h.reply(200, b"...", {"Content-Type": ""})
    server.routes["/gone.jpg"] = lambda h: h.reply(404, b"<html>gone</html>", {"Content-Type": "text/html"})
    guard = OutboundGuard([local(server)])
    for path in ("/page", "/bare"):
        with pytest.raises(OutboundError) as caught:
            guard.fetch(server.url + path, timeout=2, max_bytes=1000, content_types=("image/",))
        assert caught.value.reason == "content_type"
    assert guard.fetch(server.url + "/gone.jpg", timeout=2, max_bytes=1000, content_types=("image/",)).status == 404


# -- HTTPS: the connection goes to the checked address, the certificate is checked for the real name ----------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=images.example.org", "-addext", "subjectAltName=DNS:images.example.org",
         "-keyout", str(where / "key.pem"), "-out", str(where / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    return where


@pytest.fixture
def tls_server(certificate: Path) -> Iterator[ThreadingHTTPServer]:
    class Images(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.server.hosts.append(self.headers["Host"])  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass

    httpd = Quiet(("127.0.0.1", 0), Images)
    httpd.hosts = []  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_https_is_pinned_to_the_checked_address_and_verifies_the_real_name(
    tls_server: ThreadingHTTPServer, certificate: Path
) -> None:
    port = tls_server.server_address[1]
    names = Names({"images.example.org": ["127.0.0.1"], "other.example.org": ["127.0.0.1"]})
    guard = OutboundGuard([f"127.0.0.1:{port}"], resolver=names, ca_certs=str(certificate / "cert.pem"))

    got = guard.fetch(f"https://images.example.org:{port}/a.jpg", timeout=2, max_bytes=1000)
    assert got.body == JPEG
    assert tls_server.hosts == [f"images.example.org:{port}"]  # type: ignore[attr-defined]

    with pytest.raises(OutboundError, match="TLS") as caught:  # the certificate is not for this name
        guard.fetch(f"https://other.example.org:{port}/a.jpg", timeout=2, max_bytes=1000)
    assert caught.value.reason == "unreachable"


# -- through the real X publisher and the fake X ------------------------------------------------------------


def x_target(api_base: str, timeout: float = 2.0) -> TargetSettings:
    return TargetSettings(
        name="x_en",
        platform="twitter",
        settings=TwitterSettings(handle="example_news"),
        secrets=Secrets(dict(X_SECRETS)),
        api_base=api_base,
        timeout=timedelta(seconds=timeout),
    )


def x_post(image_url: str, text: str = "Breaking: the council met https://example.org/a") -> Post:
    return Post(platform="twitter", text=text, length=len(text), limit=280, image_url=image_url)


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


async def test_x_posts_without_an_inside_image_and_logs_why(
    fake_x: FakeX, events: list[tuple[str, dict[str, Any]]]
) -> None:
    publisher = make_publisher(x_target(fake_x.url))  # no allowlist: public addresses only
    try:
        receipt = await publisher.publish(x_post(f"{fake_x.url}/image.jpg"))
        decimal = await publisher.publish(x_post(f"http://2130706433:{port_of(fake_x)}/image.jpg", "Second story"))
    finally:
        await publisher.aclose()

    assert receipt.remote_id in fake_x.tweets and decimal.remote_id in fake_x.tweets
    assert fake_x.calls("GET", "/image.jpg") == [] and fake_x.calls("POST", "/2/media/upload") == []
    assert all("media" not in body for body in fake_x.tweet_bodies())
    assert receipt.extra["image_error"] == "image URL refused: 127.0.0.1 is a loopback address"
    assert "not a host name" in decimal.extra["image_error"]
    logged = refusals(events)
    assert [f["purpose"] for f in logged] == ["image", "image"]
    assert "loopback" in logged[0]["reason"]


async def test_x_attaches_an_image_the_allowlist_lets_through(fake_x: FakeX, tmp_path: Path) -> None:
    """The documented way, end to end: `[outbound] allow` in the file → App → the X publisher's guard."""
    text = f"""
[store]
url = "sqlite:///{tmp_path}/s.db"
[outbound]
allow = ["{local(fake_x)}"]
[[feeds]]
name = "en"
url = "{tmp_path}/feed.xml"
targets = ["x"]
[targets.x]
platform = "twitter"
api_base = "{fake_x.url}"
handle = "example_news"
"""
    cfg = config.parse(text, environ=X_ENV)
    app = App(cfg, Store(cfg.store.url))
    try:
        publisher = app.publisher(cfg.targets["x"])
        assert isinstance(publisher, TwitterPublisher)
        receipt = await publisher.publish(x_post(f"{fake_x.url}/image.jpg"))
    finally:
        await app.aclose()

    assert "image_error" not in receipt.extra
    assert fake_x.tweets[receipt.remote_id].media_ids == receipt.extra["media_ids"]
    (upload,) = fake_x.calls("POST", "/2/media/upload")
    assert JPEG.decode("latin-1") in upload.form()["media"]


async def test_x_cuts_a_dripping_image_at_the_targets_timeout(fake_x: FakeX, server: LocalServer) -> None:
    server.routes["/slow.jpg"] = drip_body
    publisher = TwitterPublisher(x_target(fake_x.url, timeout=0.5), outbound=OutboundGuard([local(server)]))
    started = time.monotonic()
    try:
        receipt = await publisher.publish(x_post(f"{server.url}/slow.jpg"))
    finally:
        await publisher.aclose()

    assert time.monotonic() - started < 1.5
    assert receipt.extra["image_error"] == "image download took longer than 0.5s"
    assert receipt.remote_id in fake_x.tweets


# -- the other fetches of remote URLs ------------------------------------------------------------------------


class Hub(FakeServer):
    def __init__(self, answer: Response) -> None:
        super().__init__()
        self.answer = answer

    def handle(self, request: Request) -> Response:
        return self.answer


def test_a_websub_hub_inside_is_refused_and_never_sees_the_secret(events: list[tuple[str, dict[str, Any]]]) -> None:
    secret = "hub-secret-TEST-not-real-4242"
    kwargs: dict[str, Any] = {
        "topic": "https://news.example.org/feed/",
        "callback": "https://syndicator.example.org/hooks/websub?feed=en",
        "secret": secret,
        "lease": timedelta(days=7),
        "timeout": 2,
    }
    with Hub(Response(202)) as hub:
        with pytest.raises(FeedError) as caught:
            websub.request_subscription(hub=f"{hub.url}/hub", **kwargs)
        assert caught.value.reason == "refused" and secret not in str(caught.value)
        assert hub.requests == []
        assert refusals(events)[0]["purpose"] == "websub hub"

        websub.request_subscription(hub=f"{hub.url}/hub", outbound=OutboundGuard([local(hub)]), **kwargs)
        (request,) = hub.requests
        assert request.method == "POST" and request.form()["hub.secret"] == secret

    with Hub(Response(307, headers={"Location": "http://collector.example.org/steal"})) as hub:
        with pytest.raises(FeedError) as caught:  # the secret would go to another host: not followed
            websub.request_subscription(hub=f"{hub.url}/hub", outbound=OutboundGuard([local(hub)]), **kwargs)
        assert caught.value.reason == "unreachable" and secret not in str(caught.value)


def test_a_feed_redirect_to_another_host_goes_through_the_guard(server: LocalServer) -> None:
    server.routes["/feed"] = lambda h: h.reply(200, b"<rss/>")
    server.routes["/same-host"] = redirect(f"{server.url}/feed")
    server.routes["/other-host"] = redirect(f"http://localhost:{port_of(server)}/feed")
    server.routes["/metadata"] = redirect("http://169.254.169.254/latest/meta-data/")

    # the operator's own host, and redirects on it, stay allowed
    assert fetch(f"{server.url}/same-host", timeout=2).body == b"<rss/>"
    for path in ("/other-host", "/metadata"):
        with pytest.raises(FeedError) as caught:
            fetch(server.url + path, timeout=2)
        assert caught.value.reason == "refused", path
    allowed = fetch(f"{server.url}/other-host", timeout=2, outbound=OutboundGuard(["127.0.0.1", "::1"]))
    assert allowed.body == b"<rss/>" and allowed.final_url == f"http://localhost:{port_of(server)}/feed"


def test_wordpress_redirects_to_another_host_are_checked() -> None:
    post = {"id": 42, "status": "draft"}
    with Hub(Response(200, post)) as site:
        assert fetch_post(site.url, 42, feed="en", language="en", timeout=2).status == "draft"  # the operator's
        site.answer = Response(301, headers={"Location": f"http://localhost:{port_of(site)}/wp-json/x"})
        with pytest.raises(FeedError) as caught:
            fetch_post(site.url, 42, feed="en", language="en", timeout=2)
        assert caught.value.reason == "refused"
        assert [r.path for r in site.requests] == ["/wp-json/wp/v2/posts/42"] * 2
