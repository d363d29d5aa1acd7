"""One Starlette app for every route of the worker (health, metrics, the push hooks, later the editors' desk).

Each route's handler takes an `HttpRequest` with its body already read, under the route's cap: a declared
`Content-Length` over the cap is 413 before a byte of the body is read, and the body is counted while it streams
(the parser never hands over more than the declared length). A chunked body is 411: WordPress, hubs and curl send a
`Content-Length`, and a `Transfer-Encoding` beside one is how requests are smuggled past a proxy.

At most MAX_IN_FLIGHT requests run at once; beyond that the answer is 503 at once (`Retry-After: 1`), except for
routes marked `limited=False` (`/healthz`): a flood never makes the liveness probe fail. Idle connections hold no
slot at all (the server cuts them, see server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndicator.logs import get_logger, redactor
from syndicator.web.messages import Handler, HttpRequest, HttpResponse, Route

log = get_logger("syndicator.http")
MAX_IN_FLIGHT = 100  # requests being handled at once (not connections: an idle connection costs no slot)
BODY_TIMEOUT = 10.0  # seconds for the whole body: a client dripping it is answered 408 and cut
REQUEST_TIMEOUT = 30.0  # seconds for a whole exchange, answer written included


def build_app(routes: Iterable[Route], *, max_in_flight: int = MAX_IN_FLIGHT) -> ASGIApp:
    routes = list(routes)
    app = Starlette(
        routes=[
            StarletteRoute(r.path, _endpoint(r.handler, r.max_body), methods=[r.method], name=f"{r.method} {r.path}")
            for r in routes
        ],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    app.router.redirect_slashes = False  # `/healthz/` is not `/healthz`
    exempt = {r.path for r in routes if not r.limited}
    return InFlightGuard(app, limit=max_in_flight, exempt=exempt)


def _answer(resp: HttpResponse) -> Response:
    return Response(resp.body, resp.status, headers=resp.headers, media_type=resp.content_type)


def _close(resp: HttpResponse) -> HttpResponse:
    """A refusal that also ends the connection: what is left of the body is not read."""
    resp.headers["Connection"] = "close"
    return resp


async def _not_found(_request: Request, _exc: Exception) -> Response:
    return _answer(HttpResponse.json(404, {"error": "not found"}))


async def _not_allowed(_request: Request, _exc: Exception) -> Response:
    return _answer(HttpResponse.json(405, {"error": "method not allowed"}))


def _endpoint(handler: Handler, max_body: int) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        read = await read_body(request, max_body)
        if isinstance(read, HttpResponse):
            return _answer(_close(read))
        client = request.client
        req = HttpRequest(
            method=request.method,
            path=request.url.path,
            query=request.scope.get("query_string", b"").decode("latin-1"),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=read,
            peer=f"{client.host}:{client.port}" if client else "",
        )
        try:
            return _answer(await handler(req))
        except Exception as exc:  # one structured line, never a traceback; the query (tokens) is not in it
            log.error("http.error", path=req.path, error=redactor(repr(exc))[:500])
            return _answer(HttpResponse.json(500, {"error": "internal error"}))

    return endpoint


async def read_body(request: Request, max_body: int) -> bytes | HttpResponse:
    """The body, or the refusal: 411 chunked, 413 over `max_body` (declared or counted), 408 too slow."""
    if "transfer-encoding" in request.headers:
        return HttpResponse.json(411, {"error": "send a Content-Length, not a Transfer-Encoding"})
    declared = request.headers.get("content-length", "0")  # the parser has checked it is one plain number
    if not (declared.isascii() and declared.isdigit()):
        return HttpResponse.json(400, {"error": "bad content-length"})
    too_large = HttpResponse.json(413, {"error": f"body larger than {max_body} bytes"})
    if int(declared) > max_body:
        return too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_body:
                    return too_large
                chunks.append(chunk)
    except TimeoutError:
        return HttpResponse.json(408, {"error": "incomplete body"})
    except ClientDisconnect:
        return HttpResponse.json(400, {"error": "incomplete body"})
    return b"".join(chunks)


class InFlightGuard:
    """Caps the requests being handled at once; paths in `exempt` always go through. Also bounds each exchange
    by REQUEST_TIMEOUT, so a client that does not read its answer cannot hold a slot."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: set[str]) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.exempt:
            await self._timed(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            log.warning("http.too_many_requests", in_flight=self.in_flight)
            resp = HttpResponse.json(503, {"error": "too many requests in progress"})
            resp.headers["Retry-After"] = "1"
            await _answer(_close(resp))(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self._timed(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _timed(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                await self.app(scope, receive, sending)
        except TimeoutError:
            log.warning("http.timeout", path=scope["path"], seconds=REQUEST_TIMEOUT)
            if not started:  # else the server closes the connection of an unfinished answer
                with contextlib.suppress(Exception):
                    await _answer(_close(HttpResponse.json(503, {"error": "timed out"})))(scope, receive, send)


__all__ = ["BODY_TIMEOUT", "MAX_IN_FLIGHT", "InFlightGuard", "build_app", "read_body"]
