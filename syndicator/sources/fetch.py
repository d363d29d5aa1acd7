"""Fetching a feed document: HTTP(S) (conditional GET, redirects, time and size limits), or a file.

Every failure is a FeedError whose `reason` says what happened:

    http_<status>   the server answered with a non-2xx status (http_404, http_503, ...)
    unreachable     DNS failure, connection refused/reset, TLS error, the connection broke mid-body
    timeout         no answer, or the whole fetch took longer than `timeout` seconds
    redirects       more than MAX_REDIRECTS redirects, a redirect loop, or a redirect without a usable Location
    refused         a redirect to another host whose address is not public (and not in `[outbound] allow`)
    too_large       the body (after gzip/deflate decoding) is bigger than `max_bytes`
    bad_response    the server sent a body that cannot be decoded (broken gzip)
    invalid_url     not an http(s) URL, a file: URL or a path
    not_found       a local file that does not exist

The feed's URL is the operator's, and so are redirects on its host. A redirect to another host is a remote
answer: from there on the fetch goes through the outbound guard (address checked at every hop, connection to the
checked address), within the same deadline and size cap.

The feed's own hops go through one process-wide urllib3 pool of kept-alive connections (a 304 costs a request
line and a status line, not a `requests` session's per-call environment, proxy and cookie merging). A feed URL
with credentials in it, or a process with proxies or a netrc file in its environment, is fetched through a
`requests` session instead, as before, so that Basic auth, proxies and netrc apply exactly as they did; so is a
fetch given its own `session`.
"""

from __future__ import annotations

import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions

from syndicator.errors import FeedError
from syndicator.outbound import USER_AGENT, OutboundError, OutboundGuard, host_of, shown
from syndicator.outbound.transport import DeadlineSocket

__all__ = ["MAX_REDIRECTS", "USER_AGENT", "FetchResult", "fetch"]

MAX_REDIRECTS = 5
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
_CHUNK = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchResult:
    status: Literal["ok", "not_modified"]
    body: bytes  # b"" when not modified
    etag: str | None  # validators to send next time (for not_modified: the new ones, else the ones we sent)
    last_modified: str | None
    final_url: str  # after redirects; for files a file: URL
    content_type: str | None


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 20.0,
    max_bytes: int = 10 * 1024 * 1024,
    session: requests.Session | None = None,
    outbound: OutboundGuard | None = None,
) -> FetchResult:
    """Fetch a feed. `timeout` bounds the whole fetch (connect, redirects and body), not only each socket read.
    `outbound` checks redirects to other hosts (with the operator's `[outbound] allow`; default: public only)."""
    scheme = urlsplit(url).scheme.lower() if "://" in url or url.startswith("file:") else ""
    if scheme in ("http", "https"):
        guard = outbound or OutboundGuard()
        send = _send_pooled if session is None and _poolable(url) else _sender(session or _thread_session())
        return _fetch_http(url, send, guard, etag, last_modified, timeout, max_bytes)
    if scheme == "file":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise FeedError(f"file URL on another host: {url}", reason="invalid_url")
        return _read_file(Path(url2pathname(unquote(parts.path))), max_bytes)
    if scheme or not url.strip():
        raise FeedError(f"cannot fetch {url!r}: only http(s) URLs, file: URLs and paths", reason="invalid_url")
    return _read_file(Path(url).expanduser(), max_bytes)


_local = threading.local()


def _thread_session() -> requests.Session:
    """This thread's session, kept for the next fetch: a poll reuses the kept-alive connection to the feed's host
    instead of building a session and opening a connection every time (urllib3 keeps up to 10 hosts' pools, LRU,
    and reconnects when the server has closed an idle connection). A thread, because a Session is not documented
    as thread-safe and the worker polls from several threads. No cookies are kept: every fetch starts as fresh as
    it did with a session of its own.
    """
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        _local.session = session
    return session


# What one hop needs: (url, headers, seconds left) → the response, its body not read yet; raises FeedError.
Send = Callable[[str, dict[str, str], float], urllib3.BaseHTTPResponse]
POOL_HOSTS = 64  # hosts whose connections are kept (LRU); a publisher's feeds live on a few
POOL_PER_HOST = 32  # kept-alive connections per host: the worker's poll threads (16) and then some


_pool_lock = threading.Lock()
_pool: urllib3.PoolManager | None = None
_environment_routes: bool | None = None
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # what requests reads for its trust roots


def _poolable(url: str) -> bool:
    """Whether the lean pool fetches `url` exactly as a requests session would: no credentials in the URL (requests
    sends them as Basic auth), and no proxy, netrc or CA bundle of the operator's own (`REQUESTS_CA_BUNDLE`,
    `CURL_CA_BUNDLE`: a private CA requests trusts) in the process's environment (read once: a daemon's
    environment does not change)."""
    global _environment_routes
    if "@" in urlsplit(url).netloc:
        return False
    if _environment_routes is None:
        netrc = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
        _environment_routes = (
            bool(urllib.request.getproxies_environment())
            or os.path.exists(netrc)
            or any(os.environ.get(name) for name in CA_BUNDLE_VARIABLES)
        )
    return not _environment_routes


