"""A scriptable HTTP server on 127.0.0.1 for fetch tests: each path maps to a function that writes the raw answer,
so a test can stream 50 MB lazily, drip bytes slowly, redirect in circles or send a gzip bomb."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalServer._Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.owner.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
        route = self.server.owner.routes.get(path)
        try:
            if route is None:
                self.reply(404, b"not found")
            else:
                route(self)
        except OSError:  # the client gave up (size cap, timeout) and closed the connection: expected
            self.close_connection = True

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        merged = {"Content-Type": "application/rss+xml; charset=UTF-8", "Content-Length": str(len(body))}
        merged.update(headers or {})
        for key, value in merged.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class LocalServer:
    """`with LocalServer() as srv: srv.routes["/feed"] = fn; fetch(srv.url + "/feed")`."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        owner: LocalServer

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that hung up mid-answer is what several tests are about

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sent = 0  # bytes written by streaming routes that count them
        self._httpd = self._Server(("127.0.0.1", 0), Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
