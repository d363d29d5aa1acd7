"""Connecting to the store and bringing its schema up to date (Alembic, automatically at start)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from syndicator.errors import StoreError
from syndicator.store.faults import store_fault

SCHEMA_HEAD = "0009"  # the newest migration in syndicator/migrations/versions (a test keeps them in step)
# how long a write waits for another writer's lock before failing ("database is locked" on SQLite, lock_timeout
# on PostgreSQL, where a lock held by a stray session would otherwise stall a poll for ever, silently)
BUSY_TIMEOUT_MS = 30_000
PROBE_WAIT = 2.0  # seconds a write probe waits for a lock: a health check must answer, not queue


class Store:
    """The database: every durable fact lives here. SQLite (WAL) by default, PostgreSQL for several workers."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        # SQLite takes one writer at a time: this process's writers queue here, in order, instead of sleeping in
        # SQLite's busy handler and retrying (a convoy of threads that wastes seconds and can reach the timeout)
        self._one_writer = threading.RLock() if self.engine.dialect.name == "sqlite" else None
        if migrate:
            self.migrate()

    def schema_version(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError as exc:
            if _no_such_table(exc):
                return None  # a new database
            raise  # a file that cannot be opened or a server that refuses us is not a new database
        return str(version) if version is not None else None

    def migrate(self) -> None:
        """Bring the schema to HEAD with Alembic — which is only loaded when there is something to do."""
        try:
            if self.schema_version() == SCHEMA_HEAD:
                return
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot reach the store at {redact_url(self.url)}: {_cause(exc)}") from exc
        from alembic import command
        from alembic.config import Config as AlembicConfig

        try:
            with self.engine.begin() as conn:
                if self.is_postgres:
                    # several workers may start at once: one migrates, the others wait for it
                    conn.execute(text("SELECT pg_advisory_xact_lock(74201)"))
                cfg = AlembicConfig()
                cfg.set_main_option("script_location", str(resources.files("syndicator") / "migrations"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot prepare the store at {redact_url(self.url)}: {_cause(exc)}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends. On SQLite it is this process's only writer and
        holds the database's write lock from its first statement (BEGIN IMMEDIATE), so what it reads cannot
        change before it writes; on PostgreSQL it is an ordinary transaction (rows are locked as needed)."""
        if self._one_writer is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._one_writer, self.engine.begin() as conn:
            begin_immediate(conn)
            yield conn

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def probe_write(self, *, wait: float = PROBE_WAIT) -> None:
        """Prove the store takes writes now: a no-op UPDATE of Alembic's one-row table, committed. It meets a held
        write lock (waiting at most `wait` seconds), a read-only file, database or session, and a revoked
        permission. It cannot see a full disk (the row is rewritten in place): the pipeline's own writes do.
        Raises the driver's error."""
        probe = text("UPDATE alembic_version SET version_num = version_num")
        with self.engine.connect() as conn:
            if self.is_postgres:
                with conn.begin():
                    ms = max(1, int(wait * 1000))
                    conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))
                    conn.execute(text(f"SET LOCAL statement_timeout = {ms * 2}"))
                    conn.execute(probe)
                return
            before = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, int(wait * 1000))}")
            try:
                conn.execute(probe)
                conn.commit()
            finally:
                conn.rollback()
                # the connection goes back to the pool: the pipeline's writes wait as long as before
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(before or BUSY_TIMEOUT_MS)}")
                conn.commit()

    def close(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]  # Heroku-style URLs
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        # no pool_pre_ping: it doubles the round trips of every short transaction; a connection the server closed
        # fails its statement, and the pool replaces it (the caller's next turn, or its retry, gets a fresh one)
        kwargs.update(pool_size=10, max_overflow=10)
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"bad store URL {redact_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _pg_session)
    return engine


def begin_immediate(conn: Connection) -> None:
    """pysqlite begins its transaction only at the first INSERT/UPDATE, so a read before it is outside the
    transaction (and a SAVEPOINT issued first starts one that its RELEASE commits). Begin it now, taking the write
    lock (waiting up to the busy timeout) rather than failing to upgrade a read lock later."""
    raw = conn.connection.dbapi_connection
    if raw is not None and not getattr(raw, "in_transaction", True):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def _pg_session(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute(f"SET lock_timeout = {BUSY_TIMEOUT_MS}")
    dbapi_conn.commit()  # else the pool's reset (a rollback) would undo the SET


def _no_such_table(exc: SQLAlchemyError) -> bool:
    text_ = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text_ or getattr(getattr(exc, "orig", None), "sqlstate", None) == "42P01"


def _cause(exc: BaseException) -> str:
    fault = store_fault(exc)
    return fault.message if fault else exc.__class__.__name__


def redact_url(url: str) -> str:
    """postgresql://user:secret@host/db → postgresql://user:***@host/db"""
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
