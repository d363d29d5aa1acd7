"""What went wrong with the store, in plain words: a driver's exception becomes a cause an operator can act on.

The causes are a closed set (the `cause` field of `store.failed` / `feed.failed`, a label of
`syndicator_store_errors_total`):

    locked        another connection holds the write lock longer than we wait (SQLite's busy timeout, a
                  PostgreSQL lock or statement timeout)
    disk_full     no space left: SQLite "database or disk is full", PostgreSQL "could not extend file" (53100)
    read_only     the database file, the database or the session is read-only
    permission    the operating system or the database refused access ("permission denied", a refused login)
    unreachable   the database (server or file) could not be opened or reached
    error         anything else the database said

The message is the cause in words, then the driver's own first line: never the SQL statement or its
parameters (SQLAlchemy appends both to `str(exc)`, and they hold article text).
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from syndicator.errors import StoreError, StoreFailure

WORDS = {
    "locked": "database is locked",
    "disk_full": "disk full",
    "read_only": "read-only",
    "permission": "permission denied",
    "unreachable": "cannot reach the database",
    "error": "store error",
}
_SQLITE = {
    "SQLITE_BUSY": "locked",
    "SQLITE_LOCKED": "locked",
    "SQLITE_FULL": "disk_full",
    "SQLITE_READONLY": "read_only",
    "SQLITE_PERM": "permission",
    "SQLITE_AUTH": "permission",
    "SQLITE_CANTOPEN": "unreachable",
}
_SQLSTATE_PREFIX = {
    "25006": "read_only",  # read_only_sql_transaction
    "42501": "permission",  # insufficient_privilege
    "28": "permission",  # invalid authorization (a refused login)
    "53100": "disk_full",
    "55P03": "locked",  # lock_not_available
    "57014": "locked",  # query_canceled: a statement timeout, i.e. waiting on a lock
    "08": "unreachable",  # connection exceptions
    "57P": "unreachable",  # the server is shutting down / cannot connect now
    "3D000": "unreachable",  # the database does not exist
}
_ERRNO = {errno.ENOSPC: "disk_full", errno.EROFS: "read_only", errno.EACCES: "permission", errno.EPERM: "permission"}
# what the words say when no code does (messages are stable across SQLite and psycopg versions)
_PHRASES = (
    ("database is locked", "locked"),
    ("lock timeout", "locked"),
    ("disk is full", "disk_full"),
    ("no space left", "disk_full"),
    ("could not extend file", "disk_full"),
    ("readonly database", "read_only"),
    ("read-only", "read_only"),
    ("permission denied", "permission"),
    ("unable to open database file", "unreachable"),
    ("connection refused", "unreachable"),
    ("could not connect", "unreachable"),
    ("connection failed", "unreachable"),
    ("server closed the connection", "unreachable"),
)
MAX_DETAIL = 300


@dataclass(frozen=True)
class StoreFault:
    cause: str  # one of WORDS
    message: str  # plain words first, e.g. "read-only: attempt to write a readonly database"


def store_fault(exc: BaseException) -> StoreFault | None:
    """The store fault behind `exc`, or None when `exc` did not come from the database."""
    chain = list(_chain(exc))
    if not any(_is_store(e) for e in chain):
        return None
    driver = next((e for e in chain if not isinstance(e, (SQLAlchemyError, StoreError))), chain[-1])
    detail = _first_line(driver)
    cause = next((c for c in map(_coded, chain) if c), None) or _phrase(" ".join(map(_first_line, chain)))
    words = WORDS[cause]
    if cause == "error" or not detail:
        message = detail or words
    elif detail.lower() == words:
        message = words
    else:
        message = f"{words}: {detail}"
    return StoreFault(cause, message[:MAX_DETAIL])


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out and len(out) < 8:
        out.append(current)
        orig = getattr(current, "orig", None) if isinstance(current, DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return out


def _is_store(exc: BaseException) -> bool:
    return isinstance(exc, (SQLAlchemyError, StoreError, sqlite3.Error)) or type(exc).__module__.startswith("psycopg")


def _coded(exc: BaseException) -> str | None:
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, cause in _SQLITE.items():
            if name.startswith(prefix):
                return cause
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str):
        for prefix, cause in _SQLSTATE_PREFIX.items():
            if state.startswith(prefix):
                return cause
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    return None


def _phrase(text: str) -> str:
    lowered = text.lower()
    return next((cause for phrase, cause in _PHRASES if phrase in lowered), "error")


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if text.startswith("(") and ") " in text:  # SQLAlchemy's "(sqlite3.OperationalError) ..." prefix
        text = text.split(") ", 1)[1]
    return text or type(exc).__name__


def as_store_error(exc: BaseException) -> StoreError | None:
    """`exc` as the store's own error type: a StoreError stays itself, a database error becomes a StoreFailure
    carrying its cause in plain words (chained to the original), anything else None."""
    if isinstance(exc, StoreError):
        return exc
    fault = store_fault(exc)
    if fault is None:
        return None
    failure = StoreFailure(fault.message, cause=fault.cause)
    failure.__cause__ = exc
    return failure


@contextmanager
def store_errors() -> Iterator[None]:
    """Inside: whatever the database raises comes out as a StoreError (see `as_store_error`)."""
    try:
        yield
    except Exception as exc:
        failure = as_store_error(exc)
        if failure is None or failure is exc:
            raise
        raise failure from exc


__all__ = ["WORDS", "StoreFault", "as_store_error", "store_errors", "store_fault"]
