"""The one rule for "did the request leave before it failed?": nothing sent (safe to retry) or maybe sent (the
platform may have acted on it: the delivery becomes `unknown` unless the platform can be asked).

Every publisher's error map asks here, whatever its HTTP library (requests/urllib3, httpx) or its status codes:

    nothing sent   no connection was ever made: connect refused or timed out, name not resolved, TLS or proxy
                   failure, no pooled connection free
    maybe sent     the connection broke after the request went out (closed or reset without an answer, a read
                   timeout), or a gateway answered 502/504 (it may have passed the request on), or a bare 500
                   without the platform's own error body when the caller says so
"""

from __future__ import annotations

import httpx
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

__all__ = ["GATEWAY_STATUSES", "answer_lost", "gateway_words", "nothing_sent", "status_maybe_sent"]

GATEWAY_STATUSES = frozenset({502, 504})  # a proxy or gateway answered: the platform behind may have acted
_GATEWAY_WORDS = ("Bad Gateway", "Gateway Time", "502", "504")
_HTTPX_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError, httpx.PoolTimeout)
_REQUESTS_UNSENT = (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)


def nothing_sent(exc: BaseException) -> bool:
    """True when `exc` (requests, urllib3 or httpx) shows that no request can have reached the server."""
    if isinstance(exc, (*_HTTPX_UNSENT, *_REQUESTS_UNSENT)):
        return True
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, NewConnectionError)  # refused, unreachable, name not resolved
    return isinstance(exc, NewConnectionError)


def answer_lost(exc: requests.RequestException) -> bool:
    """True when the connection broke after the request went out (the server closed it without an answer, or
    reset it): the platform may have acted on the request. False when no connection was ever made."""
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
