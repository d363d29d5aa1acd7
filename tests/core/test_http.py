"""The worker's small HTTP listener: bodies it cannot read are refused, not read as empty, and no client — slow,
idle or one of a flood — keeps the others from being answered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from syndicator.http import HttpRequest, HttpResponse, start_server

Seen = list[HttpRequest]


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, Seen]]:
    async for s in _serve(max_connections=100):
        yield s


async def _serve(max_connections: int) -> AsyncIterator[tuple[int, Seen]]:
    seen: Seen = []

    async def echo(req: HttpRequest) -> HttpResponse:
        seen.append(req)
        return HttpResponse(200, req.body, "text/plain")

    srv = await start_server("127.0.0.1", 0, {("POST", "/echo"): echo}, max_connections=max_connections)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield port, seen


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
    lines = ["POST /echo HTTP/1.1", "Host: x", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def test_a_plain_request_is_answered(server: tuple[int, Seen]) -> None:
    port, seen = server
    assert await exchange(port, post("Content-Length: 5", body=b"hello")) == (200, b"hello")
    assert seen[0].body == b"hello"


@pytest.mark.parametrize(
    "headers",
    [
        ("Transfer-Encoding: chunked",),
        ("Transfer-Encoding: gzip, chunked",),
        ("Content-Length: 5", "Transfer-Encoding: chunked"),  # the request-smuggling pair
        ("Transfer-Encoding : chunked",),
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
    ],
)
async def test_a_duplicate_or_malformed_content_length_is_400(
    server: tuple[int, Seen], headers: tuple[str, ...]
) -> None:
    port, seen = server
    status, _ = await exchange(port, post(*headers, body=b"hello!"))
    assert status == 400 and seen == []


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


async def test_beyond_the_connection_limit_the_answer_is_503_at_once() -> None:
    async for port, seen in _serve(max_connections=2):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        await asyncio.sleep(0.05)  # both accepted and holding their slots
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await asyncio.wait_for(reader.read(), 2)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in answer
        assert time.monotonic() - started < 1 and seen == []
        # a slot freed is a slot usable again
        idle[0][1].close()
        await asyncio.sleep(0.05)
        assert await exchange(port, post("Content-Length: 2", body=b"ok")) == (200, b"ok")
        idle[1][1].close()