class _FetchDeadline(threading.local):
    """When the fetch this thread is making must end (time.monotonic()), for the pooled connection it uses."""

    at: float = 0.0


_this_fetch = _FetchDeadline()


class _DeadlineBound:
    """A pooled connection whose socket waits, in each blocking operation, only for the time its current fetch has
    left: a per-read timeout alone lets a server that sends one header byte just before each timeout hold a
    fetch for ever (http.client reads the status line and headers with many reads)."""

    sock: object

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock = DeadlineSocket(self.sock, _this_fetch.at)  # type: ignore[arg-type]

    def request(self, *args: object, **kwargs: object) -> None:
        if isinstance(self.sock, DeadlineSocket):  # a kept-alive connection: this fetch's deadline now
            self.sock.deadline = _this_fetch.at
        super().request(*args, **kwargs)  # type: ignore[misc]


class _DeadlineHTTPConnection(_DeadlineBound, urllib3.connection.HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineBound, urllib3.connection.HTTPSConnection):
    pass


class _DeadlineHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def _pooled() -> urllib3.PoolManager:
    global _pool
    with _pool_lock:
        if _pool is None:
            # block=False: a burst beyond POOL_PER_HOST opens extra connections rather than waiting for one
            import certifi  # the CA bundle requests verified feeds with, so HTTPS trusts exactly the same roots

            pool = urllib3.PoolManager(
                num_pools=POOL_HOSTS, maxsize=POOL_PER_HOST, block=False, cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
            )  # fmt: skip
            pool.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}
            _pool = pool
        return _pool


def _send_pooled(url: str, headers: dict[str, str], remaining: float) -> urllib3.BaseHTTPResponse:
    _this_fetch.at = time.monotonic() + remaining  # the connection's reads and writes end there (its body's too)
    try:
        return _pooled().request(
            "GET",
            url,
            headers=headers,
            timeout=urllib3.Timeout(connect=remaining, read=remaining),
            retries=False,  # no retry, no redirect: each hop is ours to check
            redirect=False,
            preload_content=False,
            decode_content=True,
        )
    except urllib3.exceptions.NewConnectionError as exc:  # before its base class, ConnectTimeoutError
        raise FeedError(f"cannot reach {_shown(url)}: {_why(exc)}", reason="unreachable") from None
    except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        raise FeedError(f"timed out fetching {_shown(url)}", reason="timeout") from None
    except (urllib3.exceptions.LocationValueError, ValueError):
        raise FeedError(f"invalid URL {_shown(url)!r}", reason="invalid_url") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise FeedError(f"cannot reach {_shown(url)}: {_why(exc)}", reason="unreachable") from None


def _sender(session: requests.Session) -> Send:
    def send(url: str, headers: dict[str, str], remaining: float) -> urllib3.BaseHTTPResponse:
        try:
            response = session.get(
                url, headers=headers, timeout=(remaining, remaining), stream=True, allow_redirects=False
            )
        except requests.Timeout:
            raise FeedError(f"timed out fetching {_shown(url)}", reason="timeout") from None
        except requests.exceptions.InvalidURL:
            raise FeedError(f"invalid URL {_shown(url)!r}", reason="invalid_url") from None
        except requests.RequestException as exc:
            raise FeedError(f"cannot reach {_shown(url)}: {_why(exc)}", reason="unreachable") from None
        raw: urllib3.BaseHTTPResponse = response.raw  # what the pool answers too: one path from here on
        return raw

    return send


def _read_file(path: Path, max_bytes: int) -> FetchResult:
    try:
        with path.open("rb") as fh:
            body = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise FeedError(f"no such file: {path}", reason="not_found") from None
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror or exc}", reason="unreachable") from None
    if len(body) > max_bytes:
        raise FeedError(f"{path} is larger than {max_bytes} bytes", reason="too_large")
    return FetchResult("ok", body, None, None, path.resolve().as_uri(), None)


