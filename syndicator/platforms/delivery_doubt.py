"""The one rule for "did the request leave before it failed?": nothing sent (safe to retry) or maybe sent (the
platform may have acted on it: the delivery becomes `unknown` unless the platform can be asked).

Every publisher's error map asks here, whatever its HTTP library (requests/urllib3, httpx) or its status codes:

    nothing sent   no connection was ever made: connect refused or timed out, name not resolved, TLS or proxy
                   failure, no pooled connection free; and (requests/urllib3 only) the socket timed out while the
                   request was still being written, so its end never left us
    maybe sent     the connection broke after the request went out (closed or reset without an answer, a read
                   timeout), or a gateway answered 502/504 (it may have passed the request on), or a bare 500
                   without the platform's own error body when the caller says so

A request whose body did not fully leave cannot have been acted on: a platform (and the proxy in front of it) needs
the whole `Content-Length` before its application sees the request (the one assumption here: a server that handed
its application a short body could act on it). But only a write *timeout* is told apart
reliably, and only by the blocking clients; a connection closed or reset while the body is still being written is
not, in either library, so it stays maybe sent (the safe side: a wrong "nothing sent" posts twice):

- requests/urllib3 (every publisher whose SDK runs on a requests session). `HTTPConnectionPool._make_request`
  swallows BrokenPipeError and ECONNRESET from `conn.request()` on purpose — a server may answer early (a 413) and
  close, and that answer is still readable — and goes on to `getresponse()`, which then fails with
  `RemoteDisconnected` or `ConnectionResetError`: the same `ProtocolError("Connection aborted.", …)` a server gives
  that read the whole body and closed (FIN) or reset (RST) without answering. A socket timeout in `conn.request()`
  is not swallowed: `urlopen` wraps that bare `TimeoutError` as `ProtocolError("Connection aborted.",
  TimeoutError)`, while every timeout after the request was written is made a `ReadTimeoutError` (`_raise_timeout`,
  in `getresponse()` and while reading the body). `socket.sendall` bounds the whole send by the timeout and leaves
  what it did not send unsent; the connection is then closed, so the server sees the body end short.
- httpx/httpcore (the publishers whose SDK runs on httpx, both on its `AsyncClient`). httpcore's HTTP/1.1 connection
  swallows `WriteError` the same way and reads the answer, so a mid-body reset comes out as `ReadError` /
  `RemoteProtocolError`, as it does after the body. A `WriteTimeout` is raised, but on the anyio backend the
  timed-out chunk was already handed to the event loop's transport (`transport.write` buffers it all); the loop
  turns at least once more (httpcore's close takes a lock) before `aclose()` aborts the transport, and may flush the
  rest to the socket then, so the whole request may still reach the server. (With the blocking backend it would be
  as reliable as urllib3's, but the exception does not say which backend raised it, and under HTTP/2 httpcore also
  writes while reading the answer.)
- aiohttp: no publisher uses it.
"""

from __future__ import annotations

import httpx
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

__all__ = [
    "GATEWAY_STATUSES",
    "answer_lost",
    "gateway_words",
    "nothing_sent",
    "request_unfinished",
    "status_maybe_sent",
]

GATEWAY_STATUSES = frozenset({502, 504})  # a proxy or gateway answered: the platform behind may have acted
_GATEWAY_WORDS = ("Bad Gateway", "Gateway Time", "502", "504")
# not WriteTimeout nor WriteError: see the module's docstring
_HTTPX_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError, httpx.PoolTimeout)
_REQUESTS_UNSENT = (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)


def nothing_sent(exc: BaseException) -> bool:
    """True when `exc` (requests, urllib3 or httpx) shows that no whole request can have reached the server."""
    if isinstance(exc, (*_HTTPX_UNSENT, *_REQUESTS_UNSENT)):
        return True
    cause = _urllib3_cause(exc)
    # NewConnectionError: refused, unreachable, name not resolved
    return isinstance(cause, NewConnectionError) or _send_timed_out(cause)


def request_unfinished(exc: BaseException) -> bool:
    """True when `exc` (requests or urllib3) says the socket timed out while the request was still being written:
    its end never left, so the server never had the whole request (and cannot have acted on it)."""
    return _send_timed_out(_urllib3_cause(exc))


def _urllib3_cause(exc: BaseException) -> object:
    """urllib3's own error inside requests' (and inside MaxRetryError, when a Retry counted the failure)."""
    cause: object = exc
    if isinstance(cause, requests.ConnectionError):
        cause = cause.args[0] if cause.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return cause


def _send_timed_out(cause: object) -> bool:
    # only conn.request() lets a bare socket timeout through to urlopen's "Connection aborted." wrapping;
    # urllib3's own timeouts (connect, read) are not builtin TimeoutErrors
    return (
        isinstance(cause, ProtocolError)
        and len(cause.args) == 2
        and cause.args[0] == "Connection aborted."
        and isinstance(cause.args[1], TimeoutError)  # the builtin one: socket.timeout, ssl's write timeout
    )


def answer_lost(exc: requests.RequestException) -> bool:
    """True when the connection broke after the request may have gone out (the server closed it without an
    answer, or reset it, perhaps mid-body: see the module's docstring): the platform may have acted on the
    request. False when no connection was ever made, or the request timed out while still being written."""
    return isinstance(exc, requests.ConnectionError) and not nothing_sent(exc)


def status_maybe_sent(status: int | None, *, bare_500: bool = False) -> bool:
    """True when an HTTP error status may come after the platform acted: a gateway's 502/504, and (`bare_500`)
    a 500 that does not carry the platform's own error body."""
    if status is None:
        return False
    return status in GATEWAY_STATUSES or (bare_500 and status == 500)


def gateway_words(description: str) -> bool:
    """True when a library's error text says a gateway answered (502/504) rather than the platform itself."""
    return any(word in description for word in _GATEWAY_WORDS)
