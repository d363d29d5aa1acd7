"""The worker's HTTP listener: `/healthz`, `/metrics` (and later `/hooks/publish`), on `[http] listen` or $PORT.

A small asyncio HTTP/1.1 server: three routes do not justify a web framework, and it shares the worker's loop.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syndicator.logs import get_logger

if TYPE_CHECKING:
    from syndicator.worker import Worker

log = get_logger("syndicator.http")
MAX_BODY = 1024 * 1024
MAX_HEADER = 16 * 1024
MAX_CONNECTIONS = 100  # open at once; beyond that a connection is answered 503 at once and closed
READ_TIMEOUT = 10.0  # seconds for the whole head, then for the whole body: a slow client cannot hold a slot
WRITE_TIMEOUT = 10.0  # seconds for the answer to drain to a client that does not read it


@dataclass
class HttpRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
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
_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def listen_address(configured: str) -> tuple[str, int] | None:
    if configured:
        host, _, port = configured.rpartition(":")
        return host or "0.0.0.0", int(port)
    if os.environ.get("PORT"):  # a PaaS gives the port; it routes to all interfaces
        return "0.0.0.0", int(os.environ["PORT"])
    return None


async def read_request(reader: asyncio.StreamReader, peer: str) -> HttpRequest | HttpResponse:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
    except asyncio.LimitOverrunError:
        return HttpResponse.json(413, {"error": "headers too large"})
    except (asyncio.IncompleteReadError, TimeoutError):
        return HttpResponse.json(408, {"error": "incomplete request"})
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _ = lines[0].split(" ", 2)
    except ValueError:
        return HttpResponse.json(400, {"error": "bad request line"})
    headers = {}
    lengths: list[str] = []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            name = k.strip().lower()
            if name == "content-length":
                lengths += [part.strip() for part in v.split(",")]
            headers[name] = v.strip()
    if "transfer-encoding" in headers:
        # no chunked bodies here (WordPress, hubs and curl send a Content-Length): one read as empty would be
        # lost, and a Transfer-Encoding beside a Content-Length is how requests are smuggled past a proxy
        return HttpResponse.json(411, {"error": "send a Content-Length, not a Transfer-Encoding"})
    if len(lengths) > 1:
        return HttpResponse.json(400, {"error": "more than one content-length"})
    raw_length = lengths[0] if lengths else "0"
    if not (raw_length.isascii() and raw_length.isdigit()):
        return HttpResponse.json(400, {"error": "bad content-length"})
    length = int(raw_length)
    if length > MAX_BODY:
        return HttpResponse.json(413, {"error": f"body larger than {MAX_BODY} bytes"})
    try:
        body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT) if length else b""
    except (asyncio.IncompleteReadError, TimeoutError):
        return HttpResponse.json(408, {"error": "incomplete body"})
    path, _, query = target.partition("?")
    return HttpRequest(method.upper(), path, query, headers, body, peer)


async def start_server(
    host: str, port: int, routes: dict[tuple[str, str], Handler], *, max_connections: int = MAX_CONNECTIONS
) -> asyncio.Server:
    """Each connection is its own task (asyncio.start_server), so a slow client only holds its own slot."""
    slots = asyncio.Semaphore(max_connections)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if slots.locked():  # all taken: answer at once rather than queue behind a flood
            log.warning("http.too_many_connections", peer=str(writer.get_extra_info("peername")))
            resp = HttpResponse.json(503, {"error": "too many connections"})
            resp.headers["Retry-After"] = "1"
            await _answer(writer, resp)
            return
        async with slots:
            await _serve(reader, writer)

    async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        try:
            req = await read_request(reader, peer)
            if isinstance(req, HttpResponse):
                resp = req
            else:
                handler = routes.get((req.method, req.path))
                if handler is None:
                    known = any(path == req.path for _, path in routes)
                    resp = HttpResponse.json(
                        405 if known else 404, {"error": "method not allowed" if known else "not found"}
                    )
                else:
                    try:
                        resp = await handler(req)
                    except Exception as exc:
                        log.error("http.error", path=req.path, error=repr(exc))
                        resp = HttpResponse.json(500, {"error": "internal error"})
        except (ConnectionError, asyncio.CancelledError):
            writer.close()
            return
        await _answer(writer, resp)

    return await asyncio.start_server(on_client, host, port, limit=MAX_HEADER)


async def _answer(writer: asyncio.StreamWriter, resp: HttpResponse) -> None:
    """Write the answer and close; a client that does not read it is cut off after WRITE_TIMEOUT."""
    head = [
        f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Status')}",
        f"Content-Type: {resp.content_type}",
        f"Content-Length: {len(resp.body)}",
        "Connection: close",
    ]
    head += [f"{k}: {v}" for k, v in resp.headers.items()]
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + resp.body)
        await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
    except TimeoutError:
        writer.transport.abort()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def serve_http(worker: Worker) -> None:
    """A worker service: runs until cancelled."""
    address = listen_address(worker.app.config.http.listen)
    if address is None:
        return
    from syndicator.web_routes import routes_for

    routes = routes_for(worker)
    routes.update(worker.pushes.routes())
    server = await start_server(*address, routes)
    bound = server.sockets[0].getsockname() if server.sockets else address
    log.info("http.listening", address=f"{bound[0]}:{bound[1]}")
    async with server:
        await server.serve_forever()
