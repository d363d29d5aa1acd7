"""Shared test setup. Any attempt to resolve or reach a host other than this machine fails the test loudly."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

# Property tests run the same examples on every run (a red CI must be reproducible, a green one must mean the same
# thing twice); `HYPOTHESIS_PROFILE=explore` draws new ones locally, to look for cases the fixed seed misses.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """Each test starts with the logging it found: `syndicator.cli.main` installs a root handler on the test's
    captured stderr, which is closed once that test ends; left in place, the next test's log lines would go there."""
    from tests.e2e.helpers import preserved_logging

    with preserved_logging():
        yield


# ── stores: every store test runs on SQLite and on the local PostgreSQL ─────────────────────────────────────
PG_ADMIN_URL = os.environ.get("SYNDICATOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway database for this test session on the local PostgreSQL server."""
    if not _pg_available():
        if os.environ.get("CI") or os.environ.get("SYNDICATOR_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (CI starts it)")
    import psycopg

    name = f"syndicator_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/syndicator.db"
    url: str = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


# ── reports that cross to the xdist controller ─────────────────────────────────────────────────────────────
def _utf8(text: str) -> str:
    """`text` as UTF-8 can carry it: a lone surrogate (tests feed them to the program on purpose) as `\\udxxx`."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A report whose captured log or failure text holds a lone surrogate cannot be sent from an xdist worker
    (execnet: "strings must be utf-8 encodable"): the whole run would end in an INTERNALERROR instead of telling
    which test did what. Such text is escaped here, in the worker, before it is sent."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report.sections = [(title, _utf8(content)) for title, content in report.sections]
    if report.longrepr is not None:
        shown = str(report.longrepr)
        if _utf8(shown) != shown:
            report.longrepr = _utf8(shown)
