"""The worker's HTTP side (Starlette on uvicorn): bodies it cannot read are refused, not read as empty, nothing is
buffered past a route's cap, and no client — slow, idle or one of a flood — keeps the others (and `/healthz`
above all) from being answered. Real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.web import HttpRequest, HttpResponse, Route, build_app, start
from syndicator.web.app import InFlightGuard
from syndicator.web.server import GuardedProtocol
from tests.e2e.helpers import preserved_logging

Seen = list[HttpRequest]
RELEASE: list[asyncio.Event] = []  # the running server's: set, it lets the /stuck requests finish
GUARD: list[InFlightGuard] = []  # the running server's in-flight guard: tests wait on its count, not on time


async def _serve(max_in_flight: int = 100, max_body: int = 1024) -> AsyncIterator[tuple[int, Seen]]:
    seen: Seen = []
    release = asyncio.Event()
    RELEASE[:] = [release]

    async def echo(req: HttpRequest) -> HttpResponse:
        seen.append(req)
        return HttpResponse(200, req.body, "text/plain")

    async def stuck(req: HttpRequest) -> HttpResponse:
        await release.wait()
        return HttpResponse(200, b"late", "text/plain")

    async def healthz(_req: HttpRequest) -> HttpResponse:
        return HttpResponse.json(200, {"status": "ok"})

    routes = [
        Route("POST", "/echo", echo, max_body=max_body),
        Route("GET", "/stuck", stuck, max_body=0),
        Route("GET", "/healthz", healthz, max_body=0, limited=False),
    ]
    app = build_app(routes, max_in_flight=max_in_flight)
    assert isinstance(app, InFlightGuard)
    GUARD[:] = [app]
    srv = await start(app, "127.0.0.1", 0)
    try:
        yield srv.port, seen
    finally:
        release.set()
        await srv.close()


async def wait_for_in_flight(count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while GUARD[0].in_flight != count:
        assert time.monotonic() < deadline, f"in flight: {GUARD[0].in_flight}, expected {count}"
        await asyncio.sleep(0.005)


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, Seen]]:
    async for s in _serve():
        yield s


async def exchange(port: int, raw: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def post(*headers: str, body: bytes = b"") -> bytes:
    lines = ["POST /echo HTTP/1.1", "Host: x", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def get(path: str, *, close: bool = True) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n".encode()


async def test_a_plain_request_is_answered(server: tuple[int, Seen]) -> None:
    port, seen = server
    assert await exchange(port, post("Content-Length: 5", body=b"hello")) == (200, b"hello")
    assert seen[0].body == b"hello"


async def test_unknown_paths_and_methods_answer_json(server: tuple[int, Seen]) -> None:
    port, _ = server
    assert await exchange(port, get("/nope")) == (404, b'{"error": "not found"}')
    assert await exchange(port, get("/echo")) == (405, b'{"error": "method not allowed"}')


@pytest.mark.parametrize(
    "headers",
    [
        ("Transfer-Encoding: chunked",),
        ("Transfer-Encoding: gzip, chunked",),
        ("Content-Length: 5", "Transfer-Encoding: chunked"),  # the request-smuggling pair
    ],
)
async def test_a_transfer_encoding_is_refused_411_not_read_as_empty(
    server: tuple[int, Seen], headers: tuple[str, ...]
) -> None:
    port, seen = server
    status, _ = await exchange(port, post(*headers, body=b"5\r\nhello\r\n0\r\n\r\n"))
    assert status == 411 and seen == []


@pytest.mark.parametrize(
    "headers",
    [
        ("Content-Length: 5", "Content-Length: 6"),
        ("Content-Length: 5", "Content-Length: 5"),
        ("Content-Length: 5, 5",),
        ("Content-Length: +5",),
        ("Content-Length: 5_0",),
        ("Content-Length: -1",),
        ("Content-Length: ²",),
        ("Content-Length:",),
        # whitespace before the colon: HTTP/1.1 (RFC 9112 §5.1) says 400; the old listener said 411
        ("Transfer-Encoding : chunked",),
    ],
)
async def test_a_duplicate_or_malformed_content_length_is_400(
    server: tuple[int, Seen], headers: tuple[str, ...]
) -> None:
    port, seen = server
    status, _ = await exchange(port, post(*headers, body=b"hello!"))
    assert status == 400 and seen == []


async def test_an_oversized_body_is_413_before_it_is_read() -> None:
    async for port, seen in _serve(max_body=64 * 1024):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # ten megabytes announced, 64 KB sent: the answer comes at once, the rest is never asked for
        writer.write(post(f"Content-Length: {10 * 1024 * 1024}", body=b"x" * 65536))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 2)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 413 ") and b"body larger than 65536 bytes" in answer
        assert seen == []
        # one byte over the cap, declared honestly: 413 too; at the cap: read
        assert (await exchange(port, post("Content-Length: 65537", body=b"x" * 65537)))[0] == 413
        assert await exchange(port, post("Content-Length: 65536", body=b"y" * 65536)) == (200, b"y" * 65536)


async def test_a_slow_client_does_not_hold_up_the_others(server: tuple[int, Seen]) -> None:
    port, _ = server
    # one client sends half a head and stalls; another sends half a body and stalls
    slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
    slow[0][1].write(b"POST /echo HTTP/1.1\r\nHost: x\r\n")
    slow[1][1].write(post("Content-Length: 100", body=b"only part"))
    try:
        started = time.monotonic()
        assert await exchange(port, post("Content-Length: 2", body=b"ok")) == (200, b"ok")
        assert time.monotonic() - started < 1
    finally:
        for _, writer in slow:
            writer.close()


async def test_a_client_dripping_its_head_or_sending_nothing_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GuardedProtocol, "head_timeout", 0.5)
    async for port, seen in _serve():
        silent = await asyncio.open_connection("127.0.0.1", port)
        drip = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        drip[1].write(b"POST /echo HTTP/1.1\r\n")
        for _ in range(2):  # a header line every 0.2 s, then silence: the head is not done by the deadline
            await asyncio.sleep(0.2)
            drip[1].write(b"X-Slow: 1\r\n")
        answers = [await asyncio.wait_for(r.read(), 3) for r, _ in (drip, silent)]
        for _, w in (drip, silent):
            w.close()
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers
        assert time.monotonic() - started < 2 and seen == []


async def test_a_head_too_large_is_431(server: tuple[int, Seen]) -> None:
    port, seen = server
    status, _ = await exchange(port, post(*[f"X-Big-{i}: {'a' * 1000}" for i in range(20)], body=b""))
    assert status == 431 and seen == []


async def test_130_idle_keepalive_connections_leave_healthz_and_requests_answered(server: tuple[int, Seen]) -> None:
    port, _ = server
    idle = []
    for _ in range(130):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(get("/healthz", close=False))  # answered, then left open: keep-alive, idle
        await writer.drain()
        assert (await reader.readuntil(b'{"status": "ok"}')).startswith(b"HTTP/1.1 200 ")
        idle.append(writer)
    silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(30)]  # connected, nothing sent
    try:
        assert await exchange(port, get("/healthz")) == (200, b'{"status": "ok"}')
        assert await exchange(port, post("Content-Length: 2", body=b"ok")) == (200, b"ok")
    finally:
        for w in idle + [w for _, w in silent]:
            w.close()


async def test_beyond_the_in_flight_cap_the_answer_is_503_at_once_but_healthz_is_answered() -> None:
    async for port, seen in _serve(max_in_flight=2):
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        for _, w in held:
            w.write(get("/stuck"))  # both slots taken by requests that do not finish
        await wait_for_in_flight(2)
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(post("Content-Length: 2", body=b"ok"))
        answer = await asyncio.wait_for(reader.read(), 2)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in answer.lower()
        assert time.monotonic() - started < 1 and seen == []
        assert await exchange(port, get("/healthz")) == (200, b'{"status": "ok"}')  # exempt
        RELEASE[0].set()  # the slots freed are slots usable again
        await wait_for_in_flight(0)
        held[0][1].close()
        assert await exchange(port, post("Content-Length: 2", body=b"ok")) == (200, b"ok")
        held[1][1].close()


RUN_CONFIG = """
[store]
url = "sqlite:///{db}"

[http]
listen = "127.0.0.1:{port}"

[[feeds]]
name = "en"
url = "http://127.0.0.1:9/feed"
every = "1h"
targets = ["tg"]

[targets.tg]
platform = "telegram"
chat = "@a"
token_env = "TG_TOKEN"
"""


def test_a_port_in_use_stops_the_worker_with_exit_1_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    path = tmp_path / "syndicator.toml"
    path.write_text(RUN_CONFIG.format(db=tmp_path / "s.db", port=port), encoding="utf-8")
    monkeypatch.setenv("TG_TOKEN", "111111:token-not-real-aaaaaaaaaaaa")
    try:
        with preserved_logging():
            code = main(["run", "--config", str(path), "--log-format", "json"])
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    errors = [doc for doc in map(json.loads, err.splitlines()) if doc["level"] == "error"]
    assert len(errors) == 1, errors
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in errors[0]["error"]
