"""The one way to fetch a URL that came from content or from a remote answer: article images, WebSub hubs,
WordPress REST links, and redirects of anything.

Untrusted in, nothing out (DESIGN.md): a URL in a feed, a webhook body or a WordPress answer may point inside our
network (the cloud metadata service, a database's HTTP port, the worker's own /metrics), and whatever comes back
could end up attached to a public post. So for every hop:

1. the URL is http(s), carries no `user:password@`, and its host is a name or a canonical IP literal; a number
   spelled `2130706433`, `0x7f000001`, `0177.0.0.1` or `127.1` is refused outright, because parsers disagree on
   what such spellings mean;
2. the host is resolved once, and every address it resolves to must be globally routable (`address_problem`)
   unless the operator's allowlist names it (`[outbound] allow`); one inside address refuses the whole name;
3. the connection goes to the address that was checked (TLS still verifies the real host name, sent as SNI, and
   the Host header carries it), so a second DNS answer cannot move it (rebinding); no proxy from the environment;
4. a redirect is followed by hand, back to step 1, at most `max_redirects` times;
5. one wall-clock deadline covers resolution, connect, TLS, the request and every read: each socket operation
   waits at most for the time that is left, so a server dripping one byte a second is cut at the deadline;
6. the body is capped at `max_bytes`, and a 2xx answer must have a media type the caller accepts.

Failures are `OutboundError`s whose `reason` is one of:

    refused       the URL's address, scheme, userinfo or numeric spelling is not allowed (logged: outbound.refused)
    invalid_url   not a URL that can be fetched
    redirects     too many redirects, a loop, a Location that cannot be used, a body that would go to another host
    timeout       the deadline passed
    too_large     the body is bigger than `max_bytes`
    content_type  a 2xx whose media type the caller does not accept
    unreachable   DNS failure, connection refused or reset, TLS failure, the connection broke mid-answer
    bad_response  not a valid HTTP answer, or a body that cannot be decoded

Allowlist entries (the only way content may reach a private address): an address (`10.1.2.3`, `fd00::7`), a
network (`10.1.2.0/24`, `fd00::/8`), a host name (`cdn.internal`: whatever it resolves to), each optionally with
`:port` (`cdn.internal:8080`, `10.1.2.0/24:443`, `[fd00::7]:8080`). The operator's own URLs (feeds, `api_base`,
the WordPress site) do not need it: callers pass those hosts as `trusted`.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests.utils
import urllib3.exceptions
from urllib3 import HTTPHeaderDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.response import BaseHTTPResponse
from urllib3.util.ssl_match_hostname import CertificateError

from syndicator import __version__
from syndicator.logs import get_logger

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "MAX_ANSWER_BYTES",
    "USER_AGENT",
    "AllowRule",
    "Allowlist",
    "Checked",
    "Fetched",
    "OutboundError",
    "OutboundGuard",
    "Refused",
    "Resolver",
    "address_problem",
    "parse_rule",
    "shown",
]

PROJECT_URL = "https://github.com/syndicator/syndicator"
USER_AGENT = f"Syndicator/{__version__} (+{PROJECT_URL})"
DEFAULT_MAX_REDIRECTS = 3
MAX_ANSWER_BYTES = 64 * 1024  # for a call whose answer only matters by its status (a WebSub hub's 202)
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# getaddrinfo's signature: resolver(host, port, family, type) -> [(family, type, proto, canonname, sockaddr), ...]
Resolver = Callable[..., Iterable[Sequence[Any]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

log = get_logger("syndicator.outbound")


class OutboundError(Exception):
    """Why a fetch was not made or did not finish; `reason` is one of the module docstring's codes. The message
    names the host at most, never a query string, a body or a header."""

    def __init__(self, message: str, *, reason: str, url: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.url = url  # as `shown()`: no userinfo, no query


class Refused(OutboundError):
    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message, reason="refused", url=url)


# -- which addresses are public ----------------------------------------------------------------------------

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# spelled out rather than left to `is_global`, whose answers changed between Python versions (multicast, for one)
_BLOCKED: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("0.0.0.0/8"), "an unspecified ('this network') address"),
    (_V4("10.0.0.0/8"), "a private address"),
    (_V4("100.64.0.0/10"), "a shared (CGNAT) address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.0.0/16"), "a link-local address (cloud metadata lives there)"),
    (_V4("172.16.0.0/12"), "a private address"),
    (_V4("192.0.0.0/24"), "an IETF protocol address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("192.88.99.0/24"), "a 6to4 relay address"),
    (_V4("192.168.0.0/16"), "a private address"),
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
    (_V6("::/128"), "an unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("::/96"), "an IPv4-compatible IPv6 address (deprecated)"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_V6("100::/64"), "a discard-only address"),
    (_V6("2001::/23"), "an IETF protocol address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("fc00::/7"), "a unique-local (private) address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a site-local address (deprecated)"),
    (_V6("ff00::/8"), "a multicast address"),
)
_NAT64 = _V6("64:ff9b::/96")


def address_problem(address: IPAddress) -> str | None:
    """Why `address` is not a public Internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(str(address).split("%", 1)[0])  # a scope id changes nothing
        mapped = address.ipv4_mapped
        if mapped is not None:
            inner = address_problem(mapped)
            return f"an IPv4-mapped form of {inner}" if inner else None
        # IPv6 forms that carry an IPv4 address: what counts is where they lead
        embedded: ipaddress.IPv4Address | None = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner:
                return f"a 6to4/NAT64 form of {inner}"
    for network, why in _BLOCKED:
        if address.version == network.version and address in network:
            return why
    if not address.is_global:
        return "not a globally routable address"
    if isinstance(address, ipaddress.IPv6Address) and address not in _V6("2000::/3") and address not in _NAT64:
        return "not a global unicast address"
    return None


