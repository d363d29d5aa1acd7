"""Mistakes `check` catches before `run` meets them, each one line with the cause and what to do: an [http]
listen address that cannot work, a taken port, store URLs that cannot work."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.cli.conftest import Run


@pytest.mark.parametrize(
    ("listen", "words"),
    [
        ("127.0.0.1:99999", "http: listen: port 99999 is out of range (1-65535)"),
        ("127.0.0.1", "listen must be host:port with a port number"),
        ("::1:9100", "write an IPv6 address in brackets"),
        ("bad host!:80", "is not a host name or an IP address"),
    ],
)
def test_a_listen_address_that_cannot_work_fails_check(cli: Run, cfg: Path, listen: str, words: str) -> None:
    cfg.write_text(cfg.read_text() + f'\n[http]\nlisten = "{listen}"\n')
    code, _, err = cli("check", "--offline")
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith("syndicator: configuration error: ") and words in line


def test_a_bad_port_variable_fails_check(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "80800")
    code, _, err = cli("check", "--offline")
    assert code == 2 and "environment: PORT: $PORT: port 80800 is out of range" in err


def test_a_port_in_use_stops_run_before_anything_is_polled(cli: Run, cfg: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    cfg.write_text(cfg.read_text() + f'\n[http]\nlisten = "127.0.0.1:{port}"\n')
    try:
        code, out, err = cli("run")
    finally:
        taken.close()
    assert code == 1 and out == ""
    [line] = err.splitlines()
    event = json.loads(line)
    assert event["event"] == "http.unavailable" and "address already in use" in event["error"]
    assert "[http] listen" in event["hint"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("garbage", "'garbage' is not a database URL; use e.g. sqlite:///syndicator.db or postgresql://"),
        ("mysql://news:TEST-not-real@db.example/news", "mysql is not supported: the store is SQLite or PostgreSQL"),
        ("postgresql+asyncpg://news@db.example/news", "the asyncpg driver for postgresql+asyncpg is not installed"),
        ("sqlite:////nonexistent-dir/syndicator.db", "directory /nonexistent-dir does not exist: create it"),
    ],
)
def test_store_urls_that_cannot_work_say_why(
    cli: Run, monkeypatch: pytest.MonkeyPatch, url: str, words: str
) -> None:
    monkeypatch.setenv("SYNDICATOR_DB_URL", url)
    for command in ("status", "check"):
        code, _, err = cli(command)
        assert code == 2
        [line] = err.splitlines()
        assert "SYNDICATOR_DB_URL: " in line and words in line and "TEST-not-real" not in line
