"""A tiny real HTTP server on 127.0.0.1 for fake platforms: records every request, answers from a handler,
and can be scripted to fail (status + headers + body, a delay, or a dropped connection) for the next N calls.

A fake platform subclasses FakeServer and implements `handle(request) -> Response`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without query
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """urlencoded or multipart/form-data fields (files' contents as latin-1 strings)."""
        ctype = self.headers.get("content-type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}
        if ctype.startswith("multipart/form-data"):
            from email.parser import BytesParser
            from email.policy import HTTP

            msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body)
            out = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                raw = payload if isinstance(payload, bytes) else b""
                out[str(name)] = raw.decode("latin-1" if part.get_filename() else "utf-8", "replace")
            return out
        if ctype.startswith("application/json"):
            data = self.json()
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (data or {}).items()}
        return {}

    def params(self) -> dict[str, str]:
        """Query string and body fields merged (body wins)."""
        merged = {k: v[-1] for k, v in self.query.items()}
        merged.update(self.form())
        return merged


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)
    drop: bool = False  # close the connection without an answer


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (timeout tests) makes the late answer hit a closed socket: not worth a traceback
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeServer:
    """Start with `with Fake() as fake:`; `fake.url` is its base URL."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: deque[Response] = deque()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                req = Request(
                    self.command,
                    split.path,
                    parse_qs(split.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with outer._lock:
                    outer.requests.append(req)
                    scripted = outer.script.popleft() if outer.script else None
                resp = scripted or outer.handle(req)
                if resp.delay:
                    time.sleep(resp.delay)
                if resp.drop:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload = resp.body
                ctype = "application/json"
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                elif isinstance(payload, str):
                    data, ctype = payload.encode(), "text/plain; charset=utf-8"
                elif payload is None:
                    data = b""
                else:
                    data, ctype = bytes(payload), "application/octet-stream"
                self.send_response(resp.status)
                headers = {"Content-Type": ctype, **resp.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _serve

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # serve_forever checks for shutdown every 0.5 s by default: half a second per test's teardown
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        port = self._httpd.server_address[1]
        return f"http://127.0.0.1:{port}"

    def handle(self, request: Request) -> Response:
        return Response(404, {"error": "not found"})

    def fail_next(self, *responses: Response) -> None:
        """The next len(responses) requests get these answers instead of the normal ones."""
        with self._lock:
            self.script.extend(responses)

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