def _plain(address: IPAddress) -> IPAddress:
    """The IPv4 address behind an IPv4-mapped IPv6 one, so `::ffff:10.1.2.3` meets the rules for `10.1.2.3`."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# -- the allowlist ------------------------------------------------------------------------------------------

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
# WHATWG URL: a host whose last label is a number is an IPv4 address, in whatever base it is written
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")


@dataclass(frozen=True)
class AllowRule:
    network: IPNetwork | None = None  # an address (as a /32 or /128) or a network
    host: str | None = None  # a lower-case host name without a trailing dot
    port: int | None = None  # None: any port

    def matches(self, host: str, address: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == host
        return self.network is not None and address.version == self.network.version and address in self.network


def parse_rule(entry: str) -> AllowRule:
    """One `[outbound] allow` entry. Raises ValueError saying what is wrong (config.py names the key)."""
    text = entry.strip().lower()
    if not text:
        raise ValueError("empty entry")
    if "*" in text:
        raise ValueError("no wildcards: list each host name, or give a network such as 10.1.2.0/24")
    if text.startswith("["):
        inside, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError("expected [IPv6 address] or [IPv6 address]:port")
        network = _network(inside, must=True)
        if network.version != 6:
            raise ValueError("brackets are for IPv6 addresses")
        return AllowRule(network=network, port=_port(rest[1:]) if rest else None)
    if text.count(":") > 1:  # IPv6 without brackets: no port
        return AllowRule(network=_network(text, must=True))
    port: int | None = None
    if ":" in text:
        text, _, port_text = text.partition(":")
        port = _port(port_text)
    try:
        return AllowRule(network=_network(text), port=port)
    except _NotAnAddress:
        pass
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("not a valid host name") from None
    if not _HOST_NAME.fullmatch(text) or len(text) > 253:
        raise ValueError("expected an address, a network (10.1.2.0/24), a host name, or one of them with :port")
    if _NUMERIC_LABEL.fullmatch(text.rstrip(".").rsplit(".", 1)[-1]):
        raise ValueError("an IPv4 address must be written as four decimal numbers (10.1.2.3)")
    return AllowRule(host=text.rstrip("."), port=port)


class _NotAnAddress(ValueError):
    pass


def _network(text: str, *, must: bool = False) -> IPNetwork:
    """`text` as an address or network; _NotAnAddress when it is plainly a host name instead."""
    looks_numeric = "/" in text or ":" in text or re.fullmatch(r"[0-9.]+", text) is not None
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        # the entry itself is not quoted: configuration errors say what is wrong, not what the file holds
        if "host bits set" in str(exc):
            raise ValueError("a network has no bits set after its prefix (10.1.2.0/24, not 10.1.2.3/24)") from None
        if must or looks_numeric:
            raise ValueError("not a valid IP address or network (e.g. 10.1.2.3, 10.1.2.0/24, fd00::/8)") from None
        raise _NotAnAddress(text) from None
    if network.prefixlen == 0:
        raise ValueError("a /0 network would allow every address, which turns the guard off")
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_V6("::ffff:0:0/96")):
        raise ValueError("write the IPv4 address itself, not its IPv4-mapped IPv6 form")
    return network


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError("the port must be a number from 1 to 65535")
    return int(text)


class Allowlist:
    """The operator's exceptions to 'public addresses only'."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.rules = tuple(parse_rule(entry) for entry in entries)

    def allows(self, host: str, address: IPAddress, port: int) -> bool:
        plain = _plain(address)
        return any(rule.matches(host, plain, port) for rule in self.rules)


