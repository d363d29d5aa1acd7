"""The transport of `syndicator.outbound`: resolution under a deadline, a connection pinned to the checked
address, redirects by hand, the body cap (steps 3 to 6 of the package docstring), and `OutboundGuard`."""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urljoin

import requests.utils
import urllib3.exceptions
from urllib3 import HTTPHeaderDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.response import BaseHTTPResponse
from urllib3.util.ssl_match_hostname import CertificateError

from syndicator import __version__
from syndicator.logs import get_logger
from syndicator.outbound.rules import (
    _NUMERIC_LABEL,
    Allowlist,
    Checked,
    IPAddress,
    OutboundError,
    Refused,
    _ascii,
    _parse,
    address_problem,
    host_of,
    shown,
)

PROJECT_URL = "https://github.com/syndicator/syndicator"
USER_AGENT = f"Syndicator/{__version__} (+{PROJECT_URL})"
DEFAULT_MAX_REDIRECTS = 3
MAX_ANSWER_BYTES = 64 * 1024  # for a call whose answer only matters by its status (a WebSub hub's 202)
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

# getaddrinfo's signature: resolver(host, port, family, type) -> [(family, type, proto, canonname, sockaddr), ...]
Resolver = Callable[..., Iterable[Sequence[Any]]]

log = get_logger("syndicator.outbound")


# -- the deadline -----------------------------------------------------------------------------------------------


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


class DeadlineSocket:
    """A connected socket whose every blocking operation waits at most until the deadline.

    http.client reads the status line and headers with many recv calls under one socket timeout, so a server
    sending one byte just before each timeout would hold it forever; here each recv gets only the time left."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self.deadline = deadline
        self._files = 0
        self._closed = False

    def recv_into(self, buffer: Any, *args: Any) -> int:
        self._sock.settimeout(_left(self.deadline))
        return self._sock.recv_into(buffer, *args)

    def recv(self, *args: Any) -> bytes:
        self._sock.settimeout(_left(self.deadline))
        return self._sock.recv(*args)

    def sendall(self, data: Any, *args: Any) -> None:
        self._sock.settimeout(_left(self.deadline))  # sendall's timeout bounds the whole call (Python >= 3.5)
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
                conn.sock = cast(socket.socket, DeadlineSocket(cast(socket.socket, conn.sock), deadline))
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
    if time.monotonic() >= deadline or isinstance(exc, (TimeoutError, urllib3.exceptions.TimeoutError, FutureTimeout)):
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
