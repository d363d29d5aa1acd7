"""A request that failed while its body was still being written, against one that failed after: what requests/urllib3
and httpx (as the publishers use them) let `delivery_doubt` tell apart, on a raw server on 127.0.0.1 that stops
reading mid-body, closes mid-body, or reads the whole body and then closes (FIN), resets (RST) or waits, never
answering.

The server counts the body bytes that reached it, so each test shows what the server had when the client gave up:
"nothing sent" is asserted only where the server never had the whole body.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx
import pytest
import requests
from mastodon import MastodonNetworkError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from syndicator.platforms.delivery_doubt import answer_lost, nothing_sent, request_unfinished
from syndicator.platforms.mastodon.publisher import map_error as mastodon_error
from syndicator.platforms.twitter.publisher import map_error as x_error

Mode = Literal["stall", "close_mid_body", "close_after_body", "reset_after_body", "hold_after_body"]

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LARGE = b"x" * (16 * 1024 * 1024)  # far over what the kernel buffers on both sides hold: the send must wait
SMALL = b"y" * (256 * 1024)
READ_BEFORE_CLOSE = 64 * 1024
STALL_TIMEOUT = 0.5  # the client's timeout where the server stops reading; nothing else waits on a timer


@dataclass
class HalfReader:
    """Accepts one connection, reads the request head, then treats the body as `mode` says; never answers."""

    mode: Mode
    received: int = 0  # body bytes that reached the server, counted once the connection is over
    _client_gave_up: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.mode == "stall":  # a small window (inherited by the accepted socket) fills at once
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/api/upload"

    def gave_up(self) -> None:
        """The client has its exception: the server may drain and count what arrived."""
        self._client_gave_up.set()
        assert self._done.wait(10), "the server did not finish"

    def close(self) -> None:
        self._client_gave_up.set()
        self._listener.close()
        self._thread.join(10)

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        try:
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                head, body = head.split(b"\r\n\r\n", 1)
                self.received = len(body)
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length:")))  # fmt: skip
                if self.mode == "stall":
                    self._client_gave_up.wait(10)
                    self._drain(conn)  # what the kernels held, then the client's close
                elif self.mode == "close_mid_body":
                    while self.received < READ_BEFORE_CLOSE:
                        self.received += len(conn.recv(65536))
                else:
                    while self.received < length:
                        chunk = conn.recv(1 << 20)
                        if not chunk:
                            break
                        self.received += len(chunk)
                    if self.mode == "reset_after_body":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    elif self.mode == "hold_after_body":
                        self._client_gave_up.wait(10)
        finally:
            self._done.set()

    def _drain(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            while chunk := conn.recv(1 << 20):
                self.received += len(chunk)
        except OSError:
            pass


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[HalfReader]:
    reader = HalfReader(request.param)
    yield reader
    reader.close()


def _requests_post(url: str, body: bytes, timeout: float, retries: Retry | int = 0) -> requests.RequestException:
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retries))
    try:
        session.post(url, data=body, timeout=timeout)
    except requests.RequestException as exc:
        return exc
    finally:
        session.close()
    raise AssertionError("the server never answers")


async def _httpx_post(url: str, body: bytes, timeout: float) -> httpx.HTTPError:
    async with httpx.AsyncClient(timeout=timeout) as client:  # as python-telegram-bot and atproto use it
        try:
            await client.post(url, content=body)
        except httpx.HTTPError as exc:
            return exc
    raise AssertionError("the server never answers")


def _shape(exc: BaseException) -> tuple[type[BaseException], ...]:
    """The exception and what it wraps, by type: all a caller can go by."""
    chain: list[type[BaseException]] = [type(exc)]
    inner = exc.args[0] if isinstance(exc, requests.RequestException) and exc.args else exc.__cause__
    while isinstance(inner, BaseException):
        chain.append(type(inner))
        nested = inner.args[1] if len(inner.args) == 2 and isinstance(inner.args[1], BaseException) else None
        inner = nested or inner.__cause__
    return tuple(chain)


# -- requests/urllib3: X, Facebook, WhatsApp, Mastodon ----------------------------------------------------


@pytest.mark.parametrize("server", ["stall"], indirect=True)
@pytest.mark.parametrize("retries", [0, Retry(total=0, allowed_methods=None)], ids=["bare", "wrapped-in-MaxRetryError"])
def test_requests_a_body_the_server_stopped_reading_is_nothing_sent(server: HalfReader, retries: Retry | int) -> None:
    exc = _requests_post(server.url, LARGE, STALL_TIMEOUT, retries)
    server.gave_up()
    assert server.received < len(LARGE)  # the server never had the whole body: it cannot have acted on it
    assert isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout)
    assert nothing_sent(exc) and not answer_lost(exc)
    x = x_error(exc, now=NOW, timeout=STALL_TIMEOUT)
    assert x.code == "connection" and getattr(x, "maybe_sent", None) is False
    lost = MastodonNetworkError(f"Could not complete request: {exc}")
    lost.__context__ = exc
    mastodon = mastodon_error(lost, now=NOW, timeout=STALL_TIMEOUT)
    assert mastodon.code == "connection" and getattr(mastodon, "maybe_sent", None) is False
    assert "did not take the whole request within 0.5s" in str(mastodon)


@pytest.mark.parametrize("server", ["close_mid_body"], indirect=True)
def test_requests_a_body_cut_mid_way_stays_maybe_sent_it_looks_like_one_read_whole(server: HalfReader) -> None:
    exc = _requests_post(server.url, LARGE, 10.0)
    server.gave_up()
    assert server.received < len(LARGE)
    after: dict[str, requests.RequestException] = {}
    for mode in ("close_after_body", "reset_after_body"):
        whole = HalfReader(mode)
        try:
            after[mode] = _requests_post(whole.url, SMALL, 10.0)
            whole.gave_up()
            assert whole.received == len(SMALL)  # this server had the whole request: it may have acted on it
        finally:
            whole.close()
    # urllib3 swallowed the send's EPIPE/ECONNRESET and read: the failure is getresponse()'s, as after a whole body
    assert _shape(exc) in {_shape(e) for e in after.values()}, (exc, after)
    for each in (exc, *after.values()):
        assert isinstance(each, requests.ConnectionError) and not nothing_sent(each) and answer_lost(each)
        assert x_error(each, now=NOW).code == "dropped" and getattr(x_error(each, now=NOW), "maybe_sent", None)


@pytest.mark.parametrize("server", ["hold_after_body"], indirect=True)
def test_requests_no_answer_after_the_whole_body_is_maybe_sent(server: HalfReader) -> None:
    exc = _requests_post(server.url, SMALL, STALL_TIMEOUT)
    server.gave_up()
    assert server.received == len(SMALL)  # the server had the whole request and said nothing: it may have acted
    assert isinstance(exc, requests.ReadTimeout) and not nothing_sent(exc)
    x = x_error(exc, now=NOW, timeout=STALL_TIMEOUT)
    assert x.code == "timeout" and getattr(x, "maybe_sent", None) is True


def test_a_socket_timeout_counts_only_the_way_urllib3_wraps_one_in_a_send() -> None:
    sending = ProtocolError("Connection aborted.", TimeoutError("timed out"))
    assert request_unfinished(sending) and nothing_sent(sending)
    assert request_unfinished(requests.ConnectionError(MaxRetryError(None, "/", sending)))  # type: ignore[arg-type]
    assert not request_unfinished(ProtocolError("Connection broken: timed out", TimeoutError("timed out")))
    assert not request_unfinished(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))
    assert not request_unfinished(ReadTimeoutError(None, "/", "Read timed out."))  # type: ignore[arg-type]
    assert not nothing_sent(requests.ReadTimeout("read timed out"))


# -- httpx (AsyncClient): Telegram, Bluesky ---------------------------------------------------------------


@pytest.mark.parametrize("server", ["stall"], indirect=True)
async def test_httpx_a_write_timeout_stays_maybe_sent(server: HalfReader) -> None:
    exc = await _httpx_post(server.url, LARGE, STALL_TIMEOUT)
    server.gave_up()
    assert isinstance(exc, httpx.WriteTimeout)
    # the server had only part of it here; but the anyio backend had already taken the chunk, and may flush it
    # while the connection closes, so a write timeout does not prove the request stayed short (delivery_doubt)
    assert server.received < len(LARGE) and not nothing_sent(exc)


@pytest.mark.parametrize("server", ["close_mid_body"], indirect=True)
async def test_httpx_a_body_cut_mid_way_stays_maybe_sent_it_looks_like_one_read_whole(server: HalfReader) -> None:
    exc = await _httpx_post(server.url, LARGE, 10.0)
    server.gave_up()
    assert server.received < len(LARGE)
    after: dict[str, httpx.HTTPError] = {}
    for mode in ("close_after_body", "reset_after_body"):
        whole = HalfReader(mode)
        try:
            after[mode] = await _httpx_post(whole.url, SMALL, 10.0)
            whole.gave_up()
            assert whole.received == len(SMALL)
        finally:
            whole.close()
    # httpcore swallowed the WriteError and read the answer: ReadError/RemoteProtocolError, as after a whole body
    assert _shape(exc) in {_shape(e) for e in after.values()}, (exc, after)
    for each in (exc, *after.values()):
        assert isinstance(each, (httpx.ReadError, httpx.RemoteProtocolError)) and not nothing_sent(each)