def _fetch_http(
    url: str,
    send: Send,
    guard: OutboundGuard,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
) -> FetchResult:
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    visited = {url}
    current = url
    origin = host_of(url)
    for hop in range(MAX_REDIRECTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FeedError(f"timed out after {timeout:g}s fetching {_shown(url)}", reason="timeout")
        try:
            response = send(current, headers, remaining)
        except FeedError as exc:
            if exc.reason == "timeout":
                raise FeedError(f"timed out after {timeout:g}s fetching {_shown(current)}", reason="timeout") from None
            raise
        reusable = False  # the connection goes back to the pool only when its answer was read to the end
        try:
            status = response.status
            if status in _REDIRECT_STATUSES:
                location = (response.headers.get("Location") or "").strip()
                if not location:
                    raise FeedError(f"{_shown(current)} redirected ({status}) without a Location", reason="redirects")
                target = urljoin(current, location)
                if urlsplit(target).scheme.lower() not in ("http", "https"):
                    raise FeedError(
                        f"{_shown(current)} redirected to a non-HTTP URL {_shown(target)!r}", reason="redirects"
                    )
                if target in visited:
                    raise FeedError(f"redirect loop: {_shown(current)} → {_shown(target)}", reason="redirects")
                visited.add(target)
                if host_of(target) != origin:
                    left = MAX_REDIRECTS - hop - 1
                    return _fetch_guarded(target, guard, headers, origin, left, deadline, timeout, max_bytes)
                current = target
                continue
            new_etag = response.headers.get("ETag")
            new_modified = response.headers.get("Last-Modified")
            content_type = response.headers.get("Content-Type")
            if status == 304:
                response.drain_conn()  # a 304 has no body: hand the connection back for reuse, do not close it
                reusable = True
                return FetchResult(
                    "not_modified", b"", new_etag or etag, new_modified or last_modified, current, content_type
                )
            if not 200 <= status < 300:
                message = f"{_shown(current)} answered HTTP {status} {response.reason or ''}"
                raise FeedError(message.rstrip(), reason=f"http_{status}")
            body = _read_body(response, _shown(current), max_bytes, deadline, timeout)
            reusable = True
            return FetchResult("ok", body, new_etag, new_modified, current, content_type)
        finally:
            if reusable:
                response.release_conn()
            else:
                response.close()  # a redirect's or an error's unread body: the connection is not reused
                response.release_conn()
    raise FeedError(f"more than {MAX_REDIRECTS} redirects fetching {_shown(url)}", reason="redirects")


_GUARD_REASONS = {"content_type": "bad_response"}  # the others are the same words in both modules


def _fetch_guarded(
    url: str,
    guard: OutboundGuard,
    headers: dict[str, str],
    origin: str,
    redirects: int,
    deadline: float,
    timeout: float,
    max_bytes: int,
) -> FetchResult:
    """The rest of a fetch that a redirect took to another host: through the guard, on what is left of the time."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FeedError(f"timed out after {timeout:g}s fetching {_shown(url)}", reason="timeout")
    try:
        got = guard.fetch(
            url,
            timeout=remaining,
            max_bytes=max_bytes,
            headers=headers,
            max_redirects=redirects,
            trusted=(origin,),
            purpose="feed redirect",
        )
    except OutboundError as exc:
        reason = _GUARD_REASONS.get(exc.reason, exc.reason)
        if reason == "timeout":
            raise FeedError(f"timed out after {timeout:g}s fetching {exc.url}", reason="timeout") from None
        raise FeedError(f"redirected to {exc.url}: {exc}", reason=reason) from None
    etag, modified = got.headers.get("ETag"), got.headers.get("Last-Modified")
    ctype = got.headers.get("Content-Type")
    if got.status == 304:
        sent_etag, sent_modified = headers.get("If-None-Match"), headers.get("If-Modified-Since")
        return FetchResult("not_modified", b"", etag or sent_etag, modified or sent_modified, got.url, ctype)
    if not 200 <= got.status < 300:
        message = f"{_shown(got.url)} answered HTTP {got.status} {got.reason}"
        raise FeedError(message.rstrip(), reason=f"http_{got.status}")
    return FetchResult("ok", got.body, etag, modified, got.url, ctype)


def _read_body(response: urllib3.BaseHTTPResponse, url: str, max_bytes: int, deadline: float, timeout: float) -> bytes:
    declared = response.headers.get("Content-Length") or ""
    encoded = (response.headers.get("Content-Encoding") or "").strip().lower() not in ("", "identity")
    if declared.isdigit() and int(declared) > max_bytes and not encoded:
        raise FeedError(f"{url} is {declared} bytes, more than the limit of {max_bytes}", reason="too_large")
    chunks: list[bytes] = []
    size = 0
    try:
        # read1: return whatever arrived (at most _CHUNK bytes) instead of blocking until _CHUNK bytes came, so a
        # server dripping bytes cannot stretch one read past the deadline. urllib3 inflates gzip/deflate
        # incrementally (at most _CHUNK decoded bytes per call), so a gzip bomb is stopped by the size check long
        # before it is inflated.
        while True:
            chunk = response.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FeedError(f"{url} is larger than the limit of {max_bytes} bytes", reason="too_large")
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise FeedError(f"timed out after {timeout:g}s reading {url}", reason="timeout")
    except (urllib3.exceptions.ReadTimeoutError, requests.Timeout, TimeoutError):
        raise FeedError(f"timed out after {timeout:g}s reading {url}", reason="timeout") from None
    except urllib3.exceptions.DecodeError as exc:
        raise FeedError(f"{url} sent a body that cannot be decoded: {exc}", reason="bad_response") from None
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise FeedError(f"connection to {url} broke while reading: {_why(exc)}", reason="unreachable") from None
    return b"".join(chunks)


# A URL fit for messages and logs: no user:password@, no query (private feeds carry tokens there).
_shown = shown


def _why(exc: BaseException) -> str:
    """A short reason without urllib3's long reprs, the request's URL or its headers."""
    text = str(exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = _URL_IN_MESSAGE.sub("url: …", text).strip("()'\" ")
    return text[:200] or type(exc).__name__


_URL_IN_MESSAGE = re.compile(r"url: \S+")
