"""uvicorn, run as a `Server` inside the worker's event loop (never its own loop, never its own signal handlers:
the worker owns SIGTERM and stops the server when it stops).

uvicorn brings the HTTP/1.1 parser (httptools, i.e. llhttp, Node's parser: strict about duplicate or malformed
`Content-Length` and a `Transfer-Encoding` beside one), keep-alive, pipelining, flow control and a graceful
shutdown. What it lacks for a listener on the Internet is added here, in a subclass of its protocol:

- a deadline for the request head (HEAD_TIMEOUT, from the connection's or the head's first byte): a client that
  connects and sends nothing, or drips its headers, is answered 408 and cut;
- a cap on the head's size (MAX_HEAD): 431, and the connection is closed;
- a request the parser refuses is answered in JSON, 400 (411 for a `Transfer-Encoding` beside a
  `Content-Length`), and the connection is closed;
- idle keep-alive connections are closed after KEEP_ALIVE seconds (uvicorn's `timeout_keep_alive`).

No connection cap: idle connections cost a socket, not a slot; the in-flight cap is in app.py, and `/healthz` is
exempt from it. Access logs are off (a WebSub callback's query carries its token); uvicorn's own loggers go to the
project's redacting handler (logs.setup), at WARNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from collections.abc import Generator
from typing import Any

import httptools
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from syndicator.logs import get_logger

log = get_logger("syndicator.http")
HEAD_TIMEOUT = 10.0  # seconds for a request's whole head
MAX_HEAD = 16 * 1024  # bytes of request line and headers
KEEP_ALIVE = 5.0  # seconds an idle keep-alive connection stays open
SHUTDOWN_GRACE = 5.0  # seconds answers in progress get to finish when the worker stops


class BindError(OSError):
    """The listen address cannot be had; the message says which, in words."""


def listen_address(configured: str) -> tuple[str, int] | None:
    if configured:
        host, _, port = configured.rpartition(":")
        return host or "0.0.0.0", int(port)
    if os.environ.get("PORT"):  # a PaaS gives the port; it routes to all interfaces
        return "0.0.0.0", int(os.environ["PORT"])
    return None


def _status(status: int, reason: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size cap for each request head."""

    head_timeout = HEAD_TIMEOUT
    max_head = MAX_HEAD

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm()  # a connection that sends nothing is cut too

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._arm()
            self._head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            # the request-smuggling pair (a Transfer-Encoding beside a Content-Length) is a chunked body: 411, as
            # documented; anything else the parser refuses is 400. Never read as something else.
            if "transfer-encoding" in str(exc).lower():
                self._refuse(411, "Length Required", b'{"error": "send a Content-Length, not a Transfer-Encoding"}')
            else:
                self._refuse(400, "Bad Request", b'{"error": "malformed request"}')
            return
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no WebSocket here; the request is answered as a plain one
        if self._in_head and self._head_bytes > self.max_head and not self.transport.is_closing():
            self._refuse(431, "Request Header Fields Too Large", b'{"error": "request head too large"}')

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        size = len(self.url) + sum(len(k) + len(v) + 4 for k, v in self.headers)
        if size > self.max_head:
            self._refuse(431, "Request Header Fields Too Large", b'{"error": "request head too large"}')
            return
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._in_head, self._head_bytes = True, 0  # the next request's head; the keep-alive timer runs meanwhile

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, "Request Timeout", b'{"error": "incomplete request"}')

    def _refuse(self, status: int, reason: str, body: bytes) -> None:
        self._disarm()
        self.transport.write(_status(status, reason, body))
        self.transport.close()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the worker handles SIGTERM/SIGINT and stops this server; uvicorn must not take them over


class RunningServer:
    """A uvicorn server serving on a bound socket in the current loop until `close()`."""

    def __init__(self, server: _Server, sock: socket.socket, task: asyncio.Task[None]) -> None:
        self.server = server
        self.socket = sock
        self.task = task
        host, port = sock.getsockname()[:2]
        self.address = f"{host}:{port}"
        self.port = int(port)

    async def close(self) -> None:
        self.server.should_exit = True  # stops accepting, lets answers in progress finish (SHUTDOWN_GRACE)
        await asyncio.shield(self.task)

    async def wait(self) -> None:
        await asyncio.shield(self.task)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        why = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
        raise BindError(exc.errno, f"cannot listen on {host}:{port}: {why}") from None
    return sock


async def start(app: ASGIApp, host: str, port: int, **overrides: Any) -> RunningServer:
    """Bind (a taken port raises BindError at once) and serve in the running loop."""
    sock = bind(host, port)
    config = uvicorn.Config(
        app,
        http=GuardedProtocol,
        ws="none",
        lifespan="off",
        interface="asgi3",
        log_config=None,  # the project's logging stays as logs.setup made it
        access_log=False,  # request lines carry WebSub tokens in their query
        proxy_headers=False,  # the peer is the peer
        server_header=False,
        timeout_keep_alive=int(KEEP_ALIVE),
        timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
        limit_concurrency=None,  # uvicorn's counts idle connections and would refuse /healthz too: see app.py
        **overrides,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="http")
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        sock.close()
        task.result()  # raises what stopped it
        raise BindError(errno.EIO, f"the HTTP server on {host}:{port} stopped at start")
    return RunningServer(server, sock, task)


__all__ = ["BindError", "GuardedProtocol", "RunningServer", "bind", "listen_address", "start"]
