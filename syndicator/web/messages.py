"""What a route handler takes and answers: plain values, so handlers are tested without a server or a framework."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

MAX_BODY = 1024 * 1024  # a route's default body cap (a WebSub notification is a feed document)


@dataclass
class HttpRequest:
    method: str
    path: str
    query: str  # the raw query string (it may carry a WebSub token: never log it)
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes
    peer: str = ""


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, doc: object) -> HttpResponse:
        return cls(status, json.dumps(doc).encode())


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    max_body: int = MAX_BODY  # bytes; a larger body is refused (413) before or while it is read, never buffered
    limited: bool = True  # counts against the in-flight cap; `/healthz` does not, so a flood cannot fail it


__all__ = ["MAX_BODY", "Handler", "HttpRequest", "HttpResponse", "Route"]