# -- URLs -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A URL that passed the checks, and the addresses the connection may go to (in the resolver's order)."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA), lower case, no brackets, no trailing dot
    port: int
    addresses: tuple[str, ...]
    target: str  # what goes on the request line: path and query

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def shown(url: str) -> str:
    """A URL fit for messages and logs: no user:password@, no query (it may carry a token), no fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", ""))[:300]


def host_of(url: str) -> str:
    """The URL's host as the guard compares it (lower case, ASCII, no trailing dot), or "" when there is none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return _ascii(host.rstrip(".").lower())


def _ascii(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@dataclass(frozen=True)
class _Parsed:
    url: str
    scheme: str
    host: str
    port: int
    literal: IPAddress | None
    target: str


def _parse(url: str) -> _Parsed:
    where = shown(url)
    if re.search(r"[\x00-\x1f\x7f]", url):
        raise OutboundError("the URL contains control characters", reason="invalid_url", url=where)
    try:
        parts = urlsplit(url.strip())
        port_given = parts.port
        # what a browser would send for a space or a non-ASCII letter in the path; the host is handled below
        path, query = requests.utils.requote_uri(parts.path), requests.utils.requote_uri(parts.query)
    except (ValueError, requests.exceptions.InvalidURL):
        raise OutboundError("not a valid URL", reason="invalid_url", url=where) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise Refused(f"only http and https URLs are fetched, not {scheme or 'a relative URL'}", url=where)
    if "@" in parts.netloc:
        raise Refused("a URL with user:password@ is not fetched", url=where)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundError("the URL has no host", reason="invalid_url", url=where)
    literal: IPAddress | None = None
    if parts.netloc.startswith("["):
        try:
            if "%" in host:
                raise ValueError("a zone id")
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            raise OutboundError("not a valid IPv6 address in brackets", reason="invalid_url", url=where) from None
    else:
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise OutboundError("not a valid host name", reason="invalid_url", url=where) from None
        host = host.lower()
        try:
            literal = ipaddress.IPv4Address(host)  # strict: four decimal numbers, no leading zeros
        except ValueError:
            if not _HOST_NAME.fullmatch(host) or len(host) > 253:
                raise OutboundError("not a valid host name", reason="invalid_url", url=where) from None
    port = port_given if port_given is not None else _DEFAULT_PORTS[scheme]
    if port == 0:
        raise OutboundError("port 0", reason="invalid_url", url=where)
    target = path or "/"
    if query:
        target += "?" + query
    clean = urlunsplit((scheme, parts.netloc, path, query, ""))
    return _Parsed(clean, scheme, host, port, literal, target)


# -- the deadline -----------------------------------------------------------------------------------------------


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


class _DeadlineSocket:
    """A connected socket whose every blocking operation waits at most until the deadline.

    http.client reads the status line and headers with many recv calls under one socket timeout, so a server
    sending one byte just before each timeout would hold it forever; here each recv gets only the time left."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._files = 0
        self._closed = False

    def recv_into(self, buffer: Any, *args: Any) -> int:
        self._sock.settimeout(_left(self._deadline))
        return self._sock.recv_into(buffer, *args)

    def recv(self, *args: Any) -> bytes:
        self._sock.settimeout(_left(self._deadline))
        return self._sock.recv(*args)

    def sendall(self, data: Any, *args: Any) -> None:
        self._sock.settimeout(_left(self._deadline))  # sendall's timeout bounds the whole call (Python >= 3.5)
        self._sock.sendall(data, *args)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"unsupported mode {mode!r}")
        self._files += 1
        return io.BufferedReader(socket.SocketIO(cast(socket.socket, self), "rb"))

    def settimeout(self, value: float | None) -> None:
        pass  # the deadline sets the timeouts (urllib3 would put back the connect timeout)

    # what socket.socket does with its own files: http.client closes the connection as soon as it has the
    # headers of a `Connection: close` answer, and the body is still to be read through the file
    def _decref_socketios(self) -> None:
        self._files -= 1
        if self._closed and self._files <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._files <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _PinnedMixin:
    """Re-arms the socket timeout between the TCP connect and the TLS handshake, so both share one deadline."""

    deadline: float

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        sock.settimeout(_left(self.deadline))
        return sock


class _PinnedHTTP(_PinnedMixin, HTTPConnection):
    pass


class _PinnedHTTPS(_PinnedMixin, HTTPSConnection):
    pass


_dns_lock = threading.Lock()
_dns_pool: ThreadPoolExecutor | None = None


def _dns() -> ThreadPoolExecutor:
    # getaddrinfo has no timeout of its own: it runs here and the caller waits only until its deadline
    global _dns_pool
    with _dns_lock:
        if _dns_pool is None:
            _dns_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-dns")
        return _dns_pool


# -- the guard ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    url: str  # the URL that answered, after redirects
    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters ("" when the answer has none)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class OutboundGuard:
    """Fetches URLs that came from outside, under the rules of the module docstring.

    `resolver` has getaddrinfo's signature (tests pass one that answers what they need; the default looks up
    `socket.getaddrinfo` at call time). `ca_certs`: a CA bundle for HTTPS (default: certifi's, as requests)."""

    def __init__(
        self,
        allow: Iterable[str] | Allowlist = (),
        *,
        resolver: Resolver | None = None,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        user_agent: str = USER_AGENT,
        ca_certs: str | None = None,
    ) -> None:
        self.allowlist = allow if isinstance(allow, Allowlist) else Allowlist(allow)
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self._resolver = resolver
        self._ca_certs = ca_certs

    def check(
        self, url: str, *, timeout: float = 10.0, trusted: Collection[str] = (), purpose: str = "fetch"
    ) -> Checked:
        """Parse, resolve and check `url` (one hop, no request). Raises OutboundError; refusals are logged."""
        trusted_hosts = frozenset(_ascii(h.rstrip(".").lower()) for h in trusted)
        return self._check(url, time.monotonic() + timeout, trusted_hosts, purpose)

    def fetch(
        self,
        url: str,
        *,
        timeout: float,
        max_bytes: int,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        content_types: Sequence[str] = (),
        max_redirects: int | None = None,
        trusted: Collection[str] = (),
        purpose: str = "fetch",
    ) -> Fetched:
        """Fetch `url` within `timeout` seconds in all, redirects included, and return the final answer whatever
        its status (a 404 is an answer, not an error). `content_types` ("image/" for any image, or exact types)
        is checked on a 2xx; `trusted` hosts (the operator's own) skip the address check, not the pinning."""
        deadline = time.monotonic() + timeout
        hops = self.max_redirects if max_redirects is None else max_redirects
        trusted_hosts = frozenset(_ascii(h.rstrip(".").lower()) for h in trusted)
        sent = HTTPHeaderDict(headers or {})
        sent.discard("host")
        visited: set[str] = set()
        current = url
        for _hop in range(hops + 1):
            checked = self._check(current, deadline, trusted_hosts, purpose)
            if checked.url in visited:
                raise OutboundError("redirect loop", reason="redirects", url=shown(current))
            visited.add(checked.url)
            conn, response = self._request(checked, method, body, sent, content_types, deadline, timeout)
            try:
                if response.status not in _REDIRECTS:
                    return self._finish(checked, response, content_types, max_bytes, deadline, timeout)
                location = (response.headers.get("location") or "").strip()
                if not location:
                    raise OutboundError(
                        f"redirect ({response.status}) without a Location", reason="redirects", url=shown(current)
                    )
                following = urljoin(checked.url, location)
                elsewhere = host_of(following) != checked.host
                if elsewhere:
                    sent.discard("authorization")
                    sent.discard("cookie")
                method, body = _redirected(response.status, method, body)
                if body is None:
                    sent.discard("content-type")
                elif elsewhere:
                    # a body we post (a WebSub request holds our hub secret) never follows a redirect elsewhere
                    raise OutboundError(
                        "redirect would resend the request body to another host", reason="redirects", url=shown(current)
                    )
                current = following
            finally:
                response.close()
                conn.close()
        raise OutboundError(f"more than {hops} redirects", reason="redirects", url=shown(url))

    # -- one hop --------------------------------------------------------------------------------------------

    def _check(self, url: str, deadline: float, trusted: frozenset[str], purpose: str) -> Checked:
        try:
            return self._checked(url, deadline, trusted)
        except Refused as exc:
            log.warning("outbound.refused", purpose=purpose, url=exc.url, reason=str(exc))
            raise

    def _checked(self, url: str, deadline: float, trusted: frozenset[str]) -> Checked:
        parsed = _parse(url)
        where = shown(parsed.url)
        is_trusted = parsed.host in trusted
        if parsed.literal is None and not is_trusted and _NUMERIC_LABEL.fullmatch(parsed.host.rsplit(".", 1)[-1]):
            raise Refused(f"{parsed.host} is a number, not a host name or a dotted-quad IPv4 address", url=where)
        if parsed.literal is not None:
            addresses: list[IPAddress] = [parsed.literal]
        else:
            addresses = self._resolve(parsed.host, parsed.port, deadline, where)
        if not is_trusted:
            for address in addresses:
                if self.allowlist.allows(parsed.host, address, parsed.port):
                    continue
                problem = address_problem(address)
                if problem and parsed.literal is not None:
                    raise Refused(f"{address} is {problem}", url=where)
                if problem:
                    raise Refused(f"{parsed.host} resolves to {address}, {problem}", url=where)
        return Checked(
            parsed.url, parsed.scheme, parsed.host, parsed.port, tuple(str(a) for a in addresses), parsed.target
        )

    def _resolve(self, host: str, port: int, deadline: float, where: str) -> list[IPAddress]:
        resolver = self._resolver or socket.getaddrinfo  # looked up now, not at import
        try:
            future = _dns().submit(resolver, host, port, 0, socket.SOCK_STREAM)
            infos = future.result(timeout=_left(deadline))
        except (FutureTimeout, TimeoutError):
            raise OutboundError(f"{host} did not resolve in time", reason="timeout", url=where) from None
        except (OSError, UnicodeError) as exc:
            raise OutboundError(f"cannot resolve {host}: {_why(exc)}", reason="unreachable", url=where) from None
        found: list[IPAddress] = []
        for info in infos:
            try:
                address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            except (ValueError, IndexError, TypeError):
                continue
            if address not in found:
                found.append(address)
        if not found:
            raise OutboundError(f"{host} resolved to no address", reason="unreachable", url=where)
        return found

    def _request(
        self,
        checked: Checked,
        method: str,
        body: bytes | None,
        headers: Mapping[str, str],
        content_types: Sequence[str],
        deadline: float,
        timeout: float,
    ) -> tuple[HTTPConnection, BaseHTTPResponse]:
        where = shown(checked.url)
        sent = HTTPHeaderDict(
            {
                "User-Agent": self.user_agent,
                "Accept": _accept(content_types),
                "Accept-Encoding": "gzip, deflate",
                "Connection": "close",  # one request per connection: nothing to keep, nothing to reuse by mistake
            }
        )
        sent.update(headers)
        sent["Host"] = checked.host_header
        failure: OutboundError | None = None
        for address in checked.addresses:
            conn = self._connection(checked, address, deadline)
            try:
                conn.connect()
                conn.sock = cast(socket.socket, _DeadlineSocket(cast(socket.socket, conn.sock), deadline))
            except _NETWORK_ERRORS as exc:
                conn.close()
                failure = _failure(exc, deadline, timeout, f"cannot connect to {checked.host}", where)
                if failure.reason == "timeout":
                    raise failure from None
                continue
            try:
                conn.request(method, checked.target, body=body, headers=sent, preload_content=False)
                return conn, conn.getresponse()
            except _NETWORK_ERRORS as exc:
                conn.close()
                raise _failure(exc, deadline, timeout, f"no answer from {checked.host}", where) from None
        if failure is None:  # no address at all: _checked never lets that through
            raise OutboundError(f"{checked.host} has no address", reason="unreachable", url=where)
        raise failure

    def _connection(self, checked: Checked, address: str, deadline: float) -> HTTPConnection:
        left = _left(deadline)
        conn: _PinnedHTTP | _PinnedHTTPS
        if checked.scheme == "https":
            conn = _PinnedHTTPS(
                address,
                checked.port,
                timeout=left,
                server_hostname=checked.host,
                assert_hostname=checked.host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self._ca_certs or requests.utils.DEFAULT_CA_BUNDLE_PATH,
            )
        else:
            conn = _PinnedHTTP(address, checked.port, timeout=left)
        conn.deadline = deadline
        return conn

    def _finish(
        self,
        checked: Checked,
        response: BaseHTTPResponse,
        content_types: Sequence[str],
        max_bytes: int,
        deadline: float,
        timeout: float,
    ) -> Fetched:
        where = shown(checked.url)
        headers = response.headers
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if 200 <= response.status < 300 and content_types and not _accepted(ctype, content_types):
            raise OutboundError(
                f"answered {ctype or 'no content type'}, not {' or '.join(content_types)}",
                reason="content_type",
                url=where,
            )
        declared = headers.get("content-length", "").strip()
        encoded = headers.get("content-encoding", "").strip().lower() not in ("", "identity")
        if declared.isdigit() and int(declared) > max_bytes and not encoded:
            raise OutboundError(f"the answer is {declared} bytes, over {max_bytes}", reason="too_large", url=where)
        data = bytearray()
        try:
            while True:
                # read1: what has arrived, at most _CHUNK bytes, so no read waits for a full chunk; urllib3
                # inflates gzip incrementally, so a gzip bomb meets the size cap before it is inflated
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                data += chunk
                if len(data) > max_bytes:
                    raise OutboundError(f"the answer is over {max_bytes} bytes", reason="too_large", url=where)
                _left(deadline)
        except OutboundError:
            raise
        except _NETWORK_ERRORS as exc:
            raise _failure(exc, deadline, timeout, f"the answer from {checked.host} broke off", where) from None
        return Fetched(checked.url, response.status, response.reason or "", headers, bytes(data))


# what the socket, ssl, http.client and urllib3 raise for a network or protocol failure (not a bug's AssertionError)
_NETWORK_ERRORS = (OSError, ValueError, http.client.HTTPException, urllib3.exceptions.HTTPError)


def _redirected(status: int, method: str, body: bytes | None) -> tuple[str, bytes | None]:
    """What a browser does (and requests): 303 becomes GET, and so do 301/302 after a POST; 307/308 keep both."""
    if status == 303 and method != "HEAD":
        return "GET", None
    if status in (301, 302) and method == "POST":
        return "GET", None
    return method, body


def _accept(content_types: Sequence[str]) -> str:
    if not content_types:
        return "*/*"
    return ", ".join(t + "*" if t.endswith("/") else t for t in content_types)


def _accepted(ctype: str, content_types: Sequence[str]) -> bool:
    return any(ctype.startswith(t) if t.endswith("/") else ctype == t for t in content_types)


def _failure(exc: BaseException, deadline: float, timeout: float, what: str, where: str) -> OutboundError:
    """One exception of socket, ssl, http.client or urllib3 as an OutboundError."""
    if time.monotonic() >= deadline or isinstance(
        exc, (TimeoutError, urllib3.exceptions.TimeoutError, FutureTimeout)
    ):
        return OutboundError(f"took longer than {timeout:g}s", reason="timeout", url=where)
    if isinstance(exc, (ssl.SSLError, CertificateError, ssl.CertificateError)):
        return OutboundError(f"{what}: TLS failed ({_why(exc)})", reason="unreachable", url=where)
    if isinstance(exc, http.client.RemoteDisconnected):
        return OutboundError(f"{what}: the connection closed without an answer", reason="unreachable", url=where)
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return OutboundError(f"{what}: the body cannot be decoded", reason="bad_response", url=where)
    if isinstance(exc, (http.client.HTTPException, urllib3.exceptions.HeaderParsingError)) and not isinstance(
        exc, http.client.IncompleteRead
    ):
        why = f"{what}: not a valid HTTP answer ({type(exc).__name__})"
        return OutboundError(why, reason="bad_response", url=where)
    return OutboundError(f"{what}: {_why(exc)}", reason="unreachable", url=where)


def _why(exc: BaseException) -> str:
    """A short reason without urllib3's long reprs."""
    text = str(exc)
    for marker in ("Failed to establish a new connection: ", "Caused by "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip("()'\" ")[:200] or type(exc).__name__
