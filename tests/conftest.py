"""Shared test setup. Any attempt to resolve or reach a host other than this machine fails the test loudly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

_LOCAL = {"127.0.0.1", "localhost", "::1", None, ""}
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect


class RealNetworkAccess(AssertionError):
    pass


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, bytes):
        host = host.decode()
    if host not in _LOCAL:
        raise RealNetworkAccess(f"test tried to reach a real host: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if isinstance(address, tuple) and address[0] not in _LOCAL:
        raise RealNetworkAccess(f"test tried to connect to {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_real_network() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    mp.setattr(socket.socket, "connect", _guarded_connect)
    yield
    mp.undo()
